package webui_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/tlog"
	"github.com/parleyhq/parley/internal/webui"
	"github.com/parleyhq/parley/internal/workflow"
)

// reqCount is how many requests node n holds.
func reqCount(t *testing.T, n *uiNode) int {
	t.Helper()
	rs, err := n.srv.Workflow.Requests(context.Background(), workflow.RequestFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return len(rs)
}

// Filing a request in the web UI: each bad form is refused with a 4xx,
// the refusal beside the field naming it and the reason, what was typed
// kept, and nothing filed; a report the user may not see (TLP:RED for
// others) is neither offered nor accepted. A good form files the request
// and sends the browser to its page; the other party receives it.
func TestRequestFile(t *testing.T) {
	ctx := context.Background()
	a, bn := uiStart(t, "party-a"), uiStart(t, "party-b")
	ch := uiShare(t, a, bn)
	green, err := a.srv.Workflow.FileReport(ctx, "a-b", uiBundle(t), "green", []string{"energy"}, 3)
	if err != nil {
		t.Fatal(err)
	}
	red, err := a.srv.Workflow.FileReportTo(ctx, "a-b", uiBundle(t), "red", []string{"energy"}, 3, []string{"lena"})
	if err != nil {
		t.Fatal(err)
	}

	duty := a.browser(t)
	duty.login("olga", "password-olga")
	resp, page := duty.do("GET", "/requests/new", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("new request form: %d\n%s", resp.StatusCode, page)
	}
	for _, want := range []string{`<label for="new-channel">Channel</label>`, `<option value="` + ch + `"`, `<option value="` + green + `"`,
		`<label for="new-about">`, `<label for="new-infrastructure">`, `<label for="new-text">`, `<label for="new-sectors">`} {
		if !strings.Contains(page, want) {
			t.Errorf("the form lacks %q", want)
		}
	}
	if strings.Contains(page, red) || strings.Contains(page, `value="route"`) {
		t.Errorf("the form offers the RED report olga may not see, or routing without GeoIP databases:\n%s", page)
	}
	token := csrfOf(t, page)

	good := func() url.Values {
		return url.Values{"csrf": {token}, "channel": {ch}, "about": {green}, "infrastructure": {"203.0.113.7\nc2.example.net"},
			"text": {"Please take down the C2 server."}, "sectors": {""}}
	}
	for _, c := range []struct {
		what   string
		change func(url.Values)
		status int
		field  string // the field whose error shows
		reason string
	}{
		{"no text", func(v url.Values) { v.Set("text", "  ") }, 400, "text", "required"},
		{"text too long", func(v url.Values) { v.Set("text", strings.Repeat("x", workflow.MaxRequestText+1)) }, 400, "text", "over the limit"},
		{"no report", func(v url.Values) { v.Del("about") }, 400, "about", "required"},
		{"unknown report", func(v url.Values) { v.Set("about", "report--00000000-0000-4000-8000-000000000000") }, 400, "about", "is no incident report that you may see"},
		{"RED report for others", func(v url.Values) { v.Set("about", red) }, 400, "about", "is no incident report that you may see"},
		{"bad infrastructure", func(v url.Values) { v.Set("infrastructure", "203.0.113.7\nnot an address!") }, 400, "infrastructure", "infrastructure[1]"},
		{"bad URL", func(v url.Values) { v.Set("infrastructure", "gopher://x") }, 400, "infrastructure", "not a URL with scheme http, https or ftp"},
		{"unknown sector", func(v url.Values) { v.Set("sectors", "energy, moonbase") }, 400, "sectors", "moonbase"},
		{"unknown channel", func(v url.Values) { v.Set("channel", "no-such-channel") }, 404, "channel", "no channel"},
		{"routing without GeoIP", func(v url.Values) { v.Set("channel", "route") }, 400, "channel", "no GeoIP database"},
	} {
		form := good()
		c.change(form)
		resp, body := duty.do("POST", "/requests", form)
		errRE := regexp.MustCompile(`<p class="field-error" id="new-` + c.field + `-error">([^<]*)</p>`)
		m := errRE.FindStringSubmatch(body)
		if resp.StatusCode != c.status || m == nil || !strings.HasPrefix(m[1], c.field+":") || !strings.Contains(m[1], c.reason) {
			t.Errorf("%s: %d, error beside %s: %v, want %d and %q\n%s", c.what, resp.StatusCode, c.field, m, c.status, c.reason, body)
		}
		if !strings.Contains(body, `id="new-`+c.field+`" `) || !strings.Contains(body, `aria-invalid="true" aria-describedby="new-`+c.field+`-error"`) {
			t.Errorf("%s: the field is not marked invalid", c.what)
		}
		if c.field != "text" && !strings.Contains(body, "Please take down the C2 server.</textarea>") {
			t.Errorf("%s: what was typed is lost", c.what)
		}
		if n := reqCount(t, a); n != 0 {
			t.Fatalf("%s: %d requests filed", c.what, n)
		}
	}

	// A lead sees no form, and a forged post is refused.
	lead := a.browser(t)
	lead.login("lena", "password-lena")
	_, page = lead.do("GET", "/requests/new", nil)
	if strings.Contains(page, `action="/requests"`) || !strings.Contains(page, "Your role may only read") {
		t.Errorf("lead's form page:\n%s", page)
	}
	form := good()
	form.Set("csrf", csrfOf(t, page))
	if resp, body := lead.do("POST", "/requests", form); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "Your role may only read") || reqCount(t, a) != 0 {
		t.Errorf("lead filing: %d\n%s", resp.StatusCode, body)
	}
	if resp, _ := duty.do("POST", "/requests", url.Values{"channel": {ch}, "about": {green}, "text": {"x"}}); resp.StatusCode != http.StatusForbidden || reqCount(t, a) != 0 {
		t.Errorf("filing without the CSRF token: %d", resp.StatusCode)
	}

	// The good form.
	form = good()
	form.Set("sectors", "energy, health")
	resp, body := duty.do("POST", "/requests", form)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/requests/parley-request--") {
		t.Fatalf("filing: %d %s\n%s", resp.StatusCode, loc, body)
	}
	id := strings.TrimPrefix(loc, "/requests/")
	r, err := a.srv.Workflow.Request(ctx, id)
	if err != nil || r.Text != "Please take down the C2 server." || strings.Join(r.Infrastructure, ",") != "203.0.113.7,c2.example.net" || strings.Join(r.Sectors, ",") != "energy,health" {
		t.Fatalf("filed: %+v, %v", r, err)
	}
	uiWait(t, "B receives the request", func() bool { _, err := bn.srv.Workflow.Request(ctx, id); return err == nil })
}

