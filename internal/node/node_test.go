package node

import (
	"context"
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/taxii"
	"github.com/parleyhq/parley/internal/tlog"
)

func initNode(t *testing.T, name string) (*Node, *Created) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "node")
	n, c, err := Init(context.Background(), dir, InitOptions{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n, c
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestInit(t *testing.T) {
	ctx := context.Background()
	n, c := initNode(t, "cert-a.example")

	if m := mode(t, n.Dir); m != 0o700 {
		t.Errorf("folder mode %04o, want 0700", m)
	}
	if m := mode(t, c.TLSKey); m != 0o600 {
		t.Errorf("key mode %04o, want 0600", m)
	}
	if m := mode(t, c.ConfigFile); m != 0o600 {
		t.Errorf("config mode %04o, want 0600", m)
	}
	for _, p := range []string{c.Database, c.TLSCert} {
		if _, err := os.Stat(p); err != nil {
			t.Error(err)
		}
	}

	cfg, err := ReadConfig(n.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Name != "cert-a.example" || cfg.Listen != DefaultListen || cfg.MaxBodyBytes != DefaultMaxBodyBytes {
		t.Errorf("config %+v", cfg)
	}

	// The default collection: titled "local", readable and writable by all.
	colls, err := n.Store.Collections(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(colls) != 1 || colls[0].Title != dialogue.DefaultCollectionTitle || colls[0].ID != c.Collection.ID {
		t.Fatalf("collections %+v", colls)
	}
	grants, err := n.Store.Grants(ctx, colls[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(grants) != 1 || grants[0] != (dialogue.Grant{CollectionID: colls[0].ID, Principal: "*", Read: true, Write: true}) {
		t.Errorf("grants %+v", grants)
	}

	// The certificate: ECDSA, for the name and loopback, pin as reported.
	cert, err := n.Certificate()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cert.PublicKey.(*ecdsa.PublicKey); !ok {
		t.Errorf("public key %T, want ECDSA", cert.PublicKey)
	}
	for _, host := range []string{"cert-a.example", "localhost", "127.0.0.1", "::1"} {
		if err := cert.VerifyHostname(host); err != nil {
			t.Errorf("certificate not valid for %s: %v", host, err)
		}
	}
	if err := cert.VerifyHostname("other.example"); err == nil {
		t.Error("certificate valid for other.example")
	}
	if got := taxii.PinOf(cert); got != c.Pin || len(got) != 44 {
		t.Errorf("pin %q, Init said %q", got, c.Pin)
	}
}

func TestInitRefusesExisting(t *testing.T) {
	ctx := context.Background()
	n, _ := initNode(t, "a")
	before, _ := os.ReadFile(filepath.Join(n.Dir, ConfigFile))
	keyBefore, _ := os.ReadFile(n.KeyFile())

	_, _, err := Init(ctx, n.Dir, InitOptions{Name: "b"})
	if !errors.Is(err, ErrExists) || dialogue.KindOf(err) != dialogue.KindConflict {
		t.Fatalf("second Init: %v (kind %v), want ErrExists", err, dialogue.KindOf(err))
	}
	after, _ := os.ReadFile(filepath.Join(n.Dir, ConfigFile))
	keyAfter, _ := os.ReadFile(n.KeyFile())
	if string(before) != string(after) || string(keyBefore) != string(keyAfter) {
		t.Error("the existing node was changed")
	}

	// A folder with other files is not taken over either.
	other := t.TempDir()
	os.WriteFile(filepath.Join(other, "notes.txt"), []byte("mine"), 0o644)
	if _, _, err := Init(ctx, other, InitOptions{Name: "b"}); !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("Init in a non-empty folder: %v, want ErrNotEmpty", err)
	}

	// An existing empty folder is used, and its mode tightened.
	empty := t.TempDir()
	os.Chmod(empty, 0o755)
	n2, _, err := Init(ctx, empty, InitOptions{Name: "c"})
	if err != nil {
		t.Fatal(err)
	}
	n2.Close()
	if m := mode(t, empty); m != 0o700 {
		t.Errorf("mode %04o, want 0700", m)
	}
}

func TestInitBadOptions(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "node")
	for _, opt := range []InitOptions{{Name: ""}, {Name: "a b"}, {Name: "a", Listen: "nowhere"}, {Name: "a", MaxBodyBytes: 3}} {
		_, _, err := Init(ctx, dir, opt)
		if dialogue.KindOf(err) != dialogue.KindInvalid {
			t.Errorf("Init(%+v): %v, want invalid", opt, err)
		}
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("Init(%+v) left %s behind", opt, dir)
		}
	}
}

func TestOpen(t *testing.T) {
	ctx := context.Background()
	n, c := initNode(t, "a")
	n.Close()

	n2, err := Open(ctx, n.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer n2.Close()
	coll, err := n2.Store.FindCollection(ctx, "local")
	if err != nil || coll.ID != c.Collection.ID {
		t.Fatalf("FindCollection(local) = %+v, %v", coll, err)
	}

	_, err = Open(ctx, t.TempDir())
	if !errors.Is(err, ErrNoNode) || dialogue.KindOf(err) != dialogue.KindNotFound {
		t.Fatalf("Open(empty) = %v, want ErrNoNode", err)
	}

	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, ConfigFile), []byte(`{"name": 1}`), 0o600)
	_, err = Open(ctx, bad)
	if dialogue.KindOf(err) != dialogue.KindInvalid {
		t.Fatalf("Open(bad config) = %v, want invalid", err)
	}
}

// TestTLS serves HTTPS with the node's key pair and checks that a client
// trusting the certificate alone (as curl --cacert does) and a client
// checking the pin both connect.
func TestTLS(t *testing.T) {
	n, c := initNode(t, "a")
	kp, err := n.TLSCertificate()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{kp}, MinVersion: tls.VersionTLS13})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })}
	go srv.Serve(ln)
	defer srv.Close()

	cert, _ := n.Certificate()
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	for _, host := range []string{"127.0.0.1", "localhost"} {
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		cl := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
		resp, err := cl.Get("https://" + net.JoinHostPort(host, port) + "/")
		if err != nil {
			t.Fatalf("%s: %v", host, err)
		}
		resp.Body.Close()
		if resp.TLS.Version != tls.VersionTLS13 {
			t.Errorf("TLS version %x", resp.TLS.Version)
		}
		if got := taxii.PinOf(resp.TLS.PeerCertificates[0]); got != c.Pin {
			t.Errorf("served pin %s, want %s", got, c.Pin)
		}
	}

	// A key that others can read is refused.
	os.Chmod(n.KeyFile(), 0o644)
	if _, err := n.TLSCertificate(); !errors.Is(err, ErrKeyMode) {
		t.Fatalf("TLSCertificate with a 0644 key: %v, want ErrKeyMode", err)
	}
}

