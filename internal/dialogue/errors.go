package dialogue

import (
	"errors"
	"fmt"
)

// Kind is the class of an error: what a caller (and the HTTP layer, in one
// table) branches on. The set is kept small on purpose.
type Kind uint8

// The error kinds.
const (
	KindOther           Kind = iota // an internal failure; never the client's fault
	KindInvalid                     // the input breaks a rule; the message names field and rule
	KindNotFound                    // no such collection, object, user, status …
	KindConflict                    // the thing exists already, or differs from what exists
	KindForbidden                   // authenticated, but not allowed
	KindUnauthenticated             // no or bad credentials
	KindUnavailable                 // a dependency is down; retrying later may work
	KindTooLarge                    // the input is over a configured limit
	KindDiskFull                    // the node's disk (or its database) has no space left
)

var kindNames = [...]string{
	KindOther:           "internal error",
	KindInvalid:         "invalid",
	KindNotFound:        "not found",
	KindConflict:        "conflict",
	KindForbidden:       "forbidden",
	KindUnauthenticated: "unauthenticated",
	KindUnavailable:     "unavailable",
	KindTooLarge:        "too large",
	KindDiskFull:        "disk full",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// Error is an error with an operation name and a kind. Op names what was
// being done ("sqlite.AddObjects", "taxii.getObjects"); Err says what went
// wrong in words a user can act on.
type Error struct {
	Op   string
	Kind Kind
	Err  error
}

func (e *Error) Error() string {
	if e.Op == "" {
		return e.Err.Error()
	}
	return e.Op + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrNotFound) and the like work on any *Error of
// that kind.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Op == "" && t.Err == nil && t.Kind == e.Kind
}

// Sentinels for errors.Is: errors.Is(err, dialogue.ErrNotFound) is true for
// every *Error of kind KindNotFound in err's chain.
var (
	ErrInvalid         = &Error{Kind: KindInvalid}
	ErrNotFound        = &Error{Kind: KindNotFound}
	ErrConflict        = &Error{Kind: KindConflict}
	ErrForbidden       = &Error{Kind: KindForbidden}
	ErrUnauthenticated = &Error{Kind: KindUnauthenticated}
	ErrUnavailable     = &Error{Kind: KindUnavailable}
	ErrTooLarge        = &Error{Kind: KindTooLarge}
	ErrDiskFull        = &Error{Kind: KindDiskFull}
)

// DiskFullMessage is what a client is told of a KindDiskFull error; the
// wrapped error, which names a file or the database, stays in the node's
// log.
const DiskFullMessage = "the disk is full"

// Errorf returns an *Error of the given kind whose message is formatted
// as fmt.Errorf would (so %w wraps).
func Errorf(op string, kind Kind, format string, args ...any) error {
	return &Error{Op: op, Kind: kind, Err: fmt.Errorf(format, args...)}
}

// E wraps err with an operation and a kind. A nil err gives nil.
func E(op string, kind Kind, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Op: op, Kind: kind, Err: err}
}

// KindOf returns the kind of the outermost *Error in err's chain that has
// a kind other than KindOther, or KindOther.
func KindOf(err error) Kind {
	for err != nil {
		var e *Error
		if !errors.As(err, &e) {
			return KindOther
		}
		if e.Kind != KindOther {
			return e.Kind
		}
		err = e.Err
	}
	return KindOther
}

// Message returns the error's text without operation names: what a remote
// client may be shown. Internal errors (KindOther) are replaced by a
// generic text so that no SQL or stack detail leaks, and a full disk by
// DiskFullMessage, so that no file name does.
func Message(err error) string {
	switch KindOf(err) {
	case KindOther:
		return "internal error"
	case KindDiskFull:
		return DiskFullMessage
	}
	for {
		var e *Error
		if !errors.As(err, &e) {
			return err.Error()
		}
		if e.Kind != KindOther || e.Op != "" {
			err = e.Err
			continue
		}
		return e.Err.Error()
	}
}
