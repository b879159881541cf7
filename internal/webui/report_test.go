package webui_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/blob"
	"github.com/parleyhq/parley/internal/webui"
)

// upload is one file of a multipart form.
type upload struct {
	name, mediaType string
	data            []byte
}

// postMultipart posts the fields, then the files as "evidence", the way
// a browser sends the report form (files last).
func (b *browser) postMultipart(path string, fields url.Values, files ...upload) (*http.Response, string) {
	b.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	// The token first, as the form has it.
	keys := []string{}
	for k := range fields {
		if k != "csrf" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	if _, ok := fields["csrf"]; ok {
		keys = append([]string{"csrf"}, keys...)
	}
	for _, k := range keys {
		for _, v := range fields[k] {
			if err := mw.WriteField(k, v); err != nil {
				b.t.Fatal(err)
			}
		}
	}
	for _, f := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="evidence"; filename="`+f.name+`"`)
		h.Set("Content-Type", f.mediaType)
		w, err := mw.CreatePart(h)
		if err != nil {
			b.t.Fatal(err)
		}
		w.Write(f.data)
	}
	mw.Close()
	req, err := http.NewRequest("POST", b.base+path, &body)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if b.lang != "" {
		req.Header.Set("Accept-Language", b.lang)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, string(data)
}

// goodReport is a filing the form accepts.
func goodReport(channel, csrf string) url.Values {
	return url.Values{"csrf": {csrf}, "channel": {channel}, "title": {"Beacon to a C2 server from the grid operator"},
		"description": {"A trojan on the operator's gateway beaconed for 30 hours."},
		"indicators":  {"192.0.2.10\nupdate-check.example.net\n"}, "sectors": {"energy"}, "tlp": {"green"}, "severity": {"3"}}
}

var reportLink = regexp.MustCompile(`^/reports/(report--[0-9a-f-]{36})$`)

// The report form refuses each bad field beside it, naming the field and
// the reason, with status 400 (403 for a lead or a forged token), and
// stores nothing: no report, no evidence blob, no log entry. A good
// filing lands on the report's page.
func TestReportFormRefusals(t *testing.T) {
	ctx := context.Background()
	a, bn := uiStart(t, "party-a"), uiStart(t, "party-b")
	ch := uiShare(t, a, bn)
	blobs, err := a.srv.Node.Blobs()
	if err != nil {
		t.Fatal(err)
	}
	duty := a.browser(t)
	duty.login("olga", "password-olga")
	resp, page := duty.do("GET", "/reports/new", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("form: %d\n%s", resp.StatusCode, page)
	}
	for _, want := range []string{
		`enctype="multipart/form-data"`, `<label for="report-channel">Channel</label>`, `<option value="` + ch + `" selected>a-b (party-b)</option>`,
		`<label for="report-title">Title</label>`, `<label for="report-indicators">Indicators</label>`,
		`<input type="checkbox" id="report-sector-energy" name="sectors" value="energy"><label for="report-sector-energy">Energy</label>`,
		`<option value="amber&#43;strict">TLP:AMBER&#43;STRICT</option>`, `<option value="3" selected>3 · significant</option>`,
		`<input type="file" id="report-evidence" name="evidence" multiple`, `Up to 4.0 GiB each`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the form lacks %q", want)
		}
	}
	token := csrfOf(t, page)
	logSize := func() int64 {
		n, err := a.srv.Node.Store.LogSize(ctx, ch)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := logSize()
	evidence := upload{"capture.txt", "text/plain", []byte("beacon traffic, refused filing\n")}
	long := strings.Repeat("x", 301)

	for _, c := range []struct {
		what   string
		change func(url.Values)
		field  string // the field whose error shows; "" for the page's
		status int
		text   string
	}{
		{"no channel", func(v url.Values) { v.Del("channel") }, "channel", 400, "Channel: required"},
		{"unknown channel", func(v url.Values) { v.Set("channel", "no-such-channel") }, "channel", 400, `Channel: &#34;no-such-channel&#34; is not a channel of this node.`},
		{"no title", func(v url.Values) { v.Set("title", "  ") }, "title", 400, "Title: required"},
		{"long title", func(v url.Values) { v.Set("title", long) }, "title", 400, "Title: 301 characters; at most 300."},
		{"long description", func(v url.Values) { v.Set("description", strings.Repeat("y", 20001)) }, "description", 400, "Description: 20,001 characters; at most 20,000."},
		{"not an indicator", func(v url.Values) { v.Set("indicators", "192.0.2.10\nnot-an-indicator\n") }, "indicators", 400, "Indicators: line 2 (not-an-indicator): not an IP address, network, domain"},
		{"host bits in a network", func(v url.Values) { v.Set("indicators", "198.51.100.7/24") }, "indicators", 400, "Indicators: line 1 (198.51.100.7/24): not a network address: did you mean 198.51.100.0/24?"},
		{"bad STIX pattern", func(v url.Values) { v.Set("indicators", "[ipv4-addr:value = ]") }, "indicators", 400, "Indicators: line 1 ([ipv4-addr:value = ]): not a valid STIX pattern:"},
		{"bad URL", func(v url.Values) { v.Set("indicators", "https:// bad host/x") }, "indicators", 400, "not a URL: want scheme://host/path"},
		{"bad e-mail address", func(v url.Values) { v.Set("indicators", "@example.org") }, "indicators", 400, "not an e-mail address: want name@domain"},
		{"no sector", func(v url.Values) { v.Del("sectors") }, "sectors", 400, "Sectors: required; name at least one sector"},
		{"unknown sector", func(v url.Values) { v.Set("sectors", "moon-base") }, "sectors", 400, "Sectors: &#34;moon-base&#34; is not a sector code."},
		{"no TLP", func(v url.Values) { v.Del("tlp") }, "tlp", 400, "TLP: required"},
		{"unknown TLP", func(v url.Values) { v.Set("tlp", "purple") }, "tlp", 400, "TLP: &#34;purple&#34; is not a TLP 2.0 level"},
		{"RED without recipients", func(v url.Values) { v.Set("tlp", "red") }, "recipients", 400, "Recipients: required for TLP:RED"},
		{"recipients of a GREEN report", func(v url.Values) { v.Set("recipients", "olga") }, "recipients", 400, "Recipients: only a TLP:RED report names recipients"},
		{"bad recipient", func(v url.Values) { v.Set("tlp", "red"); v.Set("recipients", "olga, role:king") }, "recipients", 400, "Recipients: &#34;role:king&#34; is not a user name or role:ROLE."},
		{"severity 0", func(v url.Values) { v.Set("severity", "0") }, "severity", 400, "Severity: &#34;0&#34;; want a number from 1 (low) to 5 (critical)."},
		{"severity 6", func(v url.Values) { v.Set("severity", "6") }, "severity", 400, "Severity: &#34;6&#34;; want"},
		{"severity not a number", func(v url.Values) { v.Set("severity", "high") }, "severity", 400, "Severity: &#34;high&#34;; want"},
		{"no CSRF token", func(v url.Values) { v.Del("csrf") }, "", 403, "did not come from this site"},
		{"forged CSRF token", func(v url.Values) { v.Set("csrf", strings.Repeat("A", len(token))) }, "", 403, "did not come from this site"},
	} {
		form := goodReport(ch, token)
		c.change(form)
		resp, body := duty.postMultipart("/reports", form, evidence)
		if resp.StatusCode != c.status || !strings.Contains(body, c.text) {
			t.Errorf("%s: %d, want %d with %q\n%s", c.what, resp.StatusCode, c.status, c.text, body)
			continue
		}
		if c.field != "" {
			errRE := regexp.MustCompile(`<p class="field-error" id="report-` + c.field + `-error">([^<]*)</p>`)
			m := errRE.FindStringSubmatch(body)
			if m == nil || !strings.Contains(m[1], c.text) {
				t.Errorf("%s: the error is not beside the field %s: %q", c.what, c.field, m)
			}
			if n := strings.Count(body, `class="field-error"`); n != 2 { // the field's, and the evidence's "choose again"
				t.Errorf("%s: %d field errors, want the one and the evidence's", c.what, n)
			}
			if !strings.Contains(body, `id="report-evidence-error">Choose the files again`) {
				t.Errorf("%s: no word that the files must be chosen again", c.what)
			}
			// The values typed are kept.
			if c.field != "title" && !strings.Contains(body, `value="Beacon to a C2 server from the grid operator"`) {
				t.Errorf("%s: the title typed is lost", c.what)
			}
		}
	}
	// A lead may not file.
	lead := a.browser(t)
	lead.login("lena", "password-lena")
	resp, page = lead.do("GET", "/reports/new", nil)
	if resp.StatusCode != http.StatusForbidden || strings.Contains(page, `action="/reports"`) || !strings.Contains(page, "filing a report needs the role duty, expert or admin") {
		t.Errorf("the lead's form: %d\n%s", resp.StatusCode, page)
	}
	resp, page = lead.postMultipart("/reports", goodReport(ch, csrfOf(t, page)), evidence)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(page, "filing a report needs the role duty, expert or admin") {
		t.Errorf("the lead filing: %d\n%s", resp.StatusCode, page)
	}

	rs, err := a.srv.Workflow.Reports(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	kept, err := blobs.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 0 || len(kept) != 0 || logSize() != before {
		t.Fatalf("refused filings stored something: %d reports, %d blobs, log %d → %d", len(rs), len(kept), before, logSize())
	}

	// The same filing, good: the report's page. A urlencoded form (no
	// files) is taken too.
	resp, body := duty.postMultipart("/reports", goodReport(ch, token), evidence)
	m := reportLink.FindStringSubmatch(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || m == nil {
		t.Fatalf("good filing: %d %s\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	form := goodReport(ch, token)
	form.Set("indicators", "")
	form.Set("tlp", "red")
	form.Set("recipients", "olga role:lead")
	resp, body = duty.do("POST", "/reports", form)
	if resp.StatusCode != http.StatusSeeOther || !reportLink.MatchString(resp.Header.Get("Location")) {
		t.Fatalf("urlencoded filing: %d %s\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	if rs, _ := a.srv.Workflow.Reports(ctx, ""); len(rs) != 2 {
		t.Errorf("%d reports after two filings", len(rs))
	}
	if kept, _ := blobs.List(); len(kept) != 1 || logSize() <= before {
		t.Errorf("after the filing with evidence: %d blobs, log %d → %d", len(kept), before, logSize())
	}
}

// Each kind of indicator line becomes its STIX pattern; the report shows
// them with the values they name.
func TestReportIndicatorLines(t *testing.T) {
	a, bn := uiStart(t, "party-a"), uiStart(t, "party-b")
	ch := uiShare(t, a, bn)
	duty := a.browser(t)
	duty.login("olga", "password-olga")
	_, page := duty.do("GET", "/reports/new", nil)
	form := goodReport(ch, csrfOf(t, page))
	form.Set("indicators", strings.Join([]string{
		"# comments and empty lines are skipped", "",
		"192.0.2.10", "2001:db8::7", "198.51.100.0/24", "Update-Check.Example.NET.",
		"https://update-check.example.net/dl/it's.bin", "ops@phish.example.org",
		"D41D8CD98F00B204E9800998ECF8427E", strings.Repeat("ab", 32),
		"[process:name = 'agent.exe']", "192.0.2.10",
	}, "\n"))
	resp, body := duty.do("POST", "/reports", form)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("filing: %d\n%s", resp.StatusCode, body)
	}
	_, page = duty.do("GET", resp.Header.Get("Location"), nil)
	for _, want := range []string{
		`[ipv4-addr:value = &#39;192.0.2.10&#39;]`, `[ipv6-addr:value = &#39;2001:db8::7&#39;]`,
		`[ipv4-addr:value ISSUBSET &#39;198.51.100.0/24&#39;]`, `[domain-name:value = &#39;update-check.example.net&#39;]`,
		`[url:value = &#39;https://update-check.example.net/dl/it\&#39;s.bin&#39;]`, `[email-addr:value = &#39;ops@phish.example.org&#39;]`,
		`[file:hashes.MD5 = &#39;d41d8cd98f00b204e9800998ecf8427e&#39;]`, `[file:hashes.&#39;SHA-256&#39; = &#39;` + strings.Repeat("ab", 32) + `&#39;]`,
		`[process:name = &#39;agent.exe&#39;]`, `<code>198.51.100.0/24</code>`, `<code>update-check.example.net</code>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the report's page lacks %s", want)
		}
	}
	if n := strings.Count(page, `<tr id="indicator--`); n != 9 {
		t.Errorf("%d indicators, want 9 (the repeated address once)", n)
	}
}

// TLP 2.0 on every read: a TLP:RED report is listed, shown and its
// evidence served to its named recipient only; to another user of the
// node it is "page not found", like a report that does not exist, and so
// is its evidence. Evidence downloads give the exact bytes, and only the
// blobs the report names.
func TestReportTLPAndEvidence(t *testing.T) {
	ctx := context.Background()
	a, bn := uiStart(t, "party-a"), uiStart(t, "party-b")
	ch := uiShare(t, a, bn)
	duty := a.browser(t)
	duty.login("olga", "password-olga")
	_, page := duty.do("GET", "/reports/new", nil)
	token := csrfOf(t, page)
	file := func(tlp, recipients, title string, ev upload) string {
		t.Helper()
		form := goodReport(ch, token)
		form.Set("tlp", tlp)
		form.Set("title", title)
		if recipients != "" {
			form.Set("recipients", recipients)
		}
		resp, body := duty.postMultipart("/reports", form, ev)
		m := reportLink.FindStringSubmatch(resp.Header.Get("Location"))
		if m == nil {
			t.Fatalf("filing %s: %d\n%s", tlp, resp.StatusCode, body)
		}
		return m[1]
	}
	greenEv := upload{"green capture.pcap", "application/vnd.tcpdump.pcap", bytes.Repeat([]byte{0xd4, 0xc3, 0xb2, 0xa1, 0, 1}, 5000)}
	amberEv := upload{"amber.txt", "text/plain", []byte("amber evidence\n")}
	redEv := upload{"red.txt", "text/plain", []byte("red evidence: for olga only\n")}
	green := file("green", "", "Green report", greenEv)
	// The list kept for olga is read again once a report is added.
	if _, page := duty.do("GET", "/reports", nil); !strings.Contains(page, green) {
		t.Errorf("the list lacks the green report:\n%s", page)
	}
	amber := file("amber", "", "Amber report", amberEv)
	red := file("red", "olga", "Red report", redEv)
	sum := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

	// Olga, the named recipient, sees all three, newest first.
	_, page = duty.do("GET", "/reports", nil)
	iR, iA, iG := strings.Index(page, red), strings.Index(page, amber), strings.Index(page, green)
	if iR < 0 || iA < 0 || iG < 0 || !(iR < iA && iA < iG) {
		t.Errorf("olga's list: red %d, amber %d, green %d (want all, newest first)\n%s", iR, iA, iG, page)
	}
	for _, want := range []string{`<span class="tlp tlp-red">TLP:RED</span>`, `<span class="tlp tlp-amber">TLP:AMBER</span>`, `<span class="tlp tlp-green">TLP:GREEN</span>`,
		`<a href="/reports/` + red + `">Red report</a>`, `<td>party-a</td>`, `<td>Energy</td>`, `<td>3 · significant</td>`, `<a class="action" href="/reports/new">`} {
		if !strings.Contains(page, want) {
			t.Errorf("olga's list lacks %s", want)
		}
	}
	resp, page := duty.do("GET", "/reports/"+red, nil)
	if resp.StatusCode != 200 || !strings.Contains(page, "Only its named recipients may read this report.") || !strings.Contains(page, sum(redEv.data)) {
		t.Errorf("olga's red report: %d\n%s", resp.StatusCode, page)
	}

	// Lena is not a recipient of the red report.
	lead := a.browser(t)
	lead.login("lena", "password-lena")
	_, page = lead.do("GET", "/reports", nil)
	if strings.Contains(page, red) || strings.Contains(page, "Red report") || !strings.Contains(page, amber) || !strings.Contains(page, green) {
		t.Errorf("lena's list shows the red report, or lacks the others:\n%s", page)
	}
	if strings.Contains(page, `href="/reports/new"`) {
		t.Errorf("lena's list offers the form")
	}
	notFound := func(who *browser, path string) {
		t.Helper()
		resp, body := who.do("GET", path, nil)
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "Page not found.") || strings.Contains(body, "Red report") || strings.Contains(body, "red evidence") {
			t.Errorf("%s: %d, want page not found\n%s", path, resp.StatusCode, body)
		}
	}
	notFound(lead, "/reports/"+red)
	notFound(lead, "/reports/"+red+"/evidence/"+sum(redEv.data))
	notFound(lead, "/reports/report--00000000-0000-4000-8000-000000000000")
	notFound(lead, "/reports/not-a-report-id")
	// Evidence the report does not name, even when the node keeps it:
	// not found; a malformed hash too.
	notFound(lead, "/reports/"+green+"/evidence/"+sum(amberEv.data))
	notFound(duty, "/reports/"+green+"/evidence/"+sum(redEv.data))
	notFound(duty, "/reports/"+green+"/evidence/xyz")

	// The green report's page and evidence, for lena.
	resp, page = lead.do("GET", "/reports/"+green, nil)
	for _, want := range []string{`<td>green capture.pcap</td>`, `<td>29.3 KiB</td>`, `<td>application/vnd.tcpdump.pcap</td>`,
		`<code class="hash">` + sum(greenEv.data) + `</code>`, `href="/reports/` + green + `/evidence/` + sum(greenEv.data) + `" download`,
		"A trojan on the operator&#39;s gateway beaconed for 30 hours.", `<code>192.0.2.10</code>`} {
		if !strings.Contains(page, want) {
			t.Errorf("lena's green report lacks %s", want)
		}
	}
	if resp.StatusCode != 200 || strings.Contains(page, "Only its named recipients") {
		t.Errorf("lena's green report: %d", resp.StatusCode)
	}
	resp, data := lead.do("GET", "/reports/"+green+"/evidence/"+sum(greenEv.data), nil)
	if resp.StatusCode != 200 || sum([]byte(data)) != sum(greenEv.data) || len(data) != len(greenEv.data) {
		t.Fatalf("download: %d, %d bytes hashing to %s", resp.StatusCode, len(data), sum([]byte(data)))
	}
	if cd := resp.Header.Get("Content-Disposition"); cd != `attachment; filename="green capture.pcap"` {
		t.Errorf("Content-Disposition %q", cd)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/octet-stream" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("Content-Type %q, nosniff %q", ct, resp.Header.Get("X-Content-Type-Options"))
	}
	// Without a session: to the login page, no bytes.
	anon := a.browser(t)
	if resp, body := anon.do("GET", "/reports/"+green+"/evidence/"+sum(greenEv.data), nil); resp.StatusCode != http.StatusSeeOther || strings.Contains(body, string(greenEv.data[:6])) {
		t.Errorf("download without a session: %d", resp.StatusCode)
	}

	// The red report reaches B; there only olga may read it (she is named
	// there too), and its evidence arrives.
	bBlobs, err := bn.srv.Node.Blobs()
	if err != nil {
		t.Fatal(err)
	}
	redSum, _ := blob.ParseSum(sum(redEv.data))
	uiWait(t, "B holds the red report and its evidence", func() bool {
		_, err := bn.srv.Workflow.Report(ctx, red)
		ok, _ := bBlobs.Has(redSum)
		return err == nil && ok
	})
	bLead := bn.browser(t)
	bLead.login("lena", "password-lena")
	notFound(bLead, "/reports/"+red)
	notFound(bLead, "/reports/"+red+"/evidence/"+sum(redEv.data))
	bDuty := bn.browser(t)
	bDuty.login("olga", "password-olga")
	resp, data = bDuty.do("GET", "/reports/"+red+"/evidence/"+sum(redEv.data), nil)
	if resp.StatusCode != 200 || data != string(redEv.data) {
		t.Errorf("olga's download of the red evidence on B: %d %q", resp.StatusCode, data)
	}
}

// An evidence file over the blob store's limit is refused beside the
// field with 413: no report, no log entry, and the file is not kept (a
// smaller file streamed in before it stays in the blob store, named by
// no log and no report, so never served). The node's store allows
// 4 GiB; this UI's store, 1 KiB.
func TestReportEvidenceTooLarge(t *testing.T) {
	ctx := context.Background()
	a, bn := uiStart(t, "party-a"), uiStart(t, "party-b")
	ch := uiShare(t, a, bn)
	small, err := blob.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	small.MaxSize = 1024
	ui, err := webui.New(webui.Config{Workflow: a.srv.Workflow, Store: a.srv.Node.Store, Blobs: small, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	session := benchSignIn(t, ui)
	serve := func(req *http.Request) *httptest.ResponseRecorder {
		for _, c := range session {
			req.AddCookie(c)
		}
		rec := httptest.NewRecorder()
		ui.ServeHTTP(rec, req)
		return rec
	}
	page := serve(httptest.NewRequest("GET", "https://node/reports/new", nil)).Body.String()
	if !strings.Contains(page, "Up to 1.0 KiB each") {
		t.Errorf("the form does not say the limit:\n%s", page)
	}
	before, err := a.srv.Node.Store.LogSize(ctx, ch)
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("csrf", csrfOf(t, page))
	for _, k := range []string{"channel", "title", "indicators", "sectors", "tlp", "severity"} {
		mw.WriteField(k, goodReport(ch, "")[k][0])
	}
	for _, f := range []upload{{"small.txt", "text/plain", []byte("fits\n")}, {"big.bin", "application/octet-stream", bytes.Repeat([]byte{7}, 1025)}} {
		w, err := mw.CreateFormFile("evidence", f.name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(f.data)
	}
	mw.Close()
	req := httptest.NewRequest("POST", "https://node/reports", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	rec := serve(req)
	if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), `id="report-evidence-error">A file is over the limit of 1.0 KiB.`) {
		t.Errorf("a file over the limit: %d\n%s", rec.Code, rec.Body.String())
	}
	rs, err := a.srv.Workflow.Reports(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	after, _ := a.srv.Node.Store.LogSize(ctx, ch)
	if len(rs) != 0 || after != before {
		t.Errorf("refused: %d reports, log %d → %d", len(rs), before, after)
	}
	kept, _ := small.List()
	if len(kept) != 1 || kept[0].Size != 5 {
		t.Errorf("blobs kept: %+v; want only the small file's", kept)
	}
}
