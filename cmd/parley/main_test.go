package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/taxii"
)

const testPassword = "correct horse battery staple"

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newMain returns a Main with in-memory streams and an empty environment.
func newMain(stdin string) (*Main, *syncBuffer, *syncBuffer) {
	var stdout, stderr syncBuffer
	m := NewMain()
	m.Stdin = strings.NewReader(stdin)
	m.Stdout, m.Stderr = &stdout, &stderr
	m.Getenv = func(string) string { return "" }
	return m, &stdout, &stderr
}

// runMain runs one command to its end and returns its standard output.
func runMain(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	m, stdout, stderr := newMain(stdin)
	if err := m.ParseFlags(context.Background(), args); err != nil {
		return "", err
	}
	err := m.Run(context.Background())
	if cerr := m.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Logf("parley %s: stderr:\n%s", strings.Join(args, " "), stderr)
	}
	return stdout.String(), err
}

func mustRun(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	out, err := runMain(t, stdin, args...)
	if err != nil {
		t.Fatalf("parley %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// newNode makes a node with the user alice (expert) and the test bundle
// imported, and returns its folder.
func newNode(t *testing.T, name string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	mustRun(t, "", "init", "--dir", dir, "--name", name)
	mustRun(t, testPassword+"\n", "user", "add", "--dir", dir, "--role", "expert", "alice")
	return dir
}

// serve starts `parley serve` on a free port and returns the running Main
// and its log.
func serve(t *testing.T, dir string) (*Main, *syncBuffer) {
	t.Helper()
	m, _, stderr := newMain("")
	if err := m.ParseFlags(context.Background(), []string{"serve", "--dir", dir, "--addr", "127.0.0.1:0"}); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatalf("serve: %v\n%s", err, stderr)
	}
	if !m.Serving() || !strings.HasPrefix(m.URL(), "https://127.0.0.1:") {
		t.Fatalf("serve: Serving() = %v, URL %q", m.Serving(), m.URL())
	}
	t.Cleanup(func() { m.Close() })
	return m, stderr
}

// httpsClient trusts the node's certificate, as curl --cacert does.
func httpsClient(t *testing.T, dir string) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(filepath.Join(dir, "tls", "cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("no certificate in cert.pem")
	}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

func get(t *testing.T, c *http.Client, url string, auth func(*http.Request)) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Accept", taxii.MediaTypeTAXII)
	if auth != nil {
		auth(req)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

func basic(user, pw string) func(*http.Request) {
	return func(r *http.Request) { r.SetBasicAuth(user, pw) }
}

func bearer(tok string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
}

func localCollection(t *testing.T, m *Main) string {
	t.Helper()
	c, err := m.node.Store.FindCollection(context.Background(), dialogue.DefaultCollectionTitle)
	if err != nil {
		t.Fatal(err)
	}
	return c.ID
}

// TestServe starts `parley serve` in-process on 127.0.0.1:0, talks TAXII
// to it over TLS 1.3 with a password and a token, then closes it while a
// request is in flight and checks that the request finishes and the
// database is closed.
func TestServe(t *testing.T) {
	dir := newNode(t, "node-a")
	token := strings.TrimSpace(mustRun(t, "", "token", "create", "--dir", dir, "--user", "alice"))
	mustRun(t, "", "import", "--dir", dir, "testdata/bundles/incident.json")

	m, logs := serve(t, dir)
	client := httpsClient(t, dir)
	pin, err := m.node.Pin()
	if err != nil {
		t.Fatal(err)
	}

	// Discovery, with HTTP Basic.
	resp, body := get(t, client, m.URL()+"/taxii2/", basic("alice", testPassword))
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != taxii.MediaTypeTAXII {
		t.Fatalf("discovery: %s %s %s", resp.Status, resp.Header.Get("Content-Type"), body)
	}
	if resp.TLS == nil || resp.TLS.Version != tls.VersionTLS13 {
		t.Fatalf("discovery not over TLS 1.3: %+v", resp.TLS)
	}
	if got := taxii.PinOf(resp.TLS.PeerCertificates[0]); got != pin {
		t.Errorf("served certificate pin %s, node's %s", got, pin)
	}
	var disc struct {
		APIRoots []string `json:"api_roots"`
	}
	json.Unmarshal(body, &disc)
	if len(disc.APIRoots) != 1 || disc.APIRoots[0] != m.URL()+"/taxii2/parley/" {
		t.Errorf("api_roots %v", disc.APIRoots)
	}

	// The imported objects, with the token.
	objectsURL := m.URL() + "/taxii2/parley/collections/" + localCollection(t, m) + "/objects/"
	resp, body = get(t, client, objectsURL, bearer(token))
	var env struct {
		Objects []struct {
			ID string `json:"id"`
		} `json:"objects"`
	}
	if err := json.Unmarshal(body, &env); err != nil || resp.StatusCode != 200 {
		t.Fatalf("objects: %s %s", resp.Status, body)
	}
	if len(env.Objects) != 4 {
		t.Errorf("got %d objects, want the 4 imported", len(env.Objects))
	}

	// No credentials, a wrong password, a wrong token: 401.
	for name, auth := range map[string]func(*http.Request){
		"none": nil, "password": basic("alice", testPassword+"x"), "token": bearer(token + "x"),
	} {
		if resp, body := get(t, client, objectsURL, auth); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: %s %s, want 401", name, resp.Status, body)
		}
	}

	// Plain HTTP to the TLS port gets nowhere.
	if resp, err := http.Get("http://" + strings.TrimPrefix(m.URL(), "https://") + "/taxii2/"); err == nil {
		if resp.StatusCode < 400 {
			t.Errorf("plain HTTP to the TLS port: %s", resp.Status)
		}
		resp.Body.Close()
	}

	// The log: JSON lines (stderr is not a terminal), the URLs and pin,
	// never a secret.
	var sawStart bool
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if rec["msg"] == "serving TAXII 2.1" {
			sawStart = rec["api_root"] == m.URL()+"/taxii2/parley/" && rec["tls_pin"] == "sha256//"+pin
		}
	}
	if !sawStart {
		t.Errorf("no start line with api_root and tls_pin in the log:\n%s", logs)
	}
	if strings.Contains(logs.String(), testPassword) || strings.Contains(logs.String(), token) {
		t.Error("a secret is in the log")
	}

	// A POST in flight when the server is told to stop: its body is sent
	// in two halves, with Close called in between.
	obj := `{"type":"attack-pattern","spec_version":"2.1","id":"attack-pattern--7e33a43e-e34b-40ec-89da-36c9bb2cacd5","created":"2024-05-04T12:00:00.000Z","modified":"2024-05-04T12:00:00.000Z","name":"Spearphishing Link"}`
	envelope := `{"objects":[` + obj + `]}`
	pr, pw := io.Pipe()
	req, _ := http.NewRequest(http.MethodPost, objectsURL, pr)
	req.Header.Set("Accept", taxii.MediaTypeTAXII)
	req.Header.Set("Content-Type", taxii.MediaTypeTAXII)
	req.ContentLength = int64(len(envelope))
	req.SetBasicAuth("alice", testPassword)
	wroteHeaders := make(chan struct{})
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		WroteHeaders: func() { close(wroteHeaders) },
	}))
	type result struct {
		resp *http.Response
		body []byte
		err  error
	}
	posted := make(chan result, 1)
	go func() {
		resp, err := client.Do(req)
		if err != nil {
			posted <- result{err: err}
			return
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		posted <- result{resp, b, err}
	}()
	io.WriteString(pw, envelope[:len(envelope)/2])
	<-wroteHeaders
	time.Sleep(200 * time.Millisecond) // let the server read the headers and start the handler

	closed := make(chan error, 1)
	go func() { closed <- m.Close() }()
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) while a request was in flight", err)
	case <-time.After(300 * time.Millisecond):
	}
	io.WriteString(pw, envelope[len(envelope)/2:])
	pw.Close()
	r := <-posted
	if r.err != nil {
		t.Fatalf("the request in flight failed: %v", r.err)
	}
	if r.resp.StatusCode != http.StatusAccepted || !strings.Contains(string(r.body), `"success_count":1`) {
		t.Fatalf("the request in flight: %s %s", r.resp.Status, r.body)
	}
	select {
	case err := <-closed:
		if err != nil {
			t.Fatalf("Close: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return after the request finished")
	}
	if m.Serving() || m.node.Store != nil {
		t.Error("after Close: still serving, or the database is open")
	}
	if _, err := net.DialTimeout("tcp", strings.TrimPrefix(m.URL(), "https://"), time.Second); err == nil {
		t.Error("the port still accepts connections after Close")
	}
	if !strings.Contains(logs.String(), `"msg":"database closed; stopped"`) {
		t.Errorf("no stop line in the log:\n%s", logs)
	}

	// What the request in flight wrote is in the database.
	out := mustRun(t, "", "export", "--dir", dir, "--type", "attack-pattern")
	if !strings.Contains(out, obj) {
		t.Errorf("the object posted during shutdown is not in the export:\n%s", out)
	}
}

