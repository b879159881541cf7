package httpapi_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/httpapi"
)

// BenchmarkPeerHandshake measures new mutual TLS connections from a
// pinned peer, each carrying one GET: "full" with a new client each time
// (a full TLS 1.3 handshake, ECDSA P-256 both ways), "resumed" with one
// client whose idle connection is closed after each request (TLS 1.3
// session resumption). The peer look-up is cached, as in steady state.
func BenchmarkPeerHandshake(b *testing.B) {
	peer := newIdentity(b, "node-b")
	n := startPeerNode(b, newPeerBook(&dialogue.Peer{Name: "cert-b.example", TLSPin: peer.pin}))
	url := n.url + "/peer/x"
	b.Run("full", func(b *testing.B) {
		for b.Loop() {
			c := httpapi.PeerClient(peer.cert, n.id.pin, 10*time.Second)
			if status, _, err := get(c, url); err != nil || status != 200 {
				b.Fatal(status, err)
			}
			c.CloseIdleConnections()
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "handshakes/s")
	})
	b.Run("resumed", func(b *testing.B) {
		c := httpapi.PeerClient(peer.cert, n.id.pin, 10*time.Second)
		get(c, url)
		c.CloseIdleConnections()
		resp, err := c.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		c.CloseIdleConnections()
		if !resp.TLS.DidResume {
			b.Fatal("the second connection did not resume the TLS session")
		}
		for b.Loop() {
			if status, _, err := get(c, url); err != nil || status != 200 {
				b.Fatal(status, err)
			}
			c.CloseIdleConnections()
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "handshakes/s")
	})
}

// BenchmarkPeerRequests measures small GETs from a peer with PeerClient,
// one after the other over one kept-alive mutual TLS connection.
func BenchmarkPeerRequests(b *testing.B) {
	peer := newIdentity(b, "node-b")
	n := startPeerNode(b, newPeerBook(&dialogue.Peer{Name: "cert-b.example", TLSPin: peer.pin}))
	url := n.url + "/peer/x"
	c := httpapi.PeerClient(peer.cert, n.id.pin, 10*time.Second)
	defer c.CloseIdleConnections()
	get(c, url)
	for b.Loop() {
		if status, _, err := get(c, url); err != nil || status != 200 {
			b.Fatal(status, err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkPeerRequestsCompare alternates rounds of the same requests
// over HTTP/2 and over HTTP/1.1, each with one kept-alive client, so that
// both see the same load of a shared machine; it reports each protocol's
// rate and their ratio. serial: 100 small GETs one after the other (one
// connection each); parallel8: 100 small GETs by 8 goroutines (HTTP/2: one
// connection; HTTP/1.1: up to 8); bulk: 10 GETs of 1 MiB, serially.
func BenchmarkPeerRequestsCompare(b *testing.B) {
	peer := newIdentity(b, "node-b")
	n := startPeerNode(b, newPeerBook(&dialogue.Peer{Name: "cert-b.example", TLSPin: peer.pin}))
	small, bulk := n.url+"/peer/x", n.url+"/bulk/x"
	modes := []struct {
		name     string
		url      string
		round, g int
	}{{"serial", small, 100, 1}, {"parallel8", small, 100, 8}, {"bulk", bulk, 10, 1}}
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			h2 := httpapi.PeerClientHTTP2(peer.cert, n.id.pin, 10*time.Second)
			h1 := httpapi.PeerClient(peer.cert, n.id.pin, 10*time.Second)
			defer h2.CloseIdleConnections()
			defer h1.CloseIdleConnections()
			run := func(c *http.Client) time.Duration {
				start := time.Now()
				var wg sync.WaitGroup
				for g := range m.g {
					wg.Go(func() {
						for i := g; i < m.round; i += m.g {
							if status, _, err := get(c, m.url); err != nil || status != 200 {
								b.Error(status, err)
								return
							}
						}
					})
				}
				wg.Wait()
				return time.Since(start)
			}
			run(h2)
			run(h1)
			var t2, t1 time.Duration
			i := 0
			for b.Loop() {
				if i%2 == 0 {
					t2 += run(h2)
					t1 += run(h1)
				} else {
					t1 += run(h1)
					t2 += run(h2)
				}
				i++
			}
			r2 := float64(b.N*m.round) / t2.Seconds()
			r1 := float64(b.N*m.round) / t1.Seconds()
			b.ReportMetric(r2, "h2_req/s")
			b.ReportMetric(r1, "http1_req/s")
			b.ReportMetric(r2/r1, "h2/http1")
		})
	}
}
