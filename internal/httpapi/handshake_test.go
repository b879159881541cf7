package httpapi_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/httpapi"
)

// A thousand connections that send junk instead of a TLS handshake make
// one log line, not a thousand; the failures are counted in
// parley_tls_handshake_failures_total, and the next line logged, once the
// clock has moved on by HandshakeLogEvery, says how many were left out.
func TestHandshakeFailuresLoggedAtABoundedRate(t *testing.T) {
	var clock atomic.Int64
	clock.Store(time.Date(2036, 3, 2, 8, 5, 0, 0, time.UTC).UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()) }
	logs := &logBuffer{}
	api := httpapi.New(httpapi.Config{Store: newStore(t), Logger: slog.New(slog.NewJSONHandler(logs, nil)), Now: now})
	id := newIdentity(t, "node-a")
	ln := listen(t)
	done := make(chan error, 1)
	go func() { done <- api.ServeTLS(ln, id.certFile, id.keyFile) }()
	t.Cleanup(func() {
		api.Shutdown(context.Background())
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("ServeTLS: %v", err)
		}
	})
	n := &peerNode{url: "https://" + ln.Addr().String(), id: id}

	junk := func(count int) {
		var wg sync.WaitGroup
		sem := make(chan struct{}, 16)
		for range count {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				c, err := net.Dial("tcp", ln.Addr().String())
				if err != nil {
					t.Error(err)
					return
				}
				defer c.Close()
				c.Write([]byte("\x00junk, not a TLS handshake\r\n\r\n"))
				c.SetReadDeadline(time.Now().Add(10 * time.Second))
				var b [64]byte
				c.Read(b[:]) // until the server closes it
			}()
		}
		wg.Wait()
	}
	// waitFailures waits until the server has counted want failures.
	waitFailures := func(want int) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			got, _ := strconv.Atoi(metric(t, n, "parley_tls_handshake_failures_total"))
			if got == want {
				return
			}
			if got > want || time.Now().After(deadline) {
				t.Fatalf("parley_tls_handshake_failures_total = %d, want %d", got, want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	junk(1000)
	waitFailures(1000)
	lines := logs.lines(t, "TLS handshake error")
	if len(lines) != 1 {
		t.Fatalf("%d log lines for 1000 failed handshakes, want 1", len(lines))
	}
	if lines[0]["level"] != "WARN" || lines[0]["not_logged_since_last"] != 0.0 {
		t.Errorf("first line %v", lines[0])
	}

	// Within the interval: nothing more is logged.
	clock.Add(int64(httpapi.HandshakeLogEvery - time.Second))
	junk(1)
	waitFailures(1001)
	if got := len(logs.lines(t, "TLS handshake error")); got != 1 {
		t.Fatalf("%d lines within the interval, want 1", got)
	}
	// After it: one line, with the count of those left out.
	clock.Add(int64(time.Second))
	junk(1)
	waitFailures(1002)
	lines = logs.lines(t, "TLS handshake error")
	if len(lines) != 2 {
		t.Fatalf("%d lines after the interval, want 2", len(lines))
	}
	if got := lines[1]["not_logged_since_last"]; got != 1000.0 {
		t.Errorf("the second line says %v were not logged, want 1000: %v", got, lines[1])
	}
	if msg, _ := lines[1]["msg"].(string); !strings.HasPrefix(msg, "http: TLS handshake error from 127.0.0.1:") {
		t.Errorf("the line does not say what failed: %v", lines[1])
	}
}
