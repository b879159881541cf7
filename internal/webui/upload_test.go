package webui_test

import (
	"crypto/sha256"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/blob"
)

// patternReader gives size bytes of a repeating pattern without holding
// them: the evidence of an upload test.
type patternReader struct{ off, left int64 }

func (p *patternReader) Read(b []byte) (int, error) {
	if p.left <= 0 {
		return 0, io.EOF
	}
	n := min(int64(len(b)), p.left)
	for i := range b[:n] {
		b[i] = byte((p.off + int64(i)) % 251)
	}
	p.off += n
	p.left -= n
	return int(n), nil
}

// writeFiling writes a multipart filing with one evidence file of size
// bytes to w, with the given boundary.
func writeFiling(w io.Writer, boundary string, fields url.Values, size int64) error {
	mw := multipart.NewWriter(w)
	if err := mw.SetBoundary(boundary); err != nil {
		return err
	}
	for k, vs := range fields {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	fw, err := mw.CreateFormFile("evidence", "capture.pcap")
	if err != nil {
		return err
	}
	if _, err := io.CopyBuffer(fw, &patternReader{left: size}, make([]byte, 64<<10)); err != nil {
		return err
	}
	return mw.Close()
}

// countWriter counts what is written to it.
type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// Evidence over the server's 10 MiB body limit goes through the node's
// real server up to the form's own limit: a 12 MiB file, streamed with
// its Content-Length as a browser sends it, is filed and kept, without
// the upload being held in memory anywhere on the way.
func TestReportUploadOverBodyLimit(t *testing.T) {
	a, bn := uiStart(t, "party-a"), uiStart(t, "party-b")
	ch := uiShare(t, a, bn)
	duty := a.browser(t)
	duty.login("olga", "password-olga")
	_, page := duty.do("GET", "/reports/new", nil)
	fields := goodReport(ch, csrfOf(t, page))

	const size = 12 << 20
	const boundary = "parley-upload-test-boundary"
	var length countWriter
	if err := writeFiling(&length, boundary, fields, size); err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	io.Copy(h, &patternReader{left: size})
	var sum [32]byte
	copy(sum[:], h.Sum(nil))

	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeFiling(pw, boundary, fields, size)) }()
	req, err := http.NewRequest("POST", duty.base+"/reports", pr)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = length.n
	req.Header.Set("Content-Type", "multipart/form-data; boundary="+boundary)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	resp, err := duty.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	runtime.ReadMemStats(&after)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/reports/") {
		t.Fatalf("a 12 MiB upload: %d %s\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	// Client, server and blob store are in this process: what they
	// allocated in all (about 4 MiB here, the two nodes' background work
	// included) stays under the upload's size, which holding the upload
	// in memory anywhere would need at least.
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("allocated during the upload: %.1f MiB", float64(alloc)/(1<<20))
	if alloc >= size {
		t.Errorf("the upload allocated %d MiB; a streamed one needs far less than its %d MiB", alloc>>20, size>>20)
	}
	blobs, err := blob.Open(a.srv.Node.Dir + "/blobs")
	if err != nil {
		t.Fatal(err)
	}
	if info, err := blobs.Stat(sum); err != nil || info.Size != size {
		t.Errorf("the evidence kept: %+v, %v", info, err)
	}
	_, page = duty.do("GET", resp.Header.Get("Location"), nil)
	if !strings.Contains(page, blob.Hex(sum)) {
		t.Errorf("the report does not list the evidence %s", blob.Hex(sum))
	}
}

// A body over the web UI's limit is answered with the error page in the
// user's language, saying the limit: not the TAXII error (JSON) of the
// server's body limit. So with the length declared and without it.
func TestUITooLarge(t *testing.T) {
	a := uiStart(t, "party-a")
	b := a.browser(t)
	b.lang = "ru"
	big := url.Values{"csrf": {"x"}, "name": {strings.Repeat("n", 11<<20)}}.Encode()
	for _, chunked := range []bool{false, true} {
		var body io.Reader = strings.NewReader(big)
		if chunked {
			body = io.MultiReader(body)
		}
		req, _ := http.NewRequest("POST", b.base+"/login", body)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept-Language", "ru")
		resp, err := b.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
			!strings.Contains(string(page), "Отправленное больше, чем принимает этот сервер: предел — 10,0 МиБ.") {
			t.Errorf("an 11 MiB form (chunked %v): %d %s\n%.2000s", chunked, resp.StatusCode, resp.Header.Get("Content-Type"), page)
		}
	}
}
