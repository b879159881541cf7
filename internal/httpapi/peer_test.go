package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/httpapi"
	"github.com/parleyhq/parley/internal/taxii"
)

// identity is a node's TLS identity: a self-signed ECDSA certificate, as
// node.Init makes, in files and loaded.
type identity struct {
	certFile, keyFile string
	cert              tls.Certificate
	pin               string
}

func newIdentity(tb testing.TB, name string) *identity {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	dir := tb.TempDir()
	id := &identity{certFile: filepath.Join(dir, "cert.pem"), keyFile: filepath.Join(dir, "key.pem")}
	if err := os.WriteFile(id.certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(id.keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		tb.Fatal(err)
	}
	if id.cert, err = tls.LoadX509KeyPair(id.certFile, id.keyFile); err != nil {
		tb.Fatal(err)
	}
	id.pin = httpapi.PinOf(id.cert.Leaf)
	return id
}

// peerBook is a PeerFinder over a map, counting look-ups. (The SQLite
// PeerStore is being written beside this package; this is the interface
// the server depends on.)
type peerBook struct {
	mu      sync.Mutex
	peers   map[string]*dialogue.Peer // by pin
	lookups atomic.Int64
	fail    atomic.Bool
}

func newPeerBook(peers ...*dialogue.Peer) *peerBook {
	b := &peerBook{peers: make(map[string]*dialogue.Peer)}
	for _, p := range peers {
		b.add(p)
	}
	return b
}

func (b *peerBook) add(p *dialogue.Peer) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.peers[p.TLSPin] = p
}

func (b *peerBook) PeerByPin(ctx context.Context, pin string) (*dialogue.Peer, error) {
	b.lookups.Add(1)
	if b.fail.Load() {
		return nil, errors.New("database is locked")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if p, ok := b.peers[pin]; ok {
		c := *p
		return &c, nil
	}
	return nil, dialogue.Errorf("peerBook", dialogue.KindNotFound, "no peer with pin %s", pin)
}

// logBuffer collects a server's JSON log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// lines returns the logged records whose msg contains substr.
func (l *logBuffer) lines(t *testing.T, substr string) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(l.buf.Bytes()))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		if msg, _ := m["msg"].(string); strings.Contains(msg, substr) {
			out = append(out, m)
		}
	}
	return out
}

// peerNode is a node serving HTTPS with mutual TLS, with one route of
// each kind: /peer/ (MountPeer), /shared/ (MountShared), /user/ (Mount).
type peerNode struct {
	url  string
	id   *identity
	api  *httpapi.Server
	book *peerBook
	logs *logBuffer
}

func startPeerNode(tb testing.TB, book *peerBook) *peerNode {
	tb.Helper()
	st := newStore(tb)
	n := &peerNode{id: newIdentity(tb, "node-a"), book: book, logs: &logBuffer{}}
	n.api = httpapi.New(httpapi.Config{Store: st, Peers: book, Logger: slog.New(slog.NewJSONHandler(n.logs, nil))})
	who := func(w http.ResponseWriter, r *http.Request) {
		var parts []string
		if p, ok := httpapi.PeerFrom(r.Context()); ok {
			parts = append(parts, "peer "+p.Name)
		}
		if u := httpapi.UserFrom(r.Context()); u != nil {
			parts = append(parts, "user "+u.Name)
		}
		io.WriteString(w, strings.Join(parts, ", "))
	}
	n.api.MountPeer("/peer", http.HandlerFunc(who))
	n.api.MountShared("/shared", http.HandlerFunc(who))
	n.api.Mount("/user", http.HandlerFunc(who))
	big := bytes.Repeat([]byte("parley tile bytes "), 1<<20/18)
	n.api.MountPeer("/bulk", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(big) }))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- n.api.ServeTLS(ln, n.id.certFile, n.id.keyFile) }()
	tb.Cleanup(func() {
		n.api.Shutdown(context.Background())
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			tb.Errorf("ServeTLS: %v", err)
		}
	})
	n.url = "https://" + ln.Addr().String()
	return n
}