// TestServeInsecureHTTP checks --insecure-http: plain HTTP, on request only.
func TestServeInsecureHTTP(t *testing.T) {
	dir := newNode(t, "node-a")
	m, _, _ := newMain("")
	m.ParseFlags(context.Background(), []string{"serve", "--dir", dir, "--addr", "127.0.0.1:0", "--insecure-http"})
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if !strings.HasPrefix(m.URL(), "http://") {
		t.Fatalf("URL %s", m.URL())
	}
	resp, body := get(t, http.DefaultClient, m.URL()+"/taxii2/", basic("alice", testPassword))
	if resp.StatusCode != 200 {
		t.Fatalf("%s %s", resp.Status, body)
	}
}

// TestServeErrors checks the errors serve gives before it listens.
func TestServeErrors(t *testing.T) {
	dir := newNode(t, "node-a")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for _, tc := range []struct {
		args      []string
		prep      func()
		err, hint string
	}{
		{args: []string{"--addr", ln.Addr().String()}, err: "the address is in use", hint: "pass --addr 127.0.0.1:PORT with another port"},
		{args: []string{"--addr", "localhost"}, err: `"localhost" is not host:port`, hint: "use host:port"},
		{args: nil, prep: func() { os.Chmod(filepath.Join(dir, "tls", "key.pem"), 0o644) }, err: "has mode 0644, want 0600", hint: "chmod 600"},
	} {
		if tc.prep != nil {
			tc.prep()
		}
		m, _, stderr := newMain("")
		m.ParseFlags(context.Background(), append([]string{"serve", "--dir", dir}, tc.args...))
		err := m.Run(context.Background())
		m.Close()
		if err == nil {
			t.Fatalf("serve %v: no error", tc.args)
		}
		m.PrintError(err)
		if !strings.Contains(stderr.String(), tc.err) || !strings.Contains(stderr.String(), "parley: hint: ") || !strings.Contains(stderr.String(), tc.hint) {
			t.Errorf("serve %v: stderr %q, want %q and hint %q", tc.args, stderr, tc.err, tc.hint)
		}
	}
}

