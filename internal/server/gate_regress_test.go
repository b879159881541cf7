package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/dialogue"
)

// Regression tests of the gate, end to end on two nodes: each one a
// defect of the builds before the gate (docs/design/access.md), where
// some path decided by itself who may read or write what.

// taggedBundle is bundle's sample incident with the incident's and every
// indicator's name and description set to tag, so that a page or answer
// that shows them can be told from one that does not.
func taggedBundle(t testing.TB, tag string) (b []byte, incident, indicator string) {
	t.Helper()
	raw, incident, indicator := bundle(t)
	var bnd map[string]any
	if err := json.Unmarshal(raw, &bnd); err != nil {
		t.Fatal(err)
	}
	for _, o := range bnd["objects"].([]any) {
		m := o.(map[string]any)
		if m["type"] == "incident" || m["type"] == "indicator" {
			m["name"] = tag
			m["description"] = tag
		}
	}
	b, _ = json.Marshal(bnd)
	return b, incident, indicator
}

// fileReport files a report through the API as c and returns its id.
func fileReport(t testing.TB, c *client, ch string, bnd []byte, level string, recipients ...string) string {
	t.Helper()
	body := map[string]any{"channel": ch, "bundle": jsonRaw(bnd), "tlp": level, "sectors": []string{"energy"}, "severity": 4}
	if len(recipients) > 0 {
		body["recipients"] = recipients
	}
	var out struct{ ID string }
	code, resp, _, err := c.do("POST", "/api/reports", body, true)
	if err != nil || code != http.StatusCreated || decode(resp, &out) != nil {
		t.Fatalf("%s files a %s report: %d %v %.300s", c.user, level, code, err, resp)
	}
	return out.ID
}

// post sends a JSON body to the API as c, wants status 201 and returns
// the id answered.
func post(t testing.TB, c *client, path string, body map[string]any) string {
	t.Helper()
	var out struct{ ID string }
	code, resp, _, err := c.do("POST", path, body, true)
	if err != nil || code != http.StatusCreated || decode(resp, &out) != nil {
		t.Fatalf("%s: POST %s: %d %v %.300s", c.user, path, code, err, resp)
	}
	return out.ID
}

// get asks path as c (HTTP Basic unless ui) and returns status and body.
func get(t testing.TB, c *client, path string, ui bool) (int, string) {
	t.Helper()
	code, body, _, err := c.do("GET", path, nil, !ui)
	if err != nil {
		t.Fatalf("%s: GET %s: %v", c.user, path, err)
	}
	return code, body
}

// held is every version of every object of a collection on n, as one
// string to search.
func held(t testing.TB, n *tnode, collectionID string) string {
	t.Helper()
	var sb strings.Builder
	f := dialogue.ObjectFilter{Versions: dialogue.VersionMatch{All: true}}
	for {
		page, err := n.srv.Node.Store.FindObjects(context.Background(), collectionID, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Objects {
			sb.Write(o.Raw)
			sb.WriteByte('\n')
		}
		if !page.More {
			return sb.String()
		}
		f.After = page.Next
	}
}

// figure is a figure's JSON without the time it was computed at, so that
// two answers can be compared.
func figure(t testing.TB, body string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("a figure that is not JSON: %v\n%.300s", err, body)
	}
	var strip func(any)
	strip = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			delete(x, "as_of")
			for _, e := range x {
				strip(e)
			}
		case []any:
			for _, e := range x {
				strip(e)
			}
		}
	}
	strip(v)
	out, _ := json.Marshal(v)
	return string(out)
}

// signedIn is a client of n for user, signed in to the web UI too.
func signedIn(t testing.TB, n *tnode, user string) *client {
	t.Helper()
	c := newClient(t, n, user, nil)
	c.login()
	return c
}

