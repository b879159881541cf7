// Package telemetry reads network telemetry — Zeek JSON logs, Suricata
// EVE JSON and generic JSON lines — and turns each line into an Event:
// a timestamp and the observable values that STIX indicators test
// (IPv4 and IPv6 addresses, domain names, URLs, email addresses, file
// hashes).
//
// Readers stream: memory does not grow with the input, a malformed line
// is counted and skipped, never fatal, and the values of an event are
// slices of the reader's buffer, valid until the next line is read. The
// package must not match, store or send anything: it only reads.
package telemetry

import (
	"bytes"
	"net/netip"
	"strconv"
	"time"
	"unicode/utf8"
)

// Kind is the kind of an observable value, named after the STIX
// cyber-observable object (and hash algorithm) that carries it.
type Kind uint8

// The kinds of values an event can carry.
const (
	IPv4   Kind = iota + 1 // ipv4-addr:value
	IPv6                   // ipv6-addr:value
	Domain                 // domain-name:value, lower case, no trailing dot
	URL                    // url:value
	Email                  // email-addr:value
	MD5                    // file:hashes.MD5, lower-case hex
	SHA1                   // file:hashes.'SHA-1'
	SHA256                 // file:hashes.'SHA-256'
	SHA512                 // file:hashes.'SHA-512'
	NumKinds
)

var kindNames = [...]string{IPv4: "ipv4", IPv6: "ipv6", Domain: "domain", URL: "url", Email: "email",
	MD5: "md5", SHA1: "sha1", SHA256: "sha256", SHA512: "sha512"}

// String is the kind's short name, as the generic reader's mapping
// spells it.
func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// ParseKind reads a kind's short name (ipv4, ip, domain, url, email,
// md5, sha1, sha256, sha512); ip stands for IPv4 or IPv6 as the value
// says, returned as IPv4.
func ParseKind(s string) (Kind, bool) {
	if s == "ip" {
		return IPv4, true
	}
	for k, n := range kindNames {
		if n != "" && n == s {
			return Kind(k), true
		}
	}
	return 0, false
}

// HashKey is the STIX hashes key of a hash kind ("" for other kinds).
func (k Kind) HashKey() string {
	switch k {
	case MD5:
		return "MD5"
	case SHA1:
		return "SHA-1"
	case SHA256:
		return "SHA-256"
	case SHA512:
		return "SHA-512"
	}
	return ""
}

// Value is one observable value of an event. Addr holds addresses
// (IPv4, IPv6; an IPv4-mapped IPv6 address is read as IPv4), Text
// everything else; Text is a slice of the reader's buffer, valid until
// the next line.
type Value struct {
	Kind Kind
	Addr netip.Addr
	Text []byte
}

// String is the value as text (it allocates).
func (v Value) String() string {
	if v.Kind == IPv4 || v.Kind == IPv6 {
		return v.Addr.String()
	}
	return string(v.Text)
}

// Event is one line of telemetry: when it happened and what it names.
type Event struct {
	Time   time.Time
	Values []Value
}

// reset empties the event, keeping its storage.
func (e *Event) reset() {
	e.Time = time.Time{}
	e.Values = e.Values[:0]
}

// addAddr adds an address given as text; text that is not an address is
// ignored (Zeek's DNS answers mix names and addresses).
func (e *Event) addAddr(b []byte) bool {
	a, ok := parseAddr(b)
	if !ok {
		return false
	}
	e.addAddrValue(a)
	return true
}

// addAddrValue adds an address unless the event has it already.
func (e *Event) addAddrValue(a netip.Addr) {
	k := IPv6
	if a.Is4() {
		k = IPv4
	}
	for _, v := range e.Values {
		if v.Kind == k && v.Addr == a {
			return
		}
	}
	e.Values = append(e.Values, Value{Kind: k, Addr: a})
}

// quotedIPv4 reads a JSON string that is a plain IPv4 address, "a.b.c.d"
// without escapes, and says how many bytes it took; not ok for anything
// else, which the general path then reads. It reads the digits as it
// finds them, in one pass (parseIPv4's rules: one to three digits an
// octet, no leading zero, at most 255).
func quotedIPv4(b []byte) (netip.Addr, int, bool) {
	if len(b) < 9 || b[0] != '"' {
		return netip.Addr{}, 0, false
	}
	var v uint32
	i := 1
	for part := 0; ; part++ {
		if i >= len(b) || b[i]-'0' > 9 {
			return netip.Addr{}, 0, false
		}
		n := uint32(b[i] - '0')
		i++
		if n != 0 { // a leading 0 is the whole octet
			for k := 0; k < 2 && i < len(b) && b[i]-'0' <= 9; k++ {
				n = n*10 + uint32(b[i]-'0')
				i++
			}
			if n > 255 {
				return netip.Addr{}, 0, false
			}
		}
		v = v<<8 | n
		if i >= len(b) {
			return netip.Addr{}, 0, false
		}
		if part == 3 {
			if b[i] != '"' {
				return netip.Addr{}, 0, false
			}
			return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), i + 1, true
		}
		if b[i] != '.' {
			return netip.Addr{}, 0, false
		}
		i++
	}
}

