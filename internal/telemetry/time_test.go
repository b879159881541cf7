package telemetry

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestTimeCache holds the cached timestamp reader to parseTime on
// sequences of timestamps that share minutes and zones now and then,
// good and bad: same time, same error.
func TestTimeCache(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	minutes := []string{"2024-05-01T00:00", "2024-05-01T00:01", "2024-02-29 23:59", "2023-12-31T23:59", "1969-12-31T23:59"}
	secs := []string{"00", "09", "59", "60", "61", "5", "x0"}
	fracs := []string{"", ".5", ".123456", ".1234567891234", ".", ".x"}
	zones := []string{"Z", "+0000", "+01:00", "-0700", "+0530", "", "+2400", "+01:0", "Zx", "+01:00:00"}
	var c timeCache
	for n := range 50000 {
		ts := minutes[r.IntN(len(minutes))] + ":" + secs[r.IntN(len(secs))] + fracs[r.IntN(len(fracs))] + zones[r.IntN(len(zones))]
		if r.IntN(50) == 0 {
			ts = fmt.Sprint(r.IntN(2e9)) + ".25"
		}
		got, gerr := c.parse([]byte(ts))
		want, werr := parseTime([]byte(ts))
		if !got.Equal(want) || (gerr == nil) != (werr == nil) {
			t.Fatalf("case %d: %q: cached %v, %v; parseTime %v, %v", n, ts, got, gerr, want, werr)
		}
	}
}
