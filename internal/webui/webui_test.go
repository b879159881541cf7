package webui_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/node"
	"github.com/parleyhq/parley/internal/peer"
	"github.com/parleyhq/parley/internal/server"
	"github.com/parleyhq/parley/internal/stix"
	"github.com/parleyhq/parley/internal/taxii"
	"github.com/parleyhq/parley/internal/workflow"
)

// uiNode is a node served over TLS with a duty officer (olga) and a lead
// (lena), each with the password "password-NAME".
type uiNode struct {
	name string
	srv  *server.Server
	pin  string
}

func uiStart(t testing.TB, name string) *uiNode {
	t.Helper()
	ctx := context.Background()
	n, created, err := node.Init(ctx, filepath.Join(t.TempDir(), name), node.InitOptions{Name: name, Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []struct {
		name string
		role dialogue.Role
	}{{"olga", dialogue.RoleDuty}, {"lena", dialogue.RoleLead}} {
		h, err := dialogue.HashPassword("password-" + u.name)
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Store.CreateUser(ctx, &dialogue.User{Name: u.name, Role: u.role, CreatedAt: time.Now()}, h); err != nil {
			t.Fatal(err)
		}
	}
	s, err := server.Start(ctx, n, server.Options{Addr: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Peer: peer.Config{PollInterval: 2 * time.Second, LocalInterval: 100 * time.Millisecond, MinBackoff: 50 * time.Millisecond, MaxBackoff: 500 * time.Millisecond, Timeout: 10 * time.Second}})
	if err != nil {
		n.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(5 * time.Second) })
	return &uiNode{name: name, srv: s, pin: created.Pin}
}

// browser is a client with a cookie jar that does not follow redirects,
// so that each response can be looked at.
type browser struct {
	t    testing.TB
	base string
	c    *http.Client
	lang string
}

func (n *uiNode) browser(t testing.TB) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: n.srv.URL, c: &http.Client{
		Transport:     &http.Transport{TLSClientConfig: taxii.ClientTLS(n.pin, false)},
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (b *browser) do(method, path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.base+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
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

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t testing.TB, page string) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token in the page:\n%s", page)
	}
	return m[1]
}

// login signs in and returns the inbox page.
func (b *browser) login(user, password string) (*http.Response, string) {
	b.t.Helper()
	_, page := b.do("GET", "/login", nil)
	return b.do("POST", "/login", url.Values{"csrf": {csrfOf(b.t, page)}, "name": {user}, "password": {password}})
}

