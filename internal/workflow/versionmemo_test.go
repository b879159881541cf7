package workflow

import (
	"testing"

	"github.com/parleyhq/parley/internal/dialogue"
)

// The version memo computes a value once per distinct JSON (the versions
// of one object count as a whole, in order, and their boundaries count:
// "ab","c" is not "a","bc"), keeps for the next fold only what the last
// fold used, and is per store, channel, kind and parties.
func TestVersionMemo(t *testing.T) {
	s := &Service{Self: dialogue.Party{Name: "party-a", IdentityID: "identity--a"}}
	ch := &dialogue.Channel{ID: "ch"}
	other := dialogue.Party{Name: "party-b", IdentityID: "identity--b"}
	calls := 0
	compute := func(v string) func() any {
		return func() any { calls++; return v }
	}
	m := s.memo("test", ch, other)
	if got := m.get(compute("one"), []byte("ab"), []byte("c")); got != "one" {
		t.Fatalf("get = %v", got)
	}
	if got := m.get(compute("two"), []byte("a"), []byte("bc")); got != "two" || calls != 2 {
		t.Fatalf("another split of the same bytes: %v after %d computations, want two after 2", got, calls)
	}
	if got := m.get(compute("again"), []byte("ab"), []byte("c")); got != "one" || calls != 2 {
		t.Fatalf("the same versions again in one fold: %v after %d computations", got, calls)
	}
	m.keep()

	// The next fold finds what the last one used, and uses only "ab","c".
	m = s.memo("test", ch, other)
	if got := m.get(compute("recomputed"), []byte("ab"), []byte("c")); got != "one" || calls != 2 {
		t.Fatalf("next fold: %v after %d computations, want the kept value", got, calls)
	}
	if got := m.peek(compute("peeked"), []byte("a"), []byte("bc")); got != "two" || calls != 2 {
		t.Fatalf("peek: %v after %d computations, want the kept value", got, calls)
	}
	m.keep()
	m = s.memo("test", ch, other)
	if got := m.peek(compute("dropped"), []byte("a"), []byte("bc")); got != "dropped" || calls != 3 {
		t.Fatalf("a value the last fold did not use is kept: %v after %d computations", got, calls)
	}

	// Other kinds, channels and parties have memos of their own.
	for name, m := range map[string]*versionMemo{
		"kind":    s.memo("other-kind", ch, other),
		"channel": s.memo("test", &dialogue.Channel{ID: "ch2"}, other),
		"party":   s.memo("test", ch, dialogue.Party{IdentityID: "identity--c"}),
	} {
		if got := m.peek(compute(name), []byte("ab"), []byte("c")); got != name {
			t.Errorf("another %s shares the memo: %v", name, got)
		}
	}
}
