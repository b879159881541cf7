// Package throttle slows down password guessing: it counts failed
// sign-ins per user name and per client address and locks either for a
// while once it fails too often. The web UI's sign-in form and the HTTP
// API's Basic and Bearer authentication share it (each has its own).
package throttle

import (
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Sign-in throttling: after MaxFailures failed sign-ins for one user
// name, or from one client address, within FailureWindow, that name or
// address is refused without a password check until the lock ends. The
// lock doubles with every further failure, from LockMin to LockMax. A
// successful sign-in clears the name's count (not the address's: one
// good password must not reset a guesser on the same address).
//
// The counts live in memory (a restart clears them) and are bounded: at
// most maxThrottled keys (see prune).
const (
	MaxFailures   = 5
	FailureWindow = 15 * time.Minute
	LockMin       = time.Minute
	LockMax       = 30 * time.Minute
	maxThrottled  = 100000
)

// Throttle counts failed sign-ins by key (a user name, a client
// address) and locks a key that fails too often. It is safe for
// concurrent use.
type Throttle struct {
	mu   sync.Mutex
	keys map[string]*failures
}

type failures struct {
	n      int       // failures in the window
	first  time.Time // the window's start
	until  time.Time // locked until
	strike int       // locks so far (the next is LockMin << strike)
}

// New returns a Throttle with no failures counted.
func New() *Throttle { return &Throttle{keys: map[string]*failures{}} }

// Locked says until when any of keys is locked at now (zero: none).
func (t *Throttle) Locked(now time.Time, keys ...string) time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	var until time.Time
	for _, k := range keys {
		if f := t.keys[k]; f != nil && now.Before(f.until) && f.until.After(until) {
			until = f.until
		}
	}
	return until
}

// Fail counts a failed sign-in for each key.
func (t *Throttle) Fail(now time.Time, keys ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range keys {
		f := t.keys[k]
		if f == nil {
			if len(t.keys) >= maxThrottled {
				t.prune(now)
			}
			f = &failures{first: now}
			t.keys[k] = f
		}
		if now.Sub(f.first) > FailureWindow {
			f.n, f.first = 0, now
		}
		f.n++
		if f.n >= MaxFailures {
			lock := min(LockMin<<min(f.strike, 10), LockMax)
			f.until = now.Add(lock)
			f.strike++
			f.n, f.first = 0, now
		}
	}
}

// Succeed clears key's failures.
func (t *Throttle) Succeed(key string) {
	t.mu.Lock()
	delete(t.keys, key)
	t.mu.Unlock()
}

// prune drops what no longer matters; if the map is still nearly full
// (a flood of names or addresses), it drops a tenth of the entries, any
// (map order is random), so that the cost stays linear.
func (t *Throttle) prune(now time.Time) {
	for k, f := range t.keys {
		if now.Sub(f.first) > FailureWindow && !now.Before(f.until) {
			delete(t.keys, k)
		}
	}
	if len(t.keys) < maxThrottled*9/10 {
		return
	}
	drop := len(t.keys) / 10
	for k := range t.keys {
		if drop == 0 {
			break
		}
		delete(t.keys, k)
		drop--
	}
}

// UserKey is the key of a user name (in any case).
func UserKey(name string) string { return "user:" + strings.ToLower(name) }

// AddrKey is the key of the client address of r.
func AddrKey(r *http.Request) string { return "addr:" + ClientAddr(r) }

// ClientAddr is the IP address r came from (the node is reached
// directly, not through a proxy, so the connection's address is the
// client's).
func ClientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
