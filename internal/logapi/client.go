package logapi

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/parleyhq/parley/internal/dialogue"
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
	kind := dialogue.KindInvalid
	switch resp.StatusCode {
	case http.StatusConflict:
		kind = dialogue.KindConflict
	case http.StatusForbidden:
		kind = dialogue.KindForbidden
	case http.StatusNotFound:
		kind = dialogue.KindNotFound
	}
	if resp.StatusCode >= 500 {
		kind = dialogue.KindUnavailable
	}
	return nil, dialogue.E(op, kind, we)
}
