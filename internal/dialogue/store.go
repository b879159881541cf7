package dialogue

import (
	"context"
	"time"
)

// Store is a node's storage: collections, object versions, users, tokens,
// TAXII status resources and the cursors of TAXII pulls. internal/sqlite
// implements it; every method is safe for concurrent use.
//
// Errors carry a Kind: KindNotFound for a missing collection, user, status
// or token; KindConflict for a duplicate title, alias or user; KindInvalid
// for an argument that breaks a rule.
type Store interface {
	// CreateCollection stores c; an empty c.ID is filled with a new UUID
	// and a zero c.CreatedAt with the current time.
	CreateCollection(ctx context.Context, c *Collection) error
	// Collections lists every collection, oldest first.
	Collections(ctx context.Context) ([]*Collection, error)
	// FindCollection finds a collection by id, else by title, else alias.
	FindCollection(ctx context.Context, idOrTitle string) (*Collection, error)
	// SetGrant creates or replaces the grant for (g.CollectionID, g.Principal).
	SetGrant(ctx context.Context, g Grant) error
	// Grants lists the grants of one collection.
	Grants(ctx context.Context, collectionID string) ([]Grant, error)
	// AccessFor combines u's grants in the collection with u's role.
	AccessFor(ctx context.Context, u *User, collectionID string) (Access, error)

	// AddObjects adds object versions to a collection in one transaction,
	// setting DateAdded on each object that is added. An (id, version)
	// already present with the same content is Unchanged; with other
	// content it is Rejected (KindConflict). The results are in the order
	// of objs. The returned error is for the call as a whole (no such
	// collection, the database failed); then nothing was written. With
	// AllOrNothing, one Rejected object rejects the call: see AddOption.
	AddObjects(ctx context.Context, collectionID string, objs []*Object, opts ...AddOption) ([]AddResult, error)
	// FindObjects lists object versions of a collection matching f, in
	// ascending DateAdded order, one page at a time.
	FindObjects(ctx context.Context, collectionID string, f ObjectFilter) (*ObjectPage, error)
	// DeleteObject removes the versions of one object selected by f
	// (f.Versions and f.SpecVersions; zero means every version) and
	// returns how many were removed; KindNotFound when none matched.
	DeleteObject(ctx context.Context, collectionID, id string, f ObjectFilter) (int, error)
	// Stats returns counters for metrics.
	Stats(ctx context.Context) (StoreStats, error)

	// CreateUser adds a user with an argon2id hash of password (see
	// HashPassword). KindConflict if the name is taken.
	CreateUser(ctx context.Context, u *User, passwordHash string) error
	// User finds a user by name.
	User(ctx context.Context, name string) (*User, error)
	// Users lists every user by name.
	Users(ctx context.Context) ([]*User, error)
	// PasswordHash returns the stored hash of a user's password.
	PasswordHash(ctx context.Context, name string) (string, error)
	// CreateToken stores a token hash (see HashToken) for a user, with a
	// label for the user's own listing.
	CreateToken(ctx context.Context, user, tokenHash, label string) error
	// UserByToken finds the user a token hash belongs to and records the
	// token's last use. A disabled user is returned as it is (see
	// CheckEnabled).
	UserByToken(ctx context.Context, tokenHash string) (*User, error)
	// SetPassword replaces a user's password hash and moves its
	// Generation on (KindNotFound for no such user).
	SetPassword(ctx context.Context, name, passwordHash string) error
	// SetUserDisabled disables a user at t (disabled) or enables it again,
	// and moves its Generation on when that changes anything. KindNotFound
	// for no such user.
	SetUserDisabled(ctx context.Context, name string, disabled bool, t time.Time) error
	// DeleteUser removes a user with its tokens and its grants
	// (KindNotFound for no such user).
	DeleteUser(ctx context.Context, name string) error
	// Tokens lists the tokens of a user, or of every user when user is "",
	// by id. KindNotFound for no such user.
	Tokens(ctx context.Context, user string) ([]*Token, error)
	// RevokeToken deletes the token with the id and returns it as it was
	// (KindNotFound for no such token).
	RevokeToken(ctx context.Context, id int64) (*Token, error)

	// CreateStatus stores a TAXII status resource.
	CreateStatus(ctx context.Context, s *Status) error
	// Status finds a status resource by id.
	Status(ctx context.Context, id string) (*Status, error)

	// PullCursor returns where the pull named key stopped ("" if never).
	PullCursor(ctx context.Context, key string) (string, error)
	// SetPullCursor records where the pull named key stopped.
	SetPullCursor(ctx context.Context, key, cursor string) error

	// Close closes the store.
	Close() error
}
