// Package enrichnode opens the enrichment of a node's data folder: its
// MaxMind-format databases and its store. It is apart from package enrich
// so that enrich, which the domain's workflows use for its records and
// its computation, imports neither the data folder nor its store driver.
package enrichnode

import (
	"log/slog"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/enrich"
	"github.com/parleyhq/parley/internal/geo"
	"github.com/parleyhq/parley/internal/node"
)

// Open opens the databases of a node (node.GeoIPFiles: its
// configuration's geoip files, then DIR/geoip/*.mmdb) and returns an
// Enricher of its store, or nil and no error when the node has none. A
// file that cannot be used is an error naming it (geo.Open). Close the
// Enricher when done; the node stays the caller's.
func Open(n *node.Node, log *slog.Logger) (*enrich.Enricher, error) {
	const op = "enrichnode.Open"
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
	return enrich.New(db, n.Store, log), nil
}