// get does a GET with the client and returns the status and body.
func get(c *http.Client, url string, setup ...func(*http.Request)) (int, string, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	for _, f := range setup {
		f(req)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func withBasic(r *http.Request) { r.SetBasicAuth("alice", password) }

// userClient is a local user's client: the server pinned, no certificate.
func userClient(pin string) *http.Client {
	tr := &http.Transport{TLSClientConfig: taxii.ClientTLS(pin, false), ForceAttemptHTTP2: true}
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// metric scrapes the server's /metrics and returns the value of the line
// that starts with name.
func metric(t *testing.T, n *peerNode, name string) string {
	t.Helper()
	status, body, err := get(userClient(n.id.pin), n.url+"/metrics", withBasic)
	if err != nil || status != 200 {
		t.Fatalf("GET /metrics: %d %v", status, err)
	}
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return v
		}
	}
	t.Fatalf("no metric %s in:\n%s", name, body)
	return ""
}

func TestPeerReachesPeerRoute(t *testing.T) {
	b := newIdentity(t, "node-b")
	book := newPeerBook(&dialogue.Peer{Name: "cert-b.example", TLSPin: b.pin})
	n := startPeerNode(t, book)
	c := httpapi.PeerClient(b.cert, n.id.pin, 10*time.Second)

	for _, path := range []string{"/peer/checkpoint", "/shared/x"} {
		status, body, err := get(c, n.url+path)
		if err != nil {
			t.Fatal(err)
		}
		if status != 200 || body != "peer cert-b.example" {
			t.Errorf("GET %s as the peer: %d %q, want 200 %q", path, status, body, "peer cert-b.example")
		}
	}
	// A peer is not a user: Mount routes want credentials.
	if status, _, err := get(c, n.url+"/user/x"); err != nil || status != 401 {
		t.Errorf("GET /user/x as the peer: %d %v, want 401", status, err)
	}
	// Requests are kept-alive HTTP/1.1 over TLS 1.3.
	reused := false
	req, _ := http.NewRequest("GET", n.url+"/peer/x", nil)
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		GotConn: func(ci httptrace.GotConnInfo) { reused = ci.Reused },
	}))
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.ProtoMajor != 1 || resp.TLS.Version != tls.VersionTLS13 || !reused {
		t.Errorf("protocol %s, TLS %x, connection reused %v; want HTTP/1.1 over TLS 1.3 on a kept-alive connection", resp.Proto, resp.TLS.Version, reused)
	}
	// The request log names the peer.
	found := false
	for _, l := range n.logs.lines(t, "request") {
		if l["path"] == "/peer/checkpoint" && l["peer"] == "cert-b.example" {
			found = true
		}
	}
	if !found {
		t.Error("no request log line naming the peer")
	}
	// The store was asked once for the many requests and the handshake.
	if got := book.lookups.Load(); got != 1 {
		t.Errorf("%d store look-ups, want 1 (cached)", got)
	}
}

// TestPeerOverTLS12Refused checks that the listener, which serves TLS
// 1.2 to users' clients, knows no peer over it: a peer's client forced to
// TLS 1.2 with its pinned certificate is refused on the peer routes and is
// no peer on the shared ones, while a user's client over TLS 1.2 is
// served.
func TestPeerOverTLS12Refused(t *testing.T) {
	b := newIdentity(t, "node-b")
	book := newPeerBook(&dialogue.Peer{Name: "cert-b.example", TLSPin: b.pin})
	n := startPeerNode(t, book)
	tls12 := func(certs ...tls.Certificate) *http.Client {
		tr := &http.Transport{TLSClientConfig: &tls.Config{
			InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12, Certificates: certs,
		}}
		t.Cleanup(tr.CloseIdleConnections)
		return &http.Client{Transport: tr, Timeout: 10 * time.Second}
	}
	peer := tls12(b.cert)
	// The node does not ask a client of TLS 1.2 for a certificate: the
	// connection is a user's, and peer routes refuse it.
	status, body, err := get(peer, n.url+"/peer/x")
	if err != nil || status != http.StatusForbidden || !strings.Contains(body, "TLS 1.3") {
		t.Errorf("GET /peer/x as the peer over TLS 1.2: %d %q %v, want 403 naming TLS 1.3", status, body, err)
	}
	if status, body, err := get(peer, n.url+"/shared/x"); err != nil || status != http.StatusUnauthorized {
		t.Errorf("GET /shared/x as the peer over TLS 1.2: %d %q %v, want 401 (no peer there, and no user)", status, body, err)
	}
	if got := metric(t, n, `parley_peer_refused_total{reason="not_peer"}`); got != "1" {
		t.Errorf("parley_peer_refused_total{reason=not_peer} = %s, want 1", got)
	}
	// Over TLS 1.3 the same certificate is the peer's.
	if status, body, err := get(httpapi.PeerClient(b.cert, n.id.pin, 10*time.Second), n.url+"/peer/x"); err != nil || status != 200 || body != "peer cert-b.example" {
		t.Errorf("GET /peer/x as the peer over TLS 1.3: %d %q %v", status, body, err)
	}
	// A user's client over TLS 1.2 is served, with or without the node
	// asking it for a certificate.
	for _, c := range []*http.Client{tls12(), tls12(b.cert)} {
		if status, body, err := get(c, n.url+"/user/x", withBasic); err != nil || status != 200 || body != "user alice" {
			t.Errorf("GET /user/x as a user over TLS 1.2: %d %q %v", status, body, err)
		}
	}
}

