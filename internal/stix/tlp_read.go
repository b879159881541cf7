package stix

import "encoding/json"

// tlpRank orders the TLP levels from the least to the most restrictive;
// TLP 1.0 WHITE reads as CLEAR.
var tlpRank = map[string]int{"clear": 1, "white": 1, "green": 2, "amber": 3, "amber+strict": 4, "red": 5}

var tlpByRank = [...]string{1: "clear", 2: "green", 3: "amber", 4: "amber+strict", 5: "red"}

// ReadTLP reads what an object's JSON says about TLP, for the read paths'
// policy (dialogue.Visible, through dialogue.TLPView):
//
//   - level: the TLP 2.0 name ("clear", "green", "amber", "amber+strict",
//     "red") of the most restrictive published TLP marking (1.0 or 2.0; WHITE
//     is "clear") in object_marking_refs, or "" when it has none. Granular
//     markings are not interpreted. JSON that is not an object reads as
//     "red": what cannot be read is not shown.
//   - recipients: the "recipients" of Parley's property-extension (user
//     names and "role:ROLE", for a RED object).
//   - reportRefs: the object_refs of a report (nil for other types).
func ReadTLP(raw []byte) (level string, recipients, reportRefs []string) {
	var o struct {
		Type       string                     `json:"type"`
		Markings   []string                   `json:"object_marking_refs"`
		ObjectRefs []string                   `json:"object_refs"`
		Extensions map[string]json.RawMessage `json:"extensions"`
	}
	if err := json.Unmarshal(raw, &o); err != nil {
		return "red", nil, nil
	}
	rank := 0
	for _, id := range o.Markings {
		if m, ok := TLP(id); ok && tlpRank[m.Level] > rank {
			rank = tlpRank[m.Level]
		}
	}
	if rank > 0 {
		level = tlpByRank[rank]
	}
	if ext, ok := o.Extensions[ParleyExtensionID]; ok {
		var p struct {
			Recipients []string `json:"recipients"`
		}
		json.Unmarshal(ext, &p)
		recipients = p.Recipients
	}
	if o.Type == "report" {
		reportRefs = o.ObjectRefs
	}
	return level, recipients, reportRefs
}
