package logapi_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/httpapi"
	"github.com/parleyhq/parley/internal/logapi"
	"github.com/parleyhq/parley/internal/sqlite"
	"github.com/parleyhq/parley/internal/stix"
	"github.com/parleyhq/parley/internal/tlog"
)

// tlsIdentity makes a self-signed ECDSA certificate (as node.Init does)
// in files and returns them, the loaded certificate and its pin.
func tlsIdentity(t *testing.T, name string) (certFile, keyFile string, cert tls.Certificate, pin string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	if cert, err = tls.LoadX509KeyPair(certFile, keyFile); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, cert, httpapi.PinOf(cert.Leaf)
}

type peersByPin map[string]*dialogue.Peer

func (m peersByPin) PeerByPin(ctx context.Context, pin string) (*dialogue.Peer, error) {
	if p, ok := m[pin]; ok {
		return p, nil
	}
	return nil, dialogue.Errorf("test", dialogue.KindNotFound, "no peer with pin %s", pin)
}

// logNode is a node whose store has three collections with a log each:
// "shared" (a channel with peer B), "private" (no channel) and "other"
// (a channel with another peer), served at /log with MountShared.
type logNode struct {
	url, pin   string
	coll       map[string]string // title -> id
	origin     map[string]string // title -> checkpoint origin
	peerB      tls.Certificate
	stranger   tls.Certificate
	readerPass string
}

func startLogNode(t *testing.T, peerCanRead bool) *logNode {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	const nodeName = "cert-a.example"
	skey, _, err := tlog.GenerateKey(nodeName)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := tlog.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	db.SetLogSigner(func(coll string, size int64, root [32]byte) ([]byte, error) {
		origin, err := tlog.Origin(nodeName, coll)
		if err != nil {
			return nil, err
		}
		return tlog.Sign(tlog.Checkpoint{Origin: origin, Size: size, Hash: root}, signer)
	})
	n := &logNode{coll: map[string]string{}, origin: map[string]string{}, readerPass: "Password1-reader"}
	for _, title := range []string{"shared", "private", "other"} {
		c := &dialogue.Collection{Title: title}
		if err := db.CreateCollection(ctx, c); err != nil {
			t.Fatal(err)
		}
		n.coll[title] = c.ID
		if n.origin[title], err = tlog.Origin(nodeName, c.ID); err != nil {
			t.Fatal(err)
		}
		var objs []*dialogue.Object
		for i := range 3 {
			ts := time.Date(2024, 1, 1, 0, 0, i, 0, time.UTC)
			stamp := ts.Format("2006-01-02T15:04:05.000Z")
			id := fmt.Sprintf("indicator--00000000-0000-4000-8000-%012d", i)
			raw := fmt.Appendf(nil, `{"type":"indicator","spec_version":"2.1","id":"%s","created":"%s","modified":"%s","name":"%s %d","indicator_types":["malicious-activity"],"pattern":"[ipv4-addr:value = '10.0.0.%d']","pattern_type":"stix","valid_from":"%s"}`,
				id, stamp, stamp, title, i, i, stamp)
			objs = append(objs, &dialogue.Object{ID: id, Type: "indicator", SpecVersion: "2.1", Created: ts, Modified: ts, Raw: raw})
		}
		if _, err := db.AddObjects(ctx, c.ID, objs); err != nil {
			t.Fatal(err)
		}
	}
	// A user who may read "private" only.
	h, err := dialogue.HashPassword(n.readerPass)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateUser(ctx, &dialogue.User{Name: "reader", Role: dialogue.RoleExpert}, h); err != nil {
		t.Fatal(err)
	}
	if err := db.SetGrant(ctx, dialogue.Grant{CollectionID: n.coll["private"], Principal: "reader", Read: true}); err != nil {
		t.Fatal(err)
	}

	certFile, keyFile, _, pin := tlsIdentity(t, "node-a")
	n.pin = pin
	var pinB, pinC string
	_, _, n.peerB, pinB = tlsIdentity(t, "node-b")
	_, _, _, pinC = tlsIdentity(t, "node-c")
	_, _, n.stranger, _ = tlsIdentity(t, "stranger")
	peers := peersByPin{
		pinB: {Name: "cert-b.example", TLSPin: pinB},
		pinC: {Name: "cert-c.example", TLSPin: pinC},
	}
	// The channels: "shared" with B, "other" with C.
	channels := map[string]string{n.coll["shared"]: "cert-b.example", n.coll["other"]: "cert-c.example"}
	gate := dialogue.NewGate(db, stix.ReadTLP)
	gate.Evidence = stix.EvidenceSHA256
	cfg := logapi.Config{Store: db, Log: db, Gate: gate, LargeObject: db.LargeObject}
	if peerCanRead {
		cfg.PeerCanRead = func(ctx context.Context, p *dialogue.Peer, id string) error {
			with, ok := channels[id]
			switch {
			case !ok:
				return dialogue.Errorf("test", dialogue.KindNotFound, "no channel %s", id)
			case with != p.Name:
				return dialogue.Errorf("test", dialogue.KindForbidden, "channel %s is not shared with %s", id, p.Name)
			}
			return nil
		}
	}
	api := httpapi.New(httpapi.Config{Store: db, Peers: peers, Logger: slog.New(slog.DiscardHandler)})
	api.MountShared("/log", logapi.NewHandler(cfg))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- api.ServeTLS(ln, certFile, keyFile) }()
	t.Cleanup(func() {
		api.Shutdown(context.Background())
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("ServeTLS: %v", err)
		}
	})
	n.url = "https://" + ln.Addr().String()
	return n
}

