package api_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
)

// TestReportsAPITLP: over HTTPS, GET /reports and GET /reports/{id} answer
// each user exactly what the markings allow, for every TLP level and RED
// with and without the user named (by name or by role); a hidden report
// is 404 as an unknown one. Refused recipients are 400 naming the field.
func TestReportsAPITLP(t *testing.T) {
	a := reqAPINode(t)
	ctx := context.Background()
	for _, u := range []struct {
		name string
		role dialogue.Role
	}{{"dan", dialogue.RoleDuty}, {"adm", dialogue.RoleAdmin}} {
		h, err := dialogue.HashPassword("secret-pass-" + u.name)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.srv.Node.Store.CreateUser(ctx, &dialogue.User{Name: u.name, Role: u.role, CreatedAt: time.Now()}, h); err != nil {
			t.Fatal(err)
		}
	}
	file := func(tlp string, recipients ...string) string {
		t.Helper()
		body := map[string]any{"channel": "a-b", "bundle": apiBundle(t), "tlp": tlp, "sectors": []string{"energy"}, "severity": 3}
		if recipients != nil {
			body["recipients"] = recipients
		}
		var created struct{ ID string }
		if st, msg := a.do(t, "ana", "POST", "/reports", body, &created); st != http.StatusCreated {
			t.Fatalf("POST /reports %s %q: %d %s", tlp, recipients, st, msg)
		}
		return created.ID
	}
	clear, green, amber, strict := file("clear"), file("green"), file("amber"), file("amber+strict")
	redLeads, redDan, redAna := file("red", "role:lead"), file("red", "dan"), file("red", "ana", "role:admin")
	all := []string{clear, green, amber, strict, redLeads, redDan, redAna}
	sees := map[string][]string{
		"ana": {clear, green, amber, strict, redAna},   // expert, named
		"lea": {clear, green, amber, strict, redLeads}, // lead, by role
		"dan": {clear, green, amber, strict, redDan},   // duty, named
		"adm": {clear, green, amber, strict, redAna},   // admin, by role
	}
	for user, want := range sees {
		var list []struct{ ID string }
		if st, msg := a.do(t, user, "GET", "/reports", nil, &list); st != 200 {
			t.Fatalf("GET /reports as %s: %d %s", user, st, msg)
		}
		var ids []string
		for _, r := range list {
			ids = append(ids, r.ID)
		}
		if !slices.Equal(ids, want) {
			t.Errorf("GET /reports as %s: %q\nwant %q", user, ids, want)
		}
		for _, id := range all {
			var one struct {
				ID      string
				Objects []map[string]any
			}
			st, msg := a.do(t, user, "GET", "/reports/"+id, nil, &one)
			switch {
			case slices.Contains(want, id) && (st != 200 || one.ID != id || len(one.Objects) == 0):
				t.Errorf("GET /reports/%s as %s: %d %s", id, user, st, msg)
			case !slices.Contains(want, id) && (st != 404 || !strings.Contains(msg, "no incident report "+id)):
				t.Errorf("GET /reports/%s as %s: %d %s; want 404 as for an unknown id", id, user, st, msg)
			}
		}
	}
	for _, c := range []struct {
		tlp        string
		recipients any
		want       string
	}{
		{"red", nil, "recipients: required for TLP:RED"},
		{"green", []string{"ana"}, "only a TLP:RED report names recipients"},
		{"red", []string{"role:boss"}, `recipients: \"role:boss\" is not a user name or role:ROLE.`},
		{"red", "ana", "recipients"},
	} {
		body := map[string]any{"channel": "a-b", "bundle": apiBundle(t), "tlp": c.tlp, "sectors": []string{"energy"}, "severity": 3}
		if c.recipients != nil {
			body["recipients"] = c.recipients
		}
		if st, msg := a.do(t, "ana", "POST", "/reports", body, nil); st != 400 || !strings.Contains(msg, c.want) {
			t.Errorf("POST /reports %s recipients %v: %d %s; want 400 %q", c.tlp, c.recipients, st, msg, c.want)
		}
	}
}
