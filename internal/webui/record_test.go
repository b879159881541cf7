package webui_test

import (
	"context"
	"database/sql"
	"encoding/base64"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/server"
	"github.com/parleyhq/parley/internal/tlog"
	"github.com/parleyhq/parley/internal/webui"
)

// uiAddUser adds a user with the role to the node; the password is
// "password-NAME".
func uiAddUser(t testing.TB, n *uiNode, name string, role dialogue.Role) {
	t.Helper()
	h, err := dialogue.HashPassword("password-" + name)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.srv.Node.Store.CreateUser(context.Background(), &dialogue.User{Name: name, Role: role, CreatedAt: time.Now()}, h); err != nil {
		t.Fatal(err)
	}
}

// recordSynced waits until b has cosigned all of a's log of the channel
// and a has stored that cosignature; it returns the size and root
// (base64) of a's log.
func recordSynced(t *testing.T, a, b *uiNode, ch string) (int64, string) {
	t.Helper()
	ctx := context.Background()
	var size int64
	var root [32]byte
	uiWait(t, b.name+" cosigned all of "+a.name+"'s log", func() bool {
		n, err := a.srv.Node.Store.LogSize(ctx, ch)
		if err != nil || n == 0 {
			return false
		}
		cosigned, err := a.srv.Node.Store.Cosigned(ctx, b.name, ch)
		if err != nil || cosigned != n {
			return false
		}
		cp, err := a.srv.Node.Store.LatestCheckpoint(ctx, ch)
		if err != nil || cp.Size != n || !strings.Contains(string(cp.Note), "— "+b.name+" ") {
			return false
		}
		origin, _ := tlog.Origin(a.name, ch)
		got, r, err := b.srv.Node.Store.WitnessLatest(ctx, origin)
		size, root = n, r
		return err == nil && got == n && r == cp.Root
	})
	return size, base64.StdEncoding.EncodeToString(root[:])
}

