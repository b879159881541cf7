package logapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/httpapi"
	"github.com/parleyhq/parley/internal/taxii"
	"github.com/parleyhq/parley/internal/tlog"
)

// WitnessError is a witness's refusal of an add-checkpoint request: its
// HTTP status, its message and, for a 409 with a size body, the size it
// knows.
type WitnessError struct {
	Status int
	// Known is the size the witness last cosigned (409 with a
	// text/x.tlog.size body), else -1.
	Known   int64
	Message string
}

func (e *WitnessError) Error() string {
	if e.Known >= 0 {
		return fmt.Sprintf("witness answered %d: it knows size %d", e.Status, e.Known)
	}
	return fmt.Sprintf("witness answered %d: %s", e.Status, e.Message)
}

// AddCheckpoint asks the witness at witnessURL (the endpoint itself,
// https://host:port/witness/add-checkpoint) to cosign a signed
// checkpoint, given the size the witness last cosigned and the
// consistency proof from it. It returns the cosignature lines, which
// tlog.AddCosignatures checks and adds to the checkpoint. A refusal is a
// *WitnessError (with the dialogue kind of its status).
func AddCheckpoint(ctx context.Context, client *http.Client, witnessURL string, oldSize int64, proof []tlog.Hash, checkpoint []byte) ([]byte, error) {
	const op = "logapi.AddCheckpoint"
	req := &tlog.AddCheckpointRequest{OldSize: oldSize, Proof: proof, Checkpoint: checkpoint}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, witnessURL, bytes.NewReader(req.Marshal()))
	if err != nil {
		return nil, dialogue.E(op, dialogue.KindInvalid, err)
	}
	hr.Header.Set("Content-Type", "text/plain; charset=utf-8")
	resp, err := client.Do(hr)
	if err != nil {
		return nil, dialogue.E(op, dialogue.KindUnavailable, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxWitnessBody))
	if err != nil {
		return nil, dialogue.E(op, dialogue.KindUnavailable, err)
	}
	if resp.StatusCode == http.StatusOK {
		return body, nil
	}
	we := &WitnessError{Status: resp.StatusCode, Known: -1, Message: strings.TrimSpace(clip(string(body)))}
	if resp.StatusCode == http.StatusConflict && strings.HasPrefix(resp.Header.Get("Content-Type"), ContentTypeSize) {
		if n, err := strconv.ParseInt(strings.TrimSuffix(string(body), "\n"), 10, 64); err == nil && n >= 0 {
			we.Known = n
		}
	}
	return nil, dialogue.E(op, httpapi.KindOfStatus(resp.StatusCode), we)
}

// HTTPClient returns an HTTPS client (taxii.ClientTLS: TLS 1.3, or 1.2
// with modern suites) for a node's log or
// witness: with pin (the base64 SHA-256 of the server's public key, as
// `parley keys show` prints after tls-pin) it accepts exactly that
// server whoever signed its certificate; insecure skips every check (test
// servers only); with neither, the system's roots verify the server.
func HTTPClient(pin string, insecure bool) (*http.Client, error) {
	const op = "logapi.HTTPClient"
	pin = strings.TrimPrefix(pin, "sha256//")
	switch {
	case pin != "" && insecure:
		return nil, dialogue.Errorf(op, dialogue.KindInvalid, "give a TLS pin or insecure, not both")
	case pin != "":
		if want, err := base64.StdEncoding.DecodeString(pin); err != nil || len(want) != sha256.Size {
			return nil, dialogue.Errorf(op, dialogue.KindInvalid, "TLS pin %q: want the base64 SHA-256 of the server's public key (44 characters)", clip(pin))
		}
	}
	cfg := taxii.ClientTLS(pin, insecure)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = cfg
	return &http.Client{Transport: tr, Timeout: 2 * time.Minute}, nil
}

// MaxFetch caps one fetched log resource (a full entry bundle of
// maximum-size entries is 256 × 64 KiB).
const MaxFetch = 17 << 20

// NewFetcher returns a tlog.Fetcher that GETs paths under a log's URL
// (https://host:port/log/<collection-id>/), with a bearer token when
// token is not empty. A status other than 200 is an error naming it.
func NewFetcher(client *http.Client, logURL, token string) tlog.Fetcher {
	if !strings.HasSuffix(logURL, "/") {
		logURL += "/"
	}
	return func(ctx context.Context, path string) ([]byte, error) {
		const op = "logapi.Fetch"
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, logURL+path, nil)
		if err != nil {
			return nil, dialogue.E(op, dialogue.KindInvalid, err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, dialogue.E(op, dialogue.KindUnavailable, err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(io.LimitReader(resp.Body, MaxFetch+1))
		if err != nil {
			return nil, dialogue.E(op, dialogue.KindUnavailable, err)
		}
		if resp.StatusCode != http.StatusOK {
			return nil, dialogue.Errorf(op, httpapi.KindOfStatus(resp.StatusCode), "GET %s: %s", path, resp.Status)
		}
		if len(body) > MaxFetch {
			return nil, dialogue.Errorf(op, dialogue.KindTooLarge, "GET %s: more than %d bytes", path, MaxFetch)
		}
		return body, nil
	}
}
