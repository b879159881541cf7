package pattern

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/parleyhq/parley/internal/dialogue"
)

// Pattern is a compiled pattern, ready to match observations. It is safe
// for concurrent use.
type Pattern struct {
	src     string
	expr    Expr
	leaves  []ctest // one per [observation expression], in order
	root    onode
	version Version
}

// Compile parses a STIX 2.1 pattern and prepares it for matching. Besides
// the grammar it checks what matching needs: sets hold values of one
// type (integers and floats may mix), MATCHES has a regular expression
// this package can run (PCRE syntax; see Options for its time limit),
// ISSUBSET and ISSUPERSET name an IP address or CIDR network. Errors are
// *SyntaxError values (errors.As) wrapped in a *dialogue.Error of kind
// invalid.
func Compile(pattern string) (*Pattern, error) { return compile(pattern, Options{}) }

// CompileVersion is Compile for patterns of the given STIX version.
func CompileVersion(pattern string, v Version) (*Pattern, error) {
	return compile(pattern, Options{Version: v})
}

func invalid(op string, err *SyntaxError) error {
	return &dialogue.Error{Op: op, Kind: dialogue.KindInvalid, Err: err}
}

func compile(src string, o Options) (*Pattern, error) {
	const op = "pattern.Compile"
	e, err := parse(src, o.Version)
	if err != nil {
		var se *SyntaxError
		if errors.As(err, &se) {
			return nil, invalid(op, se)
		}
		return nil, dialogue.E(op, dialogue.KindInvalid, err)
	}
	p := &Pattern{src: src, expr: e, version: o.Version}
	root, serr := p.compileExpr(e, &o)
	if serr != nil {
		return nil, invalid(op, serr)
	}
	p.root = root
	return p, nil
}

// String is the pattern in canonical form.
func (p *Pattern) String() string { return p.expr.String() }

// Expr is the pattern's syntax tree. It must not be modified.
func (p *Pattern) Expr() Expr { return p.expr }

// onode is a compiled observation expression.
type onode interface{ onode() }

type (
	oLeaf   struct{ i int }
	oAnd    struct{ l, r onode }
	oOr     struct{ l, r onode }
	oFollow struct{ l, r onode }
	oWithin struct {
		x onode
		w window
	}
	oStartStop struct {
		x           onode
		start, stop time.Time
	}
	oRepeats struct {
		x onode
		n int
	}
)

func (*oLeaf) onode()      {}
func (*oAnd) onode()       {}
func (*oOr) onode()        {}
func (*oFollow) onode()    {}
func (*oWithin) onode()    {}
func (*oStartStop) onode() {}
func (*oRepeats) onode()   {}

func (p *Pattern) compileExpr(e Expr, o *Options) (onode, *SyntaxError) {
	switch e := e.(type) {
	case *Bracket:
		c, err := compileCmp(e.Cmp, o)
		if err != nil {
			return nil, err
		}
		p.leaves = append(p.leaves, c)
		return &oLeaf{len(p.leaves) - 1}, nil
	case *Paren:
		return p.compileExpr(e.X, o)
	case *Binary:
		l, err := p.compileExpr(e.L, o)
		if err != nil {
			return nil, err
		}
		r, err := p.compileExpr(e.R, o)
		if err != nil {
			return nil, err
		}
		switch e.Op {
		case ObsAnd:
			return &oAnd{l, r}, nil
		case ObsOr:
			return &oOr{l, r}, nil
		}
		return &oFollow{l, r}, nil
	case *Qualified:
		x, err := p.compileExpr(e.X, o)
		if err != nil {
			return nil, err
		}
		switch e.Kind {
		case Within:
			return &oWithin{x, windowOf(e.Seconds)}, nil
		case Repeats:
			if e.Times > maxRepeats {
				return nil, errAt(e.At, "REPEATS %d TIMES is more than %d", e.Times, maxRepeats)
			}
			return &oRepeats{x, int(e.Times)}, nil
		}
		return &oStartStop{x, e.Start, e.Stop}, nil
	}
	return nil, errAt(e.Pos(), "unknown expression %T", e)
}

// window is WITHIN's length, whole seconds and nanoseconds (0 to
// 999999999), rounded down to the nanosecond: timestamps have no finer
// resolution, so a difference of timestamps is within the window exactly
// when it is within the rounded-down one. Unlike a time.Duration, which
// ends at about 292 years, it holds any length the grammar allows (past
// 2^63 seconds it stays at its largest, longer than any two timestamps
// are apart).
type window struct{ sec, nsec int64 }

// windowOf converts WITHIN's literal, a positive integer or float.
func windowOf(l *Literal) window {
	if l.Kind == IntLit {
		return window{sec: l.Int}
	}
	if l.Float >= math.MaxInt64 { // 2^63
		return window{sec: math.MaxInt64, nsec: 999_999_999}
	}
	// The float's shortest decimal form is the number the pattern wrote
	// (and the one String prints); read it exactly, as decimal digits.
	text := strconv.FormatFloat(l.Float, 'f', -1, 64)
	whole, frac, _ := strings.Cut(text, ".")
	var w window
	w.sec, _ = strconv.ParseInt(whole, 10, 64)
	frac = (frac + "000000000")[:9]
	w.nsec, _ = strconv.ParseInt(frac, 10, 64)
	return w
}

