package dialogue

import (
	"fmt"
	"time"
)

// Role is what a local user is for. Roles gate writes; reading is granted
// per collection.
type Role string

// The roles.
const (
	RoleAdmin  Role = "admin"  // sets up the node, its keys, peers and users
	RoleExpert Role = "expert" // CERT analyst: files and answers items
	RoleDuty   Role = "duty"   // 24/7 point of contact
	RoleLead   Role = "lead"   // delegation lead: reads, approves
)

// Roles lists every role, in the order help texts show them.
var Roles = []Role{RoleAdmin, RoleExpert, RoleDuty, RoleLead}

// ParseRole checks a role name.
func ParseRole(s string) (Role, error) {
	for _, r := range Roles {
		if string(r) == s {
			return r, nil
		}
	}
	return "", Errorf("", KindInvalid, "role %q is not one of admin, expert, duty, lead", s)
}

// CanWrite reports whether users of this role may add or delete objects.
// A lead reads and approves; writing STIX content is for the others.
func (r Role) CanWrite() bool {
	return r == RoleAdmin || r == RoleExpert || r == RoleDuty
}

// CanAdminister reports whether users of this role may run what costs
// the node dearly or changes its set-up: the full verification of its
// logs (seconds of CPU), its keys, peers and users. Only admins may.
func (r Role) CanAdminister() bool { return r == RoleAdmin }

// User is a local user of a node.
type User struct {
	Name      string
	Role      Role
	CreatedAt time.Time
	// DisabledAt is when the user was disabled (zero: the user may sign
	// in). A disabled user's password, tokens and sessions are refused.
	DisabledAt time.Time
	// Generation grows with every change of the password or of
	// DisabledAt. What remembers a successful check (a cached password
	// check, a web session) keeps the generation and the CreatedAt it saw
	// and compares them with the store's on each request (Same), so that a
	// change by another process counts at once.
	Generation int64
}

// Disabled reports whether the user is disabled.
func (u *User) Disabled() bool { return !u.DisabledAt.IsZero() }

// Same reports whether cur, the user as stored now, is still the user u
// was checked as: the same name and creation (not deleted and made
// again) and the same generation (no new password, not disabled since).
func (u *User) Same(cur *User) bool {
	return cur != nil && cur.Name == u.Name && cur.CreatedAt.Equal(u.CreatedAt) && cur.Generation == u.Generation
}

// CheckEnabled is the one check that a user found by a password, a token
// or a session may act: KindUnauthenticated naming the user when it is
// disabled.
func CheckEnabled(u *User) error {
	if u.Disabled() {
		return Errorf("", KindUnauthenticated, "user %s is disabled", u.Name)
	}
	return nil
}

// Token is an API token as listed: never the token or its hash.
type Token struct {
	ID        int64
	User      string
	Label     string
	CreatedAt time.Time
	LastUsed  time.Time // zero: never used
}

// ValidateUserName checks a user name: 1 to 64 characters of letters,
// digits, '.', '_', '-' and '@', starting with a letter or digit.
func ValidateUserName(name string) error {
	if name == "" || len(name) > 64 {
		return Errorf("", KindInvalid, "user name must have 1 to 64 characters")
	}
	for i, c := range name {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			i > 0 && (c == '.' || c == '_' || c == '-' || c == '@')
		if !ok {
			return Errorf("", KindInvalid, "user name %q: character %q at %d is not allowed (letters, digits, . _ - @)", name, c, i)
		}
	}
	return nil
}

// String is for logs and messages.
func (u *User) String() string { return fmt.Sprintf("%s (%s)", u.Name, u.Role) }
