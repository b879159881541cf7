// Package sqlite is a node's store in one SQLite file: collections, STIX
// object versions kept byte-exact, users, API tokens, TAXII status
// resources and pull cursors, the record (each collection's Merkle log),
// and the state of peering (peers, channels, how far each exchange has
// got, the objects received and the blobs still wanted). It implements
// dialogue.Store, dialogue.LogStore and dialogue.PeerStore on
// modernc.org/sqlite (pure Go, no cgo) and applies its embedded schema
// migrations when it opens a file.
//
// It must not validate STIX (objects arrive parsed and validated), verify
// a peer's log or speak HTTP, or let a raw SQL error reach a user: every
// error it returns carries a dialogue Kind and an op name, and database
// failures are KindOther, which dialogue.Message hides (KindUnavailable
// when the database is busy, KindDiskFull when the disk is full).
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/parleyhq/parley/internal/dialogue"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is a node's store in one SQLite file. It implements dialogue.Store,
// dialogue.LogStore and dialogue.PeerStore.
// Writes go through one connection (SQLite has one writer at a time);
// reads use a small pool of connections that see the last committed
// state (WAL). Every method is safe for concurrent use.
type DB struct {
	path string
	w    *sql.DB // one connection: every write transaction
	r    *sql.DB // readers

	// wmu serialises write transactions in this process, so that a
	// transaction never waits on database/sql's pool for the one
	// connection while holding a prepared statement of another.
	wmu sync.Mutex
	// lastAdded is the largest date_added (µs) this process has given out;
	// a new object gets max(now, lastAdded+1, max in the table+1).
	lastAdded int64

	stmtMu sync.Mutex
	stmts  map[string]*sql.Stmt // prepared on w, by query text

	// rstmts are the readers' prepared statements, by query text:
	// preparing (parsing SQL) was a fifth of a served inclusion proof.
	rstmtMu sync.Mutex
	rstmts  map[string]*sql.Stmt

	pks sync.Map // collection id → pk, see DB.pk

	now func() time.Time // the clock; tests may replace it

	// signer signs the checkpoints of the collections' logs (under wmu);
	// nil: entries and hashes only.
	signer dialogue.LogSigner

	// Checkpoints of the WAL run on a connection of their own, in the
	// background, so that an import does not wait for them: AddObjects
	// wakes ckWake after each ckEvery bytes of JSON it commits.
	ck       *sql.DB
	ckEvery  int64 // checkpointBytes; tests may lower it
	ckWake   chan struct{}
	ckStop   chan struct{}
	ckDone   chan struct{}
	unsynced atomic.Int64 // JSON bytes committed since the last wake

	// hooks are the functions OnAppend set, called after each commit that
	// appended entries to a log.
	hookMu sync.Mutex
	hooks  []func(collectionID string, size int64)
}

// checkpointBytes is how much object JSON AddObjects commits before it
// wakes the background checkpoint: about 4,000 16-KiB pages, a few
// calls of 10,000 objects. A checkpoint writes each page once however
// many commits changed it, and the (collection, id_hash) index takes ids
// at random places, so that nearly all its pages change in every large
// call: checkpointing after every such call (16 MiB) wrote that index
// into the database file each time. The WAL grows to ~3 times this
// between checkpoints, well under the writer's own wal_autocheckpoint.
const checkpointBytes = 64 << 20

var _ dialogue.Store = (*DB)(nil)

// Pragmas every connection runs. synchronous=FULL makes a commit durable
// before it returns, through kill -9 and power loss.
var pragmas = []string{
	"page_size(16384)", // before the first table: fewer overflow pages for STIX JSON
	"busy_timeout(10000)",
	"foreign_keys(1)",
	"synchronous(FULL)",
	"cache_size(-65536)",    // 64 MiB page cache per connection
	"mmap_size(1073741824)", // map up to 1 GiB of the file
	"temp_store(MEMORY)",
	// The writer checkpoints by itself only past 20,000 pages (320 MiB)
	// of WAL: imports are checkpointed in the background (checkpoints).
	"wal_autocheckpoint(20000)",
}

