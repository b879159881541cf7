package httpapi

import (
	"crypto/tls"
	"net/http"
	"time"
)

// PeerClientHTTP2 is PeerClient speaking HTTP/2 only, for the benchmark
// that chose HTTP/1.1.
func PeerClientHTTP2(cert tls.Certificate, pin string, timeout time.Duration) *http.Client {
	return peerClient(cert, pin, timeout, true)
}
