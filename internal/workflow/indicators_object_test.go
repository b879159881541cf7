package workflow

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/stix"
)

// The indicator Parley makes of an indicator line has a name and a
// description (the OASIS validator's best practice, code 303) and is
// valid STIX.
func TestIndicatorObjectDescribed(t *testing.T) {
	lines, fe := ParseIndicators("203.0.113.7\nevil.example\n")
	if fe != nil {
		t.Fatal(fe)
	}
	for _, l := range lines {
		raw, _ := json.Marshal(indicatorObject(l, "2026-12-08T00:00:00.000Z"))
		if _, _, err := stix.Parse(raw); err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		var o struct{ Name, Description string }
		json.Unmarshal(raw, &o)
		if o.Name == "" || !strings.Contains(o.Description, o.Name) || !strings.Contains(o.Description, "indicator line") {
			t.Errorf("indicator of line %d: name %q, description %q", l.Line, o.Name, o.Description)
		}
	}
}
