package dialogue_test

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/shareddata"
	"github.com/parleyhq/parley/internal/stix"
)

// mispValues returns the values (code → expanded name) of a MISP
// taxonomy's predicate.
func mispValues(t *testing.T, taxonomy, predicate string) map[string]string {
	t.Helper()
	var tx struct {
		Values []struct {
			Predicate string `json:"predicate"`
			Entry     []struct {
				Value    string `json:"value"`
				Expanded string `json:"expanded"`
			} `json:"entry"`
		} `json:"values"`
	}
	if err := json.Unmarshal(shareddata.File(t, "misp", "taxonomies", taxonomy, "machinetag.json"), &tx); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, v := range tx.Values {
		if v.Predicate == predicate {
			for _, e := range v.Entry {
				out[e.Value] = e.Expanded
			}
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s has no values of %s", taxonomy, predicate)
	}
	return out
}

// Parley's copy of the sector lists agrees with the MISP taxonomies: the
// same codes in each list, the same names (up to case).
func TestSectorsMatchMISP(t *testing.T) {
	us := mispValues(t, "dhs-ciip-sectors", "DHS-critical-sectors")
	eu := mispValues(t, "nis2", "impact-sectors-impacted")
	if len(us) != 16 || len(eu) != 18 {
		t.Fatalf("MISP lists %d US and %d NIS2 sectors, want 16 and 18", len(us), len(eu))
	}
	gotUS, gotEU := map[string]string{}, map[string]string{}
	for _, s := range dialogue.Sectors {
		if s.US != "" {
			gotUS[s.Code] = s.US
		}
		if s.EU != "" {
			gotEU[s.Code] = s.EU
		}
		if len(s.Lists()) == 0 {
			t.Errorf("%s is in no list", s.Code)
		}
	}
	check := func(list string, want, got map[string]string) {
		for code, name := range want {
			g, ok := got[code]
			if !ok {
				t.Errorf("%s: MISP has %s (%s), Parley does not", list, code, name)
				continue
			}
			if !strings.EqualFold(g, name) {
				t.Errorf("%s: %s is %q in Parley, %q in MISP", list, code, g, name)
			}
		}
		for code := range got {
			if _, ok := want[code]; !ok {
				t.Errorf("%s: Parley has %s, MISP does not", list, code)
			}
		}
	}
	check(dialogue.SectorListUS, us, gotUS)
	check(dialogue.SectorListEU, eu, gotEU)
	if len(dialogue.Sectors) != 16+18-3 {
		t.Errorf("%d sectors, want 31 (three codes in both lists)", len(dialogue.Sectors))
	}
}

// The extension schema enumerates the same codes.
func TestSectorsMatchSchema(t *testing.T) {
	var s struct {
		Defs struct {
			Sector struct {
				Enum []string `json:"enum"`
			} `json:"sector"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(stix.ParleySchema(), &s); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.Defs.Sector.Enum, dialogue.SectorCodes()) {
		t.Errorf("schema sectors %v\nParley's %v", s.Defs.Sector.Enum, dialogue.SectorCodes())
	}
}

func TestParseSector(t *testing.T) {
	for in, want := range map[string][]string{
		"energy":              {dialogue.SectorListUS, dialogue.SectorListEU},
		" Healthcare-Public ": {dialogue.SectorListUS},
		"drinking-water":      {dialogue.SectorListEU},
	} {
		s, err := dialogue.ParseSector(in)
		if err != nil || !slices.Equal(s.Lists(), want) {
			t.Errorf("ParseSector(%q) = %+v, %v; want lists %v", in, s, err, want)
		}
	}
	for _, bad := range []string{"", "shipping", "energy,water", "dhs-ciip-sectors:energy"} {
		_, err := dialogue.ParseSector(bad)
		if dialogue.KindOf(err) != dialogue.KindInvalid || !strings.Contains(err.Error(), "sector "+strconv.Quote(bad)) || !strings.Contains(err.Error(), "healthcare-public") {
			t.Errorf("ParseSector(%q): %v", bad, err)
		}
	}
}

func FuzzParseSector(f *testing.F) {
	f.Add("energy")
	f.Add("ÉNERGY")
	f.Fuzz(func(t *testing.T, s string) {
		sec, err := dialogue.ParseSector(s)
		if err == nil && !slices.Contains(dialogue.SectorCodes(), sec.Code) {
			t.Fatalf("%q parsed as unknown %q", s, sec.Code)
		}
	})
}
