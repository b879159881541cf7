package tlog

import (
	"errors"
	"fmt"

	"github.com/parleyhq/parley/internal/dialogue"
)

// Sentinel errors. Callers branch on them with errors.Is; every error this
// package returns is also a *dialogue.Error with a kind and an op name.
//
// The witness endpoint maps them to the statuses C2SP tlog-witness gives:
// ErrMalformed → 400, ErrBadSignature → 403, ErrUnknownOrigin → 404,
// ErrStaleSize and ErrFork → 409 (the body of a stale-size answer is
// [ConflictError.Known] in decimal and a newline, Content-Type
// text/x.tlog.size), ErrBadProof → 422.
var (
	// ErrMalformed: the input does not parse (a checkpoint, a note, a
	// witness request, a proof, a tile path). The message names the line or
	// field and the reason.
	ErrMalformed = errors.New("malformed")
	// ErrBadSignature: no signature from a trusted key verifies, or a
	// signature from a trusted key is wrong.
	ErrBadSignature = errors.New("bad signature")
	// ErrUnknownOrigin: the checkpoint names a log this witness does not
	// know.
	ErrUnknownOrigin = errors.New("unknown log origin")
	// ErrStaleSize: the old size of a witness request is not the size the
	// witness last cosigned. The error is a *ConflictError carrying that size.
	ErrStaleSize = errors.New("old size is not the latest cosigned size")
	// ErrFork: a checkpoint has the size of one already seen with another
	// root hash. The error is a *ConflictError.
	ErrFork = errors.New("same tree size with another root hash")
	// ErrBadProof: an inclusion or consistency proof does not verify.
	ErrBadProof = errors.New("proof does not verify")
	// ErrTooLarge: an entry is too large for an entry bundle (65535 bytes).
	ErrTooLarge = errors.New("too large")
	// ErrNotFound: a tile or a tree size beyond the log.
	ErrNotFound = errors.New("not found")
	// ErrVerify: VerifyLog or VerifyRemote found the log broken; the error
	// is a *VerifyError naming what broke.
	ErrVerify = errors.New("log does not verify")
)

// kindOf gives the dialogue kind of a sentinel.
func kindOf(sentinel error) dialogue.Kind {
	switch sentinel {
	case ErrMalformed, ErrBadProof:
		return dialogue.KindInvalid
	case ErrBadSignature:
		return dialogue.KindForbidden
	case ErrUnknownOrigin, ErrNotFound:
		return dialogue.KindNotFound
	case ErrStaleSize, ErrFork:
		return dialogue.KindConflict
	case ErrTooLarge:
		return dialogue.KindTooLarge
	case ErrVerify:
		return dialogue.KindInvalid
	}
	return dialogue.KindOther
}

// sentinelError joins a message to its sentinel so that errors.Is finds the
// sentinel and the text reads as one sentence.
type sentinelError struct {
	sentinel error
	msg      string
	err      error // optional cause
}

func (e *sentinelError) Error() string {
	if e.err != nil {
		return e.msg + ": " + e.err.Error()
	}
	return e.msg
}

func (e *sentinelError) Unwrap() []error {
	if e.err != nil {
		return []error{e.sentinel, e.err}
	}
	return []error{e.sentinel}
}

// errorf returns a *dialogue.Error of the sentinel's kind whose text is the
// formatted message.
func errorf(op string, sentinel error, format string, args ...any) error {
	return &dialogue.Error{Op: op, Kind: kindOf(sentinel), Err: &sentinelError{sentinel: sentinel, msg: fmt.Sprintf(format, args...)}}
}

// wrapf is errorf with a cause kept in the chain.
func wrapf(op string, sentinel error, cause error, format string, args ...any) error {
	return &dialogue.Error{Op: op, Kind: kindOf(sentinel), Err: &sentinelError{sentinel: sentinel, msg: fmt.Sprintf(format, args...), err: cause}}
}

// ConflictError is the error of a witness request that conflicts with what
// the witness knows: a stale old size (errors.Is ErrStaleSize) or a fork
// (errors.Is ErrFork).
type ConflictError struct {
	// Known is the tree size of the latest checkpoint the witness cosigned
	// for the origin; the 409 answer carries it.
	Known uint64
	// Fork is true when the checkpoint has the known size and another root.
	Fork bool
}

func (e *ConflictError) Error() string {
	if e.Fork {
		return fmt.Sprintf("checkpoint has size %d, already cosigned with another root hash (a fork)", e.Known)
	}
	return fmt.Sprintf("old size does not match the latest cosigned size %d", e.Known)
}

// Is makes errors.Is(err, ErrStaleSize) or errors.Is(err, ErrFork) true.
func (e *ConflictError) Is(target error) bool {
	if e.Fork {
		return target == ErrFork
	}
	return target == ErrStaleSize
}

// VerifyError names the first thing VerifyLog or VerifyRemote found broken.
type VerifyError struct {
	// What is "entry", "stored hash", "checkpoint", "tile" or "log".
	What string
	// Index is the entry index, the stored-hash index or the checkpoint's
	// tree size; -1 when nothing narrower than What applies.
	Index int64
	// Reason says what is wrong.
	Reason string
}

func (e *VerifyError) Error() string {
	if e.Index < 0 {
		return e.What + ": " + e.Reason
	}
	switch e.What {
	case "checkpoint":
		return fmt.Sprintf("checkpoint at size %d: %s", e.Index, e.Reason)
	}
	return fmt.Sprintf("%s %d: %s", e.What, e.Index, e.Reason)
}

// Is makes errors.Is(err, ErrVerify) true.
func (e *VerifyError) Is(target error) bool { return target == ErrVerify }

func verifyErr(op, what string, index int64, format string, args ...any) error {
	return &dialogue.Error{Op: op, Kind: dialogue.KindInvalid, Err: &VerifyError{What: what, Index: index, Reason: fmt.Sprintf(format, args...)}}
}

// conflictErr wraps a *ConflictError with the conflict kind and an op name.
func conflictErr(op string, e *ConflictError) error {
	return &dialogue.Error{Op: op, Kind: dialogue.KindConflict, Err: e}
}

func asErr[T error](err error, target *T) bool { return errors.As(err, target) }
