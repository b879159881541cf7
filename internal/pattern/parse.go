package pattern

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Version is the STIX version whose pattern grammar applies.
type Version uint8

// The versions: 2.1 is the default; 2.0 differs in START and STOP, which
// take plain string literals holding a timestamp.
const (
	V21 Version = iota
	V20
)

type parser struct {
	lex     lexer
	tok     token
	version Version
	depth   int
}

// maxDepth bounds the nesting of parentheses, so that a hostile pattern
// cannot exhaust the stack: observation and comparison parentheses count
// together, the one pair of square brackets does not. maxDepth levels
// are allowed; the next one is refused where it opens.
const maxDepth = 200

// maxRepeats bounds REPEATS: the search for a binding takes each of the
// repetitions in turn.
const maxRepeats = 1 << 20

// Parse parses a STIX 2.1 pattern. A pattern that breaks the grammar
// gives a *SyntaxError with the byte position and the reason.
func Parse(pattern string) (Expr, error) { return parse(pattern, V21) }

func parse(src string, v Version) (Expr, error) {
	p := &parser{lex: lexer{src: src}, version: v}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.kind != tLBrack && p.tok.kind != tLParen {
		if p.tok.kind == tEOF {
			return nil, errAt(p.tok.pos, "the pattern is empty")
		}
		return nil, errAt(p.tok.pos, "a pattern starts with '[' (an observation expression in square brackets) or '(', not %s", p.tok.describe())
	}
	e, err := p.followedBy()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tEOF {
		return nil, p.unexpected("AND, OR, FOLLOWEDBY, a qualifier or the end of the pattern")
	}
	return e, nil
}

func (p *parser) advance() error {
	t, err := p.lex.next()
	if err != nil {
		return err
	}
	p.tok = t
	return nil
}

func (p *parser) unexpected(want string) error {
	msg := fmt.Sprintf("expected %s, found %s", want, p.tok.describe())
	if p.tok.kind == tIdent {
		if _, ok := lowerKeywords[p.tok.text]; ok {
			msg += " (keywords are upper case)"
		}
	}
	return errAt(p.tok.pos, "%s", msg)
}

var lowerKeywords = func() map[string]bool {
	m := map[string]bool{}
	for k := range keywords {
		lk := []byte(k)
		for i, c := range lk {
			if c >= 'A' && c <= 'Z' {
				lk[i] = c + 'a' - 'A'
			}
		}
		if string(lk) != k {
			m[string(lk)] = true
		}
	}
	return m
}()

func (p *parser) expect(k tokKind, want string) (token, error) {
	t := p.tok
	if t.kind != k {
		return t, p.unexpected(want)
	}
	return t, p.advance()
}

func (p *parser) followedBy() (Expr, error) {
	l, err := p.obsOr()
	if err != nil {
		return nil, err
	}
	for p.tok.kind == tFollowedBy {
		if err := p.advance(); err != nil {
			return nil, err
		}
		r, err := p.obsOr()
		if err != nil {
			return nil, err
		}
		l = &Binary{Op: FollowedBy, L: l, R: r}
	}
	return l, nil
}

func (p *parser) obsOr() (Expr, error) {
	l, err := p.obsAnd()
	if err != nil {
		return nil, err
	}
	for p.tok.kind == tOr {
		if err := p.advance(); err != nil {
			return nil, err
		}
		r, err := p.obsAnd()
		if err != nil {
			return nil, err
		}
		l = &Binary{Op: ObsOr, L: l, R: r}
	}
	return l, nil
}

func (p *parser) obsAnd() (Expr, error) {
	l, err := p.qualified()
	if err != nil {
		return nil, err
	}
	for p.tok.kind == tAnd {
		if err := p.advance(); err != nil {
			return nil, err
		}
		r, err := p.qualified()
		if err != nil {
			return nil, err
		}
		l = &Binary{Op: ObsAnd, L: l, R: r}
	}
	return l, nil
}

