package peer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
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

// A peer that floods this node with channel proposals gets 429 past the
// limit (the node's max_pending_proposals, 10 by default), and nothing of
// those is stored; the node keeps serving its users and its channels, and
// once one proposal is declined another may wait.
func TestProposalFlood(t *testing.T) {
	ctx := context.Background()
	a, b := newNode(t, "party-a"), newNode(t, "party-b")
	id := share(t, a, b)
	api := apiUser(t, b, "ana", dialogue.RoleExpert)
	client := peerClient(t, a, b)
	var ids []string
	for i := range 25 {
		pid := stix.NewID("x")[len("x--"):]
		st, msg := propose(t, client, b, pid, fmt.Sprint("flood ", i))
		switch {
		case i < 10 && st != http.StatusOK:
			t.Fatalf("proposal %d: %d %s", i, st, msg)
		case i >= 10 && (st != http.StatusTooManyRequests || !strings.Contains(msg, "10 of your channel proposals wait here already")):
			t.Fatalf("proposal %d past the limit: %d %s", i, st, msg)
		}
		ids = append(ids, pid)
	}
	chs, err := b.store().Store.Channels(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(chs) != 11 {
		t.Errorf("b holds %d channels, want the shared one and 10 offers", len(chs))
	}
	if !strings.Contains(b.logs.String(), "channel proposal refused: too many waiting") {
		t.Errorf("b's log does not say it refused proposals:\n%s", tail(b.logs.String(), 2000))
	}
	// b keeps serving: its users' listings and the exchange on the channel.
	for _, path := range []string{"/reports", "/requests", "/hotline"} {
		if st, msg := api("GET", path, nil); st != http.StatusOK {
			t.Errorf("GET /api%s after the flood: %d %s", path, st, msg)
		}
	}
	add(t, a, id, indicators(3, "after the flood"))
	waitFor(t, 15*time.Second, "b receives a's objects after the flood", func() bool { return count(t, b, id) == 3 })

	// Declining one makes room for one more.
	if _, err := b.store().Store.DeclineChannel(ctx, ids[0], ""); err != nil {
		t.Fatal(err)
	}
	if st, msg := propose(t, client, b, ids[10], "flood 10"); st != http.StatusOK {
		t.Errorf("a proposal after one was declined: %d %s", st, msg)
	}
	if st, msg := propose(t, client, b, ids[11], "flood 11"); st != http.StatusTooManyRequests {
		t.Errorf("a proposal past the limit again: %d %s", st, msg)
	}
}

// A channel declined here is told to its proposer, which records it
// declined (its collection stays, nothing flows); proposing it again is
// answered "declined" and not offered anew.
func TestDeclineTold(t *testing.T) {
	ctx := context.Background()
	a, b := newNode(t, "party-a"), newNode(t, "party-b")
	pin(t, a, b)
	pin(t, b, a)
	ch := &dialogue.Channel{Title: "unwanted", Peer: b.name, State: dialogue.ChannelProposed, CreatedAt: time.Now()}
	if err := a.store().Store.ProposeChannel(ctx, ch); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "b is offered the channel", func() bool {
		c, err := b.store().Store.Channel(ctx, ch.ID)
		return err == nil && c.State == dialogue.ChannelOffered
	})
	if _, err := b.store().Store.DeclineChannel(ctx, ch.ID, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "a sees the channel declined", func() bool {
		c, err := a.store().Store.Channel(ctx, ch.ID)
		return err == nil && c.State == dialogue.ChannelDeclined && c.Notified
	})
	waitFor(t, 15*time.Second, "b has told a", func() bool {
		c, err := b.store().Store.Channel(ctx, ch.ID)
		return err == nil && c.State == dialogue.ChannelDeclined && c.Notified
	})
	st, msg := propose(t, peerClient(t, a, b), b, ch.ID, "unwanted")
	var m peer.ChannelMessage
	if err := json.Unmarshal([]byte(msg), &m); st != http.StatusOK || err != nil || m.State != dialogue.ChannelDeclined {
		t.Errorf("proposing a declined channel again: %d %s", st, msg)
	}
	if c, err := b.store().Store.Channel(ctx, ch.ID); err != nil || c.State != dialogue.ChannelDeclined {
		t.Errorf("b's channel after a new proposal: %+v %v", c, err)
	}
	if _, err := a.store().Store.FindCollection(ctx, ch.ID); err != nil {
		t.Errorf("a's collection of the declined channel: %v", err)
	}
}
