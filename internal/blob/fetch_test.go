package blob

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/parleyhq/parley/internal/dialogue"
)

// recorder wraps a handler and keeps the Range header of each request.
type recorder struct {
	next   http.Handler
	mu     sync.Mutex
	ranges []string
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec.mu.Lock()
	rec.ranges = append(rec.ranges, r.Header.Get("Range"))
	rec.mu.Unlock()
	rec.next.ServeHTTP(w, r)
}

func (rec *recorder) requests() []string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]string(nil), rec.ranges...)
}

// source is a node that keeps a blob and serves it on 127.0.0.1,
// recording the requests; wrap changes how it answers.
func source(t testing.TB, data []byte, wrap func(http.Handler) http.Handler) (ref dialogue.BlobRef, url string, rec *recorder) {
	t.Helper()
	s := newStore(t)
	sum := putBytes(t, s, data)
	h := Handler(s, func(*http.Request, [32]byte) error { return nil })
	if wrap != nil {
		h = wrap(h)
	}
	rec = &recorder{next: h}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	return dialogue.BlobRef{SHA256: sum, Size: int64(len(data))}, srv.URL + "/" + Hex(sum), rec
}

// client is an HTTP client of its own, so that no connection is shared
// between tests.
func client(t testing.TB) *http.Client {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// checkKept checks that s keeps exactly data under ref and no part is left.
func checkKept(t *testing.T, s *Store, ref dialogue.BlobRef, data []byte) {
	t.Helper()
	f, err := s.Open(ref.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(f)
	f.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("kept %d bytes (err %v), want the %d fetched", len(got), err, len(data))
	}
	if m := mode(t, s.Path(ref.SHA256)); m != 0o600 {
		t.Errorf("fetched blob has mode %04o, want 0600", m)
	}
	if left := tmpFiles(t, s); len(left) != 0 {
		t.Errorf("tmp/ holds %v after the fetch", left)
	}
}

// writePart leaves a partial download of ref holding data.
func writePart(t *testing.T, s *Store, ref dialogue.BlobRef, data []byte) {
	t.Helper()
	if err := os.WriteFile(s.partPath(ref.SHA256), data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestFetch(t *testing.T) {
	data := randomBytes(10, 500_000)
	ref, url, rec := source(t, data, nil)
	s := newStore(t)
	if err := s.Fetch(context.Background(), client(t), url, ref); err != nil {
		t.Fatal(err)
	}
	checkKept(t, s, ref, data)
	if got := rec.requests(); len(got) != 1 || got[0] != "" {
		t.Errorf("requests' Range headers = %q; want one request without", got)
	}
	// Kept already: no request.
	if err := s.Fetch(context.Background(), client(t), url, ref); err != nil {
		t.Fatal(err)
	}
	if n := len(rec.requests()); n != 1 {
		t.Errorf("a second Fetch made a request (%d in all); want none", n)
	}
}

func TestFetchKeptAlreadyNoRequest(t *testing.T) {
	data := []byte("put here first")
	s := newStore(t)
	sum := putBytes(t, s, data)
	// A URL nothing listens on: any request would fail.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String() + "/" + Hex(sum)
	ln.Close()
	if err := s.Fetch(context.Background(), client(t), url, dialogue.BlobRef{SHA256: sum, Size: int64(len(data))}); err != nil {
		t.Fatalf("Fetch of a kept blob = %v; want nil without a request", err)
	}
	// The reference's size disagrees with the blob kept under that hash.
	err = s.Fetch(context.Background(), client(t), url, dialogue.BlobRef{SHA256: sum, Size: 3})
	if !errors.Is(err, ErrMismatch) || dialogue.KindOf(err) != dialogue.KindInvalid {
		t.Errorf("Fetch with another size = %v; want ErrMismatch", err)
	}
	// A server that is down: KindUnavailable.
	other := sha256.Sum256([]byte("other"))
	err = s.Fetch(context.Background(), client(t), url, dialogue.BlobRef{SHA256: other, Size: 5})
	if dialogue.KindOf(err) != dialogue.KindUnavailable {
		t.Errorf("Fetch from a closed port = %v; want KindUnavailable", err)
	}
}

func TestFetchEmpty(t *testing.T) {
	s := newStore(t)
	ref := dialogue.BlobRef{SHA256: sha256.Sum256(nil)}
	if err := s.Fetch(context.Background(), client(t), "http://127.0.0.1:1/none", ref); err != nil {
		t.Fatalf("Fetch of the empty blob = %v; want it kept without a request", err)
	}
	checkKept(t, s, ref, nil)
}

func TestFetchStatus(t *testing.T) {
	data := []byte("not shared")
	s := newStore(t)
	src := newStore(t)
	sum := putBytes(t, src, data)
	srv := serveStore(t, src, func(_ *http.Request, got [32]byte) error {
		if got == sum {
			return dialogue.Errorf("test", dialogue.KindForbidden, "not shared with you")
		}
		return nil
	})
	ref := dialogue.BlobRef{SHA256: sum, Size: int64(len(data))}
	err := s.Fetch(context.Background(), client(t), srv.URL+"/blobs/"+Hex(sum), ref)
	if dialogue.KindOf(err) != dialogue.KindForbidden || !strings.Contains(err.Error(), "403 Forbidden") {
		t.Errorf("Fetch of a forbidden blob = %v; want KindForbidden saying 403", err)
	}
	missing := sha256.Sum256([]byte("missing"))
	err = s.Fetch(context.Background(), client(t), srv.URL+"/blobs/"+Hex(missing), dialogue.BlobRef{SHA256: missing, Size: 7})
	if dialogue.KindOf(err) != dialogue.KindNotFound {
		t.Errorf("Fetch of a missing blob = %v; want KindNotFound", err)
	}
	err = s.Fetch(context.Background(), client(t), "http://127.0.0.1:1/%zz", ref)
	if dialogue.KindOf(err) != dialogue.KindInvalid || !strings.Contains(err.Error(), "the URL") {
		t.Errorf("Fetch from a bad URL = %v; want KindInvalid naming the URL", err)
	}
	if list, _ := s.List(); len(list) != 0 {
		t.Errorf("kept %v after failed fetches", list)
	}
}

func TestFetchMaxSize(t *testing.T) {
	data := randomBytes(11, 2000)
	ref, url, rec := source(t, data, nil)
	s := newStore(t)
	s.MaxSize = 1999
	err := s.Fetch(context.Background(), client(t), url, ref)
	if dialogue.KindOf(err) != dialogue.KindTooLarge || !strings.Contains(err.Error(), "over the limit of 1999 bytes") {
		t.Errorf("Fetch over MaxSize = %v; want KindTooLarge", err)
	}
	if n := len(rec.requests()); n != 0 {
		t.Errorf("Fetch over MaxSize made %d requests", n)
	}
}

// cutProxy is a TCP proxy on 127.0.0.1 that cuts its first connection
// after cutAfter bytes from the server, and counts the bytes it passes
// from the server to the client.
type cutProxy struct {
	ln       net.Listener
	target   string
	cutAfter int64
	conns    atomic.Int32
	moved    atomic.Int64
	wg       sync.WaitGroup
}

func newCutProxy(t *testing.T, target string, cutAfter int64) *cutProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target, cutAfter: cutAfter}
	p.wg.Go(p.serve)
	t.Cleanup(func() { ln.Close(); p.wg.Wait() })
	return p
}

func (p *cutProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		first := p.conns.Add(1) == 1
		p.wg.Go(func() { p.handle(c, first) })
	}
}