// TestPull pulls between two served nodes over TLS with a pin, then
// again after the source got a new version (only that comes), and checks
// the errors for a wrong pin and a wrong password.
func TestPull(t *testing.T) {
	a := newNode(t, "node-a")
	mustRun(t, "", "import", "--dir", a, "testdata/bundles/incident.json")
	ma, _ := serve(t, a)
	pin, _ := ma.node.Pin()
	coll := localCollection(t, ma)
	apiRoot := ma.URL() + "/taxii2/parley/"

	b := filepath.Join(t.TempDir(), "node-b")
	mustRun(t, "", "init", "--dir", b, "--name", "node-b")
	pwFile := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pwFile, []byte(testPassword+"\n"), 0o600)
	pull := func(extra ...string) (string, error) {
		args := append([]string{"pull", "--dir", b, "--from", apiRoot, "--collection", coll}, extra...)
		return runMain(t, "", args...)
	}

	out, err := pull("--user", "alice", "--password-file", pwFile, "--tls-pin", "sha256//"+pin)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `into "local": 4 new, 0 unchanged, 0 rejected`) {
		t.Fatalf("first pull:\n%s", out)
	}

	// The source gets a new version; the next pull brings only that, here
	// with a token and the pin without its prefix.
	mustRun(t, "", "import", "--dir", a, "testdata/bundles/incident-v2.json")
	token := strings.TrimSpace(mustRun(t, "", "token", "create", "--dir", a, "--user", "alice"))
	tokFile := filepath.Join(t.TempDir(), "tok")
	os.WriteFile(tokFile, []byte(token+"\n"), 0o600)
	out, err = pull("--token-file", tokFile, "--tls-pin", pin)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "1 new, 0 unchanged, 0 rejected") {
		t.Fatalf("second pull:\n%s", out)
	}
	out, err = pull("--token-file", tokFile, "--insecure")
	if err != nil || !strings.Contains(out, "0 new, 0 unchanged, 0 rejected") {
		t.Fatalf("third pull: %v\n%s", err, out)
	}

	// Both nodes now export the same objects, byte for byte.
	ea := mustRun(t, "", "export", "--dir", a)
	eb := mustRun(t, "", "export", "--dir", b)
	if objectsOf(t, ea) != objectsOf(t, eb) {
		t.Errorf("exports differ:\n%s\n%s", ea, eb)
	}

	// Mistakes, each with a clear error and a hint.
	otherPin := strings.Repeat("A", 43) + "="
	for _, tc := range []struct {
		args      []string
		err, hint string
	}{
		{[]string{"--token-file", tokFile, "--tls-pin", otherPin}, "does not match the expected pin", "is not the one whose pin you gave"},
		{[]string{"--token-file", tokFile}, "certificate", "--tls-pin"},
		{[]string{"--user", "alice", "--password-file", tokFile, "--tls-pin", pin}, "401", "check --user and --password-file"},
		{[]string{"--token-file", tokFile, "--tls-pin", "nope"}, `TLS pin "nope"`, "parley pull --help"},
		{[]string{"--user", "alice"}, "--user needs --password-file", "first line of a file"},
		{[]string{"--token-file", filepath.Join(t.TempDir(), "missing")}, "no such file", ""},
	} {
		m, _, stderr := newMain("")
		m.ParseFlags(context.Background(), append([]string{"pull", "--dir", b, "--from", apiRoot, "--collection", coll}, tc.args...))
		err := m.Run(context.Background())
		m.Close()
		if err == nil {
			t.Errorf("pull %v: no error", tc.args)
			continue
		}
		m.PrintError(err)
		if !strings.Contains(stderr.String(), "parley: error: ") || !strings.Contains(stderr.String(), tc.err) || !strings.Contains(stderr.String(), tc.hint) {
			t.Errorf("pull %v: stderr %q, want %q and hint %q", tc.args, stderr, tc.err, tc.hint)
		}
		if strings.Contains(stderr.String(), testPassword) || strings.Contains(stderr.String(), token) {
			t.Errorf("pull %v: a secret in the error: %q", tc.args, stderr)
		}
	}
}