func (p *parser) qualified() (Expr, error) {
	x, err := p.obsPrimary()
	if err != nil {
		return nil, err
	}
	for {
		q := &Qualified{X: x, At: p.tok.pos}
		switch p.tok.kind {
		case tWithin:
			q.Kind = Within
			if err := p.advance(); err != nil {
				return nil, err
			}
			t := p.tok
			if t.kind != tInt && t.kind != tFloat {
				return nil, p.unexpected("a number of seconds after WITHIN")
			}
			secs, err := withinSeconds(t)
			if err != nil {
				return nil, err
			}
			q.Seconds = secs
			if err := p.advance(); err != nil {
				return nil, err
			}
			if _, err := p.expect(tSeconds, "SECONDS after the number of WITHIN (the only unit)"); err != nil {
				return nil, err
			}
		case tRepeats:
			q.Kind = Repeats
			if err := p.advance(); err != nil {
				return nil, err
			}
			t := p.tok
			if t.kind != tInt {
				return nil, p.unexpected("a whole number after REPEATS")
			}
			if t.tooBig {
				return nil, errAt(t.pos, "REPEATS %s TIMES is more than %d", t.text, maxRepeats)
			}
			if t.lit.Int <= 0 {
				return nil, errAt(t.pos, "REPEATS needs a positive number of times, not %s", t.text)
			}
			q.Times = t.lit.Int
			if err := p.advance(); err != nil {
				return nil, err
			}
			if _, err := p.expect(tTimes, "TIMES after the number of REPEATS"); err != nil {
				return nil, err
			}
		case tStart:
			q.Kind = StartStop
			if err := p.advance(); err != nil {
				return nil, err
			}
			start, err := p.qualifierTime("START")
			if err != nil {
				return nil, err
			}
			if _, err := p.expect(tStop, "STOP after START's timestamp"); err != nil {
				return nil, err
			}
			stop, err := p.qualifierTime("STOP")
			if err != nil {
				return nil, err
			}
			q.Start, q.Stop = start, stop
		default:
			return x, nil
		}
		x = q
	}
}

// withinSeconds reads WITHIN's number, which the grammar allows to be
// any positive integer or float: there is no maximum. An integer beyond
// 64 bits becomes the float nearest to it, a float beyond float64 the
// largest float64, and a positive float too small for float64 the
// smallest positive one; past 2^63 seconds (about 3e11 years) a window
// covers every pair of timestamps, and below a nanosecond it is as short
// as timestamps can tell, so none of these changes a match.
func withinSeconds(t token) (*Literal, error) {
	if !positiveNumber(t.text) {
		return nil, errAt(t.pos, "WITHIN needs a positive number of seconds, not %s", t.text)
	}
	if t.kind == tInt && !t.tooBig {
		return t.lit, nil
	}
	f := t.lit.Float
	if t.kind == tInt || t.tooBig {
		f, _ = strconv.ParseFloat(t.text, 64) // ±Inf when out of range
	}
	switch {
	case math.IsInf(f, 1):
		f = math.MaxFloat64
	case f == 0:
		f = math.SmallestNonzeroFloat64
	}
	return &Literal{At: t.pos, Kind: FloatLit, Float: f}, nil
}

// positiveNumber reports whether a number's text is above zero: no minus
// sign and a digit other than 0.
func positiveNumber(text string) bool {
	return !strings.HasPrefix(text, "-") && strings.ContainsAny(text, "123456789")
}

// qualifierTime reads START's or STOP's timestamp: a t'...' literal, or
// under STIX 2.0 a string literal holding the timestamp.
func (p *parser) qualifierTime(what string) (time.Time, error) {
	t := p.tok
	switch {
	case t.kind == tTimestamp:
	case t.kind == tString && p.version == V20:
		ts, err := parseTimestampLiteral(t.lit.Str)
		if err != nil {
			return time.Time{}, errAt(t.pos, "%s %s: %s", what, t.text, err)
		}
		t.lit = &Literal{At: t.pos, Kind: TimestampLit, Time: ts}
	default:
		return time.Time{}, p.unexpected("a timestamp literal t'YYYY-MM-DDTHH:MM:SSZ' after " + what)
	}
	return t.lit.Time, p.advance()
}

func (p *parser) enter(pos int) error {
	p.depth++
	if p.depth > maxDepth {
		return errAt(pos, "the pattern nests parentheses more than %d levels deep", maxDepth)
	}
	return nil
}

