package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/sqlite"
	"github.com/parleyhq/parley/internal/storetest"
)

// open opens a new store in a file of t's temporary folder.
func open(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) dialogue.Store { return open(t) })
}

func TestLog(t *testing.T) {
	storetest.RunLog(t, func(t *testing.T, signer dialogue.LogSigner) storetest.LogStore {
		db := open(t)
		db.SetLogSigner(signer)
		return db
	})
}

func TestPeers(t *testing.T) {
	storetest.RunPeers(t, func(t *testing.T) storetest.PeerStore { return open(t) })
}
