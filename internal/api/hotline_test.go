package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/parleyhq/parley/internal/api"
	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/node"
	"github.com/parleyhq/parley/internal/peer"
	"github.com/parleyhq/parley/internal/server"
	"github.com/parleyhq/parley/internal/taxii"
	"github.com/parleyhq/parley/internal/workflow"
)

// hotlineAPINode is a served node with a duty officer (olga) and a lead
// (lena).
type hotlineAPINode struct {
	name   string
	srv    *server.Server
	client *http.Client
}

func hotlineAPIStart(t *testing.T, name string) *hotlineAPINode {
	t.Helper()
	ctx := context.Background()
	n, created, err := node.Init(ctx, filepath.Join(t.TempDir(), name), node.InitOptions{Name: name, Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []struct {
		name string
		role dialogue.Role
	}{{"olga", dialogue.RoleDuty}, {"lena", dialogue.RoleLead}} {
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
	return &hotlineAPINode{name: name, srv: s, client: &http.Client{Transport: &http.Transport{TLSClientConfig: taxii.ClientTLS(created.Pin, false)}}}
}

// call sends a JSON request as user (body: a value to marshal, or a
// string sent as it is) and returns the status and the body.
func (n *hotlineAPINode) call(t *testing.T, user, method, path string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, _ := json.Marshal(b)
		rd = bytes.NewReader(data)
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
	return resp.StatusCode, data
}

// hotlineAPIShare pins the two nodes on each other and makes the channel
// "a-b" between them.
func hotlineAPIShare(t *testing.T, a, b *hotlineAPINode) string {
	t.Helper()
	ctx := context.Background()
	for _, p := range [][2]*hotlineAPINode{{a, b}, {b, a}} {
		pe, err := peer.NewPeer(p[1].name, p[1].srv.URL, p[1].srv.Pin, p[1].srv.Node.LogKey(), "")
		if err != nil {
			t.Fatal(err)
		}
		pe.CreatedAt = time.Now()
		if err := p[0].srv.Node.Store.AddPeer(ctx, pe); err != nil {
			t.Fatal(err)
		}
	}
	ch := &dialogue.Channel{Title: "a-b", Peer: b.name, State: dialogue.ChannelProposed, CreatedAt: time.Now()}
	if err := a.srv.Node.Store.ProposeChannel(ctx, ch); err != nil {
		t.Fatal(err)
	}
	hotlineAPIWait(t, "b is offered the channel", func() bool {
		c, err := b.srv.Node.Store.Channel(ctx, ch.ID)
		return err == nil && c.State == dialogue.ChannelOffered
	})
	if _, err := b.srv.Node.Store.AcceptChannel(ctx, ch.ID, "", time.Now()); err != nil {
		t.Fatal(err)
	}
	hotlineAPIWait(t, "a sees the channel accepted", func() bool {
		c, err := a.srv.Node.Store.Channel(ctx, ch.ID)
		return err == nil && c.State == dialogue.ChannelActive
	})
	return ch.ID
}

func hotlineAPIWait(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("not yet: %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// hotlineAPISchema compiles one of the API's component schemas.
func hotlineAPISchema(t *testing.T, name string) *jsonschema.Schema {
	t.Helper()
	data, err := json.Marshal(api.Schemas[name])
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("mem:///"+name+".json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("mem:///" + name + ".json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func hotlineAPIValidate(t *testing.T, s *jsonschema.Schema, data []byte) {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(doc); err != nil {
		t.Errorf("%v\n%s", err, data)
	}
}

func wantStatus(t *testing.T, what string, code int, body []byte, want int, words ...string) {
	t.Helper()
	if code != want {
		t.Errorf("%s: %d %s, want %d", what, code, body, want)
		return
	}
	for _, w := range words {
		if !bytes.Contains(body, []byte(w)) {
			t.Errorf("%s: %s does not say %q", what, body, w)
		}
	}
}

// The hotline and the checks over the JSON API of two nodes: sends,
// automatic receipts, a person's acknowledgement and answer, refusals with
// their statuses, and the figures the same on both nodes.
func TestHotlineAndChecksAPI(t *testing.T) {
	t.Parallel()
	a, b := hotlineAPIStart(t, "party-a"), hotlineAPIStart(t, "party-b")
	chID := hotlineAPIShare(t, a, b)
	hotlineSchema, checkSchema, figSchema := hotlineAPISchema(t, "Hotline"), hotlineAPISchema(t, "Check"), hotlineAPISchema(t, "CheckFigure")

	// Refused sends.
	for _, c := range []struct {
		name, user string
		body       any
		status     int
		words      []string
	}{
		{"a lead", "lena", map[string]any{"channel": "a-b", "text": "x"}, 403, []string{"needs the role expert, duty or admin"}},
		{"unknown field", "olga", `{"channel":"a-b","text":"x","urgent":true}`, 400, []string{"urgent"}},
		{"no channel", "olga", map[string]any{"text": "x"}, 400, []string{"channel: required"}},
		{"no text", "olga", map[string]any{"channel": "a-b"}, 400, []string{"text: the message is empty"}},
		{"priority", "olga", map[string]any{"channel": "a-b", "text": "x", "priority": "high"}, 400, []string{`priority \"high\"`}},
		{"ack_within", "olga", map[string]any{"channel": "a-b", "text": "x", "ack_within": 5}, 400, []string{"ack_within 5s"}},
		{"ack_within negative", "olga", map[string]any{"channel": "a-b", "text": "x", "ack_within": -5}, 400, []string{"ack_within -5"}},
		{"unknown channel", "olga", map[string]any{"channel": "nope", "text": "x"}, 404, []string{`no channel \"nope\"`}},
	} {
		code, body := a.call(t, c.user, "POST", "/hotline", c.body)
		wantStatus(t, c.name, code, body, c.status, c.words...)
	}

	code, body := a.call(t, "olga", "POST", "/hotline", map[string]any{"channel": "a-b", "text": "Substation outage: call us.", "priority": "urgent"})
	wantStatus(t, "send", code, body, 201)
	hotlineAPIValidate(t, hotlineSchema, body)
	var h workflow.Hotline
	if err := json.Unmarshal(body, &h); err != nil || h.State != workflow.HotlineSent || h.AckWithin != 900 || !h.Outgoing {
		t.Fatalf("%v %s", err, body)
	}

	get := func(n *hotlineAPINode, path string, out any) {
		t.Helper()
		code, body := n.call(t, "lena", "GET", path, nil)
		if code != 200 {
			t.Fatalf("GET %s: %d %s", path, code, body)
		}
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatal(err)
		}
	}
	hotlineOn := func(n *hotlineAPINode) *workflow.Hotline {
		var l struct{ Hotline []*workflow.Hotline }
		get(n, "/hotline?channel=a-b", &l)
		for _, x := range l.Hotline {
			if x.ID == h.ID {
				return x
			}
		}
		return nil
	}
	hotlineAPIWait(t, "A sees B's automatic delivery receipt", func() bool {
		x := hotlineOn(a)
		return x != nil && x.State == workflow.HotlineDelivered
	})

	ack := "/hotline/" + h.ID + "/ack"
	code, body = a.call(t, "olga", "POST", ack, nil)
	wantStatus(t, "ack by the sender", code, body, 403, "only the receiving party acknowledges")
	code, body = b.call(t, "lena", "POST", ack, nil)
	wantStatus(t, "ack by a lead", code, body, 403, "needs the role")
	code, body = b.call(t, "olga", "POST", "/hotline/parley-hotline--00000000-0000-4000-8000-000000000000/ack", nil)
	wantStatus(t, "ack of an unknown id", code, body, 404, "no hotline message")
	code, body = b.call(t, "olga", "POST", "/hotline/nonsense/ack", nil)
	wantStatus(t, "ack of a bad id", code, body, 400, "not a STIX id")
	code, body = b.call(t, "olga", "POST", ack, nil)
	wantStatus(t, "ack", code, body, 200, `"state": "acknowledged"`, `"acknowledged_by": "olga (duty)"`)
	hotlineAPIValidate(t, hotlineSchema, body)
	code, body = b.call(t, "olga", "POST", ack, nil)
	wantStatus(t, "ack twice", code, body, 409, "acknowledged already")
	hotlineAPIWait(t, "A sees the acknowledgement", func() bool {
		x := hotlineOn(a)
		return x != nil && x.State == workflow.HotlineAcknowledged && x.AcknowledgedBy == "olga (duty)"
	})

	// Checks.
	code, body = a.call(t, "olga", "POST", "/checks", map[string]any{})
	wantStatus(t, "check without channel", code, body, 400, "channel: required")
	code, body = a.call(t, "lena", "POST", "/checks", map[string]any{"channel": "a-b"})
	wantStatus(t, "check by a lead", code, body, 403)
	code, body = a.call(t, "olga", "POST", "/checks", map[string]any{"channel": chID})
	wantStatus(t, "check", code, body, 201, `"trigger": "on-demand"`)
	hotlineAPIValidate(t, checkSchema, body)
	var k workflow.Check
	if err := json.Unmarshal(body, &k); err != nil {
		t.Fatal(err)
	}
	type checkList struct {
		Checks  []*workflow.Check
		Figures []workflow.CheckFigure
	}
	hotlineAPIWait(t, "B has the check", func() bool {
		var l checkList
		get(b, "/checks", &l)
		return len(l.Checks) == 1
	})
	answer := "/checks/" + k.ID + "/answer"
	code, body = a.call(t, "olga", "POST", answer, nil)
	wantStatus(t, "answer by the checking party", code, body, 403, "only the checked party answers")
	code, body = b.call(t, "olga", "POST", answer, nil)
	wantStatus(t, "answer", code, body, 200, `"state": "answered"`, `"answered_by": "olga (duty)"`)
	hotlineAPIValidate(t, checkSchema, body)
	code, body = b.call(t, "olga", "POST", answer, nil)
	wantStatus(t, "answer twice", code, body, 409, "answered already")
	code, body = b.call(t, "olga", "POST", "/checks/parley-check--00000000-0000-4000-8000-000000000000/answer", nil)
	wantStatus(t, "answer of an unknown id", code, body, 404, "no communication check")

	var la, lb checkList
	hotlineAPIWait(t, "both nodes show the same figures", func() bool {
		get(a, "/checks?channel=a-b", &la)
		get(b, "/checks?channel=a-b", &lb)
		return len(la.Checks) == 1 && la.Checks[0].State == workflow.CheckAnswered && reflect.DeepEqual(la.Figures, lb.Figures)
	})
	for _, f := range la.Figures {
		data, _ := json.Marshal(f)
		hotlineAPIValidate(t, figSchema, data)
		if f.Party == "party-b" && (f.Sent != 1 || f.Answered != 1 || *f.AnswerRate != 1) || f.Party == "party-a" && (f.Sent != 0 || f.AnswerRate != nil) {
			t.Errorf("figure %s", data)
		}
	}
	code, body = a.call(t, "lena", "GET", "/checks?channel=nope", nil)
	wantStatus(t, "list of an unknown channel", code, body, 404)
}