func (p *parser) obsPrimary() (Expr, error) {
	t := p.tok
	switch t.kind {
	case tLBrack:
		if err := p.advance(); err != nil {
			return nil, err
		}
		c, err := p.cmpOr()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tRBrack, "AND, OR or ']' to close the observation expression"); err != nil {
			return nil, err
		}
		return &Bracket{At: t.pos, Cmp: c}, nil
	case tLParen:
		if err := p.enter(t.pos); err != nil {
			return nil, err
		}
		defer func() { p.depth-- }()
		if err := p.advance(); err != nil {
			return nil, err
		}
		x, err := p.followedBy()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tRParen, "AND, OR, FOLLOWEDBY, a qualifier or ')'"); err != nil {
			return nil, err
		}
		return &Paren{At: t.pos, X: x}, nil
	}
	return nil, p.unexpected("'[' or '(' to start an observation expression")
}

func (p *parser) cmpOr() (Cmp, error) {
	l, err := p.cmpAnd()
	if err != nil {
		return nil, err
	}
	for p.tok.kind == tOr {
		if err := p.advance(); err != nil {
			return nil, err
		}
		r, err := p.cmpAnd()
		if err != nil {
			return nil, err
		}
		l = &CmpBinary{Op: CmpOr, L: l, R: r}
	}
	return l, nil
}

func (p *parser) cmpAnd() (Cmp, error) {
	l, err := p.propTest()
	if err != nil {
		return nil, err
	}
	for p.tok.kind == tAnd {
		if err := p.advance(); err != nil {
			return nil, err
		}
		r, err := p.propTest()
		if err != nil {
			return nil, err
		}
		l = &CmpBinary{Op: CmpAnd, L: l, R: r}
	}
	return l, nil
}

func (p *parser) propTest() (Cmp, error) {
	t := p.tok
	switch t.kind {
	case tLParen:
		if err := p.enter(t.pos); err != nil {
			return nil, err
		}
		defer func() { p.depth-- }()
		if err := p.advance(); err != nil {
			return nil, err
		}
		x, err := p.cmpOr()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tRParen, "AND, OR or ')'"); err != nil {
			return nil, err
		}
		return &CmpParen{At: t.pos, X: x}, nil
	case tNot, tExists:
		// NOT? EXISTS objectPath: the one comparison where NOT comes
		// first.
		not := t.kind == tNot
		if not {
			if err := p.advance(); err != nil {
				return nil, err
			}
			if p.tok.kind != tExists {
				return nil, p.unexpected("EXISTS after a leading NOT (other comparisons put NOT after the path: a:b NOT = 1)")
			}
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		path, err := p.path()
		if err != nil {
			return nil, err
		}
		return &Comparison{At: t.pos, Path: path, Not: not, Op: Exists}, nil
	}
	path, err := p.path()
	if err != nil {
		return nil, err
	}
	c := &Comparison{At: t.pos, Path: path}
	if p.tok.kind == tNot {
		c.Not = true
		if err := p.advance(); err != nil {
			return nil, err
		}
	}
	opTok := p.tok
	switch opTok.kind {
	case tEq, tNe:
		c.Op = map[tokKind]Op{tEq: Eq, tNe: Ne}[opTok.kind]
		if err := p.advance(); err != nil {
			return nil, err
		}
		lit, err := p.literal(true, "a literal value (string, number, boolean, h'hex', b'base64' or t'timestamp')")
		if err != nil {
			return nil, err
		}
		c.Value = lit
	case tLt, tLe, tGt, tGe:
		c.Op = map[tokKind]Op{tLt: Lt, tLe: Le, tGt: Gt, tGe: Ge}[opTok.kind]
		if err := p.advance(); err != nil {
			return nil, err
		}
		lit, err := p.literal(false, "an orderable literal (string, number, h'hex', b'base64' or t'timestamp')")
		if err != nil {
			return nil, err
		}
		c.Value = lit
	case tIn:
		c.Op = In
		if err := p.advance(); err != nil {
			return nil, err
		}
		if _, err := p.expect(tLParen, "'(' to open the set after IN"); err != nil {
			return nil, err
		}
		c.Set = []*Literal{}
		if p.tok.kind == tRParen {
			return c, p.advance()
		}
		for {
			lit, err := p.literal(true, "a literal value in the set")
			if err != nil {
				return nil, err
			}
			c.Set = append(c.Set, lit)
			if p.tok.kind == tRParen {
				return c, p.advance()
			}
			if _, err := p.expect(tComma, "',' or ')' in the set"); err != nil {
				return nil, err
			}
		}
	case tLike, tMatches, tIsSubset, tIsSuperset:
		c.Op = map[tokKind]Op{tLike: Like, tMatches: Matches, tIsSubset: IsSubset, tIsSuperset: IsSuperset}[opTok.kind]
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.tok.kind != tString {
			return nil, p.unexpected(fmt.Sprintf("a string literal after %s", c.Op))
		}
		c.Value = p.tok.lit
		if err := p.advance(); err != nil {
			return nil, err
		}
	default:
		want := "a comparison operator (=, !=, <, <=, >, >=, IN, LIKE, MATCHES, ISSUBSET, ISSUPERSET)"
		if c.Not {
			want = "a comparison operator after NOT"
		}
		return nil, p.unexpected(want)
	}
	return c, nil
}

