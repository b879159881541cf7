package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/shareddata"
	"github.com/parleyhq/parley/internal/stix"
	"github.com/parleyhq/parley/internal/taxii"
)

// demoEmittedTypes are the STIX types the demo's story makes Parley emit:
// every one must be seen, and nothing else.
var demoEmittedTypes = []string{
	// the incident report and what it bundles
	"report", "incident", "indicator", "infrastructure", "attack-pattern", "malware", "observed-data",
	"artifact", "ipv4-addr", "domain-name", "relationship", "identity",
	// what travels in every channel
	"extension-definition",
	// Parley's own types
	stix.TypeRequest, stix.TypeTransition, stix.TypeHotline, stix.TypeAssessment, stix.TypeReceipt, stix.TypeCheck,
	stix.TypeMeeting, stix.TypeStatement, stix.TypeSignature, stix.TypeEvent,
}

// Every object the demo's story leaves in the channel on both nodes, each
// version, validates against the OASIS STIX 2.1 JSON Schemas (its type's;
// for Parley's own types, which have none, the common core) with no error,
// and Parley's own types and reports against the extension's schema too.
// A type the demo emits that this test does not list fails it, and so
// does a listed type it did not see.
//
// With PARLEY_STIX_DUMP=DIR the objects are also written there, one file
// per object, for the OASIS validator (docs/conformance.md).
func TestDemoEmitsValidSTIX(t *testing.T) {
	schema := shareddata.STIXSchemas(t)
	ctx := context.Background()
	m, _, stderr := newMain("")
	if err := m.ParseFlags(ctx, []string{"demo"}); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(ctx); err != nil {
		t.Fatalf("demo: %v\n%s", err, stderr)
	}
	defer m.Close()
	if len(m.servers) != 2 {
		t.Fatalf("the demo runs %d servers, want 2", len(m.servers))
	}
	dump := os.Getenv("PARLEY_STIX_DUMP")
	seen := map[string]int{}
	for _, s := range m.servers {
		st := s.Node.Store
		chs, err := st.Channels(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(chs) != 1 {
			t.Fatalf("%s holds %d channels, want 1", s.Node.Config.Name, len(chs))
		}
		f := dialogue.ObjectFilter{Versions: dialogue.VersionMatch{All: true}, Limit: 1000}
		for {
			page, err := st.FindObjects(ctx, chs[0].ID, f)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range page.Objects {
				seen[o.Type]++
				checkEmitted(t, schema, o.Type, o.Raw)
				if dump != "" {
					name := s.Node.Config.Name + "-" + o.ID + "-" + o.Modified.Format("20060102T150405.000") + ".json"
					b, _ := json.Marshal(map[string]any{"type": "bundle", "id": stix.NewID("bundle"), "objects": []json.RawMessage{o.Raw}})
					if err := os.WriteFile(filepath.Join(dump, name), b, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			if !page.More {
				break
			}
			f.After = page.Next
		}
	}
	// Parley's extension-definition, as stored, is in the export of the
	// channel and in its TAXII object listing on both nodes.
	for _, s := range m.servers {
		st := s.Node.Store
		chs, _ := st.Channels(ctx)
		var out bytes.Buffer
		if _, err := writeBundle(ctx, &out, st, chs[0].ID, dialogue.ObjectFilter{Versions: dialogue.VersionMatch{All: true}, Limit: exportPage},
			func(context.Context, *dialogue.Object) (bool, error) { return true, nil }); err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(out.Bytes(), append(append([]byte("\n"), stix.ParleyExtension()...), ',')) {
			t.Errorf("the export of %s's channel lacks Parley's extension-definition", s.Node.Config.Name)
		}
		tok, err := dialogue.NewToken()
		if err == nil {
			err = st.CreateToken(ctx, demoUser, dialogue.HashToken(tok), "test")
		}
		if err != nil {
			t.Fatal(err)
		}
		client, err := taxii.NewClient(s.URL+"/taxii2/"+taxii.APIRoot+"/", taxii.ClientOptions{Token: tok, Pin: s.Pin})
		if err != nil {
			t.Fatal(err)
		}
		env, _, err := client.Objects(ctx, chs[0].ID, url.Values{"match[type]": {"extension-definition"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(env.Objects) != 1 || !bytes.Equal(env.Objects[0], stix.ParleyExtension()) {
			t.Errorf("%s's TAXII listing of extension-definitions: %d objects, want Parley's as stored", s.Node.Config.Name, len(env.Objects))
		}
	}
	var got []string
	for typ := range seen {
		got = append(got, typ)
		if !slices.Contains(demoEmittedTypes, typ) {
			t.Errorf("the demo emits %d objects of type %s, which this test does not list", seen[typ], typ)
		}
	}
	sort.Strings(got)
	for _, typ := range demoEmittedTypes {
		if seen[typ] == 0 {
			t.Errorf("the demo emitted no %s (it emitted %v)", typ, got)
		}
	}
}

// checkEmitted validates one emitted object: STIX (Parse), the OASIS
// schema of its type or, for Parley's types, the OASIS common core, and
// Parley's extension schema for Parley's types and reports.
func checkEmitted(t *testing.T, schema func(string) (*jsonschema.Schema, bool), typ string, raw []byte) {
	t.Helper()
	if _, _, err := stix.Parse(raw); err != nil {
		t.Errorf("Parse: %v\n%s", err, raw)
	}
	if err := stix.ValidateParley(raw); err != nil {
		t.Errorf("Parley's extension schema: %v\n%s", err, raw)
	}
	name := typ
	if stix.IsParleyType(typ) {
		name = "core"
	}
	s, ok := schema(name)
	if !ok {
		t.Errorf("no OASIS schema for %s\n%s", typ, raw)
		return
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(doc); err != nil {
		t.Errorf("the OASIS %s schema: %v\n%s", name, err, raw)
	}
}

// The sightings parley match files, which the demo does not make, meet
// the OASIS sighting schema too.
func TestSightingValidSTIX(t *testing.T) {
	schema := shareddata.STIXSchemas(t)
	self := dialogue.IdentityID("party-a+0123abcd+AQID")
	now := time.Date(2026, 12, 8, 1, 2, 3, 0, time.UTC)
	raw, err := sightingObject(self, "indicator--8e2e2d2b-17d4-4cbc-8938-098e6ffd4b01", now, now.Add(-time.Hour), now.Add(-time.Minute), 1<<40)
	if err != nil {
		t.Fatal(err)
	}
	checkEmitted(t, schema, "sighting", raw)
}
