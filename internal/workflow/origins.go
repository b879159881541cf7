package workflow

import (
	"context"
	"slices"
	"sort"
	"strconv"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/enrich"
)

// Origin figures: the attacks each party reported on a
// channel, by the territory and by the autonomous system of the
// infrastructure they name. An attack is an incident report; what it
// names is the addresses and networks of the enrichment records of the
// indicators, observed-data, infrastructure and address objects it holds
// (its object_refs). The same code reads the same shared objects on both
// nodes, so both show the same figures for both directions (what this
// party reported, what the other did) as long as both enriched them with
// the same databases: Origins lists the databases the records came from.
// Attribution is to infrastructure and territory, never to a government.

// Origins are the origin figures of one channel.
type Origins struct {
	Channel string `json:"channel"`
	Title   string `json:"title"`
	// Parties are both parties of the channel, by name: what each
	// reported.
	Parties []*PartyOrigins `json:"parties"`
	// Databases are the databases that gave the records counted, each
	// once (type and build time), in type order.
	Databases []enrich.Database `json:"databases"`
}

// PartyOrigins are the figures of the reports of one party.
type PartyOrigins struct {
	Party string `json:"party"`
	// Reports is the number of incident reports the party filed on the
	// channel; WithAddresses those whose objects name an address or
	// network with a record.
	Reports       int `json:"reports"`
	WithAddresses int `json:"with_addresses"`
	// Territories and ASNs count, per territory (ISO 3166-1 alpha-2; ""
	// for unknown, or a network spanning several) and per autonomous
	// system (0 for unknown), the reports naming infrastructure there and
	// the distinct addresses and networks. Most reports first, then most
	// addresses, then by code or number.
	Territories []TerritoryCount `json:"territories"`
	ASNs        []ASCount        `json:"asns"`
}

// TerritoryCount is one row of the figures by territory.
type TerritoryCount struct {
	Territory string `json:"territory"`
	Reports   int    `json:"reports"`
	Addresses int    `json:"addresses"`
}

// ASCount is one row of the figures by autonomous system.
type ASCount struct {
	ASN       uint32 `json:"asn"`
	Org       string `json:"as_org"`
	Reports   int    `json:"reports"`
	Addresses int    `json:"addresses"`
}

// originTypes are the object types of a report whose records count.
var originTypes = []string{"indicator", "observed-data", "infrastructure", "ipv4-addr", "ipv6-addr"}

// OriginFigures computes the origin figures of a channel from its
// incident reports and the enrichment records of their objects. A store
// that keeps no records gives figures with no address.
func (s *Service) OriginFigures(ctx context.Context, ch *dialogue.Channel) (*Origins, error) {
	return s.OriginFiguresOf(ctx, ch, nil)
}

// OriginFiguresOf is OriginFigures over the reports keep accepts (all
// when nil): the leadership summary counts only those its TLP rule lets
// through (Report.TLP). A report left out counts nowhere, not even in
// Reports.
func (s *Service) OriginFiguresOf(ctx context.Context, ch *dialogue.Channel, keep func(*Report) bool) (*Origins, error) {
	const op = "workflow.OriginFigures"
	_, other, err := s.Channel(ctx, ch.ID)
	if err != nil {
		return nil, dialogue.E(op, dialogue.KindOf(err), err)
	}
	reports, err := s.Reports(ctx, ch.ID)
	if err != nil {
		return nil, dialogue.E(op, dialogue.KindOf(err), err)
	}
	out := &Origins{Channel: ch.ID, Title: ch.Title, Databases: []enrich.Database{}}
	type tally struct {
		reports map[string]int             // key → reports
		addrs   map[string]map[string]bool // key → addresses
		org     map[uint32]string
	}
	newTally := func() *tally {
		return &tally{reports: map[string]int{}, addrs: map[string]map[string]bool{}, org: map[uint32]string{}}
	}
	byParty := map[string]*PartyOrigins{}
	terr, as := map[string]*tally{}, map[string]*tally{}
	for _, p := range []string{s.Self.Name, other.Name} {
		byParty[p] = &PartyOrigins{Party: p, Territories: []TerritoryCount{}, ASNs: []ASCount{}}
		terr[p], as[p] = newTally(), newTally()
	}
	recs, _ := s.Store.(dialogue.EnrichmentStore)
	seenDB := map[enrich.Database]bool{}
	// Reports in id order, so that both nodes read them alike.
	sort.Slice(reports, func(i, j int) bool { return reports[i].ID < reports[j].ID })
	var kept []*Report
	for _, r := range reports {
		if byParty[r.From] != nil && (keep == nil || keep(r)) {
			kept = append(kept, r)
		}
	}
	var refs *refObjects
	if recs != nil {
		if refs, err = s.readRefObjects(ctx, recs, ch.ID, kept); err != nil {
			return nil, dialogue.E(op, dialogue.KindOf(err), err)
		}
	}
	for _, r := range kept {
		po := byParty[r.From]
		po.Reports++
		if recs == nil {
			continue
		}
		addrs, err := refs.addresses(ctx, s, r)
		if err != nil {
			return nil, dialogue.E(op, dialogue.KindOf(err), err)
		}
		if len(addrs) == 0 {
			continue
		}
		po.WithAddresses++
		tk, ak := map[string]bool{}, map[string]bool{}
		for _, a := range addrs {
			cc := addressTerritory(a)
			var asn uint32
			if a.ASN != nil && !a.MixedAS {
				asn = *a.ASN
				if a.ASOrg != nil {
					as[r.From].org[asn] = *a.ASOrg
				}
			}
			key := strconv.FormatUint(uint64(asn), 10)
			for _, x := range []struct {
				t *tally
				k string
				m map[string]bool
			}{{terr[r.From], cc, tk}, {as[r.From], key, ak}} {
				if x.t.addrs[x.k] == nil {
					x.t.addrs[x.k] = map[string]bool{}
				}
				x.t.addrs[x.k][a.Addr] = true
				if !x.m[x.k] {
					x.m[x.k] = true
					x.t.reports[x.k]++
				}
			}
			for _, d := range []*enrich.Database{a.DB.Country, a.DB.AS} {
				if d != nil && !seenDB[*d] {
					seenDB[*d] = true
					out.Databases = append(out.Databases, *d)
				}
			}
		}
	}
	for _, name := range []string{s.Self.Name, other.Name} {
		po := byParty[name]
		for k, n := range terr[name].reports {
			po.Territories = append(po.Territories, TerritoryCount{Territory: k, Reports: n, Addresses: len(terr[name].addrs[k])})
		}
		sort.Slice(po.Territories, func(i, j int) bool {
			a, b := po.Territories[i], po.Territories[j]
			if a.Reports != b.Reports {
				return a.Reports > b.Reports
			}
			if a.Addresses != b.Addresses {
				return a.Addresses > b.Addresses
			}
			return a.Territory < b.Territory
		})
		for k, n := range as[name].reports {
			asn, _ := strconv.ParseUint(k, 10, 32)
			po.ASNs = append(po.ASNs, ASCount{ASN: uint32(asn), Org: as[name].org[uint32(asn)], Reports: n, Addresses: len(as[name].addrs[k])})
		}
		sort.Slice(po.ASNs, func(i, j int) bool {
			a, b := po.ASNs[i], po.ASNs[j]
			if a.Reports != b.Reports {
				return a.Reports > b.Reports
			}
			if a.Addresses != b.Addresses {
				return a.Addresses > b.Addresses
			}
			return a.ASN < b.ASN
		})
		out.Parties = append(out.Parties, po)
	}
	sort.Slice(out.Parties, func(i, j int) bool { return out.Parties[i].Party < out.Parties[j].Party })
	sort.Slice(out.Databases, func(i, j int) bool {
		a, b := out.Databases[i], out.Databases[j]
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		return a.Built.Before(b.Built)
	})
	return out, nil
}

