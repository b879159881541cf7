package pattern_test

import (
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/pattern"
	"github.com/parleyhq/parley/internal/shareddata"
	"github.com/parleyhq/parley/internal/stix"
)

var columnRE = regexp.MustCompile(`line 1:(\d+)\.`)

type matcherCase struct {
	ID                string            `json:"id"`
	Pattern           string            `json:"pattern"`
	Expect            string            `json:"expect"`
	ErrorKind         string            `json:"error_kind"`
	StixVersion       string            `json:"stix_version"`
	Observed          []json.RawMessage `json:"observed"`
	ReturnedIDs       []string          `json:"expect_returned_observed_data_ids"`
	ReturnedCount     int               `json:"expect_returned_count"`
	ReturnedIDCompare string            `json:"returned_ids_compare"`
}

// observations builds the observations of a case: for STIX 2.1 a list
// of bundles, each read with stix.ParseBundle as the CLI does; for STIX
// 2.0 a list of observed-data with inline objects.
func observations(t *testing.T, c *matcherCase) []pattern.Observation {
	t.Helper()
	if c.StixVersion == "2.0" {
		obs, err := pattern.FromObjects(c.Observed)
		if err != nil {
			t.Fatalf("FromObjects: %v", err)
		}
		return obs
	}
	var all []pattern.Observation
	for _, raw := range c.Observed {
		b, err := stix.ParseBundle(raw)
		if err != nil {
			t.Fatalf("ParseBundle: %v", err)
		}
		obs, err := pattern.FromObjects(b.Objects)
		if err != nil {
			t.Fatalf("FromObjects: %v", err)
		}
		all = append(all, obs...)
	}
	return all
}

// TestMatcherConformance runs every case of the OASIS reference
// matcher's STIX 2.1 tests (cti-pattern-matcher, stix2matcher/test/v21)
// and its 12 STIX 2.0 cases, the latter under the 2.0 grammar
// (CompileVersion V20: START and STOP take string literals).
func TestMatcherConformance(t *testing.T) {
	var file struct {
		Cases []matcherCase `json:"cases"`
	}
	if err := json.Unmarshal(shareddata.File(t, "stix", "patterns", "matcher-v21.json"), &file); err != nil {
		t.Fatal(err)
	}
	if len(file.Cases) != 423 {
		t.Fatalf("matcher-v21.json has %d cases, want 423", len(file.Cases))
	}
	counts := map[string]int{}
	for i := range file.Cases {
		c := &file.Cases[i]
		t.Run(c.ID, func(t *testing.T) {
			v := pattern.V21
			if c.StixVersion == "2.0" {
				v = pattern.V20
			}
			counts[c.StixVersion+" "+c.Expect]++
			p, err := pattern.CompileVersion(c.Pattern, v)
			if err != nil {
				var se *pattern.SyntaxError
				if !errors.As(err, &se) {
					t.Fatalf("Compile(%q): error %v is not a *SyntaxError", c.Pattern, err)
				}
				if c.Expect != "error" {
					t.Fatalf("Compile(%q): %v; want %s", c.Pattern, err, c.Expect)
				}
				t.Logf("Compile(%q): %v (reference: %s)", c.Pattern, err, c.ErrorKind)
				return
			}
			if c.ErrorKind == "ParseException" {
				t.Fatalf("Compile(%q) succeeded; the reference rejects the pattern when parsing", c.Pattern)
			}
			obs := observations(t, c)
			found, err := p.Find(obs)
			switch {
			case c.Expect == "error" && err == nil:
				t.Fatalf("Match(%q) = %v, want an error", c.Pattern, found != nil)
			case c.Expect == "error":
				t.Logf("Match(%q): %v", c.Pattern, err)
				return
			case err != nil:
				t.Fatalf("Match(%q): %v; want %s", c.Pattern, err, c.Expect)
			case (found != nil) != (c.Expect == "match"):
				t.Fatalf("Match(%q) = %v, want %s", c.Pattern, found != nil, c.Expect)
			}
			var ids []string
			for _, i := range found {
				ids = append(ids, obs[i].ID)
			}
			if c.ReturnedCount > 0 && len(ids) != c.ReturnedCount {
				t.Errorf("Find(%q) bound %d observed-data %v, want %d", c.Pattern, len(ids), ids, c.ReturnedCount)
			}
			if c.ReturnedIDs != nil {
				got, want := slices.Clone(ids), slices.Clone(c.ReturnedIDs)
				if !strings.HasPrefix(c.ReturnedIDCompare, "exact") {
					slices.Sort(got)
					slices.Sort(want)
				}
				if !slices.Equal(got, want) {
					t.Errorf("Find(%q) bound %v, want %v (%s)", c.Pattern, ids, c.ReturnedIDs, c.ReturnedIDCompare)
				}
			}
		})
	}
	t.Logf("cases by version and outcome: %v", counts)
}

// TestValidatorConformance runs every case of the OASIS pattern
// validator's STIX 2.1 tests (cti-pattern-validator,
// stix2patterns/test/v21) through Check.
func TestValidatorConformance(t *testing.T) {
	var file struct {
		Cases []struct {
			ID          string `json:"id"`
			Pattern     string `json:"pattern"`
			Expect      string `json:"expect"`
			ErrorPrefix string `json:"error_prefix"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(shareddata.File(t, "stix", "patterns", "validator-v21.json"), &file); err != nil {
		t.Fatal(err)
	}
	if len(file.Cases) != 87 {
		t.Fatalf("validator-v21.json has %d cases, want 87", len(file.Cases))
	}
	for _, c := range file.Cases {
		t.Run(c.ID, func(t *testing.T) {
			err := pattern.Check(c.Pattern)
			if c.Expect == "valid" {
				if err != nil {
					t.Fatalf("Check(%q): %v; want valid", c.Pattern, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Check(%q) = nil; want invalid (%s)", c.Pattern, c.ErrorPrefix)
			}
			var se *pattern.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Check(%q): %v is not a *SyntaxError", c.Pattern, err)
			}
			// Where the reference names a column ("line 1:13."), the
			// position must be the same.
			if m := columnRE.FindStringSubmatch(c.ErrorPrefix); m != nil {
				if col, _ := strconv.Atoi(m[1]); col != se.Pos {
					t.Errorf("Check(%q): position %d, reference column %d", c.Pattern, se.Pos, col)
				}
			}
			t.Logf("Check(%q): %v (reference: %s)", c.Pattern, err, c.ErrorPrefix)
		})
	}
}
