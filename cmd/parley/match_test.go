package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/parleyhq/parley/internal/telemetry/gen"
)

// TestMatchWorkers: parley match with three workers (each log cut into
// chunks read at once) says exactly what it says with one — the counts,
// the first and last sightings, the files' reports in the order given,
// their malformed lines and their numbers; gzip, lines before the format
// is known and malformed lines included.
func TestMatchWorkers(t *testing.T) {
	work := t.TempDir()
	dir := filepath.Join(work, "node")
	mustRun(t, "", "init", "--dir", dir, "--name", "cert-a")
	set := gen.NewSet(3, 3000)
	var objs []string
	for i, ind := range set.Indicators {
		pat, _ := json.Marshal(ind.Pattern)
		id := uuid.NewSHA1(uuid.NameSpaceOID, []byte(fmt.Sprint("match-workers-", i)))
		objs = append(objs, fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"indicator--%s","created":"2024-04-01T00:00:00.000Z","modified":"2024-04-01T00:00:00.000Z","pattern":%s,"pattern_type":"stix","valid_from":"2024-04-01T00:00:00Z"}`, id, pat))
	}
	bundle := filepath.Join(work, "indicators.json")
	if err := os.WriteFile(bundle, []byte(`{"type":"bundle","id":"bundle--`+uuid.NewString()+`","objects":[`+strings.Join(objs, ",")+`]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "", "import", "--dir", dir, bundle)

	var files []string
	for i := range 5 {
		var b bytes.Buffer
		if err := set.WriteEVE(&b, gen.EVEOptions{Seed: uint64(10 + i), Events: 3000, HitRate: 0.05}); err != nil {
			t.Fatal(err)
		}
		data := b.Bytes()
		if i == 1 {
			data = append(data, "not json\n{\"event_type\":\"dns\"}\n"...)
		}
		if i == 3 {
			data = append([]byte("no format named here\n\n"), data...)
		}
		name := filepath.Join(work, fmt.Sprintf("eve-%d.json", i))
		if i == 2 {
			var z bytes.Buffer
			w := gzip.NewWriter(&z)
			w.Write(data)
			w.Close()
			data, name = z.Bytes(), name+".gz"
		}
		if err := os.WriteFile(name, data, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, name)
	}
	// Chunks of 50 kB: 30-odd a file, so that the workers share each file.
	defer func(old int) { matchChunk = old }(matchChunk)
	matchChunk = 50_000
	run := func(workers string) string {
		return mustRun(t, "", append([]string{"match", "--dir", dir, "--json", "--workers", workers}, files...)...)
	}
	one, three := run("1"), run("3")
	if one != three {
		t.Fatalf("--workers 1 and 3 differ:\n%s\n---\n%s", one, three)
	}
	var rep struct {
		Events        int64 `json:"events"`
		MatchedEvents int64 `json:"matched_events"`
		Malformed     int64 `json:"malformed"`
		Indicators    []struct{ Count int64 }
		Files         []struct{ Name string }
	}
	if err := json.Unmarshal([]byte(one), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Events != 15000 || rep.Malformed != 3 || rep.MatchedEvents < 500 || len(rep.Indicators) < 100 || len(rep.Files) != 5 ||
		rep.Files[2].Name != files[2] {
		t.Errorf("report: %d events, %d matched, %d malformed, %d indicators, files %v", rep.Events, rep.MatchedEvents, rep.Malformed, len(rep.Indicators), rep.Files)
	}
	// A missing file fails the run, whatever the workers.
	if _, err := runMain(t, "", "match", "--dir", dir, "--workers", "3", files[0], filepath.Join(work, "missing.json"), files[1]); err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("missing file: %v", err)
	}
	if _, err := runMain(t, "", "match", "--dir", dir, "-", "-"); err == nil || !strings.Contains(err.Error(), "more than once") {
		t.Errorf("standard input twice: %v", err)
	}
}

// TestMatchProgress: the progress line sums the files being read.
func TestMatchProgress(t *testing.T) {
	var b bytes.Buffer
	p := newProgress(&b, true, 2)
	f0, f1 := p.worker(0), p.worker(1)
	f0.start("a.json", 1_000_000)
	f1.start("b.json", 3_000_000)
	f1.update(500_000, 4000, 7) // redrawn at most five times a second: this is the first
	f0.update(500_000, 6000, 1) // not drawn yet
	p.last = time.Time{}
	f0.update(500_000, 6000, 1)
	p.done()
	out := b.String()
	if !strings.Contains(out, "\r2 files  25%  1.0 MB  10000 events (") || !strings.Contains(out, ")  8 matched") || !strings.HasSuffix(out, "\r\033[K") {
		t.Errorf("progress: %q", out)
	}
	b.Reset()
	q := newProgress(&b, false, 1)
	q.worker(0).update(1, 1, 1)
	q.done()
	if b.Len() != 0 {
		t.Errorf("off, it drew %q", b.String())
	}
}
