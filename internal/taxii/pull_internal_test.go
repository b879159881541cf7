package taxii

import "testing"

func TestInstantBefore(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"2024-03-01T12:00:00Z", "2024-03-01T11:59:59Z"},
		{"2024-03-01T12:00:00.1Z", "2024-03-01T12:00:00.0Z"},
		{"2024-03-01T12:00:00.120Z", "2024-03-01T12:00:00.119Z"},
		{"2024-03-01T12:00:00.000000Z", "2024-03-01T11:59:59.999999Z"},
		{"2024-03-01T12:00:00.123456Z", "2024-03-01T12:00:00.123455Z"},
		{"2024-01-01T00:00:00.000000000Z", "2023-12-31T23:59:59.999999999Z"},
	} {
		got, err := instantBefore(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("instantBefore(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "2024-03-01", "2024-03-01T12:00:00+01:00", "yesterday"} {
		if got, err := instantBefore(bad); err == nil {
			t.Errorf("instantBefore(%q) = %q, want an error", bad, got)
		}
	}
}

func TestParsePullCursor(t *testing.T) {
	c, err := parsePullCursor("2024-03-01T12:00:00.000001Z")
	if err != nil || c.At != "2024-03-01T12:00:00.000001Z" || len(c.Taken) != 0 || c.Next != "" {
		t.Errorf("bare timestamp: %+v, %v", c, err)
	}
	want := pullCursor{At: "2024-03-01T12:00:00Z", Taken: []string{"a 1", "b 2"}, Next: "n", AddedAfter: "2024-03-01T11:00:00Z"}
	c, err = parsePullCursor(want.String())
	if err != nil || c.At != want.At || len(c.Taken) != 2 || c.Next != "n" || c.AddedAfter != want.AddedAfter {
		t.Errorf("round trip: %+v, %v", c, err)
	}
	for _, bad := range []string{"{", `{"date_added":"x"}`, "not a time"} {
		if _, err := parsePullCursor(bad); err == nil {
			t.Errorf("parsePullCursor(%q): no error", bad)
		}
	}
}
