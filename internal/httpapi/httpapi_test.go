package httpapi_test

import (
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
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/httpapi"
	"github.com/parleyhq/parley/internal/sqlite"
	"github.com/parleyhq/parley/internal/throttle"
)

const password = "correct horse battery"

// countingStore is the real SQLite store, counting password look-ups.
type countingStore struct {
	*sqlite.DB
	lookups atomic.Int64
}

func (s *countingStore) PasswordHash(ctx context.Context, name string) (string, error) {
	s.lookups.Add(1)
	return s.DB.PasswordHash(ctx, name)
}

// aliceHash is alice's password hash, computed once: argon2id costs
// 64 MiB and, under the race detector, a good part of a second.
var aliceHash = sync.OnceValues(func() (string, error) { return dialogue.HashPassword(password) })

func newStore(t testing.TB) *countingStore {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	h, err := aliceHash()
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateUser(ctx, &dialogue.User{Name: "alice", Role: dialogue.RoleExpert}, h); err != nil {
		t.Fatal(err)
	}
	return &countingStore{DB: db}
}

// selfSigned writes a self-signed certificate and key for 127.0.0.1.
func selfSigned(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "parley test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
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
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600)
	return certFile, keyFile
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// TestServeTLSVersions checks the versions and suites the listener
// accepts: TLS 1.3, and TLS 1.2 with an ECDHE key exchange and an AEAD
// cipher (TAXII 2.1 section 8.2.2 wants TLS 1.2 accepted); not TLS 1.2
// with CBC or a static RSA key exchange, not TLS 1.1.
func TestServeTLSVersions(t *testing.T) {
	st := newStore(t)
	api := httpapi.New(httpapi.Config{Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	certFile, keyFile := selfSigned(t)
	ln := listen(t)
	done := make(chan error, 1)
	go func() { done <- api.ServeTLS(ln, certFile, keyFile) }()
	url := "https://" + ln.Addr().String() + "/metrics"

	get := func(cfg *tls.Config) (*http.Response, error) {
		cfg.InsecureSkipVerify = true
		tr := &http.Transport{TLSClientConfig: cfg}
		defer tr.CloseIdleConnections()
		req, _ := http.NewRequest("GET", url, nil)
		req.SetBasicAuth("alice", password)
		resp, err := (&http.Client{Transport: tr}).Do(req)
		if err == nil {
			resp.Body.Close()
		}
		return resp, err
	}
	for _, x := range []struct {
		name    string
		cfg     *tls.Config
		version uint16 // 0: refused
	}{
		{"TLS 1.3", &tls.Config{MinVersion: tls.VersionTLS13}, tls.VersionTLS13},
		{"TLS 1.2", &tls.Config{MaxVersion: tls.VersionTLS12}, tls.VersionTLS12},
		{"TLS 1.2 AES-256-GCM", &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384}}, tls.VersionTLS12},
		{"TLS 1.2 ChaCha20-Poly1305", &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256}}, tls.VersionTLS12},
		{"TLS 1.2 CBC", &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA}}, 0},
		{"TLS 1.2 static RSA", &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_RSA_WITH_AES_128_GCM_SHA256}}, 0},
		{"TLS 1.1", &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}, 0},
	} {
		resp, err := get(x.cfg)
		switch {
		case x.version == 0 && err == nil:
			t.Errorf("%s: served (%d, %s), want refused", x.name, resp.StatusCode, tls.CipherSuiteName(resp.TLS.CipherSuite))
		case x.version != 0 && err != nil:
			t.Errorf("%s: %v", x.name, err)
		case x.version != 0 && (resp.StatusCode != 200 || resp.TLS.Version != x.version):
			t.Errorf("%s: %d over %s", x.name, resp.StatusCode, tls.VersionName(resp.TLS.Version))
		}
	}
	if err := api.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("ServeTLS after Shutdown: %v", err)
	}
	// A missing key is an error naming the files.
	if err := httpapi.New(httpapi.Config{Store: st}).ServeTLS(listen(t), certFile, "/nonexistent/key.pem"); err == nil || !strings.Contains(err.Error(), "/nonexistent/key.pem") {
		t.Errorf("missing key: %v", err)
	}
}

