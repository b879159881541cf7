package sqlite

import (
	"testing"
	"time"
)

func TestStamp(t *testing.T) {
	for _, tm := range []time.Time{
		{},
		time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC),
		time.Date(1999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(9999, 1, 2, 3, 4, 5, 6, time.UTC),
		time.Date(2024, 3, 1, 12, 0, 0, 123000000, time.FixedZone("x", 3600)),
		time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		if got, want := stamp(tm), tm.UTC().Format(stampLayout); got != want {
			t.Errorf("stamp(%v) = %q, want %q", tm, got, want)
		}
	}
}

func FuzzStamp(f *testing.F) {
	f.Add(int64(0), int64(0))
	f.Add(int64(1709294400), int64(123456789))
	f.Fuzz(func(t *testing.T, sec, nsec int64) {
		tm := time.Unix(sec%(1<<40), nsec%1e9)
		if got, want := stamp(tm), tm.UTC().Format(stampLayout); got != want {
			t.Errorf("stamp(%v) = %q, want %q", tm, got, want)
		}
		if y := tm.UTC().Year(); y >= 0 && y <= 9999 {
			back, err := time.Parse(time.RFC3339Nano, stamp(tm))
			if err != nil || !back.Equal(tm) {
				t.Errorf("stamp(%v) = %q parses back to %v, %v", tm, stamp(tm), back, err)
			}
		}
	})
}
