package telemetry

import (
	"bytes"
	"fmt"
	"strings"
)

// Format reads one line of a log into an event.
type Format interface {
	// Name is the format's name as the CLI spells it.
	Name() string
	parse(s *scanner, ev *Event) error
}

// fieldError names the field of a line that could not be read.
type fieldError struct {
	field string
	err   error
}

func (e *fieldError) Error() string { return fmt.Sprintf("field %s: %v", e.field, e.err) }
func (e *fieldError) Unwrap() error { return e.err }

// missingError is a line without a field the format needs.
type missingError string

func (e missingError) Error() string { return fmt.Sprintf("field %s: missing", string(e)) }

// EVE is Suricata's EVE JSON output: every event type; the values read
// are src_ip, dest_ip, dns (rrname, rdata, answers, grouped A/AAAA/CNAME,
// queries), http (hostname, url: the URL is http://hostname + url),
// tls.sni, fileinfo (md5, sha1, sha256) and smtp (mail_from, rcpt_to).
// timestamp is required.
var EVE Format = eveFormat{}

// Zeek is Zeek's JSON logs (conn, dns, http, ssl, files and any other
// with the same field names): ts (seconds since 1970, or ISO 8601),
// id.orig_h, id.resp_h (or a nested id object), query, answers, host and
// uri (the URL is http://host + uri), server_name, md5, sha1, sha256,
// tx_hosts, rx_hosts, mailfrom, rcptto. ts is required.
var Zeek Format = zeekFormat{}

type eveFormat struct{}

func (eveFormat) Name() string { return "eve" }

func (eveFormat) parse(s *scanner, ev *Event) error {
	if !noFast && eveFast(s, ev) {
		return nil
	}
	// The general path, from the start of the line.
	ev.reset()
	s.i, s.depth, s.scratch = 0, 0, s.scratch[:0]
	if err := s.open('{'); err != nil {
		return err
	}
	hasTime := false
	for first := true; ; first = false {
		more, err := s.next('}', first)
		if err != nil {
			return err
		}
		if !more {
			break
		}
		k, err := s.key()
		if err != nil {
			return err
		}
		switch string(k) {
		case "timestamp":
			v, err := s.str()
			if err != nil {
				return &fieldError{"timestamp", err}
			}
			if ev.Time, err = s.times.parse(v); err != nil {
				return &fieldError{"timestamp", err}
			}
			hasTime = true
		case "src_ip", "dest_ip":
			if a, n, ok := quotedIPv4(s.b[s.i:]); ok {
				// The common case, read in one go: "a.b.c.d".
				s.i += n
				ev.addAddrValue(a)
				continue
			}
			v, err := s.strOrSkip()
			if err != nil {
				return &fieldError{string(k), err}
			}
			if v != nil {
				ev.addAddr(v)
			}
		case "dns":
			err = eveDNS(s, ev)
		case "http":
			err = eveHTTP(s, ev)
		case "tls":
			err = eveObject(s, ev, "tls", func(k []byte) (Kind, bool) { return Domain, string(k) == "sni" })
		case "fileinfo":
			err = eveObject(s, ev, "fileinfo", hashField)
		case "smtp":
			err = eveSMTP(s, ev)
		default:
			err = s.skip()
		}
		if err != nil {
			return err
		}
	}
	if !hasTime {
		return missingError("timestamp")
	}
	return nil
}

func hashField(k []byte) (Kind, bool) {
	switch string(k) {
	case "md5":
		return MD5, true
	case "sha1":
		return SHA1, true
	case "sha256":
		return SHA256, true
	}
	return 0, false
}

// eveObject reads an object whose string members pick names as values
// of a kind.
func eveObject(s *scanner, ev *Event, name string, pick func([]byte) (Kind, bool)) error {
	if s.peek() != '{' {
		return s.skip()
	}
	if err := s.open('{'); err != nil {
		return err
	}
	for first := true; ; first = false {
		more, err := s.next('}', first)
		if err != nil || !more {
			return err
		}
		k, err := s.key()
		if err != nil {
			return err
		}
		kind, ok := pick(k)
		if !ok {
			if err := s.skip(); err != nil {
				return err
			}
			continue
		}
		v, err := s.strOrSkip()
		if err != nil {
			return &fieldError{name + "." + string(k), err}
		}
		if v != nil {
			ev.addText(kind, v, &s.scratch)
		}
	}
}