// covers reports whether the time from a to b is at most the window.
func (w window) covers(a, b time.Time) bool {
	if !b.After(a) {
		return true
	}
	// Unix seconds of STIX timestamps (years 0000 to 9999) and their
	// differences fit in 64 bits.
	ds := b.Unix() - a.Unix()
	dn := int64(b.Nanosecond() - a.Nanosecond())
	if dn < 0 {
		ds--
		dn += 1e9
	}
	return ds < w.sec || ds == w.sec && dn <= w.nsec
}

// ctest is a compiled comparison expression.
type ctest interface{ ctest() }

type (
	cAnd  struct{ l, r ctest }
	cOr   struct{ l, r ctest }
	cTest struct {
		c      *Comparison
		path   *Path
		not    bool
		op     Op
		lit    *Literal
		set    []*Literal
		strSet map[string]bool // IN with only strings
		tsSet  bool            // IN with only timestamps
		re     *regex          // LIKE, MATCHES
		binRE  bool            // the expression can match binary data
		net    netip.Prefix    // ISSUBSET, ISSUPERSET
	}
)

func (*cAnd) ctest()  {}
func (*cOr) ctest()   {}
func (*cTest) ctest() {}

func compileCmp(c Cmp, o *Options) (ctest, *SyntaxError) {
	switch c := c.(type) {
	case *CmpParen:
		return compileCmp(c.X, o)
	case *CmpBinary:
		l, err := compileCmp(c.L, o)
		if err != nil {
			return nil, err
		}
		r, err := compileCmp(c.R, o)
		if err != nil {
			return nil, err
		}
		if c.Op == CmpAnd {
			return &cAnd{l, r}, nil
		}
		return &cOr{l, r}, nil
	case *Comparison:
		return compileComparison(c, o)
	}
	return nil, errAt(c.Pos(), "unknown comparison %T", c)
}

func compileComparison(c *Comparison, o *Options) (ctest, *SyntaxError) {
	t := &cTest{c: c, path: c.Path, not: c.Not, op: c.Op, lit: c.Value, set: c.Set}
	switch c.Op {
	case In:
		if err := checkSet(c.Set); err != nil {
			return nil, err
		}
		if len(c.Set) > 0 {
			switch c.Set[0].Kind {
			case StringLit:
				t.strSet = make(map[string]bool, len(c.Set))
				for _, l := range c.Set {
					t.strSet[l.Str] = true
				}
			case TimestampLit:
				t.tsSet = true
			}
		}
	case Like:
		pat := norm.NFC.String(c.Value.Str)
		var sb strings.Builder
		sb.WriteString(`(?s)\A`)
		for _, r := range pat {
			switch r {
			case '%':
				sb.WriteString(".*")
			case '_':
				sb.WriteString(".")
			default:
				sb.WriteString(regexp.QuoteMeta(string(r)))
			}
		}
		sb.WriteString(`\z`)
		t.re = &regex{re2: regexp.MustCompile(sb.String())}
		_, t.binRE = latin1(pat)
	case Matches:
		pat := norm.NFC.String(c.Value.Str)
		re, err := compileMatches(c.Value, pat, o)
		if err != nil {
			return nil, err
		}
		t.re = re
		_, t.binRE = latin1(pat)
	case IsSubset, IsSuperset:
		n, ok := parseNet(c.Value.Str)
		if !ok {
			return nil, errAt(c.Value.At, "%s needs an IP address or CIDR network (such as '198.51.100.0/24'), not %s", c.Op, c.Value)
		}
		t.net = n
	}
	return t, nil
}

// checkSet refuses a set that mixes types (integers and floats may mix).
func checkSet(set []*Literal) *SyntaxError {
	if len(set) == 0 {
		return nil
	}
	num := func(k LitKind) bool { return k == IntLit || k == FloatLit }
	first := set[0].Kind
	for _, l := range set[1:] {
		if l.Kind != first && !(num(l.Kind) && num(first)) {
			return errAt(l.At, "a set holds values of one type: %s mixes %s and %s values", l, first, l.Kind)
		}
	}
	return nil
}

// decodeSuffixed converts the value of a property whose name ends in
// _hex or _bin to binary data.
func decodeSuffixed(key string, v any) (any, error) {
	switch {
	case strings.HasSuffix(key, "_hex"):
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("property %s is not a hex string", key)
		}
		b, err := hex.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("property %s is not hex: %q", key, s)
		}
		return b, nil
	case strings.HasSuffix(key, "_bin"):
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("property %s is not a base64 string", key)
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("property %s is not base64: %q", key, s)
		}
		return b, nil
	}
	return v, nil
}
