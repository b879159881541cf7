package dialogue

import "context"

// IndexedObject is the latest version of a stored object with where its
// log entry is: this node's own versions are entries of this node's log
// of the collection, received ones entries of the sending peer's log.
type IndexedObject struct {
	Object *Object
	// Origin is the peer the version was received from; "" for this
	// node's own.
	Origin string
	// LogIndex is the entry's index in the log that holds it (this node's
	// for its own, the peer's for a received dialogue object); Indexed
	// says whether it is known (a received version whose index the
	// exchange did not record is not).
	LogIndex int64
	Indexed  bool
}

// ObjectStamp is what a StampedLister says of the object versions of some
// types in a collection at one moment: equal stamps mean that no version
// of those types was added or removed and no received log index of an
// object of those types was recorded in between.
type ObjectStamp struct {
	// Versions counts the versions of the types (every version, not only
	// the latest); LastAdded is the largest DateAdded among them (µs);
	// Received counts the received log indexes recorded in the
	// collection for objects of the types.
	Versions, LastAdded, Received int64
}

// StampedLister is a store that lists the latest versions of the objects
// of some types in a collection together with their log indexes in one
// scan, and stamps what it lists, so that a reader may keep what it
// computed from them until the stamp changes. internal/sqlite implements
// it; the workflows use it when the store has it.
type StampedLister interface {
	// IndexedObjects calls fn with the latest version of each object of
	// the given types (at least one) in the collection, in ascending
	// DateAdded order, and stops at fn's first error, which it returns.
	// KindNotFound when there is no such collection.
	IndexedObjects(ctx context.Context, collectionID string, types []string, fn func(IndexedObject) error) error
	// ObjectStamp returns the stamp of the collection's versions of the
	// given types. It changes with every version of them added (by any
	// process on the store, own or received) or removed, and with every
	// received log index recorded for an object of them. KindNotFound when
	// there is no such collection.
	ObjectStamp(ctx context.Context, collectionID string, types []string) (ObjectStamp, error)
}
