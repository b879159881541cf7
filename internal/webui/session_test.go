package webui

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/node"
	"github.com/parleyhq/parley/internal/workflow"
)

// A session ends at its expiry: the cookie no longer signs in, and the
// session is dropped from the map.
func TestSessionExpires(t *testing.T) {
	ctx := context.Background()
	n, _, err := node.Init(ctx, filepath.Join(t.TempDir(), "a"), node.InitOptions{Name: "party-a", Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	now := time.Date(2036, 1, 1, 8, 0, 0, 0, time.UTC)
	u, err := New(Config{Workflow: workflow.New(n.Store, "party-a", n.LogKey()), Store: n.Store, SessionTTL: time.Hour, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	id, _ := u.newSession(&dialogue.User{Name: "olga"})
	req := httptest.NewRequest("GET", "/inbox", nil)
	req.AddCookie(&http.Cookie{Name: u.cookieName(sessionCookie), Value: id})
	if _, s := u.session(req); s == nil || s.user != "olga" {
		t.Fatalf("live session: %v", s)
	}
	if _, s := u.session(withCookie(u.cookieName(sessionCookie), id+"x")); s != nil {
		t.Errorf("another id finds a session")
	}
	now = now.Add(time.Hour)
	if _, s := u.session(req); s != nil {
		t.Errorf("expired session still found")
	}
	if len(u.sessions) != 0 {
		t.Errorf("expired session kept: %d", len(u.sessions))
	}
	// An unknown session on a POST is refused; on a page, sent to sign in.
	w := httptest.NewRecorder()
	u.ServeHTTP(w, withCookie(u.cookieName(sessionCookie), id))
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/login" {
		t.Errorf("inbox with an expired session: %d %s", w.Code, w.Header().Get("Location"))
	}
	w = httptest.NewRecorder()
	post := httptest.NewRequest("POST", "/requests/x/acknowledge", strings.NewReader("csrf=abc"))
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	u.ServeHTTP(w, post)
	if w.Code != http.StatusForbidden {
		t.Errorf("POST without a session: %d", w.Code)
	}
}

func withCookie(name, value string) *http.Request {
	r := httptest.NewRequest("GET", "/inbox", nil)
	r.AddCookie(&http.Cookie{Name: name, Value: value})
	return r
}

// langOf picks en or ru whatever the headers say; the cookie wins over
// Accept-Language, and a bad cookie is ignored.
func TestLangOf(t *testing.T) {
	for _, c := range []struct{ accept, cookie, want string }{
		{"", "", "en"},
		{"ru", "", "ru"},
		{"ru-RU,ru;q=0.9,en-US;q=0.8", "", "ru"},
		{"de-DE,en;q=0.5", "", "en"},
		{"uk,ru;q=0.8", "", "ru"},
		{"ru", "en", "en"},
		{"en", "ru", "ru"},
		{"ru", "fr", "ru"},
		{"%%%;q=x", "", "en"},
	} {
		r := httptest.NewRequest("GET", "/login", nil)
		r.Header.Set("Accept-Language", c.accept)
		if c.cookie != "" {
			r.AddCookie(&http.Cookie{Name: langCookie, Value: c.cookie})
		}
		if got := newLocale(langOf(r)).code(); got != c.want {
			t.Errorf("Accept-Language %q, cookie %q: %s, want %s", c.accept, c.cookie, got, c.want)
		}
	}
}

func FuzzLangOf(f *testing.F) {
	for _, s := range []string{"", "ru", "en-GB,en;q=0.9", "ru-RU;q=0.5,*", "x-klingon;q=2"} {
		f.Add(s, "ru")
	}
	f.Fuzz(func(t *testing.T, accept, cookie string) {
		r := httptest.NewRequest("GET", "/login", nil)
		r.Header.Set("Accept-Language", accept)
		r.AddCookie(&http.Cookie{Name: langCookie, Value: cookie})
		if code := newLocale(langOf(r)).code(); code != "en" && code != "ru" {
			t.Fatalf("%q: %s", accept, code)
		}
	})
}
