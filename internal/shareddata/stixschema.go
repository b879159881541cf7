package shareddata

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// STIXSchemaBase is the $id prefix of the OASIS STIX 2.1 JSON Schemas.
const STIXSchemaBase = "http://raw.githubusercontent.com/oasis-open/cti-stix2-json-schemas/stix2.1/schemas/"

// STIXSchemas compiles the OASIS STIX 2.1 JSON Schemas of
// ../shared/data/stix/schemas, each registered under its $id so that the
// relative $refs between them resolve locally (nothing is fetched). The
// function it returns gives the schema of a file by its name without
// ".json": an object type ("indicator", "extension-definition",
// "marking-definition") or a common schema ("core"); false when there is
// none.
func STIXSchemas(tb testing.TB) func(name string) (*jsonschema.Schema, bool) {
	tb.Helper()
	dir := Dir(tb, "stix", "schemas")
	c := jsonschema.NewCompiler()
	locs := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json") {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
		if err != nil {
			return err
		}
		id, _ := doc.(map[string]any)["$id"].(string)
		if !strings.HasPrefix(id, STIXSchemaBase) {
			tb.Fatalf("%s: unexpected $id %q", p, id)
		}
		locs[strings.TrimSuffix(filepath.Base(p), ".json")] = id
		return c.AddResource(id, doc)
	})
	if err != nil {
		tb.Fatal(err)
	}
	compiled := map[string]*jsonschema.Schema{}
	return func(name string) (*jsonschema.Schema, bool) {
		tb.Helper()
		if s, ok := compiled[name]; ok {
			return s, true
		}
		loc, ok := locs[name]
		if !ok {
			return nil, false
		}
		s, err := c.Compile(loc)
		if err != nil {
			tb.Fatalf("compile %s: %v", loc, err)
		}
		compiled[name] = s
		return s, true
	}
}
