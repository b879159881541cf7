package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// DefaultPeerTimeout bounds a request of PeerClient when no timeout is
// given: the whole exchange, from dialling to the end of the body.
const DefaultPeerTimeout = time.Minute

// PeerClient returns the HTTP client a node calls one peer with: TLS 1.3,
// the node's certificate cert presented as client certificate, and exactly
// the server whose public key has pin pin accepted (see PinOf; the chain
// and names are not checked; a malformed pin matches no server).
// Connections are kept alive (up to 8 idle, 16 in all, per peer), TLS
// sessions resumed, and a dead connection found by TCP keep-alive within
// half a minute. It speaks HTTP/1.1: over mutual TLS on this machine
// HTTP/2 was no faster for small GETs, one at a time or 8 at once, and
// 5-40% slower for 1 MiB bodies (BenchmarkPeerRequestsCompare). timeout bounds each request, body
// included (DefaultPeerTimeout when 0); callers that stream large bodies
// pass a longer one or a context deadline.
func PeerClient(cert tls.Certificate, pin string, timeout time.Duration) *http.Client {
	return peerClient(cert, pin, timeout, false)
}

func peerClient(cert tls.Certificate, pin string, timeout time.Duration, h2 bool) *http.Client {
	if timeout <= 0 {
		timeout = DefaultPeerTimeout
	}
	var protos http.Protocols
	protos.SetHTTP1(!h2)
	protos.SetHTTP2(h2)
	dialer := &net.Dialer{
		Timeout:         10 * time.Second,
		KeepAliveConfig: net.KeepAliveConfig{Enable: true, Idle: 15 * time.Second, Interval: 5 * time.Second, Count: 3},
	}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		TLSClientConfig:       peerClientTLS(cert, pin),
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: timeout,
		ExpectContinueTimeout: time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   8,
		MaxConnsPerHost:       16,
		Protocols:             &protos,
		HTTP2:                 &http.HTTP2Config{SendPingTimeout: 15 * time.Second, PingTimeout: 15 * time.Second},
	}
	return &http.Client{Transport: tr, Timeout: timeout}
}

// peerClientTLS is TLS 1.3 with the pin check in VerifyConnection as the
// only check of the server (as taxii.ClientTLS), and cert presented to a
// server that asks for a client certificate.
func peerClientTLS(cert tls.Certificate, pin string) *tls.Config {
	want, err := base64.StdEncoding.DecodeString(pin)
	if err != nil || len(want) != sha256.Size {
		want = nil
	}
	return &tls.Config{
		MinVersion:         tls.VersionTLS13,
		InsecureSkipVerify: true, // replaced by the pin check below
		VerifyConnection: func(cs tls.ConnectionState) error {
			if want == nil {
				return fmt.Errorf("the expected server pin %q is not the base64 SHA-256 of a public key", pin)
			}
			if len(cs.PeerCertificates) == 0 {
				return errors.New("server sent no certificate")
			}
			sum := sha256.Sum256(cs.PeerCertificates[0].RawSubjectPublicKeyInfo)
			if subtle.ConstantTimeCompare(sum[:], want) != 1 {
				return fmt.Errorf("server certificate's pin %s does not match the peer's pin %s", base64.StdEncoding.EncodeToString(sum[:]), pin)
			}
			return nil
		},
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return &cert, nil
		},
		ClientSessionCache: tls.NewLRUClientSessionCache(16),
	}
}
