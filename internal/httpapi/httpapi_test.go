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
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/httpapi"
	"github.com/parleyhq/parley/internal/sqlite"
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

func TestServeTLS13Only(t *testing.T) {
	st := newStore(t)
	api := httpapi.New(httpapi.Config{Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	certFile, keyFile := selfSigned(t)
	ln := listen(t)
	done := make(chan error, 1)
	go func() { done <- api.ServeTLS(ln, certFile, keyFile) }()
	url := "https://" + ln.Addr().String() + "/metrics"

	get := func(maxVersion uint16) (*http.Response, error) {
		tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true, MaxVersion: maxVersion}}
		defer tr.CloseIdleConnections()
		req, _ := http.NewRequest("GET", url, nil)
		req.SetBasicAuth("alice", password)
		return (&http.Client{Transport: tr}).Do(req)
	}
	resp, err := get(tls.VersionTLS13)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS.Version != tls.VersionTLS13 {
		t.Errorf("TLS 1.3: %d, version %x", resp.StatusCode, resp.TLS.Version)
	}
	if _, err := get(tls.VersionTLS12); err == nil {
		t.Error("a TLS 1.2 client was served")
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
	} {
		err := dialogue.Errorf("op", k, "x")
		if got := httpapi.StatusOf(err); got != want {
			t.Errorf("StatusOf(%v) = %d, want %d", k, got, want)
		}
		if k != dialogue.KindOther && httpapi.KindOfStatus(want) != k {
			t.Errorf("KindOfStatus(%d) = %v, want %v", want, httpapi.KindOfStatus(want), k)
		}
	}
	if httpapi.StatusOf(errors.New("plain")) != 500 || httpapi.KindOfStatus(422) != dialogue.KindInvalid || httpapi.KindOfStatus(502) != dialogue.KindUnavailable {
		t.Error("fallbacks wrong")
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
