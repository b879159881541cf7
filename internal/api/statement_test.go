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
	"github.com/parleyhq/parley/internal/taxii"
	"github.com/parleyhq/parley/internal/workflow"
)

// stmtAPINode is a served node with an expert and a lead user.
type stmtAPINode struct {
	name   string
	srv    *server.Server
	client *http.Client
}

func stmtAPIStart(t *testing.T, name string) *stmtAPINode {
	t.Helper()
	ctx := context.Background()
	n, created, err := node.Init(ctx, filepath.Join(t.TempDir(), name), node.InitOptions{Name: name, Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []struct {
		name string
		role dialogue.Role
	}{{"expert", dialogue.RoleExpert}, {"lead", dialogue.RoleLead}} {
		h, err := dialogue.HashPassword("password-" + u.name)
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Store.CreateUser(ctx, &dialogue.User{Name: u.name, Role: u.role, CreatedAt: time.Now()}, h); err != nil {
			t.Fatal(err)
		}
	}
	s, err := server.Start(ctx, n, server.Options{Addr: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Peer: peer.Config{PollInterval: 2 * time.Second, LocalInterval: 100 * time.Millisecond, MinBackoff: 50 * time.Millisecond, MaxBackoff: 500 * time.Millisecond, Timeout: 10 * time.Second}})
	if err != nil {
		n.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(5 * time.Second) })
	return &stmtAPINode{name: name, srv: s, client: &http.Client{Transport: &http.Transport{TLSClientConfig: taxii.ClientTLS(created.Pin, false)}}}
}

// call sends a JSON request as user and decodes the answer into out.
func (n *stmtAPINode) call(t *testing.T, user, method, path string, body any, out any) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, n.srv.URL+"/api"+path, rd)
	req.SetBasicAuth(user, "password-"+user)
	req.Header.Set("Content-Type", "application/json")
	resp, err := n.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, data)
		}
	}
	return resp.StatusCode, string(data)
}

