package pattern

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// SyntaxError is a pattern that breaks the grammar or one of the rules a
// pattern must follow. Pos is the byte offset in the pattern where the
// problem is; Msg says what is wrong.
type SyntaxError struct {
	Pos int
	Msg string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("position %d: %s", e.Pos, e.Msg) }

func errAt(pos int, format string, args ...any) *SyntaxError {
	return &SyntaxError{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

type tokKind uint8

const (
	tEOF tokKind = iota
	tLBrack
	tRBrack
	tLParen
	tRParen
	tColon
	tDot
	tComma
	tStar
	tEq
	tNe
	tLt
	tLe
	tGt
	tGe
	tIdent // identifier; hyphen says whether it has a '-'
	tString
	tInt
	tFloat
	tBool
	tHex
	tBinary
	tTimestamp
	// keywords
	tAnd
	tOr
	tNot
	tFollowedBy
	tLike
	tMatches
	tIsSuperset
	tIsSubset
	tLast
	tIn
	tStart
	tStop
	tSeconds
	tWithin
	tRepeats
	tTimes
	tExists
)

var keywords = map[string]tokKind{
	"AND": tAnd, "OR": tOr, "NOT": tNot, "FOLLOWEDBY": tFollowedBy, "LIKE": tLike,
	"MATCHES": tMatches, "ISSUPERSET": tIsSuperset, "ISSUBSET": tIsSubset, "LAST": tLast,
	"IN": tIn, "START": tStart, "STOP": tStop, "SECONDS": tSeconds, "WITHIN": tWithin,
	"REPEATS": tRepeats, "TIMES": tTimes, "EXISTS": tExists, "true": tBool, "false": tBool,
}

var punctNames = map[tokKind]string{
	tEOF: "the end of the pattern", tLBrack: "'['", tRBrack: "']'", tLParen: "'('", tRParen: "')'",
	tColon: "':'", tDot: "'.'", tComma: "','", tStar: "'*'", tEq: "'='", tNe: "'!='", tLt: "'<'",
	tLe: "'<='", tGt: "'>'", tGe: "'>='",
}

type token struct {
	kind   tokKind
	pos    int
	text   string // the source text
	hyphen bool   // tIdent with a '-'
	lit    *Literal
	// tooBig marks an integer outside 64 bits or a float outside float64
	// (lit then holds 0): only WITHIN takes such a number; every other
	// place refuses it with errTooBig.
	tooBig bool
}

// errTooBig refuses a number token that does not fit its Go type.
func (t token) errTooBig() error {
	if t.kind == tInt {
		return errAt(t.pos, "integer literal %s is out of range (64 bits)", t.text)
	}
	return errAt(t.pos, "float literal %s is out of range", t.text)
}

// describe names a token for an error message.
func (t token) describe() string {
	if n, ok := punctNames[t.kind]; ok {
		return n
	}
	switch t.kind {
	case tIdent:
		return "identifier '" + t.text + "'"
	case tString, tInt, tFloat, tBool, tHex, tBinary, tTimestamp:
		return t.lit.Kind.String() + " literal " + t.text
	}
	return "keyword " + t.text
}

type lexer struct {
	src string
	pos int
}

func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

func isIdentPart(c byte) bool {
	return isIdentStart(c) || c >= '0' && c <= '9' || c == '-'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// isSpace is the grammar's WS set.
func isSpace(r rune) bool {
	switch r {
	case ' ', '\t', '\r', '\n', '\v', '\f', 0x85, 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000:
		return true
	}
	return r >= 0x2000 && r <= 0x200a
}

// skip passes white space and comments.
func (l *lexer) skip() error {
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case c == '/' && l.pos+1 < len(l.src) && l.src[l.pos+1] == '*':
			end := indexFrom(l.src, "*/", l.pos+2)
			if end < 0 {
				return errAt(l.pos, "comment /* is not closed with */")
			}
			l.pos = end + 2
		case c == '/' && l.pos+1 < len(l.src) && l.src[l.pos+1] == '/':
			for l.pos < len(l.src) && l.src[l.pos] != '\n' && l.src[l.pos] != '\r' {
				l.pos++
			}
		case c < utf8.RuneSelf:
			if !isSpace(rune(c)) {
				return nil
			}
			l.pos++
		default:
			r, n := utf8.DecodeRuneInString(l.src[l.pos:])
			if !isSpace(r) {
				return nil
			}
			l.pos += n
		}
	}
	return nil
}

func indexFrom(s, sub string, from int) int {
	for i := from; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

// next returns the next token.
func (l *lexer) next() (token, error) {
	if err := l.skip(); err != nil {
		return token{}, err
	}
	start := l.pos
	if l.pos >= len(l.src) {
		return token{kind: tEOF, pos: start}, nil
	}
	c := l.src[l.pos]
	one := func(k tokKind) (token, error) {
		l.pos++
		return token{kind: k, pos: start, text: l.src[start:l.pos]}, nil
	}
	two := func(k tokKind) (token, error) {
		l.pos += 2
		return token{kind: k, pos: start, text: l.src[start:l.pos]}, nil
	}
	peek := func(i int) byte {
		if l.pos+i < len(l.src) {
			return l.src[l.pos+i]
		}
		return 0
	}
	switch c {
	case '[':
		return one(tLBrack)
	case ']':
		return one(tRBrack)
	case '(':
		return one(tLParen)
	case ')':
		return one(tRParen)
	case ':':
		return one(tColon)
	case ',':
		return one(tComma)
	case '*':
		return one(tStar)
	case '=':
		if peek(1) == '=' {
			return two(tEq)
		}
		return one(tEq)
	case '!':
		if peek(1) == '=' {
			return two(tNe)
		}
		return token{}, errAt(start, "unexpected '!' (the operator is '!=')")
	case '<':
		switch peek(1) {
		case '=':
			return two(tLe)
		case '>':
			return two(tNe)
		}
		return one(tLt)
	case '>':
		if peek(1) == '=' {
			return two(tGe)
		}
		return one(tGt)
	case '\'':
		s, err := l.stringBody()
		if err != nil {
			return token{}, err
		}
		return token{kind: tString, pos: start, text: l.src[start:l.pos], lit: &Literal{At: start, Kind: StringLit, Str: s}}, nil
	case '.':
		if isDigit(peek(1)) {
			return l.number()
		}
		return one(tDot)
	case '+', '-':
		if isDigit(peek(1)) || peek(1) == '.' && isDigit(peek(2)) {
			return l.number()
		}
		return token{}, errAt(start, "unexpected %q: a sign must be followed by a number", c)
	}
	if isDigit(c) {
		return l.number()
	}
	if peek(1) == '\'' && (c == 'h' || c == 'b' || c == 't') {
		return l.prefixed(c)
	}
	if isIdentStart(c) {
		hyphen := false
		for l.pos < len(l.src) && isIdentPart(l.src[l.pos]) {
			hyphen = hyphen || l.src[l.pos] == '-'
			l.pos++
		}
		text := l.src[start:l.pos]
		if k, ok := keywords[text]; ok {
			t := token{kind: k, pos: start, text: text}
			if k == tBool {
				t.lit = &Literal{At: start, Kind: BoolLit, Bool: text == "true"}
			}
			return t, nil
		}
		return token{kind: tIdent, pos: start, text: text, hyphen: hyphen}, nil
	}
	if c == '"' {
		return token{}, errAt(start, `unexpected '"': string literals are in single quotes`)
	}
	r, _ := utf8.DecodeRuneInString(l.src[l.pos:])
	if r == utf8.RuneError {
		return token{}, errAt(start, "invalid UTF-8")
	}
	return token{}, errAt(start, "unexpected character %q", r)
}

// stringBody reads a quoted string at l.pos: only \' and \\ are escapes.
func (l *lexer) stringBody() (string, error) {
	start := l.pos
	l.pos++ // the quote
	var buf []byte
	runStart := l.pos
	for l.pos < len(l.src) {
		switch c := l.src[l.pos]; c {
		case '\'':
			s := l.src[runStart:l.pos]
			if buf != nil {
				s = string(append(buf, s...))
			}
			l.pos++
			if !utf8.ValidString(s) {
				return "", errAt(start, "string literal is not valid UTF-8")
			}
			return s, nil
		case '\\':
			n := byte(0)
			if l.pos+1 < len(l.src) {
				n = l.src[l.pos+1]
			}
			if n != '\'' && n != '\\' {
				return "", errAt(l.pos, `invalid escape in string literal: only \' and \\ are escapes (write \\ for a backslash)`)
			}
			buf = append(buf, l.src[runStart:l.pos]...)
			buf = append(buf, n)
			l.pos += 2
			runStart = l.pos
		default:
			l.pos++
		}
	}
	return "", errAt(start, "string literal is not closed with '")
}

// number reads an integer or a float: [+-]?(0|[1-9][0-9]*) or
// [+-]?[0-9]*.[0-9]+.
func (l *lexer) number() (token, error) {
	start := l.pos
	if c := l.src[l.pos]; c == '+' || c == '-' {
		l.pos++
	}
	digits := l.pos
	for l.pos < len(l.src) && isDigit(l.src[l.pos]) {
		l.pos++
	}
	intPart := l.src[digits:l.pos]
	if l.pos+1 < len(l.src) && l.src[l.pos] == '.' && isDigit(l.src[l.pos+1]) {
		l.pos++
		for l.pos < len(l.src) && isDigit(l.src[l.pos]) {
			l.pos++
		}
		text := l.src[start:l.pos]
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return token{kind: tFloat, pos: start, text: text, lit: &Literal{At: start, Kind: FloatLit}, tooBig: true}, nil
		}
		return token{kind: tFloat, pos: start, text: text, lit: &Literal{At: start, Kind: FloatLit, Float: f}}, nil
	}
	text := l.src[start:l.pos]
	if len(intPart) > 1 && intPart[0] == '0' {
		return token{}, errAt(start, "integer literal %s has a leading zero", text)
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return token{kind: tInt, pos: start, text: text, lit: &Literal{At: start, Kind: IntLit}, tooBig: true}, nil
	}
	return token{kind: tInt, pos: start, text: text, lit: &Literal{At: start, Kind: IntLit, Int: n}}, nil
}

// prefixed reads h'..', b'..' or t'..'.
func (l *lexer) prefixed(c byte) (token, error) {
	start := l.pos
	l.pos++
	end := indexFrom(l.src, "'", l.pos+1)
	if end < 0 {
		return token{}, errAt(start, "%c'...' literal is not closed with '", c)
	}
	body := l.src[l.pos+1 : end]
	l.pos = end + 1
	text := l.src[start:l.pos]
	switch c {
	case 'h':
		b, err := parseHex(body)
		if err != nil {
			return token{}, errAt(start, "hex literal %s: %s", text, err)
		}
		return token{kind: tHex, pos: start, text: text, lit: &Literal{At: start, Kind: HexLit, Bytes: b}}, nil
	case 'b':
		b, err := parseBase64(body)
		if err != nil {
			return token{}, errAt(start, "binary literal %s: %s", text, err)
		}
		return token{kind: tBinary, pos: start, text: text, lit: &Literal{At: start, Kind: BinaryLit, Bytes: b}}, nil
	default:
		t, err := parseTimestampLiteral(body)
		if err != nil {
			return token{}, errAt(start, "timestamp literal %s: %s", text, err)
		}
		return token{kind: tTimestamp, pos: start, text: text, lit: &Literal{At: start, Kind: TimestampLit, Time: t}}, nil
	}
}

type literalError string

func (e literalError) Error() string { return string(e) }

func hexVal(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func parseHex(s string) ([]byte, error) {
	if len(s)%2 != 0 {
		return nil, literalError("odd number of hex digits (two per byte)")
	}
	b := make([]byte, len(s)/2)
	for i := 0; i < len(s); i += 2 {
		hi, ok1 := hexVal(s[i])
		lo, ok2 := hexVal(s[i+1])
		if !ok1 || !ok2 {
			return nil, literalError(fmt.Sprintf("%q is not a hex digit", pick(ok1, s[i+1], s[i])))
		}
		b[i/2] = hi<<4 | lo
	}
	return b, nil
}

func pick(firstOK bool, second, first byte) byte {
	if firstOK {
		return second
	}
	return first
}

// parseBase64 accepts standard base64 with its padding, as the grammar
// does: groups of four characters of A-Z a-z 0-9 + /, the last group
// possibly ending in = or ==, and at least one group. The grammar does
// not ask that the bits a padded last group leaves unused be zero, so
// b'AB==' is accepted and read as the byte 0x00 (String prints b'AA==').
func parseBase64(s string) ([]byte, error) {
	if len(s) == 0 || len(s)%4 != 0 {
		return nil, literalError("not base64 (groups of four characters, padded with =)")
	}
	body := strings.TrimSuffix(strings.TrimSuffix(s, "="), "=")
	for i := 0; i < len(body); i++ {
		if c := body[i]; !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/') {
			return nil, literalError(fmt.Sprintf("not base64: %q at offset %d is not one of A-Z a-z 0-9 + / (= may only end the last group)", c, i))
		}
	}
	// The characters are checked: the lenient decoder only differs from
	// the strict one in the unused bits (and in skipping newlines, which
	// cannot be here).
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, literalError("not base64 (groups of four characters of A-Z a-z 0-9 + /, padded with =)")
	}
	return b, nil
}

