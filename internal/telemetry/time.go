package telemetry

import (
	"errors"
	"time"
)

var errTime = errors.New("not a timestamp (RFC 3339, as Suricata or Zeek write it, or seconds since 1970)")

// parseTime reads the timestamps of telemetry without allocating:
// RFC 3339 with an optional fraction and a zone of Z, ±hh:mm or ±hhmm
// (Suricata writes 2009-11-24T21:27:09.534255+0100), or seconds since
// 1970 with a fraction (Zeek's default: 1320279566.452687).
func parseTime(b []byte) (time.Time, error) {
	if len(b) >= 19 && b[4] == '-' {
		return parseRFC3339(b)
	}
	return parseEpoch(b)
}

// timeCache remembers the minute and zone of the last RFC 3339
// timestamp read: the lines of a log share them, so that most
// timestamps only need their seconds, fraction and zone checked.
type timeCache struct {
	minute [16]byte // yyyy-mm-ddThh:mm
	zone   [8]byte  // the zone's text, as written
	zlen   int
	base   int64 // the minute, in seconds since 1970
	ok     bool
}

// parse is parseTime, from the cache when the minute and zone are the
// last ones; the answers are the same.
func (c *timeCache) parse(b []byte) (time.Time, error) {
	if c.ok && len(b) >= 20 && string(b[:16]) == string(c.minute[:]) && b[16] == ':' {
		sec, ok := digits(b[17:], 2)
		if ok && sec <= 60 {
			i := 19
			nsec := 0
			if i < len(b) && b[i] == '.' {
				i++
				n := 0
				for i < len(b) && b[i] >= '0' && b[i] <= '9' {
					if n < 9 {
						nsec = nsec*10 + int(b[i]-'0')
					}
					n++
					i++
				}
				if n == 0 {
					return time.Time{}, errTime
				}
				for ; n < 9; n++ {
					nsec *= 10
				}
			}
			if string(b[i:]) == string(c.zone[:c.zlen]) {
				return time.Unix(c.base+int64(sec), int64(nsec)).UTC(), nil
			}
		}
	}
	t, err := parseTime(b)
	if err != nil || len(b) < 20 || b[4] != '-' {
		return t, err
	}
	// Remember the minute and the zone (what follows the seconds and
	// the fraction).
	i := 19
	if b[i] == '.' {
		for i++; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		}
	}
	if len(b)-i > len(c.zone) {
		return t, nil
	}
	sec, _ := digits(b[17:], 2)
	copy(c.minute[:], b[:16])
	c.zlen = copy(c.zone[:], b[i:])
	c.base = t.Unix() - int64(sec)
	c.ok = true
	return t, nil
}

func digits(b []byte, n int) (int, bool) {
	if len(b) < n {
		return 0, false
	}
	v := 0
	for _, c := range b[:n] {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

func parseRFC3339(b []byte) (time.Time, error) {
	year, ok1 := digits(b, 4)
	month, ok2 := digits(b[5:], 2)
	day, ok3 := digits(b[8:], 2)
	hour, ok4 := digits(b[11:], 2)
	min, ok5 := digits(b[14:], 2)
	sec, ok6 := digits(b[17:], 2)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || b[7] != '-' || (b[10] != 'T' && b[10] != ' ') || b[13] != ':' || b[16] != ':' ||
		month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60 {
		return time.Time{}, errTime
	}
	i := 19
	nsec := 0
	if i < len(b) && b[i] == '.' {
		i++
		n := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			if n < 9 {
				nsec = nsec*10 + int(b[i]-'0')
			}
			n++
			i++
		}
		if n == 0 {
			return time.Time{}, errTime
		}
		for ; n < 9; n++ {
			nsec *= 10
		}
	}
	off := 0
	switch {
	case i < len(b) && b[i] == 'Z':
		i++
	case i < len(b) && (b[i] == '+' || b[i] == '-'):
		h, ok := digits(b[i+1:], 2)
		if !ok {
			return time.Time{}, errTime
		}
		j := i + 3
		if j < len(b) && b[j] == ':' {
			j++
		}
		m, ok := digits(b[j:], 2)
		if !ok || h > 23 || m > 59 {
			return time.Time{}, errTime
		}
		off = h*3600 + m*60
		if b[i] == '-' {
			off = -off
		}
		i = j + 2
	default:
		return time.Time{}, errTime
	}
	if i != len(b) {
		return time.Time{}, errTime
	}
	days := daysFromCivil(year, month, day)
	unix := days*86400 + int64(hour*3600+min*60+sec) - int64(off)
	return time.Unix(unix, int64(nsec)).UTC(), nil
}

// daysFromCivil is the number of days from 1970-01-01 to the date
// (Howard Hinnant's algorithm); days past a month's end roll over.
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

func parseEpoch(b []byte) (time.Time, error) {
	i := 0
	var sec int64
	n := 0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		sec = sec*10 + int64(b[i]-'0')
		i++
		n++
		if n > 12 {
			return time.Time{}, errTime
		}
	}
	if n == 0 {
		return time.Time{}, errTime
	}
	nsec := 0
	if i < len(b) && b[i] == '.' {
		i++
		k := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			if k < 9 {
				nsec = nsec*10 + int(b[i]-'0')
			}
			k++
			i++
		}
		for ; k < 9; k++ {
			nsec *= 10
		}
	}
	if i != len(b) {
		return time.Time{}, errTime
	}
	return time.Unix(sec, int64(nsec)).UTC(), nil
}