// objectsOf returns the objects of an exported bundle, joined.
func objectsOf(t *testing.T, bundle string) string {
	var b struct {
		Objects []json.RawMessage `json:"objects"`
	}
	if err := json.Unmarshal([]byte(bundle), &b); err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, o := range b.Objects {
		parts = append(parts, string(o))
	}
	return strings.Join(parts, "\n")
}

// TestDemoOnce runs `parley demo --once` and checks its story, that the
// check it makes fetched every object, and that the folder is gone.
func TestDemoOnce(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	out := mustRun(t, "", "demo", "--once")
	filed := regexp.MustCompile(`party-a filed an incident report \(sector energy, severity 4 of 5, TLP:AMBER\): (\d+) STIX objects`).FindStringSubmatch(out)
	received := regexp.MustCompile(`party-b received all (\d+) objects, each entry checked against party-a's signed checkpoint`).FindStringSubmatch(out)
	fetched := regexp.MustCompile(`Checked: fetched (\d+) objects of the channel from https://127\.0\.0\.1:\d+/taxii2/parley/collections/[0-9a-f-]{36}/objects/ over HTTPS.*; party-a holds the same (\d+)\.`).FindStringSubmatch(out)
	if filed == nil || received == nil || fetched == nil || filed[1] != received[1] || fetched[1] != fetched[2] {
		t.Fatalf("demo output:\n%s", out)
	}
	if n, _ := strconv.Atoi(filed[1]); n < 10 {
		t.Errorf("only %d sample objects", n)
	}
	for _, want := range []string{
		"  user             analyst (role expert), password ",
		"  tls-pin          ",
		"  discovery        https://127.0.0.1:",
		"curl -k --pinnedpubkey 'sha256//",
		"-H 'Accept: application/taxii+json;version=2.1'",
		"both signed its text hash sha256:",
		"so the request went to party-b",
		"party-a closed it: closed on both nodes",
		"a person acknowledged it after",
		"party-a's duty officer answered after",
		"both signed its minutes (English and Russian): agreed",
		"The leadership summary on party-a",
		"Stopped both nodes and removed " + tmp,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
	// The summary holds nothing above TLP:GREEN: the AMBER report's
	// indicator values never appear in it.
	summary := out[strings.Index(out, "The leadership summary"):strings.Index(out, "Party A: party-a")]
	for _, secret := range []string{"198.51.100.23", "update-check.example.net", "GATEKEEPER"} {
		if strings.Contains(summary, secret) {
			t.Errorf("the summary shows %q (TLP:AMBER)", secret)
		}
	}
	if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
		t.Errorf("the demo left %v in %s", entries, tmp)
	}
}

