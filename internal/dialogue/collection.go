package dialogue

import "time"

// Collection is a TAXII collection: a set of STIX objects with an id that
// is the same on every node that shares it.
type Collection struct {
	ID          string // a UUID
	Title       string // unique on a node; commands accept it in place of the id
	Description string
	// Alias is the optional TAXII alias (unique when set).
	Alias     string
	CreatedAt time.Time
}

// Grant says what one principal may do in one collection. Principal is a
// user name, or "*" for every authenticated user. Writing needs both a
// grant with Write and a role that may write (Role.CanWrite).
type Grant struct {
	CollectionID string
	Principal    string
	Read         bool
	Write        bool
}

// Access is what one user may do in one collection, after grants and
// role are combined.
type Access struct {
	Read, Write bool
}

// DefaultCollectionTitle is the title of the read-write collection every
// new node starts with.
const DefaultCollectionTitle = "local"

// DefaultChannelGrant is the grant a channel's collection starts with:
// every user of the node reads and writes it (writing still needs a role
// that may write). `parley collection grant` narrows it; a user's own
// grant beats it (GrantAccess).
var DefaultChannelGrant = Grant{Principal: GrantAll, Read: true, Write: true}
