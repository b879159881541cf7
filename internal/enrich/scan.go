package enrich

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/geo"
	"github.com/parleyhq/parley/internal/pattern"
)

// Found is an address or network named by an object.
type Found struct {
	Target geo.Target
	// Via says where the object names it: "pattern" (an indicator's
	// pattern), "value" (an ipv4-addr or ipv6-addr object itself),
	// "objects.KEY" (observed-data's deprecated objects dictionary), a
	// property path ("x_address", "name") of an infrastructure, or the id
	// of the ipv4-addr or ipv6-addr object it was read from.
	Via string
}

// Scanned is what one object's JSON says that enrichment reads.
type Scanned struct {
	// Type is the object's type.
	Type string
	// Addrs are the addresses and networks the object names itself, each
	// once, in the order found.
	Addrs []Found
	// Refs are the ids of the objects whose addresses count as the
	// object's too: the object_refs of observed-data; the src_ref and
	// dst_ref of network-traffic.
	Refs []string
	// Source and Target are a relationship's source_ref and target_ref.
	Source, Target string
	// Truncated is true when the object names more than MaxAddresses.
	Truncated bool
}

// MaxAddresses bounds the addresses kept of one object; Scan stops there.
const MaxAddresses = 10000

// maxDepth bounds how deep Scan looks into an infrastructure's properties.
const maxDepth = 16

// Types are the object types whose JSON enrichment reads: the ones that
// get an enrichment, and relationship and network-traffic, which it
// follows.
var Types = []string{"indicator", "observed-data", "infrastructure", "ipv4-addr", "ipv6-addr", "network-traffic", "relationship"}

// enriched reports whether objects of type t get an enrichment.
func enriched(t string) bool {
	switch t {
	case "indicator", "observed-data", "infrastructure", "ipv4-addr", "ipv6-addr":
		return true
	}
	return false
}

// object is the part of an object that Scan decodes.
type object struct {
	Type        string                     `json:"type"`
	SpecVersion string                     `json:"spec_version"`
	Pattern     *string                    `json:"pattern"`
	PatternType *string                    `json:"pattern_type"`
	Value       *string                    `json:"value"`
	ObjectRefs  []string                   `json:"object_refs"`
	Objects     map[string]json.RawMessage `json:"objects"`
	SrcRef      string                     `json:"src_ref"`
	DstRef      string                     `json:"dst_ref"`
	SourceRef   string                     `json:"source_ref"`
	TargetRef   string                     `json:"target_ref"`
}

// Scan reads the addresses and networks that one STIX object names, and
// the ids of the objects it takes addresses from:
//
//   - indicator (pattern_type stix): every address or network compared
//     with =, IN, ISSUBSET or ISSUPERSET, without NOT, to ipv4-addr:value,
//     ipv6-addr:value, or the value of a reference (network-traffic's
//     src_ref.value and dst_ref.value, domain-name's
//     resolves_to_refs[*].value);
//   - observed-data: the ipv4-addr and ipv6-addr objects of its
//     deprecated objects dictionary, and its object_refs as Refs;
//   - ipv4-addr and ipv6-addr: their value;
//   - network-traffic: src_ref and dst_ref as Refs;
//   - infrastructure: every string property (at any depth, ids and
//     references aside) that is exactly an address or network;
//   - relationship: source_ref and target_ref.
//
// A value that is not an address (a malformed one, a MAC address) is
// skipped, not an error. The error (kind invalid) is for JSON that is not
// an object, or a pattern that does not parse, and names the object's
// property and the reason.
func Scan(raw []byte) (*Scanned, error) {
	const op = "enrich.Scan"
	var o object
	if err := json.Unmarshal(raw, &o); err != nil {
		return nil, dialogue.Errorf(op, dialogue.KindInvalid, "not a STIX object: %v", err)
	}
	s := &Scanned{Type: o.Type}
	seen := make(map[string]bool)
	add := func(text, via string) {
		t, err := geo.ParseTarget(text)
		if err != nil {
			return
		}
		k := t.String()
		if seen[k] {
			return
		}
		if len(s.Addrs) >= MaxAddresses {
			s.Truncated = true
			return
		}
		seen[k] = true
		s.Addrs = append(s.Addrs, Found{Target: t, Via: via})
	}
	switch o.Type {
	case "indicator":
		if o.Pattern == nil {
			return s, nil
		}
		if o.PatternType != nil && *o.PatternType != "stix" {
			return s, nil
		}
		// A STIX 2.0 indicator (spec_version "2.0", or none: 2.0 had it
		// on bundles only) may use 2.0's START and STOP.
		expr, err := pattern.Parse(*o.Pattern)
		if err != nil && (o.SpecVersion == "2.0" || o.SpecVersion == "") {
			if p, err20 := pattern.CompileVersion(*o.Pattern, pattern.V20); err20 == nil {
				expr, err = p.Expr(), nil
			}
		}
		if err != nil {
			return nil, dialogue.Errorf(op, dialogue.KindInvalid, "property \"pattern\": %v", err)
		}
		walkExpr(expr, func(c *pattern.Comparison) {
			if !addressComparison(c) {
				return
			}
			if c.Op == pattern.In {
				for _, l := range c.Set {
					if l.Kind == pattern.StringLit {
						add(l.Str, "pattern")
					}
				}
				return
			}
			if c.Value != nil && c.Value.Kind == pattern.StringLit {
				add(c.Value.Str, "pattern")
			}
		})
	case "ipv4-addr", "ipv6-addr":
		if o.Value != nil {
			add(*o.Value, "value")
		}
	case "observed-data":
		s.Refs = append(s.Refs, o.ObjectRefs...)
		keys := make([]string, 0, len(o.Objects))
		for k := range o.Objects {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			var sco struct {
				Type  string `json:"type"`
				Value string `json:"value"`
			}
			if json.Unmarshal(o.Objects[k], &sco) != nil {
				continue // not an object: a validator's matter
			}
			if sco.Type == "ipv4-addr" || sco.Type == "ipv6-addr" {
				add(sco.Value, "objects."+k)
			}
		}
	case "network-traffic":
		for _, r := range []string{o.SrcRef, o.DstRef} {
			if r != "" {
				s.Refs = append(s.Refs, r)
			}
		}
	case "relationship":
		s.Source, s.Target = o.SourceRef, o.TargetRef
	case "infrastructure":
		var v any
		d := json.NewDecoder(bytes.NewReader(raw))
		if err := d.Decode(&v); err != nil {
			return nil, dialogue.Errorf(op, dialogue.KindInvalid, "not a STIX object: %v", err)
		}
		m, _ := v.(map[string]any)
		walkStrings(m, "", 0, add)
	}
	return s, nil
}

