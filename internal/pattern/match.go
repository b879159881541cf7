package pattern

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/stix"
)

// MaxSteps bounds the work of one Match: patterns with REPEATS,
// FOLLOWEDBY and AND over many observations can have more ways to bind
// than can be tried. Past the bound Match gives up with ErrTooComplex.
const MaxSteps = 2_000_000

// ErrTooComplex is returned (wrapped) by Match when finding whether the
// observations match would take more than MaxSteps steps.
var ErrTooComplex = errors.New("the pattern has too many ways to bind to these observations to try them all")

// Match reports whether the observations match the pattern. An error
// means the observations could not be judged: a value the pattern
// compares with a timestamp is not one, a reference is not a string
// (kind invalid), a MATCHES expression ran past its time limit on a
// value (ErrRegexLimit, kind too large), or the search is too large
// (ErrTooComplex, kind too large).
func (p *Pattern) Match(obs []Observation) (bool, error) {
	b, err := p.Find(obs)
	return b != nil, err
}

// Find is Match that also says which observations matched: the indexes
// in obs of those bound to the first way found of satisfying the
// pattern, in increasing order; nil when the pattern does not match.
func (p *Pattern) Find(obs []Observation) ([]int, error) {
	const op = "pattern.Match"
	s := &search{
		obs:  obs,
		used: make([]int32, len(obs)),
		memo: map[*oRepeats][]binding{},
	}
	for i := range obs {
		if obs[i].NumberObserved < 1 {
			return nil, dialogue.Errorf(op, dialogue.KindInvalid, "observation %s: number_observed is %d, not at least 1", obsName(&obs[i], i), obs[i].NumberObserved)
		}
	}
	s.leaves = make([][]int32, len(p.leaves))
	for li, t := range p.leaves {
		for i := range obs {
			ok, err := matchObservation(t, &obs[i])
			if err != nil {
				kind := dialogue.KindInvalid
				if errors.Is(err, ErrRegexLimit) {
					kind = dialogue.KindTooLarge
				}
				return nil, dialogue.Errorf(op, kind, "observation %s: %w", obsName(&obs[i], i), err)
			}
			if ok {
				s.leaves[li] = append(s.leaves[li], int32(i))
			}
		}
	}
	var found binding
	stopped := s.enum(p.root, func(b binding) bool {
		found = slices.Clone(b)
		return true
	})
	if s.err != nil {
		return nil, dialogue.E(op, dialogue.KindTooLarge, s.err)
	}
	if !stopped {
		return nil, nil
	}
	out := make([]int, 0, len(found))
	for _, i := range found {
		out = append(out, int(i))
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func obsName(o *Observation, i int) string {
	if o.ID != "" {
		return o.ID
	}
	return fmt.Sprintf("#%d", i)
}

// matchObservation reports whether any object of the observation
// satisfies the comparison expression: every comparison joined by AND
// must hold for the same object (the reference matcher's rule).
func matchObservation(t ctest, o *Observation) (bool, error) {
	for i := range o.Objects {
		ok, err := evalCmp(t, o, &o.Objects[i])
		if err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

func evalCmp(t ctest, o *Observation, root *Object) (bool, error) {
	switch t := t.(type) {
	case *cAnd:
		ok, err := evalCmp(t.l, o, root)
		if err != nil || !ok {
			return false, err
		}
		return evalCmp(t.r, o, root)
	case *cOr:
		ok, err := evalCmp(t.l, o, root)
		if err != nil || ok {
			return ok, err
		}
		return evalCmp(t.r, o, root)
	case *cTest:
		if typ, _ := root.Props["type"].(string); typ != t.path.Type {
			return false, nil
		}
		vals, err := selectPath(t.path, o, root)
		if err != nil {
			return false, err
		}
		if t.op == Exists {
			return (len(vals) > 0) != t.not, nil
		}
		for _, v := range vals {
			ok, err := t.test(v)
			if err != nil {
				return false, fmt.Errorf("%s: %w", t.path, err)
			}
			if ok {
				return true, nil
			}
		}
	}
	return false, nil
}

// test applies the comparison to one value, NOT included.
func (t *cTest) test(v any) (bool, error) {
	var r bool
	switch t.op {
	case Eq, Ne, Lt, Le, Gt, Ge:
		if t.lit.Kind == TimestampLit {
			var err error
			if v, err = asTime(v); err != nil {
				return false, err
			}
		}
		switch t.op {
		case Eq:
			r = equal(v, t.lit)
		case Ne:
			r = !equal(v, t.lit)
		default:
			c, ok := order(v, t.lit)
			if ok {
				switch t.op {
				case Lt:
					r = c < 0
				case Le:
					r = c <= 0
				case Gt:
					r = c > 0
				default:
					r = c >= 0
				}
			}
		}
	case In:
		if s, ok := v.(string); ok && t.strSet != nil {
			r = t.strSet[s]
			break
		}
		if t.tsSet {
			var err error
			if v, err = asTime(v); err != nil {
				return false, err
			}
		}
		for _, l := range t.set {
			if equal(v, l) {
				r = true
				break
			}
		}
	case Like, Matches:
		var s string
		switch v := v.(type) {
		case string:
			s = norm.NFC.String(v)
		case []byte:
			if !t.binRE {
				return t.not, nil
			}
			s = fromLatin1(v)
		default:
			return t.not, nil
		}
		var err error
		if r, err = t.re.match(s); err != nil {
			return false, err
		}
	case IsSubset, IsSuperset:
		s, ok := v.(string)
		if !ok {
			break
		}
		n, ok := parseNet(s)
		if !ok {
			return false, fmt.Errorf("%q is not an IP address or CIDR network", s)
		}
		if t.op == IsSubset {
			r = within(n, t.net)
		} else {
			r = within(t.net, n)
		}
	}
	return r != t.not, nil
}

// asTime reads a string compared with a timestamp literal as a STIX
// timestamp: a string that is not one is an error, not a mismatch, so
// that a badly formatted timestamp does not go unnoticed.
func asTime(v any) (any, error) {
	s, ok := v.(string)
	if !ok {
		return v, nil
	}
	t, err := stix.ParseTime(s)
	if err != nil {
		return nil, fmt.Errorf("%q is compared with a timestamp but is not a STIX timestamp: %w", s, err)
	}
	return t, nil
}

// selectPath returns the values the path selects in one root object,
// following references through the observation's objects.
func selectPath(p *Path, o *Observation, root *Object) ([]any, error) {
	vals := []any{root.Props}
	for _, st := range p.Steps {
		var next []any
		switch st.Kind {
		case KeyStep:
			for _, v := range vals {
				m, ok := v.(map[string]any)
				if !ok {
					continue
				}
				x, ok := m[st.Key]
				if !ok {
					continue
				}
				x, err := decodeSuffixed(st.Key, x)
				if err != nil {
					return nil, err
				}
				next = append(next, x)
			}
			var err error
			if next, err = deref(st.Key, next, o); err != nil {
				return nil, err
			}
		case IndexStep:
			for _, v := range vals {
				if l, ok := v.([]any); ok && st.Index < int64(len(l)) {
					next = append(next, l[st.Index])
				}
			}
		case StarStep:
			for _, v := range vals {
				if l, ok := v.([]any); ok {
					next = append(next, l...)
				}
			}
		}
		if len(next) == 0 {
			return nil, nil
		}
		vals = next
	}
	return vals, nil
}

// deref replaces references by the objects they name: a *_ref value by
// the object, a *_refs list by the list of objects. References that do
// not resolve are dropped.
func deref(key string, vals []any, o *Observation) ([]any, error) {
	switch {
	case strings.HasSuffix(key, "_ref"):
		out := vals[:0:0]
		for _, v := range vals {
			id, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("the value of reference property %s is not a string", key)
			}
			if obj := o.object(id); obj != nil {
				out = append(out, obj)
			}
		}
		return out, nil
	case strings.HasSuffix(key, "_refs"):
		out := vals[:0:0]
		for _, v := range vals {
			l, ok := v.([]any)
			if !ok {
				return nil, fmt.Errorf("the value of reference list property %s is not a list", key)
			}
			var objs []any
			for _, x := range l {
				id, ok := x.(string)
				if !ok {
					return nil, fmt.Errorf("a value of reference list property %s is not a string", key)
				}
				if obj := o.object(id); obj != nil {
					objs = append(objs, obj)
				}
			}
			if len(objs) > 0 {
				out = append(out, objs)
			}
		}
		return out, nil
	}
	return vals, nil
}

func (o *Observation) object(key string) any {
	for i := range o.Objects {
		if o.Objects[i].Key == key {
			return o.Objects[i].Props
		}
	}
	return nil
}

// A binding assigns observations to the [observation expressions] of a
// pattern: here, the multiset of the observations' indexes (an
// observation with number_observed n may appear up to n times: it stands
// for n observations).
type binding []int32

// search finds a binding by depth-first enumeration with early exit.
// used counts how many times each observation is taken by the part of
// the binding being built; an observation may not be taken more often
// than its number_observed.
type search struct {
	obs    []Observation
	leaves [][]int32
	used   []int32
	memo   map[*oRepeats][]binding
	steps  int
	err    error
}

func (s *search) step() bool {
	s.steps++
	if s.steps > MaxSteps {
		if s.err == nil {
			s.err = fmt.Errorf("%w (more than %d steps)", ErrTooComplex, MaxSteps)
		}
		return false
	}
	return true
}

func (s *search) take(b binding) {
	for _, i := range b {
		s.used[i]++
	}
}

func (s *search) release(b binding) {
	for _, i := range b {
		s.used[i]--
	}
}

// fits reports whether b can be taken on top of what is used.
func (s *search) fits(b binding) bool {
	s.take(b)
	ok := true
	for _, i := range b {
		if int(s.used[i]) > s.obs[i].NumberObserved {
			ok = false
			break
		}
	}
	s.release(b)
	return ok
}

// enum calls yield with each binding of n that fits on top of what is
// used, until yield returns true; it reports whether yield did (or the
// search gave up, with s.err set).
func (s *search) enum(n onode, yield func(binding) bool) bool {
	if !s.step() {
		return true
	}
	switch n := n.(type) {
	case *oLeaf:
		for _, i := range s.leaves[n.i] {
			if int(s.used[i]) < s.obs[i].NumberObserved {
				if yield(binding{i}) || s.err != nil {
					return true
				}
			}
		}
		return false
	case *oOr:
		return s.enum(n.l, yield) || s.enum(n.r, yield)
	case *oAnd:
		return s.enum(n.l, func(l binding) bool {
			s.take(l)
			stop := s.enum(n.r, func(r binding) bool {
				s.release(l)
				stop := yield(concat(l, r))
				s.take(l)
				return stop
			})
			s.release(l)
			return stop
		})
	case *oFollow:
		return s.enum(n.l, func(l binding) bool {
			latestFirst := s.maxFirst(l)
			s.take(l)
			stop := s.enum(n.r, func(r binding) bool {
				if latestFirst.After(s.minLast(r)) {
					return false
				}
				s.release(l)
				stop := yield(concat(l, r))
				s.take(l)
				return stop
			})
			s.release(l)
			return stop
		})
	case *oWithin:
		return s.enum(n.x, func(b binding) bool {
			if !n.w.covers(s.minLast(b), s.maxFirst(b)) {
				return false
			}
			return yield(b)
		})
	case *oStartStop:
		if !n.start.Before(n.stop) {
			return false
		}
		return s.enum(n.x, func(b binding) bool {
			for _, i := range b {
				o := &s.obs[i]
				if !o.FirstObserved.Before(n.stop) || o.LastObserved.Before(n.start) {
					return false
				}
			}
			return yield(b)
		})
	case *oRepeats:
		return s.repeats(n, yield)
	}
	return false
}

// repeats enumerates the ways of taking n.n bindings of n.x that do not
// overlap, each set of bindings once (in increasing order of the list of
// all bindings of n.x, which is made once per search).
func (s *search) repeats(n *oRepeats, yield func(binding) bool) bool {
	all, ok := s.memo[n]
	if !ok {
		saved := s.used
		s.used = make([]int32, len(s.obs))
		s.enum(n.x, func(b binding) bool {
			all = append(all, slices.Clone(b))
			return len(all) > MaxSteps/20
		})
		s.used = saved
		if s.err != nil {
			return true
		}
		if len(all) > MaxSteps/20 {
			s.err = fmt.Errorf("%w (more than %d bindings under REPEATS)", ErrTooComplex, MaxSteps/20)
			return true
		}
		s.memo[n] = all
	}
	var acc binding
	var rec func(start, k int) bool
	rec = func(start, k int) bool {
		if k == 0 {
			s.release(acc)
			stop := yield(slices.Clone(acc))
			s.take(acc)
			return stop
		}
		for j := start; j < len(all); j++ {
			if !s.step() {
				return true
			}
			b := all[j]
			if !s.fits(b) {
				continue
			}
			s.take(b)
			acc = append(acc, b...)
			stop := rec(j, k-1)
			acc = acc[:len(acc)-len(b)]
			s.release(b)
			if stop {
				return true
			}
		}
		return false
	}
	return rec(0, n.n)
}

func concat(a, b binding) binding {
	out := make(binding, 0, len(a)+len(b))
	return append(append(out, a...), b...)
}

func (s *search) maxFirst(b binding) time.Time {
	t := s.obs[b[0]].FirstObserved
	for _, i := range b[1:] {
		if f := s.obs[i].FirstObserved; f.After(t) {
			t = f
		}
	}
	return t
}

func (s *search) minLast(b binding) time.Time {
	t := s.obs[b[0]].LastObserved
	for _, i := range b[1:] {
		if l := s.obs[i].LastObserved; l.Before(t) {
			t = l
		}
	}
	return t
}
