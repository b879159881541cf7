package taxii_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/ingest"
	"github.com/parleyhq/parley/internal/sqlite"
	"github.com/parleyhq/parley/internal/taxii"
)

// groupServer is a TAXII 2.1 objects endpoint that behaves as the
// reference server medallion does where a pull can go wrong: every object
// of one POST (a group) gets the same date_added; pages end where the
// limit says, inside a group or not; next is a session the server keeps
// in memory (lost when it restarts) and it answers 500 to a next without
// a limit. It serves one collection, every version, in date_added order.
type groupServer struct {
	mu       sync.Mutex
	objs     []groupObject // in date_added order
	clock    time.Time     // the date_added of the last group
	digits   int           // fractional digits the server writes date_added with
	truncate bool          // keeps microseconds, writes digits (fewer): truncates
	sessions map[string][]groupObject
	nextID   int
	requests int
	// fault, when set, is asked before each objects request what to do.
	fault func(n int) fault
	// noNext: pages say more but give no next, as a server may.
	noNext bool
	// maxPage caps limit (0: no cap).
	maxPage int
}

type groupObject struct {
	raw   []byte
	key   string // id and modified
	added time.Time
}

type fault int

const (
	faultNone    fault = iota
	fault500           // answer 500
	faultDrop          // drop the connection
	faultRestart       // forget every next, then answer
)

func newGroupServer(digits int, truncate bool, start time.Time) *groupServer {
	return &groupServer{digits: digits, truncate: truncate, clock: start, sessions: map[string][]groupObject{}}
}

// unit is the precision the server keeps date_added with.
func (s *groupServer) unit() time.Duration {
	if s.truncate {
		return time.Microsecond
	}
	u := time.Second
	for range s.digits {
		u /= 10
	}
	return u
}

func (s *groupServer) format(t time.Time) string {
	layout := "2006-01-02T15:04:05"
	if s.digits > 0 {
		layout += "." + strings.Repeat("0", s.digits)
	}
	return t.UTC().Format(layout + "Z")
}

// post adds a group of objects with one date_added, later than any before
// (by step units, at least one).
func (s *groupServer) post(step int, objs ...[]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clock = s.clock.Add(time.Duration(max(step, 1)) * s.unit())
	for _, raw := range objs {
		var o struct{ ID, Modified string }
		if err := json.Unmarshal(raw, &o); err != nil {
			panic(err)
		}
		s.objs = append(s.objs, groupObject{raw: raw, key: o.ID + " " + o.Modified, added: s.clock})
	}
}

func (s *groupServer) restart() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessions = map[string][]groupObject{}
}