func (p *cutProxy) handle(c net.Conn, cut bool) {
	defer c.Close()
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer up.Close()
	go func() {
		io.Copy(up, c)
		up.Close() // the client is gone: so is the server side
	}()
	var from io.Reader = up
	if cut {
		from = io.LimitReader(up, p.cutAfter)
	}
	io.Copy(countingWriter{c, &p.moved}, from)
}

// countingWriter adds what it writes to n as it goes.
type countingWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (c countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n.Add(int64(n))
	return n, err
}

func TestFetchResumesAfterCut(t *testing.T) {
	const size = 1 << 20
	data := randomBytes(12, size)
	ref, url, rec := source(t, data, nil)
	target := strings.TrimPrefix(url[:strings.LastIndex(url, "/")], "http://")
	proxy := newCutProxy(t, target, size/3)
	purl := "http://" + proxy.ln.Addr().String() + "/" + Hex(ref.SHA256)

	s := newStore(t)
	c := client(t)
	err := s.Fetch(context.Background(), c, purl, ref)
	if dialogue.KindOf(err) != dialogue.KindUnavailable || !strings.Contains(err.Error(), "the download stopped after") {
		t.Fatalf("Fetch through a cut connection = %v; want KindUnavailable saying it stopped", err)
	}
	if ok, _ := s.Has(ref.SHA256); ok {
		t.Fatal("a cut download is kept as the blob")
	}
	fi, err := os.Stat(s.partPath(ref.SHA256))
	if err != nil {
		t.Fatalf("no partial download left: %v", err)
	}
	have := fi.Size()
	if have == 0 || have >= size/3 {
		t.Fatalf("the part holds %d bytes; want some, fewer than the %d passed", have, size/3)
	}

	if err := s.Fetch(context.Background(), c, purl, ref); err != nil {
		t.Fatalf("resumed Fetch: %v", err)
	}
	checkKept(t, s, ref, data)
	got := rec.requests()
	if want := []string{"", "bytes=" + strconv.FormatInt(have, 10) + "-"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("requests' Range headers = %q; want %q", got, want)
	}
	if moved := proxy.moved.Load(); moved >= 2*size || moved < size {
		t.Errorf("%d bytes moved for a blob of %d; want at least it and under twice it", moved, size)
	} else {
		t.Logf("%d bytes moved for a blob of %d (%.2fx)", moved, size, float64(moved)/size)
	}
}

