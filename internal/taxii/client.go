package taxii

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/httpapi"
)

// PinOf returns the pin of a certificate: the base64 (standard, padded)
// SHA-256 of its SubjectPublicKeyInfo, as HPKP and curl's --pinnedpubkey
// write it (without the "sha256//" prefix).
func PinOf(cert *x509.Certificate) string { return httpapi.PinOf(cert) }

// ClientOptions configures a Client. At most one of Password (with User)
// and Token is used; Pin and Insecure are exclusive.
type ClientOptions struct {
	User, Password string
	Token          string
	// Pin, when set, accepts exactly the server whose certificate's public
	// key has this pin (see PinOf), whoever signed it: for self-signed
	// nodes. Name and chain are not checked; the pin is the identity.
	Pin string
	// Insecure skips every certificate check. For test servers only.
	Insecure bool
	// PageSize is the limit asked for per page (0: the server's default).
	PageSize int
	// MaxResponseBytes caps a response body (default 256 MiB).
	MaxResponseBytes int64
	// Timeout bounds each request (default 2 minutes).
	Timeout time.Duration
	Logger  *slog.Logger
	// Transport, when set, replaces the HTTP transport (tests); Pin and
	// Insecure are then ignored.
	Transport http.RoundTripper
}

// Client talks to one remote TAXII 2.1 API root.
type Client struct {
	root string // API root URL, ending in "/"
	opt  ClientOptions
	http *http.Client
}

// NewClient returns a client for the API root at apiRoot (e.g.
// https://node.example:8443/taxii2/parley/), which must be an https://
// URL: a plain http:// one is refused, since TAXII 2.1 wants HTTPS and
// the credentials would travel in clear.
func NewClient(apiRoot string, opt ClientOptions) (*Client, error) {
	const op = "taxii.NewClient"
	u, err := url.Parse(apiRoot)
	if err == nil && u.Scheme == "http" {
		// TAXII 2.1 section 8.5.1: a client must use HTTPS. Over plain
		// HTTP the password or token would cross the network in clear.
		return nil, dialogue.Errorf(op, dialogue.KindInvalid, "API root URL %q: plain http:// refused: TAXII 2.1 clients must use HTTPS, and the password or token would be sent in clear; use https://", truncate(apiRoot, 200))
	}
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, dialogue.Errorf(op, dialogue.KindInvalid, "API root URL %q: want https://host[:port]/path/", truncate(apiRoot, 200))
	}
	if opt.Pin != "" && opt.Insecure {
		return nil, dialogue.Errorf(op, dialogue.KindInvalid, "give a TLS pin or insecure, not both")
	}
	if opt.Pin != "" {
		if b, err := base64.StdEncoding.DecodeString(opt.Pin); err != nil || len(b) != sha256.Size {
			return nil, dialogue.Errorf(op, dialogue.KindInvalid, "TLS pin %q: want the base64 SHA-256 of the server's public key (44 characters)", opt.Pin)
		}
	}
	if opt.Password != "" && opt.Token != "" {
		return nil, dialogue.Errorf(op, dialogue.KindInvalid, "give a password or a token, not both")
	}
	if opt.MaxResponseBytes <= 0 {
		opt.MaxResponseBytes = 256 << 20
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 2 * time.Minute
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	rt := opt.Transport
	if rt == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = ClientTLS(opt.Pin, opt.Insecure)
		rt = tr
	}
	root := u.String()
	if !strings.HasSuffix(root, "/") {
		root += "/"
	}
	return &Client{root: root, opt: opt, http: &http.Client{Transport: rt, Timeout: opt.Timeout}}, nil
}

