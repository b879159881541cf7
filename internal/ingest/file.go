package ingest

import (
	"bytes"
	"context"
	"encoding/json"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/stix"
)

// File ingests the contents of a file: a STIX bundle, a single STIX object
// (as the OASIS examples ship some), or a TAXII envelope ({"objects": …}).
// Content that is none of these is KindInvalid and writes nothing.
func File(ctx context.Context, st dialogue.Store, collectionID string, data []byte, mode Mode) (*Report, error) {
	const op = "ingest.File"
	var head struct {
		Type    *string          `json:"type"`
		Objects *json.RawMessage `json:"objects"`
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		// Let the bundle parser give its precise message.
		return Bundle(ctx, st, collectionID, data, mode)
	}
	if err := json.Unmarshal(trimmed, &head); err != nil {
		return Bundle(ctx, st, collectionID, data, mode)
	}
	switch {
	case head.Type != nil && *head.Type == "bundle":
		return Bundle(ctx, st, collectionID, data, mode)
	case head.Type != nil:
		return Objects(ctx, st, collectionID, []json.RawMessage{trimmed}, mode)
	case head.Objects != nil:
		var env struct {
			Objects []json.RawMessage `json:"objects"`
		}
		if err := json.Unmarshal(trimmed, &env); err != nil {
			return nil, dialogue.E(op, dialogue.KindInvalid, stix.Errors{{Pointer: "/objects", Rule: "envelope", Message: "objects must be an array of STIX objects"}})
		}
		return Objects(ctx, st, collectionID, env.Objects, mode)
	}
	return nil, dialogue.E(op, dialogue.KindInvalid, stix.Errors{{Pointer: "/type", Rule: "required", Message: `neither a STIX bundle, a STIX object (no "type") nor a TAXII envelope (no "objects")`}})
}
