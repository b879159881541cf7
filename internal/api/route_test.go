package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/api"
	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/geo"
	"github.com/parleyhq/parley/internal/httpapi"
	"github.com/parleyhq/parley/internal/node"
	"github.com/parleyhq/parley/internal/peer"
	"github.com/parleyhq/parley/internal/server"
	"github.com/parleyhq/parley/internal/stix"
	"github.com/parleyhq/parley/internal/taxii"
)

// routeAPIStart is hotlineAPIStart with the database file dbFile in the
// node's geoip folder before it starts, so that it enriches what it
// stores.
func routeAPIStart(t *testing.T, name, dbFile string) *hotlineAPINode {
	t.Helper()
	ctx := context.Background()
	n, created, err := node.Init(ctx, filepath.Join(t.TempDir(), name), node.InitOptions{Name: name, Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	h, err := dialogue.HashPassword("password-olga")
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Store.CreateUser(ctx, &dialogue.User{Name: "olga", Role: dialogue.RoleDuty, CreatedAt: time.Now()}, h); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(dbFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(n.Dir, node.GeoIPDir), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(n.Dir, node.GeoIPDir, "demo.mmdb"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := server.Start(ctx, n, server.Options{Addr: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Peer: peer.Config{PollInterval: 2 * time.Second, LocalInterval: 100 * time.Millisecond, MinBackoff: 50 * time.Millisecond, MaxBackoff: 500 * time.Millisecond, Timeout: 10 * time.Second}})
	if err != nil {
		n.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(5 * time.Second) })
	return &hotlineAPINode{name: name, srv: s, client: &http.Client{Transport: &http.Transport{TLSClientConfig: taxii.ClientTLS(created.Pin, false)}}}
}

// TestRouteAndOriginsAPI: two served nodes with the demo database (A's
// peer B registered for XB); POST /requests/route on A files B's part on
// their channel and lists the rest as unrouted, the answer valid against
// its schema; GET /origins shows the same figures on both nodes.
func TestRouteAndOriginsAPI(t *testing.T) {
	ctx := context.Background()
	dbFile := filepath.Join(t.TempDir(), "demo.mmdb")
	if err := geo.WriteDemo(dbFile, geo.DemoTerritories("XB", "XC")...); err != nil {
		t.Fatal(err)
	}
	a, b := routeAPIStart(t, "party-a", dbFile), routeAPIStart(t, "party-b", dbFile)
	// As hotlineAPIShare, with B's territory on A (XB, a private-use code
	// that the --territory flag refuses, set directly).
	for _, p := range [][2]*hotlineAPINode{{a, b}, {b, a}} {
		pe, err := peer.NewPeer(p[1].name, p[1].srv.URL, p[1].srv.Pin, p[1].srv.Node.LogKey(), "")
		if err != nil {
			t.Fatal(err)
		}
		if p[0] == a {
			pe.Territory = "XB"
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
	hotlineAPIWait(t, "b is offered the channel", func() bool {
		c, err := b.srv.Node.Store.Channel(ctx, ch.ID)
		return err == nil && c.State == dialogue.ChannelOffered
	})
	if _, err := b.srv.Node.Store.AcceptChannel(ctx, ch.ID, "", time.Now()); err != nil {
		t.Fatal(err)
	}
	hotlineAPIWait(t, "a sees the channel accepted", func() bool {
		c, err := a.srv.Node.Store.Channel(ctx, ch.ID)
		return err == nil && c.State == dialogue.ChannelActive
	})

	objs, err := stix.SampleIncident(time.Now()) // names 203.0.113.42: XB
	if err != nil {
		t.Fatal(err)
	}
	bundle, _ := json.Marshal(map[string]any{"type": "bundle", "id": stix.NewID("bundle"), "objects": objs})
	code, body := a.call(t, "olga", "POST", "/reports", map[string]any{"channel": "a-b", "bundle": json.RawMessage(bundle), "tlp": "amber", "sectors": []string{"energy"}, "severity": 4})
	wantStatus(t, "POST /reports", code, body, http.StatusCreated)
	var rep struct{ ID string }
	json.Unmarshal(body, &rep)

	// The API with A's databases, behind a handler that sets the user
	// (the node's authentication is httpapi's, tested there).
	db, err := geo.Open(dbFile)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	srv := api.New(a.srv.Workflow, nil)
	srv.Geo = db
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		srv.ServeHTTP(w, r.WithContext(httpapi.NewContextWithUser(r.Context(), &dialogue.User{Name: "olga", Role: dialogue.RoleDuty})))
	}))
	defer ts.Close()
	post := func(body any) (int, []byte) {
		data, _ := json.Marshal(body)
		resp, err := http.Post(ts.URL+"/requests/route", "application/json", bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, compact(out)
	}
	code, body = post(map[string]any{"about": []string{rep.ID}, "infrastructure": []string{"192.0.2.1", "2001:db8::1", "198.51.100.1", "100.64.0.1"}, "text": "Please act"})
	wantStatus(t, "POST /requests/route", code, body, http.StatusCreated, `"peer":"party-b"`, `"territory":"XB"`,
		`{"value":"198.51.100.1","territory":"XC","reason":"no-party"}`, `{"value":"100.64.0.1","reason":"unknown-territory"}`)
	hotlineAPIValidate(t, hotlineAPISchema(t, "Routing"), body)
	var routed struct {
		Requests []struct{ ID string }
	}
	json.Unmarshal(body, &routed)
	if len(routed.Requests) != 1 {
		t.Fatalf("requests: %s", body)
	}
	code, body = b.call(t, "olga", "GET", "/requests/"+routed.Requests[0].ID, nil)
	for i := 0; code == http.StatusNotFound && i < 200; i++ {
		time.Sleep(50 * time.Millisecond)
		code, body = b.call(t, "olga", "GET", "/requests/"+routed.Requests[0].ID, nil)
	}
	body = compact(body)
	wantStatus(t, "B: GET /requests/{id}", code, body, http.StatusOK, `"infrastructure":["192.0.2.1","2001:db8::1"]`, `"unrouted":[{"value":"198.51.100.1","territory":"XC","reason":"no-party"}`)

	for _, c := range []struct {
		body  any
		code  int
		words []string
	}{
		{map[string]any{"about": []string{rep.ID}, "infrastructure": []string{"198.51.100.1"}, "text": "x"}, http.StatusBadRequest, []string{"nothing lies on the territory of a peer", "198.51.100.1 (XC: no-party)"}},
		{map[string]any{"about": []string{rep.ID}, "infrastructure": []string{"not an address"}, "text": "x"}, http.StatusBadRequest, []string{`infrastructure[0]`}},
		{map[string]any{"about": []string{rep.ID}, "infrastructure": []string{"192.0.2.1"}, "text": "x", "extra": 1}, http.StatusBadRequest, []string{"extra"}},
	} {
		code, body := post(c.body)
		wantStatus(t, "POST /requests/route (bad)", code, body, c.code, c.words...)
	}
	srv.Geo = nil
	code, body = post(map[string]any{"about": []string{rep.ID}, "infrastructure": []string{"192.0.2.1"}, "text": "x"})
	wantStatus(t, "POST /requests/route without databases", code, body, http.StatusConflict, "no GeoIP database")

	// Origins: the same on both nodes once both enriched the report.
	schema := hotlineAPISchema(t, "Origins")
	var got [2][]byte
	for i, n := range []*hotlineAPINode{a, b} {
		hotlineAPIWait(t, n.name+" counts the report's XB address", func() bool {
			code, body := n.call(t, "olga", "GET", "/origins?channel=a-b", nil)
			body = compact(body)
			got[i] = body
			return code == http.StatusOK && bytes.Contains(body, []byte(`"territories":[{"territory":"XB","reports":1,"addresses":1}]`))
		})
		var list []json.RawMessage
		if err := json.Unmarshal(got[i], &list); err != nil || len(list) != 1 {
			t.Fatalf("%s", got[i])
		}
		hotlineAPIValidate(t, schema, list[0])
	}
	if !bytes.Equal(got[0], got[1]) {
		t.Errorf("the nodes differ:\nA %s\nB %s", got[0], got[1])
	}
	code, body = a.call(t, "olga", "GET", "/origins?channel=nosuch", nil)
	wantStatus(t, "GET /origins?channel=nosuch", code, body, http.StatusNotFound, "no channel")
}

// compact is the JSON without its indentation.
func compact(data []byte) []byte {
	var b bytes.Buffer
	if json.Compact(&b, data) != nil {
		return data
	}
	return b.Bytes()
}
