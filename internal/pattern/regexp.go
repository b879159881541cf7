package pattern

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dlclark/regexp2/v2"
)

// MATCHES takes a PCRE regular expression (STIX 2.1 section 9.6.1). Two
// engines run it:
//
//   - Go's regexp (RE2: linear time, no limit needed) when the expression
//     keeps to a subset whose meaning is the same in PCRE and in RE2; see
//     re2Form;
//   - otherwise regexp2, a backtracking engine in its default (.NET)
//     mode, which has look-around, back-references, atomic groups,
//     possessive quantifiers and PCRE's \Z and $. Backtracking can take
//     exponential time, so each match is bounded by Options.RegexTimeout
//     (and by regexp2's backtracking stack limit); past it Match returns
//     an error wrapping ErrRegexLimit.
//
// Both engines read \d as any Unicode decimal digit (\p{Nd}); on the
// regexp2 path \w, \s and \b are Unicode too, as PCRE's with its UCP
// option.

// DefaultRegexTimeout is how long one MATCHES may run on one value on
// the backtracking engine when Options.RegexTimeout is not set. Ordinary
// expressions take microseconds; regexp2 checks its clock about every
// 100 ms and allows one period more, so a match gives up 100 to 200 ms
// after the timeout.
const DefaultRegexTimeout = 100 * time.Millisecond

// ErrRegexLimit is returned (wrapped, with kind too large) by Match when
// a MATCHES expression ran past its time limit (Options.RegexTimeout) or
// past the backtracking engine's stack limit on a value: the value could
// not be judged.
var ErrRegexLimit = errors.New("the MATCHES regular expression ran past its limit")

// Options tunes Compile. The zero value gives what Compile does.
type Options struct {
	// Version is the STIX version whose grammar applies (V21 when zero).
	Version Version
	// RegexTimeout bounds the time one MATCHES takes on one value when
	// the expression needs the backtracking engine; zero or less means
	// DefaultRegexTimeout.
	RegexTimeout time.Duration
}

// Compile is the package's Compile with these options.
func (o Options) Compile(pattern string) (*Pattern, error) { return compile(pattern, o) }

func (o Options) regexTimeout() time.Duration {
	if o.RegexTimeout <= 0 {
		return DefaultRegexTimeout
	}
	return o.RegexTimeout
}

// regex is a compiled MATCHES (or LIKE) expression: exactly one of re2
// and bt is set.
type regex struct {
	re2 *regexp.Regexp
	bt  *regexp2.Regexp
}

func (x *regex) match(s string) (bool, error) {
	if x.re2 != nil {
		return x.re2.MatchString(s), nil
	}
	ok, err := x.bt.MatchString(s)
	if err != nil {
		// regexp2's message quotes the whole value: leave it out.
		reason := fmt.Sprintf("it took more than %v", x.bt.MatchTimeout)
		if errors.Is(err, regexp2.ErrBacktrackingStackLimit) {
			reason = "it needed more backtracking than allowed"
		}
		return false, fmt.Errorf("%w: MATCHES %s gave up on a value of %d characters (%s)",
			ErrRegexLimit, quote(x.bt.String()), utf8.RuneCountInString(s), reason)
	}
	return ok, nil
}

// posixClass finds a POSIX class such as [:alpha:], which PCRE and RE2
// read inside a character class and regexp2's default mode does not.
var posixClass = regexp.MustCompile(`\[:\^?[a-z]+:\]`)

// compileMatches compiles the (NFC-normalised) expression of a MATCHES
// literal l.
func compileMatches(l *Literal, pat string, o *Options) (*regex, *SyntaxError) {
	if form, ok := re2Form(pat); ok {
		if re, err := regexp.Compile(form); err == nil {
			return &regex{re2: re}, nil
		}
		// RE2 refuses some valid PCRE (a repeat count over 1000, say):
		// the backtracking engine decides.
	}
	if m := posixClass.FindString(pat); m != "" {
		return nil, errAt(l.At, "MATCHES %s uses the POSIX class %s together with syntax only the backtracking engine runs, which does not know POSIX classes: write the class out (such as [a-zA-Z] for [:alpha:])", l, m)
	}
	re, err := regexp2.Compile(forRegexp2(pat), regexp2.None)
	if err != nil {
		msg := strings.TrimPrefix(err.Error(), "error parsing regexp: ")
		msg = strings.TrimSuffix(msg, " in `"+pat+"`")
		return nil, errAt(l.At, "MATCHES %s is not a regular expression this node can run (PCRE syntax as .NET and regexp2 read it): %s", l, msg)
	}
	re.MatchTimeout = o.regexTimeout()
	return &regex{bt: re}, nil
}