func stmtAPIWait(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("after 20s: not yet: %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// The statement, off-limits, meeting and threat endpoints over real HTTPS
// on two nodes that exchange over real mutual TLS.
func TestStatementAPI(t *testing.T) {
	ctx := context.Background()
	a, b := stmtAPIStart(t, "party-a"), stmtAPIStart(t, "party-b")
	for _, p := range [][2]*stmtAPINode{{a, b}, {b, a}} {
		pr, err := peer.NewPeer(p[1].name, p[1].srv.URL, p[1].srv.Pin, p[1].srv.Node.LogKey(), "")
		if err != nil {
			t.Fatal(err)
		}
		pr.CreatedAt = time.Now()
		if err := p[0].srv.Node.Store.AddPeer(ctx, pr); err != nil {
			t.Fatal(err)
		}
	}
	ch := &dialogue.Channel{Title: "a-b", Peer: b.name, State: dialogue.ChannelProposed, CreatedAt: time.Now()}
	if err := a.srv.Node.Store.ProposeChannel(ctx, ch); err != nil {
		t.Fatal(err)
	}
	stmtAPIWait(t, "b is offered the channel", func() bool {
		c, err := b.srv.Node.Store.Channel(ctx, ch.ID)
		return err == nil && c.State == dialogue.ChannelOffered
	})
	if _, err := b.srv.Node.Store.AcceptChannel(ctx, ch.ID, "", time.Now()); err != nil {
		t.Fatal(err)
	}

	texts := map[string]string{"en": "Energy is off-limits.", "ru": "Энергетика — запретный сектор."}
	var created struct{ ID string }
	// Refused: a role that may not write, a bad body, a bad sector.
	if code, body := a.call(t, "lead", "POST", "/offlimits", map[string]any{"channel": "a-b", "texts": texts, "sectors": []string{"energy"}}, nil); code != http.StatusForbidden || !strings.Contains(body, "needs the role expert, duty or admin") {
		t.Errorf("lead proposes: %d %s", code, body)
	}
	if code, body := a.call(t, "expert", "POST", "/offlimits", map[string]any{"channel": "a-b", "texts": texts, "sectors": []string{"energy"}, "colour": "red"}, nil); code != http.StatusBadRequest || !strings.Contains(body, "colour") {
		t.Errorf("unknown field: %d %s", code, body)
	}
	if code, body := a.call(t, "expert", "POST", "/offlimits", map[string]any{"channel": "a-b", "texts": texts, "sectors": []string{"casinos"}}, nil); code != http.StatusBadRequest || !strings.Contains(body, `sectors: sector \"casinos\": not a sector code`) {
		t.Errorf("bad sector: %d %s", code, body)
	}
	if code, body := a.call(t, "expert", "POST", "/offlimits", map[string]any{"channel": "a-b", "texts": texts, "sectors": []string{"energy"}}, &created); code != http.StatusCreated {
		t.Fatalf("%d %s", code, body)
	}
	id := created.ID
	sum, _ := workflow.TextSHA256(texts)
	var st workflow.Statement
	stmtAPIWait(t, "b has the statement", func() bool {
		code, _ := b.call(t, "lead", "GET", "/statements/"+id, nil, &st)
		return code == http.StatusOK
	})
	if st.TextSHA256 != sum || st.Texts["ru"] != texts["ru"] || st.State != "proposed" {
		t.Errorf("on b: %+v", st)
	}
	if code, body := b.call(t, "expert", "POST", "/statements/"+id+"/sign", map[string]any{"text_sha256": strings.Repeat("a", 64)}, nil); code != http.StatusConflict || !strings.Contains(body, "is not the hash of statement") {
		t.Errorf("wrong hash: %d %s", code, body)
	}
	if code, body := b.call(t, "expert", "POST", "/statements/"+id+"/sign", map[string]any{"text_sha256": sum}, &created); code != http.StatusCreated {
		t.Fatalf("%d %s", code, body)
	}
	if code, body := b.call(t, "expert", "POST", "/statements/"+id+"/sign", map[string]any{"text_sha256": sum}, nil); code != http.StatusConflict || !strings.Contains(body, "a party signs once") {
		t.Errorf("twice: %d %s", code, body)
	}
	if code, body := a.call(t, "expert", "POST", "/statements/"+id+"/sign", map[string]any{"text_sha256": sum}, nil); code != http.StatusCreated {
		t.Fatalf("%d %s", code, body)
	}
	for _, n := range []*stmtAPINode{a, b} {
		stmtAPIWait(t, n.name+" shows energy agreed off-limits", func() bool {
			var off struct {
				Agreed map[string][]string `json:"agreed"`
			}
			code, _ := n.call(t, "lead", "GET", "/offlimits?channel=a-b", nil, &off)
			return code == http.StatusOK && len(off.Agreed[ch.ID]) == 1 && off.Agreed[ch.ID][0] == "energy"
		})
	}
	var list struct{ Statements []workflow.Statement }
	if code, body := a.call(t, "lead", "GET", "/statements?kind=off-limits", nil, &list); code != http.StatusOK || len(list.Statements) != 1 || list.Statements[0].State != "agreed" ||
		list.Statements[0].Sigs[0].SignedBy != "expert (expert)" {
		t.Errorf("list: %d %s", code, body)
	}
	if code, _ := a.call(t, "lead", "GET", "/statements?kind=treaty", nil, nil); code != http.StatusBadRequest {
		t.Errorf("bad kind: %d", code)
	}
	if code, _ := a.call(t, "lead", "GET", "/statements/parley-statement--00000000-0000-4000-8000-000000000000", nil, nil); code != http.StatusNotFound {
		t.Errorf("no such statement: %d", code)
	}

	// A meeting.
	if code, body := a.call(t, "expert", "POST", "/meetings", map[string]any{"channel": "a-b", "name": "Round 1", "start": "2026-12-03T10:00:00Z",
		"participants": []any{map[string]any{"party": "party-b", "name": "Boris"}}, "agenda": []any{map[string]any{"title": "Opening"}}}, &created); code != http.StatusCreated {
		t.Fatalf("%d %s", code, body)
	}
	mid := created.ID
	var m workflow.Meeting
	if code, body := a.call(t, "expert", "POST", "/meetings/"+mid+"/agenda", map[string]any{"items": []any{map[string]any{"title": "AOB"}}}, &m); code != http.StatusOK || len(m.Agenda) != 2 {
		t.Errorf("agenda: %d %s", code, body)
	}
	if code, body := a.call(t, "expert", "POST", "/meetings/"+mid+"/actions", map[string]any{"description": "Block", "owner": "party-b", "due": "2026-12-10T00:00:00Z"}, &m); code != http.StatusOK || len(m.ActionItems) != 1 || m.ActionItems[0].Owner != "party-b" {
		t.Errorf("action: %d %s", code, body)
	}
	if code, body := a.call(t, "expert", "POST", "/meetings/"+mid+"/actions", map[string]any{"index": 0, "status": "done"}, &m); code != http.StatusOK || m.ActionItems[0].Status != "done" {
		t.Errorf("action status: %d %s", code, body)
	}
	if code, body := a.call(t, "expert", "POST", "/meetings/"+mid+"/actions", map[string]any{"index": 0, "status": "done", "owner": "party-a"}, nil); code != http.StatusBadRequest || !strings.Contains(body, "not both") {
		t.Errorf("action both: %d %s", code, body)
	}
	minutes := map[string]string{"en": "Minutes.", "ru": "Протокол."}
	if code, body := a.call(t, "expert", "POST", "/meetings/"+mid+"/minutes", map[string]any{"texts": minutes}, &created); code != http.StatusCreated {
		t.Fatalf("%d %s", code, body)
	}
	msum, _ := workflow.TextSHA256(minutes)
	sid := created.ID
	stmtAPIWait(t, "b has the minutes", func() bool {
		code, _ := b.call(t, "expert", "POST", "/statements/"+sid+"/sign", map[string]any{"text_sha256": msum}, nil)
		return code == http.StatusCreated
	})
	if code, body := b.call(t, "expert", "POST", "/meetings/"+mid+"/agenda", map[string]any{"items": []any{map[string]any{"title": "mine"}}}, nil); code != http.StatusForbidden && code != http.StatusNotFound {
		t.Errorf("b updates a's meeting: %d %s", code, body)
	}
	if code, body := a.call(t, "expert", "POST", "/statements/"+sid+"/sign", map[string]any{"text_sha256": msum}, nil); code != http.StatusCreated {
		t.Fatalf("%d %s", code, body)
	}
	stmtAPIWait(t, "b sees the minutes agreed", func() bool {
		code, _ := b.call(t, "lead", "GET", "/meetings/"+mid, nil, &m)
		return code == http.StatusOK && m.Minutes != nil && m.Minutes.State == "agreed"
	})

	// Assessments and the threat picture.
	if code, body := a.call(t, "expert", "POST", "/assessments", map[string]any{"channel": "a-b", "sector": "energy", "level": 4, "rationale": "grid"}, &created); code != http.StatusCreated {
		t.Fatalf("%d %s", code, body)
	}
	if code, body := a.call(t, "expert", "POST", "/assessments", map[string]any{"channel": "a-b", "sector": "energy", "level": 9, "rationale": "grid"}, nil); code != http.StatusBadRequest || !strings.Contains(body, "level 9") {
		t.Errorf("level 9: %d %s", code, body)
	}
	var th workflow.Threat
	if code, body := a.call(t, "lead", "GET", "/threat?channel=a-b", nil, &th); code != http.StatusOK || len(th.Channels) != 1 || len(th.Channels[0].Sectors) != 1 ||
		th.Channels[0].Sectors[0].Stated["party-a"].Level != 4 || !th.Channels[0].Sectors[0].OffLimits || th.Formula == "" {
		t.Errorf("threat: %d %s", code, body)
	}
}