func TestServePlainNeedsInsecure(t *testing.T) {
	st := newStore(t)
	ln := listen(t)
	defer ln.Close()
	if err := httpapi.New(httpapi.Config{Store: st}).Serve(ln); dialogue.KindOf(err) != dialogue.KindInvalid {
		t.Fatalf("plain HTTP without Insecure: %v", err)
	}
	api := httpapi.New(httpapi.Config{Store: st, Insecure: true, PublicMetrics: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	go api.Serve(ln)
	defer api.Shutdown(context.Background())
	resp, err := http.Get("http://" + ln.Addr().String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("public metrics over insecure HTTP: %d", resp.StatusCode)
	}
}

func TestShutdownFinishesInFlight(t *testing.T) {
	st := newStore(t)
	api := httpapi.New(httpapi.Config{Store: st, Insecure: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	started, release := make(chan struct{}), make(chan struct{})
	api.Mount("/slow", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		io.WriteString(w, "finished")
	}))
	ln := listen(t)
	go api.Serve(ln)
	type result struct {
		body string
		err  error
	}
	got := make(chan result, 1)
	go func() {
		req, _ := http.NewRequest("GET", "http://"+ln.Addr().String()+"/slow", nil)
		req.SetBasicAuth("alice", password)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			got <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		got <- result{string(b), err}
	}()
	<-started
	shut := make(chan error, 1)
	go func() { shut <- api.Shutdown(context.Background()) }()
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned before the in-flight request finished: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	if r := <-got; r.err != nil || r.body != "finished" {
		t.Fatalf("in-flight request: %q %v", r.body, r.err)
	}
	if err := <-shut; err != nil {
		t.Fatal(err)
	}
}

func TestAuthCacheAndLogs(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	tok, _ := dialogue.NewToken()
	if err := st.CreateToken(ctx, "alice", dialogue.HashToken(tok), "test"); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	var mu sync.Mutex
	api := httpapi.New(httpapi.Config{Store: st, Logger: slog.New(slog.NewJSONHandler(lockedWriter{&mu, &logs}, nil))})
	api.Mount("/whoami", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, httpapi.UserFrom(r.Context()).Name)
	}))
	api.Mount("/panic", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		panic("secret internal detail")
	}))
	h := api.Handler()
	do := func(path string, auth func(*http.Request)) (int, string) {
		req, _ := http.NewRequest("GET", path, nil)
		auth(req)
		rec := &recorder{header: http.Header{}}
		h.ServeHTTP(rec, req)
		return rec.status, rec.body.String()
	}
	basic := func(pw string) func(*http.Request) {
		return func(r *http.Request) { r.SetBasicAuth("alice", pw) }
	}
	for range 5 {
		if s, b := do("/whoami", basic(password)); s != 200 || b != "alice" {
			t.Fatalf("%d %s", s, b)
		}
	}
	if n := st.lookups.Load(); n != 1 {
		t.Errorf("5 requests with one password looked the hash up %d times, want 1 (cached)", n)
	}
	if s, _ := do("/whoami", basic("wrong password!")); s != 401 {
		t.Errorf("wrong password: %d", s)
	}
	if s, b := do("/whoami", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }); s != 200 || b != "alice" {
		t.Errorf("token: %d %s", s, b)
	}
	s, b := do("/panic", basic(password))
	if s != 500 || strings.Contains(b, "secret") || !strings.Contains(b, `"http_status":"500"`) {
		t.Errorf("panic: %d %s", s, b)
	}

	mu.Lock()
	out := logs.String()
	mu.Unlock()
	for _, secret := range []string{password, "wrong password!", tok, "Authorization", "Basic "} {
		if strings.Contains(out, secret) {
			t.Errorf("logs contain %q:\n%s", secret, out)
		}
	}
	var line struct {
		Msg, Method, Route, User string
		Status                   int
		Duration                 float64
	}
	if err := json.Unmarshal([]byte(strings.SplitN(out, "\n", 2)[0]), &line); err != nil {
		t.Fatal(err)
	}
	if line.Msg != "request" || line.Method != "GET" || line.Route != "/whoami" || line.User != "alice" || line.Status != 200 || line.Duration <= 0 {
		t.Errorf("log line %+v", line)
	}
}

func TestStatusTable(t *testing.T) {
	for k, want := range map[dialogue.Kind]int{
		dialogue.KindOther: 500, dialogue.KindInvalid: 400, dialogue.KindNotFound: 404, dialogue.KindConflict: 409,
		dialogue.KindForbidden: 403, dialogue.KindUnauthenticated: 401, dialogue.KindUnavailable: 503, dialogue.KindTooLarge: 413,
		dialogue.KindDiskFull: 507,
	} {
		err := dialogue.Errorf("op", k, "x")
		if got := httpapi.StatusOf(err); got != want {
			t.Errorf("StatusOf(%v) = %d, want %d", k, got, want)
		}
		if k != dialogue.KindOther && k != dialogue.KindDiskFull && httpapi.KindOfStatus(want) != k {
			t.Errorf("KindOfStatus(%d) = %v, want %v", want, httpapi.KindOfStatus(want), k)
		}
	}
	// A remote node's full disk is not this node's.
	if httpapi.KindOfStatus(507) != dialogue.KindUnavailable {
		t.Errorf("KindOfStatus(507) = %v, want unavailable", httpapi.KindOfStatus(507))
	}
	if httpapi.StatusOf(errors.New("plain")) != 500 || httpapi.KindOfStatus(422) != dialogue.KindInvalid || httpapi.KindOfStatus(502) != dialogue.KindUnavailable {
		t.Error("fallbacks wrong")
	}
}

