package webui

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/node"
	"github.com/parleyhq/parley/internal/throttle"
	"github.com/parleyhq/parley/internal/workflow"
)

// After MaxFailures wrong passwords for a name, even the right password
// is refused (429, Retry-After, no session, no password check) until the
// lock ends; the next lock is twice as long. Another address guessing
// other names is locked by its address. A success clears the name.
func TestSignInThrottle(t *testing.T) {
	ctx := context.Background()
	n, _, err := node.Init(ctx, filepath.Join(t.TempDir(), "a"), node.InitOptions{Name: "party-a", Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	h, err := dialogue.HashPassword("password-olga")
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Store.CreateUser(ctx, &dialogue.User{Name: "olga", Role: dialogue.RoleDuty, CreatedAt: time.Now()}, h); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2036, 1, 1, 8, 0, 0, 0, time.UTC)
	u, err := New(Config{Workflow: workflow.New(n.Store, "party-a", n.LogKey()), Store: n.Store, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	token := regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	signIn := func(addr, name, password string) *httptest.ResponseRecorder {
		t.Helper()
		w := httptest.NewRecorder()
		u.ServeHTTP(w, httptest.NewRequest("GET", "/login", nil))
		csrf := token.FindStringSubmatch(w.Body.String())[1]
		form := url.Values{"csrf": {csrf}, "name": {name}, "password": {password}}
		req := httptest.NewRequest("POST", "/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.RemoteAddr = addr + ":40000"
		req.AddCookie(&http.Cookie{Name: u.cookieName(loginCookie), Value: csrf})
		w = httptest.NewRecorder()
		u.ServeHTTP(w, req)
		return w
	}
	session := func(w *httptest.ResponseRecorder) bool {
		for _, c := range w.Result().Cookies() {
			if c.Name == u.cookieName(sessionCookie) && c.Value != "" {
				return w.Code == http.StatusSeeOther
			}
		}
		return false
	}

	for i := range throttle.MaxFailures {
		if w := signIn("192.0.2.1", "olga", "wrong"); w.Code != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i+1, w.Code)
		}
	}
	w := signIn("192.0.2.9", "Olga", "password-olga") // another address, the name in other case
	if w.Code != http.StatusTooManyRequests || session(w) || w.Header().Get("Retry-After") != "61" ||
		!strings.Contains(w.Body.String(), "Too many failed sign-ins. Try again after 1 January 2036, 08:01 UTC.") {
		t.Fatalf("locked name: %d %v %q\n%s", w.Code, w.Header(), w.Header().Get("Retry-After"), w.Body)
	}
	now = now.Add(throttle.LockMin)
	if w := signIn("192.0.2.9", "olga", "password-olga"); !session(w) {
		t.Fatalf("after the lock: %d\n%s", w.Code, w.Body)
	}
	// The success cleared the name, not the first address's lock history;
	// five more failures from the first address lock it for 2 minutes
	// (its second lock) whatever the name.
	for i := range throttle.MaxFailures {
		if w := signIn("192.0.2.1", "guess"+string(rune('a'+i)), "wrong"); w.Code != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d", i, w.Code)
		}
	}
	if w := signIn("192.0.2.1", "olga", "password-olga"); w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "121" {
		t.Fatalf("locked address: %d %q", w.Code, w.Header().Get("Retry-After"))
	}
	if w := signIn("192.0.2.2", "olga", "password-olga"); !session(w) {
		t.Errorf("another address is not locked: %d", w.Code)
	}
	// Failures spread over more than the window never lock.
	for i := range 2 * throttle.MaxFailures {
		now = now.Add(throttle.FailureWindow/time.Duration(throttle.MaxFailures-1) + time.Second)
		if w := signIn("192.0.2.3", "olga", "wrong"); w.Code != http.StatusUnauthorized {
			t.Fatalf("slow failure %d: %d", i, w.Code)
		}
	}
}
