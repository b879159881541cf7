package stix

import (
	"encoding/json"
	"strings"
)

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
	if level, recipients, reportRefs, ok := readTLPFast(raw); ok {
		return level, recipients, reportRefs
	}
	return readTLPSlow(raw)
}

// readTLPSlow is ReadTLP by encoding/json: the definition of its answer.
func readTLPSlow(raw []byte) (level string, recipients, reportRefs []string) {
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

// tlpKeys are the members ReadTLP reads of an object.
var tlpKeys = [...]string{"type", "object_marking_refs", "object_refs", "extensions"}

// readTLPFast is readTLPSlow by the package's own decoder, which the read
// paths ask for every object they serve: several times faster than
// encoding/json. It answers (ok) only where the two agree for certain:
// valid JSON (its decoder refuses no less than encoding/json does), each
// member it reads present once under its exact name (encoding/json also
// takes a name that differs only in case, and the last of duplicates),
// and every value of the type readTLPSlow decodes it into; else
// readTLPSlow answers.
func readTLPFast(raw []byte) (level string, recipients, reportRefs []string, ok bool) {
	d := getDecoder(raw)
	defer d.release()
	v, err := d.decode()
	if err != nil || v.kind != kObject {
		return "", nil, nil, false
	}
	var found [len(tlpKeys)]*value
	for i := range v.members {
		m := &v.members[i]
		for k, name := range tlpKeys {
			if !equalFoldBytes(m.key, name) {
				continue
			}
			if string(m.key) != name || found[k] != nil {
				return "", nil, nil, false
			}
			found[k] = &m.val
		}
	}
	typ, marks, refs, exts := found[0], found[1], found[2], found[3]
	if typ != nil && typ.kind != kString && typ.kind != kNull {
		return "", nil, nil, false
	}
	marks2, ok := stringList(marks)
	if !ok {
		return "", nil, nil, false
	}
	refs2, ok := stringList(refs)
	if !ok {
		return "", nil, nil, false
	}
	rank := 0
	for _, id := range marks2 {
		if m, ok := TLP(id); ok && tlpRank[m.Level] > rank {
			rank = tlpRank[m.Level]
		}
	}
	if rank > 0 {
		level = tlpByRank[rank]
	}
	if exts != nil && exts.kind != kNull {
		if exts.kind != kObject {
			return "", nil, nil, false
		}
		var ext *value
		for i := range exts.members {
			if string(exts.members[i].key) == ParleyExtensionID {
				if ext != nil {
					return "", nil, nil, false
				}
				ext = &exts.members[i].val
			}
		}
		if ext != nil {
			if ext.kind != kObject {
				return "", nil, nil, false
			}
			var rs *value
			for i := range ext.members {
				m := &ext.members[i]
				if !equalFoldBytes(m.key, "recipients") {
					continue
				}
				if string(m.key) != "recipients" || rs != nil {
					return "", nil, nil, false
				}
				rs = &m.val
			}
			if recipients, ok = stringList(rs); !ok {
				return "", nil, nil, false
			}
		}
	}
	if typ != nil && typ.kind == kString && string(typ.raw) == "report" {
		reportRefs = refs2
	}
	return level, recipients, reportRefs, true
}

// stringList is v as a []string: nil for no value or null; ok false when
// v is anything but a list of strings.
func stringList(v *value) ([]string, bool) {
	if v == nil || v.kind == kNull {
		return nil, true
	}
	if v.kind != kArray {
		return nil, false
	}
	out := make([]string, len(v.elems))
	for i := range v.elems {
		if v.elems[i].kind != kString {
			return nil, false
		}
		out[i] = string(v.elems[i].raw)
	}
	return out, true
}

// equalFoldBytes reports whether b equals s under Unicode case folding,
// as encoding/json matches names.
func equalFoldBytes(b []byte, s string) bool {
	if len(b) == len(s) && string(b) == s {
		return true
	}
	return strings.EqualFold(string(b), s)
}