// TestDemoCurl runs the demo until Close and runs each curl command it
// prints, exactly as printed, against it.
func TestDemoCurl(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Fatal("curl is not installed: this test runs the demo's curl commands as printed (make test installs curl)")
	}
	t.Setenv("TMPDIR", t.TempDir())
	m, stdout, _ := newMain("")
	m.ParseFlags(context.Background(), []string{"demo"})
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var cmds []string
	for _, line := range strings.Split(stdout.String(), "\n") {
		if strings.HasPrefix(line, "  curl ") {
			cmds = append(cmds, strings.TrimSpace(line))
		}
	}
	if len(cmds) < 4 {
		t.Fatalf("demo printed %d curl commands:\n%s", len(cmds), stdout)
	}
	for _, c := range cmds {
		out, err := exec.Command("sh", "-c", c+" -sS --fail-with-body --max-time 20").CombinedOutput()
		if err != nil {
			t.Errorf("%s\n(%s): %v\n%s", c, curl, err, out)
			continue
		}
		if strings.HasSuffix(strings.TrimSuffix(c, "'"), "/checkpoint") {
			// The log's checkpoint is a signed note, not JSON.
			if !regexp.MustCompile(`^party-a/parley/[0-9a-f-]{36}\n\d+\n[A-Za-z0-9+/]{43}=\n\n\x{2014} party-a \S+\n\x{2014} party-b \S+\n$`).Match(out) {
				t.Errorf("%s: not party-a's signed checkpoint cosigned by party-b: %q", c, out)
			}
			continue
		}
		if !json.Valid(out) {
			t.Errorf("%s: not JSON: %s", c, out)
		}
	}
	// The pin is checked: curl with another pin fails.
	bad := regexp.MustCompile(`sha256//[A-Za-z0-9+/=]+`).ReplaceAllString(cmds[0], "sha256//"+strings.Repeat("A", 43)+"=")
	if out, err := exec.Command("sh", "-c", bad+" -sS --max-time 20").CombinedOutput(); err == nil {
		t.Errorf("curl with a wrong pin succeeded: %s", out)
	}
	if err := m.Close(); err != nil || m.Serving() {
		t.Errorf("Close: %v; serving: %v", err, m.Serving())
	}
}

