package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/node"
	"github.com/parleyhq/parley/internal/stix"
)

// serveProc is `parley serve` run as a real process (this test binary).
type serveProc struct {
	t    *testing.T
	bin  string
	dir  string
	addr string
	cmd  *exec.Cmd
	log  *syncBuffer
	done chan error
}

// parleyBin returns this test binary under the name parley, which
// TestMain runs as the program.
func parleyBin(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "parley")
	if err := os.Symlink(exe, bin); err != nil {
		t.Fatal(err)
	}
	return bin
}

// freeAddr returns a loopback address with a port free now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func startServe(t *testing.T, bin, dir, addr string) *serveProc {
	t.Helper()
	p := &serveProc{t: t, bin: bin, dir: dir, addr: addr}
	p.start()
	t.Cleanup(func() { p.kill() })
	return p
}

func (p *serveProc) start() {
	p.t.Helper()
	p.log = &syncBuffer{}
	p.cmd = exec.Command(p.bin, "serve", "--dir", p.dir, "--addr", p.addr)
	p.cmd.Env = append(os.Environ(), "GORACE=atexit_sleep_ms=0")
	p.cmd.Stderr = p.log
	if err := p.cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	p.done = make(chan error, 1)
	go func() { p.done <- p.cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(p.log.String(), `"serving TAXII 2.1"`) {
		select {
		case err := <-p.done:
			p.t.Fatalf("parley serve --dir %s exited: %v\n%s", p.dir, err, p.log)
		default:
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("parley serve --dir %s: no start line\n%s", p.dir, p.log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill sends SIGKILL and waits for the process's end.
func (p *serveProc) kill() {
	if p.cmd == nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
	p.cmd = nil
}

// stop sends SIGTERM and waits for a clean exit.
func (p *serveProc) stop() {
	p.t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		if err != nil {
			p.t.Errorf("parley serve --dir %s: %v\n%s", p.dir, err, p.log)
		}
	case <-time.After(30 * time.Second):
		p.t.Errorf("parley serve --dir %s did not stop", p.dir)
		p.cmd.Process.Kill()
		<-p.done
	}
	p.cmd = nil
}

// writeBundles writes files bundles of per new indicators each and
// returns their paths.
func writeBundles(t *testing.T, files, per int) []string {
	t.Helper()
	now := time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
	dir := t.TempDir()
	var paths []string
	for f := range files {
		var b strings.Builder
		fmt.Fprintf(&b, `{"type":"bundle","id":"%s","objects":[`, stix.NewID("bundle"))
		for i := range per {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `{"type":"indicator","spec_version":"2.1","id":"%s","created":"%s","modified":"%s","name":"bulk %d-%d","pattern":"[ipv4-addr:value = '203.0.113.%d']","pattern_type":"stix","valid_from":"%s"}`,
				stix.NewID("indicator"), now, now, f, i, i%256, now)
		}
		b.WriteString("]}")
		path := filepath.Join(dir, fmt.Sprintf("bulk-%d.json", f))
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, path)
	}
	return paths
}

// peerState is a peer of `parley peer list --json`.
type peerState struct {
	Name     string `json:"Name"`
	Alarm    string `json:"Alarm"`
	Behind   int64  `json:"behind"`
	Channels []struct {
		ID       string `json:"id"`
		State    string `json:"state"`
		Sent     int64  `json:"sent"`
		Cosigned int64  `json:"cosigned"`
		Received int64  `json:"received"`
		Applied  int64  `json:"applied"`
	} `json:"channels"`
}

func peerList(t *testing.T, dir string) []peerState {
	t.Helper()
	out := mustRun(t, "", "peer", "list", "--dir", dir, "--json")
	var doc struct {
		Peers []peerState `json:"peers"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("peer list --json: %v\n%s", err, out)
	}
	return doc.Peers
}

// objectsIn counts the object versions of a collection of the node in
// dir (not served).
func objectsIn(t *testing.T, dir, id string) int {
	t.Helper()
	n, err := node.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	total, err := countObjects(context.Background(), n.Store, id)
	if err != nil {
		t.Fatal(err)
	}
	return total
}

// TestPeerKill runs two nodes as real `parley serve` processes, starts a
// 10,000-object exchange (an import of several bundles on A), kills one
// node with SIGKILL at a random moment of it, starts it again, and waits
// for the exchange to finish: the counts are equal, both nodes' logs
// verify, and `parley peer list --json` shows nothing behind and no alarm.
func TestPeerKill(t *testing.T) {
	for _, victim := range []string{"b", "a"} {
		t.Run("kill-"+victim, func(t *testing.T) { testPeerKill(t, victim) })
	}
}

func testPeerKill(t *testing.T, victim string) {
	const files, per = 5, 2000
	start := time.Now()
	bin := parleyBin(t)
	dirA, dirB := newNode(t, "node-a"), newNode(t, "node-b")
	addrA, addrB := freeAddr(t), freeAddr(t)
	keyA, pinA := keysOf(t, dirA)
	keyB, pinB := keysOf(t, dirB)
	mustRun(t, "", "peer", "add", "--dir", dirA, "--name", "node-b", "--url", "https://"+addrB, "--tls-pin", pinB, "--log-key", keyB)
	mustRun(t, "", "peer", "add", "--dir", dirB, "--name", "node-a", "--url", "https://"+addrA, "--tls-pin", pinA, "--log-key", keyA)
	out := mustRun(t, "", "channel", "create", "--dir", dirA, "kill test", "--with", "node-b")
	m := regexp.MustCompile(`with id (\S+) to`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("channel create: %q", out)
	}
	id := m[1]
	a, b := startServe(t, bin, dirA, addrA), startServe(t, bin, dirB, addrB)
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(mustRun(t, "", "channel", "list", "--dir", dirB), "offered") {
		if time.Now().After(deadline) {
			t.Fatalf("b is not offered the channel\n%s", b.log)
		}
		time.Sleep(100 * time.Millisecond)
	}
	mustRun(t, "", "channel", "accept", "--dir", dirB, id)
	bundles := writeBundles(t, files, per)

	imp := exec.Command(bin, append([]string{"import", "--dir", dirA, "--collection", id}, bundles...)...)
	imp.Env = append(os.Environ(), "GORACE=atexit_sleep_ms=0")
	impDone := make(chan struct{})
	var impErr error
	impOut, _ := os.Create(filepath.Join(t.TempDir(), "import.out"))
	imp.Stdout, imp.Stderr = impOut, impOut
	if err := imp.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { impErr = imp.Wait(); close(impDone) }()
	t.Cleanup(func() { imp.Process.Kill(); <-impDone })

	// Kill the victim at a random moment once the import's entries flow
	// (the first entry is channel create's).
	p := map[string]*serveProc{"a": a, "b": b}[victim]
	for {
		ps := peerList(t, dirB)
		if len(ps) == 1 && len(ps[0].Channels) == 1 && ps[0].Channels[0].Received > 1 {
			break
		}
		if time.Since(start) > 60*time.Second {
			t.Fatalf("nothing exchanged\n%s\n%s", a.log, b.log)
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(time.Duration(rand.Int64N(int64(2 * time.Second))))
	st := peerList(t, dirB)[0].Channels[0]
	p.kill()
	t.Logf("%s: killed %s; b had received %d, applied %d of a's entries", time.Since(start).Round(time.Millisecond), victim, st.Received, st.Applied)
	time.Sleep(300 * time.Millisecond)
	p.start()

	<-impDone
	if impErr != nil {
		out, _ := os.ReadFile(impOut.Name())
		t.Fatalf("import: %v\n%s", impErr, out)
	}
	const total = files * per
	deadline = time.Now().Add(90 * time.Second)
	for {
		pa, pb := peerList(t, dirA), peerList(t, dirB)
		if len(pa) == 1 && len(pb) == 1 && len(pa[0].Channels) == 1 && len(pb[0].Channels) == 1 {
			ca, cb := pa[0].Channels[0], pb[0].Channels[0]
			if pa[0].Alarm != "" || pb[0].Alarm != "" {
				t.Fatalf("alarm: a %q, b %q", pa[0].Alarm, pb[0].Alarm)
			}
			// The channel's log holds the import and what channel create
			// entered before it.
			if ca.Sent >= total && ca.Cosigned == ca.Sent && cb.Received == ca.Sent && cb.Applied == ca.Sent && pa[0].Behind == 0 && pb[0].Behind == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("not caught up: a %+v, b %+v\n%s\n%s", pa[0], pb[0], a.log, b.log)
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Logf("%s: caught up", time.Since(start).Round(time.Millisecond))
	a.stop()
	b.stop()
	if na, nb := objectsIn(t, dirA, id), objectsIn(t, dirB, id); na != nb || na < total {
		t.Errorf("objects: a holds %d, b %d, want the same, at least %d", na, nb, total)
	}
	for _, dir := range []string{dirA, dirB} {
		out := mustRun(t, "", "verify", "--dir", dir, "--channel", id)
		if !strings.HasPrefix(out, "ok ") {
			t.Errorf("verify --dir %s: %q", dir, out)
		}
	}
	if out := mustRun(t, "", "verify", "--dir", dirA, "--channel", id); !strings.Contains(out, "cosigned by node-b") {
		t.Errorf("a's latest checkpoint is not cosigned by b: %q", out)
	}
}
