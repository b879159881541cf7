package webui_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/workflow"
)

// In a real browser, B's duty officer sees A's request arrive in the
// inbox and acknowledges it from there (htmx replaces the row, no page
// load); A's node records it acknowledged. A request another officer has
// acknowledged meanwhile is refused, and the refusal shows on the page.
func TestBrowserInboxAcknowledge(t *testing.T) {
	ctx := context.Background()
	a, bn := uiStart(t, "party-a"), uiStart(t, "party-b")
	uiShare(t, a, bn)
	report, err := a.srv.Workflow.FileReport(ctx, "a-b", uiBundle(t), "green", []string{"energy"}, 3)
	if err != nil {
		t.Fatal(err)
	}
	file := func(text string) string {
		t.Helper()
		id, err := a.srv.Workflow.FileRequest(ctx, workflow.RequestFiling{Channel: "a-b", About: []string{report}, Text: text})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	state := func(n *uiNode, id string) dialogue.RequestState {
		t.Helper()
		r, err := n.srv.Workflow.Request(ctx, id)
		if err != nil {
			return ""
		}
		return r.State
	}
	first := file("Please take down the C2 server.")

	c := newChrome(t, a, bn)
	// Signed in on both nodes at once in one browser: the nodes share
	// the host, and cookies do not tell ports apart; each node's session
	// cookie carries its name.
	c.login(a, "olga")
	c.login(bn, "olga")
	c.open(a.srv.URL + "/inbox")
	if got := c.text("h1"); got != "Inbox" {
		t.Fatalf("signing in on B signed olga out of A: A shows %q", got)
	}
	c.open(bn.srv.URL + "/inbox")
	c.reloadUntil("main", "Please take down the C2 server.")
	c.screenshot("inbox")
	if got := c.text(`tr[id="` + report + `"]`); !strings.Contains(got, "party-a") || !strings.Contains(got, "TLP:GREEN") {
		t.Errorf("the received report's row reads %q", got)
	}
	row := `tr[id="` + first + `"]`
	if got := c.text(row); !strings.Contains(got, "submitted") || !strings.Contains(got, "party-a") {
		t.Errorf("the request's row reads %q", got)
	}
	var before string
	c.run("mark the page", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		var err error
		before, err = chromedp.Run(ctx, chromedp.Evaluate[string](`window.parleyMark = "kept"`))
		return err
	}))
	c.run("acknowledge", chromedp.SendKeys(chromedp.CSS(row+` input[name="text"]`), "On it."), chromedp.Click(chromedp.CSS(row+` button`)))
	c.waitText(row, "acknowledged")
	if mark, err := chromedp.Run(c.ctx, chromedp.Evaluate[string](`window.parleyMark || ""`)); err != nil || mark != before {
		t.Errorf("acknowledging reloaded the page (mark %q, %v): htmx did not swap the row", mark, err)
	}
	if n := c.nodeCount(row + ` form[action$="/acknowledge"]`); n != 0 {
		t.Errorf("the acknowledged row still has %d acknowledge forms", n)
	}
	if got := state(bn, first); got != dialogue.RequestAcknowledged {
		t.Fatalf("on B the request is %q", got)
	}
	uiWait(t, "A records the request acknowledged", func() bool { return state(a, first) == dialogue.RequestAcknowledged })

	// The swapped row offers the answer: answered from the inbox too.
	c.run("answer", chromedp.SetValue(chromedp.CSS(row+` select[name="kind"]`), string(dialogue.ResponseTakedown)),
		chromedp.SendKeys(chromedp.CSS(row+` textarea[name="text"]`), "Taken down at 10:00 UTC."),
		chromedp.Click(chromedp.CSS(row+` button`)))
	c.waitText(row, "answered")
	uiWait(t, "A records the request answered", func() bool { return state(a, first) == dialogue.RequestAnswered })

	// Another officer acknowledges the second request while the page is
	// open; the click is refused and says why.
	second := file("Please block the phishing domain.")
	c.reloadUntil("main", "Please block the phishing domain.")
	if _, err := bn.srv.Workflow.MoveRequest(ctx, second, workflow.Move{Action: dialogue.ActionAcknowledge}); err != nil {
		t.Fatal(err)
	}
	c.allow("status of 409")
	c.run("acknowledge again", chromedp.Click(chromedp.CSS(`tr[id="`+second+`"] button`)))
	c.waitText("#flash", "The request could not be acknowledged:")
	c.screenshot("inbox-refused")

	c.run("pick Russian", chromedp.SetValue(chromedp.ID("lang-select"), "ru"), chromedp.Submit(chromedp.ID("lang-select")))
	c.waitText("h1", "Входящие")
	if got := c.text(`tr[id="` + second + `"]`); !strings.Contains(got, "получение подтверждено") || !strings.Contains(got, "Вид ответа") {
		t.Errorf("in Russian the row reads %q", got)
	}
	if n := c.nodeCount(row); n != 0 {
		t.Errorf("the answered request is still in the inbox")
	}
	c.screenshot("inbox-ru")
}
