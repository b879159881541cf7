package httpapi

import (
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
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

// HandshakeLogEvery is how often, at most, a failed TLS handshake is
// logged. Anyone can open connections and send junk; one line per failure
// would let them fill the log. The lines in between are counted: the next
// line logged says how many were left out, and
// parley_tls_handshake_failures_total counts them all.
const HandshakeLogEvery = time.Minute

// handshakePrefix begins net/http's line about a failed TLS handshake.
const handshakePrefix = "http: TLS handshake error"

// serverErrorLog writes the http.Server's own error lines as warnings,
// except: the handshake failures of refused peers, which verifyPeer logs
// itself, at most once a minute per pin; and other failed handshakes,
// logged at most once per HandshakeLogEvery with the count of those left
// out since the last line.
type serverErrorLog struct {
	logger  *slog.Logger
	now     func() time.Time
	metrics *metrics

	mu      sync.Mutex
	last    time.Time // when a failed handshake was last logged
	skipped int       // failed handshakes not logged since then
}

func newServerErrorLog(logger *slog.Logger, now func() time.Time, m *metrics) *serverErrorLog {
	if now == nil {
		now = time.Now
	}
	return &serverErrorLog{logger: logger, now: now, metrics: m}
}

func (l *serverErrorLog) Write(p []byte) (int, error) {
	msg := strings.TrimRight(string(p), "\n")
	switch {
	case strings.Contains(msg, refusedMarker):
		l.metrics.handshakeFailures.Inc()
	case strings.HasPrefix(msg, handshakePrefix):
		l.metrics.handshakeFailures.Inc()
		if skipped, ok := l.allow(); ok {
			l.logger.Warn(msg, "not_logged_since_last", skipped, "log_every", HandshakeLogEvery.String())
		}
	default:
		l.logger.Warn(msg)
	}
	return len(p), nil
}

// allow says whether a failed handshake may be logged now, and how many
// were not logged since the last that was.
func (l *serverErrorLog) allow() (skipped int, ok bool) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.last.IsZero() && now.Sub(l.last) < HandshakeLogEvery {
		l.skipped++
		return 0, false
	}
	skipped, l.skipped, l.last = l.skipped, 0, now
	return skipped, true
}
