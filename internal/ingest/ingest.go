// Package ingest takes STIX content from outside (a file, a TAXII POST, a
// pull from another server), validates every object with package stix and
// adds what is valid to a store in one transaction.
//
// It decides nothing about transport or storage: callers pass the bytes and
// a dialogue.Store, and choose whether one invalid object refuses the whole
// batch (the CLI) or each object stands on its own (TAXII).
package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/stix"
)

// Mode says what one invalid object does to the rest of a batch.
type Mode uint8

const (
	// AllOrNothing refuses the whole batch when any object is invalid or
	// the store rejects any (a conflict, a write the store's rules
	// forbid): nothing is written or logged, and the report lists every
	// object rejected for its own reason.
	AllOrNothing Mode = iota
	// EachOnItsOwn writes the valid objects and rejects the invalid ones,
	// as TAXII's status resource reports them.
	EachOnItsOwn
)

// Result is what happened to one object of a batch.
type Result struct {
	Index     int    // position in the batch
	ID        string // the object's id, "" when it had none readable
	Version   time.Time
	Status    dialogue.AddStatus
	DateAdded time.Time // when the version was first added (Added, Unchanged)
	Err       error     // why it was rejected (stix.Errors for invalid objects)
}

// Report is the outcome of a batch. In AllOrNothing mode with any object
// invalid or rejected by the store, Refused is true, nothing was written,
// and Results lists only the objects rejected for their own reason.
type Report struct {
	Results   []Result
	Warnings  []stix.Warning
	Added     int
	Unchanged int
	Rejected  int
	Refused   bool
}

// Bundle parses a STIX bundle and ingests its objects. A bundle that cannot
// be read at all is an error of kind KindInvalid and writes nothing.
func Bundle(ctx context.Context, st dialogue.Store, collectionID string, data []byte, mode Mode) (*Report, error) {
	const op = "ingest.Bundle"
	b, err := stix.ParseBundle(data)
	if err != nil {
		return nil, dialogue.E(op, dialogue.KindInvalid, err)
	}
	rep, err := Objects(ctx, st, collectionID, b.Objects, mode)
	if rep != nil {
		rep.Warnings = append(b.Warnings, rep.Warnings...)
	}
	return rep, err
}

// parsed is the validation outcome of one raw object.
type parsed struct {
	obj      *stix.Object
	warnings []stix.Warning
	err      error
}

// Objects validates raws and adds the valid ones to the collection. The
// error is for the batch as a whole (no such collection, the store failed);
// then nothing was written.
func Objects(ctx context.Context, st dialogue.Store, collectionID string, raws []json.RawMessage, mode Mode) (*Report, error) {
	return objects("ingest.Objects", raws, mode, false, func(objs []*dialogue.Object, opts []dialogue.AddOption) ([]dialogue.AddResult, error) {
		return st.AddObjects(ctx, collectionID, objs, opts...)
	})
}

// ObjectsAndBlobs validates raws and adds them, AllOrNothing, with the
// log entries of the evidence blobs in the same transaction of the store
// (dialogue.LogStore's AddObjectsAndBlobs): an invalid or rejected
// object, or a blob the store cannot enter, writes nothing.
func ObjectsAndBlobs(ctx context.Context, st dialogue.LogStore, collectionID string, raws []json.RawMessage, blobs []dialogue.BlobRef) (*Report, error) {
	return objects("ingest.ObjectsAndBlobs", raws, AllOrNothing, true, func(objs []*dialogue.Object, _ []dialogue.AddOption) ([]dialogue.AddResult, error) {
		return st.AddObjectsAndBlobs(ctx, collectionID, objs, blobs)
	})
}

// objects is Objects and ObjectsAndBlobs: add writes the valid objects;
// with always it is called even when none is left (to enter the blobs).
func objects(op string, raws []json.RawMessage, mode Mode, always bool, add func([]*dialogue.Object, []dialogue.AddOption) ([]dialogue.AddResult, error)) (*Report, error) {
	out := validateAll(raws)
	rep := &Report{}
	var objs []*dialogue.Object
	var idx []int
	for i, p := range out {
		rep.Warnings = append(rep.Warnings, p.warnings...)
		if p.err != nil {
			rep.Results = append(rep.Results, Result{Index: i, ID: idOf(raws[i]), Status: dialogue.Rejected, Err: p.err})
			rep.Rejected++
			continue
		}
		o := p.obj
		objs = append(objs, &dialogue.Object{
			ID: o.ID, Type: o.Type, SpecVersion: o.SpecVersion,
			Created: o.Created, Modified: o.Modified, Raw: o.Raw,
		})
		idx = append(idx, i)
	}
	if rep.Rejected > 0 && mode == AllOrNothing {
		rep.Refused = true
		return rep, nil
	}
	if len(objs) == 0 && !always {
		return rep, nil
	}
	var opts []dialogue.AddOption
	if mode == AllOrNothing {
		opts = append(opts, dialogue.AllOrNothing)
	}
	added, err := add(objs, opts)
	if err != nil {
		return nil, dialogue.E(op, dialogue.KindOther, err)
	}
	if mode == AllOrNothing && slices.ContainsFunc(added, func(a dialogue.AddResult) bool { return a.Status == dialogue.Rejected }) {
		// The store wrote nothing: report the objects rejected for their
		// own reason, not those refused with them.
		for k, a := range added {
			if a.Status == dialogue.Rejected && !errors.Is(a.Err, dialogue.ErrNotAdded) {
				rep.Results = append(rep.Results, Result{Index: idx[k], ID: a.ID, Version: a.Version, Status: a.Status, Err: a.Err})
				rep.Rejected++
			}
		}
		rep.Refused = true
		return rep, nil
	}
	// Merge rejections and store results back into input order.
	merged := make([]Result, len(raws))
	for _, r := range rep.Results {
		merged[r.Index] = r
	}
	for k, a := range added {
		i := idx[k]
		merged[i] = Result{Index: i, ID: a.ID, Version: a.Version, Status: a.Status, DateAdded: a.DateAdded, Err: a.Err}
		switch a.Status {
		case dialogue.Added:
			rep.Added++
		case dialogue.Unchanged:
			rep.Unchanged++
		default:
			rep.Rejected++
		}
	}
	rep.Results = merged
	return rep, nil
}

// validateAll runs Parse over raws on every core: validation is
// CPU-bound and the store's single writer runs beside it.
func validateAll(raws []json.RawMessage) []parsed {
	out := make([]parsed, len(raws))
	workers := runtime.GOMAXPROCS(0)
	if len(raws) < 256 || workers < 2 {
		for i, r := range raws {
			out[i].obj, out[i].warnings, out[i].err = Parse(r)
		}
		return out
	}
	var wg sync.WaitGroup
	chunk := (len(raws) + workers - 1) / workers
	for lo := 0; lo < len(raws); lo += chunk {
		hi := min(lo+chunk, len(raws))
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				out[i].obj, out[i].warnings, out[i].err = Parse(raws[i])
			}
		}(lo, hi)
	}
	wg.Wait()
	return out
}

// idOf digs the id out of an object that failed validation, for the report.
func idOf(raw json.RawMessage) string {
	var v struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(raw, &v) != nil {
		return ""
	}
	return v.ID
}
