package taxii

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/stix"
)

// Query is a TAXII request's parsed query string: the filters and paging
// parameters of section 3.5 of TAXII 2.1.
type Query struct {
	AddedAfter   time.Time // zero when not given
	Limit        int       // 0 when not given
	Next         string
	IDs          []string
	Types        []string
	Versions     dialogue.VersionMatch
	SpecVersions []string
}

// Params is a set of query parameters an endpoint accepts.
type Params uint16

// The query parameters of TAXII 2.1.
const (
	ParamAddedAfter Params = 1 << iota
	ParamLimit
	ParamNext
	ParamMatchID
	ParamMatchType
	ParamMatchVersion
	ParamMatchSpecVersion
)

var paramNames = []struct {
	p    Params
	name string
}{
	{ParamAddedAfter, "added_after"},
	{ParamLimit, "limit"},
	{ParamNext, "next"},
	{ParamMatchID, "match[id]"},
	{ParamMatchType, "match[type]"},
	{ParamMatchVersion, "match[version]"},
	{ParamMatchSpecVersion, "match[spec_version]"},
}

// ParamError is a query parameter that could not be parsed.
type ParamError struct {
	Param  string // "limit", "match[version]", …
	Value  string // the offending value, possibly shortened
	Reason string
}

func (e *ParamError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("query parameter %s: %s", e.Param, e.Reason)
	}
	return fmt.Sprintf("query parameter %s=%q: %s", e.Param, e.Value, e.Reason)
}

const (
	maxParamValues = 1000 // values over all repetitions of one list parameter
	maxNextLen     = 512
)

// ParseQuery parses the parameters in allowed out of v. Parameters an
// endpoint does not accept, and unknown ones, are ignored, as TAXII asks
// of filters a server does not support. Every error is of kind
// KindInvalid and wraps a *ParamError naming the parameter and the reason.
func ParseQuery(v url.Values, allowed Params) (Query, error) {
	var q Query
	for _, pn := range paramNames {
		if allowed&pn.p == 0 {
			continue
		}
		vals, ok := v[pn.name]
		if !ok {
			continue
		}
		if err := q.parse(pn.p, pn.name, vals); err != nil {
			return Query{}, dialogue.E("taxii.ParseQuery", dialogue.KindInvalid, err)
		}
	}
	return q, nil
}

func (q *Query) parse(p Params, name string, vals []string) error {
	bad := func(val, reason string, args ...any) error {
		if len(val) > 80 {
			val = val[:80] + "…"
		}
		return &ParamError{Param: name, Value: val, Reason: fmt.Sprintf(reason, args...)}
	}
	single := func() (string, error) {
		if len(vals) != 1 {
			return "", bad("", "given %d times; give it once", len(vals))
		}
		if vals[0] == "" {
			return "", bad("", "empty value")
		}
		return vals[0], nil
	}
	switch p {
	case ParamAddedAfter:
		s, err := single()
		if err != nil {
			return err
		}
		t, err := parseTimestamp(s)
		if err != nil {
			return bad(s, "not a timestamp like 2021-06-10T08:30:00.000Z")
		}
		q.AddedAfter = t
	case ParamLimit:
		s, err := single()
		if err != nil {
			return err
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || strings.HasPrefix(s, "+") {
			return bad(s, "not a positive integer")
		}
		q.Limit = n
	case ParamNext:
		s, err := single()
		if err != nil {
			return err
		}
		if len(s) > maxNextLen {
			return bad(s, "longer than %d characters", maxNextLen)
		}
		for _, c := range s {
			if c < 0x21 || c > 0x7e {
				return bad(s, "contains a character a next value never has")
			}
		}
		q.Next = s
	default:
		list, err := splitList(vals)
		if err != nil {
			return bad("", "%s", err)
		}
		for _, s := range list {
			if s == "" {
				return bad(strings.Join(vals, ","), "empty value in the list")
			}
			switch p {
			case ParamMatchID:
				if !validID(s) {
					return bad(s, "not a STIX id (type--UUID)")
				}
				q.IDs = append(q.IDs, s)
			case ParamMatchType:
				if !validType(s) {
					return bad(s, "not a STIX type (3 to 250 characters: a-z, 0-9, -)")
				}
				q.Types = append(q.Types, s)
			case ParamMatchVersion:
				switch s {
				case "first":
					q.Versions.First = true
				case "last":
					q.Versions.Last = true
				case "all":
					q.Versions.All = true
				default:
					t, err := parseTimestamp(s)
					if err != nil {
						return bad(s, "not first, last, all or a timestamp like 2021-06-10T08:30:00.000Z")
					}
					q.Versions.At = append(q.Versions.At, t)
				}
			case ParamMatchSpecVersion:
				if !validSpecVersion(s) {
					return bad(s, "not a STIX version such as 2.1")
				}
				q.SpecVersions = append(q.SpecVersions, s)
			}
		}
	}
	return nil
}

func splitList(vals []string) ([]string, error) {
	var out []string
	for _, v := range vals {
		out = append(out, strings.Split(v, ",")...)
		if len(out) > maxParamValues {
			return nil, fmt.Errorf("more than %d values", maxParamValues)
		}
	}
	return out, nil
}

// parseTimestamp parses a TAXII timestamp: RFC 3339 in UTC with a "Z".
func parseTimestamp(s string) (time.Time, error) {
	if !strings.HasSuffix(s, "Z") || len(s) < len("2006-01-02T15:04:05Z") || s[10] != 'T' {
		return time.Time{}, fmt.Errorf("not RFC 3339 in UTC")
	}
	t, err := stix.ParseTime(s)
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}

func validType(s string) bool {
	if len(s) < 3 || len(s) > 250 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func validID(s string) bool {
	typ, u, ok := strings.Cut(s, "--")
	if !ok || !validType(typ) || len(u) != 36 {
		return false
	}
	_, err := uuid.Parse(u)
	return err == nil
}

func validSpecVersion(s string) bool {
	maj, min, ok := strings.Cut(s, ".")
	return ok && isDigits(maj) && isDigits(min) && len(maj) <= 3 && len(min) <= 3
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