// TestServeSignal runs the real program (this test binary, as "parley")
// with serve, waits for its start line, makes a request, sends SIGTERM
// and checks that it stops cleanly: exit status 0, database closed.
func TestServeSignal(t *testing.T) {
	dir := newNode(t, "node-a")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "parley")
	if err := os.Symlink(exe, bin); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "--dir", dir, "--addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "GORACE=atexit_sleep_ms=0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()

	lines := make(chan map[string]any, 100)
	go func() {
		dec := json.NewDecoder(stderr)
		for {
			var rec map[string]any
			if err := dec.Decode(&rec); err != nil {
				close(lines)
				return
			}
			lines <- rec
		}
	}()
	next := func(msg string) map[string]any {
		t.Helper()
		timeout := time.After(30 * time.Second)
		for {
			select {
			case rec, ok := <-lines:
				if !ok {
					t.Fatalf("the log ended before %q", msg)
				}
				if rec["msg"] == msg {
					return rec
				}
			case <-timeout:
				t.Fatalf("no %q in the log", msg)
			}
		}
	}
	start := next("serving TAXII 2.1")
	root, _ := start["api_root"].(string)
	if !strings.HasPrefix(root, "https://127.0.0.1:") {
		t.Fatalf("start line %v", start)
	}
	client := httpsClient(t, dir)
	resp, body := get(t, client, root+"collections/", basic("alice", testPassword))
	var colls struct {
		Collections []struct {
			ID string `json:"id"`
		} `json:"collections"`
	}
	if json.Unmarshal(body, &colls); resp.StatusCode != 200 || len(colls.Collections) != 1 {
		t.Fatalf("collections: %s %s", resp.Status, body)
	}
	// A write, so that the WAL has something to checkpoint at close.
	req, _ := http.NewRequest(http.MethodPost, root+"collections/"+colls.Collections[0].ID+"/objects/",
		strings.NewReader(`{"objects":[{"type":"attack-pattern","spec_version":"2.1","id":"attack-pattern--7e33a43e-e34b-40ec-89da-36c9bb2cacd5","created":"2024-05-04T12:00:00.000Z","modified":"2024-05-04T12:00:00.000Z","name":"Spearphishing Link"}]}`))
	req.Header.Set("Accept", taxii.MediaTypeTAXII)
	req.Header.Set("Content-Type", taxii.MediaTypeTAXII)
	req.SetBasicAuth("alice", testPassword)
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST: %s", resp.Status)
	}
	if fi, err := os.Stat(filepath.Join(dir, "parley.db-wal")); err != nil || fi.Size() == 0 {
		t.Fatalf("no WAL while serving after a write (%v): the check below would prove nothing", err)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	next("shutting down: waiting for requests in flight")
	next("database closed; stopped")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("after SIGTERM: %v, want exit status 0", err)
	}
	// The database was closed cleanly: the WAL was checkpointed away.
	if fi, err := os.Stat(filepath.Join(dir, "parley.db-wal")); err == nil && fi.Size() > 0 {
		t.Errorf("parley.db-wal has %d bytes after a clean stop", fi.Size())
	}
}