func (s *groupServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/collections/"+colAdd+"/objects/") {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	s.mu.Lock()
	s.requests++
	f := faultNone
	if s.fault != nil {
		f = s.fault(s.requests)
	}
	switch f {
	case fault500:
		s.mu.Unlock()
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	case faultDrop:
		s.mu.Unlock()
		panic(http.ErrAbortHandler)
	case faultRestart:
		s.sessions = map[string][]groupObject{}
	}
	page, more, next, status := s.page(r)
	s.mu.Unlock()
	if status != http.StatusOK {
		w.Header().Set("Content-Type", taxii.MediaTypeTAXII)
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"title":"the server did not understand the request (%d)"}`, status)
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, `{"more":%t`, more)
	if next != "" {
		fmt.Fprintf(&b, `,"next":%q`, next)
	}
	b.WriteString(`,"objects":[`)
	for i, o := range page {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(o.raw)
	}
	b.WriteString("]}")
	if len(page) > 0 {
		w.Header().Set(taxii.HeaderDateAddedFirst, s.format(page[0].added))
		w.Header().Set(taxii.HeaderDateAddedLast, s.format(page[len(page)-1].added))
	}
	w.Header().Set("Content-Type", taxii.MediaTypeTAXII)
	w.Write([]byte(b.String()))
}

// page answers one request; s.mu is held.
func (s *groupServer) page(r *http.Request) (page []groupObject, more bool, next string, status int) {
	q := r.URL.Query()
	limit, err := strconv.Atoi(q.Get("limit"))
	if q.Has("limit") && (err != nil || limit < 1) {
		return nil, false, "", http.StatusBadRequest
	}
	var rest []groupObject
	if n := q.Get("next"); n != "" {
		if !q.Has("limit") {
			return nil, false, "", http.StatusInternalServerError // as medallion
		}
		var ok bool
		if rest, ok = s.sessions[n]; !ok {
			return nil, false, "", http.StatusBadRequest
		}
		delete(s.sessions, n)
	} else {
		var after time.Time
		if a := q.Get("added_after"); a != "" {
			if after, err = time.Parse(time.RFC3339Nano, a); err != nil {
				return nil, false, "", http.StatusBadRequest
			}
		}
		for _, o := range s.objs {
			if o.added.After(after) {
				rest = append(rest, o)
			}
		}
	}
	if !q.Has("limit") {
		limit = 100
	}
	if s.maxPage > 0 {
		limit = min(limit, s.maxPage)
	}
	if len(rest) <= limit {
		return rest, false, "", http.StatusOK
	}
	if s.noNext {
		return rest[:limit], true, "", http.StatusOK
	}
	s.nextID++
	next = fmt.Sprintf("session-%d", s.nextID)
	s.sessions[next] = rest[limit:]
	return rest[:limit], true, next, http.StatusOK
}

// stixObject is a valid indicator with an id and modified drawn from rng.
func stixObject(rng *rand.Rand, id string, modified time.Time) []byte {
	if id == "" {
		id = fmt.Sprintf("indicator--%08x-%04x-4%03x-8%03x-%012x", rng.Uint32(), rng.Uint32()&0xffff, rng.Uint32()&0xfff, rng.Uint32()&0xfff, rng.Uint64()&0xffffffffffff)
	}
	m := modified.UTC().Format("2006-01-02T15:04:05.000Z")
	return fmt.Appendf(nil, `{"type":"indicator","spec_version":"2.1","id":%q,"created":"2024-01-02T03:04:05.000Z","modified":%q,"pattern":"[ipv4-addr:value = '198.51.100.%d']","pattern_type":"stix","valid_from":"2024-01-02T03:04:05Z"}`,
		id, m, rng.IntN(256))
}

// failingStore fails SetPullCursor when failCursor says so: a pull killed
// after a page was imported and before its cursor was recorded.
type failingStore struct {
	*sqlite.DB
	failCursor func() bool
}

func (f *failingStore) SetPullCursor(ctx context.Context, key, cursor string) error {
	if f.failCursor != nil && f.failCursor() {
		return errors.New("killed before the cursor was recorded")
	}
	return f.DB.SetPullCursor(ctx, key, cursor)
}

// localVersions lists the versions in a local collection (id and
// modified), failing the test on a version stored twice.
func localVersions(t *testing.T, db *sqlite.DB, collectionID string) map[string]bool {
	t.Helper()
	page, err := db.FindObjects(context.Background(), collectionID, dialogue.ObjectFilter{Versions: dialogue.VersionMatch{All: true}, MetaOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, o := range page.Objects {
		k := o.ID + " " + o.Modified.UTC().Format("2006-01-02T15:04:05.000Z")
		if got[k] {
			t.Errorf("%s stored twice", k)
		}
		got[k] = true
	}
	return got
}

// TestPullGroupsInterrupted is the defect as it was seen against
// medallion: 716 objects posted in four POSTs (each one date_added),
// pulled 100 at a time, every pull interrupted at its second request. The
// pull must go on until it has every object, each imported once; it used
// to stop after 400 objects and report success.
func TestPullGroupsInterrupted(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	srv := newGroupServer(6, false, time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC))
	want := map[string]bool{}
	for _, n := range []int{100, 250, 250, 116} {
		var objs [][]byte
		for range n {
			objs = append(objs, stixObject(rng, "", time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)))
		}
		srv.post(1, objs...)
	}
	for _, o := range srv.objs {
		want[o.key] = true
	}
	var pullRequests int
	srv.fault = func(n int) fault {
		pullRequests++
		if pullRequests == 2 {
			return faultDrop
		}
		return faultNone
	}
	ts := newTLSServer(srv)
	t.Cleanup(ts.Close)
	local, localID := localStore(t)
	client, err := taxii.NewClient(ts.URL+"/api/", taxii.ClientOptions{PageSize: 100, Pin: taxii.PinOf(ts.Certificate()), Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	var total taxii.PullReport
	pulls := 0
	for ; pulls < 20; pulls++ {
		srv.mu.Lock()
		pullRequests = 0
		srv.mu.Unlock()
		rep, err := client.Pull(context.Background(), local, localID, colAdd)
		total.New += rep.New
		total.Unchanged += rep.Unchanged
		total.Rejected += rep.Rejected
		if err == nil {
			break
		}
	}
	if total.New != 716 || total.Unchanged != 0 || total.Rejected != 0 {
		t.Errorf("after %d pulls: %d new, %d unchanged, %d rejected; want 716 new", pulls+1, total.New, total.Unchanged, total.Rejected)
	}
	got := localVersions(t, local, localID)
	missing := 0
	for k := range want {
		if !got[k] {
			missing++
		}
	}
	if missing > 0 || len(got) != len(want) {
		t.Errorf("the local collection has %d of %d objects (%d missing)", len(got), len(want), missing)
	}
}

// TestPullResumeProperty pulls from a groupServer through random
// interruptions (answers 500, dropped connections, server restarts that
// lose every next, pulls killed between import and cursor), with random
// group sizes, page sizes, date_added precisions, servers with and
// without next, and objects posted between pulls, and checks that once a pull completes every object
// version is in the local collection, imported exactly once. The seed is
// printed; PARLEY_PULL_SEED=n runs that seed again.
func TestPullResumeProperty(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("PARLEY_PULL_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("PARLEY_PULL_SEED=%q: %v", s, err)
		}
	}
	t.Logf("seed %d (PARLEY_PULL_SEED=%d to run it again)", seed, seed)
	runs := 12
	if testing.Short() {
		runs = 3
	}
	for run := range runs {
		t.Run(strconv.Itoa(run), func(t *testing.T) {
			pullResumeRun(t, rand.New(rand.NewPCG(seed, uint64(run))))
		})
	}
}

func pullResumeRun(t *testing.T, rng *rand.Rand) {
	digits := []int{0, 3, 6}[rng.IntN(3)]
	truncate := digits < 6 && rng.IntN(2) == 0
	srv := newGroupServer(digits, truncate, time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC))
	pageSize := 1 + rng.IntN(12)
	pFault := rng.Float64() * 0.3
	pKill := rng.Float64() * 0.15
	srv.noNext = rng.IntN(4) == 0
	t.Logf("date_added with %d digits (truncated from microseconds: %t), pages of %d, next %t, faults %.2f, kills %.2f", digits, truncate, pageSize, !srv.noNext, pFault, pKill)

	var ids []string // for new versions of objects posted before
	modified := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	post := func() {
		var objs [][]byte
		for range 1 + rng.IntN(3*pageSize+2) {
			modified = modified.Add(time.Millisecond)
			if len(ids) > 0 && rng.IntN(5) == 0 {
				objs = append(objs, stixObject(rng, ids[rng.IntN(len(ids))], modified))
				continue
			}
			raw := stixObject(rng, "", modified)
			var o struct{ ID string }
			json.Unmarshal(raw, &o)
			ids = append(ids, o.ID)
			objs = append(objs, raw)
		}
		// Groups close together: with the truncating server, often within
		// one written unit.
		srv.post(rng.IntN(3), objs...)
	}
	for range 1 + rng.IntN(6) {
		post()
	}
	// The server's faults draw from their own source, under srv.mu.
	srng := rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64()))
	srv.fault = func(int) fault {
		if srng.Float64() >= pFault {
			return faultNone
		}
		return []fault{fault500, faultDrop, faultRestart}[srng.IntN(3)]
	}
	ts := newTLSServer(srv)
	t.Cleanup(ts.Close)
	local, localID := localStore(t)
	kills := 0
	st := &failingStore{DB: local, failCursor: func() bool {
		if rng.Float64() < pKill {
			kills++
			return true
		}
		return false
	}}
	client, err := taxii.NewClient(ts.URL+"/api/", taxii.ClientOptions{PageSize: pageSize, Pin: taxii.PinOf(ts.Certificate()), Logger: debugLogger()})
	if err != nil {
		t.Fatal(err)
	}

	var total taxii.PullReport
	pull := func() error {
		rep, err := client.Pull(context.Background(), st, localID, colAdd)
		total.New += rep.New
		total.Unchanged += rep.Unchanged
		total.Rejected += rep.Rejected
		total.Repeated += rep.Repeated
		return err
	}
	// Pulls through faults, with objects posted and the server restarted
	// between some of them.
	for range 5 + rng.IntN(20) {
		pull()
		switch rng.IntN(4) {
		case 0:
			post()
		case 1:
			srv.restart()
		}
	}
	// Then pulls without faults until one completes: the first must.
	srv.mu.Lock()
	srv.fault = nil
	srv.mu.Unlock()
	st.failCursor = nil
	if err := pull(); err != nil {
		t.Fatalf("a pull without faults: %v", err)
	}

	want := map[string]bool{}
	srv.mu.Lock()
	for _, o := range srv.objs {
		want[o.key] = true
	}
	srv.mu.Unlock()
	got := localVersions(t, local, localID)
	var missing []string
	for k := range want {
		if !got[k] {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("%d of %d versions never arrived, such as %s", len(missing), len(want), missing[0])
	}
	if len(got) != len(want) {
		t.Errorf("the local collection has %d versions, the server %d", len(got), len(want))
	}
	// Each version is imported (new) exactly once. Unchanged counts a
	// version imported again after a kill lost its cursor, or sent again
	// by a server that writes date_added with less precision than it
	// keeps; neither happens otherwise.
	if total.New != len(want) || total.Rejected != 0 {
		t.Errorf("%d new, %d rejected over all pulls; want %d new", total.New, total.Rejected, len(want))
	}
	if kills == 0 && !truncate && total.Unchanged != 0 {
		t.Errorf("%d unchanged with no kill and exact date_added: a version was fetched again and not dropped", total.Unchanged)
	}
	t.Logf("%d versions: %d new, %d unchanged, %d repeated; %d kills", len(want), total.New, total.Unchanged, total.Repeated, kills)
}

func debugLogger() *slog.Logger {
	if os.Getenv("PARLEY_PULL_DEBUG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return discardLogger()
}

// groupsOf posts groups of the given sizes, each with its own date_added.
func groupsOf(srv *groupServer, rng *rand.Rand, sizes ...int) {
	for _, n := range sizes {
		var objs [][]byte
		for range n {
			objs = append(objs, stixObject(rng, "", time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)))
		}
		srv.post(1, objs...)
	}
}

func groupClient(t *testing.T, srv *groupServer, pageSize int) *taxii.Client {
	t.Helper()
	ts := newTLSServer(srv)
	t.Cleanup(ts.Close)
	client, err := taxii.NewClient(ts.URL+"/api/", taxii.ClientOptions{PageSize: pageSize, Pin: taxii.PinOf(ts.Certificate()), Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	return client
}

// TestPullLimitWithNext: with no page size set, the pull still sends a
// limit with every request, next included; medallion answers 500 to a
// next without one.
func TestPullLimitWithNext(t *testing.T) {
	srv := newGroupServer(6, false, time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC))
	groupsOf(srv, rand.New(rand.NewPCG(3, 4)), 150, 150, 150)
	local, localID := localStore(t)
	rep, err := groupClient(t, srv, 0).Pull(context.Background(), local, localID, colAdd)
	if err != nil || rep.New != 450 {
		t.Fatalf("%+v, %v; want 450 new", rep, err)
	}
}

// TestPullBareTimestampCursor: a cursor stored as a bare timestamp (as
// pulls stored it before they kept the versions taken) reads as that
// instant with nothing taken: the pull asks from just before it, the
// versions of that instant the store holds come back unchanged, and the
// rest of the group arrives.
func TestPullBareTimestampCursor(t *testing.T) {
	srv := newGroupServer(6, false, time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC))
	rng := rand.New(rand.NewPCG(5, 6))
	groupsOf(srv, rng, 4, 10, 3)
	local, localID := localStore(t)
	client := groupClient(t, srv, 100)
	// The first group and 6 of the second are in the store, the cursor at
	// the second group's instant: a pull stopped inside it.
	var raws []json.RawMessage
	for _, o := range srv.objs[:10] {
		raws = append(raws, o.raw)
	}
	if _, err := ingestRaw(local, localID, raws); err != nil {
		t.Fatal(err)
	}
	key := client.PullKey(localID, colAdd)
	if err := local.SetPullCursor(context.Background(), key, srv.format(srv.objs[4].added)); err != nil {
		t.Fatal(err)
	}
	rep, err := client.Pull(context.Background(), local, localID, colAdd)
	if err != nil || rep.New != 7 || rep.Unchanged != 6 || rep.Repeated != 0 {
		t.Fatalf("%+v, %v; want 7 new (4 of the second group, the third), 6 unchanged", rep, err)
	}
	if got := localVersions(t, local, localID); len(got) != 17 {
		t.Errorf("%d versions in the local collection, want 17", len(got))
	}
	// The cursor is now in the new shape; a pull from it repeats nothing
	// into the store.
	if c, _ := local.PullCursor(context.Background(), key); !strings.HasPrefix(c, "{") {
		t.Errorf("cursor %q", c)
	}
	rep, err = client.Pull(context.Background(), local, localID, colAdd)
	if err != nil || rep.New != 0 || rep.Unchanged != 0 || rep.Repeated != 3 {
		t.Fatalf("again: %+v, %v; want the last group sent again and dropped", rep, err)
	}
}

// TestPullNoNextLargeGroup: a server without next pages by added_after
// only, which cannot page through more versions of one instant than its
// largest page holds. The pull asks for larger pages; when the server
// caps them, it takes what it can, says why it stops, and exits with an
// error rather than loop or report success.
func TestPullNoNextLargeGroup(t *testing.T) {
	srv := newGroupServer(3, false, time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC))
	srv.noNext, srv.maxPage = true, 5
	groupsOf(srv, rand.New(rand.NewPCG(7, 8)), 3, 2, 12, 2)
	local, localID := localStore(t)
	rep, err := groupClient(t, srv, 5).Pull(context.Background(), local, localID, colAdd)
	if err == nil || !strings.Contains(err.Error(), "gives no next") || rep.New != 10 {
		t.Fatalf("%+v, %v; want 10 new, then an error saying the server gives no next", rep, err)
	}
	// A server that gives larger pages when asked is paged through
	// without next, groups as large as a page or larger included.
	srv2 := newGroupServer(3, false, time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC))
	srv2.noNext = true
	groupsOf(srv2, rand.New(rand.NewPCG(9, 10)), 3, 2, 5, 4, 1, 5, 12, 2)
	local2, localID2 := localStore(t)
	rep, err = groupClient(t, srv2, 5).Pull(context.Background(), local2, localID2, colAdd)
	if err != nil || rep.New != 34 {
		t.Fatalf("%+v, %v; want 34 new", rep, err)
	}
}

func ingestRaw(db *sqlite.DB, collectionID string, raws []json.RawMessage) (*ingest.Report, error) {
	return ingest.Objects(context.Background(), db, collectionID, raws, ingest.EachOnItsOwn)
}
