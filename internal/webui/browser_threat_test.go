package webui_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// In a real browser, A's duty officer states a level for a sector (a
// refusal first: no rationale, shown beside the field; then the level,
// swapped in by htmx); B's threat page shows A's stated level beside the
// computed one once it has arrived, the off-limits sector marked in
// words, and the trend chart with a point per day and one for A's
// level; the chart's data table opens; the page reads in Russian.
func TestBrowserThreat(t *testing.T) {
	ctx := context.Background()
	a, bn := uiStart(t, "party-a"), uiStart(t, "party-b")
	uiShare(t, a, bn)
	if _, err := a.srv.Workflow.FileReport(ctx, "a-b", uiBundle(t), "green", []string{"energy"}, 4); err != nil {
		t.Fatal(err)
	}
	uiOffLimits(t, a, bn, "health")

	c := newChrome(t, a, bn)
	c.login(a, "olga")
	c.open(a.srv.URL + "/threat")
	c.allow("status of 400")
	c.run("state a level without reasons",
		chromedp.SetValue(chromedp.ID("assess-0-sector"), "energy"),
		chromedp.SetValue(chromedp.ID("assess-0-level"), "4"),
		chromedp.Click(chromedp.CSS(`form.assess button[type="submit"]`)),
	)
	c.waitText("#assess-0-rationale-error", "A stated level needs its reasons")
	if got := c.text("#flash"); !strings.Contains(got, "rationale: a stated level needs its reasons") {
		t.Errorf("the flash area reads %q", got)
	}
	c.run("give the reasons",
		chromedp.SendKeys(chromedp.ID("assess-0-rationale"), "Attacks on the grid."),
		chromedp.Click(chromedp.CSS(`form.assess button[type="submit"]`)),
	)
	c.waitText(".notice", "Level stated: energy, 4 high.")
	if n := c.nodeCount(".field-error"); n != 0 {
		t.Errorf("%d refusals still shown after the level was stated", n)
	}
	if got := c.text(`tr[data-sector="energy"] td[data-party="party-a"]`); !strings.Contains(got, "4 high") {
		t.Errorf("on A the stated cell reads %q", got)
	}

	c.login(bn, "olga")
	c.open(bn.srv.URL + "/threat")
	c.reloadUntil(`tr[data-sector="energy"] td[data-party="party-a"]`, "Attacks on the grid.")
	if got := c.text(`tr[data-sector="energy"] td[data-party="party-a"]`); !strings.Contains(got, "4 high") {
		t.Errorf("on B A's stated level reads %q", got)
	}
	if got := c.text(`tr[data-sector="energy"] td.computed`); !strings.Contains(got, "3 elevated") {
		t.Errorf("on B the computed level reads %q", got)
	}
	if got := c.text(`tr[data-sector="energy"] td[data-party="party-b"]`); !strings.Contains(got, "not stated") {
		t.Errorf("on B B's own level reads %q", got)
	}
	if n := c.nodeCount(`tr.offlimits[data-sector="health"]`); n != 1 {
		t.Errorf("the off-limits sector's row is not highlighted (%d)", n)
	}
	if got := c.text(`tr[data-sector="health"] th`); !strings.Contains(got, "off-limits sector") {
		t.Errorf("the off-limits sector is not labelled: %q", got)
	}
	if n := c.nodeCount(`tr.offlimits`); n != 1 {
		t.Errorf("%d rows marked off-limits, want 1", n)
	}
	energy := `figure[data-sector="energy"] svg.chart`
	if n := c.nodeCount(energy + " circle.marker.computed"); n != 31 {
		t.Errorf("the energy chart has %d computed points, want 31", n)
	}
	if n := c.nodeCount(energy + " polygon.marker.party-1"); n != 1 { // party-a is B's second party
		t.Errorf("the energy chart has %d points of A's stated levels, want 1", n)
	}
	if n := c.nodeCount(`figure.offlimits[data-sector="health"]`); n != 1 {
		t.Errorf("the off-limits sector's chart is not marked")
	}
	label, err := chromedp.Run(c.ctx, chromedp.AttributeValue(chromedp.CSS(energy), "aria-labelledby"))
	if err != nil || !label.Exists || label.Value != "chart-0-0-title chart-0-0-desc" {
		t.Errorf("the chart has no text alternative (%v)", err)
	}
	if got := c.text(`figure[data-sector="energy"] figcaption`); got != "Trend of energy" {
		t.Errorf("the chart's caption reads %q", got)
	}
	c.screenshot("threat")
	c.run("open the chart's data", chromedp.Click(chromedp.CSS(`figure[data-sector="energy"] details summary`)))
	if got := c.text(`figure[data-sector="energy"] details table`); !strings.Contains(got, "3 elevated") {
		t.Errorf("the chart's data table reads %q", got)
	}

	c.run("pick Russian", chromedp.SetValue(chromedp.ID("lang-select"), "ru"), chromedp.Submit(chromedp.ID("lang-select")))
	c.waitText("h1", "Входящие")
	c.open(bn.srv.URL + "/threat")
	if got := c.text("h1"); got != "Картина угроз" {
		t.Errorf("the page's heading in Russian reads %q", got)
	}
	if got := c.text(`tr[data-sector="energy"] td[data-party="party-a"]`); !strings.Contains(got, "4 высокий") {
		t.Errorf("in Russian A's level reads %q", got)
	}
	if got := c.text(`tr[data-sector="health"] th`); !strings.Contains(got, "запретный сектор") {
		t.Errorf("in Russian the off-limits label reads %q", got)
	}
	c.screenshot("threat-ru")
}

// In a real browser, the responsiveness page on A and on B shows the same
// figures after B acknowledged and answered A's request; it reads in
// Russian.
func TestBrowserResponsiveness(t *testing.T) {
	a, bn := uiStart(t, "party-a"), uiStart(t, "party-b")
	uiShare(t, a, bn)
	uiAnsweredRequest(t, a, bn)

	c := newChrome(t, a, bn)
	c.login(a, "lena")
	c.open(a.srv.URL + "/responsiveness")
	onA := c.text("#figures-channel-0")
	c.login(bn, "olga")
	c.open(bn.srv.URL + "/responsiveness")
	onB := c.text("#figures-channel-0")
	if onA != onB {
		t.Errorf("the figures differ:\nA: %s\nB: %s", onA, onB)
	}
	if got := c.text(`#figures-channel-0 td[data-party="party-b"][data-figure="answer-in-time"]`); got != "1 of 1 (100 %)" {
		t.Errorf("B's answers in time read %q", got)
	}
	c.screenshot("responsiveness")
	c.run("pick Russian", chromedp.SetValue(chromedp.ID("lang-select"), "ru"), chromedp.Submit(chromedp.ID("lang-select")))
	c.waitText("h1", "Входящие")
	c.open(bn.srv.URL + "/responsiveness")
	if got := c.text("h1"); got != "Оперативность" {
		t.Errorf("the heading in Russian reads %q", got)
	}
	if got := c.text(`#figures-channel-0 td[data-party="party-b"][data-figure="answer-in-time"]`); got != "1 из 1 (100 %)" {
		t.Errorf("in Russian B's answers in time read %q", got)
	}
}