// walkStrings calls add for each string of v at path (keys joined by '.',
// indexes in brackets), skipping ids and references.
func walkStrings(v any, path string, depth int, add func(text, via string)) {
	if depth > maxDepth {
		return
	}
	switch v := v.(type) {
	case string:
		if path != "" {
			add(v, path)
		}
	case []any:
		for i, x := range v {
			walkStrings(x, fmt.Sprintf("%s[%d]", path, i), depth+1, add)
		}
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			if k == "id" || k == "type" || strings.HasSuffix(k, "_ref") || strings.HasSuffix(k, "_refs") {
				continue
			}
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			walkStrings(v[k], p, depth+1, add)
		}
	}
}

// addressComparison reports whether c names addresses the indicator
// stands for: a positive =, IN, ISSUBSET or ISSUPERSET on the value of an
// address object, or on the value that a reference of another object
// leads to.
func addressComparison(c *pattern.Comparison) bool {
	if c.Not {
		return false
	}
	switch c.Op {
	case pattern.Eq, pattern.In, pattern.IsSubset, pattern.IsSuperset:
	default:
		return false
	}
	steps := c.Path.Steps
	n := len(steps)
	if n == 0 || steps[n-1].Kind != pattern.KeyStep || steps[n-1].Key != "value" {
		return false
	}
	if n == 1 {
		return c.Path.Type == "ipv4-addr" || c.Path.Type == "ipv6-addr"
	}
	// network-traffic:src_ref.value, domain-name:resolves_to_refs[*].value:
	// the step before value is a reference (through an index for a list).
	prev := steps[n-2]
	if prev.Kind != pattern.KeyStep && n >= 3 {
		prev = steps[n-3]
	}
	return prev.Kind == pattern.KeyStep && (strings.HasSuffix(prev.Key, "_ref") || strings.HasSuffix(prev.Key, "_refs"))
}

// walkExpr calls fn for every comparison of e.
func walkExpr(e pattern.Expr, fn func(*pattern.Comparison)) {
	switch e := e.(type) {
	case *pattern.Bracket:
		walkCmp(e.Cmp, fn)
	case *pattern.Paren:
		walkExpr(e.X, fn)
	case *pattern.Binary:
		walkExpr(e.L, fn)
		walkExpr(e.R, fn)
	case *pattern.Qualified:
		walkExpr(e.X, fn)
	}
}

func walkCmp(c pattern.Cmp, fn func(*pattern.Comparison)) {
	switch c := c.(type) {
	case *pattern.Comparison:
		fn(c)
	case *pattern.CmpParen:
		walkCmp(c.X, fn)
	case *pattern.CmpBinary:
		walkCmp(c.L, fn)
		walkCmp(c.R, fn)
	}
}
