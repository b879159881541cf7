package dialogue

import (
	"context"
	"time"
)

// Enrichment is what a node worked out about one stored object version
// from outside data (the country and autonomous system of the addresses it
// names), kept beside the object: the object's bytes never change.
type Enrichment struct {
	ObjectID string
	// Version is the object's Version() (zero for an unversioned object).
	Version time.Time
	// Record is the JSON object a node shows as the object's
	// x_parley_enrichment property (internal/enrich writes and reads it;
	// a store keeps it as it is). Nil in EnrichBatch.Enrichments removes
	// the object's record.
	Record []byte
	// Computed is when Record was worked out.
	Computed time.Time
}

// EnrichLink says that the enrichment of object DependentID reads object
// RefID (an observed-data's object_refs, the address an infrastructure is
// related to), so that DependentID is enriched again when RefID arrives.
type EnrichLink struct {
	DependentID, RefID string
}

// EnrichCursor is how far the enrichment of a collection has got.
type EnrichCursor struct {
	// After is the DateAdded of the last object version looked at (zero:
	// none yet).
	After time.Time
	// Databases names the databases the enrichment used (their types and
	// build dates): when they change, everything is enriched again.
	Databases string
}

// EnrichBatch is what one step of enrichment saves, in one transaction.
type EnrichBatch struct {
	Enrichments []Enrichment
	Links       []EnrichLink
	// Cursor, when not nil, moves the collection's cursor: forward only
	// while Databases is unchanged; to Cursor.After when it changed.
	Cursor *EnrichCursor
}

// EnrichmentStore keeps enrichments beside a collection's objects, the
// links between objects that enrichment follows, and a cursor per
// collection. internal/sqlite implements it. KindNotFound for a missing
// collection or enrichment.
type EnrichmentStore interface {
	// TailObjects lists up to limit object versions (every version) of
	// the collection added after after, in DateAdded order. Raw is set
	// only for objects whose type is in withRaw; the others come with
	// their id, type, versions and DateAdded, so that a tail moves past
	// them.
	TailObjects(ctx context.Context, collectionID string, after time.Time, limit int, withRaw []string) ([]*Object, error)
	// EnrichCursor returns the collection's cursor (zero if never set).
	EnrichCursor(ctx context.Context, collectionID string) (EnrichCursor, error)
	// SaveEnrichments stores b in one transaction: enrichments replace
	// those of the same (id, version), links already known are kept once.
	SaveEnrichments(ctx context.Context, collectionID string, b *EnrichBatch) error
	// Enrichment returns the enrichment of one object version.
	Enrichment(ctx context.Context, collectionID, id string, version time.Time) (*Enrichment, error)
	// EnrichDependents lists the ids of the objects whose links name one
	// of refIDs, each once.
	EnrichDependents(ctx context.Context, collectionID string, refIDs []string) ([]string, error)
	// EnrichRefs lists the ids that the links of dependentID name.
	EnrichRefs(ctx context.Context, collectionID, dependentID string) ([]string, error)
}
