package workflow_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/geo"
	"github.com/parleyhq/parley/internal/node"
	"github.com/parleyhq/parley/internal/peer"
	"github.com/parleyhq/parley/internal/server"
	"github.com/parleyhq/parley/internal/sqlite"
	"github.com/parleyhq/parley/internal/stix"
	"github.com/parleyhq/parley/internal/workflow"
)

// routeTerritories are the demo database's two territories (XB for the
// party B, XC for C: 192.0.2.0/24 and 2001:db8::/33 are XB's,
// 198.51.100.0/24 and 2001:db8:8000::/33 XC's, 203.0.113.0/24 is split)
// and a third, XD, for which no party is registered (233.252.0.0/24,
// 3fff::/20: more documentation ranges).
func routeTerritories() []geo.Territory {
	return append(geo.DemoTerritories("XB", "XC"), geo.Territory{Country: "XD", ASN: 64498, ASOrg: "Demo network of XD",
		Networks: []netip.Prefix{netip.MustParsePrefix("233.252.0.0/24"), netip.MustParsePrefix("3fff::/20")}})
}

// routeDB writes the database of routeTerritories once for a test, so
// that every node given it has the same file (type and build time).
func routeDB(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "route.mmdb")
	if err := geo.WriteDemo(path, routeTerritories()...); err != nil {
		t.Fatal(err)
	}
	return path
}

