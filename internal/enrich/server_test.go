package enrich_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/geo"
	"github.com/parleyhq/parley/internal/node"
	"github.com/parleyhq/parley/internal/server"
)

// TestServer: a node served with databases in DIR/geoip enriches what is
// added to it; a bad database stops the start with an error naming it.
func TestServer(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "node")
	n, created, err := node.Init(ctx, dir, node.InitOptions{Name: "cert-a.example"})
	if err != nil {
		t.Fatal(err)
	}
	coll := created.Collection.ID
	if err := os.MkdirAll(filepath.Join(dir, node.GeoIPDir), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := geo.WriteDemo(filepath.Join(dir, node.GeoIPDir, "demo.mmdb"), geo.DemoTerritories("XA", "XB")...); err != nil {
		t.Fatal(err)
	}
	s, err := server.Start(ctx, n, server.Options{Addr: "127.0.0.1:0", InsecureHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	add(t, server.WriteStore(n), coll, ind(1, `[ipv4-addr:value = '192.0.2.1']`))
	r := waitRecord(t, n.Store, coll, indID(1), v1)
	if got := strings.Join(summary(r), "|"); got != "192.0.2.1 pattern XA AS64496" {
		t.Errorf("record: %s", got)
	}
	if err := s.Close(5 * time.Second); err != nil {
		t.Fatal(err)
	}

	// A file that is no database.
	bad := filepath.Join(dir, node.GeoIPDir, "zz-bad.mmdb")
	if err := os.WriteFile(bad, []byte("not a database"), 0o600); err != nil {
		t.Fatal(err)
	}
	n, err = node.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	s, err = server.Start(ctx, n, server.Options{Addr: "127.0.0.1:0", InsecureHTTP: true})
	if err == nil {
		s.Close(time.Second)
		t.Fatal("started with a bad database")
	}
	if !strings.Contains(err.Error(), "database "+bad+": not a readable MaxMind DB") {
		t.Errorf("error: %v", err)
	}
}