func TestFetchMismatch(t *testing.T) {
	data := randomBytes(13, 100_000)
	other := randomBytes(14, 100_000)
	for _, tc := range []struct {
		name  string
		serve []byte
		want  string
	}{
		{"other bytes", other, "the bytes received do not match the blob's SHA-256 and size: got sha256:" + Hex(sha256.Sum256(other))},
		{"longer", append(append([]byte(nil), data...), 'x'), "the server sends 100001 bytes from byte 0, want 100000"},
		{"shorter", data[:99_999], "the server sends 99999 bytes from byte 0, want 100000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ref, url, _ := source(t, data, func(http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Length", strconv.Itoa(len(tc.serve)))
					w.Write(tc.serve)
				})
			})
			s := newStore(t)
			err := s.Fetch(context.Background(), client(t), url, ref)
			if !errors.Is(err, ErrMismatch) || dialogue.KindOf(err) != dialogue.KindInvalid {
				t.Fatalf("Fetch = %v; want KindInvalid wrapping ErrMismatch", err)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "blob sha256:"+Hex(ref.SHA256)) {
				t.Errorf("error %q; want it to name the blob and say %q", err, tc.want)
			}
			if ok, _ := s.Has(ref.SHA256); ok {
				t.Error("a mismatching blob is kept")
			}
			if left := tmpFiles(t, s); len(left) != 0 {
				t.Errorf("tmp/ holds %v after a mismatch", left)
			}
		})
	}
}

// A chunked body (no Content-Length) that ends early or runs long.
func TestFetchMismatchChunked(t *testing.T) {
	data := randomBytes(15, 50_000)
	for _, tc := range []struct {
		name  string
		serve []byte
		want  string
	}{
		{"short", data[:40_000], "got 40000 bytes, want 50000"},
		{"long", append(append([]byte(nil), data...), data[:10]...), "the server sent more than 50000 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ref, url, _ := source(t, data, func(http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.(http.Flusher).Flush() // no Content-Length: chunked
					w.Write(tc.serve)
				})
			})
			s := newStore(t)
			err := s.Fetch(context.Background(), client(t), url, ref)
			if !errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Fetch = %v; want ErrMismatch saying %q", err, tc.want)
			}
			if left := tmpFiles(t, s); len(left) != 0 {
				t.Errorf("tmp/ holds %v after a mismatch", left)
			}
		})
	}
}