func TestLogKey(t *testing.T) {
	ctx := context.Background()
	n, c := initNode(t, "cert-a.example")
	if m := mode(t, c.LogKey); m != 0o600 {
		t.Errorf("log key mode %04o, want 0600", m)
	}
	if m := mode(t, filepath.Dir(c.LogKey)); m != 0o700 {
		t.Errorf("keys folder mode %04o, want 0700", m)
	}
	pub, _ := os.ReadFile(c.LogPub)
	if got := string(pub); got != c.LogKeyPub+"\n" || n.LogKey() != c.LogKeyPub || !strings.HasPrefix(got, "cert-a.example+") {
		t.Errorf("log.pub %q, Init said %q, node has %q", got, c.LogKeyPub, n.LogKey())
	}
	if priv, _ := os.ReadFile(c.LogKey); !strings.HasPrefix(string(priv), "PRIVATE+KEY+cert-a.example+") {
		t.Errorf("log.key does not hold a signer key")
	}

	// The node's signer makes checkpoints its verifier opens, with the
	// collection's origin.
	var root tlog.Hash
	root[0] = 7
	msg, err := n.SignCheckpoint(c.Collection.ID, 5, root)
	if err != nil {
		t.Fatal(err)
	}
	origin, _ := n.Origin(c.Collection.ID)
	s, err := tlog.Open(msg, origin, n.LogVerifier())
	if err != nil || s.Size != 5 || s.Hash != root || origin != "cert-a.example/parley/"+c.Collection.ID {
		t.Fatalf("Open(%q): %+v, %v", msg, s, err)
	}
	n.Close()

	// A key that others can read is refused by Open.
	os.Chmod(c.LogKey, 0o640)
	if _, err := Open(ctx, n.Dir); !errors.Is(err, ErrLogKeyMode) || dialogue.KindOf(err) != dialogue.KindForbidden {
		t.Fatalf("Open with a readable log key: %v", err)
	} else if strings.Contains(err.Error(), "PRIVATE") {
		t.Fatalf("error repeats the key: %v", err)
	}
	os.Chmod(c.LogKey, 0o600)

	// A log.pub of another key is refused.
	_, other, _ := tlog.GenerateKey("cert-a.example")
	before, _ := os.ReadFile(c.LogPub)
	os.WriteFile(c.LogPub, []byte(other+"\n"), 0o644)
	if _, err := Open(ctx, n.Dir); err == nil || !strings.Contains(err.Error(), "is not the verifier key of") {
		t.Fatalf("Open with a foreign log.pub: %v", err)
	}
	os.WriteFile(c.LogPub, before, 0o644)

	// A node made before the record has no key: Open says so, InitLogKey
	// makes one, and refuses a second time.
	os.Remove(c.LogKey)
	os.Remove(c.LogPub)
	if _, err := Open(ctx, n.Dir); !errors.Is(err, ErrNoLogKey) {
		t.Fatalf("Open without a log key: %v", err)
	}
	vkey, err := InitLogKey(n.Dir)
	if err != nil || !strings.HasPrefix(vkey, "cert-a.example+") || vkey == c.LogKeyPub {
		t.Fatalf("InitLogKey: %q, %v", vkey, err)
	}
	if _, err := InitLogKey(n.Dir); dialogue.KindOf(err) != dialogue.KindConflict {
		t.Fatalf("second InitLogKey: %v", err)
	}
	n2, err := Open(ctx, n.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer n2.Close()
	if n2.LogKey() != vkey {
		t.Errorf("opened key %q, made %q", n2.LogKey(), vkey)
	}
}

func TestTrustLog(t *testing.T) {
	ctx := context.Background()
	n, _ := initNode(t, "b")
	_, vkey, _ := tlog.GenerateKey("cert-a.example")
	skey, _, _ := tlog.GenerateKey("cert-c.example")
	if added, err := n.TrustLog(vkey); !added || err != nil {
		t.Fatalf("TrustLog: %v, %v", added, err)
	}
	if added, err := n.TrustLog(vkey + "\n"); added || err != nil {
		t.Fatalf("TrustLog again: %v, %v", added, err)
	}
	_, vkey2, _ := tlog.GenerateKey("cert-a.example")
	if _, err := n.TrustLog(vkey2); dialogue.KindOf(err) != dialogue.KindConflict {
		t.Fatalf("TrustLog of another key with the same name: %v", err)
	}
	for _, bad := range []string{"", "nonsense", skey} {
		_, err := n.TrustLog(bad)
		if dialogue.KindOf(err) != dialogue.KindInvalid || strings.Contains(err.Error(), "PRIVATE+KEY+cert-c") {
			t.Errorf("TrustLog(%.20q): %v", bad, err)
		}
	}
	n.Close()
	n2, err := Open(ctx, n.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer n2.Close()
	vs, err := n2.WitnessVerifiers()
	if err != nil || len(vs) != 1 || vs[0].Name() != "cert-a.example" {
		t.Fatalf("WitnessVerifiers after reopening: %v, %v", vs, err)
	}
}
