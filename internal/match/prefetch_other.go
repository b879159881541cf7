//go:build !amd64

package match

import "unsafe"

// prefetch does nothing where there is no assembly for it: Feed then
// only costs a copy.
func prefetch(p unsafe.Pointer) {}
