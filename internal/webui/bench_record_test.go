package webui_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/node"
	"github.com/parleyhq/parley/internal/peer"
	"github.com/parleyhq/parley/internal/server"
	"github.com/parleyhq/parley/internal/tlog"
	"github.com/parleyhq/parley/internal/webui"
	"github.com/parleyhq/parley/internal/workflow"
)

// recordEntries is how many entries the benchmark's channel log holds.
const recordEntries = 10000

// BenchmarkRecord measures, with 10,000 entries in a channel's log (one
// checkpoint per entry: 10,000 checkpoints, the newest cosigned by the
// peer) and the peer's log cosigned here: the Record page (GET /record),
// the first page of the channel's checkpoint history, and the
// verification (POST /record/verify, which is not under the 100 ms rule).
// The time is the server's: the UI's handler is called directly.
func BenchmarkRecord(b *testing.B) {
	ctx := context.Background()
	n, _, err := node.Init(ctx, filepath.Join(b.TempDir(), "party-a"), node.InitOptions{Name: "party-a", Listen: "127.0.0.1:0"})
	if err != nil {
		b.Fatal(err)
	}
	defer n.Close()
	h, err := dialogue.HashPassword("password-olga")
	if err != nil {
		b.Fatal(err)
	}
	// An admin: the verification is for admins only.
	if err := n.Store.CreateUser(ctx, &dialogue.User{Name: "olga", Role: dialogue.RoleAdmin, CreatedAt: time.Now()}, h); err != nil {
		b.Fatal(err)
	}
	// The peer: its keys, the channel proposed to it, its log cosigned
	// here, and its cosignature of this node's newest checkpoint.
	bskey, bvkey, err := tlog.GenerateKey("party-b")
	if err != nil {
		b.Fatal(err)
	}
	pin := make([]byte, 32)
	_, _ = rand.Read(pin)
	p, err := peer.NewPeer("party-b", "https://127.0.0.1:1", base64.StdEncoding.EncodeToString(pin), bvkey, "")
	if err != nil {
		b.Fatal(err)
	}
	p.CreatedAt, p.LastContact = time.Now(), time.Now().Add(-time.Hour)
	if err := n.Store.AddPeer(ctx, p); err != nil {
		b.Fatal(err)
	}
	if err := n.Store.SetPeerContact(ctx, "party-b", time.Now().Add(-time.Hour)); err != nil {
		b.Fatal(err)
	}
	ch := &dialogue.Channel{Title: "a-b", Peer: "party-b", State: dialogue.ChannelProposed, CreatedAt: time.Now()}
	if err := n.Store.ProposeChannel(ctx, ch); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	for i := range recordEntries {
		if _, err := n.Store.AddObjects(ctx, ch.ID, []*dialogue.Object{benchIndicator(i)}); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("%d entries appended in %v", recordEntries, time.Since(start).Round(time.Millisecond))
	bsigner, err := tlog.NewSigner(bskey)
	if err != nil {
		b.Fatal(err)
	}
	bcosigner, err := tlog.NewCosigner(bskey)
	if err != nil {
		b.Fatal(err)
	}
	cp, err := n.Store.LatestCheckpoint(ctx, ch.ID)
	if err != nil {
		b.Fatal(err)
	}
	cosigned, err := tlog.Sign(tlog.Checkpoint{Origin: "party-a/parley/" + ch.ID, Size: cp.Size, Hash: cp.Root}, bcosigner)
	if err != nil {
		b.Fatal(err)
	}
	_, sig, _ := strings.Cut(string(cosigned), "\n\n")
	if err := n.Store.SetCheckpointNote(ctx, ch.ID, cp.Size, append(cp.Note, sig...)); err != nil {
		b.Fatal(err)
	}
	borigin := "party-b/parley/" + ch.ID
	broot := [32]byte{1}
	bnote, err := tlog.Sign(tlog.Checkpoint{Origin: borigin, Size: recordEntries, Hash: broot}, bsigner)
	if err != nil {
		b.Fatal(err)
	}
	if err := n.Store.WitnessStore(ctx, borigin, 0, recordEntries, broot, bnote); err != nil {
		b.Fatal(err)
	}

	ui, err := webui.New(webui.Config{Workflow: workflow.New(n.Store, n.Config.Name, n.LogKey()), Store: n.Store, Record: server.NewRecord(n),
		InsecureCookies: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	cookies, token := benchLogin(b, ui)
	get := func(path string, form url.Values) *httptest.ResponseRecorder {
		method := "GET"
		var body io.Reader
		if form != nil {
			method, body = "POST", strings.NewReader(form.Encode())
		}
		req := httptest.NewRequest(method, "http://node.example"+path, body)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("HX-Request", "true")
		}
		for _, c := range cookies {
			req.AddCookie(c)
		}
		w := httptest.NewRecorder()
		ui.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("%s %s: %d\n%s", method, path, w.Code, w.Body)
		}
		return w
	}
	if page := get("/record", nil).Body.String(); !strings.Contains(page, fmt.Sprintf(`<dd class="size">%d</dd>`, recordEntries)) || !strings.Contains(page, `<span class="cosignature">party-b, `) {
		b.Fatalf("the record page does not show the log:\n%s", page)
	}
	if page := get("/record/"+ch.ID+"/checkpoints", nil).Body.String(); strings.Count(page, `<th scope="row">`) != webui.HistoryPageSize {
		b.Fatalf("the history page does not show %d checkpoints:\n%s", webui.HistoryPageSize, page)
	}
	b.Run("page", func(b *testing.B) {
		for b.Loop() {
			get("/record", nil)
		}
	})
	b.Run("history", func(b *testing.B) {
		for b.Loop() {
			get("/record/"+ch.ID+"/checkpoints?page=2", nil)
		}
	})
	b.Run("verify", func(b *testing.B) {
		for b.Loop() {
			if res := get("/record/verify", url.Values{"csrf": {token}}).Body.String(); !strings.Contains(res, "OK: every log holds.") {
				b.Fatalf("verify:\n%s", res)
			}
		}
	})
}

// benchIndicator is a small indicator (~330 bytes).
func benchIndicator(n int) *dialogue.Object {
	id := fmt.Sprintf("indicator--%08x-0000-4000-8000-%012d", uint32(n)*2654435761, n)
	t := time.Date(2036, 1, 1, 0, 0, 0, 0, time.UTC)
	raw := fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":%q,"created":"2036-01-01T00:00:00Z","modified":"2036-01-01T00:00:00Z","pattern":"[ipv4-addr:value = '203.0.%d.%d']","pattern_type":"stix","valid_from":"2036-01-01T00:00:00Z","name":"indicator %d"}`,
		id, n/256%256, n%256, n)
	return &dialogue.Object{ID: id, Type: "indicator", SpecVersion: "2.1", Created: t, Modified: t, Raw: []byte(raw)}
}

// benchLogin signs olga in on ui, by its handler; it returns the session
// cookie and the CSRF token.
func benchLogin(b *testing.B, ui http.Handler) ([]*http.Cookie, string) {
	cookies := benchSignIn(b, ui)
	req := httptest.NewRequest("GET", "http://node.example/record", nil)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	w := httptest.NewRecorder()
	ui.ServeHTTP(w, req)
	m := csrfRE.FindStringSubmatch(w.Body.String())
	if m == nil {
		b.Fatalf("no CSRF token on the record page: %d", w.Code)
	}
	return cookies, m[1]
}
