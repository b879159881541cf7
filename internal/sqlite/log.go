package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"modernc.org/sqlite"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/tlog"
)

// The record: see migrations/00004_log.sql for the tables and
// docs/design/store.md for the design.

var _ dialogue.LogStore = (*DB)(nil)

// MaxLogEntries is the largest range LogEntries returns in one call.
const MaxLogEntries = 1 << 16

// MaxLogHashes is the most stored hashes LogHashes returns in one call.
const MaxLogHashes = 1 << 16

const (
	// insertEntries and insertHashes append a batch in one statement each
	// (a statement per row cost twice as much): ?3 is a JSON array of
	// object seqs (null for a blob), of hex hashes.
	insertEntries = `INSERT INTO log_entries (collection_pk, idx, object_seq, data) SELECT ?1, ?2 + key, value, NULL FROM json_each(?3)`
	setEntryData  = `UPDATE log_entries SET data = ?3 WHERE collection_pk = ?1 AND idx = ?2`
	insertHashes  = `INSERT INTO log_hashes (collection_pk, idx, hash) SELECT ?1, ?2 + key, unhex(value) FROM json_each(?3)`
	// insertHashRows is insertHashes for hashChunk hashes bound as blobs:
	// decoding the JSON array of hex strings was half of insertHashes'
	// cost in an import.
	insertHashRowsHead = `INSERT OR FAIL INTO log_hashes (collection_pk, idx, hash) VALUES `
	insertHashRow      = `(?, ?, ?)`
	readHash           = `SELECT hash FROM log_hashes WHERE collection_pk = ? AND idx = ?`
	logSizeOf          = `SELECT idx + 1 FROM log_entries WHERE collection_pk = ? ORDER BY idx DESC LIMIT 1`
	insertCheck        = `INSERT INTO log_checkpoints (collection_pk, size, root, note, created_at) VALUES (?, ?, ?, ?, ?)`
)

// hashChunk is how many stored hashes one execution of insertHashRows
// adds; the rest of a batch goes through insertHashes.
const hashChunk = 128

// insertHashRows is insertHashRowsHead with hashChunk rows.
var insertHashRows = insertHashRowsHead + strings.TrimSuffix(strings.Repeat(insertHashRow+", ", hashChunk), ", ")

func init() {
	preparedQueries = append(preparedQueries, insertEntries, insertHashes, insertHashRows, readHash, logSizeOf, insertCheck)
	// For migrations/00004, which enters the objects already stored: the
	// entry's data column, NULL when the entry is the object's bytes.
	err := sqlite.RegisterDeterministicScalarFunction("parley_log_entry", 1,
		func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
			raw, ok := args[0].([]byte)
			if !ok {
				return nil, fmt.Errorf("parley_log_entry: want a blob, got %T", args[0])
			}
			if d := entryData(raw); d != nil {
				return d, nil
			}
			return nil, nil // NULL, not an empty blob
		})
	if err != nil {
		panic(err)
	}
}

// entryData is the data column of an object's entry: nil (NULL) when the
// entry is the object's bytes themselves.
func entryData(raw []byte) []byte {
	if len(raw) <= tlog.MaxEntrySize {
		return nil
	}
	return tlog.ObjectEntry(raw)
}

// logEntry is one entry to append: an object's (seq > 0) or a blob's.
type logEntry struct {
	seq  int64
	data []byte // nil when the entry is the object's raw bytes
	leaf tlog.Hash
}

// SetLogSigner sets the signer of checkpoints. With none (the default),
// the store appends entries and hashes but stores no checkpoint; SignLogs
// signs the logs later.
func (db *DB) SetLogSigner(s dialogue.LogSigner) {
	db.wmu.Lock()
	defer db.wmu.Unlock()
	db.signer = s
}

// txHashes reads stored hashes of one collection inside a transaction.
func (db *DB) txHashes(ctx context.Context, tx *sql.Tx, pk int64) (tlog.HashReader, error) {
	st, err := db.stmt(ctx, tx, readHash)
	if err != nil {
		return nil, err
	}
	return tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(indexes))
		for i, x := range indexes {
			var b []byte
			if err := st.QueryRowContext(ctx, pk, x).Scan(&b); err != nil {
				return nil, fmt.Errorf("stored hash %d: %w", x, err)
			}
			if len(b) != len(out[i]) {
				return nil, fmt.Errorf("stored hash %d has %d bytes", x, len(b))
			}
			out[i] = tlog.Hash(b)
		}
		return out, nil
	}), nil
}

