package sqlite

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/shareddata"
)

// The benchmarks import MITRE ATT&CK objects re-issued with fresh ids:
// generation g rewrites the first 8 hex digits of every UUID in an
// object (its id and every reference) by XOR with g, so references stay
// consistent within a generation and no two generations share an id.

const benchBatch = 10000

// attackPool returns the distinct (id, version) objects of the ATT&CK
// bundles in ../shared/data/attack.
func attackPool(b *testing.B) []*dialogue.Object {
	b.Helper()
	dir := shareddata.Dir(b, "attack")
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		b.Fatalf("no ATT&CK bundles in %s", dir)
	}
	slices.Sort(files)
	seen := map[string]bool{}
	var pool []*dialogue.Object
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		var bundle struct {
			Objects []json.RawMessage `json:"objects"`
		}
		if err := json.Unmarshal(data, &bundle); err != nil {
			b.Fatalf("%s: %v", f, err)
		}
		for _, raw := range bundle.Objects {
			var m struct {
				ID, Type, SpecVersion, Created, Modified string
			}
			m.SpecVersion = "2.1"
			if err := json.Unmarshal(raw, &m); err != nil {
				b.Fatal(err)
			}
			o := &dialogue.Object{ID: m.ID, Type: m.Type, SpecVersion: m.SpecVersion, Raw: raw}
			if m.Created != "" {
				o.Created, _ = time.Parse(time.RFC3339Nano, m.Created)
			}
			if m.Modified != "" {
				o.Modified, _ = time.Parse(time.RFC3339Nano, m.Modified)
			}
			k := o.ID + "@" + stamp(o.Version())
			if !seen[k] {
				seen[k] = true
				pool = append(pool, o)
			}
		}
	}
	return pool
}

var uuidHead = regexp.MustCompile(`--[0-9a-f]{8}-`)

// reissue returns a copy of o for generation g (see above).
func reissue(o *dialogue.Object, g uint32) *dialogue.Object {
	fix := func(b []byte) []byte {
		return uuidHead.ReplaceAllFunc(b, func(m []byte) []byte {
			v, _ := strconv.ParseUint(string(m[2:10]), 16, 32)
			return fmt.Appendf(nil, "--%08x-", uint32(v)^g)
		})
	}
	c := *o
	c.ID = string(fix([]byte(o.ID)))
	c.Raw = fix(slices.Clone(o.Raw))
	c.DateAdded = time.Time{}
	return &c
}

// objectSource hands out re-issued ATT&CK objects, batch by batch.
type objectSource struct {
	pool []*dialogue.Object
	gen  uint32
	next int
}

func (s *objectSource) batch(n int) []*dialogue.Object {
	out := make([]*dialogue.Object, n)
	for i := range out {
		if s.next == len(s.pool) {
			s.next = 0
			s.gen++
		}
		out[i] = reissue(s.pool[s.next], s.gen+1)
		s.next++
	}
	return out
}

func benchOpen(b *testing.B, path string) (*DB, string) {
	b.Helper()
	db, err := Open(context.Background(), path)
	if err != nil {
		b.Fatal(err)
	}
	c := &dialogue.Collection{Title: "local"}
	if err := db.CreateCollection(context.Background(), c); err != nil {
		b.Fatal(err)
	}
	return db, c.ID
}

// benchBatches returns n batches of re-issued objects, made before the
// timer starts so that the calls run back to back, as in an import, and
// the store's background checkpoints compete with them for the CPUs.
func benchBatches(pool []*dialogue.Object, n int) [][]*dialogue.Object {
	src := &objectSource{pool: pool}
	out := make([][]*dialogue.Object, n)
	for i := range out {
		out[i] = src.batch(benchBatch)
	}
	return out
}

