// Package enrich gives the addresses and networks named by a node's STIX
// objects a country and an autonomous system, from MaxMind-format
// databases (internal/geo), and keeps the result beside each object: a
// record shown as the object's x_parley_enrichment property, stored in
// the store's enrichment table, never in the object's bytes.
//
// It reads indicators' patterns, observed-data (its object_refs and the
// deprecated objects dictionary), infrastructure (its own properties and
// the address objects related to it) and the address objects themselves.
// It follows each collection by the date its objects were added, so that
// what arrives by TAXII, by import in another process or from a peer is
// enriched alike; an object is enriched again when an object it names
// arrives later.
//
// Attribution here is to infrastructure and territory: the package says
// where an address is and who routes it, never who used it. It must not
// change stored objects, fetch databases, or decide what a request is
// routed to. It imports no store driver and no transport (the domain's
// workflows use it); opening a node's databases is enrichnode's.
package enrich

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/geo"
)

// Store is what enrichment needs of a node's store (internal/sqlite).
type Store interface {
	dialogue.EnrichmentStore
	Collections(ctx context.Context) ([]*dialogue.Collection, error)
	FindObjects(ctx context.Context, collectionID string, f dialogue.ObjectFilter) (*dialogue.ObjectPage, error)
}

// DefaultPageSize is how many object versions one step reads.
const DefaultPageSize = 1000