// A part left with wrong bytes (as a crash can leave it) is not the
// server's fault: Fetch starts over once, and the blob is kept.
func TestFetchBadPartStartsOver(t *testing.T) {
	data := randomBytes(16, 200_000)
	ref, url, rec := source(t, data, nil)
	s := newStore(t)
	writePart(t, s, ref, make([]byte, 50_000)) // zeros, not the blob's bytes
	if err := s.Fetch(context.Background(), client(t), url, ref); err != nil {
		t.Fatalf("Fetch with a bad part = %v; want it to start over and succeed", err)
	}
	checkKept(t, s, ref, data)
	if got, want := rec.requests(), []string{"bytes=50000-", ""}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("requests' Range headers = %q; want %q", got, want)
	}
}

// A part longer than the blob is dropped.
func TestFetchPartTooLong(t *testing.T) {
	data := randomBytes(17, 1000)
	ref, url, rec := source(t, data, nil)
	s := newStore(t)
	writePart(t, s, ref, make([]byte, 2000))
	if err := s.Fetch(context.Background(), client(t), url, ref); err != nil {
		t.Fatal(err)
	}
	checkKept(t, s, ref, data)
	if got := rec.requests(); len(got) != 1 || got[0] != "" {
		t.Errorf("requests' Range headers = %q; want one without", got)
	}
}

// A complete part is kept without a request.
func TestFetchCompletePart(t *testing.T) {
	data := randomBytes(18, 1000)
	ref, url, rec := source(t, data, nil)
	s := newStore(t)
	writePart(t, s, ref, data)
	if err := s.Fetch(context.Background(), client(t), url, ref); err != nil {
		t.Fatal(err)
	}
	checkKept(t, s, ref, data)
	if n := len(rec.requests()); n != 0 {
		t.Errorf("%d requests for a blob whose part was complete", n)
	}
}

func TestFetchRangeIgnored(t *testing.T) {
	data := randomBytes(19, 100_000)
	// The server drops the Range header: it answers 200 with every byte.
	ref, url, rec := source(t, data, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.Header.Del("Range")
			h.ServeHTTP(w, r)
		})
	})
	s := newStore(t)
	writePart(t, s, ref, make([]byte, 30_000)) // garbage: must not survive the 200
	if err := s.Fetch(context.Background(), client(t), url, ref); err != nil {
		t.Fatalf("Fetch from a server that ignores Range = %v", err)
	}
	checkKept(t, s, ref, data)
	if got, want := rec.requests(), []string{"bytes=30000-"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("requests' Range headers = %q; want %q", got, want)
	}
}

func TestFetch416(t *testing.T) {
	data := randomBytes(20, 100_000)
	ref, url, rec := source(t, data, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Range") != "" {
				w.Header().Set("Content-Range", "bytes */100000")
				w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	s := newStore(t)
	writePart(t, s, ref, data[:40_000])
	if err := s.Fetch(context.Background(), client(t), url, ref); err != nil {
		t.Fatalf("Fetch after a 416 = %v; want it to start over", err)
	}
	checkKept(t, s, ref, data)
	if got, want := rec.requests(), []string{"bytes=40000-", ""}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("requests' Range headers = %q; want %q", got, want)
	}

	// A server that answers 416 to everything: Fetch gives up, unavailable.
	ref2, url2, rec2 := source(t, data[:50_000], func(http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
		})
	})
	s2 := newStore(t)
	writePart(t, s2, ref2, data[:1000])
	err := s2.Fetch(context.Background(), client(t), url2, ref2)
	if dialogue.KindOf(err) != dialogue.KindUnavailable || !strings.Contains(err.Error(), "the server cannot resume the download") {
		t.Errorf("Fetch from a server that always answers 416 = %v; want KindUnavailable", err)
	}
	if n := len(rec2.requests()); n != 2 {
		t.Errorf("%d requests; want 2 (resume, then start over once)", n)
	}
}

func TestFetchWrongContentRange(t *testing.T) {
	data := randomBytes(21, 100_000)
	// The server answers 206 from another offset than asked.
	ref, url, rec := source(t, data, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Range") != "" {
				r.Header.Set("Range", "bytes=10-")
			}
			h.ServeHTTP(w, r)
		})
	})
	s := newStore(t)
	writePart(t, s, ref, data[:20_000])
	if err := s.Fetch(context.Background(), client(t), url, ref); err != nil {
		t.Fatalf("Fetch = %v; want it to start over after the wrong range", err)
	}
	checkKept(t, s, ref, data)
	if n := len(rec.requests()); n != 2 {
		t.Errorf("%d requests; want 2", n)
	}
}