// ClientTLS is the client TLS configuration: TLS 1.3, or TLS 1.2 with the
// modern suites of httpapi.TLS12CipherSuites (TAXII 2.1 section 8.5.1: a
// client must support TLS 1.2, which many TAXII servers still speak);
// with a pin, the normal verification is replaced (InsecureSkipVerify) by
// the pin check in VerifyConnection, which then is the only check and
// cannot be skipped. A node's client of its peers is httpapi.PeerClient,
// TLS 1.3 only.
func ClientTLS(pin string, insecure bool) *tls.Config {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, CipherSuites: httpapi.TLS12CipherSuites()}
	switch {
	case pin != "":
		want, _ := base64.StdEncoding.DecodeString(pin)
		cfg.InsecureSkipVerify = true
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("server sent no certificate")
			}
			sum := sha256.Sum256(cs.PeerCertificates[0].RawSubjectPublicKeyInfo)
			if subtle.ConstantTimeCompare(sum[:], want) != 1 {
				return fmt.Errorf("server certificate's pin %s does not match the expected pin", base64.StdEncoding.EncodeToString(sum[:]))
			}
			return nil
		}
	case insecure:
		cfg.InsecureSkipVerify = true
	}
	return cfg
}

// response is a successful answer.
type response struct {
	header http.Header
	body   []byte
}

// get fetches path (relative to the API root) with query q.
func (c *Client) get(ctx context.Context, path string, q url.Values) (*response, error) {
	const op = "taxii.Client"
	u := c.root + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, dialogue.E(op, dialogue.KindInvalid, err)
	}
	req.Header.Set("Accept", MediaTypeTAXII)
	switch {
	case c.opt.Token != "":
		req.Header.Set("Authorization", "Bearer "+c.opt.Token)
	case c.opt.User != "":
		req.SetBasicAuth(c.opt.User, c.opt.Password)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, dialogue.E(op, dialogue.KindUnavailable, ctx.Err())
		}
		return nil, dialogue.Errorf(op, dialogue.KindUnavailable, "GET %s: %w", u, stripURLError(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.opt.MaxResponseBytes+1))
	if err != nil {
		return nil, dialogue.Errorf(op, dialogue.KindUnavailable, "GET %s: reading the answer: %w", u, err)
	}
	if int64(len(body)) > c.opt.MaxResponseBytes {
		return nil, dialogue.Errorf(op, dialogue.KindTooLarge, "GET %s: answer larger than %d bytes", u, c.opt.MaxResponseBytes)
	}
	if resp.StatusCode != http.StatusOK {
		var eo httpapi.ErrorObject
		msg := resp.Status
		if json.Unmarshal(body, &eo) == nil && eo.Title != "" {
			msg = eo.Title
			if eo.Description != "" {
				msg += ": " + eo.Description
			}
		}
		return nil, dialogue.Errorf(op, httpapi.KindOfStatus(resp.StatusCode), "GET %s: the server answered %d (%s)", u, resp.StatusCode, truncate(msg, 300))
	}
	return &response{header: resp.Header, body: body}, nil
}

func stripURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// Objects fetches one page of a remote collection's objects with the
// given query (added_after, limit, next, match[...]).
func (c *Client) Objects(ctx context.Context, collectionID string, q url.Values) (*Envelope, http.Header, error) {
	const op = "taxii.Client.Objects"
	resp, err := c.get(ctx, "collections/"+url.PathEscape(collectionID)+"/objects/", q)
	if err != nil {
		return nil, nil, err
	}
	var env Envelope
	dec := json.NewDecoder(bytes.NewReader(resp.body))
	if err := dec.Decode(&env); err != nil {
		return nil, nil, dialogue.Errorf(op, dialogue.KindInvalid, "the server's envelope is not valid: %v", err)
	}
	return &env, resp.header, nil
}

// Collections lists the remote API root's collections the user can see.
func (c *Client) Collections(ctx context.Context) ([]CollectionInfo, error) {
	resp, err := c.get(ctx, "collections/", nil)
	if err != nil {
		return nil, err
	}
	var cs Collections
	if err := json.Unmarshal(resp.body, &cs); err != nil {
		return nil, dialogue.Errorf("taxii.Client.Collections", dialogue.KindInvalid, "the server's collections resource is not valid: %v", err)
	}
	return cs.Collections, nil
}
