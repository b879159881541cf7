package sqlite

import (
	"strings"
	"testing"
)

func TestCursorRoundTrip(t *testing.T) {
	for _, v := range []int64{0, 1, 1709294400123456, 1<<63 - 1} {
		got, err := decodeCursor(encodeCursor(v))
		if err != nil || got != v {
			t.Errorf("decodeCursor(encodeCursor(%d)) = %d, %v", v, got, err)
		}
	}
}

// TestCursorBad checks that every bad cursor (a TAXII client's next
// parameter) is refused with an error naming the parameter.
func TestCursorBad(t *testing.T) {
	for _, bad := range []string{
		"", "p1", "p1.", "x1.MTIz", "p1.!!!", "p1.MTIz=", // not base64url without padding
		"p1." + "LTE",             // "-1": negative
		"p1.enp6enp6enp6enp6enp6", // past int64
		"12345", "p1.MTIz\n",
	} {
		_, err := decodeCursor(bad)
		if err == nil {
			t.Errorf("decodeCursor(%q) accepted", bad)
			continue
		}
		if msg := err.Error(); !strings.HasPrefix(msg, "next: ") || !strings.Contains(msg, "not a page cursor") {
			t.Errorf("decodeCursor(%q): error %q does not name the parameter and the reason", bad, msg)
		}
	}
}

func FuzzDecodeCursor(f *testing.F) {
	f.Add(encodeCursor(1709294400123456))
	f.Add("p1.")
	f.Add("p1.LTE")
	f.Fuzz(func(t *testing.T, s string) {
		v, err := decodeCursor(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "next: ") {
				t.Fatalf("error %q does not name the parameter", err)
			}
			return
		}
		if v < 0 {
			t.Fatalf("decodeCursor(%q) = %d < 0", s, v)
		}
		if back, err := decodeCursor(encodeCursor(v)); err != nil || back != v {
			t.Fatalf("round trip of %d: %d, %v", v, back, err)
		}
	})
}