// addrOrDomain adds a DNS answer: an address, else a name.
func addrOrDomain(ev *Event, v []byte, scratch *[]byte) {
	if !ev.addAddr(v) {
		ev.addDomain(v, scratch)
	}
}

func eveDNS(s *scanner, ev *Event) error {
	if s.peek() != '{' {
		return s.skip()
	}
	if err := s.open('{'); err != nil {
		return err
	}
	for first := true; ; first = false {
		more, err := s.next('}', first)
		if err != nil || !more {
			return err
		}
		k, err := s.key()
		if err != nil {
			return err
		}
		switch string(k) {
		case "rrname":
			v, err := s.strOrSkip()
			if err != nil {
				return &fieldError{"dns.rrname", err}
			}
			ev.addDomain(v, &s.scratch)
		case "rdata":
			v, err := s.strOrSkip()
			if err != nil {
				return &fieldError{"dns.rdata", err}
			}
			if v != nil {
				addrOrDomain(ev, v, &s.scratch)
			}
		case "answers":
			// Lists of records: {"rrname": ..., "rrtype": ..., "rdata": ...}.
			// (The field names are constants: a name built here would be
			// allocated on every line.)
			err = eveRecords(s, ev, "dns.answers")
		case "queries":
			err = eveRecords(s, ev, "dns.queries")
		case "authorities":
			err = eveRecords(s, ev, "dns.authorities")
		case "grouped":
			err = eveGrouped(s, ev)
		default:
			err = s.skip()
		}
		if err != nil {
			return err
		}
	}
}

func eveRecords(s *scanner, ev *Event, field string) error {
	if s.peek() != '[' {
		return s.skip()
	}
	if err := s.open('['); err != nil {
		return err
	}
	for first := true; ; first = false {
		more, err := s.next(']', first)
		if err != nil || !more {
			return err
		}
		if s.peek() != '{' {
			if err := s.skip(); err != nil {
				return err
			}
			continue
		}
		if err := s.open('{'); err != nil {
			return err
		}
		for f := true; ; f = false {
			more, err := s.next('}', f)
			if err != nil {
				return err
			}
			if !more {
				break
			}
			k, err := s.key()
			if err != nil {
				return err
			}
			switch string(k) {
			case "rrname", "rdata":
				v, err := s.strOrSkip()
				if err != nil {
					return &fieldError{field + "." + string(k), err}
				}
				if v != nil {
					addrOrDomain(ev, v, &s.scratch)
				}
			default:
				if err := s.skip(); err != nil {
					return err
				}
			}
		}
	}
}

func eveGrouped(s *scanner, ev *Event) error {
	if s.peek() != '{' {
		return s.skip()
	}
	if err := s.open('{'); err != nil {
		return err
	}
	for first := true; ; first = false {
		more, err := s.next('}', first)
		if err != nil || !more {
			return err
		}
		k, err := s.key()
		if err != nil {
			return err
		}
		switch string(k) {
		case "A", "AAAA":
			err = s.strList(func(v []byte) { ev.addAddr(v) })
		case "CNAME", "NS", "PTR", "MX":
			err = s.strList(func(v []byte) { ev.addDomain(v, &s.scratch) })
		default:
			err = s.skip()
		}
		if err != nil {
			return &fieldError{"dns.grouped." + string(k), err}
		}
	}
}

func eveHTTP(s *scanner, ev *Event) error {
	if s.peek() != '{' {
		return s.skip()
	}
	if err := s.open('{'); err != nil {
		return err
	}
	var host, uri []byte
	for first := true; ; first = false {
		more, err := s.next('}', first)
		if err != nil {
			return err
		}
		if !more {
			break
		}
		k, err := s.key()
		if err != nil {
			return err
		}
		switch string(k) {
		case "hostname":
			if host, err = s.strOrSkip(); err != nil {
				return &fieldError{"http.hostname", err}
			}
		case "url":
			if uri, err = s.strOrSkip(); err != nil {
				return &fieldError{"http.url", err}
			}
		default:
			if err := s.skip(); err != nil {
				return err
			}
		}
	}
	addHTTP(ev, host, uri, &s.scratch)
	return nil
}

