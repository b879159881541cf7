package peer_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/peer"
)

// proxy is a TCP proxy to a node that can cut each connection after a
// number of bytes from the node (the next of cuts, in turn; 0: no cut)
// and slow those bytes down to rate bytes a second (0: no limit). TLS
// passes through it untouched, so the pins stay the node's.
type proxy struct {
	t      testing.TB
	ln     net.Listener
	target string

	mu   sync.Mutex
	open map[net.Conn]bool // to close at the end
	cuts []int64
	next int
	rate int64 // bytes a second from the target, 0: unlimited

	conns atomic.Int64 // connections accepted
	cut   atomic.Int64 // connections cut
	down  atomic.Int64 // bytes from the target to the client
	wg    sync.WaitGroup
}

func newProxy(t testing.TB, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{t: t, ln: ln, target: target, open: map[net.Conn]bool{}}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		for c := range p.open {
			c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

// URL is the proxy's address as a peer URL.
func (p *proxy) URL() string { return "https://" + p.ln.Addr().String() }

// setCuts sets the budgets of the next connections, and closes the open
// ones so that the budgets apply at once.
func (p *proxy) setCuts(cuts ...int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cuts, p.next = cuts, 0
	for c := range p.open {
		c.Close()
	}
}

func (p *proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.conns.Add(1)
		p.mu.Lock()
		budget, rate := int64(0), p.rate
		if len(p.cuts) > 0 {
			budget = p.cuts[p.next%len(p.cuts)]
			p.next++
		}
		p.mu.Unlock()
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.handle(c, budget, rate)
		}()
	}
}

// track adds c to the connections to close at the end, or forgets it.
func (p *proxy) track(c net.Conn, add bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if add {
		p.open[c] = true
	} else {
		delete(p.open, c)
	}
}

func (p *proxy) handle(client net.Conn, budget, rate int64) {
	defer client.Close()
	p.track(client, true)
	defer p.track(client, false)
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer server.Close()
	p.track(server, true)
	defer p.track(server, false)
	done := make(chan struct{})
	go func() {
		io.Copy(server, client)
		server.Close()
		close(done)
	}()
	buf := make([]byte, 16<<10)
	var sent int64
	for {
		n, err := server.Read(buf)
		if n > 0 {
			if budget > 0 && sent+int64(n) >= budget {
				k := budget - sent
				client.Write(buf[:k])
				p.down.Add(k)
				p.cut.Add(1)
				break
			}
			if _, werr := client.Write(buf[:n]); werr != nil {
				break
			}
			sent += int64(n)
			p.down.Add(int64(n))
			if rate > 0 {
				time.Sleep(time.Duration(int64(n) * int64(time.Second) / rate))
			}
		}
		if err != nil {
			break
		}
	}
	client.Close()
	server.Close()
	<-done
}

// shareVia is share with b calling a through url (a proxy): b's record of
// a has that URL and a's pins.
func shareVia(t testing.TB, a, b *testNode, url string) string {
	t.Helper()
	ctx := context.Background()
	pin(t, a, b)
	p, err := peer.NewPeer(a.name, url, a.srv.Pin, a.store().LogKey(), "")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.store().Store.AddPeer(ctx, p); err != nil {
		t.Fatal(err)
	}
	ch := &dialogue.Channel{Title: "a-b", Peer: b.name, State: dialogue.ChannelProposed, CreatedAt: time.Now()}
	if err := a.store().Store.ProposeChannel(ctx, ch); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "b is offered the channel", func() bool {
		c, err := b.store().Store.Channel(ctx, ch.ID)
		return err == nil && c.State == dialogue.ChannelOffered
	})
	if _, err := b.store().Store.AcceptChannel(ctx, ch.ID, "", time.Now()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "a sees the channel accepted", func() bool {
		c, err := a.store().Store.Channel(ctx, ch.ID)
		return err == nil && c.State == dialogue.ChannelActive
	})
	return ch.ID
}

// TestConnectionCut puts a proxy that cuts connections after N bytes
// (in the TLS handshake, mid entry bundle, mid blob) between B and A:
// a few thousand objects and a 5 MiB blob still all arrive, once; the
// blob's download resumes where it was cut.
func TestConnectionCut(t *testing.T) {
	ctx := context.Background()
	a, b := newNode(t, "party-a"), newNode(t, "party-b")
	px := newProxy(t, a.addr)
	id := shareVia(t, a, b, px.URL())
	start := time.Now()
	// An entry bundle of 256 indicators is some 100 kB: cuts at 1.5 kB
	// fall in the handshake, at 30 and 70 kB in a bundle.
	px.setCuts(1500, 30_000, 70_000, 250_000, 0, 0)
	for i := range 2 {
		add(t, a, id, indicators(700, "cut "+string(rune('0'+i))))
		add(t, b, id, indicators(150, "from b"))
	}
	t.Logf("%s: objects added", time.Since(start))
	settled(t, a, b, id, 60*time.Second)
	t.Logf("%s: settled", time.Since(start))
	t.Logf("objects: %d connections through the proxy, %d cut, %d bytes from a", px.conns.Load(), px.cut.Load(), px.down.Load())
	if px.cut.Load() == 0 {
		t.Fatal("the proxy cut no connection: the test proves nothing")
	}

	// A 5 MiB blob through connections each cut after at most 2 MiB: it
	// arrives only if each download resumes where the last one stopped.
	const size = 5 << 20
	data := make([]byte, size)
	rand.Read(data)
	blobsA, err := a.store().Blobs()
	if err != nil {
		t.Fatal(err)
	}
	sum, n, err := blobsA.Put(ctx, bytes.NewReader(data))
	if err != nil || n != size {
		t.Fatalf("put: %d bytes, %v", n, err)
	}
	px.setCuts(1_200_000, 2_000_000, 700_000)
	cut0, down0 := px.cut.Load(), px.down.Load()
	if _, err := a.store().Store.AppendBlob(ctx, id, sum, size); err != nil {
		t.Fatal(err)
	}
	blobsB, err := b.store().Blobs()
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "b keeps the blob", func() bool {
		ok, err := blobsB.Has(sum)
		return err == nil && ok
	})
	t.Logf("%s: blob kept", time.Since(start))
	moved := px.down.Load() - down0
	t.Logf("blob: %d connections cut, %d bytes from a for %d", px.cut.Load()-cut0, moved, size)
	if px.cut.Load()-cut0 < 2 {
		t.Errorf("the blob's download was cut %d times, want at least 2", px.cut.Load()-cut0)
	}
	if moved >= 2*size {
		t.Errorf("%d bytes moved for a blob of %d: the download did not resume", moved, size)
	}
	f, err := blobsB.Open(sum)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(f)
	f.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("b's copy of the blob differs (%d bytes, %v)", len(got), err)
	}
	if wanted, err := b.store().Store.WantedBlobs(ctx, a.name); err != nil || len(wanted) != 0 {
		t.Errorf("b still wants %d blobs (%v)", len(wanted), err)
	}
	settled(t, a, b, id, 30*time.Second)
}
