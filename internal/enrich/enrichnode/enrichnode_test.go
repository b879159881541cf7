package enrichnode_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/enrich/enrichnode"
	"github.com/parleyhq/parley/internal/geo"
	"github.com/parleyhq/parley/internal/node"
	"github.com/parleyhq/parley/internal/shareddata"
)

// TestOpen: a node's databases are its configuration's geoip files,
// then DIR/geoip/*.mmdb; a node without any has no Enricher; a bad file is
// an error naming it.
func TestOpen(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "node")
	n, _, err := node.Init(ctx, dir, node.InitOptions{Name: "cert-a.example"})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if e, err := enrichnode.Open(n, nil); e != nil || err != nil {
		t.Fatalf("no database: %v, %v", e, err)
	}
	if err := os.MkdirAll(filepath.Join(dir, node.GeoIPDir), 0o700); err != nil {
		t.Fatal(err)
	}
	testData := shareddata.Dir(t, "mmdb", "test-data")
	n.Config.GeoIP = []string{filepath.Join(testData, "GeoLite2-ASN-Test.mmdb")}
	demo := filepath.Join(dir, node.GeoIPDir, "demo.mmdb")
	if err := geo.WriteDemo(demo, geo.DemoTerritories("XA", "XB")...); err != nil {
		t.Fatal(err)
	}
	e, err := enrichnode.Open(n, nil)
	if err != nil {
		t.Fatal(err)
	}
	src := e.GeoDB().Sources()
	if len(src) != 2 || src[0].Type != "GeoLite2-ASN" || src[1].File != demo {
		t.Errorf("sources: %+v", src)
	}
	e.Close()

	// Every file of bad-data refused at start, naming the file.
	bad, err := filepath.Glob(filepath.Join(shareddata.Dir(t, "mmdb", "bad-data"), "*", "*.mmdb"))
	if err != nil || len(bad) == 0 {
		t.Fatalf("bad-data: %v, %v", bad, err)
	}
	for _, b := range bad {
		n.Config.GeoIP = []string{b}
		e, err := enrichnode.Open(n, nil)
		if err == nil {
			e.Close()
			t.Errorf("%s: accepted", b)
			continue
		}
		if !strings.Contains(err.Error(), "enrichnode.Open: geo.Open: database "+b+": ") || dialogue.KindOf(err) != dialogue.KindInvalid {
			t.Errorf("%s: error %q (kind %v)", filepath.Base(b), err, dialogue.KindOf(err))
		}
	}
	n.Config.GeoIP = []string{filepath.Join(dir, "missing.mmdb")}
	if _, err := enrichnode.Open(n, nil); err == nil || !strings.Contains(err.Error(), "missing.mmdb: no such file") {
		t.Errorf("missing file: %v", err)
	}
}