// BenchmarkImport measures the store's AddObjects on batches of 10,000
// re-issued ATT&CK objects, beside a bare prepared INSERT of the same rows
// (sha256 and id_hash computed outside the timer) into the same table and
// indexes in one transaction per batch. Each b.N is one
// batch; the database grows over the run (-benchtime=100x: 1M objects).
// The batches are made first (-benchtime=100x holds ~2.5 GB of them).
func BenchmarkImport(b *testing.B) {
	pool := attackPool(b)
	ctx := context.Background()

	b.Run("store", func(b *testing.B) {
		db, coll := benchOpen(b, filepath.Join(b.TempDir(), "parley.db"))
		defer db.Close()
		batches := benchBatches(pool, b.N)
		var total int
		var elapsed, cpu time.Duration
		var written int64
		b.ResetTimer()
		for _, objs := range batches {
			start, cpu0, w0 := time.Now(), cpuTime(), writtenBytes()
			res, err := db.AddObjects(ctx, coll, objs)
			elapsed += time.Since(start)
			cpu += cpuTime() - cpu0
			written += writtenBytes() - w0
			if err != nil {
				b.Fatal(err)
			}
			for _, r := range res {
				if r.Status != dialogue.Added {
					b.Fatalf("%s: %v %v", r.ID, r.Status, r.Err)
				}
			}
			total += len(objs)
		}
		b.ReportMetric(float64(total)/elapsed.Seconds(), "objects/s")
		b.ReportMetric(float64(cpu.Microseconds())/float64(total), "cpu-µs/object")
		b.ReportMetric(float64(written)/1024/float64(total), "written-KB/object")
		b.ReportMetric(0, "ns/op")
	})

	b.Run("bare", func(b *testing.B) {
		db, _ := benchOpen(b, filepath.Join(b.TempDir(), "bare.db"))
		defer db.Close()
		ins, err := db.w.Prepare(`INSERT INTO objects (collection_pk, id, id_hash, version, type, spec_version, created, modified, date_added, sha256, raw, superseded)
			VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)`)
		if err != nil {
			b.Fatal(err)
		}
		defer ins.Close()
		batches := benchBatches(pool, b.N)
		allSums := make([][][32]byte, len(batches))
		allHashes := make([][]int64, len(batches))
		for n, objs := range batches {
			allSums[n] = make([][32]byte, len(objs))
			allHashes[n] = make([]int64, len(objs))
			for i, o := range objs {
				allSums[n][i] = sha256.Sum256(o.Raw)
				allHashes[n][i] = idHash(o.ID)
			}
		}
		var total int
		var elapsed, cpu time.Duration
		var written int64
		added := time.Now().UnixMicro()
		b.ResetTimer()
		for n, objs := range batches {
			sums, hashes := allSums[n], allHashes[n]
			start, cpu0, w0 := time.Now(), cpuTime(), writtenBytes()
			tx, err := db.w.Begin()
			if err != nil {
				b.Fatal(err)
			}
			st := tx.Stmt(ins)
			for i, o := range objs {
				added++
				var v string
				if t := o.Version(); !t.IsZero() {
					v = stamp(t)
				}
				if _, err := st.Exec(o.ID, hashes[i], v, o.Type, o.SpecVersion, nullStamp(o.Created), nullStamp(o.Modified), added, sums[i][:], o.Raw); err != nil {
					b.Fatal(err)
				}
			}
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
			elapsed += time.Since(start)
			cpu += cpuTime() - cpu0
			written += writtenBytes() - w0
			total += len(objs)
		}
		b.ReportMetric(float64(total)/elapsed.Seconds(), "objects/s")
		b.ReportMetric(float64(cpu.Microseconds())/float64(total), "cpu-µs/object")
		b.ReportMetric(float64(written)/1024/float64(total), "written-KB/object")
		b.ReportMetric(0, "ns/op")
	})
}

// benchObjects is the size of the database the page benchmark queries:
// 1,000,000 objects, or PARLEY_BENCH_OBJECTS.
func benchObjects(b *testing.B) int {
	n := 1_000_000
	if s := os.Getenv("PARLEY_BENCH_OBJECTS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 2000 {
			b.Fatalf("PARLEY_BENCH_OBJECTS=%q: want a number of at least 2000", s)
		}
		n = v
	}
	return n
}

