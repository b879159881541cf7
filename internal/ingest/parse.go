package ingest

import (
	"encoding/json"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/pattern"
	"github.com/parleyhq/parley/internal/stix"
)

// Parse validates one STIX object as every write path must: stix.Parse,
// then, for an indicator whose pattern_type is "stix", the full pattern
// check of package pattern (which stix cannot import: pattern imports
// stix). Errors are stix.Errors, a broken pattern at /pattern with rule
// stix.RulePattern.
func Parse(raw []byte) (*stix.Object, []stix.Warning, error) {
	o, warns, err := stix.Parse(raw)
	if err != nil || o.Type != "indicator" {
		return o, warns, err
	}
	var ind struct {
		Pattern     string `json:"pattern"`
		PatternType string `json:"pattern_type"`
	}
	// stix.Parse has checked that both are strings
	if err := json.Unmarshal(raw, &ind); err != nil {
		return nil, warns, stix.Errors{{ObjectID: o.ID, Rule: stix.RuleJSON, Message: err.Error()}}
	}
	if ind.PatternType != "stix" {
		return o, warns, nil
	}
	if err := pattern.Check(ind.Pattern); err != nil {
		return nil, warns, stix.Errors{{ObjectID: o.ID, Pointer: "/pattern", Rule: stix.RulePattern, Message: dialogue.Message(err)}}
	}
	return o, warns, nil
}
