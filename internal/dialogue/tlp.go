package dialogue

import "strings"

// TLP 2.0 on every read path (docs/design/tlp.md, access.md). The policy
// is pure: Visible decides from a user and a Marking alone. The marking of
// a stored object (its object_marking_refs, the report it was filed with,
// Parley's recipients) is read by a TLPView (stix.ReadTLP reads the JSON);
// the gate (Gate) checks the collection grant first.

// TLPLevel is a Traffic Light Protocol level, ordered from the least to
// the most restrictive. TLP 1.0 levels map onto it (WHITE is CLEAR).
type TLPLevel uint8

// The TLP levels.
const (
	TLPClear       TLPLevel = iota + 1 // disclosure is not limited
	TLPGreen                           // the community: here, the node's users
	TLPAmber                           // the recipient organisation and its clients
	TLPAmberStrict                     // the recipient organisation only
	TLPRed                             // named recipients only
)

var tlpNames = [...]string{TLPClear: "clear", TLPGreen: "green", TLPAmber: "amber", TLPAmberStrict: "amber+strict", TLPRed: "red"}

// String is the TLP 2.0 name in lower case: "clear" … "red".
func (l TLPLevel) String() string {
	if l >= TLPClear && l <= TLPRed {
		return tlpNames[l]
	}
	return "unknown"
}

// Marking is what TLP says of one stored object: its level and, for RED,
// who may read it.
type Marking struct {
	Level TLPLevel
	// Recipients are the named recipients of a RED object: user names of
	// the node, and "role:ROLE" for every user of a role. Ignored for the
	// other levels.
	Recipients []string
}

// RecipientRolePrefix starts a recipient that names a role.
const RecipientRolePrefix = "role:"

// Visible reports whether user u may see an object marked m, given that u
// may read the object's collection (the caller checks the grant first).
// CLEAR, GREEN, AMBER and AMBER+STRICT are for every reader of the node:
// its users are the recipient organisation. RED is for the named
// recipients only: u's name, or "role:" u's role. A nil u sees nothing; a
// zero Marking (no level) or an unknown level is seen by no one, whatever
// its recipients, so a marking that was not read hides the object.
func Visible(u *User, m Marking) bool {
	if u == nil {
		return false
	}
	switch m.Level {
	case TLPClear, TLPGreen, TLPAmber, TLPAmberStrict:
		return true
	case TLPRed:
	default:
		return false // a level that was not read: no one
	}
	for _, r := range m.Recipients {
		if r == u.Name || r == RecipientRolePrefix+string(u.Role) {
			return true
		}
	}
	return false
}

// Restricted reports whether an object marked m may never leave the
// recipient organisation: AMBER+STRICT and RED (and an unknown level).
// Exports refuse such objects unless asked explicitly.
func (m Marking) Restricted() bool { return m.Level < TLPClear || m.Level >= TLPAmberStrict }

// SummaryAllows reports whether the leadership summary may use an object
// marked m: nothing above TLP:GREEN.
func SummaryAllows(m Marking) bool { return m.Level == TLPClear || m.Level == TLPGreen }

// ParseRecipient checks a RED recipient: a user name (ValidateUserName)
// or "role:ROLE" with one of the roles.
func ParseRecipient(s string) (string, error) {
	const op = "dialogue.ParseRecipient"
	if rest, ok := strings.CutPrefix(s, RecipientRolePrefix); ok {
		r, err := ParseRole(rest)
		if err != nil {
			return "", Errorf(op, KindInvalid, "recipient %q: %s", s, Message(err))
		}
		return RecipientRolePrefix + string(r), nil
	}
	if err := ValidateUserName(s); err != nil {
		return "", Errorf(op, KindInvalid, "recipient %q: %s (or role:ROLE)", s, Message(err))
	}
	return s, nil
}
