package httpapi

import (
	"crypto/tls"
	"net/http"
	"time"
)

// PeerClientHTTP1 is PeerClient limited to HTTP/1.1, for the benchmark
// that chose HTTP/2.
func PeerClientHTTP1(cert tls.Certificate, pin string, timeout time.Duration) *http.Client {
	return peerClient(cert, pin, timeout, false)
}
