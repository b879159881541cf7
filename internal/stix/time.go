package stix

import (
	"errors"
	"time"
)

// ParseTime parses a STIX timestamp: RFC 3339 in UTC, with a capital
// "T" and a "Z" (no offset), optional fractional seconds, and a real date
// (2023-02-30 is refused). A leap second (":60") is refused, since Go's
// time cannot hold it.
func ParseTime(s string) (time.Time, error) {
	t, err := parseTimeBytes([]byte(s))
	return t, err
}

var (
	errTimeFormat = errors.New(`not an RFC 3339 timestamp in UTC of the form YYYY-MM-DDTHH:MM:SS[.s+]Z`)
	errTimeZ      = errors.New(`timestamp must be in UTC and end in "Z", not carry an offset`)
	errTimeRange  = errors.New(`timestamp has a field out of range (no such date or time)`)
)

func parseTimeBytes(b []byte) (time.Time, error) {
	// YYYY-MM-DDTHH:MM:SS = 19 bytes, then optional .fraction, then Z.
	if len(b) < 20 {
		return time.Time{}, errTimeFormat
	}
	num := func(i, n int) (int, bool) {
		v := 0
		for _, c := range b[i : i+n] {
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		return v, true
	}
	year, ok1 := num(0, 4)
	month, ok2 := num(5, 2)
	day, ok3 := num(8, 2)
	hour, ok4 := num(11, 2)
	minute, ok5 := num(14, 2)
	sec, ok6 := num(17, 2)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' {
		return time.Time{}, errTimeFormat
	}
	i := 19
	nsec := 0
	if b[i] == '.' {
		i++
		start := i
		scale := 100000000
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			nsec += int(b[i]-'0') * scale
			scale /= 10
			i++
		}
		if i == start {
			return time.Time{}, errTimeFormat
		}
	}
	if i != len(b)-1 {
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			return time.Time{}, errTimeZ
		}
		return time.Time{}, errTimeFormat
	}
	if b[i] != 'Z' {
		if b[i] == 'z' {
			return time.Time{}, errTimeZ
		}
		return time.Time{}, errTimeFormat
	}
	if month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, errTimeRange
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC), nil
}

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// FormatTime formats t as a STIX timestamp in UTC with at least
// millisecond precision, more when t has it.
func FormatTime(t time.Time) string {
	t = t.UTC()
	if t.Nanosecond()%1e6 == 0 {
		return t.Format("2006-01-02T15:04:05.000Z")
	}
	return t.Format(time.RFC3339Nano)
}
