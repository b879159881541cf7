package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// TestPullStopsAndResumes: a pull that the server breaks off inside a
// group of objects sharing one date_added exits non-zero and says where
// it stopped; the next pull takes the rest of the group, nothing twice,
// and says it is complete.
func TestPullStopsAndResumes(t *testing.T) {
	const dateAdded = "2024-03-01T12:00:00.000000Z"
	var objs []string
	for i := range 6 {
		objs = append(objs, fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-%012d","created":"2024-01-02T03:04:05.000Z","modified":"2024-01-02T03:04:05.000Z","pattern":"[ipv4-addr:value = '198.51.100.%d']","pattern_type":"stix","valid_from":"2024-01-02T03:04:05Z"}`, i, i))
	}
	var broken atomic.Bool // drop the connection of a request with next
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		limit, _ := strconv.Atoi(q.Get("limit"))
		limit = min(limit, 4) // the server's largest page
		off := 0
		if n := q.Get("next"); n != "" {
			if broken.Load() {
				panic(http.ErrAbortHandler)
			}
			off, _ = strconv.Atoi(n)
		} else if q.Get("added_after") >= dateAdded {
			off = len(objs) // everything was added at dateAdded
		}
		end := min(off+limit, len(objs))
		more := end < len(objs)
		next := ""
		if more {
			next = fmt.Sprintf(`,"next":"%d"`, end)
		}
		if off < end {
			w.Header().Set("X-TAXII-Date-Added-First", dateAdded)
			w.Header().Set("X-TAXII-Date-Added-Last", dateAdded)
		}
		w.Header().Set("Content-Type", "application/taxii+json;version=2.1")
		fmt.Fprintf(w, `{"more":%t%s,"objects":[%s]}`, more, next, strings.Join(objs[off:end], ","))
	}))
	t.Cleanup(srv.Close)

	b := filepath.Join(t.TempDir(), "node-b")
	mustRun(t, "", "init", "--dir", b, "--name", "node-b")
	pull := func() (string, string, error) {
		m, stdout, stderr := newMain("")
		m.ParseFlags(t.Context(), []string{"pull", "--dir", b, "--from", srv.URL + "/api/", "--collection", "c1", "--insecure"})
		err := m.Run(t.Context())
		m.Close()
		if err != nil {
			m.PrintError(err)
		}
		return stdout.String(), stderr.String(), err
	}
	broken.Store(true)
	out, stderr, err := pull()
	if err == nil {
		t.Fatalf("a broken-off pull succeeded:\n%s", out)
	}
	for _, want := range []string{
		`into "local": 4 new, 0 unchanged, 0 rejected`,
		"the pull stopped before the end; the next pull resumes at date_added " + dateAdded + ", less the 4 versions taken there",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("first pull: no %q in\n%s", want, out)
		}
	}
	if !strings.Contains(stderr, "parley: error: ") || !strings.Contains(stderr, "pull again to resume") {
		t.Errorf("first pull: stderr %q", stderr)
	}

	broken.Store(false)
	out, _, err = pull()
	if err != nil {
		t.Fatal(err)
	}
	// The rest of the group arrives; the check from the cursor at the end
	// gets the whole group back, which is dropped.
	for _, want := range []string{
		`into "local": 2 new, 0 unchanged, 0 rejected (6 sent again, already pulled: dropped)`,
		"the pull is complete; the next pull resumes at date_added " + dateAdded + ", less the 6 versions taken there",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("second pull: no %q in\n%s", want, out)
		}
	}
	if n := strings.Count(objectsOf(t, mustRun(t, "", "export", "--dir", b)), `"id":"indicator--00000000-0000-4000-8000-`); n != 6 {
		t.Errorf("%d indicators in the local collection, want 6", n)
	}
}