// Enricher enriches the objects of one store from one set of databases.
// It is safe for concurrent use.
type Enricher struct {
	db          *geo.DB
	st          Store
	fingerprint string
	log         *slog.Logger

	// PageSize is how many object versions one step reads (set before
	// use; DefaultPageSize when 0).
	PageSize int
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// New returns an Enricher of st that looks addresses up in db. A nil log
// is slog.Default().
func New(db *geo.DB, st Store, log *slog.Logger) *Enricher {
	if log == nil {
		log = slog.Default()
	}
	return &Enricher{db: db, st: st, fingerprint: Fingerprint(db), log: log}
}

// Databases is the fingerprint of the databases (Fingerprint).
func (e *Enricher) Databases() string { return e.fingerprint }

// GeoDB is the set of databases the Enricher reads.
func (e *Enricher) GeoDB() *geo.DB { return e.db }

// Close closes the databases.
func (e *Enricher) Close() error { return e.db.Close() }

// Options tune CatchUp.
type Options struct {
	// All enriches every object version of the collection again, from
	// the first, whatever the cursor says.
	All bool
	// Report, when set, is called with each object version enriched, once
	// its record is saved.
	Report func(Result)
}

// Result is one object version enriched.
type Result struct {
	CollectionID string
	ObjectID     string
	Version      time.Time
	// Record is the record saved; nil when the object names no address
	// (no record is kept, and an old one is removed).
	Record *Record
}

// Stats count what CatchUp did.
type Stats struct {
	// Scanned is the number of object versions the tail moved past.
	Scanned int
	// Enriched is the number of object versions whose record was saved
	// (an object enriched again because of a later one counts again).
	Enriched int
	// Addresses is the number of addresses and networks in those records.
	Addresses int
}

func (s *Stats) add(o Stats) {
	s.Scanned += o.Scanned
	s.Enriched += o.Enriched
	s.Addresses += o.Addresses
}

// start is where the tail of a collection resumes: after the cursor, or
// from the first object when the cursor was made with other databases or
// all is set.
func (e *Enricher) start(ctx context.Context, collectionID string, all bool) (time.Time, error) {
	if all {
		return time.Time{}, nil
	}
	c, err := e.st.EnrichCursor(ctx, collectionID)
	if err != nil {
		return time.Time{}, err
	}
	if c.Databases != e.fingerprint {
		if c.Databases != "" {
			e.log.Info("databases changed: enriching the collection again", "collection", collectionID, "was", c.Databases, "now", e.fingerprint)
		}
		return time.Time{}, nil
	}
	return c.After, nil
}

// CatchUp enriches the object versions added to the collection since its
// cursor (every one when the databases changed since, or with opt.All),
// to the last one there, and moves the cursor along.
func (e *Enricher) CatchUp(ctx context.Context, collectionID string, opt Options) (Stats, error) {
	from, err := e.start(ctx, collectionID, opt.All)
	if err != nil {
		return Stats{}, dialogue.E("enrich.CatchUp", dialogue.KindOf(err), err)
	}
	_, st, err := e.catchUp(ctx, collectionID, from, opt)
	return st, err
}

// CatchUpAll is CatchUp for every collection of the store.
func (e *Enricher) CatchUpAll(ctx context.Context, opt Options) (Stats, error) {
	cols, err := e.st.Collections(ctx)
	if err != nil {
		return Stats{}, dialogue.E("enrich.CatchUpAll", dialogue.KindOf(err), err)
	}
	var total Stats
	for _, c := range cols {
		st, err := e.CatchUp(ctx, c.ID, opt)
		total.add(st)
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// catchUp steps from `from` until a page is short, and returns where it
// stopped.
func (e *Enricher) catchUp(ctx context.Context, collectionID string, from time.Time, opt Options) (time.Time, Stats, error) {
	var total Stats
	for {
		next, n, st, err := e.step(ctx, collectionID, from, opt)
		total.add(st)
		if err != nil {
			return from, total, err
		}
		from = next
		if n < e.pageSize() {
			return from, total, nil
		}
	}
}

func (e *Enricher) pageSize() int {
	if e.PageSize > 0 {
		return e.PageSize
	}
	return DefaultPageSize
}

func (e *Enricher) now() time.Time {
	if e.Now != nil {
		return e.Now().UTC()
	}
	return time.Now().UTC()
}

// item is one object version to enrich.
type item struct {
	o *dialogue.Object
	s *Scanned
}

type versionKey struct {
	id      string
	version time.Time
}

// step enriches one page of the tail after `after`: it returns the
// DateAdded of the page's last object (after when empty) and the page's
// length.
func (e *Enricher) step(ctx context.Context, collectionID string, after time.Time, opt Options) (time.Time, int, Stats, error) {
	const op = "enrich.CatchUp"
	var st Stats
	objs, err := e.st.TailObjects(ctx, collectionID, after, e.pageSize(), Types)
	if err != nil {
		return after, 0, st, dialogue.E(op, dialogue.KindOf(err), err)
	}
	if len(objs) == 0 {
		return after, 0, st, nil
	}
	last := objs[len(objs)-1].DateAdded
	st.Scanned = len(objs)

	var items []item
	var links []dialogue.EnrichLink
	var again []string // ids enriched again: whose links name an object of this page
	var addrIDs []string
	inPage := make(map[versionKey]bool)
	for _, o := range objs {
		if o.Raw == nil {
			continue
		}
		s, err := Scan(o.Raw)
		if err != nil {
			e.log.Warn("object not enriched", "collection", collectionID, "id", o.ID, "err", err)
			continue
		}
		switch s.Type {
		case "relationship":
			// An infrastructure takes the addresses of the objects
			// related to it, either way.
			for _, l := range [][2]string{{s.Source, s.Target}, {s.Target, s.Source}} {
				if strings.HasPrefix(l[0], "infrastructure--") && l[1] != "" {
					links = append(links, dialogue.EnrichLink{DependentID: l[0], RefID: l[1]})
					again = append(again, l[0])
				}
			}
		case "ipv4-addr", "ipv6-addr", "network-traffic":
			addrIDs = append(addrIDs, o.ID)
		}
		if enriched(s.Type) {
			items = append(items, item{o, s})
			inPage[versionKey{o.ID, o.Version()}] = true
		}
	}
	// The relationships' links first: the infrastructures are enriched
	// below through them.
	if len(links) > 0 {
		if err := e.st.SaveEnrichments(ctx, collectionID, &dialogue.EnrichBatch{Links: links}); err != nil {
			return after, 0, st, dialogue.E(op, dialogue.KindOf(err), err)
		}
	}
	if len(addrIDs) > 0 {
		deps, err := e.st.EnrichDependents(ctx, collectionID, addrIDs)
		if err != nil {
			return after, 0, st, dialogue.E(op, dialogue.KindOf(err), err)
		}
		again = append(again, deps...)
	}
	if len(again) > 0 {
		more, err := e.load(ctx, collectionID, dedupe(again), true)
		if err != nil {
			return after, 0, st, err
		}
		for _, it := range more {
			if k := (versionKey{it.o.ID, it.o.Version()}); !inPage[k] && enriched(it.s.Type) {
				inPage[k] = true
				items = append(items, it)
			}
		}
	}
	results, odLinks, err := e.enrich(ctx, collectionID, items)
	if err != nil {
		return after, 0, st, err
	}
	b := &dialogue.EnrichBatch{Links: odLinks, Cursor: &dialogue.EnrichCursor{After: last, Databases: e.fingerprint}}
	computed := e.now()
	for _, r := range results {
		en := dialogue.Enrichment{ObjectID: r.ObjectID, Version: r.Version, Computed: computed}
		if r.Record != nil {
			r.Record.Computed = computed
			if en.Record, err = marshalRecord(r.Record); err != nil {
				return after, 0, st, dialogue.E(op, dialogue.KindOther, err)
			}
			st.Enriched++
			st.Addresses += len(r.Record.Addresses)
		}
		b.Enrichments = append(b.Enrichments, en)
	}
	if err := e.st.SaveEnrichments(ctx, collectionID, b); err != nil {
		return after, 0, st, dialogue.E(op, dialogue.KindOf(err), err)
	}
	if opt.Report != nil {
		for _, r := range results {
			opt.Report(r)
		}
	}
	return last, len(objs), st, nil
}

// enrich works out the records of items, reading the objects they name
// from the store. It returns the links it followed (observed-data to the
// objects it names), so that a later arrival enriches them again.
func (e *Enricher) enrich(ctx context.Context, collectionID string, items []item) ([]Result, []dialogue.EnrichLink, error) {
	const op = "enrich.CatchUp"
	// What the items name: observed-data's refs, and the objects related
	// to an infrastructure.
	refsOf := make(map[string][]string)
	var want []string
	for _, it := range items {
		switch it.s.Type {
		case "observed-data":
			refsOf[it.o.ID] = it.s.Refs
			want = append(want, it.s.Refs...)
		case "infrastructure":
			if _, ok := refsOf[it.o.ID]; ok {
				continue
			}
			refs, err := e.st.EnrichRefs(ctx, collectionID, it.o.ID)
			if err != nil {
				return nil, nil, dialogue.E(op, dialogue.KindOf(err), err)
			}
			refsOf[it.o.ID] = refs
			want = append(want, refs...)
		}
	}
	named := make(map[string]*Scanned)
	if len(want) > 0 {
		loaded, err := e.load(ctx, collectionID, dedupe(want), false)
		if err != nil {
			return nil, nil, err
		}
		// The addresses of network-traffic named by observed-data.
		var second []string
		for _, it := range loaded {
			named[it.o.ID] = it.s
			if it.s.Type == "network-traffic" {
				second = append(second, it.s.Refs...)
			}
		}
		if len(second) > 0 {
			more, err := e.load(ctx, collectionID, dedupe(second), false)
			if err != nil {
				return nil, nil, err
			}
			for _, it := range more {
				named[it.o.ID] = it.s
			}
		}
	}
	var links []dialogue.EnrichLink
	results := make([]Result, 0, len(items))
	for _, it := range items {
		found := append([]Found(nil), it.s.Addrs...)
		truncated := it.s.Truncated
		addFrom := func(id string) {
			s := named[id]
			if s == nil || (s.Type != "ipv4-addr" && s.Type != "ipv6-addr") {
				return
			}
			for _, f := range s.Addrs {
				found = append(found, Found{Target: f.Target, Via: id})
			}
		}
		switch it.s.Type {
		case "observed-data":
			for _, ref := range it.s.Refs {
				links = append(links, dialogue.EnrichLink{DependentID: it.o.ID, RefID: ref})
				addFrom(ref)
				if nt := named[ref]; nt != nil && nt.Type == "network-traffic" {
					for _, r2 := range nt.Refs {
						links = append(links, dialogue.EnrichLink{DependentID: it.o.ID, RefID: r2})
						addFrom(r2)
					}
				}
			}
		case "infrastructure":
			for _, ref := range refsOf[it.o.ID] {
				addFrom(ref)
			}
		}
		found = dedupeFound(found)
		if len(found) > MaxAddresses {
			found, truncated = found[:MaxAddresses], true
		}
		r := Result{CollectionID: collectionID, ObjectID: it.o.ID, Version: it.o.Version()}
		if len(found) > 0 {
			addrs, err := Lookup(e.db, found)
			if err != nil {
				return nil, nil, dialogue.E(op, dialogue.KindOf(err), err)
			}
			r.Record = &Record{Addresses: addrs, Truncated: truncated}
		}
		results = append(results, r)
	}
	return results, links, nil
}

// maxIDsPerFind bounds the ids of one FindObjects call.
const maxIDsPerFind = 400

// load reads and scans the objects of ids from the collection: their
// latest versions, or every version with all. An object that cannot be
// scanned is logged and left out.
func (e *Enricher) load(ctx context.Context, collectionID string, ids []string, all bool) ([]item, error) {
	const op = "enrich.CatchUp"
	var out []item
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), maxIDsPerFind)]
		ids = ids[len(chunk):]
		f := dialogue.ObjectFilter{IDs: chunk}
		if all {
			f.Versions.All = true
		}
		for {
			page, err := e.st.FindObjects(ctx, collectionID, f)
			if err != nil {
				return nil, dialogue.E(op, dialogue.KindOf(err), err)
			}
			for _, o := range page.Objects {
				s, err := Scan(o.Raw)
				if err != nil {
					e.log.Warn("object not read for enrichment", "collection", collectionID, "id", o.ID, "err", err)
					continue
				}
				out = append(out, item{o, s})
			}
			if !page.More {
				break
			}
			f.After = page.Next
		}
	}
	return out, nil
}

func dedupe(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := ids[:0:0]
	for _, id := range ids {
		if id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

func dedupeFound(found []Found) []Found {
	if len(found) < 2 {
		return found
	}
	seen := make(map[string]bool, len(found))
	out := found[:0]
	for _, f := range found {
		k := f.Target.String()
		if !seen[k] {
			seen[k] = true
			out = append(out, f)
		}
	}
	return out
}