// A channel whose grants name two users (and "*" no one) is not there for
// the other users of the node: the API and the web UI list and show
// nothing of it, whatever its objects' TLP, and a user without a write
// grant files nothing on it — nothing is stored, logged or sent to the
// peer.
func TestGateRegressGrantsNarrowed(t *testing.T) {
	ctx := context.Background()
	a, b := startNode(t, "party-a"), startNode(t, "party-b")
	ch := share(t, a, b)
	st := a.srv.Node.Store
	for _, g := range []dialogue.Grant{
		{CollectionID: ch, Principal: dialogue.GrantAll},
		{CollectionID: ch, Principal: idAdmin, Read: true, Write: true},
		{CollectionID: ch, Principal: idExpert, Read: true, Write: true},
	} {
		if err := st.SetGrant(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	admin, expert := signedIn(t, a, idAdmin), signedIn(t, a, idExpert)
	others := []*client{signedIn(t, a, idDuty), signedIn(t, a, idLead)}

	// What the others see of the node's figures before anything is filed.
	figures := []string{"/api/threat", "/api/summary", "/api/origins"}
	before := map[string]string{}
	for _, c := range others {
		for _, p := range figures {
			code, body := get(t, c, p, false)
			before[c.user+p] = body
			if code != http.StatusOK {
				t.Fatalf("%s: GET %s: %d %.300s", c.user, p, code, body)
			}
		}
	}

	secret := []string{ch}
	report := map[string]string{}
	for _, l := range levels {
		bnd, inc, ind := taggedBundle(t, "grant-narrowed "+l+" incident")
		// The RED report names the others too: only the grant keeps them
		// out.
		var rcpt []string
		if l == "red" {
			rcpt = []string{idAdmin, idExpert, idDuty, idLead}
		}
		report[l] = fileReport(t, admin, ch, bnd, l, rcpt...)
		secret = append(secret, report[l], inc, ind, "grant-narrowed "+l+" incident")
	}
	req := post(t, admin, "/api/requests", map[string]any{"channel": ch, "about": []string{report["clear"]}, "text": "grant-narrowed request text"})
	hot := post(t, admin, "/api/hotline", map[string]any{"channel": ch, "text": "grant-narrowed hotline text", "priority": "urgent"})
	secret = append(secret, req, hot, "grant-narrowed request text", "grant-narrowed hotline text")

	// The users the grants name see it all.
	for _, c := range []*client{admin, expert} {
		_, body := get(t, c, "/api/reports?channel="+ch, false)
		for _, l := range levels {
			if !strings.Contains(body, report[l]) {
				t.Errorf("%s does not see the %s report of the channel granted to it", c.user, l)
			}
		}
	}

	leaks := func(c *client, path, body string) {
		t.Helper()
		for _, s := range secret {
			// A 404 may repeat the id it was asked.
			if strings.Contains(body, s) && !strings.Contains(path, s) {
				t.Errorf("%s: %s shows %q of a channel it may not read:\n%.400s", c.user, path, s, body)
			}
		}
	}
	for _, c := range others {
		for _, p := range []string{"/api/reports", "/api/requests", "/api/hotline", "/api/threat", "/api/summary", "/api/origins"} {
			code, body := get(t, c, p, false)
			if code != http.StatusOK {
				t.Errorf("%s: GET %s: %d %.300s", c.user, p, code, body)
			}
			leaks(c, p, body)
			if slices.Contains(figures, p) && figure(t, body) != figure(t, before[c.user+p]) {
				t.Errorf("%s: GET %s moved with what was filed on a channel it may not read:\nbefore %.400s\nafter  %.400s", c.user, p, before[c.user+p], body)
			}
		}
		for _, p := range []string{"/api/reports?channel=" + ch, "/api/requests?channel=" + ch, "/api/hotline?channel=" + ch, "/api/threat?channel=" + ch, "/api/requests/" + req} {
			if code, body := get(t, c, p, false); code != http.StatusNotFound {
				t.Errorf("%s: GET %s: %d, want 404\n%.300s", c.user, p, code, body)
			} else {
				leaks(c, p, body)
			}
		}
		for _, l := range levels {
			p := "/api/reports/" + report[l]
			if code, body := get(t, c, p, false); code != http.StatusNotFound {
				t.Errorf("%s: GET %s (%s): %d, want 404\n%.300s", c.user, p, l, code, body)
			} else {
				leaks(c, p, body)
			}
			p = "/reports/" + report[l]
			if code, body := get(t, c, p, true); code != http.StatusNotFound {
				t.Errorf("%s: web UI %s (%s): %d, want 404\n%.300s", c.user, p, l, code, body)
			} else {
				leaks(c, p, body)
			}
		}
		for _, p := range []string{"/reports", "/inbox"} {
			code, body := get(t, c, p, true)
			if code != http.StatusOK {
				t.Errorf("%s: web UI %s: %d", c.user, p, code)
			}
			leaks(c, p, body)
		}
	}

	// Duty's role writes, but no grant lets it write here: its report and
	// hotline message are refused, and nothing of them is stored here or
	// reaches the peer.
	duty := others[0]
	n := count(t, a, ch)
	refusedBundle, _, _ := taggedBundle(t, "grant-narrowed refused report")
	for _, w := range []struct {
		path string
		body map[string]any
	}{
		{"/api/reports", map[string]any{"channel": ch, "bundle": jsonRaw(refusedBundle), "tlp": "clear", "sectors": []string{"energy"}, "severity": 2}},
		{"/api/hotline", map[string]any{"channel": ch, "text": "grant-narrowed refused hotline", "priority": "urgent"}},
	} {
		code, body, _, err := duty.do("POST", w.path, w.body, true)
		if err != nil {
			t.Fatal(err)
		}
		if code != http.StatusForbidden && code != http.StatusNotFound {
			t.Errorf("duty without a write grant: POST %s: %d, want 403 or 404\n%.300s", w.path, code, body)
		}
	}
	if after := count(t, a, ch); after != n {
		t.Errorf("the refused writes stored %d objects", after-n)
	}
	// Something permitted after them: once it is on the peer, so would be
	// anything sent before it.
	post(t, admin, "/api/hotline", map[string]any{"channel": ch, "text": "grant-narrowed permitted hotline", "priority": "urgent"})
	waitFor(t, "the peer holds the permitted hotline message", func() bool {
		return strings.Contains(held(t, b, ch), "grant-narrowed permitted hotline")
	})
	for _, s := range []string{"grant-narrowed refused report", "grant-narrowed refused hotline"} {
		if strings.Contains(held(t, a, ch), s) || strings.Contains(held(t, b, ch), s) {
			t.Errorf("a refused write (%q) was stored or reached the peer", s)
		}
	}
}
