package dialogue

import (
	"errors"
	"fmt"
	"strings"
)

// FieldError is the refusal of one field of an input: Field is its name
// (as the JSON API and the web UI's forms call it), Reason an English
// format saying what is wrong and Args its arguments. Reason is a key of
// the web UI's message catalogue, so the UI shows the same refusal in the
// user's language; the CLI and the API show Error().
type FieldError struct {
	Field, Reason string
	Args          []any
}

// Error is the field's name and the reason formatted: "tlp: required; …".
func (e *FieldError) Error() string { return e.Field + ": " + fmt.Sprintf(e.Reason, e.Args...) }

// FieldErrors are the refusals of the fields of one input, in the order of
// its fields.
type FieldErrors []*FieldError

// Error is each refusal, one a line.
func (es FieldErrors) Error() string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// Unwrap lets errors.As find each *FieldError.
func (es FieldErrors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// Field returns the refusal of a field; nil when there is none.
func (es FieldErrors) Field(name string) *FieldError {
	for _, e := range es {
		if e.Field == name {
			return e
		}
	}
	return nil
}

// InvalidFields returns the refusals as one KindInvalid error of the
// operation; nil when there are none.
func InvalidFields(op string, es ...*FieldError) error {
	if len(es) == 0 {
		return nil
	}
	return &Error{Op: op, Kind: KindInvalid, Err: FieldErrors(es)}
}

// FieldErrorsOf returns the field refusals an error carries (FieldErrors
// or a single *FieldError in its chain); nil when it carries none.
func FieldErrorsOf(err error) FieldErrors {
	var es FieldErrors
	if errors.As(err, &es) {
		return es
	}
	var e *FieldError
	if errors.As(err, &e) {
		return FieldErrors{e}
	}
	return nil
}