func (p *parser) literal(withBool bool, want string) (*Literal, error) {
	t := p.tok
	switch t.kind {
	case tInt, tFloat:
		if t.tooBig {
			return nil, t.errTooBig()
		}
	case tString, tHex, tBinary, tTimestamp:
	case tBool:
		if !withBool {
			return nil, errAt(t.pos, "a boolean cannot be compared with <, <=, > or >=")
		}
	default:
		if t.kind == tIdent && (t.text == "null" || t.text == "NULL") {
			return nil, errAt(t.pos, "null is not a value in STIX 2.1 patterns")
		}
		if t.kind == tIdent {
			return nil, errAt(t.pos, "expected %s, found identifier '%s' (strings are quoted: '%s')", want, t.text, t.text)
		}
		return nil, p.unexpected(want)
	}
	return t.lit, p.advance()
}

// path reads type:first(.key|[n]|[*])*.
func (p *parser) path() (*Path, error) {
	t := p.tok
	if t.kind != tIdent {
		return nil, p.unexpected("an object path (type:property)")
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.kind != tColon {
		if p.tok.kind == tDot {
			return nil, errAt(p.tok.pos, "expected ':' between the object type '%s' and its property, found '.'", t.text)
		}
		return nil, p.unexpected(fmt.Sprintf("':' after the object type '%s'", t.text))
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	path := &Path{At: t.pos, Type: t.text}
	key, err := p.key()
	if err != nil {
		return nil, err
	}
	path.Steps = append(path.Steps, Step{Kind: KeyStep, Key: key})
	for {
		switch p.tok.kind {
		case tDot:
			if err := p.advance(); err != nil {
				return nil, err
			}
			key, err := p.key()
			if err != nil {
				return nil, err
			}
			path.Steps = append(path.Steps, Step{Kind: KeyStep, Key: key})
		case tLBrack:
			if err := p.advance(); err != nil {
				return nil, err
			}
			switch it := p.tok; it.kind {
			case tStar:
				path.Steps = append(path.Steps, Step{Kind: StarStep})
			case tInt:
				if it.tooBig {
					return nil, it.errTooBig()
				}
				if it.lit.Int < 0 {
					return nil, errAt(it.pos, "list index %s is negative", it.text)
				}
				path.Steps = append(path.Steps, Step{Kind: IndexStep, Index: it.lit.Int})
			default:
				return nil, p.unexpected("a list index (a whole number or *)")
			}
			if err := p.advance(); err != nil {
				return nil, err
			}
			if _, err := p.expect(tRBrack, "']' after the list index"); err != nil {
				return nil, err
			}
		default:
			return path, nil
		}
	}
}

// key reads a property name: an identifier without hyphens, or a quoted
// string.
func (p *parser) key() (string, error) {
	t := p.tok
	switch t.kind {
	case tIdent:
		if t.hyphen {
			return "", errAt(t.pos, "property name '%s' has a '-': quote it as %s", t.text, quote(t.text))
		}
		return t.text, p.advance()
	case tString:
		return t.lit.Str, p.advance()
	}
	if t.kind >= tAnd || t.kind == tBool {
		return "", errAt(t.pos, "property name %s is a keyword: quote it as %s", t.text, quote(t.text))
	}
	return "", p.unexpected("a property name")
}