// addHTTP adds the host (an address or a domain) and the URL
// http://host + uri; an absolute uri (a proxy request) is the URL itself.
func addHTTP(ev *Event, host, uri []byte, scratch *[]byte) {
	if len(host) > 0 && !ev.addAddr(host) {
		ev.addDomain(host, scratch)
	}
	switch {
	case bytes.HasPrefix(uri, []byte("http://")) || bytes.HasPrefix(uri, []byte("https://")):
		ev.Values = append(ev.Values, Value{Kind: URL, Text: uri})
	case len(host) > 0:
		at := len(*scratch)
		*scratch = append(*scratch, "http://"...)
		*scratch = append(*scratch, host...)
		*scratch = append(*scratch, uri...)
		ev.Values = append(ev.Values, Value{Kind: URL, Text: (*scratch)[at:]})
	}
}

// addEmail adds an address written as in SMTP (<user@host>).
func addEmail(ev *Event, v []byte) {
	v = bytes.TrimSpace(v)
	if len(v) > 1 && v[0] == '<' && v[len(v)-1] == '>' {
		v = v[1 : len(v)-1]
	}
	if bytes.IndexByte(v, '@') > 0 {
		ev.Values = append(ev.Values, Value{Kind: Email, Text: v})
	}
}

func eveSMTP(s *scanner, ev *Event) error {
	if s.peek() != '{' {
		return s.skip()
	}
	if err := s.open('{'); err != nil {
		return err
	}
	for first := true; ; first = false {
		more, err := s.next('}', first)
		if err != nil || !more {
			return err
		}
		k, err := s.key()
		if err != nil {
			return err
		}
		switch string(k) {
		case "mail_from", "rcpt_to":
			err = s.strList(func(v []byte) { addEmail(ev, v) })
		default:
			err = s.skip()
		}
		if err != nil {
			return &fieldError{"smtp." + string(k), err}
		}
	}
}

type zeekFormat struct{}

func (zeekFormat) Name() string { return "zeek" }

func (zeekFormat) parse(s *scanner, ev *Event) error {
	if err := s.open('{'); err != nil {
		return err
	}
	hasTime := false
	var host, uri []byte
	for first := true; ; first = false {
		more, err := s.next('}', first)
		if err != nil {
			return err
		}
		if !more {
			break
		}
		k, err := s.key()
		if err != nil {
			return err
		}
		switch string(k) { // (a string kept from k would be allocated on every member)
		case "ts":
			var v []byte
			if s.isStr() {
				v, err = s.str()
			} else {
				v, err = s.num()
			}
			if err == nil {
				ev.Time, err = s.times.parse(v)
			}
			hasTime = err == nil
		case "id.orig_h", "id.resp_h", "tx_hosts", "rx_hosts":
			err = s.strList(func(v []byte) { ev.addAddr(v) })
		case "id":
			err = eveObject(s, ev, "id", func(k []byte) (Kind, bool) {
				return IPv4, string(k) == "orig_h" || string(k) == "resp_h"
			})
		case "query", "server_name":
			err = s.strList(func(v []byte) { ev.addDomain(v, &s.scratch) })
		case "answers":
			err = s.strList(func(v []byte) { addrOrDomain(ev, v, &s.scratch) })
		case "host":
			host, err = s.strOrSkip()
		case "uri":
			uri, err = s.strOrSkip()
		case "md5", "sha1", "sha256":
			kind, _ := hashField(k)
			err = s.strList(func(v []byte) { ev.addText(kind, v, &s.scratch) })
		case "mailfrom", "rcptto":
			err = s.strList(func(v []byte) { addEmail(ev, v) })
		default:
			err = s.skip()
		}
		if err != nil {
			return &fieldError{string(k), err}
		}
	}
	if !hasTime {
		return missingError("ts")
	}
	addHTTP(ev, host, uri, &s.scratch)
	return nil
}

