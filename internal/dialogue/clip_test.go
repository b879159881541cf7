package dialogue

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCut(t *testing.T) {
	ru := strings.Repeat("Отчёт об инциденте ", 20) // two bytes a letter
	for _, tc := range []struct {
		s    string
		n    int
		want string
	}{
		{"abc", 5, "abc"},
		{"abc", 3, "abc"},
		{"abc", 2, "ab"},
		{"abc", 0, ""},
		{"Отчёт", 3, "О"},
		{"Отчёт", 4, "От"},
		{"日本語", 4, "日"},
		{"日本語", 2, ""},
		{"a😀b", 4, "a"},
		{"a😀b", 5, "a😀"},
		{"ab\xffcd", 3, "ab\xff"},
		{"a\x80\x80\x80\x80b", 3, "a\x80\x80"},
	} {
		if got := Cut(tc.s, tc.n); got != tc.want {
			t.Errorf("Cut(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
		}
	}
	for n := range len(ru) + 2 {
		got := Cut(ru, n)
		if !utf8.ValidString(got) || len(got) > n || len(got) < n-1 || !strings.HasPrefix(ru, got) {
			t.Fatalf("Cut(Cyrillic, %d) = %q", n, got)
		}
		if c := Clip(ru, n); !utf8.ValidString(c) {
			t.Fatalf("Clip(Cyrillic, %d) = %q", n, c)
		}
	}
	if got := Clip("Отчёт", 3); got != "О…" {
		t.Errorf("Clip = %q", got)
	}
}

func FuzzCut(f *testing.F) {
	f.Add("Отчёт об инциденте", 7)
	f.Add("a\xff\x80b", 2)
	f.Fuzz(func(t *testing.T, s string, n int) {
		got := Cut(s, n)
		if !strings.HasPrefix(s, got) || len(got) > max(n, 0) || len(s) > max(n, 0) && len(got) < n-utf8.UTFMax+1 {
			t.Fatalf("Cut(%q, %d) = %q", s, n, got)
		}
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Fatalf("Cut(%q, %d) = %q, not valid UTF-8", s, n, got)
		}
	})
}
