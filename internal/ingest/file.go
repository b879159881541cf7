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
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		// Let the bundle parser give its precise message.
		return Bundle(ctx, st, collectionID, data, mode)
	}
	env, err := stix.ParseEnvelope(trimmed)
	if err != nil && (env == nil || env.TypeKind == "" || env.Type == "bundle") {
		// JSON that is not acceptable, or an envelope's objects that
		// are not a list of objects, refuse the whole file. (A single
		// object may have an objects member of its own, observed-data's
		// dictionary: Parse judges it.)
		return nil, dialogue.E(op, dialogue.KindInvalid, err)
	}
	switch {
	case env.Type == "bundle":
		return Bundle(ctx, st, collectionID, data, mode)
	case env.TypeKind != "":
		return Objects(ctx, st, collectionID, []json.RawMessage{trimmed}, mode)
	case env.HasObjects:
		return Objects(ctx, st, collectionID, env.Objects, mode)
	}
	return nil, dialogue.E(op, dialogue.KindInvalid, stix.Errors{{Pointer: "/type", Rule: "required", Message: `neither a STIX bundle, a STIX object (no "type") nor a TAXII envelope (no "objects")`}})
}