// parseTimestampLiteral checks the grammar's timestamp form:
// YYYY-MM-DDTHH:MM:SS(.s+)?Z with month 01-12, day 01-31, hour 00-23,
// minute 00-59, second 00-60. A day the month does not have (Feb 30) is
// allowed by the grammar; it rolls over into the next month.
func parseTimestampLiteral(s string) (time.Time, error) {
	const form = "not of the form YYYY-MM-DDTHH:MM:SS[.fraction]Z (upper-case T and Z, UTC)"
	if len(s) < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[len(s)-1] != 'Z' {
		return time.Time{}, literalError(form)
	}
	num := func(i, n int) (int, bool) {
		v := 0
		for _, c := range []byte(s[i : i+n]) {
			if !isDigit(c) {
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
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return time.Time{}, literalError(form)
	}
	nsec := 0
	if rest := s[19 : len(s)-1]; rest != "" {
		if rest[0] != '.' || len(rest) < 2 {
			return time.Time{}, literalError(form)
		}
		for i, c := range []byte(rest[1:]) {
			if !isDigit(c) {
				return time.Time{}, literalError(form)
			}
			if i < 9 {
				nsec = nsec*10 + int(c-'0')
			}
		}
		for i := len(rest) - 1; i < 9; i++ {
			nsec *= 10
		}
	}
	switch {
	case month < 1 || month > 12:
		return time.Time{}, literalError(fmt.Sprintf("month %02d is not 01-12", month))
	case day < 1 || day > 31:
		return time.Time{}, literalError(fmt.Sprintf("day %02d is not 01-31", day))
	case hour > 23:
		return time.Time{}, literalError(fmt.Sprintf("hour %02d is not 00-23", hour))
	case minute > 59:
		return time.Time{}, literalError(fmt.Sprintf("minute %02d is not 00-59", minute))
	case sec > 60:
		return time.Time{}, literalError(fmt.Sprintf("second %02d is not 00-60", sec))
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC), nil
}
