package node

import (
	"path/filepath"

	"github.com/parleyhq/parley/internal/blob"
)

// BlobDir is the folder of evidence blobs in a data folder.
const BlobDir = "blobs"

// Blobs opens the node's content-addressed folder of evidence blobs
// (DIR/blobs), making it on first use.
func (n *Node) Blobs() (*blob.Store, error) {
	return blob.Open(filepath.Join(n.Dir, BlobDir))
}
