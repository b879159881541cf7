package webui_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// In a real browser, across two nodes: A's duty officer files a request
// with the form (a refused form first: the error shows beside the
// field); B's duty officer opens it from B's inbox and, on its page,
// acknowledges then answers it (htmx swaps the page's main block; a
// decline without a reason is refused beside its field). A's request page
// then shows the timeline with both moves and their indexes in B's log,
// and the inclusion proof its link serves verifies against A's signed
// checkpoint. A lead sees no form, and her forged post is refused. The
// page reads in Russian.
func TestBrowserRequest(t *testing.T) {
	ctx := context.Background()
	a, bn := uiStart(t, "party-a"), uiStart(t, "party-b")
	uiShare(t, a, bn)
	report, err := a.srv.Workflow.FileReport(ctx, "a-b", uiBundle(t), "green", []string{"energy"}, 3)
	if err != nil {
		t.Fatal(err)
	}
	uiWait(t, "B has the report", func() bool { rs, _ := bn.srv.Workflow.Reports(ctx, "a-b"); return len(rs) == 1 })

	c := newChrome(t, a, bn)
	c.allow("status of 400") // the refusals provoked below
	c.login(a, "olga")
	c.open(a.srv.URL + "/requests/new")
	// No text: refused beside the text field, nothing filed.
	c.run("file without text",
		chromedp.SetValue(chromedp.ID("new-about"), report),
		chromedp.SendKeys(chromedp.ID("new-infrastructure"), "203.0.113.7\nc2.example.net"),
		chromedp.Click(chromedp.CSS(`form.request-form button[type="submit"]`)),
	)
	c.waitText("#new-text-error", "text: required")
	if n := reqCount(t, a); n != 0 {
		t.Fatalf("%d requests filed without text", n)
	}
	c.run("fill the text", chromedp.SendKeys(chromedp.ID("new-text"), "Please take down the C2 server at 203.0.113.7."))
	c.screenshot("request-new")
	c.run("file", chromedp.Click(chromedp.CSS(`form.request-form button[type="submit"]`)))
	c.waitText("h1", "Please take down the C2 server at 203.0.113.7.")
	loc, err := chromedp.Run(c.ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	id := loc[strings.LastIndex(loc, "/")+1:]
	if !strings.HasPrefix(id, "parley-request--") {
		t.Fatalf("after filing the browser is at %s", loc)
	}
	if got := c.text("dl.request-facts"); !strings.Contains(got, "c2.example.net") || !strings.Contains(got, "party-b") || !strings.Contains(got, "energy") {
		t.Errorf("the new request's facts read %q", got)
	}

	// B's duty officer, from the inbox to the request's page.
	c.login(bn, "olga")
	c.reloadUntil("main", "Please take down the C2 server at 203.0.113.7.")
	c.run("open the request from the inbox", chromedp.Click(chromedp.CSS(`a[href="/requests/`+id+`"]`)), chromedp.WaitVisible(chromedp.ID("request")))
	c.waitText("#request-state", "submitted")
	if n := c.nodeCount("#form-answer, #form-close"); n != 0 {
		t.Errorf("B is offered %d forms for moves not open", n)
	}
	var mark string
	c.run("mark the page", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		var err error
		mark, err = chromedp.Run(ctx, chromedp.Evaluate[string](`window.parleyMark = "kept"`))
		return err
	}))
	c.run("decline without a reason", chromedp.Click(chromedp.CSS(`#form-decline button`)))
	c.waitText("#decline-text-error", "needs a reason")
	c.run("acknowledge", chromedp.SendKeys(chromedp.ID("acknowledge-text"), "On it."), chromedp.Click(chromedp.CSS(`#form-acknowledge button`)))
	c.waitText("#request-state", "acknowledged")
	c.run("answer",
		chromedp.WaitVisible(chromedp.ID("answer-kind")),
		chromedp.SetValue(chromedp.ID("answer-kind"), "action-takedown"),
		chromedp.SendKeys(chromedp.ID("answer-text"), "Taken down at 10:00 UTC."),
		chromedp.Click(chromedp.CSS(`#form-answer button`)),
	)
	c.waitText("#request-state", "answered")
	if got, err := chromedp.Run(c.ctx, chromedp.Evaluate[string](`window.parleyMark || ""`)); err != nil || got != mark {
		t.Errorf("the moves reloaded the page (mark %q, %v): htmx did not swap the request", got, err)
	}

	// A's page: both moves in the timeline, with their indexes in B's log.
	c.login(a, "olga")
	c.open(a.srv.URL + "/requests/" + id)
	c.reloadUntil("ol.timeline", "answered")
	tl := c.text("ol.timeline")
	for _, re := range []string{`acknowledge → acknowledged, By: party-b\. Log entry: index \d+ in party-b's log`, `answer → answered, By: party-b\. Log entry: index \d+ in party-b's log`,
		`On it\.`, `Taken down at 10:00 UTC\.`, `Kind: action-takedown`, `file → submitted, By: party-a\. Log entry: index \d+ in this node's log \(inclusion proof\)`} {
		if !regexp.MustCompile(re).MatchString(tl) {
			t.Errorf("A's timeline does not match %s:\n%s", re, tl)
		}
	}
	if n := c.nodeCount("#form-close"); n != 1 {
		t.Errorf("A is offered %d close forms, want 1", n)
	}
	c.screenshot("request")
	href, err := chromedp.Run(c.ctx, chromedp.AttributeValue(chromedp.CSS("a.proof-link"), "href"))
	if err != nil || !href.Exists {
		t.Fatalf("no proof link: %v", err)
	}
	index, err := strconv.ParseInt(href.Value[strings.LastIndex(href.Value, "/")+1:], 10, 64)
	if err != nil {
		t.Fatalf("proof link %q", href.Value)
	}
	c.run("follow the proof link", chromedp.Click(chromedp.CSS("a.proof-link")), chromedp.WaitVisible(chromedp.CSS("body")))
	body, err := chromedp.Run(c.ctx, chromedp.Evaluate[string](`document.body.innerText`))
	if err != nil {
		t.Fatal(err)
	}
	verifyProof(t, []byte(body), a, index)

	c.open(a.srv.URL + "/requests")
	c.waitText("table.requests", "Please take down the C2 server at 203.0.113.7.")
	c.screenshot("requests")

	// Russian.
	c.open(a.srv.URL + "/requests/" + id)
	c.run("pick Russian", chromedp.SetValue(chromedp.ID("lang-select"), "ru"), chromedp.Submit(chromedp.ID("lang-select")))
	c.waitText("h1", "Входящие")
	c.open(a.srv.URL + "/requests/" + id)
	for sel, want := range map[string]string{"#request-timeline": "Хронология", "#request-state": "дан ответ", "#request-moves": "Что можно сделать", "ol.timeline": "в журнале узла party-b"} {
		if got := c.text(sel); !strings.Contains(got, want) {
			t.Errorf("in Russian %s reads %q, want %q", sel, got, want)
		}
	}
	if got := c.text("#form-close"); !strings.Contains(got, "Закрыть запрос") {
		t.Errorf("the close form in Russian reads %q", got)
	}
	c.screenshot("request-ru")

	// The lead: no form; a forged post is refused and changes nothing.
	c.run("sign out", chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)), chromedp.WaitVisible(chromedp.ID("login-name")))
	c.login(a, "lena")
	c.open(a.srv.URL + "/requests/" + id)
	if n := c.nodeCount(`form[action$="/move"]`); n != 0 {
		t.Errorf("the lead is offered %d forms", n)
	}
	lead := a.browser(t)
	lead.login("lena", "password-lena")
	_, page := lead.do("GET", "/requests/"+id, nil)
	resp, _ := lead.do("POST", "/requests/"+id+"/move", url.Values{"csrf": {csrfOf(t, page)}, "action": {"close"}})
	r, err := a.srv.Workflow.Request(ctx, id)
	if err != nil || resp.StatusCode != http.StatusForbidden || r.State != "answered" {
		t.Errorf("the lead's forged close: %d, %v %v", resp.StatusCode, r, err)
	}
}
