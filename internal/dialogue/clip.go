package dialogue

import "unicode/utf8"

// Cut returns s cut to at most n bytes, on a character boundary: a
// multi-byte UTF-8 character is never split, so that what is cut (a
// title, a name signed into the log, an error quoting input) stays
// valid UTF-8. Bytes of s that are not valid UTF-8 count one each.
func Cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	// the character that straddles the limit starts at most
	// utf8.UTFMax-1 bytes before it
	for i := n; i >= 0 && i > n-utf8.UTFMax; i-- {
		if utf8.RuneStart(s[i]) {
			if r, size := utf8.DecodeRuneInString(s[i:]); i < n && !(r == utf8.RuneError && size == 1) && i+size > n {
				return s[:i]
			}
			break
		}
	}
	return s[:n]
}

// Clip is Cut with "…" added when something was cut off, for text shown
// to a person.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return Cut(s, n) + "…"
}
