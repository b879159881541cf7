package webui

import "crypto/subtle"

// subtleEqual compares two tokens in constant time.
func subtleEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