func cookieNamed(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Signing in with the right password gives a session cookie (Secure,
// HttpOnly, SameSite=Strict) and the inbox; a wrong one, an unknown user
// or no CSRF token does not; every page carries the CSP and framing
// headers; signing out ends the session.
func TestLogin(t *testing.T) {
	a := uiStart(t, "party-a")
	b := a.browser(t)

	resp, _ := b.do("GET", "/inbox", nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
		t.Fatalf("inbox without a session: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, page := b.do("GET", "/login", nil)
	for h, want := range map[string]string{
		"Content-Security-Policy": "default-src 'self'; script-src 'self'",
		"X-Frame-Options":         "DENY",
		"X-Content-Type-Options":  "nosniff",
	} {
		if got := resp.Header.Get(h); !strings.Contains(got, want) {
			t.Errorf("%s: %q, want %q", h, got, want)
		}
	}
	if strings.Count(page, "<script") != strings.Count(page, `<script src="/assets/`) || strings.Contains(page, "style=") {
		t.Errorf("login page has inline script or style:\n%s", page)
	}
	if !strings.Contains(page, `<label for="login-name">User name</label>`) || !strings.Contains(page, `lang="en"`) {
		t.Errorf("login page:\n%s", page)
	}

	for _, c := range []struct {
		what, user, password string
		csrf                 bool
		want                 int
		text                 string
	}{
		{"wrong password", "olga", "password-lena", true, http.StatusUnauthorized, "Wrong user name or password."},
		{"unknown user", "nobody", "password-olga", true, http.StatusUnauthorized, "Wrong user name or password."},
		{"no password", "olga", "", true, http.StatusUnauthorized, "Wrong user name or password."},
		{"no CSRF token", "olga", "password-olga", false, http.StatusForbidden, "did not come from this site"},
	} {
		_, page := b.do("GET", "/login", nil)
		form := url.Values{"name": {c.user}, "password": {c.password}}
		if c.csrf {
			form.Set("csrf", csrfOf(t, page))
		}
		resp, body := b.do("POST", "/login", form)
		if resp.StatusCode != c.want || !strings.Contains(body, c.text) || cookieNamed(resp, "parley_session_party-a") != nil {
			t.Errorf("%s: %d, session cookie %v\n%s", c.what, resp.StatusCode, cookieNamed(resp, "parley_session_party-a"), body)
		}
	}

	resp, _ = b.login("olga", "password-olga")
	sc := cookieNamed(resp, "parley_session_party-a")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/inbox" || sc == nil {
		t.Fatalf("sign-in: %d %s %v", resp.StatusCode, resp.Header.Get("Location"), resp.Cookies())
	}
	if !sc.Secure || !sc.HttpOnly || sc.SameSite != http.SameSiteStrictMode || len(sc.Value) < 40 {
		t.Errorf("session cookie %+v: want Secure, HttpOnly, SameSite=Strict and a long random id", sc)
	}
	resp, page = b.do("GET", "/inbox", nil)
	if resp.StatusCode != 200 || !strings.Contains(page, "Signed in as olga (duty)") || !strings.Contains(page, "No incoming requests.") {
		t.Fatalf("inbox: %d\n%s", resp.StatusCode, page)
	}
	if resp.Header.Get("Content-Security-Policy") == "" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("inbox headers: %v", resp.Header)
	}
	resp, _ = b.do("GET", "/assets/style.css", nil)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") {
		t.Errorf("style sheet: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}

	// Sign out: refused without the token, done with it; the session is
	// gone on the server.
	if resp, _ := b.do("POST", "/logout", url.Values{}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("sign-out without token: %d", resp.StatusCode)
	}
	resp, _ = b.do("POST", "/logout", url.Values{"csrf": {csrfOf(t, page)}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("sign-out: %d", resp.StatusCode)
	}
	b.c.Jar.SetCookies(mustURL(t, b.base), []*http.Cookie{sc}) // the old cookie, replayed
	if resp, _ := b.do("GET", "/inbox", nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("inbox after sign-out with the old cookie: %d", resp.StatusCode)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// The language follows Accept-Language, the login page too, until the
// user picks one; dates follow it.
func TestLanguage(t *testing.T) {
	a := uiStart(t, "party-a")
	b := a.browser(t)
	b.lang = "ru-RU,ru;q=0.9,en;q=0.5"
	_, page := b.do("GET", "/login", nil)
	if !strings.Contains(page, `lang="ru"`) || !strings.Contains(page, "Имя пользователя") || !strings.Contains(page, "Пароль") || strings.Contains(page, "User name") {
		t.Fatalf("login page for ru:\n%s", page)
	}
	// Before sign-in, the login form's token lets the user pick a
	// language.
	other := a.browser(t)
	_, page = other.do("GET", "/login", nil)
	resp, _ := other.do("POST", "/lang", url.Values{"csrf": {csrfOf(t, page)}, "lang": {"ru"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
		t.Fatalf("picking Russian before sign-in: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, page := other.do("GET", "/login", nil); !strings.Contains(page, `lang="ru"`) {
		t.Errorf("login page after picking Russian, without Accept-Language:\n%s", page)
	}

	resp, page = b.login("lena", "password-lena")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d\n%s", resp.StatusCode, page)
	}
	_, page = b.do("GET", "/summary", nil)
	if !strings.Contains(page, "Сводка") || !strings.Contains(page, "Просроченного нет.") || !regexp.MustCompile(`По состоянию на \d+ (января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|ноября|декабря) \d{4} г\.`).MatchString(page) {
		t.Errorf("summary in ru:\n%s", page)
	}
	// The user picks English: it stays, whatever the browser asks.
	resp, _ = b.do("POST", "/lang", url.Values{"csrf": {csrfOf(t, page)}, "lang": {"en"}})
	if c := cookieNamed(resp, "parley_lang"); resp.StatusCode != http.StatusSeeOther || c == nil || c.Value != "en" || !c.Secure || !c.HttpOnly {
		t.Fatalf("picking English: %d %v", resp.StatusCode, resp.Cookies())
	}
	_, page = b.do("GET", "/summary", nil)
	if !strings.Contains(page, `lang="en"`) || !strings.Contains(page, "Nothing is overdue.") || strings.Contains(page, "Сводка") {
		t.Errorf("summary after picking English:\n%s", page)
	}
	if resp, _ := b.do("POST", "/lang", url.Values{"csrf": {"forged"}, "lang": {"ru"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("picking a language with a wrong token: %d", resp.StatusCode)
	}
}

func uiBundle(t testing.TB) []byte {
	objs, err := stix.SampleIncident(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]any{"type": "bundle", "id": stix.NewID("bundle"), "objects": objs})
	return b
}

// uiShare pins the two nodes on each other and makes the channel "a-b".
func uiShare(t testing.TB, a, b *uiNode) string {
	t.Helper()
	ctx := context.Background()
	for _, p := range [][2]*uiNode{{a, b}, {b, a}} {
		pe, err := peer.NewPeer(p[1].name, p[1].srv.URL, p[1].srv.Pin, p[1].srv.Node.LogKey(), "")
		if err != nil {
			t.Fatal(err)
		}
		pe.CreatedAt = time.Now()
		if err := p[0].srv.Node.Store.AddPeer(ctx, pe); err != nil {
			t.Fatal(err)
		}
	}
	ch := &dialogue.Channel{Title: "a-b", Peer: b.name, State: dialogue.ChannelProposed, CreatedAt: time.Now()}
	if err := a.srv.Node.Store.ProposeChannel(ctx, ch); err != nil {
		t.Fatal(err)
	}
	uiWait(t, "b is offered the channel", func() bool {
		c, err := b.srv.Node.Store.Channel(ctx, ch.ID)
		return err == nil && c.State == dialogue.ChannelOffered
	})
	if _, err := b.srv.Node.Store.AcceptChannel(ctx, ch.ID, "", time.Now()); err != nil {
		t.Fatal(err)
	}
	uiWait(t, "a sees the channel accepted", func() bool {
		c, err := a.srv.Node.Store.Channel(ctx, ch.ID)
		return err == nil && c.State == dialogue.ChannelActive
	})
	return ch.ID
}

func uiWait(t testing.TB, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("not yet: %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A request and a hotline message A sends show in B's inbox with their
// deadlines; B's duty officer acknowledges both from there, and A sees
// them acknowledged. A lead may not; a form without the session's token
// is refused and changes nothing; acknowledging twice shows the refusal.
func TestInboxAcknowledge(t *testing.T) {
	ctx := context.Background()
	a, bn := uiStart(t, "party-a"), uiStart(t, "party-b")
	uiShare(t, a, bn)
	report, err := a.srv.Workflow.FileReport(ctx, "a-b", uiBundle(t), "green", []string{"energy"}, 3)
	if err != nil {
		t.Fatal(err)
	}
	// An AMBER report: the summary does not count it.
	if _, err := a.srv.Workflow.FileReport(ctx, "a-b", uiBundle(t), "amber", []string{"energy"}, 3); err != nil {
		t.Fatal(err)
	}
	id, err := a.srv.Workflow.FileRequest(ctx, workflow.RequestFiling{Channel: "a-b", About: []string{report}, Text: "Please take down the C2 server."})
	if err != nil {
		t.Fatal(err)
	}
	h, err := a.srv.Workflow.SendHotline(ctx, workflow.HotlineInput{Channel: "a-b", Text: "Call us about the outage."})
	if err != nil {
		t.Fatal(err)
	}
	uiWait(t, "b has the request and the hotline message", func() bool {
		_, err1 := bn.srv.Workflow.Request(ctx, id)
		hs, err2 := bn.srv.Workflow.ListHotline(ctx, "a-b")
		rs, err3 := bn.srv.Workflow.Reports(ctx, "a-b")
		return err1 == nil && err2 == nil && err3 == nil && len(hs) == 1 && len(rs) == 2
	})
	state := func(n *uiNode) dialogue.RequestState {
		r, err := n.srv.Workflow.Request(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return r.State
	}

	// The lead sees the inbox but no form, and is refused.
	lead := bn.browser(t)
	lead.login("lena", "password-lena")
	_, page := lead.do("GET", "/inbox", nil)
	if !strings.Contains(page, "Please take down the C2 server.") || strings.Contains(page, "/requests/"+id+"/acknowledge") {
		t.Errorf("lead's inbox:\n%s", page)
	}
	resp, body := lead.do("POST", "/requests/"+id+"/acknowledge", url.Values{"csrf": {csrfOf(t, page)}})
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "Your role may only read") || state(bn) != dialogue.RequestSubmitted {
		t.Errorf("lead acknowledging: %d, %s\n%s", resp.StatusCode, state(bn), body)
	}

	duty := bn.browser(t)
	duty.login("olga", "password-olga")
	_, page = duty.do("GET", "/inbox", nil)
	for _, want := range []string{
		`<form method="post" action="/requests/` + id + `/acknowledge" hx-post=`,
		`<label for="ack-text-` + id + `">Note (optional)</label>`,
		"Please take down the C2 server.", "party-a", "Call us about the outage.",
		`action="/hotline/` + h.ID + `/acknowledge"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("duty's inbox lacks %q", want)
		}
	}
	if !regexp.MustCompile(`in 2[0-9] h \d+ min`).MatchString(page) || strings.Contains(page, `class="overdue"`) {
		t.Errorf("inbox: no countdown of about a day, or something marked overdue:\n%s", page)
	}
	token := csrfOf(t, page)
	forged := "x" + token[1:]
	if token[0] == 'x' {
		forged = "y" + token[1:]
	}

	// Without the token, or with another one: refused, nothing changes.
	for _, form := range []url.Values{{}, {"csrf": {forged}}, {"csrf": {csrfOf(t, body)}}} {
		resp, _ := duty.do("POST", "/requests/"+id+"/acknowledge", form)
		if resp.StatusCode != http.StatusForbidden || state(bn) != dialogue.RequestSubmitted {
			t.Errorf("acknowledging with csrf %q: %d, %s", form.Get("csrf"), resp.StatusCode, state(bn))
		}
	}

	resp, body = duty.do("POST", "/requests/"+id+"/acknowledge", url.Values{"csrf": {token}, "text": {"On it."}})
	if resp.StatusCode != http.StatusSeeOther || state(bn) != dialogue.RequestAcknowledged {
		t.Fatalf("acknowledging: %d, %s\n%s", resp.StatusCode, state(bn), body)
	}
	uiWait(t, "a sees the request acknowledged", func() bool { return state(a) == dialogue.RequestAcknowledged })

	resp, body = duty.do("POST", "/requests/"+id+"/acknowledge", url.Values{"csrf": {token}})
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "The request could not be acknowledged:") || !strings.Contains(body, `role="alert"`) {
		t.Errorf("acknowledging twice: %d\n%s", resp.StatusCode, body)
	}

	resp, body = duty.do("POST", "/hotline/"+h.ID+"/acknowledge", url.Values{"csrf": {token}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("acknowledging the hotline message: %d\n%s", resp.StatusCode, body)
	}
	uiWait(t, "a sees the hotline message acknowledged by olga", func() bool {
		hs, err := a.srv.Workflow.ListHotline(ctx, "a-b")
		return err == nil && len(hs) == 1 && hs[0].State == workflow.HotlineAcknowledged && strings.Contains(hs[0].AcknowledgedBy, "olga")
	})
	_, page = lead.do("GET", "/summary", nil)
	for _, re := range []string{`Requests</th><td>1</td>`, `submitted</th><td>0</td>`, `acknowledged</th><td>1</td>`, `Incident reports \(TLP:CLEAR and TLP:GREEN\)</th><td>1</td>`, `Hotline messages not acknowledged</th><td>0</td>`} {
		if !regexp.MustCompile(re).MatchString(page) {
			t.Errorf("lead's summary does not match %s:\n%s", re, page)
		}
	}
	_, page = duty.do("GET", "/inbox", nil)
	if !strings.Contains(page, "Acknowledged by olga") || strings.Contains(page, `action="/hotline/`+h.ID+`/acknowledge"`) {
		t.Errorf("inbox after acknowledging:\n%s", page)
	}
}
