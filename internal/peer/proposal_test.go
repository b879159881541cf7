package peer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/peer"
	"github.com/parleyhq/parley/internal/stix"
	"github.com/parleyhq/parley/internal/taxii"
)

// apiUser adds a user with a password to n and returns a client of n's
// JSON API as that user: get(path) answers the status and the body.
func apiUser(t testing.TB, n *testNode, name string, role dialogue.Role) func(method, path string, body any) (int, string) {
	t.Helper()
	pw := "secret-pass-" + name
	h, err := dialogue.HashPassword(pw)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.store().Store.CreateUser(context.Background(), &dialogue.User{Name: name, Role: role}, h); err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: taxii.ClientTLS(n.srv.Pin, false)}}
	return func(method, path string, body any) (int, string) {
		t.Helper()
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, n.srv.URL+"/api"+path, rd)
		req.SetBasicAuth(name, pw)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(data)
	}
}

// webUser signs in to n's web UI as name (made by apiUser) and returns a
// function that gets a page.
func webUser(t testing.TB, n *testNode, name string) func(path string) (int, string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{
		Transport:     &http.Transport{TLSClientConfig: taxii.ClientTLS(n.srv.Pin, false)},
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := c.Get(n.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(data)
	}
	_, page := get("/login")
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token in the login page:\n%s", page)
	}
	resp, err := c.PostForm(n.srv.URL+"/login", url.Values{"csrf": {m[1]}, "name": {name}, "password": {"secret-pass-" + name}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/inbox" {
		t.Fatalf("sign-in as %s: %d %s", name, resp.StatusCode, resp.Header.Get("Location"))
	}
	return get
}

// propose sends a channel proposal from's node to to's, as from's worker
// would, and returns the status and the answer.
func propose(t testing.TB, client *http.Client, to *testNode, id, title string) (int, string) {
	t.Helper()
	body, _ := json.Marshal(peer.ChannelMessage{ID: id, Title: title, State: dialogue.ChannelProposed})
	resp, err := client.Post(to.srv.URL+peer.ChannelsPath, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

// A channel a peer proposed and nobody accepted yet has no collection:
// the inbox and the listings of reports and requests, and a report of
// another channel, keep working while it waits.
func TestPendingProposalKeepsListings(t *testing.T) {
	a, b := newNode(t, "party-a"), newNode(t, "party-b")
	id := share(t, a, b)
	api := apiUser(t, b, "ana", dialogue.RoleExpert)
	objs, err := stix.SampleIncident(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	bundle, _ := json.Marshal(map[string]any{"type": "bundle", "id": stix.NewID("bundle"), "objects": objs})
	st, msg := api("POST", "/reports", map[string]any{"channel": id, "bundle": json.RawMessage(bundle), "tlp": "green", "sectors": []string{"health"}, "severity": 2})
	if st != http.StatusCreated {
		t.Fatalf("POST /reports: %d %s", st, msg)
	}
	var created struct{ ID string }
	json.Unmarshal([]byte(msg), &created)

	pending := stix.NewID("x")[len("x--"):]
	if st, msg := propose(t, peerClient(t, a, b), b, pending, "waiting"); st != http.StatusOK {
		t.Fatalf("proposal: %d %s", st, msg)
	}
	if ch, err := b.store().Store.Channel(context.Background(), pending); err != nil || ch.State != dialogue.ChannelOffered {
		t.Fatalf("the proposal is not offered on b: %+v %v", ch, err)
	}
	for _, path := range []string{"/reports", "/requests", "/reports/" + created.ID, "/hotline", "/checks", "/statements", "/responsiveness", "/summary", "/threat", "/origins"} {
		if st, msg := api("GET", path, nil); st != http.StatusOK {
			t.Errorf("GET /api%s with a proposal pending: %d %s", path, st, msg)
		}
	}
	web := webUser(t, b, "ana")
	for _, path := range []string{"/inbox", "/reports", "/requests", "/reports/" + created.ID, "/reports/new", "/requests/new", "/meetings", "/meetings/new", "/statements", "/record", "/responsiveness", "/summary", "/threat"} {
		if st, page := web(path); st != http.StatusOK {
			t.Errorf("GET %s in the web UI with a proposal pending: %d %s", path, st, tail(page, 300))
		}
	}
	if st, msg := api("GET", "/reports", nil); !strings.Contains(msg, created.ID) {
		t.Errorf("GET /api/reports: %d %s: the report is not listed", st, msg)
	}
}