// forRegexp2 rewrites the PCRE syntax .NET spells differently, outside
// character classes and \Q...\E: the Python-style named group
// (?P<name>...) becomes (?<name>...) and its back-reference (?P=name)
// becomes \k<name>; \_ becomes _ (PCRE reads an escaped
// non-alphanumeric character as itself, .NET refuses \_).
func forRegexp2(pat string) string {
	if !strings.Contains(pat, `(?P`) && !strings.Contains(pat, `\_`) {
		return pat
	}
	var sb strings.Builder
	inClass, classStart := false, 0
	for i := 0; i < len(pat); {
		c := pat[i]
		switch {
		case c == '\\' && strings.HasPrefix(pat[i:], `\Q`):
			end := strings.Index(pat[i+2:], `\E`)
			if end < 0 {
				sb.WriteString(pat[i:])
				return sb.String()
			}
			sb.WriteString(pat[i : i+2+end+2])
			i += 2 + end + 2
		case c == '\\' && i+1 < len(pat):
			if pat[i+1] != '_' {
				sb.WriteByte('\\')
			}
			sb.WriteByte(pat[i+1])
			i += 2
		case inClass:
			if c == ']' && i > classStart {
				inClass = false
			}
			sb.WriteByte(c)
			i++
		case c == '[':
			sb.WriteByte(c)
			i++
			if i < len(pat) && pat[i] == '^' {
				sb.WriteByte('^')
				i++
			}
			inClass, classStart = true, i
		case strings.HasPrefix(pat[i:], "(?P<"):
			sb.WriteString("(?<")
			i += 4
		case strings.HasPrefix(pat[i:], "(?P="):
			end := strings.IndexByte(pat[i:], ')')
			if end < 0 {
				sb.WriteString(pat[i:])
				return sb.String()
			}
			sb.WriteString(`\k<` + pat[i+4:i+end] + ">")
			i += end + 1
		default:
			sb.WriteByte(c)
			i++
		}
	}
	return sb.String()
}

