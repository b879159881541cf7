package geo

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/parleyhq/parley/internal/dialogue"
)

// Target is an address or a network to look up, as read by ParseTarget.
type Target struct {
	// Prefix is the network; an address is a single-address prefix (/32,
	// /128). Host bits written after a network's address are kept
	// (LookupPrefix masks them).
	Prefix netip.Prefix
	// Network is true when the text was a CIDR ("192.0.2.0/24", and also
	// "192.0.2.1/32"), false for a bare address.
	Network bool
}

// String is the target in canonical form: the address, or the CIDR.
func (t Target) String() string {
	if !t.Network {
		return t.Prefix.Addr().String()
	}
	return t.Prefix.String()
}

// maxTargetLen is longer than any address or CIDR can be written
// (an IPv6 address with an IPv4 tail and a zone stays far below).
const maxTargetLen = 100

// ParseTarget reads an IPv4 or IPv6 address ("192.0.2.1", "2001:db8::1",
// "fe80::1%eth0", whose zone is dropped) or network in CIDR notation
// ("192.0.2.0/24", "2001:db8::/32"), as given on a command line or in an
// indicator.
// Nothing around it is accepted (no spaces, brackets or ports); IPv4
// octets with leading zeros are refused, as they are read as octal by
// some tools. The error (kind invalid) quotes the text and says why.
func ParseTarget(s string) (Target, error) {
	const op = "geo.ParseTarget"
	bad := func(format string, args ...any) (Target, error) {
		return Target{}, dialogue.Errorf(op, dialogue.KindInvalid, "address %s: %s", quote(s), fmt.Sprintf(format, args...))
	}
	switch {
	case s == "":
		return bad("it is empty")
	case len(s) > maxTargetLen:
		return bad("it is %d characters long; no address or network is longer than %d", len(s), maxTargetLen)
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f || r > 0x7e {
			return bad("it contains %q; an address has no spaces or other characters than digits, letters, '.', ':', '/' and '%%'", r)
		}
	}
	addrText, bitsText, isNetwork := strings.Cut(s, "/")
	addr, err := netip.ParseAddr(addrText)
	if err != nil {
		return bad("%s", addrReason(err))
	}
	if !isNetwork {
		return Target{Prefix: netip.PrefixFrom(addr, addr.BitLen())}, nil
	}
	if addr.Zone() != "" {
		return bad("a network cannot have a zone (%%%s)", addr.Zone())
	}
	if bitsText == "" {
		return bad("no prefix length after '/'")
	}
	bits, err := strconv.Atoi(bitsText)
	if err != nil || bitsText[0] == '+' || bitsText[0] == '-' || (len(bitsText) > 1 && bitsText[0] == '0') {
		return bad("prefix length %q is not a number from 0 to %d without leading zeros", bitsText, addr.BitLen())
	}
	if bits > addr.BitLen() {
		return bad("prefix length %d is more than the %d bits of an IPv%d address", bits, addr.BitLen(), map[int]int{32: 4, 128: 6}[addr.BitLen()])
	}
	return Target{Prefix: netip.PrefixFrom(addr, bits), Network: true}, nil
}

// addrReason is netip's reason without its ParseAddr("…") prefix (the
// caller quotes the text already).
func addrReason(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "): "); i >= 0 && strings.HasPrefix(msg, "ParseAddr(") {
		msg = msg[i+3:]
	}
	return "not an IPv4 or IPv6 address: " + msg
}

// quote is %q of s, cut to its first 40 bytes.
func quote(s string) string {
	if len(s) > 40 {
		return strconv.Quote(s[:40]) + "…"
	}
	return strconv.Quote(s)
}
