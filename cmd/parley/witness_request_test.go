package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/parleyhq/parley/internal/logapi"
	"github.com/parleyhq/parley/internal/tlog"
)

// witnessProxy is an HTTPS reverse proxy in front of a witness that
// records the old size of every add-checkpoint request it forwards.
type witnessProxy struct {
	srv *httptest.Server
	pin string

	mu   sync.Mutex
	olds []int64
}

func newWitnessProxy(t *testing.T, target, targetPin string) *witnessProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	client, err := logapi.HTTPClient(targetPin, false)
	if err != nil {
		t.Fatal(err)
	}
	p := &witnessProxy{}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.Transport = client.Transport
	p.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("proxy: %v", err)
		}
		req, err := tlog.ParseAddCheckpoint(body)
		if err != nil {
			t.Errorf("proxy: the request is not a tlog-witness request: %v\n%s", err, body)
		} else {
			p.mu.Lock()
			p.olds = append(p.olds, req.OldSize)
			p.mu.Unlock()
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		rp.ServeHTTP(w, r)
	}))
	p.srv.TLS = &tls.Config{MinVersion: tls.VersionTLS13}
	p.srv.StartTLS()
	t.Cleanup(p.srv.Close)
	sum := sha256.Sum256(p.srv.Certificate().RawSubjectPublicKeyInfo)
	p.pin = base64.StdEncoding.EncodeToString(sum[:])
	return p
}

// took returns the old sizes recorded since the last call.
func (p *witnessProxy) took() []int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	o := p.olds
	p.olds = nil
	return o
}

