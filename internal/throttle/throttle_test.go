package throttle

import (
	"testing"
	"time"
)

// The throttle's lock doubles up to LockMax, and a flood of keys keeps
// the map bounded.
func TestThrottleBounds(t *testing.T) {
	tr := New()
	now := time.Date(2036, 1, 1, 8, 0, 0, 0, time.UTC)
	var last time.Duration
	for range 12 {
		for range MaxFailures {
			tr.Fail(now, "k")
		}
		until := tr.Locked(now, "k", "other")
		if until.IsZero() {
			t.Fatal("not locked after MaxFailures")
		}
		last = until.Sub(now)
		now = until
	}
	if last != LockMax {
		t.Errorf("lock after 12 strikes: %v, want %v", last, LockMax)
	}
	for i := range maxThrottled + 10 {
		tr.Fail(now, "flood:"+string(rune(i)))
	}
	if len(tr.keys) > maxThrottled {
		t.Errorf("%d keys kept, at most %d", len(tr.keys), maxThrottled)
	}
}