func TestUnpinnedClientRefused(t *testing.T) {
	n := startPeerNode(t, newPeerBook())
	stranger := newIdentity(t, "stranger")
	for i := range 3 {
		c := httpapi.PeerClient(stranger.cert, n.id.pin, 10*time.Second)
		status, body, err := get(c, n.url+"/shared/x", withBasic)
		if err == nil {
			t.Fatalf("attempt %d: an unpinned client certificate was served: %d %q", i, status, body)
		}
		t.Logf("attempt %d: %v", i, err)
	}
	warns := n.logs.lines(t, "refused TLS client")
	if len(warns) != 1 {
		t.Fatalf("%d refusal log lines for 3 attempts with one pin, want 1 (once a minute): %v", len(warns), warns)
	}
	w := warns[0]
	if w["level"] != "WARN" || w["pin"] != stranger.pin || !strings.HasPrefix(w["remote"].(string), "127.0.0.1:") {
		t.Errorf("refusal log line %v: want WARN with pin %s and the remote address", w, stranger.pin)
	}
	// The http.Server's own handshake error lines are not repeated per attempt.
	if l := n.logs.lines(t, "TLS handshake error"); len(l) != 0 {
		t.Errorf("the server's error log logged the refusals again: %v", l)
	}
	if got := metric(t, n, `parley_peer_refused_total{reason="unknown_pin"}`); got != "3" {
		t.Errorf("parley_peer_refused_total{reason=unknown_pin} = %s, want 3", got)
	}
	// Another unknown pin is logged too.
	other := newIdentity(t, "other")
	if _, _, err := get(httpapi.PeerClient(other.cert, n.id.pin, 10*time.Second), n.url+"/peer/x"); err == nil {
		t.Fatal("a second unpinned certificate was served")
	}
	if warns := n.logs.lines(t, "refused TLS client"); len(warns) != 2 || warns[1]["pin"] != other.pin {
		t.Errorf("refusal lines after a second pin: %v", warns)
	}
}

func TestNoCertificate(t *testing.T) {
	n := startPeerNode(t, newPeerBook())
	c := userClient(n.id.pin)

	status, body, err := get(c, n.url+"/peer/witness/add-checkpoint", withBasic)
	if err != nil {
		t.Fatal(err)
	}
	var eo httpapi.ErrorObject
	if status != 403 || json.Unmarshal([]byte(body), &eo) != nil || !strings.Contains(eo.Description, "peer nodes only") {
		t.Errorf("peer route without a certificate: %d %s; want 403 saying it is for peers only", status, body)
	}
	warns := n.logs.lines(t, "peer-only route")
	if len(warns) != 1 || warns[0]["level"] != "WARN" || warns[0]["path"] != "/peer/witness/add-checkpoint" ||
		!strings.HasPrefix(warns[0]["remote"].(string), "127.0.0.1:") {
		t.Errorf("log of the refused request: %v", warns)
	}
	if status, body, err := get(c, n.url+"/user/x", withBasic); err != nil || status != 200 || body != "user alice" {
		t.Errorf("user route with Basic: %d %q %v", status, body, err)
	}
	if status, body, err := get(c, n.url+"/shared/x", withBasic); err != nil || status != 200 || body != "user alice" {
		t.Errorf("shared route with Basic: %d %q %v", status, body, err)
	}
	if status, _, err := get(c, n.url+"/shared/x"); err != nil || status != 401 {
		t.Errorf("shared route with neither a peer certificate nor credentials: %d %v, want 401", status, err)
	}
	if status, _, err := get(c, n.url+"/user/x"); err != nil || status != 401 {
		t.Errorf("user route without credentials: %d %v, want 401", status, err)
	}
	if got := metric(t, n, `parley_peer_refused_total{reason="not_peer"}`); got != "1" {
		t.Errorf("parley_peer_refused_total{reason=not_peer} = %s, want 1", got)
	}
}