// One request's page on both nodes: its facts, deadlines, the timeline
// with each move's log index and proof link, and only the forms this
// party may use. Each bad move is refused beside its field with a 4xx and
// changes nothing; the good ones go through and the other node sees them.
// A lead sees no form and a forged post is refused. The reports it is
// about show as far as the user may see them.
func TestRequestPageMoves(t *testing.T) {
	ctx := context.Background()
	a, bn := uiStart(t, "party-a"), uiStart(t, "party-b")
	ch := uiShare(t, a, bn)
	green, err := a.srv.Workflow.FileReport(ctx, "a-b", uiBundle(t), "green", []string{"energy"}, 3)
	if err != nil {
		t.Fatal(err)
	}
	red, err := a.srv.Workflow.FileReportTo(ctx, "a-b", uiBundle(t), "red", []string{"energy"}, 3, []string{"lena"})
	if err != nil {
		t.Fatal(err)
	}
	id, err := a.srv.Workflow.FileRequest(ctx, workflow.RequestFiling{Channel: "a-b", About: []string{green, red}, Text: "Please block c2.example.net.", Infrastructure: []string{"c2.example.net"}})
	if err != nil {
		t.Fatal(err)
	}
	uiWait(t, "B has the request and both reports", func() bool {
		_, err := bn.srv.Workflow.Request(ctx, id)
		rs, _ := bn.srv.Workflow.Reports(ctx, ch)
		return err == nil && len(rs) == 2
	})
	state := func(n *uiNode) dialogue.RequestState {
		t.Helper()
		r, err := n.srv.Workflow.Request(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return r.State
	}

	// TLP: olga sees the GREEN report, not the RED one; lena both.
	duty := bn.browser(t)
	duty.login("olga", "password-olga")
	resp, page := duty.do("GET", "/requests/"+id, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("request page: %d\n%s", resp.StatusCode, page)
	}
	for _, want := range []string{"<h1>Please block c2.example.net.</h1>", `href="/reports/` + green + `"`, "1 more report(s) that you may not see.",
		"<code>c2.example.net</code>", "party-a", "incoming", `id="form-acknowledge"`, `id="form-decline"`, `<label for="decline-text">Reason (required)</label>`,
		"in party-a&#39;s log", "the proof is served by party-a&#39;s node"} {
		if !strings.Contains(page, want) {
			t.Errorf("olga's page on B lacks %q", want)
		}
	}
	if strings.Contains(page, red) || strings.Contains(page, `id="form-answer"`) || strings.Contains(page, `id="form-close"`) {
		t.Errorf("olga's page shows the RED report's id, or a form for a move not open:\n%s", page)
	}
	if !regexp.MustCompile(`in 2[0-9] h \d+ min`).MatchString(page) {
		t.Errorf("no countdown to the acknowledgement deadline:\n%s", page)
	}
	lead := bn.browser(t)
	lead.login("lena", "password-lena")
	_, lpage := lead.do("GET", "/requests/"+id, nil)
	if !strings.Contains(lpage, `href="/reports/`+red+`"`) || strings.Contains(lpage, "<form method=\"post\" action=\"/requests/"+id+"/move\"") || !strings.Contains(lpage, "Nothing: your role may only read.") {
		t.Errorf("lena's page: no RED report, or a form:\n%s", lpage)
	}
	if resp, body := lead.do("POST", "/requests/"+id+"/move", url.Values{"csrf": {csrfOf(t, lpage)}, "action": {"acknowledge"}}); resp.StatusCode != http.StatusForbidden ||
		!strings.Contains(body, "Your role may only read") || state(bn) != dialogue.RequestSubmitted {
		t.Errorf("lena's forged acknowledgement: %d %s", resp.StatusCode, state(bn))
	}

	token := csrfOf(t, page)
	move := func(action, kind, text string) url.Values {
		return url.Values{"csrf": {token}, "action": {action}, "kind": {kind}, "text": {text}}
	}
	type bad struct {
		what   string
		form   url.Values
		status int
		field  string // "" when the refusal is not about a field
		reason string
	}
	check := func(cases []bad, want dialogue.RequestState) {
		t.Helper()
		for _, c := range cases {
			resp, body := duty.do("POST", "/requests/"+id+"/move", c.form)
			ok := resp.StatusCode == c.status && strings.Contains(body, `<p class="error" role="alert">The request could not be moved:`) && strings.Contains(body, c.reason)
			if c.field != "" {
				m := regexp.MustCompile(`<p class="field-error" id="` + c.field + `-error">([^<]*)</p>`).FindStringSubmatch(body)
				name := c.field[strings.Index(c.field, "-")+1:]
				ok = ok && m != nil && strings.HasPrefix(m[1], name+":") && strings.Contains(m[1], c.reason)
			}
			if !ok {
				t.Errorf("%s: %d, want %d, %s: %q\n%s", c.what, resp.StatusCode, c.status, c.field, c.reason, body)
			}
			if got := state(bn); got != want {
				t.Fatalf("%s: the request is %s, want %s", c.what, got, want)
			}
		}
	}
	check([]bad{
		{"decline without a reason", move("decline", "", " "), 400, "decline-text", "needs a reason"},
		{"answer before acknowledging", move("answer", "action-blocking", "Blocked."), 409, "", "cannot be answered"},
		{"close by the receiving party", move("close", "", ""), 403, "", "only the requesting party may close"},
		{"unknown move", move("shrug", "", ""), 400, "", "want acknowledge, answer, decline or close"},
		{"no move", move("", "", ""), 400, "", "action: want acknowledge"},
		{"note too long", move("acknowledge", "", strings.Repeat("x", workflow.MaxRequestText+1)), 400, "acknowledge-text", "over the limit"},
	}, dialogue.RequestSubmitted)
	if resp, _ := duty.do("POST", "/requests/"+id+"/move", url.Values{"action": {"acknowledge"}}); resp.StatusCode != http.StatusForbidden || state(bn) != dialogue.RequestSubmitted {
		t.Errorf("acknowledging without the CSRF token: %d", resp.StatusCode)
	}

	resp, _ = duty.do("POST", "/requests/"+id+"/move", move("acknowledge", "", "On it."))
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/requests/"+id || state(bn) != dialogue.RequestAcknowledged {
		t.Fatalf("acknowledging: %d %s, %s", resp.StatusCode, resp.Header.Get("Location"), state(bn))
	}
	_, page = duty.do("GET", "/requests/"+id, nil)
	if strings.Contains(page, `id="form-acknowledge"`) || !strings.Contains(page, `id="form-answer"`) || !strings.Contains(page, `id="form-decline"`) || !strings.Contains(page, "On it.") {
		t.Errorf("after acknowledging:\n%s", page)
	}
	check([]bad{
		{"answer without its kind", move("answer", "", "Blocked."), 400, "answer-kind", "needs its kind"},
		{"answer of an unknown kind", move("answer", "shrugged", "Blocked."), 400, "answer-kind", "shrugged"},
		{"cannot-act without a reason", move("answer", "cannot-act", ""), 400, "answer-text", "needs the reason"},
		{"acknowledging twice", move("acknowledge", "", ""), 409, "", "cannot be acknowledged"},
	}, dialogue.RequestAcknowledged)
	// The refused answer keeps what was typed.
	_, body := duty.do("POST", "/requests/"+id+"/move", move("answer", "", "Blocked at the border."))
	if !strings.Contains(body, "Blocked at the border.</textarea>") {
		t.Errorf("the refused answer lost its text:\n%s", body)
	}
	// htmx: the page's main block comes back, the refusal in it.
	req, _ := http.NewRequest("POST", bn.srv.URL+"/requests/"+id+"/move", strings.NewReader(move("decline", "", "").Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	hresp, err := duty.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	hresp.Body.Close()
	if hresp.StatusCode != 400 {
		t.Errorf("htmx decline without a reason: %d", hresp.StatusCode)
	}

	resp, _ = duty.do("POST", "/requests/"+id+"/move", move("answer", "action-blocking", "Blocked at the border."))
	if resp.StatusCode != http.StatusSeeOther || state(bn) != dialogue.RequestAnswered {
		t.Fatalf("answering: %d, %s", resp.StatusCode, state(bn))
	}
	_, page = duty.do("GET", "/requests/"+id, nil)
	if !strings.Contains(page, "No move is open to your party in this state.") || !strings.Contains(page, "Kind: action-blocking") {
		t.Errorf("B after answering:\n%s", page)
	}

	// On A: the requester may close it now; the timeline has B's moves
	// with their indexes in B's log.
	uiWait(t, "A sees the request answered", func() bool { return state(a) == dialogue.RequestAnswered })
	aduty := a.browser(t)
	aduty.login("olga", "password-olga")
	_, page = aduty.do("GET", "/requests/"+id, nil)
	for _, re := range []string{`id="form-close"`, `acknowledge</strong> → acknowledged`, `answer</strong> → answered`, `index \d+ in party-b&#39;s log`,
		`index \d+ in this node&#39;s log \(<a href="/requests/` + id + `/proof/\d+" class="proof-link">inclusion proof</a>\)`} {
		if !regexp.MustCompile(re).MatchString(page) {
			t.Errorf("A's page does not match %s:\n%s", re, page)
		}
	}
	if strings.Contains(page, `id="form-acknowledge"`) || strings.Contains(page, `id="form-answer"`) || strings.Contains(page, `id="form-decline"`) {
		t.Errorf("A's page offers the receiving party's moves")
	}
	resp, _ = aduty.do("POST", "/requests/"+id+"/move", url.Values{"csrf": {csrfOf(t, page)}, "action": {"close"}, "text": {"Thanks."}})
	if resp.StatusCode != http.StatusSeeOther || state(a) != dialogue.RequestClosed {
		t.Fatalf("closing on A: %d, %s", resp.StatusCode, state(a))
	}
	uiWait(t, "B sees the request closed", func() bool { return state(bn) == dialogue.RequestClosed })

	// The proofs of B's own entries verify against B's checkpoint.
	r, err := bn.srv.Workflow.Request(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	ownIdx := map[int64]bool{}
	for _, tr := range r.History {
		if tr.Log != "own" {
			continue
		}
		ownIdx[*tr.LogIndex] = true
		checkProof(t, duty, bn, id, *tr.LogIndex)
	}
	if len(ownIdx) != 2 {
		t.Errorf("B's own entries in the history: %d, want the acknowledgement and the answer", len(ownIdx))
	}
	// Not an index of this request's own entries: not found (the
	// filing's index is in A's log, not B's).
	paths := []string{"999", "-1", "x"}
	for _, i := range []int64{0, *r.History[0].LogIndex} {
		if !ownIdx[i] {
			paths = append(paths, strconv.FormatInt(i, 10))
		}
	}
	for _, path := range paths {
		if resp, _ := duty.do("GET", "/requests/"+id+"/proof/"+path, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET proof %s: %d, want 404", path, resp.StatusCode)
		}
	}
	if resp, _ := duty.do("GET", "/requests/parley-request--00000000-0000-4000-8000-000000000000", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown request: %d", resp.StatusCode)
	}
}

// checkProof fetches the inclusion proof of entry index of request id
// from node n and verifies it with internal/tlog: the checkpoint signed
// by n's log key, the entry's leaf hash, the audit path to its root.
func checkProof(t *testing.T, b *browser, n *uiNode, id string, index int64) {
	t.Helper()
	resp, body := b.do("GET", "/requests/"+id+"/proof/"+strconv.FormatInt(index, 10), nil)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("proof %d: %d\n%s", index, resp.StatusCode, body)
	}
	verifyProof(t, []byte(body), n, index)
}

func verifyProof(t *testing.T, body []byte, n *uiNode, index int64) {
	t.Helper()
	var p webui.RequestProof
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("proof %d: %v\n%s", index, err, body)
	}
	origin, _ := tlog.Origin(n.name, p.Channel)
	cp, err := tlog.Open([]byte(p.Checkpoint), origin, n.srv.Node.LogVerifier())
	if err != nil {
		t.Fatalf("proof %d: checkpoint: %v", index, err)
	}
	if p.LeafIndex != index || p.TreeSize != cp.Size || tlog.LeafHash(p.Entry) != p.LeafHash {
		t.Fatalf("proof %d: leaf %d, size %d (checkpoint %d), leaf hash matches: %v", index, p.LeafIndex, p.TreeSize, cp.Size, tlog.LeafHash(p.Entry) == p.LeafHash)
	}
	ip := tlog.InclusionProof{LeafIndex: p.LeafIndex, TreeSize: p.TreeSize, Hashes: p.Hashes}
	if err := ip.Verify(p.LeafHash, cp.Hash); err != nil {
		t.Fatalf("proof %d does not verify: %v", index, err)
	}
	if !strings.Contains(string(p.Entry), p.Object) {
		t.Errorf("proof %d: the entry is not the object %s", index, p.Object)
	}
	// A changed hash does not verify.
	if len(ip.Hashes) > 0 {
		ip.Hashes[0][0] ^= 1
		if ip.Verify(p.LeafHash, cp.Hash) == nil {
			t.Errorf("proof %d verifies with a changed hash", index)
		}
	}
}

// The list: both directions, filters by state and direction, bad
// filters refused naming the parameter.
func TestRequestList(t *testing.T) {
	ctx := context.Background()
	a, bn := uiStart(t, "party-a"), uiStart(t, "party-b")
	uiShare(t, a, bn)
	rep, err := a.srv.Workflow.FileReport(ctx, "a-b", uiBundle(t), "green", []string{"energy"}, 3)
	if err != nil {
		t.Fatal(err)
	}
	out, err := a.srv.Workflow.FileRequest(ctx, workflow.RequestFiling{Channel: "a-b", About: []string{rep}, Text: "Outgoing one."})
	if err != nil {
		t.Fatal(err)
	}
	uiWait(t, "B has the report", func() bool { rs, _ := bn.srv.Workflow.Reports(ctx, "a-b"); return len(rs) == 1 })
	in, err := bn.srv.Workflow.FileRequest(ctx, workflow.RequestFiling{Channel: "a-b", About: []string{rep}, Text: "Incoming one."})
	if err != nil {
		t.Fatal(err)
	}
	uiWait(t, "A has B's request", func() bool { _, err := a.srv.Workflow.Request(ctx, in); return err == nil })
	if _, err := a.srv.Workflow.MoveRequest(ctx, in, workflow.Move{Action: dialogue.ActionAcknowledge}); err != nil {
		t.Fatal(err)
	}

	b := a.browser(t)
	b.login("lena", "password-lena")
	for _, c := range []struct {
		query     string
		has, hasn []string
	}{
		{"", []string{out, in, "Outgoing one.", "Incoming one.", "Page 1 of 1: 2 requests."}, nil},
		{"?direction=incoming", []string{in}, []string{out}},
		{"?direction=outgoing", []string{out}, []string{in}},
		{"?state=acknowledged", []string{in}, []string{out}},
		{"?state=closed", []string{"No requests match."}, []string{in, out}},
		{"?order=newest&direction=incoming&state=acknowledged", []string{in}, []string{out}},
	} {
		resp, page := b.do("GET", "/requests"+c.query, nil)
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d", c.query, resp.StatusCode)
		}
		for _, s := range c.has {
			if !strings.Contains(page, s) {
				t.Errorf("%s: lacks %s", c.query, s)
			}
		}
		for _, s := range c.hasn {
			if strings.Contains(page, s) {
				t.Errorf("%s: shows %s", c.query, s)
			}
		}
		if strings.Contains(page, `href="/requests/new"`) {
			t.Errorf("%s: the lead is offered to file a request", c.query)
		}
	}
	for _, c := range []struct{ query, field, reason string }{
		{"?state=pending", "state", "no such state"},
		{"?direction=sideways", "direction", "want incoming or outgoing"},
		{"?order=oldest", "order", "want urgent or newest"},
	} {
		resp, page := b.do("GET", "/requests"+c.query, nil)
		m := regexp.MustCompile(`<p class="field-error" id="filter-` + c.field + `-error">([^<]*)</p>`).FindStringSubmatch(page)
		if resp.StatusCode != 400 || m == nil || !strings.HasPrefix(m[1], c.field+": ") || !strings.Contains(m[1], c.reason) {
			t.Errorf("%s: %d, %v", c.query, resp.StatusCode, m)
		}
	}
}