// routeNewNode starts a node like reqNewNode, with the database dbFile
// (when not "") copied into its geoip folder, so that its server
// enriches what it stores. It returns the node and its databases (nil
// without).
func routeNewNode(t testing.TB, name string, clock *reqClock, dbFile string) (*reqNode, *geo.DB) {
	t.Helper()
	ctx := context.Background()
	n, _, err := node.Init(ctx, filepath.Join(t.TempDir(), name), node.InitOptions{Name: name, Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	var db *geo.DB
	if dbFile != "" {
		data, err := os.ReadFile(dbFile)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(n.Dir, node.GeoIPDir, "route.mmdb")
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if db, err = geo.Open(dst); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
	}
	s, err := server.Start(ctx, n, server.Options{Addr: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Peer: reqPeers})
	if err != nil {
		n.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(5 * time.Second); err != nil {
			t.Error(err)
		}
	})
	wf := workflow.New(n.Store, name, n.LogKey())
	wf.Now = clock.Now
	return &reqNode{name: name, srv: s, wf: wf}, db
}

// routePair pins a and b on each other (b with the territory given on a)
// and shares a channel a proposes, titled title. It returns its id.
func routePair(t testing.TB, a, b *reqNode, territory, title string) string {
	t.Helper()
	ctx := context.Background()
	for _, p := range []struct {
		on, of *reqNode
		cc     string
	}{{a, b, territory}, {b, a, ""}} {
		pr, err := peer.NewPeer(p.of.name, p.of.srv.URL, p.of.srv.Pin, p.of.srv.Node.LogKey(), "")
		if err != nil {
			t.Fatal(err)
		}
		// The demo's private-use codes (XB, XC), which NewPeer (the
		// --territory flag) refuses as no country's.
		pr.Territory = p.cc
		pr.CreatedAt = time.Now()
		if err := p.on.srv.Node.Store.AddPeer(ctx, pr); err != nil {
			t.Fatal(err)
		}
	}
	ch := &dialogue.Channel{Title: title, Peer: b.name, State: dialogue.ChannelProposed, CreatedAt: time.Now()}
	if err := a.srv.Node.Store.ProposeChannel(ctx, ch); err != nil {
		t.Fatal(err)
	}
	reqWaitFor(t, b.name+" is offered "+title, func() bool {
		c, err := b.srv.Node.Store.Channel(ctx, ch.ID)
		return err == nil && c.State == dialogue.ChannelOffered
	})
	if _, err := b.srv.Node.Store.AcceptChannel(ctx, ch.ID, "", time.Now()); err != nil {
		t.Fatal(err)
	}
	reqWaitFor(t, a.name+" sees "+title+" accepted", func() bool {
		c, err := a.srv.Node.Store.Channel(ctx, ch.ID)
		return err == nil && c.State == dialogue.ChannelActive
	})
	return ch.ID
}

// routeEnriched waits until n's worker has enriched the ipv4-addr object
// of value v on the channel.
func routeEnriched(t testing.TB, n *reqNode, channel, v string) {
	t.Helper()
	id, err := stix.SCOID("ipv4-addr", map[string]any{"value": v})
	if err != nil {
		t.Fatal(err)
	}
	reqWaitFor(t, n.name+" enriched "+v, func() bool {
		_, err := n.srv.Node.Store.Enrichment(context.Background(), channel, id, time.Time{})
		return err == nil
	})
}

var _ dialogue.EnrichmentStore = (*sqlite.DB)(nil)

// TestRouteRequest: three real nodes, A with peers B (territory XB) and
// C (XC), the demo database on A. A routes one request naming addresses
// (IPv4 and IPv6) of both territories, networks, a network split between
// them, addresses of a territory with no party and of none, a domain and
// URLs resolved through the sample incident's objects (no DNS), and a
// domain nothing resolves. B gets its part on channel a-b, C its part on
// a-c; each request keeps the unrouted items; neither sees the other's
// part. Then the refusals, each naming the field.
func TestRouteRequest(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2036, 12, 1, 8, 0, 0, 0, time.UTC)
	clock := &reqClock{t: t0}
	a, db := routeNewNode(t, "party-a", clock, routeDB(t))
	b, _ := routeNewNode(t, "party-b", clock, "")
	c, _ := routeNewNode(t, "party-c", clock, "")
	ab := routePair(t, a, b, "XB", "a-b")
	ac := routePair(t, a, c, "XC", "a-c")

	rb, err := a.wf.FileReport(ctx, "a-b", reqBundle(t, t0), "amber", []string{"energy"}, 4)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := a.wf.FileReport(ctx, "a-c", reqBundle(t, t0), "amber", []string{"energy"}, 4)
	if err != nil {
		t.Fatal(err)
	}
	// The sample's domain update-check.example.net resolves to
	// 203.0.113.42 (XB) by its domain-name object; wait for A's worker.
	routeEnriched(t, a, ab, "203.0.113.42")

	infra := []string{
		"192.0.2.10", "198.51.100.20", "2001:db8::5", "2001:db8:8000::7", "198.51.100.0/28",
		"203.0.113.0/24", "233.252.0.1", "3fff::1", "100.64.0.1", "::ffff:192.0.2.11",
		"update-check.example.net", "https://update-check.example.net/dl/agent.bin", "http://[2001:db8:8000::9]/x",
		"nothing.example",
	}
	res, err := a.wf.RouteRequest(ctx, db, workflow.RouteFiling{About: []string{rb, rc}, Infrastructure: infra, Text: "Please take these down."})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Requests) != 2 {
		t.Fatalf("%d requests, want 2: %+v", len(res.Requests), res.Requests)
	}
	values := func(ps []workflow.Placed) []string {
		var out []string
		for _, p := range ps {
			out = append(out, p.Value)
		}
		return out
	}
	toB, toC := res.Requests[0], res.Requests[1]
	wantB := []string{"192.0.2.10", "2001:db8::5", "::ffff:192.0.2.11", "update-check.example.net", "https://update-check.example.net/dl/agent.bin"}
	wantC := []string{"198.51.100.20", "2001:db8:8000::7", "198.51.100.0/28", "http://[2001:db8:8000::9]/x"}
	if toB.Peer != "party-b" || toB.Territory != "XB" || toB.Channel != ab || !slices.Equal(toB.About, []string{rb}) || !slices.Equal(values(toB.Infrastructure), wantB) {
		t.Errorf("to B: %+v; want on %s about %s: %q", toB, ab, rb, wantB)
	}
	if toC.Peer != "party-c" || toC.Territory != "XC" || toC.Channel != ac || !slices.Equal(toC.About, []string{rc}) || !slices.Equal(values(toC.Infrastructure), wantC) {
		t.Errorf("to C: %+v; want on %s about %s: %q", toC, ac, rc, wantC)
	}
	for _, p := range toB.Infrastructure {
		if p.Value == "update-check.example.net" && !slices.Equal(p.Resolved, []string{"203.0.113.42"}) {
			t.Errorf("domain resolved to %q, want 203.0.113.42", p.Resolved)
		}
	}
	wantUnrouted := []workflow.Unrouted{
		{Value: "203.0.113.0/24", Territory: "XB", Reason: workflow.UnroutedMixed},
		{Value: "233.252.0.1", Territory: "XD", Reason: workflow.UnroutedNoParty},
		{Value: "3fff::1", Territory: "XD", Reason: workflow.UnroutedNoParty},
		{Value: "100.64.0.1", Reason: workflow.UnroutedUnknown},
		{Value: "nothing.example", Reason: workflow.UnroutedUnresolved},
	}
	if !slices.Equal(res.Unrouted, wantUnrouted) {
		t.Errorf("unrouted %+v\nwant %+v", res.Unrouted, wantUnrouted)
	}

	// Each party gets its request on its channel, with the unrouted
	// items; neither gets the other's.
	valid := reqOfficialSchema(t)
	for _, x := range []struct {
		n       *reqNode
		ch      string
		r       *workflow.RoutedRequest
		want    []string
		notSeen string
	}{{b, ab, toB, wantB, toC.ID}, {c, ac, toC, wantC, toB.ID}} {
		reqHas(t, x.n, x.ch, x.r.ID)
		got, err := x.n.wf.Request(ctx, x.r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.From != "party-a" || got.To != x.n.name || !slices.Equal(got.Infrastructure, x.want) || !slices.Equal(got.Unrouted, wantUnrouted) {
			t.Errorf("%s sees %+v", x.n.name, got)
		}
		if _, err := x.n.wf.Request(ctx, x.notSeen); dialogue.KindOf(err) != dialogue.KindNotFound {
			t.Errorf("%s sees the other party's request %s: %v", x.n.name, x.notSeen, err)
		}
		page, err := x.n.srv.Node.Store.FindObjects(ctx, x.ch, dialogue.ObjectFilter{IDs: []string{x.r.ID}})
		if err != nil || len(page.Objects) != 1 {
			t.Fatalf("%v %v", page, err)
		}
		valid(page.Objects[0].Raw)
		if err := stix.ValidateParley(page.Objects[0].Raw); err != nil {
			t.Errorf("request on %s: %v", x.n.name, err)
		}
	}

	// Refusals, before anything is filed.
	before, err := a.wf.Requests(ctx, workflow.RequestFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range []struct {
		f    workflow.RouteFiling
		kind dialogue.Kind
		want string
	}{
		{workflow.RouteFiling{About: []string{rb}, Infrastructure: []string{"192.0.2.1"}}, dialogue.KindInvalid, "text: required"},
		{workflow.RouteFiling{Text: "x", Infrastructure: []string{"192.0.2.1"}}, dialogue.KindInvalid, "about: required"},
		{workflow.RouteFiling{Text: "x", About: []string{rb}}, dialogue.KindInvalid, "infrastructure: required"},
		{workflow.RouteFiling{Text: "x", About: []string{rb}, Infrastructure: []string{"192.0.2.1", "300.1.1.1"}}, dialogue.KindInvalid, `infrastructure[1]: "300.1.1.1": not an IP address`},
		{workflow.RouteFiling{Text: "x", About: []string{"report--00000000-0000-4000-8000-000000000000"}, Infrastructure: []string{"192.0.2.1"}}, dialogue.KindInvalid, "about[0]: \"report--00000000-0000-4000-8000-000000000000\" is no incident report"},
		// The report is on a-b only: C's part has no channel to go on.
		{workflow.RouteFiling{Text: "x", About: []string{rb}, Infrastructure: []string{"192.0.2.1", "198.51.100.1"}}, dialogue.KindInvalid, `about: none of the reports is on channel "a-c" shared with peer party-c (territory XC), where the request for 198.51.100.1 would go`},
		{workflow.RouteFiling{Text: "x", About: []string{rb}, Infrastructure: []string{"233.252.0.9", "100.64.0.1", "nothing.example"}}, dialogue.KindInvalid, "infrastructure: nothing lies on the territory of a peer, so no request was filed: 233.252.0.9 (XD: no-party), 100.64.0.1 (unknown-territory), nothing.example (unresolved)"},
		{workflow.RouteFiling{Text: "x", About: []string{rb}, Infrastructure: []string{"192.0.2.1"}, Channels: map[string]string{"party-z": "a-b"}}, dialogue.KindInvalid, `channels: no peer "party-z"`},
		{workflow.RouteFiling{Text: "x", About: []string{rb}, Infrastructure: []string{"192.0.2.1"}, Channels: map[string]string{"party-b": "a-c"}}, dialogue.KindInvalid, `channels: channel "a-c" is shared with party-c, not with party-b`},
	} {
		_, err := a.wf.RouteRequest(ctx, db, x.f)
		if dialogue.KindOf(err) != x.kind || err == nil || !strings.Contains(err.Error(), x.want) {
			t.Errorf("RouteRequest(%+v): %v; want %v with %q", x.f, err, x.kind, x.want)
		}
	}
	after, err := a.wf.Requests(ctx, workflow.RequestFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Errorf("refused routings filed %d requests", len(after)-len(before))
	}

	// A channel named per peer.
	res, err = a.wf.RouteRequest(ctx, db, workflow.RouteFiling{About: []string{rb}, Infrastructure: []string{"192.0.2.99"}, Text: "again", Channels: map[string]string{"party-b": "a-b"}})
	if err != nil || len(res.Requests) != 1 || res.Requests[0].Channel != ab || len(res.Unrouted) != 0 {
		t.Errorf("with a named channel: %+v, %v", res, err)
	}
	raw, _ := json.Marshal(res)
	if !strings.Contains(string(raw), `"unrouted":[]`) {
		t.Errorf("no unrouted item is an empty list in JSON: %s", raw)
	}
}
