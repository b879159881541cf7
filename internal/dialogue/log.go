package dialogue

import (
	"context"
	"time"
)

// The record: one append-only Merkle log per collection (a channel, once
// peering exists). Each object version added to a collection is one entry,
// appended by AddObjects in the same transaction as the object, so an
// object is acknowledged only once its entry is durable; each evidence
// blob is one entry naming its SHA-256. After each batch the store signs a
// new checkpoint with the node's log key (a LogSigner).

// Checkpoint is one signed tree head of a collection's log, as stored.
type Checkpoint struct {
	CollectionID string
	Size         int64
	Root         [32]byte
	// Note is the C2SP signed note: the tlog-checkpoint text, the node's
	// signature line, and any cosignature lines received since.
	Note      []byte
	CreatedAt time.Time
}

// LogSigner signs a checkpoint of a collection's log: it returns the
// signed note for the tree of the given size and root hash. A store calls
// it inside the transaction that appends the entries.
type LogSigner func(collectionID string, size int64, root [32]byte) ([]byte, error)

// LogStore reads a collection's log and keeps the state of the logs this
// node witnesses. internal/sqlite implements it beside Store.
type LogStore interface {
	// LogSize returns the number of entries in the collection's log.
	LogSize(ctx context.Context, collectionID string) (int64, error)
	// LogEntries returns the entries with index in [start, end).
	LogEntries(ctx context.Context, collectionID string, start, end int64) ([][]byte, error)
	// LogHashes returns the stored hashes at the given indexes, in the
	// layout of golang.org/x/mod/sumdb/tlog (StoredHashIndex).
	LogHashes(ctx context.Context, collectionID string, indexes []int64) ([][32]byte, error)
	// LeafIndex returns the index of the first entry whose RFC 6962 leaf
	// hash is leafHash (KindNotFound when none).
	LeafIndex(ctx context.Context, collectionID string, leafHash [32]byte) (int64, error)
	// AppendBlob enters an evidence blob by its SHA-256 and size; entering
	// the same blob again adds nothing. It returns the new log size.
	AppendBlob(ctx context.Context, collectionID string, sha256 [32]byte, size int64) (int64, error)
	// AddObjectsAndBlobs adds objs as AddObjects does with AllOrNothing
	// and enters the evidence blobs in the collection's log after them,
	// in the same transaction (a blob entered already adds nothing):
	// when an object is Rejected, nothing is written and the results say
	// why; when a blob cannot be entered (a negative size, the database
	// refused it), nothing is written and the error says why. A report
	// and the entries of its evidence files are filed with it whole or
	// not at all.
	AddObjectsAndBlobs(ctx context.Context, collectionID string, objs []*Object, blobs []BlobRef) ([]AddResult, error)
	// LatestCheckpoint returns the newest checkpoint (KindNotFound for a
	// log with no entries yet).
	LatestCheckpoint(ctx context.Context, collectionID string) (*Checkpoint, error)
	// Checkpoints lists the stored checkpoints in increasing size.
	Checkpoints(ctx context.Context, collectionID string) ([]*Checkpoint, error)
	// SetCheckpointNote replaces the note of the checkpoint at size with
	// one that carries more cosignatures (the same checkpoint text).
	SetCheckpointNote(ctx context.Context, collectionID string, size int64, note []byte) error

	// WitnessLatest returns the latest checkpoint this node cosigned for
	// another log's origin: size 0 when none.
	WitnessLatest(ctx context.Context, origin string) (size int64, root [32]byte, err error)
	// WitnessStore records a newly cosigned checkpoint for origin, refusing
	// (KindConflict) when the stored size is no longer oldSize.
	WitnessStore(ctx context.Context, origin string, oldSize, size int64, root [32]byte, note []byte) error
}
