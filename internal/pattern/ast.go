package pattern

import (
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// Expr is an observation expression: a [comparison] in brackets, a
// parenthesised group, two expressions joined by AND, OR or FOLLOWEDBY,
// or an expression with a qualifier.
type Expr interface {
	// Pos is the byte offset in the pattern where the expression starts.
	Pos() int
	String() string
	expr()
}

// Cmp is a comparison expression, the part of a pattern between square
// brackets: comparisons joined by AND and OR.
type Cmp interface {
	Pos() int
	String() string
	cmp()
}

// Bracket is an observation expression in square brackets.
type Bracket struct {
	At  int
	Cmp Cmp
}

// Paren is an observation expression in parentheses.
type Paren struct {
	At int
	X  Expr
}

// ObsOp joins two observation expressions.
type ObsOp uint8

// The operators between observation expressions, from the lowest
// precedence to the highest.
const (
	FollowedBy ObsOp = iota
	ObsOr
	ObsAnd
)

var obsOpNames = [...]string{FollowedBy: "FOLLOWEDBY", ObsOr: "OR", ObsAnd: "AND"}

func (o ObsOp) String() string { return obsOpNames[o] }

// Binary is two observation expressions joined by an operator.
type Binary struct {
	Op   ObsOp
	L, R Expr
}

// QualKind says which qualifier a Qualified expression carries.
type QualKind uint8

// The qualifiers.
const (
	Within QualKind = iota
	Repeats
	StartStop
)

var qualNames = [...]string{Within: "WITHIN", Repeats: "REPEATS", StartStop: "STARTSTOP"}

func (k QualKind) String() string { return qualNames[k] }

// Qualified is an observation expression with a qualifier: WITHIN n
// SECONDS (Seconds), REPEATS n TIMES (Times) or START t STOP t (Start,
// Stop).
type Qualified struct {
	X       Expr
	Kind    QualKind
	At      int      // where the qualifier's keyword is
	Seconds *Literal // WITHIN: an integer or float literal, > 0
	Times   int64    // REPEATS: > 0
	Start   time.Time
	Stop    time.Time
}

// CmpOp joins two comparison expressions.
type CmpOp uint8

// The operators between comparisons: AND binds tighter than OR.
const (
	CmpOr CmpOp = iota
	CmpAnd
)

// CmpBinary is two comparison expressions joined by AND or OR.
type CmpBinary struct {
	Op   CmpOp
	L, R Cmp
}

// CmpParen is a comparison expression in parentheses.
type CmpParen struct {
	At int
	X  Cmp
}

// Op is a comparison operator.
type Op uint8

// The comparison operators.
const (
	Eq Op = iota
	Ne
	Lt
	Le
	Gt
	Ge
	In
	Like
	Matches
	IsSubset
	IsSuperset
	Exists
)

var opNames = [...]string{Eq: "=", Ne: "!=", Lt: "<", Le: "<=", Gt: ">", Ge: ">=", In: "IN",
	Like: "LIKE", Matches: "MATCHES", IsSubset: "ISSUBSET", IsSuperset: "ISSUPERSET", Exists: "EXISTS"}

func (o Op) String() string { return opNames[o] }

// Comparison is one test of an object path: path [NOT] op value, or
// [NOT] EXISTS path.
type Comparison struct {
	At    int
	Path  *Path
	Not   bool
	Op    Op
	Value *Literal   // nil for IN and EXISTS
	Set   []*Literal // IN
}

// Path is an object path: type:first.step[0].'quoted key'[*].
type Path struct {
	At    int
	Type  string
	Steps []Step // the first is always a key
}

// StepKind says what a path step does.
type StepKind uint8

// The path steps.
const (
	KeyStep   StepKind = iota // .name or .'quoted name'
	IndexStep                 // [n]
	StarStep                  // [*]
)

// Step is one step of an object path.
type Step struct {
	Kind  StepKind
	Key   string
	Index int64
}

// LitKind is the type of a literal.
type LitKind uint8

// The literal types.
const (
	StringLit LitKind = iota
	IntLit
	FloatLit
	BoolLit
	HexLit
	BinaryLit
	TimestampLit
)

var litNames = [...]string{StringLit: "string", IntLit: "integer", FloatLit: "float",
	BoolLit: "boolean", HexLit: "hex", BinaryLit: "binary", TimestampLit: "timestamp"}

func (k LitKind) String() string { return litNames[k] }

// Literal is a constant in a pattern. Which field holds the value
// depends on Kind: Str (string), Int, Float, Bool, Bytes (hex and
// binary), Time (timestamp).
type Literal struct {
	At    int
	Kind  LitKind
	Str   string
	Int   int64
	Float float64
	Bool  bool
	Bytes []byte
	Time  time.Time
}

func (*Bracket) expr()   {}
func (*Paren) expr()     {}
func (*Binary) expr()    {}
func (*Qualified) expr() {}

func (*CmpBinary) cmp()  {}
func (*CmpParen) cmp()   {}
func (*Comparison) cmp() {}

// Pos implements Expr.
func (b *Bracket) Pos() int { return b.At }

// Pos implements Expr.
func (p *Paren) Pos() int { return p.At }

// Pos implements Expr.
func (b *Binary) Pos() int { return b.L.Pos() }

// Pos implements Expr.
func (q *Qualified) Pos() int { return q.X.Pos() }

// Pos implements Cmp.
func (b *CmpBinary) Pos() int { return b.L.Pos() }

// Pos implements Cmp.
func (p *CmpParen) Pos() int { return p.At }

// Pos implements Cmp.
func (c *Comparison) Pos() int { return c.At }

// The String methods print a pattern back in canonical form: single
// spaces, keys quoted only where the grammar needs it. Parsing the text
// gives the same tree (positions aside). Parentheses are printed where
// the tree has a Paren or CmpParen node, and also where a hand-built tree
// needs them for its operators to bind as the tree says.

func (b *Bracket) String() string { return "[" + b.Cmp.String() + "]" }
func (p *Paren) String() string   { return "(" + p.X.String() + ")" }

func (b *Binary) String() string {
	l, r := b.L.String(), b.R.String()
	if lb, ok := b.L.(*Binary); ok && lb.Op < b.Op {
		l = "(" + l + ")"
	}
	if rb, ok := b.R.(*Binary); ok && rb.Op <= b.Op {
		r = "(" + r + ")"
	}
	return l + " " + b.Op.String() + " " + r
}

func (q *Qualified) String() string {
	x := q.X.String()
	if _, ok := q.X.(*Binary); ok {
		x = "(" + x + ")"
	}
	switch q.Kind {
	case Within:
		return x + " WITHIN " + q.Seconds.String() + " SECONDS"
	case Repeats:
		return x + " REPEATS " + strconv.FormatInt(q.Times, 10) + " TIMES"
	default:
		return x + " START " + formatTimestamp(q.Start) + " STOP " + formatTimestamp(q.Stop)
	}
}

func (b *CmpBinary) String() string {
	l, r := b.L.String(), b.R.String()
	if lb, ok := b.L.(*CmpBinary); ok && lb.Op < b.Op {
		l = "(" + l + ")"
	}
	if rb, ok := b.R.(*CmpBinary); ok && rb.Op <= b.Op {
		r = "(" + r + ")"
	}
	op := " OR "
	if b.Op == CmpAnd {
		op = " AND "
	}
	return l + op + r
}

func (p *CmpParen) String() string { return "(" + p.X.String() + ")" }

func (c *Comparison) String() string {
	if c.Op == Exists {
		if c.Not {
			return "NOT EXISTS " + c.Path.String()
		}
		return "EXISTS " + c.Path.String()
	}
	var sb strings.Builder
	sb.WriteString(c.Path.String())
	if c.Not {
		sb.WriteString(" NOT")
	}
	sb.WriteString(" " + c.Op.String() + " ")
	if c.Op == In {
		sb.WriteString("(")
		for i, l := range c.Set {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString(l.String())
		}
		sb.WriteString(")")
	} else {
		sb.WriteString(c.Value.String())
	}
	return sb.String()
}

func (p *Path) String() string {
	var sb strings.Builder
	sb.WriteString(p.Type)
	sb.WriteString(":")
	for i, s := range p.Steps {
		switch s.Kind {
		case KeyStep:
			if i > 0 {
				sb.WriteString(".")
			}
			if isPlainKey(s.Key) {
				sb.WriteString(s.Key)
			} else {
				sb.WriteString(quote(s.Key))
			}
		case IndexStep:
			sb.WriteString("[" + strconv.FormatInt(s.Index, 10) + "]")
		case StarStep:
			sb.WriteString("[*]")
		}
	}
	return sb.String()
}

// isPlainKey reports whether a key may be written without quotes: an
// identifier without hyphens that is not a keyword.
func isPlainKey(s string) bool {
	if s == "" || !isIdentStart(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isIdentPart(s[i]) || s[i] == '-' {
			return false
		}
	}
	_, kw := keywords[s]
	return !kw
}

func (l *Literal) String() string {
	switch l.Kind {
	case StringLit:
		return quote(l.Str)
	case IntLit:
		return strconv.FormatInt(l.Int, 10)
	case FloatLit:
		s := strconv.FormatFloat(l.Float, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	case BoolLit:
		return strconv.FormatBool(l.Bool)
	case HexLit:
		return "h'" + hex.EncodeToString(l.Bytes) + "'"
	case BinaryLit:
		return "b'" + base64.StdEncoding.EncodeToString(l.Bytes) + "'"
	default:
		return formatTimestamp(l.Time)
	}
}

func formatTimestamp(t time.Time) string {
	return "t'" + t.UTC().Format("2006-01-02T15:04:05.999999999Z") + "'"
}

// quote writes s as a pattern string literal.
func quote(s string) string {
	var sb strings.Builder
	sb.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' || s[i] == '\\' {
			sb.WriteByte('\\')
		}
		sb.WriteByte(s[i])
	}
	sb.WriteByte('\'')
	return sb.String()
}