func dsn(path string, readOnly bool) string {
	q := url.Values{}
	for _, p := range pragmas {
		q.Add("_pragma", p)
	}
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Set("_txlock", "immediate")
	}
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// Open opens the store in the SQLite file at path, creating it if it does
// not exist, and applies any schema migration the file lacks. The journal
// is WAL, so readers never wait for the writer.
func Open(ctx context.Context, path string) (*DB, error) {
	const op = "sqlite.Open"
	w, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return nil, dialogue.E(op, dialogue.KindOther, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	// journal_mode is persistent in the file: set once, on the writer.
	var mode string
	if err := w.QueryRowContext(ctx, "PRAGMA journal_mode=WAL").Scan(&mode); err != nil {
		w.Close()
		return nil, dialogue.Errorf(op, dialogue.KindUnavailable, "cannot open the database %s: %w", path, err)
	}
	if mode != "wal" {
		w.Close()
		return nil, dialogue.Errorf(op, dialogue.KindOther, "database %s: journal mode is %q, want wal", path, mode)
	}
	if err := migrate(ctx, w); err != nil {
		w.Close()
		return nil, dbErr(op, err)
	}
	r, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		w.Close()
		return nil, dialogue.E(op, dialogue.KindOther, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	r.SetConnMaxIdleTime(0)
	r.SetConnMaxLifetime(0)
	ck, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		w.Close()
		r.Close()
		return nil, dialogue.E(op, dialogue.KindOther, err)
	}
	ck.SetMaxOpenConns(1)
	db := &DB{path: path, w: w, r: r, stmts: map[string]*sql.Stmt{}, now: time.Now,
		ck: ck, ckEvery: checkpointBytes, ckWake: make(chan struct{}, 1), ckStop: make(chan struct{}), ckDone: make(chan struct{})}
	go db.checkpoints()
	if err := db.prepare(ctx); err != nil {
		db.Close()
		return nil, dialogue.E(op, dialogue.KindOther, err)
	}
	if err := db.fillLogHashes(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// migrate applies the embedded migrations that db lacks.
func migrate(ctx context.Context, db *sql.DB) error {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, sub)
	if err != nil {
		return fmt.Errorf("schema migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("schema migrations: %w", err)
	}
	return nil
}

// checkpoints runs a passive WAL checkpoint each time ckWake is woken,
// until ckStop closes. A passive checkpoint copies committed pages into
// the database file beside the writer, without blocking it or readers.
func (db *DB) checkpoints() {
	defer close(db.ckDone)
	for {
		select {
		case <-db.ckStop:
			return
		case <-db.ckWake:
			if _, err := db.ck.Exec("PRAGMA wal_checkpoint(PASSIVE)"); err != nil {
				// The writer's own automatic checkpoints remain.
				slog.Warn("background WAL checkpoint failed", "path", db.path, "err", err)
			}
		}
	}
}

// wroteObjects notes n bytes of object JSON committed, and wakes the
// background checkpoint after each ckEvery bytes.
func (db *DB) wroteObjects(n int64) {
	if db.unsynced.Add(n) < db.ckEvery {
		return
	}
	db.unsynced.Store(0)
	select {
	case db.ckWake <- struct{}{}:
	default: // one is pending already
	}
}

// Path returns the file the store is in.
func (db *DB) Path() string { return db.path }

// Close closes the store. The data is on disk already: every write was
// committed with synchronous=FULL when its method returned.
func (db *DB) Close() error {
	db.rstmtMu.Lock()
	for _, s := range db.rstmts {
		s.Close()
	}
	db.rstmts = nil
	db.rstmtMu.Unlock()
	db.stmtMu.Lock()
	for _, s := range db.stmts {
		s.Close()
	}
	db.stmts = map[string]*sql.Stmt{}
	db.stmtMu.Unlock()
	if db.ckStop != nil {
		close(db.ckStop)
		<-db.ckDone
		db.ckStop = nil
	}
	err := errors.Join(db.ck.Close(), db.r.Close(), db.w.Close())
	return dialogue.E("sqlite.Close", dialogue.KindOther, err)
}

// stmt returns query as a statement of tx: the one prepared at Open when
// query is in preparedQueries, else a statement prepared for tx alone.
// (Preparing on db.w inside a transaction would wait forever for the one
// connection that the transaction holds.)
func (db *DB) stmt(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	db.stmtMu.Lock()
	s, ok := db.stmts[query]
	db.stmtMu.Unlock()
	if ok {
		return tx.StmtContext(ctx, s), nil
	}
	return tx.PrepareContext(ctx, query)
}

// prepare prepares the hot write statements on the writer connection.
func (db *DB) prepare(ctx context.Context) error {
	db.stmtMu.Lock()
	defer db.stmtMu.Unlock()
	for _, q := range preparedQueries {
		s, err := db.w.PrepareContext(ctx, q)
		if err != nil {
			return err
		}
		db.stmts[q] = s
	}
	return nil
}

// write runs fn in one write transaction (BEGIN IMMEDIATE) and commits it
// when fn returns nil. An error from fn is returned as it is; database
// errors are wrapped as KindOther with op.
func (db *DB) write(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	db.wmu.Lock()
	defer db.wmu.Unlock()
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return dbErr(op, err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		var de *dialogue.Error
		if errors.As(err, &de) {
			return err
		}
		return dbErr(op, err)
	}
	if err := tx.Commit(); err != nil {
		return dbErr(op, err)
	}
	return nil
}

// dbErr wraps an error of the database. A busy database is
// KindUnavailable (retrying later may work); a full disk (SQLITE_FULL,
// "database or disk is full", or ENOSPC from the file system) is
// KindDiskFull; a cancelled context keeps its error in the chain; anything
// else is KindOther.
func dbErr(op string, err error) error {
	if err == nil {
		return nil
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return dialogue.Errorf(op, dialogue.KindUnavailable, "the database is busy, try again: %w", err)
		case sqlite3.SQLITE_FULL:
			return dialogue.Errorf(op, dialogue.KindDiskFull, "the disk is full: %w", err)
		}
	}
	if errors.Is(err, syscall.ENOSPC) {
		return dialogue.Errorf(op, dialogue.KindDiskFull, "the disk is full: %w", err)
	}
	return dialogue.E(op, dialogue.KindOther, err)
}

// DriverError returns the SQLite driver's own error in err's chain, nil
// when there is none. Its text is the database's, not for a person to
// read: the command line replaces it by where it happened. Callers ask
// here so that only this package imports the driver.
func DriverError(err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se
	}
	return nil
}

// isUnique reports whether err is a UNIQUE or PRIMARY KEY violation.
func isUnique(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		c := se.Code()
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// Time encodings. micros is for times the node sets itself; stamp is for
// STIX timestamps, fixed width so that text order is time order.
const stampLayout = "2006-01-02T15:04:05.000000000Z"

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// stamp formats t in stampLayout, by hand: it runs for every object an
// import adds, and time.Format costs several times more.
func stamp(t time.Time) string {
	t = t.UTC()
	y, mo, d := t.Date()
	if y < 0 || y > 9999 {
		return t.Format(stampLayout)
	}
	h, mi, s := t.Clock()
	var b [len(stampLayout)]byte
	digits := func(at, n, v int) {
		for i := at + n - 1; i >= at; i-- {
			b[i] = byte('0' + v%10)
			v /= 10
		}
	}
	digits(0, 4, y)
	b[4] = '-'
	digits(5, 2, int(mo))
	b[7] = '-'
	digits(8, 2, d)
	b[10] = 'T'
	digits(11, 2, h)
	b[13] = ':'
	digits(14, 2, mi)
	b[16] = ':'
	digits(17, 2, s)
	b[19] = '.'
	digits(20, 9, t.Nanosecond())
	b[29] = 'Z'
	return string(b[:])
}

func nullStamp(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return stamp(t)
}

func parseStamp(s sql.NullString) (time.Time, error) {
	if !s.Valid || s.String == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.RFC3339Nano, s.String)
}

// stampable reports whether t fits the fixed-width stamp (years 0–9999).
func stampable(t time.Time) bool {
	y := t.UTC().Year()
	return y >= 0 && y <= 9999
}

// maxReadStmts bounds the readers' statement cache: FindObjects builds its
// query from the filter, so texts vary with the number of ids and types.
const maxReadStmts = 256

// readStmt returns a statement for query on the reader pool, prepared once
// and kept (database/sql prepares it on each connection that runs it). It
// returns nil when the cache is full or closed; the caller then runs the
// query unprepared.
func (db *DB) readStmt(ctx context.Context, query string) *sql.Stmt {
	db.rstmtMu.Lock()
	defer db.rstmtMu.Unlock()
	if s, ok := db.rstmts[query]; ok {
		return s
	}
	if len(db.rstmts) >= maxReadStmts {
		return nil
	}
	s, err := db.r.PrepareContext(ctx, query)
	if err != nil {
		return nil // the unprepared query will report the error
	}
	if db.rstmts == nil {
		db.rstmts = map[string]*sql.Stmt{}
	}
	db.rstmts[query] = s
	return s
}

// rQuery runs a read query on the reader pool with a cached statement.
func (db *DB) rQuery(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s := db.readStmt(ctx, query); s != nil {
		return s.QueryContext(ctx, args...)
	}
	return db.r.QueryContext(ctx, query, args...)
}

// rQueryRow is rQuery for one row.
func (db *DB) rQueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if s := db.readStmt(ctx, query); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return db.r.QueryRowContext(ctx, query, args...)
}
