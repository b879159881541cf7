package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/node"
	"github.com/parleyhq/parley/internal/peer"
	"github.com/parleyhq/parley/internal/server"
	"github.com/parleyhq/parley/internal/stix"
	"github.com/parleyhq/parley/internal/taxii"
)

// reqAPI is one served node with users of each role and a channel "a-b"
// proposed to a pinned peer (a proposed channel takes items already).
type reqAPI struct {
	srv    *server.Server
	client *http.Client
}

func reqAPINode(t *testing.T) *reqAPI {
	t.Helper()
	ctx := context.Background()
	n, created, err := node.Init(ctx, filepath.Join(t.TempDir(), "a"), node.InitOptions{Name: "party-a", Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := server.Start(ctx, n, server.Options{Addr: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(5 * time.Second) })
	for _, u := range []struct {
		name string
		role dialogue.Role
	}{{"ana", dialogue.RoleExpert}, {"lea", dialogue.RoleLead}} {
		h, err := dialogue.HashPassword("secret-pass-" + u.name)
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Store.CreateUser(ctx, &dialogue.User{Name: u.name, Role: u.role, CreatedAt: time.Now()}, h); err != nil {
			t.Fatal(err)
		}
	}
	// The peer: another node's keys (it need not run).
	other, ocreated, err := node.Init(ctx, filepath.Join(t.TempDir(), "b"), node.InitOptions{Name: "party-b", Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	bkey := other.LogKey()
	other.Close()
	pr, err := peer.NewPeer("party-b", "https://127.0.0.1:1", ocreated.Pin, bkey, "")
	if err != nil {
		t.Fatal(err)
	}
	pr.CreatedAt = time.Now()
	if err := n.Store.AddPeer(ctx, pr); err != nil {
		t.Fatal(err)
	}
	if err := n.Store.ProposeChannel(ctx, &dialogue.Channel{Title: "a-b", Peer: "party-b", State: dialogue.ChannelProposed, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	return &reqAPI{srv: s, client: &http.Client{Transport: &http.Transport{TLSClientConfig: taxii.ClientTLS(created.Pin, false)}}}
}

// do sends a request as user (password "secret-pass-"+user) and decodes the
// JSON answer into out (when not nil); it returns the status and body.
func (a *reqAPI) do(t *testing.T, user, method, path string, body any, out any) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, a.srv.URL+"/api"+path, rd)
	req.SetBasicAuth(user, "secret-pass-"+user)
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %v\n%s", method, path, err, data)
		}
	}
	return resp.StatusCode, string(data)
}

func apiBundle(t *testing.T) json.RawMessage {
	objs, err := stix.SampleIncident(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]any{"type": "bundle", "id": stix.NewID("bundle"), "objects": objs})
	return b
}

// POST /reports files a report that GET /reports and GET /reports/{id}
// show; refusals answer 400 naming the field, a reader 403.
func TestReportsAPI(t *testing.T) {
	a := reqAPINode(t)
	var created struct{ ID string }
	body := map[string]any{"channel": "a-b", "bundle": apiBundle(t), "tlp": "green", "sectors": []string{"health"}, "severity": 2}
	if st, msg := a.do(t, "ana", "POST", "/reports", body, &created); st != http.StatusCreated || !strings.HasPrefix(created.ID, "report--") {
		t.Fatalf("POST /reports: %d %s", st, msg)
	}
	var list []map[string]any
	if st, msg := a.do(t, "lea", "GET", "/reports?channel=a-b", nil, &list); st != 200 || len(list) != 1 || list[0]["id"] != created.ID || list[0]["tlp"] != "green" {
		t.Fatalf("GET /reports: %d %s", st, msg)
	}
	var one map[string]any
	if st, msg := a.do(t, "lea", "GET", "/reports/"+created.ID, nil, &one); st != 200 || one["severity"] != 2.0 || len(one["objects"].([]any)) == 0 {
		t.Fatalf("GET /reports/{id}: %d %s", st, msg)
	}
	for _, c := range []struct {
		user   string
		edit   func(m map[string]any)
		status int
		want   string
	}{
		{"lea", func(m map[string]any) {}, 403, "needs the role expert, duty or admin"},
		{"ana", func(m map[string]any) { delete(m, "tlp") }, 400, "tlp: required"},
		{"ana", func(m map[string]any) { m["sectors"] = []string{"moon"} }, 400, `sectors: \"moon\" is not a sector code.`},
		{"ana", func(m map[string]any) { m["severity"] = 7 }, 400, `severity: \"7\"; want a number from 1 (low) to 5 (critical).`},
		{"ana", func(m map[string]any) { m["colour"] = "red" }, 400, "colour"},
		{"ana", func(m map[string]any) { delete(m, "bundle") }, 400, "title: required; say in a line what happened."},
		{"ana", func(m map[string]any) { m["indicators"] = "192.0.2.10\nnot-an-indicator" }, 400, "indicators: line 2 (not-an-indicator): not an IP address"},
		{"ana", func(m map[string]any) { m["channel"] = "zz" }, 400, `channel: \"zz\" is not a channel of this node.`},
	} {
		m := map[string]any{}
		for k, v := range body {
			m[k] = v
		}
		c.edit(m)
		if st, msg := a.do(t, c.user, "POST", "/reports", m, nil); st != c.status || !strings.Contains(msg, c.want) {
			t.Errorf("POST /reports %v as %s: %d %s; want %d %q", m["tlp"], c.user, st, msg, c.status, c.want)
		}
	}
	if st, msg := a.do(t, "lea", "GET", "/reports/report--00000000-0000-4000-8000-000000000000", nil, nil); st != 404 {
		t.Errorf("unknown report: %d %s", st, msg)
	}
}