func TestFetchConcurrent(t *testing.T) {
	data := randomBytes(22, 2<<20)
	ref, url, rec := source(t, data, nil)
	s := newStore(t)
	// Several Store values on one folder, as several parts of a node may hold.
	stores := []*Store{s, {Dir: s.Dir}, {Dir: s.Dir}}
	c := client(t)
	var wg sync.WaitGroup
	errs := make([]error, 12)
	for i := range errs {
		wg.Go(func() { errs[i] = stores[i%len(stores)].Fetch(context.Background(), c, url, ref) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Fetch %d: %v", i, err)
		}
	}
	checkKept(t, s, ref, data)
	if n := len(rec.requests()); n != 1 {
		t.Errorf("%d requests for %d concurrent fetches; want 1", n, len(errs))
	}
}

func TestFetchCancelledWhileWaiting(t *testing.T) {
	s := newStore(t)
	sum := sha256.Sum256([]byte("x"))
	unlock, err := s.lock(context.Background(), sum)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = s.Fetch(ctx, client(t), "http://127.0.0.1:1/", dialogue.BlobRef{SHA256: sum, Size: 1})
	if !errors.Is(err, context.Canceled) || dialogue.KindOf(err) != dialogue.KindUnavailable {
		t.Errorf("Fetch waiting for the lock with a cancelled context = %v", err)
	}
}

func TestParseContentRange(t *testing.T) {
	for _, tc := range []struct {
		in                string
		start, end, total int64
	}{
		{"bytes 0-0/1", 0, 0, 1},
		{"bytes 100-199/1000", 100, 199, 1000},
		{"bytes 5-9/*", 5, 9, -1},
	} {
		s, e, n, err := ParseContentRange(tc.in)
		if err != nil || s != tc.start || e != tc.end || n != tc.total {
			t.Errorf("ParseContentRange(%q) = %d, %d, %d, %v", tc.in, s, e, n, err)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"", `want the unit "bytes " first`},
		{"items 0-1/2", `want the unit "bytes " first`},
		{"bytes */100", `want FIRST-LAST before "/"`},
		{"bytes *-1/100", `the first byte "*" is not a decimal number`},
		{"bytes 0-1", `no "/" before the total length`},
		{"bytes 5/10", `want FIRST-LAST before "/"`},
		{"bytes -5-9/10", `the first byte "" is not a decimal number`},
		{"bytes +1-9/10", `the first byte "+1" is not a decimal number`},
		{"bytes 1- 9/10", `the last byte " 9" is not a decimal number`},
		{"bytes 9-1/10", "the last byte 1 is before the first 9"},
		{"bytes 0-10/10", "the last byte 10 is not before the total length 10"},
		{"bytes 0-1/x", `the total length "x" is not a decimal number or "*"`},
		{"bytes 0-1/99999999999999999999", `the total length "99999999999999999999" is not`},
	} {
		_, _, _, err := ParseContentRange(tc.in)
		if err == nil || !strings.HasPrefix(err.Error(), "Content-Range ") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseContentRange(%q) = %v; want an error naming Content-Range and saying %q", tc.in, err, tc.want)
		}
	}
}

func FuzzParseContentRange(f *testing.F) {
	f.Add("bytes 0-0/1")
	f.Add("bytes 5-9/*")
	f.Add("bytes 9-1/10")
	f.Fuzz(func(t *testing.T, s string) {
		start, end, total, err := ParseContentRange(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "Content-Range ") {
				t.Errorf("error %q does not name the header", err)
			}
			return
		}
		if start < 0 || end < start || total != -1 && end >= total {
			t.Fatalf("ParseContentRange(%q) = %d, %d, %d: out of order", s, start, end, total)
		}
		tot := "*"
		if total >= 0 {
			tot = strconv.FormatInt(total, 10)
		}
		// Accepted input is canonical, but for leading zeros.
		back := fmt.Sprintf("bytes %d-%d/%s", start, end, tot)
		if strings.Count(s, "0") == strings.Count(back, "0") && back != s {
			t.Errorf("ParseContentRange(%q) reads as %q", s, back)
		}
	})
}
