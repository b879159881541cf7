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

// User is a local user of a node.
type User struct {
	Name      string
	Role      Role
	CreatedAt time.Time
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
