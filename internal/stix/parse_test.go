package stix

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/shareddata"
)

// parseFile parses a file that holds a bundle or a single object and
// returns every object's error and warnings.
func parseFile(t *testing.T, data []byte) (b *Bundle, errs map[string]error, warns []Warning) {
	t.Helper()
	errs = map[string]error{}
	var probe struct{ Type string }
	if err := json.Unmarshal(data, &probe); err != nil {
		t.Fatalf("test data is not JSON: %v", err)
	}
	objs := []json.RawMessage{data}
	if probe.Type == "bundle" {
		var err error
		b, err = ParseBundle(data)
		if err != nil {
			t.Fatalf("ParseBundle: %v", err)
		}
		objs = b.Objects
		warns = append(warns, b.Warnings...)
	}
	for _, raw := range objs {
		o, w, err := Parse(raw)
		warns = append(warns, w...)
		if err != nil {
			var id struct{ ID string }
			_ = json.Unmarshal(raw, &id)
			errs[id.ID] = err
			continue
		}
		if !ValidID(o.ID) || IDType(o.ID) != o.Type {
			t.Errorf("accepted object with bad id %q / type %q", o.ID, o.Type)
		}
		if string(o.Raw) != string(raw) {
			t.Errorf("%s: Raw is not the input", o.ID)
		}
	}
	return b, errs, warns
}

func TestExamples(t *testing.T) {
	dir := shareddata.Dir(t, "stix", "examples")
	var files []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".json") {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 8 {
		t.Fatalf("found only %d example files in %s", len(files), dir)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			_, errs, _ := parseFile(t, data)
			for id, err := range errs {
				t.Errorf("%s: %v", id, err)
			}
		})
	}
}

func TestATTACK(t *testing.T) {
	for _, tc := range []struct {
		file        string
		objects     int
		bundleWarns int
		// known MUST violations in the published data: id → rule
		rejected map[string]string
	}{
		{"ics-attack-18.1.json", 1826, 0, nil},
		// This relationship has modified (2018-04-30) before created
		// (2018-10-17), which STIX 2.1 forbids; Parley rejects it.
		{"mobile-attack-14.0.json", 2187, 1, map[string]string{"relationship--f825f5ea-3815-431f-b005-4c01b8b2fed9": RuleTimeOrder}},
		{"mobile-attack-17.1.json", 2148, 0, nil},
	} {
		t.Run(tc.file, func(t *testing.T) {
			b, errs, _ := parseFile(t, shareddata.File(t, "attack", tc.file))
			if len(b.Objects) != tc.objects {
				t.Errorf("got %d objects, want %d", len(b.Objects), tc.objects)
			}
			if len(b.Warnings) != tc.bundleWarns {
				t.Errorf("bundle warnings %v, want %d", b.Warnings, tc.bundleWarns)
			}
			if tc.bundleWarns > 0 && b.Warnings[0].Pointer != "/spec_version" {
				t.Errorf("bundle warning %v does not name /spec_version", b.Warnings[0])
			}
			for id, err := range errs {
				rule, ok := tc.rejected[id]
				if !ok {
					t.Errorf("%s: %v", id, err)
					continue
				}
				es := err.(Errors)
				if len(es) != 1 || es[0].Rule != rule || es[0].ObjectID != id {
					t.Errorf("%s: got %v, want one %s error", id, err, rule)
				}
			}
			if len(errs) != len(tc.rejected) {
				t.Errorf("%d objects rejected, want %d", len(errs), len(tc.rejected))
			}
		})
	}
}

func TestValidatorFiles(t *testing.T) {
	for _, tc := range []struct {
		file    string
		rule    string // "" when valid
		pointer string
	}{
		{"identity.json", "", ""},
		{"identity_custom.json", "", ""},
		{"identity_unicode.json", "", ""},
		{"identity_warning.json", "", ""},
		{"tlp-amber.json", "", ""},
		{"tool.json", "", ""},
		{"invalid_braces.json", RuleJSON, ""},
		{"invalid_comma.json", RuleJSON, ""},
		{"invalid_identity.json", RuleRequired, "/modified"},
		{"invalid_timestamp.json", RuleTimeOrder, "/modified"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			data := shareddata.File(t, "stix", "validator", tc.file)
			var err error
			if strings.Contains(string(data[:min(len(data), 40)]), `"bundle"`) {
				var b *Bundle
				b, err = ParseBundle(data)
				if err == nil {
					for _, o := range b.Objects {
						if _, _, err = Parse(o); err != nil {
							break
						}
					}
				}
			} else {
				_, _, err = Parse(data)
			}
			if tc.rule == "" {
				if err != nil {
					t.Fatalf("valid file rejected: %v", err)
				}
				return
			}
			es, ok := err.(Errors)
			if !ok || len(es) == 0 {
				t.Fatalf("got %v, want Errors with rule %s", err, tc.rule)
			}
			if es[0].Rule != tc.rule || es[0].Pointer != tc.pointer {
				t.Errorf("got %v, want rule %s at %q", err, tc.rule, tc.pointer)
			}
			if tc.rule != RuleJSON && es[0].ObjectID != "identity--8c6af861-7b20-41ef-9b59-6344fd872a8f" {
				t.Errorf("error does not name the object: %v", es[0])
			}
		})
	}
}
