package webui_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/parleyhq/parley/internal/workflow"
)

// labelCheck lists the form fields of the page that have no label: no
// <label for>, no enclosing label, no aria-label or aria-labelledby.
const labelCheck = `Array.from(document.querySelectorAll("input, select, textarea"))
	.filter(e => e.type !== "hidden" && e.type !== "submit" && e.type !== "button")
	.filter(e => !(e.id && document.querySelector('label[for="' + CSS.escape(e.id) + '"]')) && !e.closest("label") &&
		!e.getAttribute("aria-label") && !e.getAttribute("aria-labelledby"))
	.map(e => e.outerHTML.slice(0, 120))`

// Every page of the menu, and the forms to file a report and a request,
// in both languages, in a real browser: each loads without a console
// error or CSP violation, has one h1, labels every form field, starts
// the keyboard order at the skip link, and in Russian shows no English
// menu entry.
func TestBrowserEveryPage(t *testing.T) {
	ctx := context.Background()
	a, bn := uiStart(t, "party-a"), uiStart(t, "party-b")
	uiShare(t, a, bn)
	report, err := a.srv.Workflow.FileReport(ctx, "a-b", uiBundle(t), "green", []string{"energy"}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.srv.Workflow.FileRequest(ctx, workflow.RequestFiling{Channel: "a-b", About: []string{report}, Text: "Please take down the C2 server."}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.srv.Workflow.SendHotline(ctx, workflow.HotlineInput{Channel: "a-b", Text: "Call us about the outage."}); err != nil {
		t.Fatal(err)
	}
	c := newChrome(t, a, bn)
	c.login(bn, "olga")
	c.reloadUntil("main", "Please take down the C2 server.")
	menu, err := chromedp.Run(c.ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("header nav a")).map(a => a.getAttribute("href"))`))
	if err != nil {
		t.Fatal(err)
	}
	if len(menu) < 8 {
		t.Fatalf("the menu has %d entries: %v", len(menu), menu)
	}
	pages := append(menu, "/reports/new", "/requests/new", "/meetings/new", "/statements", "/reports/"+report)
	for _, lang := range []string{"en", "ru"} {
		if lang == "ru" {
			c.run("pick Russian", chromedp.SetValue(chromedp.ID("lang-select"), "ru"), chromedp.Submit(chromedp.ID("lang-select")))
			c.waitText("h1", "Входящие")
		}
		for _, href := range pages {
			c.open(bn.srv.URL + href)
			if n := c.nodeCount("h1"); n != 1 {
				t.Errorf("%s %s: %d h1 elements", lang, href, n)
			}
			if got := c.text("h1"); got == "" || strings.Contains(got, "not found") || strings.Contains(got, "не найдена") {
				t.Errorf("%s %s: the page's heading is %q", lang, href, got)
				continue
			}
			unlabelled, err := chromedp.Run(c.ctx, chromedp.Evaluate[[]string](labelCheck))
			if err != nil || len(unlabelled) > 0 {
				t.Errorf("%s %s: form fields without a label (%v): %v", lang, href, err, unlabelled)
			}
			c.run("tab", chromedp.KeyEvent("\t"))
			first, err := chromedp.Run(c.ctx, chromedp.Evaluate[string](`document.activeElement.getAttribute("href") || document.activeElement.tagName`))
			if err != nil || first != "#main" {
				t.Errorf("%s %s: the first Tab goes to %q (%v), want the skip link to #main", lang, href, first, err)
			}
			if lang == "ru" {
				m := c.text("header nav")
				for _, en := range []string{"Inbox", "Requests", "Reports", "Meetings", "Summary", "Record"} {
					if strings.Contains(m, en) {
						t.Errorf("ru %s: the menu still reads %q", href, en)
					}
				}
			}
			name := strings.ReplaceAll(href, "/", "-")
			if strings.HasSuffix(href, report) {
				name = "-report"
			}
			c.screenshot("page-" + lang + name)
		}
	}
}