func sameSizes(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestWitnessRequest serves three nodes over HTTPS: B witnesses A's logs,
// C does not. A asks B to cosign with 'parley witness request', through a
// proxy that records the old size of each request.
func TestWitnessRequest(t *testing.T) {
	ctx := context.Background()
	dirA, dirB, dirC := newNode(t, "node-a"), newNode(t, "node-b"), newNode(t, "node-c")
	keyA, _ := keysOf(t, dirA)
	keyB, pinB := keysOf(t, dirB)
	keyC, pinC := keysOf(t, dirC)
	mustRun(t, "", "witness", "trust", "--dir", dirB, keyA)
	mustRun(t, "", "witness", "trust", "--dir", dirA, keyB)
	mustRun(t, "", "collection", "create", "--dir", dirA, "second")
	mustRun(t, "", "collection", "create", "--dir", dirA, "empty")
	mustRun(t, "", "import", "--dir", dirA, "testdata/bundles/incident.json")
	mustRun(t, "", "import", "--dir", dirA, "testdata/bundles/incident-v2.json")
	mustRun(t, "", "import", "--dir", dirA, "--collection", "second", "testdata/bundles/incident.json")

	mA, _ := serve(t, dirA)
	mB, _ := serve(t, dirB)
	mC, _ := serve(t, dirC)
	local := localCollection(t, mA)
	second, err := mA.node.Store.FindCollection(ctx, "second")
	if err != nil {
		t.Fatal(err)
	}
	proxy := newWitnessProxy(t, mB.URL(), pinB)
	logA, err := mA.node.Log()
	if err != nil {
		t.Fatal(err)
	}
	sizeOf := func(id string) int64 {
		cp, err := logA.LatestCheckpoint(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return cp.Size
	}
	secondSize := sizeOf(second.ID)

	// Every log with a checkpoint is cosigned from size 0; the empty
	// collection is skipped.
	out := mustRun(t, "", "witness", "request", "--dir", dirA, "--url", proxy.srv.URL, "--tls-pin", proxy.pin)
	want := map[string]bool{
		"cosigned " + local + " size 5 by node-b":                                             true,
		"cosigned " + second.ID + " size " + strconv.FormatInt(secondSize, 10) + " by node-b": true,
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 2 || !want[lines[0]] || !want[lines[1]] {
		t.Fatalf("witness request printed %q, want the lines %v", out, want)
	}
	if got := proxy.took(); !sameSizes(got, []int64{0, 0}) {
		t.Errorf("old sizes sent: %v, want [0 0]", got)
	}
	show := mustRun(t, "", "log", "show", "--dir", dirA)
	if !strings.Contains(show, "size 5\n") || !strings.Contains(show, "cosigners node-b\n") || strings.Count(show, "— node-b ") != 1 {
		t.Errorf("log show after cosigning:\n%s", show)
	}
	if v := mustRun(t, "", "verify", "--dir", dirA); !strings.Contains(v, "ok "+local+" (local): ") || strings.Count(v, "cosigned by node-b") != 2 {
		t.Errorf("verify --dir printed %q, want both logs cosigned by node-b", v)
	}
	// The served checkpoint carries the cosignature too.
	token := strings.TrimSpace(mustRun(t, "", "token", "create", "--dir", dirA, "--user", "alice"))
	if resp, body := get(t, httpsClient(t, dirA), mA.URL()+"/log/"+local+"/checkpoint", bearer(token)); resp.StatusCode != 200 || !bytes.Contains(body, []byte("\n— node-b ")) {
		t.Errorf("served checkpoint: %s\n%s", resp.Status, body)
	}

	// Already cosigned: nothing is asked, nothing is added.
	out = mustRun(t, "", "witness", "request", "--dir", dirA, "--url", proxy.srv.URL, "--tls-pin", proxy.pin, "--collection", "local")
	if out != "cosigned "+local+" size 5 by node-b (already)\n" {
		t.Errorf("second request printed %q", out)
	}
	if got := proxy.took(); len(got) != 0 {
		t.Errorf("a cosigned checkpoint was sent again: old sizes %v", got)
	}
	if show2 := mustRun(t, "", "log", "show", "--dir", dirA); show2 != show {
		t.Errorf("log show changed:\n%s\nwas\n%s", show2, show)
	}

	// A grows: the request goes from the last cosigned size, 5, and the
	// key is named by its name in the witness list.
	runMain(t, "", "import", "--dir", dirA, "--partial", "testdata/bundles/mixed.json")
	grown := sizeOf(local)
	if grown <= 5 {
		t.Fatalf("after import: size %d", grown)
	}

	// A wrong pin: the TLS handshake fails, nothing is stored (and nothing is asked for a log
	// cosigned already: the collection second).
	before := mustRun(t, "", "log", "show", "--dir", dirA)
	out, err = runMain(t, "", "witness", "request", "--dir", dirA, "--url", mB.URL(), "--tls-pin", pinC)
	if err == nil || !strings.Contains(out, "failed "+local+": ") || !strings.Contains(out, "cosigned "+second.ID+" size "+strconv.FormatInt(secondSize, 10)+" by node-b (already)\n") || !strings.Contains(out, "does not match the expected pin") {
		t.Errorf("wrong pin: %q, %v", out, err)
	}
	// Without a pin, B's self-signed certificate is not trusted.
	if out, err := runMain(t, "", "witness", "request", "--dir", dirA, "--url", mB.URL(), "--collection", "local"); err == nil || !strings.Contains(out, "certificate") {
		t.Errorf("no pin: %q, %v", out, err)
	}
	if after := mustRun(t, "", "log", "show", "--dir", dirA); after != before {
		t.Errorf("a failed request changed the stored checkpoint:\n%s", after)
	}

	out = mustRun(t, "", "witness", "request", "--dir", dirA, "--url", proxy.srv.URL, "--tls-pin", proxy.pin, "--collection", local, "--key", "node-b")
	if want := "cosigned " + local + " size " + strconv.FormatInt(grown, 10) + " by node-b\n"; out != want {
		t.Errorf("request after growing printed %q, want %q", out, want)
	}
	if got := proxy.took(); !sameSizes(got, []int64{5}) {
		t.Errorf("old sizes sent: %v, want [5]", got)
	}

	// B cosigns a newer checkpoint without A storing it: B answers 409
	// with the size it knows, and the request is tried again from there.
	mustRun(t, "", "import", "--dir", dirA, "--collection", "second", "testdata/bundles/incident-v2.json")
	newer, err := logA.LatestCheckpoint(ctx, second.ID)
	if err != nil {
		t.Fatal(err)
	}
	wclient, err := logapi.HTTPClient(pinB, false)
	if err != nil {
		t.Fatal(err)
	}
	proof, err := tlog.ProveConsistency(secondSize, newer.Size, logapi.Hashes(ctx, logA, second.ID))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := logapi.AddCheckpoint(ctx, wclient, mB.URL()+logapi.WitnessPath, secondSize, proof.Hashes, newer.Note); err != nil {
		t.Fatal(err)
	}
	out = mustRun(t, "", "witness", "request", "--dir", dirA, "--url", proxy.srv.URL+"/", "--tls-pin", proxy.pin, "--collection", "second")
	if want := "cosigned " + second.ID + " size " + strconv.FormatInt(newer.Size, 10) + " by node-b\n"; out != want {
		t.Errorf("request after a 409 printed %q, want %q", out, want)
	}
	if got := proxy.took(); !sameSizes(got, []int64{secondSize, newer.Size}) {
		t.Errorf("old sizes sent: %v, want [%d %d]", got, secondSize, newer.Size)
	}
	if v := mustRun(t, "", "verify", "--dir", dirA, "--channel", "second"); !strings.Contains(v, "latest size "+strconv.FormatInt(newer.Size, 10)) || !strings.Contains(v, "cosigned by node-b") {
		t.Errorf("verify after the retry printed %q", v)
	}

	// C does not witness A: 404, named, and a hint to trust A's key there.
	m, stdout, stderr := newMain("")
	if err := m.ParseFlags(ctx, []string{"witness", "request", "--dir", dirA, "--url", mC.URL(), "--tls-pin", pinC, "--key", keyC, "--collection", "local"}); err != nil {
		t.Fatal(err)
	}
	err = m.Run(ctx)
	if err == nil {
		t.Fatal("a request to a node that does not witness A succeeded")
	}
	m.PrintError(err)
	if !strings.HasPrefix(stdout.String(), "failed "+local+": witness answered 404: ") || !strings.Contains(stdout.String(), "node-a/parley/"+local) {
		t.Errorf("request to C printed %q", stdout)
	}
	if e := stderr.String(); !strings.Contains(e, "1 of 1 logs not cosigned by node-c") || !strings.Contains(e, "parley witness trust --dir DIR "+keyA) {
		t.Errorf("request to C: stderr %q", e)
	}

	// Once A trusts two witnesses, the key must be named.
	mustRun(t, "", "witness", "trust", "--dir", dirA, keyC)
	if _, err := runMain(t, "", "witness", "request", "--dir", dirA, "--url", mB.URL(), "--tls-pin", pinB); err == nil || !strings.Contains(err.Error(), "several witnesses (node-b, node-c)") {
		t.Errorf("two witnesses, no --key: %v", err)
	}
}

// TestWitnessRequestErrors checks the command line's mistakes, each
// naming the flag.
func TestWitnessRequestErrors(t *testing.T) {
	dir := newNode(t, "node-a")
	mustRun(t, "", "import", "--dir", dir, "testdata/bundles/incident.json")
	mustRun(t, "", "collection", "create", "--dir", dir, "empty")
	pin := base64.StdEncoding.EncodeToString(make([]byte, 32))
	_, vkey, err := tlog.GenerateKey("node-x")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no url", []string{}, "--url is required"},
		{"http", []string{"--url", "http://127.0.0.1:1"}, `--url "http://127.0.0.1:1": want https://HOST:PORT`},
		{"no host", []string{"--url", "https://"}, `--url "https://": want https://HOST:PORT`},
		{"query", []string{"--url", "https://h:1/?x=1"}, "want https://HOST:PORT"},
		{"pin and insecure", []string{"--url", "https://127.0.0.1:1", "--tls-pin", pin, "--insecure"}, "give a TLS pin or insecure, not both"},
		{"bad pin", []string{"--url", "https://127.0.0.1:1", "--tls-pin", "abc"}, `TLS pin "abc"`},
		{"no witness", []string{"--url", "https://127.0.0.1:1", "--tls-pin", pin}, "the node trusts no witness"},
		{"unknown name", []string{"--url", "https://127.0.0.1:1", "--tls-pin", pin, "--key", "node-x"}, `--key "node-x": no key of that name in the witness list (empty)`},
		{"bad key", []string{"--url", "https://127.0.0.1:1", "--tls-pin", pin, "--key", "node-x+1234+abc"}, "--key: cosigner verifier key"},
		{"unknown collection", []string{"--url", "https://127.0.0.1:1", "--tls-pin", pin, "--key", vkey, "--collection", "nope"}, "nope"},
		{"empty log", []string{"--url", "https://127.0.0.1:1", "--tls-pin", pin, "--key", vkey, "--collection", "empty"}, "has no checkpoint yet"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"witness", "request", "--dir", dir}, tc.args...)
			out, err := runMain(t, "", args...)
			if err == nil || !strings.Contains(out+errorLine(err), tc.want) {
				t.Errorf("printed %q, error %v, want %q", out, err, tc.want)
			}
		})
	}
}
