package dialogue

import (
	"fmt"
	"time"
)

// The dialogue: the objects the parties exchange on a channel
// beside plain STIX, and the rules they follow. Every dialogue object is a
// STIX 2.1 object of a type Parley's extension-definition declares
// (internal/stix: ParleyExtensionID), travels as an entry of its sender's
// log, and is never changed: a state change is a new object that names
// the one it changes. The state of an item is computed from the objects of
// both logs, and the clock, never stored by hand.

// Party is one side of a channel: this node's party or the peer's.
type Party struct {
	// Name is the node's name (its log key's name).
	Name string
	// IdentityID is the party's STIX identity (IdentityID of its log
	// key): the created_by_ref of what it sends.
	IdentityID string
	// Local is true for this node's own party.
	Local bool
}

// RequestState is where an assistance request stands.
type RequestState string

// The states of an assistance request.
const (
	RequestSubmitted    RequestState = "submitted"
	RequestAcknowledged RequestState = "acknowledged"
	RequestAnswered     RequestState = "answered"
	RequestClosed       RequestState = "closed"
	RequestDeclined     RequestState = "declined"
)

// RequestAction is a move of an assistance request from one state to
// another.
type RequestAction string

// The moves of an assistance request.
const (
	ActionAcknowledge RequestAction = "acknowledge"
	ActionAnswer      RequestAction = "answer"
	ActionDecline     RequestAction = "decline"
	ActionClose       RequestAction = "close"
)

// ResponseKind is what an answer says was done.
type ResponseKind string

// The kinds of answer to an assistance request.
const (
	ResponseFound       ResponseKind = "investigated-found"
	ResponseFoundNone   ResponseKind = "investigated-nothing-found"
	ResponseTakedown    ResponseKind = "action-takedown"
	ResponseBlocking    ResponseKind = "action-blocking"
	ResponseNotified    ResponseKind = "action-operator-notified"
	ResponseCannotAct   ResponseKind = "cannot-act"
	responseKindsListed              = "investigated-found, investigated-nothing-found, action-takedown, action-blocking, action-operator-notified, cannot-act"
)

// ResponseKinds lists the kinds of answer, in the order help texts show
// them.
var ResponseKinds = []ResponseKind{ResponseFound, ResponseFoundNone, ResponseTakedown, ResponseBlocking, ResponseNotified, ResponseCannotAct}

// ParseResponseKind checks a kind of answer.
func ParseResponseKind(s string) (ResponseKind, error) {
	for _, k := range ResponseKinds {
		if string(k) == s {
			return k, nil
		}
	}
	return "", Errorf("dialogue.ParseResponseKind", KindInvalid, "kind %q: want one of %s", s, responseKindsListed)
}

// NextRequestState applies a move to a request in state from, made by the
// requesting party (byRequester) or the receiving one. It returns the new
// state, or an error of kind KindForbidden (wrong party) or KindConflict
// (wrong state) saying who may do what. A decline needs a reason, and an
// answer a kind; a cannot-act answer needs a reason too (KindInvalid).
func NextRequestState(from RequestState, a RequestAction, byRequester bool, kind ResponseKind, reason string) (RequestState, error) {
	const op = "dialogue.NextRequestState"
	receiverOnly := func(to RequestState, allowed ...RequestState) (RequestState, error) {
		if byRequester {
			return "", Errorf(op, KindForbidden, "only the receiving party may %s a request; the requesting party may only close it once answered", a)
		}
		for _, s := range allowed {
			if from == s {
				return to, nil
			}
		}
		return "", Errorf(op, KindConflict, "a request that is %s cannot be %s; %s", from, pastTense(a), whatNext(from))
	}
	switch a {
	case ActionAcknowledge:
		return receiverOnly(RequestAcknowledged, RequestSubmitted)
	case ActionAnswer:
		if kind == "" {
			return "", Errorf(op, KindInvalid, "an answer needs its kind: one of %s", responseKindsListed)
		}
		if kind == ResponseCannotAct && reason == "" {
			return "", Errorf(op, KindInvalid, "a cannot-act answer needs the reason")
		}
		return receiverOnly(RequestAnswered, RequestAcknowledged)
	case ActionDecline:
		if reason == "" {
			return "", Errorf(op, KindInvalid, "declining a request needs a reason")
		}
		return receiverOnly(RequestDeclined, RequestSubmitted, RequestAcknowledged)
	case ActionClose:
		if !byRequester {
			return "", Errorf(op, KindForbidden, "only the requesting party may close a request; the receiving party acknowledges, answers or declines it")
		}
		if from != RequestAnswered {
			return "", Errorf(op, KindConflict, "a request that is %s cannot be closed; it is closed once answered", from)
		}
		return RequestClosed, nil
	}
	return "", Errorf(op, KindInvalid, "move %q: want acknowledge, answer, decline or close", a)
}

