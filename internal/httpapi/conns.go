package httpapi

import (
	"net"
	"net/http"
	"sync"
)

// connTracker counts the connections serving a request (StateActive), so
// that Shutdown knows when only connections without work are left.
type connTracker struct {
	mu     sync.Mutex
	active map[net.Conn]bool
}

func (t *connTracker) track(c net.Conn, st http.ConnState) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.active == nil {
		t.active = map[net.Conn]bool{}
	}
	if st == http.StateActive {
		t.active[c] = true
	} else {
		delete(t.active, c)
	}
}

// busy returns how many connections are serving a request.
func (t *connTracker) busy() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.active)
}
