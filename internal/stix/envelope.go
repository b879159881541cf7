package stix

import (
	"encoding/json"
	"unicode/utf8"
)

// Envelope is a JSON object that carries STIX objects in its "objects"
// member: a TAXII envelope, or a STIX bundle.
type Envelope struct {
	// Type is the "type" member when it is a string ("bundle" for a
	// bundle), "" when there is none; TypeKind says what JSON kind it
	// was ("" when absent).
	Type     string
	TypeKind string
	// HasObjects is whether there is an "objects" member; Objects are
	// its elements' JSON exactly as in the input (slices of it).
	HasObjects bool
	Objects    []json.RawMessage
}

// ParseEnvelope reads an envelope or a bundle as strictly as Parse reads
// an object: UTF-8 and JSON syntax, no duplicate member name at any
// level (inside the objects, that is left to Parse, which each of them
// must go through), numbers in range. The objects are only scanned. It
// checks nothing of a bundle's own properties (ParseBundle does). Errors
// are of type Errors, each with a JSON pointer: rule RuleJSON,
// RuleDuplicate or RuleNumber when the document is not acceptable JSON,
// RuleObject when it (or an element of objects) is not a JSON object,
// RuleValueType when objects is not a list; with the last two the
// Envelope is returned as well (a single STIX object may have an objects
// member of another shape).
func ParseEnvelope(data []byte) (*Envelope, error) {
	if !utf8.Valid(data) {
		return nil, jsonErrors(&jsonError{off: invalidUTF8At(data), rule: RuleJSON, msg: "not valid UTF-8"})
	}
	d := getDecoder(data)
	defer d.release()
	d.skipSpace()
	if d.pos >= len(data) || data[d.pos] != '{' {
		v, err := d.value()
		if err == nil {
			err = d.end()
		}
		if err != nil {
			return nil, jsonErrors(err)
		}
		return nil, Errors{{Rule: RuleObject, Message: "not a JSON object but " + kindName[v.kind]}}
	}
	s, err := d.scanBundle()
	if err == nil {
		err = d.end()
	}
	if err != nil {
		return nil, jsonErrors(err)
	}
	env := &Envelope{HasObjects: s.hasObjects}
	if s.typ != nil {
		env.TypeKind = kindName[s.typ.kind]
		if s.typ.kind == kString {
			env.Type = s.typ.str()
		}
	}
	if s.hasObjects {
		if s.objectsKind != kArray {
			return env, Errors{{Pointer: "/objects", Rule: RuleValueType, Message: "objects must be a list, not " + kindName[s.objectsKind]}}
		}
		var es Errors
		for _, bad := range s.notObjects {
			es = append(es, &Error{Pointer: jp("/objects", bad.i), Rule: RuleObject, Message: "not a JSON object but " + kindName[bad.k]})
		}
		if len(es) > 0 {
			return env, es
		}
		env.Objects = s.objects
		if env.Objects == nil {
			env.Objects = []json.RawMessage{}
		}
	}
	return env, nil
}

// CheckJSON checks that data is one JSON value as Parley accepts it from
// outside: valid UTF-8 and RFC 8259 syntax, no duplicate member name at
// any level, no number outside the range of a double and no integer
// beyond ±(2^53-1), nesting at most 256 deep. Readers that decode with
// encoding/json (which takes the last of two duplicate members and
// rounds numbers) call it first. The error is of type Errors, with the
// JSON pointer of what is wrong.
func CheckJSON(data []byte) error {
	d := getDecoder(data)
	defer d.release()
	if _, err := d.decode(); err != nil {
		return jsonErrors(err)
	}
	return nil
}