func pastTense(a RequestAction) string {
	switch a {
	case ActionAcknowledge:
		return "acknowledged"
	case ActionAnswer:
		return "answered"
	case ActionDecline:
		return "declined"
	}
	return "closed"
}

func whatNext(s RequestState) string {
	switch s {
	case RequestSubmitted:
		return "the receiving party acknowledges, answers or declines it"
	case RequestAcknowledged:
		return "the receiving party answers or declines it"
	case RequestAnswered:
		return "only the requesting party may close it now"
	}
	return "it is final"
}

// Deadlines are the times a receiving party has to acknowledge and to
// answer an assistance request, from its submission.
type Deadlines struct {
	Ack, Answer time.Duration
}

// The deadlines of assistance requests, unless a channel sets others.
var (
	DefaultDeadlines   = Deadlines{Ack: 24 * time.Hour, Answer: 72 * time.Hour}
	OffLimitsDeadlines = Deadlines{Ack: time.Hour, Answer: 24 * time.Hour}
)

// Validate checks deadlines: both positive, the answer no earlier than the
// acknowledgement.
func (d Deadlines) Validate() error {
	if d.Ack <= 0 || d.Answer <= 0 || d.Answer < d.Ack {
		return Errorf("dialogue.Deadlines", KindInvalid, "deadlines ack %s, answer %s: want both positive and the answer no earlier than the acknowledgement", d.Ack, d.Answer)
	}
	return nil
}

// Overdue says, at now, whether a request in state s submitted at
// submitted with deadlines d is late: its acknowledgement (still
// submitted after the ack deadline) or its answer (not answered, declined
// or closed after the answer deadline). Computed, never stored.
func (d Deadlines) Overdue(s RequestState, submitted, now time.Time) (ack, answer bool) {
	open := s == RequestSubmitted || s == RequestAcknowledged
	return s == RequestSubmitted && now.After(submitted.Add(d.Ack)), open && now.After(submitted.Add(d.Answer))
}

// Level is a threat level on the five-step scale.
type Level int

// The threat levels.
const (
	LevelLow      Level = 1
	LevelGuarded  Level = 2
	LevelElevated Level = 3
	LevelHigh     Level = 4
	LevelSevere   Level = 5
)

// ParseLevel checks a level, 1 to 5.
func ParseLevel(n int) (Level, error) {
	if n < 1 || n > 5 {
		return 0, Errorf("dialogue.ParseLevel", KindInvalid, "level %d: want 1 (low) to 5 (severe)", n)
	}
	return Level(n), nil
}

func (l Level) String() string {
	switch l {
	case LevelLow:
		return "1 low"
	case LevelGuarded:
		return "2 guarded"
	case LevelElevated:
		return "3 elevated"
	case LevelHigh:
		return "4 high"
	case LevelSevere:
		return "5 severe"
	}
	return fmt.Sprintf("%d (out of range)", int(l))
}
