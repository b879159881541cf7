package webui_test

import (
	"bytes"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/blob"
	"github.com/parleyhq/parley/internal/webui"
)

// Evidence that fills the disk is answered with the error page and 507,
// the status httpapi's one table gives a full disk, saying so in the
// user's language (not a plain-text 500). The blob store lives on a 1 MiB
// tmpfs; mounting it needs root, without which the test is skipped.
func TestReportEvidenceDiskFull(t *testing.T) {
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here (needs root): %v: %s", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	a, bn := uiStart(t, "party-a"), uiStart(t, "party-b")
	ch := uiShare(t, a, bn)
	full, err := blob.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	ui, err := webui.New(webui.Config{Workflow: a.srv.Workflow, Store: a.srv.Node.Store, Blobs: full, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	session := benchSignIn(t, ui)
	serve := func(req *http.Request) *httptest.ResponseRecorder {
		for _, c := range session {
			req.AddCookie(c)
		}
		req.Header.Set("Accept-Language", "ru")
		rec := httptest.NewRecorder()
		ui.ServeHTTP(rec, req)
		return rec
	}
	page := serve(httptest.NewRequest("GET", "https://node/reports/new", nil)).Body.String()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("csrf", csrfOf(t, page))
	for _, k := range []string{"channel", "title", "indicators", "sectors", "tlp", "severity"} {
		mw.WriteField(k, goodReport(ch, "")[k][0])
	}
	w, _ := mw.CreateFormFile("evidence", "capture.pcap")
	w.Write(make([]byte, 2<<20))
	mw.Close()
	req := httptest.NewRequest("POST", "https://node/reports", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	rec := serve(req)
	if rec.Code != http.StatusInsufficientStorage || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") ||
		!strings.Contains(rec.Body.String(), "Диск сервера заполнен") {
		t.Errorf("evidence on a full disk: %d %s\n%s", rec.Code, rec.Header().Get("Content-Type"), rec.Body.String())
	}
}
