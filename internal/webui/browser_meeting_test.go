package webui_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/parleyhq/parley/internal/workflow"
)

// In a real browser: A's duty officer convenes a meeting with an agenda
// and records its minutes in English and Russian; B's opens it after
// replication, sees both texts side by side with the hash to sign. A
// changes the minutes meanwhile: B's signature of the text B read is
// refused on the page; B reads the new text and signs it, A signs too
// and sees both signatures. The page reads in Russian.
func TestBrowserMeeting(t *testing.T) {
	ctx := context.Background()
	a, bn := uiStart(t, "party-a"), uiStart(t, "party-b")
	uiShare(t, a, bn)
	c := newChrome(t, a, bn)
	c.login(a, "olga")
	c.open(a.srv.URL + "/meetings/new")
	c.run("convene",
		chromedp.SendKeys(chromedp.ID("meeting-name"), "Expert round 1"),
		chromedp.SetValue(chromedp.ID("meeting-start"), "2036-12-01T09:00"),
		chromedp.SendKeys(chromedp.ID("meeting-participants"), "party-a: Olga Ivanova, duty officer\nparty-b: Boris Petrov"),
		chromedp.SendKeys(chromedp.ID("meeting-agenda"), "The grid incident\nAny other business"),
		chromedp.Click(chromedp.CSS("#new-meeting button")),
	)
	c.waitText("h1", "Expert round 1")
	ms, err := a.srv.Workflow.Meetings(ctx, "")
	if err != nil || len(ms) != 1 {
		t.Fatalf("meetings on A: %d, %v", len(ms), err)
	}
	id := ms[0].ID
	if got := c.text("#agenda"); !strings.Contains(got, "The grid incident") || !strings.Contains(got, "Any other business") {
		t.Errorf("the agenda reads %q", got)
	}
	minutes := func(en, ru string) {
		c.run("record the minutes",
			chromedp.SendKeys(chromedp.ID("minutes-en"), en),
			chromedp.SendKeys(chromedp.ID("minutes-ru"), ru),
			chromedp.Click(chromedp.CSS(`form[action$="/minutes"] button`)),
		)
	}
	minutes("The parties agreed to share indicators of the grid incident.", "Стороны договорились обмениваться индикаторами инцидента в энергосети.")
	c.waitText("#minutes-state", "Proposed, not signed yet")
	first, err := a.srv.Workflow.MeetingByID(ctx, id)
	if err != nil || first.Minutes == nil {
		t.Fatalf("minutes on A: %+v, %v", first, err)
	}

	// B opens the meeting after replication.
	uiWait(t, "B has the minutes", func() bool {
		m, err := bn.srv.Workflow.MeetingByID(ctx, id)
		return err == nil && m.Minutes != nil
	})
	c.login(bn, "olga")
	c.open(bn.srv.URL + "/meetings/" + id)
	c.waitText("#minutes", "Стороны договорились")
	if got := c.text("#minutes-hash"); got != first.Minutes.TextSHA256 {
		t.Errorf("B is shown the hash %q, want %q", got, first.Minutes.TextSHA256)
	}
	side, err := chromedp.Run(c.ctx, chromedp.Evaluate[bool](`(() => {
		const t = document.querySelectorAll("#minutes > .texts > .text");
		if (t.length !== 2 || t[0].lang !== "en" || t[1].lang !== "ru") return false;
		const a = t[0].getBoundingClientRect(), b = t[1].getBoundingClientRect();
		return Math.abs(a.top - b.top) < 1 && a.right <= b.left;
	})()`))
	if err != nil || !side {
		t.Errorf("the English and Russian minutes are not side by side (%v)", err)
	}
	if n := c.nodeCount(`form[action$="/agenda"]`); n != 0 {
		t.Errorf("B is offered the convener's agenda form")
	}

	// A changes the minutes while B reads them: B's signature of the old
	// text is refused.
	if _, err := a.srv.Workflow.MeetingMinutes(ctx, id, map[string]string{"en": "The parties agreed to share indicators within a day.", "ru": "Стороны договорились обмениваться индикаторами в течение суток."}); err != nil {
		t.Fatal(err)
	}
	uiWait(t, "B has the new minutes", func() bool {
		m, err := bn.srv.Workflow.MeetingByID(ctx, id)
		return err == nil && m.Minutes != nil && m.Minutes.ID != first.Minutes.ID
	})
	c.allow("status of 409")
	c.run("sign the text read", chromedp.Click(chromedp.ID("sign-confirm")), chromedp.Click(chromedp.CSS("#sign button")))
	c.waitText("#sign .field-error", "is not the hash of statement")
	c.screenshot("meeting-stale-hash")

	c.open(bn.srv.URL + "/meetings/" + id)
	c.waitText("#minutes", "в течение суток")
	second, err := bn.srv.Workflow.MeetingByID(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.text("#minutes-hash"); got != second.Minutes.TextSHA256 {
		t.Errorf("B is shown the hash %q, want %q", got, second.Minutes.TextSHA256)
	}
	c.run("sign the new text", chromedp.Click(chromedp.ID("sign-confirm")), chromedp.Click(chromedp.CSS("#sign button")))
	c.waitText("#minutes-state", "Signed by party-b")

	// A signs too and shows both signatures.
	uiWait(t, "A has B's signature", func() bool {
		m, err := a.srv.Workflow.MeetingByID(ctx, id)
		return err == nil && m.Minutes != nil && len(m.Minutes.SignedBy) == 1
	})
	c.login(a, "olga")
	c.open(a.srv.URL + "/meetings/" + id)
	c.waitText("#minutes-state", "Signed by party-b")
	c.run("A signs", chromedp.Click(chromedp.ID("sign-confirm")), chromedp.Click(chromedp.CSS("#sign button")))
	c.waitText("#minutes-state", "Agreed: signed by both parties")
	sigs := c.text("#minutes .sigs")
	if !strings.Contains(sigs, "party-a") || !strings.Contains(sigs, "party-b") {
		t.Errorf("A's signatures read %q", sigs)
	}
	c.run("add an action item",
		chromedp.SendKeys(chromedp.ID("action-description"), "Block the C2 addresses"),
		chromedp.SetValue(chromedp.ID("action-owner"), "party-b"),
		chromedp.SetValue(chromedp.ID("action-due"), "2036-12-08T09:00"),
		chromedp.Click(chromedp.CSS(`form[action$="/actions"] button`)),
	)
	c.waitText("#action-0", "Block the C2 addresses")
	c.screenshot("meeting")
	c.open(a.srv.URL + "/meetings")
	if got := c.text("main table"); !strings.Contains(got, "Expert round 1") || !strings.Contains(got, "Agreed") {
		t.Errorf("the list reads %q", got)
	}
	c.screenshot("meetings")
	if m, err := a.srv.Workflow.MeetingByID(ctx, id); err != nil || m.Minutes.State != workflow.StatementAgreed {
		t.Errorf("on A the minutes are not agreed: %v", err)
	}

	c.run("pick Russian", chromedp.SetValue(chromedp.ID("lang-select"), "ru"), chromedp.Submit(chromedp.ID("lang-select")))
	c.waitText("h1", "Входящие")
	c.open(a.srv.URL + "/meetings/" + id)
	for sel, want := range map[string]string{"#minutes-h": "Протокол", "#minutes-state": "Согласовано: подписано обеими сторонами", "#actions-h": "Поручения", "#agenda-h": "Повестка дня"} {
		if got := c.text(sel); got != want {
			t.Errorf("in Russian %s reads %q, want %q", sel, got, want)
		}
	}
	c.screenshot("meeting-ru")
}
