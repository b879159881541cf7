package workflow

import (
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/pattern"
	"github.com/parleyhq/parley/internal/stix"
)

// Limits of the indicator lines of a filing.
const (
	MaxIndicators = 1000 // lines
	MaxLine       = 4096 // bytes of one indicator line
)

// IndicatorLine is one indicator line turned into a STIX pattern.
type IndicatorLine struct {
	Line    int // from 1
	Pattern string
	Name    string // the value, as the indicator's name
}

// ParseIndicators turns indicator lines into STIX patterns, one a line: an
// IPv4 or IPv6 address, a network (CIDR), a domain, a URL, an e-mail
// address, an MD5, SHA-1, SHA-256 or SHA-512 hash, or a STIX pattern in
// brackets. Empty lines and lines starting with # are skipped, and so is a
// line giving a pattern an earlier one gave. Every pattern passes
// pattern.Check. The refusal (field "indicators") names the first line
// refused and why.
func ParseIndicators(text string) ([]IndicatorLine, *dialogue.FieldError) {
	var out []IndicatorLine
	seen := map[string]bool{}
	for i, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		v := strings.TrimSpace(line)
		if v == "" || strings.HasPrefix(v, "#") {
			continue
		}
		if len(out) == MaxIndicators {
			return nil, &dialogue.FieldError{Field: "indicators", Reason: "more than %d; file the rest in another report.", Args: []any{MaxIndicators}}
		}
		if len(v) > MaxLine {
			return nil, &dialogue.FieldError{Field: "indicators", Reason: "line %d: %d bytes; at most %d.", Args: []any{i + 1, len(v), MaxLine}}
		}
		pat, name, reason, args := indicatorPattern(v)
		if reason == "" {
			if err := pattern.Check(pat); err != nil {
				reason, args = "not a valid STIX pattern: %s", []any{dialogue.Message(err)}
			}
		}
		if reason != "" {
			return nil, &dialogue.FieldError{Field: "indicators", Reason: "line %d (%s): " + reason, Args: append([]any{i + 1, shortValue(v)}, args...)}
		}
		if seen[pat] {
			continue
		}
		seen[pat] = true
		out = append(out, IndicatorLine{Line: i + 1, Pattern: pat, Name: name})
	}
	return out, nil
}

// shortValue is a value cut to 60 characters, for refusals and names.
func shortValue(v string) string {
	if utf8.RuneCountInString(v) <= 60 {
		return v
	}
	return string([]rune(v)[:60]) + "…"
}

// stixString quotes s as a STIX pattern string literal.
func stixString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// hashKeys are the STIX hash names by the length of their hex digits.
var hashKeys = map[int]string{32: "MD5", 40: "'SHA-1'", 64: "'SHA-256'", 128: "'SHA-512'"}

// indicatorPattern is the STIX pattern of one indicator line and the
// indicator's name, or the reason (a catalogue key) the line is refused
// and its arguments. A pattern in brackets is returned as given, for
// ParseIndicators to check.
func indicatorPattern(v string) (pat, name, reason string, args []any) {
	if strings.HasPrefix(v, "[") {
		return v, shortValue(v), "", nil
	}
	if a, err := netip.ParseAddr(v); err == nil {
		if a.Zone() != "" {
			return "", "", "an address with a zone names no host elsewhere", nil
		}
		typ := "ipv4-addr"
		if a.Is6() {
			typ = "ipv6-addr"
		}
		return "[" + typ + ":value = " + stixString(a.String()) + "]", a.String(), "", nil
	}
	if p, err := netip.ParsePrefix(v); err == nil {
		if p != p.Masked() {
			return "", "", "not a network address: did you mean %s?", []any{p.Masked().String()}
		}
		typ := "ipv4-addr"
		if p.Addr().Is6() {
			typ = "ipv6-addr"
		}
		return "[" + typ + ":value ISSUBSET " + stixString(p.String()) + "]", p.String(), "", nil
	}
	if strings.Contains(v, "://") {
		pu, err := url.Parse(v)
		if err != nil || pu.Scheme == "" || pu.Host == "" || strings.ContainsAny(v, " \t") {
			return "", "", "not a URL: want scheme://host/path", nil
		}
		return "[url:value = " + stixString(v) + "]", v, "", nil
	}
	if key, ok := hashKeys[len(v)]; ok && isHex(v) {
		h := strings.ToLower(v)
		return "[file:hashes." + key + " = " + stixString(h) + "]", h, "", nil
	}
	if local, domain, ok := strings.Cut(v, "@"); ok {
		if local == "" || strings.ContainsAny(local, " \t'\\\"") || !isDomain(strings.ToLower(domain)) {
			return "", "", "not an e-mail address: want name@domain", nil
		}
		return "[email-addr:value = " + stixString(local+"@"+strings.ToLower(domain)) + "]", v, "", nil
	}
	d := strings.TrimSuffix(strings.ToLower(v), ".")
	if isDomain(d) {
		return "[domain-name:value = " + stixString(d) + "]", d, "", nil
	}
	return "", "", "not an IP address, network, domain, URL, e-mail address, hash (MD5, SHA-1, SHA-256, SHA-512) or STIX pattern in brackets", nil
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// isDomain reports whether d (lower case) is a domain name of two labels
// or more: letters, digits and hyphens (an internationalised name in its
// xn-- form), a top-level label that is not all digits.
func isDomain(d string) bool {
	if len(d) > 253 {
		return false
	}
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return false
	}
	for _, lb := range labels {
		if lb == "" || len(lb) > 63 || lb[0] == '-' || lb[len(lb)-1] == '-' {
			return false
		}
		for i := 0; i < len(lb); i++ {
			c := lb[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	tld := labels[len(labels)-1]
	return strings.Trim(tld, "0123456789") != ""
}

// indicatorObject is the STIX indicator of an indicator line, created at
// ts.
func indicatorObject(l IndicatorLine, ts string) map[string]any {
	// A description as well as a name: the OASIS validator's best
	// practice for indicators (code 303), which some consumers require.
	return map[string]any{"type": "indicator", "spec_version": "2.1", "id": stix.NewID("indicator"),
		"created": ts, "modified": ts, "name": l.Name, "indicator_types": []string{"malicious-activity"},
		"description": fmt.Sprintf("%s: indicator line %d of an incident report filed with Parley.", l.Name, l.Line),
		"pattern":     l.Pattern, "pattern_type": "stix", "pattern_version": "2.1", "valid_from": ts}
}