// Origins computes the origin figures of a channel (id or title), or of
// every channel when channel is "", in channel order.
func (s *Service) Origins(ctx context.Context, channel string) ([]*Origins, error) {
	chs, err := s.channelsOrOne(ctx, channel)
	if err != nil {
		return nil, err
	}
	out := []*Origins{}
	for _, ch := range chs {
		if !ch.HasCollection() {
			continue // no collection yet
		}
		o, err := s.OriginFigures(ctx, ch)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

// refObjects are the objects of originTypes that some reports name, read
// for all of them at once (maxIDsPerFind ids a call, where a call a
// report cost a look-up each), and their records, each read once.
type refObjects struct {
	recs    dialogue.EnrichmentStore
	chID    string
	objs    map[string]*dialogue.Object
	records map[*dialogue.Object]*enrich.Record
}

// readRefObjects reads the objects the reports name.
func (s *Service) readRefObjects(ctx context.Context, recs dialogue.EnrichmentStore, chID string, reports []*Report) (*refObjects, error) {
	ro := &refObjects{recs: recs, chID: chID, objs: map[string]*dialogue.Object{}, records: map[*dialogue.Object]*enrich.Record{}}
	seen := map[string]bool{}
	var ids []string
	for _, r := range reports {
		for _, id := range r.ObjectRefs {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), maxIDsPerFind)]
		ids = ids[len(chunk):]
		f := dialogue.ObjectFilter{IDs: chunk, Types: originTypes}
		for {
			page, err := s.Store.FindObjects(ctx, chID, f)
			if err != nil {
				return nil, err
			}
			for _, o := range page.Objects {
				ro.objs[o.ID] = o
			}
			if !page.More {
				break
			}
			f.After = page.Next
		}
	}
	return ro, nil
}

// addresses are the addresses of the records of a report's objects, each
// once (by its text), in the order found: its refs maxIDsPerFind at a
// time, the objects of each lot in the order they were added (the order
// a look-up of the lot gives them in).
func (ro *refObjects) addresses(ctx context.Context, s *Service, r *Report) ([]enrich.Address, error) {
	var out []enrich.Address
	seen := map[string]bool{}
	refs := r.ObjectRefs
	for len(refs) > 0 {
		chunk := refs[:min(len(refs), maxIDsPerFind)]
		refs = refs[len(chunk):]
		var objs []*dialogue.Object
		for _, id := range chunk {
			if o := ro.objs[id]; o != nil && !slices.Contains(objs, o) {
				objs = append(objs, o)
			}
		}
		slices.SortFunc(objs, func(a, b *dialogue.Object) int { return a.DateAdded.Compare(b.DateAdded) })
		for _, o := range objs {
			rec, ok := ro.records[o]
			if !ok {
				var err error
				if rec, err = s.record(ctx, ro.recs, ro.chID, o); err != nil {
					return nil, err
				}
				ro.records[o] = rec
			}
			if rec == nil {
				continue
			}
			for _, a := range rec.Addresses {
				if !seen[a.Addr] {
					seen[a.Addr] = true
					out = append(out, a)
				}
			}
		}
	}
	return out, nil
}

// maxIDsPerFind bounds the ids of one FindObjects call.
const maxIDsPerFind = 400
