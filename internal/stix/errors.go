package stix

import "strings"

// Error is one broken rule in one object.
type Error struct {
	ObjectID string // the object's id, or "" when it has none / is unreadable
	Pointer  string // JSON pointer to the property, e.g. "/pattern" or "/object_refs/2"; "" for the whole object
	Rule     string // short rule name, e.g. "required", "timestamp", "ref-type", "vocabulary"
	Message  string // what is wrong, for a person
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.ObjectID != "" {
		b.WriteString(e.ObjectID)
	} else {
		b.WriteString("object")
	}
	if e.Pointer != "" {
		b.WriteString(" ")
		b.WriteString(e.Pointer)
	}
	b.WriteString(": ")
	b.WriteString(e.Message)
	if e.Rule != "" {
		b.WriteString(" [")
		b.WriteString(e.Rule)
		b.WriteString("]")
	}
	return b.String()
}

// Errors is every broken rule found in one object (or bundle).
type Errors []*Error

func (es Errors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "; ")
}