func TestPeerAddedWhileServing(t *testing.T) {
	book := newPeerBook()
	n := startPeerNode(t, book)
	b := newIdentity(t, "node-b")
	if _, _, err := get(httpapi.PeerClient(b.cert, n.id.pin, 10*time.Second), n.url+"/peer/x"); err == nil {
		t.Fatal("served before the peer was added")
	}
	// Hammering with the unknown pin asks the store about once a second.
	before := book.lookups.Load()
	start := time.Now()
	for range 20 {
		get(httpapi.PeerClient(b.cert, n.id.pin, 10*time.Second), n.url+"/peer/x")
	}
	if n, el := book.lookups.Load()-before, time.Since(start); n > int64(el/time.Second)+1 {
		t.Errorf("20 handshakes with an unknown pin in %v asked the store %d times", el, n)
	}

	book.add(&dialogue.Peer{Name: "cert-b.example", TLSPin: b.pin})
	added := time.Now()
	for {
		status, body, err := get(httpapi.PeerClient(b.cert, n.id.pin, 10*time.Second), n.url+"/peer/x")
		if err == nil {
			if status != 200 || body != "peer cert-b.example" {
				t.Fatalf("after adding: %d %q", status, body)
			}
			break
		}
		if time.Since(added) > 3*time.Second {
			t.Fatalf("a peer added %v ago is still refused: %v", time.Since(added), err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("accepted %v after being added", time.Since(added).Round(time.Millisecond))
}

func TestPeerLookupFailure(t *testing.T) {
	book := newPeerBook()
	n := startPeerNode(t, book)
	b := newIdentity(t, "node-b")
	book.add(&dialogue.Peer{Name: "cert-b.example", TLSPin: b.pin})
	book.fail.Store(true)
	if _, _, err := get(httpapi.PeerClient(b.cert, n.id.pin, 10*time.Second), n.url+"/peer/x"); err == nil {
		t.Fatal("served while the peer store fails")
	}
	l := n.logs.lines(t, "cannot look up")
	if len(l) != 1 || l[0]["level"] != "ERROR" || strings.Contains(fmt.Sprint(l[0]), "database is locked") == false {
		t.Errorf("log of the failed look-up: %v", l)
	}
	if l := n.logs.lines(t, "TLS handshake error"); len(l) != 0 {
		t.Errorf("the server's error log logged the refusal again: %v", l)
	}
	if got := metric(t, n, `parley_peer_refused_total{reason="lookup_failed"}`); got != "1" {
		t.Errorf("lookup_failed = %s, want 1", got)
	}
	// Users are not affected.
	if status, _, err := get(userClient(n.id.pin), n.url+"/user/x", withBasic); err != nil || status != 200 {
		t.Errorf("user while the peer store fails: %d %v", status, err)
	}
}

func TestPeerClientChecksServerPin(t *testing.T) {
	b := newIdentity(t, "node-b")
	n := startPeerNode(t, newPeerBook(&dialogue.Peer{Name: "cert-b.example", TLSPin: b.pin}))
	impostor := newIdentity(t, "impostor")
	for name, pin := range map[string]string{"another key's pin": impostor.pin, "malformed pin": "not-base64"} {
		_, _, err := get(httpapi.PeerClient(b.cert, pin, 10*time.Second), n.url+"/peer/x")
		if err == nil || !strings.Contains(err.Error(), "pin") {
			t.Errorf("%s: %v, want a pin mismatch", name, err)
		}
	}
}

func TestPinOfIsTaxiiPinOf(t *testing.T) {
	id := newIdentity(t, "x")
	if got, want := httpapi.PinOf(id.cert.Leaf), taxii.PinOf(id.cert.Leaf); got != want || len(got) != 44 {
		t.Errorf("httpapi.PinOf = %s, taxii.PinOf = %s", got, want)
	}
}

// Without Config.Peers the server asks for no client certificate and a
// peer route answers 403 to everyone.
func TestNoPeersConfigured(t *testing.T) {
	st := newStore(t)
	id := newIdentity(t, "a")
	api := httpapi.New(httpapi.Config{Store: st, Logger: slog.New(slog.DiscardHandler)})
	api.MountPeer("/peer", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	ln := listen(t)
	go api.ServeTLS(ln, id.certFile, id.keyFile)
	defer api.Shutdown(context.Background())
	b := newIdentity(t, "b")
	status, _, err := get(httpapi.PeerClient(b.cert, id.pin, 10*time.Second), "https://"+ln.Addr().String()+"/peer/x")
	if err != nil || status != 403 {
		t.Errorf("peer route on a node without peers: %d %v, want 403", status, err)
	}
}

// Handshakes of one peer at the same moment share one look-up.
func TestPeerLookupShared(t *testing.T) {
	b := newIdentity(t, "node-b")
	book := newPeerBook(&dialogue.Peer{Name: "cert-b.example", TLSPin: b.pin})
	n := startPeerNode(t, book)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			c := httpapi.PeerClient(b.cert, n.id.pin, 10*time.Second)
			defer c.CloseIdleConnections()
			if status, body, err := get(c, n.url+"/peer/x"); err != nil || status != 200 || body != "peer cert-b.example" {
				t.Errorf("concurrent peer: %d %q %v", status, body, err)
			}
		})
	}
	wg.Wait()
	if got := book.lookups.Load(); got != 1 {
		t.Errorf("16 concurrent connections of one peer asked the store %d times, want 1", got)
	}
}
