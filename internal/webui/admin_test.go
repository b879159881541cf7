package webui_test

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/sqlite"
	"github.com/parleyhq/parley/internal/taxii"
)

// A new password, disabling, deleting a user and revoking a token take
// effect at the next request, though another process makes the change (a
// second store on the same database file, as the CLI is): for web
// sessions, remembered Basic checks and bearer tokens.
func TestAdministrationAtOnce(t *testing.T) {
	ctx := context.Background()
	a := uiStart(t, "party-a")
	other, err := sqlite.Open(ctx, filepath.Join(a.srv.Node.Dir, "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: taxii.ClientTLS(a.pin, false)}}
	api := func(auth func(*http.Request)) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", a.srv.URL+"/api/reports", nil)
		auth(req)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(data)
	}
	basic := func(user, pw string) func(*http.Request) {
		return func(r *http.Request) { r.SetBasicAuth(user, pw) }
	}
	bearer := func(tok string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
	}
	page := func(b *browser) int {
		t.Helper()
		resp, _ := b.do("GET", "/inbox", nil)
		return resp.StatusCode
	}

	olga := a.browser(t)
	if resp, _ := olga.login("olga", "password-olga"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/inbox" {
		t.Fatalf("sign-in: %d", resp.StatusCode)
	}
	for range 2 { // the second is a remembered check
		if st, msg := api(basic("olga", "password-olga")); st != http.StatusOK {
			t.Fatalf("Basic: %d %s", st, msg)
		}
	}
	if page(olga) != http.StatusOK {
		t.Fatal("the inbox before any change")
	}

	// A new password: the old one and the session end.
	h, err := dialogue.HashPassword("new-password-olga")
	if err != nil {
		t.Fatal(err)
	}
	if err := other.SetPassword(ctx, "olga", h); err != nil {
		t.Fatal(err)
	}
	if st, msg := api(basic("olga", "password-olga")); st != http.StatusUnauthorized {
		t.Errorf("Basic with the old password after a new one: %d %s", st, msg)
	}
	if st := page(olga); st != http.StatusSeeOther {
		t.Errorf("the session after a new password: %d, want 303 to /login", st)
	}
	if st, msg := api(basic("olga", "new-password-olga")); st != http.StatusOK {
		t.Errorf("Basic with the new password: %d %s", st, msg)
	}
	if resp, _ := olga.login("olga", "new-password-olga"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in with the new password: %d", resp.StatusCode)
	}

	// Disabled: the remembered check, the session and the sign-in end.
	if err := other.SetUserDisabled(ctx, "olga", true, time.Now()); err != nil {
		t.Fatal(err)
	}
	if st, msg := api(basic("olga", "new-password-olga")); st != http.StatusUnauthorized || !strings.Contains(msg, "disabled") {
		t.Errorf("Basic of a disabled user: %d %s", st, msg)
	}
	if st := page(olga); st != http.StatusSeeOther {
		t.Errorf("the session of a disabled user: %d, want 303 to /login", st)
	}
	if resp, body := olga.login("olga", "new-password-olga"); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "This user is disabled") {
		t.Errorf("sign-in of a disabled user: %d", resp.StatusCode)
	}
	if err := other.SetUserDisabled(ctx, "olga", false, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if st, msg := api(basic("olga", "new-password-olga")); st != http.StatusOK {
		t.Errorf("Basic after enabling: %d %s", st, msg)
	}

	// Tokens: revoked, and a disabled or deleted user's.
	tok1, tok2 := "token-one-of-lena-0123456789", "token-two-of-lena-0123456789"
	for _, tok := range []string{tok1, tok2} {
		if err := other.CreateToken(ctx, "lena", dialogue.HashToken(tok), ""); err != nil {
			t.Fatal(err)
		}
		if st, msg := api(bearer(tok)); st != http.StatusOK {
			t.Fatalf("Bearer: %d %s", st, msg)
		}
	}
	toks, err := other.Tokens(ctx, "lena")
	if err != nil || len(toks) != 2 {
		t.Fatalf("lena's tokens: %v %v", toks, err)
	}
	if _, err := other.RevokeToken(ctx, toks[0].ID); err != nil {
		t.Fatal(err)
	}
	if st, msg := api(bearer(tok1)); st != http.StatusUnauthorized {
		t.Errorf("a revoked token: %d %s", st, msg)
	}
	if st, msg := api(bearer(tok2)); st != http.StatusOK {
		t.Errorf("the token not revoked: %d %s", st, msg)
	}
	if err := other.SetUserDisabled(ctx, "lena", true, time.Now()); err != nil {
		t.Fatal(err)
	}
	if st, msg := api(bearer(tok2)); st != http.StatusUnauthorized || !strings.Contains(msg, "disabled") {
		t.Errorf("a disabled user's token: %d %s", st, msg)
	}
	if err := other.SetUserDisabled(ctx, "lena", false, time.Time{}); err != nil {
		t.Fatal(err)
	}
	lena := a.browser(t)
	if resp, _ := lena.login("lena", "password-lena"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("lena's sign-in: %d", resp.StatusCode)
	}
	if err := other.DeleteUser(ctx, "lena"); err != nil {
		t.Fatal(err)
	}
	if st, msg := api(bearer(tok2)); st != http.StatusUnauthorized {
		t.Errorf("a deleted user's token: %d %s", st, msg)
	}
	if st := page(lena); st != http.StatusSeeOther {
		t.Errorf("a deleted user's session: %d, want 303 to /login", st)
	}
	// Made again with the same name and password, it is another user: the
	// old session does not come back.
	h, _ = dialogue.HashPassword("password-lena")
	if err := other.CreateUser(ctx, &dialogue.User{Name: "lena", Role: dialogue.RoleLead}, h); err != nil {
		t.Fatal(err)
	}
	if st := page(lena); st != http.StatusSeeOther {
		t.Errorf("the session of a user deleted and made again: %d, want 303", st)
	}
}