// schemaTag names the schema the migrations make, so that a cached
// benchmark database is rebuilt when they change.
func schemaTag(b *testing.B) string {
	h := sha256.New()
	err := fs.WalkDir(migrations, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := migrations.ReadFile(p)
		h.Write(data)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))[:8]
}

// pageDB returns a database of n re-issued ATT&CK objects in one
// collection, built once into os.TempDir() and reused by later runs.
func pageDB(b *testing.B, n int) string {
	b.Helper()
	path := filepath.Join(os.TempDir(), fmt.Sprintf("parley-bench-%d-%s.db", n, schemaTag(b)))
	if _, err := os.Stat(path); err == nil {
		return path
	}
	b.Logf("building %s (once; later runs reuse it)", path)
	tmp := path + ".building"
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(tmp + suffix)
	}
	db, coll := benchOpen(b, tmp)
	src := &objectSource{pool: attackPool(b)}
	start := time.Now()
	for done := 0; done < n; {
		objs := src.batch(min(benchBatch, n-done))
		if _, err := db.AddObjects(context.Background(), coll, objs); err != nil {
			b.Fatal(err)
		}
		done += len(objs)
	}
	b.Logf("built %d objects in %v", n, time.Since(start).Round(time.Millisecond))
	if _, err := db.w.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		b.Fatal(err)
	}
	if _, err := db.w.Exec("ANALYZE"); err != nil {
		b.Fatal(err)
	}
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkFindObjectsPage measures a 1,000-object page with added_after
// (the TAXII default match[version]=last, and =all) at 1 million stored
// objects (PARLEY_BENCH_OBJECTS to change), reporting the mean and the
// median in ms.
func BenchmarkFindObjectsPage(b *testing.B) {
	n := benchObjects(b)
	path := pageDB(b, n)
	ctx := context.Background()
	db, err := Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	cs, err := db.Collections(ctx)
	if err != nil || len(cs) != 1 {
		b.Fatalf("collections: %v %v", cs, err)
	}
	coll := cs[0].ID
	// added_after points into the middle of the collection; a later
	// point each op so that the pages do not all come from one cache
	// line of the index.
	var mid int64
	if err := db.r.QueryRow("SELECT date_added FROM objects ORDER BY date_added LIMIT 1 OFFSET ?", n/2).Scan(&mid); err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		v    dialogue.VersionMatch
		meta bool
	}{
		{"last", dialogue.VersionMatch{}, false},
		{"all", dialogue.VersionMatch{All: true}, false},
		{"manifest", dialogue.VersionMatch{}, true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			times := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := range b.N {
				after := fromMicros(mid + int64(i%1000)*1000)
				start := time.Now()
				p, err := db.FindObjects(ctx, coll, dialogue.ObjectFilter{AddedAfter: after, Limit: 1000, Versions: tc.v, MetaOnly: tc.meta})
				times = append(times, time.Since(start))
				if err != nil {
					b.Fatal(err)
				}
				if len(p.Objects) != 1000 || !p.More {
					b.Fatalf("page of %d objects, more %v", len(p.Objects), p.More)
				}
			}
			b.StopTimer()
			slices.Sort(times)
			var sum time.Duration
			for _, t := range times {
				sum += t
			}
			b.ReportMetric(float64(sum.Microseconds())/1000/float64(len(times)), "ms/op")
			b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "ms-median")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// cpuTime is the CPU time (user and system) the process has used: it
// shows the store's own cost when other processes share the machine.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// writtenBytes is what the process has passed to write system calls so
// far (wchar in /proc/self/io; 0 where there is none): the WAL frames
// and checkpoint writes of an import.
func writtenBytes() int64 {
	data, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, "wchar: "); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n
		}
	}
	return 0
}
