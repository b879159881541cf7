// Package stix parses and validates STIX 2.1 content: bundles, every
// object type of the specification, custom objects and properties, and
// the TLP 2.0 marking definitions.
//
// It must not import a database, net/http or the dialogue package: it
// knows STIX, nothing of where objects are stored or how they travel.
package stix

import (
	"encoding/json"
	"time"
)

// Object is one validated STIX object: the properties a store indexes,
// and the JSON exactly as received.
type Object struct {
	ID          string
	Type        string
	SpecVersion string    // "2.1" when the object (an SCO) omits it
	Created     time.Time // zero when absent
	Modified    time.Time // zero when absent
	Raw         []byte
}

// Bundle is a parsed STIX bundle whose objects are not yet validated.
type Bundle struct {
	ID       string
	Objects  []json.RawMessage
	Warnings []Warning
}

// Warning is something allowed but worth telling the user (a STIX 2.0
// leftover, a SHOULD rule broken).
type Warning struct {
	ObjectID string // "" for the bundle itself
	Pointer  string // a JSON pointer into the object, "" for the whole object
	Message  string
}

func (w Warning) String() string {
	s := w.ObjectID
	if s == "" {
		s = "bundle"
	}
	if w.Pointer != "" {
		s += " " + w.Pointer
	}
	return s + ": " + w.Message
}