// addDomain adds a domain name, lower case and without a trailing dot.
// Empty names, names with spaces or slashes and names that are not
// UTF-8 are ignored.
func (e *Event) addDomain(b []byte, scratch *[]byte) {
	if len(b) > 0 && b[len(b)-1] == '.' {
		b = b[:len(b)-1]
	}
	if len(b) == 0 || len(b) > 253 {
		return
	}
	// One pass: refuse spaces and slashes, note upper case and bytes
	// beyond ASCII (which must then be UTF-8).
	up, high := false, false
	for _, c := range b {
		switch {
		case c == ' ' || c == '/' || c == '\t':
			return
		case c >= 0x80:
			high = true
		case c >= 'A' && c <= 'Z':
			up = true
		}
	}
	if high && !utf8.Valid(b) {
		return
	}
	if up {
		b = lower(b, scratch)
	}
	e.addUnique(Domain, b)
}

// addUnique adds a text value unless the event has it already (DNS
// answers repeat the name asked).
func (e *Event) addUnique(k Kind, b []byte) {
	for _, v := range e.Values {
		if v.Kind == k && bytes.Equal(v.Text, b) {
			return
		}
	}
	e.Values = append(e.Values, Value{Kind: k, Text: b})
}

// addText adds a value of any text kind: domains and hashes are
// lowered, addresses parsed.
func (e *Event) addText(k Kind, b []byte, scratch *[]byte) {
	switch k {
	case IPv4, IPv6:
		e.addAddr(b)
	case Domain:
		e.addDomain(b, scratch)
	case MD5, SHA1, SHA256, SHA512:
		if len(b) > 0 {
			e.addUnique(k, lower(b, scratch))
		}
	default:
		if len(b) > 0 {
			e.addUnique(k, b)
		}
	}
}

// lower returns b in lower case (ASCII), copying into scratch only when
// b has an upper-case letter.
func lower(b []byte, scratch *[]byte) []byte {
	up := false
	for _, c := range b {
		if c >= 'A' && c <= 'Z' {
			up = true
			break
		}
	}
	if !up {
		return b
	}
	at := len(*scratch)
	for _, c := range b {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		*scratch = append(*scratch, c)
	}
	return (*scratch)[at:]
}

// parseAddr reads an IPv4 or IPv6 address without allocating for IPv4;
// IPv4-mapped IPv6 addresses are unmapped; zones are refused.
func parseAddr(b []byte) (netip.Addr, bool) {
	if a, ok := parseIPv4(b); ok {
		return a, true
	}
	if len(b) < 2 || len(b) > 45 || bytes.IndexByte(b, ':') < 0 || bytes.IndexByte(b, '%') >= 0 {
		return netip.Addr{}, false
	}
	a, ok := parseIPv6(b)
	return a.Unmap(), ok
}

// parseIPv6 reads an IPv6 address without a zone as netip.ParseAddr
// does (the same rules, followed line by line), without allocating: a
// string made of b for netip would be, since its error keeps it.
func parseIPv6(s []byte) (netip.Addr, bool) {
	var ip [16]byte
	ellipsis := -1 // position of the ellipsis in ip
	if len(s) >= 2 && s[0] == ':' && s[1] == ':' {
		ellipsis = 0
		s = s[2:]
		if len(s) == 0 {
			return netip.IPv6Unspecified(), true
		}
	}
	i := 0
	for i < 16 {
		off := 0
		acc := uint32(0)
		for ; off < len(s); off++ {
			c := s[off]
			switch {
			case c >= '0' && c <= '9':
				acc = acc<<4 + uint32(c-'0')
			case c >= 'a' && c <= 'f':
				acc = acc<<4 + uint32(c-'a'+10)
			case c >= 'A' && c <= 'F':
				acc = acc<<4 + uint32(c-'A'+10)
			default:
				goto end
			}
			if off > 3 || acc > 0xffff {
				return netip.Addr{}, false
			}
		}
	end:
		if off == 0 {
			return netip.Addr{}, false
		}
		if off < len(s) && s[off] == '.' {
			// An IPv4 address in the last 32 bits.
			if ellipsis < 0 && i != 12 || i+4 > 16 {
				return netip.Addr{}, false
			}
			a, ok := parseIPv4(s)
			if !ok {
				return netip.Addr{}, false
			}
			v4 := a.As4()
			copy(ip[i:], v4[:])
			s = nil
			i += 4
			break
		}
		ip[i], ip[i+1] = byte(acc>>8), byte(acc)
		i += 2
		s = s[off:]
		if len(s) == 0 {
			break
		}
		if s[0] != ':' || len(s) == 1 {
			return netip.Addr{}, false
		}
		s = s[1:]
		if s[0] == ':' {
			if ellipsis >= 0 {
				return netip.Addr{}, false
			}
			ellipsis = i
			s = s[1:]
			if len(s) == 0 {
				break
			}
		}
	}
	if len(s) != 0 {
		return netip.Addr{}, false
	}
	if i < 16 {
		if ellipsis < 0 {
			return netip.Addr{}, false
		}
		n := 16 - i
		for j := i - 1; j >= ellipsis; j-- {
			ip[j+n] = ip[j]
		}
		clear(ip[ellipsis : ellipsis+n])
	} else if ellipsis >= 0 {
		return netip.Addr{}, false
	}
	return netip.AddrFrom16(ip), true
}

func parseIPv4(b []byte) (netip.Addr, bool) {
	var out [4]byte
	i := 0
	for part := range 4 {
		if part > 0 {
			if i >= len(b) || b[i] != '.' {
				return netip.Addr{}, false
			}
			i++
		}
		start, val := i, 0
		for i < len(b) && i-start < 3 {
			d := b[i] - '0'
			if d > 9 {
				break
			}
			val = val*10 + int(d)
			i++
		}
		switch n := i - start; {
		case n == 0, val > 255, n > 1 && b[start] == '0': // empty, too big, leading zero
			return netip.Addr{}, false
		}
		out[part] = byte(val)
	}
	if i != len(b) {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4(out), true
}
