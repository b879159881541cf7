package pattern

import (
	"regexp"
	"strconv"
	"strings"
)

// Check parses a STIX 2.1 pattern and applies, on top of the grammar and
// of what Compile requires, the rules of the OASIS pattern validator:
// the same qualifier may not be applied twice directly to one
// [observation expression] ("[a] WITHIN 5 SECONDS WITHIN 6 SECONDS"; a
// parenthesised group may take it again), and a hash compared with = or
// != (or listed in IN) must have the form of its algorithm. Errors are
// *SyntaxError values wrapped in a *dialogue.Error of kind invalid.
//
// Compile does not apply these two rules: the reference matcher matches
// "[a] REPEATS 2 TIMES REPEATS 2 TIMES", and so does this package.
func Check(pattern string) error {
	p, err := Compile(pattern)
	if err != nil {
		return err
	}
	if err := checkQualifiers(p.expr); err != nil {
		return invalid("pattern.Check", err)
	}
	if err := checkHashes(p.expr); err != nil {
		return invalid("pattern.Check", err)
	}
	return nil
}

// checkQualifiers finds a qualifier type applied twice to the same
// bracketed observation expression.
func checkQualifiers(e Expr) *SyntaxError {
	switch e := e.(type) {
	case *Paren:
		return checkQualifiers(e.X)
	case *Binary:
		if err := checkQualifiers(e.L); err != nil {
			return err
		}
		return checkQualifiers(e.R)
	case *Qualified:
		var chain []*Qualified
		x := Expr(e)
		for {
			q, ok := x.(*Qualified)
			if !ok {
				break
			}
			chain = append(chain, q)
			x = q.X
		}
		if _, ok := x.(*Bracket); ok {
			seen := map[QualKind]bool{}
			for i := len(chain) - 1; i >= 0; i-- {
				q := chain[i]
				if seen[q.Kind] {
					return errAt(q.At, "duplicate qualifier type encountered: %s applied twice to one observation expression (put it on a parenthesised group instead)", q.Kind)
				}
				seen[q.Kind] = true
			}
		}
		return checkQualifiers(x)
	}
	return nil
}

type hashForm struct {
	name string
	re   *regexp.Regexp
}

var hexN = func(n ...int) *regexp.Regexp {
	alts := make([]string, len(n))
	for i, k := range n {
		alts[i] = "[a-fA-F0-9]{" + strconv.Itoa(k) + "}"
	}
	return regexp.MustCompile("^(?:" + strings.Join(alts, "|") + ")$")
}

// hashForms are the hash algorithms the OASIS validator checks, keyed by
// the name upper-cased without hyphens.
var hashForms = map[string]hashForm{
	"MD5":       {"MD5", hexN(32)},
	"MD6":       {"MD6", hexN(32, 40, 56, 64, 96, 128)},
	"RIPEMD160": {"RIPEMD-160", hexN(40)},
	"SHA1":      {"SHA-1", hexN(40)},
	"SHA224":    {"SHA-224", hexN(56)},
	"SHA256":    {"SHA-256", hexN(64)},
	"SHA384":    {"SHA-384", hexN(96)},
	"SHA512":    {"SHA-512", hexN(128)},
	"SHA3224":   {"SHA3-224", hexN(56)},
	"SHA3256":   {"SHA3-256", hexN(64)},
	"SHA3384":   {"SHA3-384", hexN(96)},
	"SHA3512":   {"SHA3-512", hexN(128)},
	"SSDEEP":    {"SSDEEP", regexp.MustCompile(`^[a-zA-Z0-9/+:.]{1,128}$`)},
	"WHIRLPOOL": {"WHIRLPOOL", hexN(128)},
}

func checkHashes(e Expr) *SyntaxError {
	var err *SyntaxError
	walkComparisons(e, func(c *Comparison) {
		if err != nil || (c.Op != Eq && c.Op != Ne && c.Op != In) {
			return
		}
		steps := c.Path.Steps
		last := steps[len(steps)-1]
		if last.Kind != KeyStep {
			return
		}
		inHashes := false
		for _, s := range steps[:len(steps)-1] {
			inHashes = inHashes || s.Kind == KeyStep && s.Key == "hashes"
		}
		if !inHashes {
			return
		}
		form, ok := hashForms[strings.ReplaceAll(strings.ToUpper(last.Key), "-", "")]
		if !ok {
			return
		}
		lits := c.Set
		if c.Op != In {
			lits = []*Literal{c.Value}
		}
		for _, l := range lits {
			if l.Kind == StringLit && !form.re.MatchString(l.Str) {
				err = errAt(l.At, "'%s' is not a valid %s hash", l.Str, form.name)
				return
			}
		}
	})
	return err
}

// walkComparisons calls f on every comparison of e, left to right.
func walkComparisons(e Expr, f func(*Comparison)) {
	var cmp func(Cmp)
	cmp = func(c Cmp) {
		switch c := c.(type) {
		case *CmpBinary:
			cmp(c.L)
			cmp(c.R)
		case *CmpParen:
			cmp(c.X)
		case *Comparison:
			f(c)
		}
	}
	switch e := e.(type) {
	case *Bracket:
		cmp(e.Cmp)
	case *Paren:
		walkComparisons(e.X, f)
	case *Binary:
		walkComparisons(e.L, f)
		walkComparisons(e.R, f)
	case *Qualified:
		walkComparisons(e.X, f)
	}
}