// txLogSize returns the size of a collection's log inside a transaction.
func (db *DB) txLogSize(ctx context.Context, tx *sql.Tx, pk int64) (int64, error) {
	st, err := db.stmt(ctx, tx, logSizeOf)
	if err != nil {
		return 0, err
	}
	var n int64
	if err := st.QueryRowContext(ctx, pk).Scan(&n); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, err
	}
	return n, nil
}

// appendLog appends entries to the log of collection pk inside tx, with
// their stored hashes, and signs and stores one checkpoint of the new
// tree (when a signer is set). It runs under db.wmu. It returns the new
// size.
func (db *DB) appendLog(ctx context.Context, tx *sql.Tx, pk int64, collectionID string, entries []logEntry) (int64, error) {
	size, err := db.txLogSize(ctx, tx, pk)
	if err != nil {
		return 0, err
	}
	if len(entries) == 0 {
		return size, nil
	}
	ins, err := db.stmt(ctx, tx, insertEntries)
	if err != nil {
		return 0, err
	}
	leaves := make([]tlog.Hash, len(entries))
	seqs := make([]byte, 0, 1+12*len(entries))
	seqs = append(seqs, '[')
	for i, e := range entries {
		if i > 0 {
			seqs = append(seqs, ',')
		}
		if e.seq > 0 {
			seqs = strconv.AppendInt(seqs, e.seq, 10)
		} else {
			seqs = append(seqs, "null"...)
		}
		leaves[i] = e.leaf
	}
	seqs = append(seqs, ']')
	if _, err := ins.ExecContext(ctx, pk, size, string(seqs)); err != nil {
		return 0, err
	}
	for i, e := range entries {
		if e.data == nil {
			continue
		}
		if _, err := tx.ExecContext(ctx, setEntryData, pk, size+int64(i), e.data); err != nil {
			return 0, err
		}
	}
	r, err := db.txHashes(ctx, tx, pk)
	if err != nil {
		return 0, err
	}
	if err := db.appendHashes(ctx, tx, pk, size, leaves, r); err != nil {
		return 0, err
	}
	size += int64(len(entries))
	if err := db.signLog(ctx, tx, pk, collectionID, size, r); err != nil {
		return 0, err
	}
	return size, nil
}

// appendHashes writes the stored hashes that appending leaves to a log of
// size adds.
func (db *DB) appendHashes(ctx context.Context, tx *sql.Tx, pk, size int64, leaves []tlog.Hash, r tlog.HashReader) error {
	hs, err := tlog.AppendHashes(size, leaves, r)
	if err != nil {
		return err
	}
	first := tlog.StoredHashCount(size)
	if len(hs) >= hashChunk {
		rows, err := db.stmt(ctx, tx, insertHashRows)
		if err != nil {
			return err
		}
		args := make([]any, 3*hashChunk)
		for len(hs) >= hashChunk {
			for i := range hashChunk {
				args[3*i], args[3*i+1], args[3*i+2] = pk, first+int64(i), hs[i][:]
			}
			if _, err := rows.ExecContext(ctx, args...); err != nil {
				return err
			}
			hs, first = hs[hashChunk:], first+hashChunk
		}
		if len(hs) == 0 {
			return nil
		}
	}
	st, err := db.stmt(ctx, tx, insertHashes)
	if err != nil {
		return err
	}
	list := make([]byte, 0, 1+67*len(hs))
	list = append(list, '[')
	for i := range hs {
		if i > 0 {
			list = append(list, ',')
		}
		list = append(list, '"')
		list = hex.AppendEncode(list, hs[i][:])
		list = append(list, '"')
	}
	list = append(list, ']')
	_, err = st.ExecContext(ctx, pk, first, string(list))
	return err
}