// tamperEntry flips a byte in the stored bytes of the newest object of
// node n's store, in the SQLite file itself: the log entry of that object
// no longer matches its stored leaf hash.
func tamperEntry(t *testing.T, n *uiNode) {
	t.Helper()
	db, err := sql.Open("sqlite", n.srv.Node.Store.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var seq int64
	var raw []byte
	if err := db.QueryRow(`SELECT seq, raw FROM objects ORDER BY seq DESC LIMIT 1`).Scan(&seq, &raw); err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(raw), `"id"`) // inside the JSON: a letter of the key
	raw[i+1] ^= 0x20
	if _, err := db.Exec(`PRAGMA busy_timeout = 5000`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE objects SET raw = ? WHERE seq = ?`, raw, seq); err != nil {
		t.Fatal(err)
	}
}

// The record page of A shows its log of the channel with B's
// cosignature, B's shows A's log as received with the same root; the
// peers' table says both are up to date; the history pages; verify
// answers OK (plain form and htmx), and names the broken entry once the
// store is tampered with.
func TestRecordPage(t *testing.T) {
	ctx := context.Background()
	a, bn := uiStart(t, "party-a"), uiStart(t, "party-b")
	ch := uiShare(t, a, bn)
	for range 3 {
		if _, err := a.srv.Workflow.FileReport(ctx, "a-b", uiBundle(t), "green", []string{"energy"}, 3); err != nil {
			t.Fatal(err)
		}
	}
	size, root := recordSynced(t, a, bn, ch)

	ba := a.browser(t)
	ba.login("lena", "password-lena") // a lead may read the record
	resp, page := ba.do("GET", "/record", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("record: %d\n%s", resp.StatusCode, page)
	}
	own := section(t, page, `<div class="record-log own-log">`, `</div>`)
	for _, want := range []string{
		"party-a/parley/" + ch,
		`<dd class="size">` + itoa(size) + `</dd>`,
		`<code>` + root + `</code>`,
		`<span class="cosignature">party-b, `,
		"— party-a ", "— party-b ", // the signed note's lines
		`href="/record/` + ch + `/checkpoints"`,
	} {
		if !strings.Contains(own, want) {
			t.Errorf("A's own log lacks %q:\n%s", want, own)
		}
	}
	if !regexp.MustCompile(`party-b, \d+ \w+ 20\d\d, \d\d:\d\d UTC`).MatchString(own) {
		t.Errorf("B's cosignature has no date (cosignature/v1 timestamp):\n%s", own)
	}
	peers := section(t, page, `<table class="record-peers">`, `</table>`)
	if !strings.Contains(peers, "party-b") || !strings.Contains(peers, "up to date") || !strings.Contains(peers, " ago") || strings.Contains(peers, "never") {
		t.Errorf("A's peers table:\n%s", peers)
	}
	if strings.Contains(page, "style=") || strings.Count(page, "<script") != strings.Count(page, `<script src="/assets/`) {
		t.Errorf("inline style or script on the record page")
	}

	bb := bn.browser(t)
	bb.login("olga", "password-olga")
	_, page = bb.do("GET", "/record", nil)
	rcv := section(t, page, `<div class="record-log received-log">`, `</div>`)
	for _, want := range []string{"party-a's log, as received", "party-a/parley/" + ch, `<dd class="size">` + itoa(size) + `</dd>`, `<code>` + root + `</code>`, "Cosigned here at", `<span class="cosignature">party-b, `, "— party-a "} {
		if !strings.Contains(rcv, want) {
			t.Errorf("B's copy of A's log lacks %q:\n%s", want, rcv)
		}
	}

	// The history: newest first; bad page numbers, unknown channels.
	_, page = ba.do("GET", "/record/"+ch+"/checkpoints", nil)
	hist := section(t, page, `<table class="record-history">`, `</table>`)
	if !strings.Contains(html.UnescapeString(page), "checkpoints of this node's log in all") || !strings.Contains(hist, `<th scope="row">`+itoa(size)+`</th>`) {
		t.Errorf("history page:\n%s", page)
	}
	if i, j := strings.Index(hist, `<th scope="row">`+itoa(size)+`</th>`), strings.Index(hist, `<th scope="row">1</th>`); i < 0 || i > j && j >= 0 {
		t.Errorf("history not newest first:\n%s", hist)
	}
	for _, c := range []struct {
		path, what string
		status     int
		text       string
	}{
		{"/record/" + ch + "/checkpoints?page=abc", "a page that is no number: the first", 200, "Page 1:"},
		{"/record/" + ch + "/checkpoints?page=-3", "a negative page: the first", 200, "Page 1:"},
		{"/record/" + ch + "/checkpoints?page=99999", "a page beyond the last: sent to the last", http.StatusSeeOther, ""},
		{"/record/no-such-channel/checkpoints", "an unknown channel", http.StatusNotFound, "Page not found."},
		{"/record/" + strings.Repeat("x", 300) + "/checkpoints", "a very long id", http.StatusNotFound, "Page not found."},
	} {
		resp, body := ba.do("GET", c.path, nil)
		if resp.StatusCode != c.status || !strings.Contains(body, c.text) {
			t.Errorf("%s (%s): %d\n%s", c.what, c.path, resp.StatusCode, body)
		}
		if c.status == http.StatusSeeOther && resp.Header.Get("Location") != "/record/"+ch+"/checkpoints?page=1" {
			t.Errorf("%s: sent to %q", c.what, resp.Header.Get("Location"))
		}
	}

	// Verify: for an admin only. The lead's page has no button but says
	// so, and the lead's POST is refused (403; in #flash for htmx).
	_, page = ba.do("GET", "/record", nil)
	if strings.Contains(page, `id="verify-button"`) || !strings.Contains(page, "Only an administrator may verify the logs in full") {
		t.Errorf("the lead's record page offers the verification:\n%s", section(t, page, `<section aria-labelledby="verify-h">`, `</section>`))
	}
	leadToken := csrfOf(t, page)
	if resp, body := ba.do("POST", "/record/verify", url.Values{"csrf": {leadToken}}); resp.StatusCode != http.StatusForbidden ||
		!strings.Contains(body, "Only an administrator may verify the logs in full") || strings.Contains(body, "every log holds") {
		t.Errorf("the lead's verification: %d\n%s", resp.StatusCode, body)
	}
	uiAddUser(t, a, "ada", dialogue.RoleAdmin)
	for _, who := range []string{"olga", "lena"} {
		other := a.browser(t)
		other.login(who, "password-"+who)
		_, page := other.do("GET", "/record", nil)
		req, _ := http.NewRequest("POST", a.srv.URL+"/record/verify", strings.NewReader(url.Values{"csrf": {csrfOf(t, page)}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("HX-Request", "true")
		resp, err := other.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || resp.Header.Get("HX-Retarget") != "#flash" || !strings.Contains(string(body), "Only an administrator") {
			t.Errorf("%s's verification (htmx): %d %v\n%s", who, resp.StatusCode, resp.Header, body)
		}
	}
	// The admin: refused without the token; OK as a plain form and with htmx.
	ba = a.browser(t)
	ba.login("ada", "password-ada")
	_, page = ba.do("GET", "/record", nil)
	token := csrfOf(t, page)
	if resp, _ := ba.do("POST", "/record/verify", url.Values{}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("verify without the token: %d", resp.StatusCode)
	}
	resp, page = ba.do("POST", "/record/verify", url.Values{"csrf": {token}})
	result := section(t, page, `<div id="verify-result"`, `</table>`)
	if resp.StatusCode != 200 || !strings.Contains(result, "OK: every log holds.") || !strings.Contains(result, `<code>`+root+`</code>`) || !strings.Contains(result, "party-b") || strings.Contains(result, "FAILED") {
		t.Errorf("verify (plain form): %d\n%s", resp.StatusCode, result)
	}
	frag := htmxPost(t, ba, "/record/verify", token)
	if strings.Contains(frag, "<html") || !strings.Contains(frag, "OK: every log holds.") {
		t.Errorf("verify (htmx) answered:\n%s", frag)
	}

	// An alarm about B shows in its row.
	if err := a.srv.Node.Store.RaiseAlarm(ctx, "party-b", dialogue.AlarmFork, "its checkpoint at size 9 differs from the one cosigned here", time.Now()); err != nil {
		t.Fatal(err)
	}
	_, page = ba.do("GET", "/record", nil)
	if row := section(t, page, `<tr id="peer-party-b"`, `</tr>`); !strings.Contains(row, `class="alarm"`) || !regexp.MustCompile(`<strong>FORK</strong> since \d+ \w+ 20\d\d, \d\d:\d\d UTC<br>its checkpoint at size 9 differs`).MatchString(row) {
		t.Errorf("B's row with an alarm:\n%s", row)
	}

	tamperEntry(t, a)
	frag = htmxPost(t, ba, "/record/verify", token)
	if !strings.Contains(frag, "FAILED: a log does not verify.") || !regexp.MustCompile(`<strong>FAILED</strong>: entry \d+: leaf hash differs from the stored hash`).MatchString(frag) {
		t.Errorf("verify of a tampered store answered:\n%s", frag)
	}
}

func htmxPost(t *testing.T, b *browser, path, token string) string {
	t.Helper()
	req, err := http.NewRequest("POST", b.base+path, strings.NewReader(url.Values{"csrf": {token}}.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("htmx POST %s: %d\n%s", path, resp.StatusCode, body)
	}
	return string(body)
}

// section is the part of page from the first start to the next end
// after it, with the HTML character references decoded.
func section(t *testing.T, page, start, end string) string {
	t.Helper()
	page = html.UnescapeString(page)
	i := strings.Index(page, start)
	if i < 0 {
		t.Fatalf("no %q in the page:\n%s", start, page)
	}
	j := strings.Index(page[i:], end)
	if j < 0 {
		return page[i:]
	}
	return page[i : i+j+len(end)]
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// slowRecord is the node's record whose Verify waits to be released (or
// answers the context's deadline at once when deadline is set).
type slowRecord struct {
	webui.Record
	started  chan struct{}
	release  chan struct{}
	deadline bool

	mu  sync.Mutex
	got time.Duration // the time left on Verify's context
}

func (s *slowRecord) Verify(ctx context.Context) ([]*webui.LogCheck, error) {
	d, ok := ctx.Deadline()
	s.mu.Lock()
	if ok {
		s.got = time.Until(d)
	}
	s.mu.Unlock()
	if s.deadline {
		return []*webui.LogCheck{{Collection: "c1", Title: "first"}}, context.DeadlineExceeded
	}
	s.started <- struct{}{}
	<-s.release
	return s.Record.Verify(ctx)
}

// One verification at a time per node: a second one while the first
// runs is refused (409, said in #flash for htmx), other pages answer
// meanwhile; a verification that runs out of time says so.
func TestRecordVerifyOneAtATime(t *testing.T) {
	a := uiStart(t, "party-a")
	slow := &slowRecord{Record: server.NewRecord(a.srv.Node), started: make(chan struct{}), release: make(chan struct{})}
	ui, err := webui.New(webui.Config{Workflow: a.srv.Workflow, Store: a.srv.Node.Store, Record: slow, InsecureCookies: true,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(ui)
	defer srv.Close()
	uiAddUser(t, a, "ada", dialogue.RoleAdmin)
	b := a.browser(t)
	b.base = srv.URL
	b.c.Transport = http.DefaultTransport
	b.login("ada", "password-ada")
	_, page := b.do("GET", "/record", nil)
	token := csrfOf(t, page)

	var wg sync.WaitGroup
	var first string
	var firstStatus int
	wg.Add(1)
	go func() {
		defer wg.Done()
		resp, body := b.do("POST", "/record/verify", url.Values{"csrf": {token}})
		firstStatus, first = resp.StatusCode, body
	}()
	<-slow.started
	resp, body := b.do("POST", "/record/verify", url.Values{"csrf": {token}})
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "A verification of this node&#39;s logs is running already") {
		t.Errorf("second verification while one runs: %d\n%s", resp.StatusCode, body)
	}
	req, _ := http.NewRequest("POST", srv.URL+"/record/verify", strings.NewReader(url.Values{"csrf": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	hresp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	hbody, _ := io.ReadAll(hresp.Body)
	hresp.Body.Close()
	if hresp.StatusCode != http.StatusConflict || hresp.Header.Get("HX-Retarget") != "#flash" || !strings.Contains(string(hbody), "running already") {
		t.Errorf("second verification (htmx): %d %v\n%s", hresp.StatusCode, hresp.Header, hbody)
	}
	if resp, _ := b.do("GET", "/record", nil); resp.StatusCode != 200 {
		t.Errorf("the record page while a verification runs: %d", resp.StatusCode)
	}
	close(slow.release)
	wg.Wait()
	if firstStatus != 200 || !strings.Contains(first, "OK: every log holds.") {
		t.Errorf("first verification: %d\n%s", firstStatus, first)
	}
	if slow.got <= 0 || slow.got > webui.VerifyTimeout {
		t.Errorf("Verify ran with %v left, want a deadline within %v", slow.got, webui.VerifyTimeout)
	}
	// Done: another may run.
	slow.deadline = true
	resp, body = b.do("POST", "/record/verify", url.Values{"csrf": {token}})
	if resp.StatusCode != 200 || !strings.Contains(body, "The verification took longer than 2 min and was stopped.") || !strings.Contains(body, "FAILED: a log does not verify.") {
		t.Errorf("a verification out of time: %d\n%s", resp.StatusCode, body)
	}
}

// The record page and the verification's result read in Russian.
func TestRecordRussian(t *testing.T) {
	a := uiStart(t, "party-a")
	uiAddUser(t, a, "ada", dialogue.RoleAdmin)
	b := a.browser(t)
	b.lang = "ru"
	b.login("ada", "password-ada")
	_, page := b.do("GET", "/record", nil)
	for _, want := range []string{"<h1>Журнал</h1>", "Проверить журналы", "Узлов других сторон нет.", "Ни у одного канала пока нет журнала."} {
		if !strings.Contains(page, want) {
			t.Errorf("record page in Russian lacks %q", want)
		}
	}
	_, page = b.do("POST", "/record/verify", url.Values{"csrf": {csrfOf(t, page)}})
	if !strings.Contains(page, "OK: все журналы целостны.") || !regexp.MustCompile(`Проверено \d+ [а-я]+ \d{4} г\., \d\d:\d\d UTC за \d+\.\d\d с\.`).MatchString(page) {
		t.Errorf("verification in Russian:\n%s", section(t, page, `<div id="verify-result"`, `</section>`))
	}
}
