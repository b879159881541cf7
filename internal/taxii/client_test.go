package taxii_test

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/taxii"
)

// tls12Server serves n's TAXII server over HTTPS with at most TLS 1.2 and
// the given cipher suites (Go's defaults when none), and counts the
// requests that reach it with the TLS version of each.
func tls12Server(t *testing.T, n *node, suites ...uint16) (root string, srv *httptest.Server, versions func() []uint16, requests *atomic.Int64) {
	t.Helper()
	var mu sync.Mutex
	var vs []uint16
	var count atomic.Int64
	h := n.api.Handler()
	srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		count.Add(1)
		mu.Lock()
		vs = append(vs, r.TLS.Version)
		mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	srv.Config.SetKeepAlivesEnabled(false) // one request at a time, each on its own handshake
	srv.TLS = &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: suites}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	versions = func() []uint16 {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(vs)
	}
	return srv.URL + "/taxii2/parley/", srv, versions, &count
}

// TestClientReachesTLS12Server checks that the TAXII client speaks TLS
// 1.2 to a server that speaks no more (TAXII 2.1 section 8.5.1), with a
// modern suite, and refuses a server that offers only CBC suites.
func TestClientReachesTLS12Server(t *testing.T) {
	n := newNode(t, nodeOptions{fixture: true})
	root, srv, versions, _ := tls12Server(t, n)
	c, err := taxii.NewClient(root, taxii.ClientOptions{User: "user1", Password: users[1].password, Pin: taxii.PinOf(srv.Certificate())})
	if err != nil {
		t.Fatal(err)
	}
	cs, err := c.Collections(context.Background())
	if err != nil || len(cs) != 4 {
		t.Fatalf("collections over TLS 1.2: %d, %v", len(cs), err)
	}
	if vs := versions(); len(vs) != 1 || vs[0] != tls.VersionTLS12 {
		t.Errorf("TLS versions of the requests: %x, want one TLS 1.2", vs)
	}

	root, srv, _, requests := tls12Server(t, n,
		tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_RSA_WITH_AES_128_CBC_SHA)
	c, err = taxii.NewClient(root, taxii.ClientOptions{User: "user1", Password: users[1].password, Pin: taxii.PinOf(srv.Certificate())})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Collections(context.Background()); err == nil || dialogue.KindOf(err) != dialogue.KindUnavailable {
		t.Errorf("collections from a server of CBC suites only: %v, want a handshake failure", err)
	}
	if got := requests.Load(); got != 0 {
		t.Errorf("%d requests reached the server of CBC suites only", got)
	}
}

// TestClientRefusesPlainHTTP checks that the client refuses an http://
// API root before sending anything (TAXII 2.1 section 8.5.1: HTTPS), with
// an error naming the URL and the reason.
func TestClientRefusesPlainHTTP(t *testing.T) {
	n := newNode(t, nodeOptions{fixture: true}) // plain HTTP
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		n.api.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	root := srv.URL + "/taxii2/parley/"
	for i, opt := range []taxii.ClientOptions{
		{User: "user1", Password: users[1].password},
		{Token: n.token},
		{},
		{Insecure: true},
		{Transport: http.DefaultTransport}, // the test transport is no way round it either
	} {
		c, err := taxii.NewClient(root, opt)
		if err == nil {
			c.Collections(context.Background())
			t.Errorf("NewClient(%q) with options %d: a client", root, i)
			continue
		}
		msg := err.Error()
		if dialogue.KindOf(err) != dialogue.KindInvalid || !strings.Contains(msg, "API root URL") || !strings.Contains(msg, root) ||
			!strings.Contains(msg, "HTTPS") || !strings.Contains(msg, "in clear") {
			t.Errorf("NewClient(%q): %v; want invalid, naming the API root URL and why http is refused", root, err)
		}
	}
	if got := requests.Load(); got != 0 {
		t.Errorf("%d requests reached the plain HTTP server", got)
	}
}