// signLog signs the tree of size and stores its checkpoint, when a signer
// is set. It runs under db.wmu.
func (db *DB) signLog(ctx context.Context, tx *sql.Tx, pk int64, collectionID string, size int64, r tlog.HashReader) error {
	if db.signer == nil || size == 0 {
		return nil
	}
	root, err := tlog.TreeHash(size, r)
	if err != nil {
		return err
	}
	note, err := db.signer(collectionID, size, root)
	if err != nil {
		return fmt.Errorf("signing the checkpoint of collection %s at size %d: %w", collectionID, size, err)
	}
	st, err := db.stmt(ctx, tx, insertCheck)
	if err != nil {
		return err
	}
	_, err = st.ExecContext(ctx, pk, size, root[:], note, micros(db.now()))
	return err
}

// fillLogHashes computes the stored hashes the log of each collection
// lacks: those of the entries migrations/00004 made from objects stored
// before it. Open calls it; it does nothing when every hash is there.
func (db *DB) fillLogHashes(ctx context.Context) error {
	const op = "sqlite.Open"
	pks, err := db.collectionPKs(ctx)
	if err != nil {
		return dbErr(op, err)
	}
	for _, pk := range pks {
		err := db.write(ctx, op, func(tx *sql.Tx) error {
			size, err := db.txLogSize(ctx, tx, pk)
			if err != nil {
				return err
			}
			var have int64
			err = tx.QueryRowContext(ctx, `SELECT idx + 1 FROM log_hashes WHERE collection_pk = ? ORDER BY idx DESC LIMIT 1`, pk).Scan(&have)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			if have >= tlog.StoredHashCount(size) {
				return nil
			}
			// Hashes are written a whole entry at a time: find the size
			// that the stored hashes cover.
			done := sizeOfHashes(have)
			if tlog.StoredHashCount(done) != have {
				return fmt.Errorf("collection %d: %d stored hashes is no log size", pk, have)
			}
			r, err := db.txHashes(ctx, tx, pk)
			if err != nil {
				return err
			}
			for start := done; start < size; start += MaxLogEntries {
				end := min(size, start+MaxLogEntries)
				entries, err := readEntries(ctx, tx, pk, start, end)
				if err != nil {
					return err
				}
				leaves := make([]tlog.Hash, len(entries))
				for i, e := range entries {
					leaves[i] = tlog.LeafHash(e)
				}
				if err := db.appendHashes(ctx, tx, pk, start, leaves, r); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// sizeOfHashes returns the largest log size n with StoredHashCount(n) <= count.
func sizeOfHashes(count int64) int64 {
	lo, hi := int64(0), count
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if tlog.StoredHashCount(mid) <= count {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo
}

func (db *DB) collectionPKs(ctx context.Context) ([]int64, error) {
	rows, err := db.w.QueryContext(ctx, "SELECT pk FROM collections ORDER BY pk")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var pks []int64
	for rows.Next() {
		var pk int64
		if err := rows.Scan(&pk); err != nil {
			return nil, err
		}
		pks = append(pks, pk)
	}
	return pks, rows.Err()
}

// SignLogs signs and stores a checkpoint for every log whose latest
// checkpoint is behind its size (logs the migration filled, or appended
// to while no signer was set). It does nothing without a signer. A node
// calls it once it has set its signer.
func (db *DB) SignLogs(ctx context.Context) error {
	const op = "sqlite.SignLogs"
	cs, err := db.Collections(ctx)
	if err != nil {
		return err
	}
	for _, c := range cs {
		err := db.write(ctx, op, func(tx *sql.Tx) error {
			if db.signer == nil {
				return nil
			}
			pk, err := db.pk(ctx, tx, op, c.ID)
			if err != nil {
				return err
			}
			size, err := db.txLogSize(ctx, tx, pk)
			if err != nil {
				return err
			}
			var signed int64
			err = tx.QueryRowContext(ctx, `SELECT size FROM log_checkpoints WHERE collection_pk = ? ORDER BY size DESC LIMIT 1`, pk).Scan(&signed)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			if signed >= size {
				return nil
			}
			r, err := db.txHashes(ctx, tx, pk)
			if err != nil {
				return err
			}
			return db.signLog(ctx, tx, pk, c.ID, size, r)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// readEntries reads the entries [start, end) of the log of collection pk.
func readEntries(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, pk, start, end int64) ([][]byte, error) {
	rows, err := q.QueryContext(ctx, `SELECT e.idx, coalesce(e.data, o.raw) FROM log_entries e LEFT JOIN objects o ON o.seq = e.object_seq
		WHERE e.collection_pk = ? AND e.idx >= ? AND e.idx < ? ORDER BY e.idx`, pk, start, end)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([][]byte, 0, end-start)
	for rows.Next() {
		var idx int64
		var data []byte
		if err := rows.Scan(&idx, &data); err != nil {
			return nil, err
		}
		if idx != start+int64(len(out)) || data == nil {
			return nil, fmt.Errorf("log entry %d is missing", start+int64(len(out)))
		}
		out = append(out, data)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if int64(len(out)) != end-start {
		return nil, fmt.Errorf("log entry %d is missing", start+int64(len(out)))
	}
	return out, nil
}

// LogSize returns the number of entries in the collection's log.
func (db *DB) LogSize(ctx context.Context, collectionID string) (int64, error) {
	const op = "sqlite.LogSize"
	pk, err := db.pk(ctx, db.r, op, collectionID)
	if err != nil {
		return 0, err
	}
	return db.logSize(ctx, op, pk)
}

func (db *DB) logSize(ctx context.Context, op string, pk int64) (int64, error) {
	var n int64
	err := db.rQueryRow(ctx, logSizeOf, pk).Scan(&n)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, dbErr(op, err)
	}
	return n, nil
}

// LogEntries returns the entries with index in [start, end): at most
// MaxLogEntries of them (KindInvalid for more), all within the log
// (KindNotFound past its end).
func (db *DB) LogEntries(ctx context.Context, collectionID string, start, end int64) ([][]byte, error) {
	const op = "sqlite.LogEntries"
	switch {
	case start < 0 || end < start:
		return nil, dialogue.Errorf(op, dialogue.KindInvalid, "entry range [%d, %d) is not a range of indexes", start, end)
	case end-start > MaxLogEntries:
		return nil, dialogue.Errorf(op, dialogue.KindInvalid, "entry range [%d, %d) is over %d entries", start, end, MaxLogEntries)
	}
	pk, err := db.pk(ctx, db.r, op, collectionID)
	if err != nil {
		return nil, err
	}
	if start == end {
		return [][]byte{}, nil
	}
	// One read transaction: the size and the entries of one state.
	tx, err := db.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, dbErr(op, err)
	}
	defer tx.Rollback()
	var size int64
	if err := tx.QueryRowContext(ctx, logSizeOf, pk).Scan(&size); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, dbErr(op, err)
	}
	if end > size {
		return nil, dialogue.Errorf(op, dialogue.KindNotFound, "entry range [%d, %d) is beyond the log of collection %s (size %d)", start, end, collectionID, size)
	}
	out, err := readEntries(ctx, tx, pk, start, end)
	if err != nil {
		return nil, dbErr(op, err)
	}
	return out, nil
}

// LogHashes returns the stored hashes at the given indexes (at most
// MaxLogHashes), in the layout of golang.org/x/mod/sumdb/tlog; an index
// not stored is KindNotFound.
func (db *DB) LogHashes(ctx context.Context, collectionID string, indexes []int64) ([][32]byte, error) {
	const op = "sqlite.LogHashes"
	if len(indexes) > MaxLogHashes {
		return nil, dialogue.Errorf(op, dialogue.KindInvalid, "%d stored hashes asked for, over %d", len(indexes), MaxLogHashes)
	}
	pk, err := db.pk(ctx, db.r, op, collectionID)
	if err != nil {
		return nil, err
	}
	out := make([][32]byte, len(indexes))
	if len(indexes) == 0 {
		return out, nil
	}
	if contiguous(indexes) {
		return db.logHashRange(ctx, op, pk, collectionID, indexes[0], len(indexes))
	}
	list := make([]byte, 0, 1+12*len(indexes))
	list = append(list, '[')
	for i, x := range indexes {
		if x < 0 {
			return nil, dialogue.Errorf(op, dialogue.KindInvalid, "stored hash index %d is negative", x)
		}
		if i > 0 {
			list = append(list, ',')
		}
		list = strconv.AppendInt(list, x, 10)
	}
	list = append(list, ']')
	// CROSS JOIN keeps json_each the outer loop: with a plain JOIN the
	// planner scanned the collection's whole log_hashes once per index
	// (an inclusion proof took a second at 100,000 entries).
	rows, err := db.rQuery(ctx, `SELECT j.key, h.hash FROM json_each(?2) j CROSS JOIN log_hashes h ON h.collection_pk = ?1 AND h.idx = j.value`, pk, string(list))
	if err != nil {
		return nil, dbErr(op, err)
	}
	defer rows.Close()
	found := make([]bool, len(indexes))
	for rows.Next() {
		var i int
		var h []byte
		if err := rows.Scan(&i, &h); err != nil {
			return nil, dbErr(op, err)
		}
		if i < 0 || i >= len(out) || len(h) != 32 {
			return nil, dbErr(op, fmt.Errorf("stored hash row %d of %d bytes", i, len(h)))
		}
		out[i] = [32]byte(h)
		found[i] = true
	}
	if err := rows.Err(); err != nil {
		return nil, dbErr(op, err)
	}
	for i, ok := range found {
		if !ok {
			return nil, dialogue.Errorf(op, dialogue.KindNotFound, "stored hash %d of collection %s's log does not exist", indexes[i], collectionID)
		}
	}
	return out, nil
}

// contiguous reports whether indexes are x, x+1, x+2, … from x >= 0, as
// verify and tiles ask for them.
func contiguous(indexes []int64) bool {
	if len(indexes) < 2 || indexes[0] < 0 {
		return false
	}
	for i, x := range indexes {
		if x != indexes[0]+int64(i) {
			return false
		}
	}
	return true
}

// logHashRange reads the n stored hashes from index start with one range
// scan of the primary key.
func (db *DB) logHashRange(ctx context.Context, op string, pk int64, collectionID string, start int64, n int) ([][32]byte, error) {
	rows, err := db.rQuery(ctx, `SELECT idx, hash FROM log_hashes WHERE collection_pk = ? AND idx >= ? AND idx < ? ORDER BY idx`, pk, start, start+int64(n))
	if err != nil {
		return nil, dbErr(op, err)
	}
	defer rows.Close()
	out := make([][32]byte, 0, n)
	for rows.Next() {
		var x int64
		var h sql.RawBytes
		if err := rows.Scan(&x, &h); err != nil {
			return nil, dbErr(op, err)
		}
		if x != start+int64(len(out)) {
			break
		}
		if len(h) != 32 {
			return nil, dbErr(op, fmt.Errorf("stored hash row %d of %d bytes", x, len(h)))
		}
		out = append(out, [32]byte(h))
	}
	if err := rows.Err(); err != nil {
		return nil, dbErr(op, err)
	}
	if len(out) != n {
		return nil, dialogue.Errorf(op, dialogue.KindNotFound, "stored hash %d of collection %s's log does not exist", start+int64(len(out)), collectionID)
	}
	return out, nil
}

// AppendBlob enters an evidence blob by its SHA-256 and size, with a new
// checkpoint; entering the same blob again adds nothing. It returns the
// log size.
func (db *DB) AppendBlob(ctx context.Context, collectionID string, sum [32]byte, size int64) (int64, error) {
	const op = "sqlite.AppendBlob"
	if size < 0 {
		return 0, dialogue.Errorf(op, dialogue.KindInvalid, "blob size %d is negative", size)
	}
	entry := tlog.BlobEntry(sum, size)
	var n int64
	var appended bool
	err := db.write(ctx, op, func(tx *sql.Tx) error {
		pk, err := db.pk(ctx, tx, op, collectionID)
		if err != nil {
			return err
		}
		var idx int64
		err = tx.QueryRowContext(ctx, `SELECT idx FROM log_entries WHERE collection_pk = ? AND data = ? AND object_seq IS NULL`, pk, entry).Scan(&idx)
		if err == nil {
			n, err = db.txLogSize(ctx, tx, pk)
			return err
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		n, err = db.appendLog(ctx, tx, pk, collectionID, []logEntry{{data: entry, leaf: tlog.LeafHash(entry)}})
		appended = err == nil
		return err
	})
	if err != nil {
		return 0, err
	}
	if appended {
		db.appended(collectionID, n)
	}
	return n, nil
}

// OnAppend adds fn to the functions called after each commit that
// appended entries to a collection's log (AddObjects, AppendBlob), with
// the collection and the log's new size: peering pushes the new
// checkpoint at once. fn runs in the goroutine of the call that wrote,
// after the commit and outside every lock of the store, before that call
// returns; it must not block for long. Commits that run at the same time
// may call fn out of size order: keep the largest size.
func (db *DB) OnAppend(fn func(collectionID string, size int64)) {
	db.hookMu.Lock()
	defer db.hookMu.Unlock()
	db.hooks = append(db.hooks, fn)
}

// appended calls the OnAppend hooks. It must run outside db.wmu.
func (db *DB) appended(collectionID string, size int64) {
	db.hookMu.Lock()
	hooks := db.hooks
	db.hookMu.Unlock()
	for _, fn := range hooks {
		fn(collectionID, size)
	}
}

func scanCheckpoint(sc interface{ Scan(...any) error }, collectionID string) (*dialogue.Checkpoint, error) {
	c := &dialogue.Checkpoint{CollectionID: collectionID}
	var root []byte
	var at int64
	if err := sc.Scan(&c.Size, &root, &c.Note, &at); err != nil {
		return nil, err
	}
	if len(root) != len(c.Root) {
		return nil, fmt.Errorf("checkpoint at size %d: root of %d bytes", c.Size, len(root))
	}
	c.Root = [32]byte(root)
	c.CreatedAt = fromMicros(at)
	return c, nil
}

// LatestCheckpoint returns the newest checkpoint of the collection's log,
// KindNotFound when none is stored.
func (db *DB) LatestCheckpoint(ctx context.Context, collectionID string) (*dialogue.Checkpoint, error) {
	const op = "sqlite.LatestCheckpoint"
	pk, err := db.pk(ctx, db.r, op, collectionID)
	if err != nil {
		return nil, err
	}
	c, err := scanCheckpoint(db.rQueryRow(ctx, `SELECT size, root, note, created_at FROM log_checkpoints
		WHERE collection_pk = ? ORDER BY size DESC LIMIT 1`, pk), collectionID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, dialogue.Errorf(op, dialogue.KindNotFound, "the log of collection %s has no checkpoint yet", collectionID)
	}
	if err != nil {
		return nil, dbErr(op, err)
	}
	return c, nil
}

// Checkpoints lists the stored checkpoints of the collection's log in
// increasing size.
func (db *DB) Checkpoints(ctx context.Context, collectionID string) ([]*dialogue.Checkpoint, error) {
	const op = "sqlite.Checkpoints"
	pk, err := db.pk(ctx, db.r, op, collectionID)
	if err != nil {
		return nil, err
	}
	rows, err := db.rQuery(ctx, `SELECT size, root, note, created_at FROM log_checkpoints WHERE collection_pk = ? ORDER BY size`, pk)
	if err != nil {
		return nil, dbErr(op, err)
	}
	defer rows.Close()
	var out []*dialogue.Checkpoint
	for rows.Next() {
		c, err := scanCheckpoint(rows, collectionID)
		if err != nil {
			return nil, dbErr(op, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, dbErr(op, err)
	}
	return out, nil
}

// noteText is the checkpoint text of a signed note: everything before the
// first blank line.
func noteText(note []byte) ([]byte, bool) {
	i := bytes.Index(note, []byte("\n\n"))
	if i < 0 {
		return nil, false
	}
	return note[:i+1], true
}

// SetCheckpointNote replaces the note of the checkpoint at size with one
// of the same checkpoint text (everything before the first blank line)
// that carries more signatures; another text is KindInvalid, a size with
// no checkpoint KindNotFound.
func (db *DB) SetCheckpointNote(ctx context.Context, collectionID string, size int64, note []byte) error {
	const op = "sqlite.SetCheckpointNote"
	text, ok := noteText(note)
	if !ok {
		return dialogue.Errorf(op, dialogue.KindInvalid, "note: no blank line between the checkpoint text and the signatures")
	}
	return db.write(ctx, op, func(tx *sql.Tx) error {
		pk, err := db.pk(ctx, tx, op, collectionID)
		if err != nil {
			return err
		}
		var old []byte
		err = tx.QueryRowContext(ctx, `SELECT note FROM log_checkpoints WHERE collection_pk = ? AND size = ?`, pk, size).Scan(&old)
		if errors.Is(err, sql.ErrNoRows) {
			return dialogue.Errorf(op, dialogue.KindNotFound, "the log of collection %s has no checkpoint at size %d", collectionID, size)
		}
		if err != nil {
			return err
		}
		if oldText, _ := noteText(old); !bytes.Equal(oldText, text) {
			return dialogue.Errorf(op, dialogue.KindInvalid, "note: its checkpoint text differs from the stored checkpoint at size %d", size)
		}
		_, err = tx.ExecContext(ctx, `UPDATE log_checkpoints SET note = ? WHERE collection_pk = ? AND size = ?`, note, pk, size)
		return err
	})
}

// WitnessLatest returns the latest checkpoint this node cosigned for
// another log's origin: size 0 when none.
func (db *DB) WitnessLatest(ctx context.Context, origin string) (int64, [32]byte, error) {
	const op = "sqlite.WitnessLatest"
	var size int64
	var root []byte
	err := db.rQueryRow(ctx, `SELECT size, root FROM witness_state WHERE origin = ?`, origin).Scan(&size, &root)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, [32]byte{}, nil
	}
	if err != nil {
		return 0, [32]byte{}, dbErr(op, err)
	}
	if len(root) != 32 {
		return 0, [32]byte{}, dbErr(op, fmt.Errorf("witness state of %q: root of %d bytes", origin, len(root)))
	}
	return size, [32]byte(root), nil
}

// WitnessStore records a newly cosigned checkpoint for origin, in one
// transaction with the check that the stored size is still oldSize
// (KindConflict when it is not).
func (db *DB) WitnessStore(ctx context.Context, origin string, oldSize, size int64, root [32]byte, note []byte) error {
	const op = "sqlite.WitnessStore"
	if size < oldSize {
		return dialogue.Errorf(op, dialogue.KindInvalid, "size %d is below the old size %d", size, oldSize)
	}
	return db.write(ctx, op, func(tx *sql.Tx) error {
		var known int64
		err := tx.QueryRowContext(ctx, `SELECT size FROM witness_state WHERE origin = ?`, origin).Scan(&known)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if known != oldSize {
			return dialogue.Errorf(op, dialogue.KindConflict, "the latest cosigned size of %s is %d, not %d", origin, known, oldSize)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO witness_state (origin, size, root, note, updated_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (origin) DO UPDATE SET size = excluded.size, root = excluded.root, note = excluded.note, updated_at = excluded.updated_at`,
			origin, size, root[:], note, micros(db.now()))
		return err
	})
}

// LeafIndex returns the index of the first entry of the collection's log
// whose leaf hash is leafHash (KindNotFound when none). It scans the
// stored leaf hashes: see docs/performance.md, "Log", for why there is no
// index on them.
func (db *DB) LeafIndex(ctx context.Context, collectionID string, leafHash [32]byte) (int64, error) {
	const op = "sqlite.LeafIndex"
	pk, err := db.pk(ctx, db.r, op, collectionID)
	if err != nil {
		return 0, err
	}
	rows, err := db.rQuery(ctx, `SELECT idx, hash FROM log_hashes WHERE collection_pk = ? ORDER BY idx`, pk)
	if err != nil {
		return 0, dbErr(op, err)
	}
	defer rows.Close()
	var n int64
	next := tlog.StoredHashIndex(0, 0)
	var idx int64
	var h sql.RawBytes
	for rows.Next() {
		if err := rows.Scan(&idx, &h); err != nil {
			return 0, dbErr(op, err)
		}
		if idx != next {
			continue
		}
		if bytes.Equal(h, leafHash[:]) {
			return n, nil
		}
		n++
		next = tlog.StoredHashIndex(0, n)
	}
	if err := rows.Err(); err != nil {
		return 0, dbErr(op, err)
	}
	return 0, dialogue.Errorf(op, dialogue.KindNotFound, "no entry of the log of collection %s has leaf hash %x", collectionID, leafHash)
}
