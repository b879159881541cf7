package server_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"log/slog"
	"net"
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
)

// tnode is a node served over TLS on 127.0.0.1:0 for the tests of this
// package.
type tnode struct {
	name string
	srv  *server.Server
	pin  string
}

// roles are the users each test node has: one per role, and two experts
// the tests take rights from ("revoked", "disabled"). Each one's
// password is "secret-pass-NAME".
var roles = map[string]dialogue.Role{
	"admin": dialogue.RoleAdmin, "expert": dialogue.RoleExpert, "duty": dialogue.RoleDuty, "lead": dialogue.RoleLead,
	"revoked": dialogue.RoleExpert, "disabled": dialogue.RoleExpert,
}

func startNode(t testing.TB, name string) *tnode {
	t.Helper()
	ctx := context.Background()
	n, created, err := node.Init(ctx, filepath.Join(t.TempDir(), name), node.InitOptions{Name: name, Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	for u, role := range roles {
		h, err := dialogue.HashPassword("secret-pass-" + u)
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Store.CreateUser(ctx, &dialogue.User{Name: u, Role: role, CreatedAt: time.Now()}, h); err != nil {
			t.Fatal(err)
		}
	}
	s, err := server.Start(ctx, n, server.Options{Addr: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Peer: peer.Config{PollInterval: time.Second, LocalInterval: 50 * time.Millisecond, MinBackoff: 50 * time.Millisecond, MaxBackoff: 500 * time.Millisecond, Timeout: 10 * time.Second}})
	if err != nil {
		n.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(5 * time.Second) })
	return &tnode{name: name, srv: s, pin: created.Pin}
}

// share pins a and b on each other and makes the active channel "a-b".
func share(t testing.TB, a, b *tnode) string {
	t.Helper()
	ctx := context.Background()
	for _, p := range [][2]*tnode{{a, b}, {b, a}} {
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
	waitFor(t, "b is offered the channel", func() bool {
		c, err := b.srv.Node.Store.Channel(ctx, ch.ID)
		return err == nil && c.State == dialogue.ChannelOffered
	})
	if _, err := b.srv.Node.Store.AcceptChannel(ctx, ch.ID, "", time.Now()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a sees the channel accepted", func() bool {
		c, err := a.srv.Node.Store.Channel(ctx, ch.ID)
		return err == nil && c.State == dialogue.ChannelActive
	})
	return ch.ID
}

func waitFor(t testing.TB, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("not yet: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// count is the number of object versions of a collection on n.
func count(t testing.TB, n *tnode, collectionID string) int {
	t.Helper()
	f := dialogue.ObjectFilter{Versions: dialogue.VersionMatch{All: true}}
	total := 0
	for {
		page, err := n.srv.Node.Store.FindObjects(context.Background(), collectionID, f)
		if err != nil {
			t.Fatal(err)
		}
		total += len(page.Objects)
		if !page.More {
			return total
		}
		f.After = page.Next
	}
}

// bundle is a sample incident (an incident, an indicator and their
// relationship) as a STIX bundle, and the incident's and indicator's ids.
func bundle(t testing.TB) (b []byte, incident, indicator string) {
	t.Helper()
	objs, err := stix.SampleIncident(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	// Unmarked, so that each object takes the marking of the report that
	// first holds it.
	var out []map[string]any
	for _, o := range objs {
		var p struct{ ID, Type string }
		raw, _ := json.Marshal(o)
		json.Unmarshal(raw, &p)
		var m map[string]any
		json.Unmarshal(raw, &m)
		if _, sdo := m["created"]; sdo { // an observable's id is its content's: it keeps its own marking
			delete(m, "object_marking_refs")
		}
		out = append(out, m)
		switch p.Type {
		case "incident":
			incident = p.ID
		case "indicator":
			indicator = p.ID
		}
	}
	b, _ = json.Marshal(map[string]any{"type": "bundle", "id": stix.NewID("bundle"), "objects": out})
	return b, incident, indicator
}

// client is one identity's way into a node: HTTP Basic for a user, a
// client certificate for a peer, a session cookie for the web UI.
type client struct {
	t    testing.TB
	base string
	user string // "" for none
	c    *http.Client
	csrf string // the web UI session's token, once signed in
}

// newClient returns a client of n for user; from, when not "", is the
// loopback address it connects from (the sign-in throttle counts
// failures by address).
func newClient(t testing.TB, n *tnode, user string, cert *tls.Certificate, from ...string) *client {
	cfg := taxii.ClientTLS(n.pin, false)
	tr := &http.Transport{TLSClientConfig: cfg}
	if len(from) > 0 {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from[0])}}
		tr.DialContext = d.DialContext
	}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: n.srv.URL, user: user, c: &http.Client{
		Transport:     tr,
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// do sends a request; basic says whether to add the user's HTTP Basic
// credentials (API, TAXII, log) or rely on the session (web UI). body is
// JSON (any), url.Values (a form, with the session's token) or nil.
func (c *client) do(method, path string, body any, basic bool) (int, string, http.Header, error) {
	var rd io.Reader
	ctype := ""
	switch b := body.(type) {
	case nil:
	case url.Values:
		v := url.Values{}
		for k, x := range b {
			v[k] = x
		}
		if c.csrf != "" {
			v.Set("csrf", c.csrf)
		}
		rd, ctype = strings.NewReader(v.Encode()), "application/x-www-form-urlencoded"
	case []byte:
		rd, ctype = bytes.NewReader(b), "application/taxii+json;version=2.1"
	default:
		raw, _ := json.Marshal(b)
		rd, ctype = bytes.NewReader(raw), "application/json"
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if strings.HasPrefix(path, "/taxii2") {
		req.Header.Set("Accept", "application/taxii+json;version=2.1")
	}
	if basic && c.user != "" {
		req.SetBasicAuth(c.user, "secret-pass-"+c.user)
	}
	resp, err := c.c.Do(req)
	if err != nil {
		return 0, "", nil, err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data), resp.Header, nil
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// login signs the client's user in to the web UI.
func (c *client) login() {
	c.t.Helper()
	_, page, _, err := c.do("GET", "/login", nil, false)
	if err != nil {
		c.t.Fatal(err)
	}
	m := csrfRE.FindStringSubmatch(page)
	if m == nil {
		c.t.Fatalf("no CSRF token on the sign-in page")
	}
	code, _, h, err := c.do("POST", "/login", url.Values{"csrf": {m[1]}, "name": {c.user}, "password": {"secret-pass-" + c.user}}, false)
	if err != nil || code != http.StatusSeeOther || h.Get("Location") == "/login" {
		c.t.Fatalf("%s signs in: %d %v", c.user, code, err)
	}
	_, page, _, _ = c.do("GET", "/inbox", nil, false)
	if m := csrfRE.FindStringSubmatch(page); m != nil {
		c.csrf = m[1]
	}
}

type tlsCert = tls.Certificate

func jsonRaw(b []byte) json.RawMessage { return json.RawMessage(b) }

func decode(s string, out any) error { return json.Unmarshal([]byte(s), out) }

func mustCert(t testing.TB, n *node.Node) *tls.Certificate {
	t.Helper()
	c, err := n.TLSCertificate()
	if err != nil {
		t.Fatal(err)
	}
	return &c
}

// unpinnedCert is the certificate of a node no one pinned.
func unpinnedCert(t testing.TB) *tls.Certificate {
	t.Helper()
	n, _, err := node.Init(context.Background(), filepath.Join(t.TempDir(), "stranger"), node.InitOptions{Name: "stranger", Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	return mustCert(t, n)
}
