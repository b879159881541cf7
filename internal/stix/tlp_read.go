package stix

import (
	"encoding/json"
	"strings"
	"unicode/utf8"
	"unsafe"
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
	if level, recipients, reportRefs, ok := readTLPFast(raw, true); ok {
		return level, recipients, reportRefs
	}
	return readTLPSlow(raw)
}

// ReadMarking is ReadTLP without a report's object_refs: the level and
// recipients of an object's own marking, the same as ReadTLP's, for the
// gate's decision on each object served (dialogue.Gate.ReadMarking),
// which never needs the list of a report's references.
func ReadMarking(raw []byte) (level string, recipients []string) {
	if level, recipients, _, ok := readTLPFast(raw, false); ok {
		return level, recipients
	}
	level, recipients, _ = readTLPSlow(raw)
	return level, recipients
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

// recipientsKey is the member ReadTLP reads of Parley's extension.
var recipientsKey = [...]string{"recipients"}

const (
	keyType = iota
	keyMarkings
	keyRefs
	keyExtensions
)

// readTLPFast is readTLPSlow by the package's own scanner, which the read
// paths ask for every object they serve: it reads the members ReadTLP
// needs and only checks the syntax of the others (skip), building
// nothing and copying only the strings it returns. It answers (ok) only
// where the two agree for certain: valid JSON (the scanner refuses
// no less than encoding/json does; it does not check UTF-8, which
// encoding/json does not either), each member it reads
// present once under its exact name (encoding/json also takes a name that
// differs only in case, and the last of duplicates), and every value of
// the type readTLPSlow decodes it into, and each string it returns valid
// UTF-8 (encoding/json would change what is not); else readTLPSlow
// answers. With refs false it checks a report's object_refs but leaves
// reportRefs nil: level and recipients are the same either way (a
// reference that is not valid UTF-8 changes neither).
func readTLPFast(raw []byte, refs bool) (level string, recipients, reportRefs []string, ok bool) {
	d := getDecoder(raw)
	defer d.release()
	d.skipSpace()
	var (
		seen     [len(tlpKeys)]bool
		isReport bool
		rank     int
		refsAt   = -1 // the offset of object_refs' list
		refsEnd  int  // of its end
		refsN    int  // and its length
	)
	ok = d.scanMembers(func(key []byte) bool {
		k := tlpMember(key, tlpKeys[:])
		switch {
		case k == -1:
			_, err := d.skip()
			return err == nil
		case k < 0 || seen[k]:
			return false
		}
		seen[k] = true
		switch k {
		case keyType:
			switch s, kd, ok := d.stringOrNull(); {
			case !ok:
				return false
			case kd == kString:
				isReport = string(s) == "report"
			}
			return true
		case keyMarkings:
			return d.scanStrings(func(id []byte) {
				if m, ok := tlpByID[string(id)]; ok {
					rank = max(rank, tlpRank[m.Level])
				}
			})
		case keyRefs:
			refsAt = d.pos
			ok := d.scanStrings(func([]byte) { refsN++ })
			refsEnd = d.pos
			return ok
		}
		return d.extensions(&recipients)
	})
	if !ok || d.end() != nil {
		return "", nil, nil, false
	}
	if rank > 0 {
		level = tlpByRank[rank]
	}
	if refs && isReport && refsAt >= 0 {
		d.pos = refsAt
		if reportRefs, ok = d.stringList(refsN, refsEnd); !ok {
			return "", nil, nil, false
		}
	}
	return level, recipients, reportRefs, true
}

// tlpMember says which of names key is: its index when it is exactly
// that name; -1 when it is none of them, even under the Unicode case
// folding encoding/json matches member names with; -2 when it differs
// from one of them only by that folding (readTLPFast does not decide).
func tlpMember(key []byte, names []string) int {
	ascii := true
	for _, c := range key {
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	for i, n := range names {
		if string(key) == n {
			return i
		}
	}
	for _, n := range names {
		// An ASCII name folds to one of its own length only.
		if (!ascii || len(key) == len(n)) && strings.EqualFold(aliasString(key), n) {
			return -2
		}
	}
	return -1
}

// scanMembers scans the object at d.pos, calling member with the name of
// each of its members, d.pos at the member's value, which member must
// read or skip; false when the value is not an object, is not valid JSON,
// or member returns false. A name is valid only while member runs.
func (d *decoder) scanMembers(member func(key []byte) bool) bool {
	if d.pos >= len(d.data) || d.data[d.pos] != '{' {
		return false
	}
	d.pos++
	d.depth++
	if d.depth > maxDepth {
		return false
	}
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		d.depth--
		return true
	}
	d.push(false)
	for {
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			return false
		}
		key, err := d.string()
		if err != nil || d.colon() != nil || !member(key) {
			return false
		}
		end, err := d.next()
		if err != nil {
			return false
		}
		if end {
			break
		}
	}
	d.pop()
	d.depth--
	return true
}