// re2Form returns an RE2 expression that matches a string exactly when
// the PCRE expression pat does, if pat keeps to a subset whose meaning
// is the same in both: literal characters and escaped punctuation, . ^
// | * + ? {n,m} and their lazy forms, groups (...) and (?:...), classes
// [...] and [^...] of characters, ranges and POSIX classes, the escapes
// \t \n \r \f \xhh \A \z, \d and \D (written \p{Nd} and \P{Nd}, as
// regexp2 reads them), (?i) at the very start, and $ as the last
// character (PCRE's $ also matches before a final newline: it becomes
// \n?\z, the same for a yes-or-no match as nothing follows it).
// Anything else (\b \w \s \Z, other flags, look-around, possessive
// quantifiers, $ elsewhere, ...) is left to the backtracking engine,
// whose reading is PCRE's.
func re2Form(pat string) (string, bool) {
	var sb strings.Builder
	sb.Grow(len(pat) + 8)
	inClass, classStart := false, 0
	// repeatable: the last item can take a quantifier (a quantifier after
	// nothing, an anchor or another quantifier is read differently).
	repeatable := false
	i := 0
	if strings.HasPrefix(pat, "(?i)") {
		// Case-insensitive throughout: both fold case with Unicode
		// simple folding (K also matches the Kelvin sign, Σ σ and ς
		// match one another).
		sb.WriteString("(?i)")
		i = 4
	}
	for i < len(pat) {
		c := pat[i]
		if inClass {
			switch c {
			case ']':
				if i == classStart {
					return "", false // a literal ] first: PCRE's reading only
				}
				inClass, repeatable = false, true
				sb.WriteByte(c)
				i++
			case '[':
				m := posixClass.FindStringIndex(pat[i:])
				if m == nil || m[0] != 0 {
					return "", false
				}
				sb.WriteString(pat[i : i+m[1]])
				i += m[1]
			case '\\':
				e, n, ok := sameEscape(pat[i:], true)
				if !ok {
					return "", false
				}
				sb.WriteString(e)
				i += n
			default:
				sb.WriteByte(c)
				i++
			}
			continue
		}
		switch c {
		case '[':
			sb.WriteByte(c)
			i++
			if i < len(pat) && pat[i] == '^' {
				sb.WriteByte('^')
				i++
			}
			inClass, classStart = true, i
		case '(':
			n := 1
			if strings.HasPrefix(pat[i:], "(?:") {
				n = 3
			} else if strings.HasPrefix(pat[i:], "(?") {
				return "", false
			}
			sb.WriteString(pat[i : i+n])
			i += n
			repeatable = false
		case ')':
			sb.WriteByte(c)
			i++
			repeatable = true
		case '|', '^':
			sb.WriteByte(c)
			i++
			repeatable = false
		case '*', '+', '?', '{':
			if !repeatable {
				return "", false
			}
			repeatable = false
			n := 1
			if c == '{' {
				n = repeatLen(pat[i:])
				if n == 0 {
					return "", false // a { that is not a repeat: read differently
				}
			}
			sb.WriteString(pat[i : i+n])
			i += n
			if i < len(pat) && pat[i] == '+' {
				return "", false // possessive
			}
			if i < len(pat) && pat[i] == '?' {
				sb.WriteByte('?')
				i++
			}
		case '$':
			if i != len(pat)-1 {
				return "", false
			}
			sb.WriteString(`(?:\n?\z)`)
			i++
		case '\\':
			e, n, ok := sameEscape(pat[i:], false)
			if !ok {
				return "", false
			}
			sb.WriteString(e)
			i += n
			repeatable = e != `\A` && e != `\z`
		default:
			sb.WriteByte(c)
			i++
			repeatable = true
		}
	}
	if inClass {
		return "", false
	}
	return sb.String(), true
}

// repeatLen is the length of the {n}, {n,} or {n,m} that s starts with,
// or 0. Numbers with a leading zero are left out: RE2 reads {01} as
// literal text, PCRE as a repeat.
func repeatLen(s string) int {
	i := 1
	digits := func() int {
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i-j > 1 && s[j] == '0' {
			return -1
		}
		return i - j
	}
	if digits() <= 0 {
		return 0
	}
	if i < len(s) && s[i] == ',' {
		i++
		if digits() < 0 {
			return 0
		}
	}
	if i < len(s) && s[i] == '}' {
		return i + 1
	}
	return 0
}

// sameEscape reads the escape s starts with (s[0] is the backslash) and
// returns its RE2 form and length, if RE2 reads it as PCRE (and regexp2)
// do.
func sameEscape(s string, inClass bool) (string, int, bool) {
	if len(s) < 2 {
		return "", 0, false
	}
	switch c := s[1]; {
	case c == 'd':
		return `\p{Nd}`, 2, true
	case c == 'D':
		return `\P{Nd}`, 2, true
	case c == 't' || c == 'n' || c == 'r' || c == 'f':
		return s[:2], 2, true
	case (c == 'A' || c == 'z') && !inClass:
		return s[:2], 2, true
	case c == 'x':
		if len(s) >= 4 && isHex(s[2]) && isHex(s[3]) {
			return s[:4], 4, true
		}
		return "", 0, false
	case c < utf8.RuneSelf && !isAlnum(c) && c != ' ' && c >= '!' && c <= '~':
		return s[:2], 2, true // escaped punctuation is the character itself
	}
	return "", 0, false
}

func isHex(c byte) bool {
	_, ok := hexVal(c)
	return ok
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