// Mapping says where a generic JSON line keeps its values: Time names
// the timestamp's field (RFC 3339 or seconds since 1970), Fields maps
// field paths to kinds. A path is a member name, or names joined by dots
// to reach into nested objects (a member whose own name holds a dot,
// as Zeek writes id.orig_h, is found too). A field may hold one string
// or a list of strings.
type Mapping struct {
	Time   string
	Fields map[string]Kind
}

// NewGeneric returns the format of JSON lines laid out as m says.
func NewGeneric(m Mapping) (Format, error) {
	if m.Time == "" {
		return nil, fmt.Errorf("generic JSON mapping: the time field is required")
	}
	if len(m.Fields) == 0 {
		return nil, fmt.Errorf("generic JSON mapping: no field is mapped to a kind")
	}
	g := &generic{time: m.Time}
	for p, k := range m.Fields {
		if p == "" || strings.HasPrefix(p, ".") || strings.HasSuffix(p, ".") {
			return nil, fmt.Errorf("generic JSON mapping: field %q: not a field path", p)
		}
		if k < IPv4 || k >= NumKinds {
			return nil, fmt.Errorf("generic JSON mapping: field %q: unknown kind %d", p, k)
		}
		g.fields = append(g.fields, genField{p, k})
	}
	g.fields = append(g.fields, genField{m.Time, 0})
	return g, nil
}

type genField struct {
	path string
	kind Kind // 0: the time
}

type generic struct {
	time   string
	fields []genField
}

func (*generic) Name() string { return "json" }

func (g *generic) parse(s *scanner, ev *Event) error {
	hasTime := false
	var path [128]byte // the paths of nested objects, built here (longer ones allocate)
	if err := g.walk(s, ev, path[:0], &hasTime); err != nil {
		return err
	}
	if !hasTime {
		return missingError(g.time)
	}
	return nil
}

// walk reads an object whose members have the path prefix.
func (g *generic) walk(s *scanner, ev *Event, prefix []byte, hasTime *bool) error {
	if err := s.open('{'); err != nil {
		return err
	}
	for first := true; ; first = false {
		more, err := s.next('}', first)
		if err != nil || !more {
			return err
		}
		k, err := s.key()
		if err != nil {
			return err
		}
		// The member's path is prefix + k; it is compared piecewise, not
		// built (a string built here would be allocated on every member).
		taken, descend := false, false
		for _, f := range g.fields {
			if end := len(prefix) + len(k); len(f.path) < end || f.path[:len(prefix)] != string(prefix) || f.path[len(prefix):end] != string(k) {
				continue
			}
			rest := f.path[len(prefix)+len(k):]
			if rest == "" {
				taken = true
				if f.kind == 0 {
					var v []byte
					if s.isStr() {
						v, err = s.str()
					} else {
						v, err = s.num()
					}
					if err == nil {
						ev.Time, err = s.times.parse(v)
					}
					*hasTime = err == nil
				} else {
					kind := f.kind
					err = s.strList(func(v []byte) { ev.addText(kind, v, &s.scratch) })
				}
				if err != nil {
					return &fieldError{string(prefix) + string(k), err}
				}
				break
			}
			if rest[0] == '.' {
				descend = true
			}
		}
		switch {
		case taken:
		case descend && s.peek() == '{':
			if err := g.walk(s, ev, append(append(prefix, k...), '.'), hasTime); err != nil {
				return err
			}
		default:
			if err := s.skip(); err != nil {
				return err
			}
		}
	}
}

// Detect guesses the format of a log from one of its lines: Suricata
// EVE has event_type, Zeek has uid or id.orig_h; nil when neither.
func Detect(line []byte) Format {
	switch {
	case bytes.Contains(line, []byte(`"event_type"`)):
		return EVE
	case bytes.Contains(line, []byte(`"uid"`)), bytes.Contains(line, []byte(`"id.orig_h"`)), bytes.Contains(line, []byte(`"ts"`)):
		return Zeek
	}
	return nil
}
