package webui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/node"
	"github.com/parleyhq/parley/internal/peer"
	"github.com/parleyhq/parley/internal/server"
	"github.com/parleyhq/parley/internal/stix"
	"github.com/parleyhq/parley/internal/taxii"
	"github.com/parleyhq/parley/internal/workflow"
)

// BenchmarkMeetingPages serves the meetings pages of a node whose store
// holds 10,000 items: 5,000 meetings, each with its minutes (a statement
// in English and Russian), filed through the workflow in batches on an
// active channel. Each iteration is one page over HTTPS, signed in (the
// server's time plus the client's, on 127.0.0.1).
//
//	go test ./internal/webui -run '^$' -bench MeetingPages -benchtime 20x
func BenchmarkMeetingPages(b *testing.B) {
	ctx := context.Background()
	a, other := benchNode(b, "party-a"), benchNode(b, "party-b")
	for _, p := range [][2]*benchServer{{a, other}, {other, a}} {
		pe, err := peer.NewPeer(p[1].name, p[1].srv.URL, p[1].srv.Pin, p[1].srv.Node.LogKey(), "")
		if err != nil {
			b.Fatal(err)
		}
		pe.CreatedAt = time.Now()
		if err := p[0].srv.Node.Store.AddPeer(ctx, pe); err != nil {
			b.Fatal(err)
		}
	}
	ch := &dialogue.Channel{Title: "a-b", Peer: "party-b", State: dialogue.ChannelProposed, CreatedAt: time.Now()}
	if err := a.srv.Node.Store.ProposeChannel(ctx, ch); err != nil {
		b.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if c, err := other.srv.Node.Store.Channel(ctx, ch.ID); err == nil && c.State == dialogue.ChannelOffered {
			break
		}
		if time.Now().After(deadline) {
			b.Fatal("party-b is not offered the channel")
		}
	}
	if _, err := other.srv.Node.Store.AcceptChannel(ctx, ch.ID, "", time.Now()); err != nil {
		b.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if c, err := a.srv.Node.Store.Channel(ctx, ch.ID); err == nil && c.State == dialogue.ChannelActive {
			break
		}
		if time.Now().After(deadline) {
			b.Fatal("party-a does not see the channel accepted")
		}
	}
	// party-b stops: its copy of the 10,000 items would load the machine.
	other.srv.Close(5 * time.Second)

	wf := a.srv.Workflow
	achan, _, err := wf.Channel(ctx, ch.ID)
	if err != nil {
		b.Fatal(err)
	}
	texts := map[string]string{"en": "The parties agreed to share indicators.", "ru": "Стороны договорились обмениваться индикаторами."}
	sum, _ := workflow.TextSHA256(texts)
	start := time.Date(2036, 1, 1, 9, 0, 0, 0, time.UTC)
	var meeting string
	for batch := range 10 {
		var raws []json.RawMessage
		for i := range 500 {
			m, err := wf.NewObject(stix.TypeMeeting, map[string]any{"name": fmt.Sprintf("Expert round %d", batch*500+i), "start": stix.FormatTime(start.Add(time.Duration(batch*500+i) * time.Hour))})
			if err != nil {
				b.Fatal(err)
			}
			var mp map[string]any
			_ = json.Unmarshal(m, &mp)
			mid := mp["id"].(string)
			st, err := wf.NewObject(stix.TypeStatement, map[string]any{"statement_kind": "minutes", "texts": texts, "text_sha256": sum, "meeting_ref": mid})
			if err != nil {
				b.Fatal(err)
			}
			var sp map[string]any
			_ = json.Unmarshal(st, &sp)
			mp["minutes_ref"] = sp["id"]
			m, _ = json.Marshal(mp)
			raws = append(raws, m, st)
			meeting = mid
		}
		if _, err := wf.File(ctx, achan, raws...); err != nil {
			b.Fatal(err)
		}
	}
	sts, err := wf.Statements(ctx, "", "")
	if err != nil || len(sts) != 5000 {
		b.Fatalf("%d statements, %v", len(sts), err)
	}
	c := a.client(b)
	for _, path := range []string{"/meetings", "/meetings?page=50", "/meetings/" + meeting, "/statements", "/statements/" + sts[0].ID} {
		b.Run(path, func(b *testing.B) {
			for b.Loop() {
				resp, err := c.Get(a.srv.URL + path)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("%s: %d", path, resp.StatusCode)
				}
			}
		})
	}
}

// benchServer is a node for a benchmark, with the duty officer olga.
type benchServer struct {
	name string
	srv  *server.Server
	pin  string
}

func benchNode(tb testing.TB, name string) *benchServer {
	tb.Helper()
	ctx := context.Background()
	n, created, err := node.Init(ctx, filepath.Join(tb.TempDir(), name), node.InitOptions{Name: name, Listen: "127.0.0.1:0"})
	if err != nil {
		tb.Fatal(err)
	}
	h, err := dialogue.HashPassword("password-olga")
	if err != nil {
		tb.Fatal(err)
	}
	if err := n.Store.CreateUser(ctx, &dialogue.User{Name: "olga", Role: dialogue.RoleDuty, CreatedAt: time.Now()}, h); err != nil {
		tb.Fatal(err)
	}
	s, err := server.Start(ctx, n, server.Options{Addr: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Peer: peer.Config{PollInterval: 2 * time.Second, LocalInterval: 100 * time.Millisecond, MinBackoff: 50 * time.Millisecond, MaxBackoff: 500 * time.Millisecond, Timeout: 10 * time.Second}})
	if err != nil {
		n.Close()
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close(5 * time.Second) })
	return &benchServer{name: name, srv: s, pin: created.Pin}
}

// client is an HTTPS client signed in as olga.
func (n *benchServer) client(tb testing.TB) *http.Client {
	tb.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: taxii.ClientTLS(n.pin, false)}, Jar: jar}
	resp, err := c.Get(n.srv.URL + "/login")
	if err != nil {
		tb.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfRE.FindSubmatch(page)
	if m == nil {
		tb.Fatal("no CSRF token on the login page")
	}
	resp, err = c.PostForm(n.srv.URL+"/login", url.Values{"csrf": {string(m[1])}, "name": {"olga"}, "password": {"password-olga"}})
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.Path != "/inbox" {
		tb.Fatalf("sign-in ended at %s", resp.Request.URL.Path)
	}
	return c
}
