package stix

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// firstDuplicate is a reference for the duplicate check: it reads data
// token by token with encoding/json and returns the JSON pointer of the
// first member name (in document order) that repeats an earlier name of
// its object, and ok; or ok false when the document is JSON without a
// duplicate or fails before one (syntax is encoding/json's to judge).
func firstDuplicate(data []byte) (ptr string, ok bool) {
	type level struct {
		obj   bool
		names map[string]bool
		key   string // object: the member being read
		index int    // list: the element being read
		isKey bool   // object: the next string token is a name
	}
	var stack []*level
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	// after a value: the enclosing object expects a name, the list
	// moves to its next element
	valueDone := func() {
		if len(stack) == 0 {
			return
		}
		top := stack[len(stack)-1]
		if top.obj {
			top.isKey = true
		} else {
			top.index++
		}
	}
	pointer := func() string {
		var segs []any
		for _, l := range stack {
			if l.obj {
				segs = append(segs, []byte(l.key))
			} else {
				segs = append(segs, l.index)
			}
		}
		return jp("", segs...)
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", false
		}
		var top *level
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &level{obj: true, names: map[string]bool{}, isKey: true})
			continue
		case json.Delim('['):
			stack = append(stack, &level{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			valueDone()
			continue
		}
		if top != nil && top.obj && top.isKey {
			name := tok.(string)
			top.key, top.isKey = name, false
			if top.names[name] {
				return pointer(), true
			}
			top.names[name] = true
			continue
		}
		valueDone()
	}
}

// randomObject writes a random object of up to depth levels: members
// from a small set of names (so that some repeat, some written with an
// escape) numerous enough that both the comparing and the sorted
// duplicate checks are used, with numbers, lists and objects as values.
func randomObject(r *rand.Rand, b *strings.Builder, depth int) {
	b.WriteByte('{')
	n := r.IntN(3 * linearKeys)
	if depth < 2 {
		n = r.IntN(2*linearKeys + 4)
	}
	names := 2 + r.IntN(8*linearKeys)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		k := r.IntN(names)
		if r.IntN(8) == 0 {
			fmt.Fprintf(b, `"\u006b%d":`, k) // "k<k>" escaped
		} else {
			fmt.Fprintf(b, `"k%d":`, k)
		}
		switch v := r.IntN(10); {
		case v < 7 || depth == 0:
			b.WriteString(strconv.Itoa(i))
		case v < 8:
			randomObject(r, b, depth-1)
		default:
			b.WriteString(`[1,`)
			randomObject(r, b, depth-1)
			b.WriteString(`]`)
		}
	}
	b.WriteByte('}')
}

// TestDuplicateFirstInDocumentOrder checks the duplicate check against
// firstDuplicate on random documents, whole and cut short or spoilt at
// a random byte: the duplicate reported is the first in document order
// (at every level, however many members the objects have), a duplicate
// before a syntax error is reported rather than the syntax error, and
// the error's offset is that of the repeated name. The seed of a
// failing document is printed.
func TestDuplicateFirstInDocumentOrder(t *testing.T) {
	dups := 0
	for seed := range uint64(3000) {
		r := rand.New(rand.NewPCG(seed, 1))
		var b strings.Builder
		randomObject(r, &b, 2)
		data := []byte(b.String())
		switch r.IntN(3) {
		case 1:
			data = data[:r.IntN(len(data)+1)]
		case 2:
			data[r.IntN(len(data))] = "x,:{}[]\""[r.IntN(8)]
		}
		want, isDup := firstDuplicate(data)
		d := getDecoder(data)
		_, err := d.decode()
		d.release()
		var je *jsonError
		if err != nil && !errors.As(err, &je) {
			t.Fatalf("seed %d: error of type %T", seed, err)
		}
		switch {
		case isDup:
			dups++
			if je == nil || je.rule != RuleDuplicate || je.ptr != want {
				t.Errorf("seed %d: %s\ngot %v, want a duplicate at %s", seed, data, err, want)
				continue
			}
			// the offset is that of the repeated name's opening quote
			name := want[strings.LastIndexByte(want, '/')+1:]
			var s string
			dec := json.NewDecoder(bytes.NewReader(data[je.off:]))
			if tok, err := dec.Token(); err != nil || data[je.off] != '"' {
				t.Errorf("seed %d: offset %d is not a name: %v", seed, je.off, err)
			} else if s, _ = tok.(string); s != name {
				t.Errorf("seed %d: offset %d has name %q, want %q", seed, je.off, s, name)
			}
		case je != nil && je.rule == RuleDuplicate:
			t.Errorf("seed %d: %s\ngot %v, want no duplicate", seed, data, err)
		case err == nil && !json.Valid(data):
			t.Errorf("seed %d: accepted invalid JSON %s", seed, data)
		}
	}
	if dups < 300 {
		t.Errorf("only %d of the documents had a duplicate", dups)
	}
}
