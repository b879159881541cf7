package dialogue

import "context"

// AddedVersion is one version of a stored object as VersionLister gives
// it, with what a reader extending an earlier listing must know of it.
type AddedVersion struct {
	Object *Object
	// Origin is the peer the version was received from; "" for this
	// node's own.
	Origin string
	// Latest says whether it is the latest version of its object now;
	// Versions is how many versions of the object the collection holds
	// now (1: this one alone).
	Latest   bool
	Versions int
}

// VersionLister is a StampedLister that also lists the versions added
// after a stamp, so that a reader may extend what it computed at that
// stamp instead of computing it again. internal/sqlite implements it.
type VersionLister interface {
	StampedLister
	// VersionsAdded calls fn with every version of the given types (at
	// least one) in the collection whose DateAdded, in µs, is after
	// after and at most upTo, superseded ones too, in ascending DateAdded
	// order, and stops at fn's first error, which it returns. With
	// ObjectStamp's LastAdded as the bounds, the versions it gives,
	// counted, are the difference of the two stamps' Versions unless a
	// version was removed in between. KindNotFound when there is no such
	// collection.
	VersionsAdded(ctx context.Context, collectionID string, types []string, after, upTo int64, fn func(AddedVersion) error) error
}
