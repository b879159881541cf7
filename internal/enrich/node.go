package enrich

import (
	"log/slog"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/geo"
	"github.com/parleyhq/parley/internal/node"
)

// OpenNode opens the databases of a node (node.GeoIPFiles: its
// configuration's geoip files, then DIR/geoip/*.mmdb) and returns an
// Enricher of its store, or nil and no error when the node has none. A
// file that cannot be used is an error naming it (geo.Open). Close the
// Enricher when done; the node stays the caller's.
func OpenNode(n *node.Node, log *slog.Logger) (*Enricher, error) {
	const op = "enrich.OpenNode"
	files, err := n.GeoIPFiles()
	if err != nil {
		return nil, dialogue.E(op, dialogue.KindOf(err), err)
	}
	if len(files) == 0 {
		return nil, nil
	}
	db, err := geo.Open(files...)
	if err != nil {
		return nil, dialogue.E(op, dialogue.KindOf(err), err)
	}
	return New(db, n.Store, log), nil
}