// TestErrorDiskFull: a full disk is answered 507 with "the disk is full",
// not 503 "internal error"; the file name stays in the server's log.
func TestErrorDiskFull(t *testing.T) {
	var logs bytes.Buffer
	var mu sync.Mutex
	api := httpapi.New(httpapi.Config{Store: newStore(t), Logger: slog.New(slog.NewJSONHandler(lockedWriter{&mu, &logs}, nil))})
	api.MountPublic("/full", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		werr := &os.PathError{Op: "write", Path: "/srv/parley/blobs/tmp/put-1", Err: syscall.ENOSPC}
		httpapi.Error(w, r, dialogue.E("blob.Put", dialogue.KindDiskFull, fmt.Errorf("writing the blob: %w", werr)))
	}))
	srv := httptest.NewServer(api.Handler())
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/full", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusInsufficientStorage {
		t.Errorf("status %d, want 507", resp.StatusCode)
	}
	var obj httpapi.ErrorObject
	if err := json.Unmarshal(body, &obj); err != nil {
		t.Fatal(err)
	}
	if obj.Description != "the disk is full" || obj.HTTPStatus != "507" {
		t.Errorf("error object %+v", obj)
	}
	if strings.Contains(string(body), "/srv/parley") {
		t.Errorf("the answer names the file: %s", body)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logs.String(), "no space left on device") {
		t.Errorf("the log does not say why: %s", logs.String())
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = 200
	}
	return r.body.Write(b)
}
func (r *recorder) WriteHeader(s int) { r.status = s }

// TestAuthThrottle: after throttle.MaxFailures wrong passwords for a
// name, the API refuses that name (429, Retry-After), even with the right
// password and from another address, until the lock ends; a token is not
// locked by the name, only by its own address's failures (unknown
// tokens); the right password after the lock works again.
func TestAuthThrottle(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	tok, _ := dialogue.NewToken()
	if err := st.CreateToken(ctx, "alice", dialogue.HashToken(tok), "test"); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2036, 1, 1, 8, 0, 0, 0, time.UTC)
	var logs bytes.Buffer
	var mu sync.Mutex
	api := httpapi.New(httpapi.Config{Store: st, Now: func() time.Time { return now },
		Logger: slog.New(slog.NewJSONHandler(lockedWriter{&mu, &logs}, nil))})
	api.Mount("/whoami", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, httpapi.UserFrom(r.Context()).Name)
	}))
	h := api.Handler()
	do := func(addr string, auth func(*http.Request)) *recorder {
		req, _ := http.NewRequest("GET", "/whoami", nil)
		req.RemoteAddr = addr + ":40000"
		auth(req)
		rec := &recorder{header: http.Header{}}
		h.ServeHTTP(rec, req)
		return rec
	}
	basic := func(name, pw string) func(*http.Request) {
		return func(r *http.Request) { r.SetBasicAuth(name, pw) }
	}
	bearer := func(tok string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
	}

	for i := range throttle.MaxFailures {
		if rec := do("192.0.2.1", basic("alice", "wrong password")); rec.status != 401 {
			t.Fatalf("failure %d: %d", i+1, rec.status)
		}
	}
	rec := do("192.0.2.9", basic("Alice", password))
	if rec.status != 429 || rec.header.Get("Retry-After") != "61" || !strings.Contains(rec.body.String(), "too many failed sign-ins") ||
		!strings.Contains(rec.body.String(), "2036-01-01T08:01:00Z") {
		t.Fatalf("locked name: %d %q %s", rec.status, rec.header.Get("Retry-After"), rec.body.String())
	}
	if rec := do("192.0.2.9", bearer(tok)); rec.status != 200 {
		t.Errorf("a token locked by its user's name: %d", rec.status)
	}
	// Unknown tokens lock their address, not the name.
	for i := range throttle.MaxFailures {
		if rec := do("192.0.2.7", bearer("not-a-token-"+strconv.Itoa(i))); rec.status != 401 {
			t.Fatalf("unknown token %d: %d", i+1, rec.status)
		}
	}
	if rec := do("192.0.2.7", bearer(tok)); rec.status != 429 {
		t.Errorf("the address that tried unknown tokens: %d", rec.status)
	}
	if rec := do("192.0.2.8", bearer(tok)); rec.status != 200 {
		t.Errorf("another address with the token: %d", rec.status)
	}
	now = now.Add(throttle.LockMin)
	if rec := do("192.0.2.9", basic("alice", password)); rec.status != 200 || rec.body.String() != "alice" {
		t.Fatalf("after the lock: %d %s", rec.status, rec.body.String())
	}
	// The success cleared the name: four more failures do not lock it.
	for range throttle.MaxFailures - 1 {
		do("192.0.2.10", basic("alice", "wrong again"))
	}
	if rec := do("192.0.2.11", basic("alice", password)); rec.status != 200 {
		t.Errorf("after a success and four failures: %d", rec.status)
	}
	mu.Lock()
	out := logs.String()
	mu.Unlock()
	if !strings.Contains(out, "too many failures") {
		t.Errorf("no log line for the refusals:\n%s", out)
	}
	for _, secret := range []string{password, "wrong password", tok} {
		if strings.Contains(out, secret) {
			t.Errorf("logs contain %q", secret)
		}
	}
}
