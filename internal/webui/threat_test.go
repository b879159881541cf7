package webui_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/workflow"
)

// uiOffLimits makes sector an agreed off-limits sector of channel "a-b":
// A proposes the statement, both sign it; it returns when both nodes
// hold it agreed.
func uiOffLimits(t *testing.T, a, b *uiNode, sector string) {
	t.Helper()
	ctx := context.Background()
	texts := map[string]string{"en": "The " + sector + " sector is off-limits.", "ru": "Сектор " + sector + " неприкосновенен."}
	id, err := a.srv.Workflow.ProposeStatement(ctx, "a-b", workflow.StatementProposal{Kind: workflow.StatementOffLimits, Texts: texts, Sectors: []string{sector}})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := workflow.TextSHA256(texts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.srv.Workflow.SignStatement(ctx, id, sum, "olga (duty)"); err != nil {
		t.Fatal(err)
	}
	uiWait(t, "B holds the statement", func() bool { _, err := b.srv.Workflow.StatementByID(ctx, id); return err == nil })
	if _, err := b.srv.Workflow.SignStatement(ctx, id, sum, "olga (duty)"); err != nil {
		t.Fatal(err)
	}
	for _, n := range []*uiNode{a, b} {
		uiWait(t, n.name+" holds the statement agreed", func() bool {
			st, err := n.srv.Workflow.StatementByID(ctx, id)
			return err == nil && st.State == workflow.StatementAgreed
		})
	}
}

// stated is party's stated level for sector on n's channel "a-b" (nil:
// none).
func stated(t *testing.T, n *uiNode, party, sector string) *workflow.StatedLevel {
	t.Helper()
	th, err := n.srv.Workflow.Threat(context.Background(), "a-b")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range th.Channels[0].Sectors {
		if s.Sector == sector {
			return s.Stated[party]
		}
	}
	return nil
}

var (
	rowRE    = regexp.MustCompile(`(?s)<tr id="sector-0-([a-z-]+)"[^>]*>.*?</tr>`)
	circleRE = regexp.MustCompile(`<circle class="marker computed" cx="[0-9.]+" cy="[0-9.]+" r="3"><title>`)
)

// htmxDo is b.do as htmx sends it (HX-Request: true).
func htmxDo(b *browser, method, path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	req, err := http.NewRequest(method, b.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, string(data)
}

// rowOf is the table row of sector on a threat page.
func rowOf(page, sector string) string {
	for _, m := range rowRE.FindAllStringSubmatch(page, -1) {
		if m[1] == sector {
			return m[0]
		}
	}
	return ""
}

// The threat page shows each sector's computed level beside both
// parties' stated ones, marks the off-limits sector in words, draws a
// 31-point trend per sector with its text alternative; the form refuses
// bad input beside the field and files nothing; a lead may not state a
// level; a level stated on A shows on B beside B's computed level.
func TestThreatPage(t *testing.T) {
	ctx := context.Background()
	a, bn := uiStart(t, "party-a"), uiStart(t, "party-b")
	uiShare(t, a, bn)
	if _, err := a.srv.Workflow.FileReport(ctx, "a-b", uiBundle(t), "green", []string{"energy"}, 4); err != nil {
		t.Fatal(err)
	}
	uiOffLimits(t, a, bn, "health")

	b := a.browser(t)
	b.login("olga", "password-olga")
	resp, page := b.do("GET", "/threat", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("threat page: %d\n%s", resp.StatusCode, page)
	}
	if strings.Contains(page, "style=") || strings.Count(page, "<script") != strings.Count(page, `<script src="/assets/`) {
		t.Error("the page has inline style or script")
	}
	energy, health := rowOf(page, "energy"), rowOf(page, "health")
	if !strings.Contains(energy, "3 elevated") || !strings.Contains(energy, "score 4.000; incidents: 1") || strings.Count(energy, "not stated") != 2 {
		t.Errorf("energy row:\n%s", energy)
	}
	if !strings.Contains(health, `class="offlimits"`) || !strings.Contains(health, "off-limits sector") || strings.Contains(energy, "off-limits sector") {
		t.Errorf("the off-limits sector is not marked in words (or energy is):\nhealth: %s\nenergy: %s", health, energy)
	}
	if !strings.Contains(page, "Off-limits sectors: health") {
		t.Error("the channel does not list its off-limits sectors")
	}
	if n := len(circleRE.FindAllString(page, -1)); n != 2*31 {
		t.Errorf("%d computed points in the charts, want 31 for each of 2 sectors", n)
	}
	for _, want := range []string{`role="img" aria-labelledby="chart-0-0-title chart-0-0-desc"`, `<title id="chart-0-0-title">Trend of energy</title>`,
		"<summary>The chart&#39;s data</summary>", ">Date</text>", ">Level</text>", `<label for="assess-0-sector">`, `<label for="assess-0-level">`, `<label for="assess-0-rationale">`,
		`<option value="5">5 severe</option>`, `<figure id="chart-0-1-figure" class="trend offlimits" data-sector="health">`} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}

	// Bad input: refused beside the field, nothing filed.
	csrf := csrfOf(t, page)
	for _, c := range []struct {
		what                            string
		sector, level, rationale, field string
		status                          int
		reason, flash                   string
	}{
		{"level too high", "energy", "6", "grid attacks", "level", 400, "Choose a level from 1 (low) to 5 (severe).", "level 6: want 1 (low) to 5 (severe)"},
		{"level zero", "energy", "0", "grid attacks", "level", 400, "Choose a level from 1 (low) to 5 (severe).", "level 0: want 1 (low) to 5 (severe)"},
		{"level not a number", "energy", "high", "grid attacks", "level", 400, "Choose a level from 1 (low) to 5 (severe).", "level &#34;high&#34;: want a number from 1 (low) to 5 (severe)"},
		{"no level", "energy", "", "grid attacks", "level", 400, "Choose a level from 1 (low) to 5 (severe).", "level &#34;&#34;: want a number"},
		{"unknown sector", "casinos", "3", "grid attacks", "sector", 400, "Choose a sector from the list.", "sector &#34;casinos&#34;: not a sector code"},
		{"no sector", "", "3", "grid attacks", "sector", 400, "Choose a sector from the list.", "sector &#34;&#34;: not a sector code"},
		{"no rationale", "energy", "3", "", "rationale", 400, "A stated level needs its reasons: write the rationale.", "rationale: a stated level needs its reasons"},
		{"blank rationale", "energy", "3", "  \n ", "rationale", 400, "A stated level needs its reasons: write the rationale.", "rationale: a stated level needs its reasons"},
	} {
		resp, body := b.do("POST", "/threat/assess", url.Values{"csrf": {csrf}, "channel": {"a-b"}, "sector": {c.sector}, "level": {c.level}, "rationale": {c.rationale}})
		wantErr := `<span class="field-error" id="assess-0-` + c.field + `-error">` + strings.ReplaceAll(c.reason, "'", "&#39;") + `</span>`
		if resp.StatusCode != c.status || !strings.Contains(body, wantErr) || !strings.Contains(body, `id="assess-0-`+c.field+`" name="`+c.field+`" `) ||
			!strings.Contains(body, "The level was not stated: "+c.flash) {
			t.Errorf("%s: %d, want %d and %s\n%s", c.what, resp.StatusCode, c.status, wantErr, body)
		}
		if strings.Count(body, `class="field-error"`) != 1 {
			t.Errorf("%s: %d field errors, want 1", c.what, strings.Count(body, `class="field-error"`))
		}
		// The values entered are kept.
		if c.rationale != "" && !strings.Contains(body, ">"+c.rationale+"</textarea>") {
			t.Errorf("%s: the rationale is not kept", c.what)
		}
	}
	// Not a field: an unknown channel, a missing token, a lead.
	if resp, body := b.do("POST", "/threat/assess", url.Values{"csrf": {csrf}, "channel": {"nowhere"}, "sector": {"energy"}, "level": {"3"}, "rationale": {"x"}}); resp.StatusCode != 404 ||
		!strings.Contains(body, `The level was not stated: no channel &#34;nowhere&#34;`) {
		t.Errorf("unknown channel: %d\n%s", resp.StatusCode, body)
	}
	if resp, _ := b.do("POST", "/threat/assess", url.Values{"channel": {"a-b"}, "sector": {"energy"}, "level": {"3"}, "rationale": {"x"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("no CSRF token: %d", resp.StatusCode)
	}
	lead := a.browser(t)
	lead.login("lena", "password-lena")
	_, lp := lead.do("GET", "/threat", nil)
	if strings.Contains(lp, `action="/threat/assess"`) {
		t.Error("a lead is shown the form")
	}
	if resp, body := lead.do("POST", "/threat/assess", url.Values{"csrf": {csrfOf(t, lp)}, "channel": {"a-b"}, "sector": {"energy"}, "level": {"3"}, "rationale": {"x"}}); resp.StatusCode != http.StatusForbidden ||
		!strings.Contains(body, "stating a level needs the role duty, expert or admin") {
		t.Errorf("a lead: %d\n%s", resp.StatusCode, body)
	}
	if s := stated(t, a, "party-a", "energy"); s != nil {
		t.Fatalf("a refused form filed %+v", s)
	}

	// A good one, plain form: back to the page, which shows it.
	resp, _ = b.do("POST", "/threat/assess", url.Values{"csrf": {csrf}, "channel": {"a-b"}, "sector": {" Energy "}, "level": {"4"}, "rationale": {"Attacks on the grid."}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/threat" {
		t.Fatalf("stating a level: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if s := stated(t, a, "party-a", "energy"); s == nil || s.Level != dialogue.LevelHigh || s.Rationale != "Attacks on the grid." {
		t.Fatalf("filed: %+v", s)
	}
	// With htmx: the page's body, with a notice.
	req := url.Values{"csrf": {csrf}, "channel": {"a-b"}, "sector": {"water"}, "level": {"2"}, "rationale": {"Quiet."}}
	resp, body := htmxDo(b, "POST", "/threat/assess", req)
	if resp.StatusCode != 200 || !strings.HasPrefix(strings.TrimSpace(body), `<div id="threat-body">`) || !strings.Contains(body, "Level stated: water, 2 guarded.") ||
		!strings.Contains(body, `<div id="flash" hx-swap-oob="true">`) || strings.Contains(body, "<html") {
		t.Errorf("htmx: %d\n%s", resp.StatusCode, body)
	}
	req.Set("level", "9")
	if resp, body := htmxDo(b, "POST", "/threat/assess", req); resp.StatusCode != 400 || !strings.Contains(body, `id="assess-0-level-error"`) || !strings.Contains(body, "level 9: want 1 (low) to 5 (severe)") {
		t.Errorf("htmx, bad level: %d\n%s", resp.StatusCode, body)
	}

	// B shows A's level beside its computed one.
	uiWait(t, "B holds A's level", func() bool { return stated(t, bn, "party-a", "energy") != nil })
	bb := bn.browser(t)
	bb.login("olga", "password-olga")
	_, page = bb.do("GET", "/threat", nil)
	row := rowOf(page, "energy")
	if !regexp.MustCompile(`(?s)<td class="computed"><strong class="level level-3">3 elevated</strong>.*<td class="stated" data-party="party-a"><strong class="level level-4">4 high</strong><br>Attacks on the grid\.`).MatchString(row) {
		t.Errorf("B's energy row:\n%s", row)
	}
	// B names its own party first.
	if !strings.Contains(page, `<th scope="col">Stated by party-b</th><th scope="col">Stated by party-a</th>`) {
		t.Error("B's columns")
	}

	// In Russian.
	bb.lang = "ru"
	_, page = bb.do("GET", "/threat", nil)
	for _, want := range []string{"Картина угроз", "4 высокий", "3 повышенный", "запретный сектор", "Заявить уровень", ">Дата</text>", ">Уровень</text>",
		`<option value="energy">energy — Энергетика</option>`, "<small>Здравоохранение</small>"} {
		if !strings.Contains(page, want) {
			t.Errorf("the Russian page lacks %q", want)
		}
	}
	// Every sector of the list has its Russian name.
	options := regexp.MustCompile(`<option value="[a-z-]+"(?: selected)?>[a-z-]+ — ([^<]+)</option>`).FindAllStringSubmatch(page, -1)
	if len(options) != len(dialogue.Sectors) {
		t.Errorf("%d sectors in the form, want %d", len(options), len(dialogue.Sectors))
	}
	for _, o := range options {
		if !regexp.MustCompile(`^[А-Яа-яЁё]`).MatchString(o[1]) {
			t.Errorf("a sector's name in Russian: %q", o[1])
		}
	}
}