// stringOrNull reads the string (its contents, unescaped) or null at
// d.pos; ok false for anything else.
func (d *decoder) stringOrNull() (s []byte, k kind, ok bool) {
	if d.pos < len(d.data) && d.data[d.pos] == '"' {
		s, err := d.string()
		return s, kString, err == nil
	}
	if _, err := d.literal("null", value{}); err != nil {
		return nil, 0, false
	}
	return nil, kNull, true
}

// scanStrings reads the list of strings or null at d.pos, calling each with
// every string (unescaped; valid only while each runs); false for
// anything else.
func (d *decoder) scanStrings(each func(s []byte)) bool {
	if d.pos < len(d.data) && d.data[d.pos] == 'n' {
		_, err := d.literal("null", value{})
		return err == nil
	}
	if d.pos >= len(d.data) || d.data[d.pos] != '[' {
		return false
	}
	d.pos++
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		return true
	}
	for {
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			return false
		}
		s, err := d.string()
		if err != nil {
			return false
		}
		each(s)
		if done, err := d.listNext(); done || err != nil {
			return err == nil
		}
	}
}

// stringList is the list of n strings or null from d.pos to end, which
// scanStrings has checked, as readTLPSlow decodes it: nil for null, a
// list (empty, not nil, for []) otherwise; false when a string is not
// valid UTF-8. The strings written without escapes share one copy of the
// list's text (a report's object_refs are many).
func (d *decoder) stringList(n, end int) ([]string, bool) {
	if d.data[d.pos] == 'n' {
		return nil, true
	}
	base := d.pos
	text := string(d.data[base:end])
	out := make([]string, 0, n)
	valid := true
	d.scanStrings(func(s []byte) {
		valid = valid && utf8.Valid(s)
		// d.pos is past the string's closing quote; s is the text
		// before it when the string has no escapes.
		if i := d.pos - 1 - len(s); len(s) > 0 && i > base && unsafe.SliceData(s) == &d.data[i] {
			out = append(out, text[i-base:d.pos-1-base])
		} else {
			out = append(out, string(s))
		}
	})
	return out, valid
}

// extensions reads the extensions member at d.pos, null or an object,
// and from it the recipients of Parley's property-extension; false where
// readTLPFast does not decide.
func (d *decoder) extensions(recipients *[]string) bool {
	if d.pos < len(d.data) && d.data[d.pos] == 'n' {
		_, err := d.literal("null", value{})
		return err == nil
	}
	found := false
	return d.scanMembers(func(key []byte) bool {
		if string(key) != ParleyExtensionID {
			_, err := d.skip()
			return err == nil
		}
		if found {
			return false
		}
		found = true
		seen := false
		return d.scanMembers(func(key []byte) bool {
			switch tlpMember(key, recipientsKey[:]) {
			case -1:
				_, err := d.skip()
				return err == nil
			case -2:
				return false
			}
			if seen {
				return false
			}
			seen = true
			at, n := d.pos, 0
			if !d.scanStrings(func([]byte) { n++ }) {
				return false
			}
			end := d.pos
			d.pos = at
			var ok bool
			*recipients, ok = d.stringList(n, end)
			d.pos = end
			return ok
		})
	})
}
