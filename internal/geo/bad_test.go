package geo_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/geo"
	"github.com/parleyhq/parley/internal/shareddata"
)

// TestOpenBadData opens every corrupt database of the MaxMind test
// suite: each must be refused with an error of kind invalid that names
// the file and says what is wrong, never a panic.
func TestOpenBadData(t *testing.T) {
	dir := shareddata.Dir(t, "mmdb", "bad-data")
	// The reason each file is refused for: the first defect Open finds.
	reasons := map[string]string{
		"libmaxminddb/libmaxminddb-corrupt-search-tree.mmdb":          "no description",
		"libmaxminddb/libmaxminddb-deep-array-nesting.mmdb":           "the record is not a map",
		"libmaxminddb/libmaxminddb-deep-nesting.mmdb":                 "no description",
		"libmaxminddb/libmaxminddb-empty-array-last-in-metadata.mmdb": "no description",
		"libmaxminddb/libmaxminddb-empty-map-last-in-metadata.mmdb":   "no description",
		"libmaxminddb/libmaxminddb-metadata-marker-only.mmdb":         "not a readable MaxMind DB",
		"libmaxminddb/libmaxminddb-offset-integer-overflow.mmdb":      "not a readable MaxMind DB",
		"libmaxminddb/libmaxminddb-oversized-array.mmdb":              "maximum decoded record size",
		"libmaxminddb/libmaxminddb-oversized-map.mmdb":                "maximum decoded record size",
		"libmaxminddb/libmaxminddb-separator-record-max-left.mmdb":    "search tree",
		"libmaxminddb/libmaxminddb-separator-record-min-left.mmdb":    "search tree",
		"libmaxminddb/libmaxminddb-separator-record-min-right.mmdb":   "search tree",
		"libmaxminddb/libmaxminddb-uint64-max-epoch.mmdb":             "build_epoch 18446744073709551615 is not a date",
		"maxminddb-golang/cyclic-data-structure.mmdb":                 "not a readable MaxMind DB",
		"maxminddb-golang/invalid-bytes-length.mmdb":                  "not a readable MaxMind DB",
		"maxminddb-golang/invalid-data-record-offset.mmdb":            "not a readable MaxMind DB",
		"maxminddb-golang/invalid-map-key-length.mmdb":                "not a readable MaxMind DB",
		"maxminddb-golang/invalid-string-length.mmdb":                 "not a readable MaxMind DB",
		"maxminddb-golang/metadata-is-an-uint128.mmdb":                "not a readable MaxMind DB",
		"maxminddb-golang/unexpected-bytes.mmdb":                      "not a readable MaxMind DB",
		"maxminddb-python/bad-unicode-in-map-key.mmdb":                "search tree",
	}
	files, err := filepath.Glob(filepath.Join(dir, "*", "*.mmdb"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(reasons) {
		t.Errorf("%d files in %s, %d in the table: add the new ones", len(files), dir, len(reasons))
	}
	for _, f := range files {
		name := filepath.ToSlash(strings.TrimPrefix(f, dir+string(filepath.Separator)))
		t.Run(name, func(t *testing.T) {
			db, err := geo.Open(f)
			if err == nil {
				db.Close()
				t.Fatal("Open succeeded; want an error")
			}
			t.Log(err)
			if !strings.Contains(err.Error(), f) {
				t.Errorf("error %q does not name the file", err)
			}
			if want, ok := reasons[name]; !ok {
				t.Errorf("no reason in the table for %s", name)
			} else if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not say %q", err, want)
			}
			if k := dialogue.KindOf(err); k != dialogue.KindInvalid {
				t.Errorf("kind %v, want invalid", k)
			}
		})
	}
}

// TestOpenRefuses covers the other files Open refuses: missing, empty,
// not a MaxMind DB, a MaxMind DB without the fields geo reads, broken
// test databases; and Open of no file at all. A good file given with a
// bad one does not save it.
func TestOpenRefuses(t *testing.T) {
	testData := shareddata.Dir(t, "mmdb", "test-data")
	tmp := t.TempDir()
	empty := filepath.Join(tmp, "empty.mmdb")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	text := filepath.Join(tmp, "text.mmdb")
	if err := os.WriteFile(text, []byte("1.2.3.0/24,FR\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		files []string
		kind  dialogue.Kind
		want  string
	}{
		{nil, dialogue.KindInvalid, "no database file given"},
		{[]string{filepath.Join(tmp, "missing.mmdb")}, dialogue.KindNotFound, "missing.mmdb: no such file"},
		{[]string{tmp}, dialogue.KindInvalid, tmp + ": read"},
		{[]string{empty}, dialogue.KindInvalid, "empty.mmdb: the file is empty"},
		{[]string{text}, dialogue.KindInvalid, "text.mmdb: not a readable MaxMind DB"},
		{[]string{filepath.Join(testData, "GeoIP2-Connection-Type-Test.mmdb")}, dialogue.KindInvalid,
			"GeoIP2-Connection-Type-Test.mmdb: it holds neither a country"},
		{[]string{filepath.Join(testData, "GeoIP2-City-Test-Broken-Double-Format.mmdb")}, dialogue.KindInvalid,
			"GeoIP2-City-Test-Broken-Double-Format.mmdb: record for 2.125.160.216/29"},
		{[]string{filepath.Join(testData, "GeoIP2-City-Test-Invalid-Node-Count.mmdb")}, dialogue.KindInvalid,
			"GeoIP2-City-Test-Invalid-Node-Count.mmdb: not a readable MaxMind DB"},
		{[]string{filepath.Join(testData, "MaxMind-DB-test-broken-pointers-24.mmdb")}, dialogue.KindInvalid,
			"MaxMind-DB-test-broken-pointers-24.mmdb: record for 1.1.1.16/28"},
		{[]string{filepath.Join(testData, "MaxMind-DB-test-broken-search-tree-24.mmdb")}, dialogue.KindInvalid,
			"MaxMind-DB-test-broken-search-tree-24.mmdb: search tree"},
		{[]string{filepath.Join(testData, "MaxMind-DB-string-value-entries.mmdb")}, dialogue.KindInvalid,
			"MaxMind-DB-string-value-entries.mmdb: record for 1.1.1.1/32: the record is not a map"},
		{[]string{filepath.Join(testData, "GeoLite2-ASN-Test.mmdb"), empty}, dialogue.KindInvalid, "empty.mmdb: the file is empty"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.files, ","), func(t *testing.T) {
			db, err := geo.Open(tt.files...)
			if err == nil {
				db.Close()
				t.Fatal("Open succeeded; want an error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "geo.Open: ") {
				t.Errorf("error %q does not name the operation", err)
			}
			if k := dialogue.KindOf(err); k != tt.kind {
				t.Errorf("kind %v, want %v", k, tt.kind)
			}
			var de *dialogue.Error
			if !errors.As(err, &de) {
				t.Errorf("error %T is not a *dialogue.Error", err)
			}
		})
	}
}