func fetch(t *testing.T, c *http.Client, url string, setup ...func(*http.Request)) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range setup {
		f(req)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

func TestPeerReadsSharedLog(t *testing.T) {
	n := startLogNode(t, true)
	b := httpapi.PeerClient(n.peerB, n.pin, 10*time.Second)
	shared := n.url + "/log/" + n.coll["shared"]

	status, body := fetch(t, b, shared+"/checkpoint")
	if status != 200 || !bytes.HasPrefix(body, []byte(n.origin["shared"]+"\n3\n")) {
		t.Fatalf("peer B, checkpoint of the shared channel: %d %q", status, body)
	}
	bundle := tlog.TilePath(tlog.Tile{H: 8, L: -1, N: 0, W: 3})
	status, body = fetch(t, b, shared+"/"+bundle)
	if status != 200 {
		t.Fatalf("peer B, %s: %d %s", bundle, status, body)
	}
	entries, err := tlog.ParseEntryBundle(body, 3)
	if err != nil || len(entries) != 3 || !bytes.Contains(entries[2], []byte("shared 2")) {
		t.Errorf("entry bundle: %d entries, %v", len(entries), err)
	}
	if status, body := fetch(t, b, shared+"/proof/consistency?old=1"); status != 200 {
		t.Errorf("peer B, consistency proof: %d %s", status, body)
	}

	for _, tc := range []struct {
		coll   string
		status int
		reason string
	}{
		{"private", 404, "no channel"},           // not a channel: nothing said about it
		{"other", 403, "not shared with cert-b"}, // another peer's channel
	} {
		status, body := fetch(t, b, n.url+"/log/"+n.coll[tc.coll]+"/"+bundle)
		if status != tc.status || !strings.Contains(string(body), tc.reason) {
			t.Errorf("peer B, tile of %s: %d %s; want %d saying %q", tc.coll, status, body, tc.status, tc.reason)
		}
	}
	// A collection that does not exist at all: 404 as well.
	if status, _ := fetch(t, b, n.url+"/log/no-such-collection/checkpoint"); status != 404 {
		t.Errorf("peer B, unknown collection: %d, want 404", status)
	}
}

func TestUsersKeepTheirRule(t *testing.T) {
	n := startLogNode(t, true)
	user := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS13}}}
	basic := func(r *http.Request) { r.SetBasicAuth("reader", n.readerPass) }
	if status, _ := fetch(t, user, n.url+"/log/"+n.coll["private"]+"/checkpoint", basic); status != 200 {
		t.Errorf("reader, private log: %d, want 200", status)
	}
	// A collection the user may not read is not there for it (the gate).
	if status, _ := fetch(t, user, n.url+"/log/"+n.coll["shared"]+"/checkpoint", basic); status != 404 {
		t.Errorf("reader, shared log without a grant: %d, want 404 as for an unknown one", status)
	}
	if status, _ := fetch(t, user, n.url+"/log/"+n.coll["private"]+"/checkpoint"); status != 401 {
		t.Errorf("no certificate and no credentials: %d, want 401", status)
	}
	// A client certificate no peer has is refused in the handshake.
	stranger := httpapi.PeerClient(n.stranger, n.pin, 10*time.Second)
	if _, err := stranger.Get(n.url + "/log/" + n.coll["shared"] + "/checkpoint"); err == nil {
		t.Error("an unpinned client certificate was served")
	}
}

func TestPeersReadNoLogWithoutPeerCanRead(t *testing.T) {
	n := startLogNode(t, false)
	b := httpapi.PeerClient(n.peerB, n.pin, 10*time.Second)
	status, body := fetch(t, b, n.url+"/log/"+n.coll["shared"]+"/checkpoint")
	if status != 403 || !strings.Contains(string(body), "no logs to peers") {
		t.Errorf("peer without PeerCanRead: %d %s", status, body)
	}
}
