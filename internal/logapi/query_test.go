package logapi

import (
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/dialogue"
)

func TestParseInclusionQuery(t *testing.T) {
	var h [32]byte
	for i := range h {
		h[i] = byte(i * 7)
	}
	for _, tc := range []struct {
		raw  string
		want InclusionQuery
	}{
		{"index=3", InclusionQuery{Index: 3}},
		{"index=0&size=1", InclusionQuery{Index: 0, Size: 1}},
		{"size=9&index=8", InclusionQuery{Index: 8, Size: 9}},
		{"leaf=" + hex.EncodeToString(h[:]), InclusionQuery{Leaf: h, HasLeaf: true}},
		{"leaf=" + base64.StdEncoding.EncodeToString(h[:]) + "&size=5", InclusionQuery{Leaf: h, HasLeaf: true, Size: 5}},
		{"leaf=" + strings.ReplaceAll(base64.StdEncoding.EncodeToString(h[:]), "+", "%2B"), InclusionQuery{Leaf: h, HasLeaf: true}},
		{"leaf=" + base64.URLEncoding.EncodeToString(h[:]), InclusionQuery{Leaf: h, HasLeaf: true}},
	} {
		q, err := ParseInclusionQuery(tc.raw)
		if err != nil || *q != tc.want {
			t.Errorf("ParseInclusionQuery(%q) = %+v, %v; want %+v", tc.raw, q, err, tc.want)
		}
	}
}

func TestParseQueryBad(t *testing.T) {
	for _, tc := range []struct {
		consistency bool
		raw         string
		want        []string // substrings of the error: the parameter and the reason
	}{
		{false, "", []string{"leaf", "index", "required"}},
		{false, "index=1&leaf=" + strings.Repeat("0", 64), []string{"leaf or index, not both"}},
		{false, "index=x", []string{"parameter index", "not a decimal"}},
		{false, "index=-1", []string{"parameter index", "not a decimal"}},
		{false, "index=01", []string{"parameter index", "leading zero"}},
		{false, "index=", []string{"parameter index", "empty"}},
		{false, "index=99999999999999999999", []string{"parameter index", "too large"}},
		{false, "index=5&size=5", []string{"parameter index", "not below size 5"}},
		{false, "index=0&size=0", []string{"parameter size", "no leaves"}},
		{false, "index=1&index=2", []string{"parameter index", "twice"}},
		{false, "index=1&frob=2", []string{`parameter "frob"`, "unknown"}},
		{false, "leaf=abcd", []string{"parameter leaf", "neither 64 hex digits nor the base64"}},
		{false, "leaf=" + strings.Repeat("g", 64), []string{"parameter leaf", "neither"}},
		{false, "leaf=%zz", []string{"parameter leaf", "percent-encoding"}},
		{true, "", []string{"parameter old", "required"}},
		{true, "new=3", []string{"parameter old", "required"}},
		{true, "old=4&new=3", []string{"parameter old", "above new 3"}},
		{true, "old=1&new=0", []string{"parameter new", "0"}},
		{true, "old=+1", []string{"parameter old", "not a decimal"}},
		{true, "old=1&old=1", []string{"parameter old", "twice"}},
		{true, "old=1&size=3", []string{`parameter "size"`, "unknown"}},
	} {
		var err error
		if tc.consistency {
			_, err = ParseConsistencyQuery(tc.raw)
		} else {
			_, err = ParseInclusionQuery(tc.raw)
		}
		if err == nil {
			t.Errorf("%q: no error", tc.raw)
			continue
		}
		if dialogue.KindOf(err) != dialogue.KindInvalid {
			t.Errorf("%q: kind %v, want invalid", tc.raw, dialogue.KindOf(err))
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%q: error %q does not say %q", tc.raw, err, w)
			}
		}
	}
}

func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{"index=3&size=9", "leaf=" + strings.Repeat("ab", 32), "old=1&new=2", "old=0", "a=b&&c", "leaf=%2B%2F"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if q, err := ParseInclusionQuery(raw); err == nil {
			if q.Index < 0 || q.Size < 0 || (!q.HasLeaf && q.Size > 0 && q.Index >= q.Size) {
				t.Fatalf("%q accepted as %+v", raw, q)
			}
		} else if dialogue.KindOf(err) != dialogue.KindInvalid {
			t.Fatalf("%q: kind %v", raw, dialogue.KindOf(err))
		}
		if q, err := ParseConsistencyQuery(raw); err == nil {
			if q.Old < 0 || q.New < 0 || (q.New > 0 && q.Old > q.New) {
				t.Fatalf("%q accepted as %+v", raw, q)
			}
		} else if dialogue.KindOf(err) != dialogue.KindInvalid {
			t.Fatalf("%q: kind %v", raw, dialogue.KindOf(err))
		}
	})
}
