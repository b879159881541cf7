package dialogue

import (
	"context"
	"time"
)

// ObjectSum is what a store keeps of one stored object version besides
// its bytes: its id, TAXII version and the SHA-256 of its bytes.
type ObjectSum struct {
	ID string
	// Version is the object's TAXII version (Object.TAXIIVersion).
	Version time.Time
	SHA256  [32]byte
}

// ObjectSumLister is a store that lists the SHA-256 of the bytes of every
// object version of a collection in one lean scan (no pages of decoded
// objects), so that `parley verify` can check every stored version is an
// entry of the log. internal/sqlite implements it.
type ObjectSumLister interface {
	// ObjectSums calls fn for each object version stored in the
	// collection, in no particular order, and stops at fn's first error,
	// which it returns.
	ObjectSums(ctx context.Context, collectionID string, fn func(ObjectSum) error) error
}
