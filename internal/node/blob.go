package node

import (
	"path/filepath"

	"github.com/parleyhq/parley/internal/blob"
	"github.com/parleyhq/parley/internal/dialogue"
)

// BlobsDir is the folder of the node's evidence blobs inside its data
// folder (package blob's layout).
const BlobsDir = "blobs"

// DefaultMaxBlobBytes is the largest blob the store returned by Blobs
// accepts: 4 GiB. It bounds what a peer's log entry can make this node
// download.
const DefaultMaxBlobBytes = 4 << 30

// Blobs opens the node's blob store, DIR/blobs, making it when missing.
// Its MaxSize is DefaultMaxBlobBytes.
func (n *Node) Blobs() (*blob.Store, error) {
	s, err := blob.Open(filepath.Join(n.Dir, BlobsDir))
	if err != nil {
		return nil, dialogue.E("node.Blobs", dialogue.KindOf(err), err)
	}
	s.MaxSize = DefaultMaxBlobBytes
	return s, nil
}
