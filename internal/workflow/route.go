package workflow

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/enrich"
	"github.com/parleyhq/parley/internal/geo"
	"github.com/parleyhq/parley/internal/pattern"
)

// Routing of assistance requests by territory: the
// infrastructure of a request is grouped by the territory where it lies,
// and each group goes, as a request of its own, to the party registered
// for that territory (`parley peer add --territory CC`, dialogue.Peer's
// Territory), on a channel shared with that party. What lies on the
// territory of no party is kept with every request filed, in its
// unrouted property.
//
// Where an item lies: an IP address or a network, by the node's
// databases (geo; its country, else its registered country); a domain
// name or a URL's host, only as far as the objects of the channels that
// hold the request's reports resolve it to addresses (a domain-name
// object's resolves_to_refs, observed-data's objects, an indicator
// comparing domain-name:value and domain-name:resolves_to_refs[*].value
// in one observation), whose territories are read from those objects'
// enrichment records. No DNS query is made. Attribution is to
// infrastructure and territory, never to a government.

// The reasons an infrastructure item is not routed (Unrouted.Reason).
const (
	// UnroutedNoParty: it lies on a territory no peer is registered for.
	UnroutedNoParty = "no-party"
	// UnroutedUnknown: no database knows where it lies.
	UnroutedUnknown = "unknown-territory"
	// UnroutedMixed: a network whose addresses lie on several territories
	// (or some on none); split it.
	UnroutedMixed = "mixed-territory"
	// UnroutedUnresolved: a domain name or URL that no object of the
	// channels resolves to an address of known territory.
	UnroutedUnresolved = "unresolved"
)

// RouteFiling is a request to route by territory.
type RouteFiling struct {
	// About are incident report ids (at least one). Each request filed is
	// about those of them that are on its channel; every channel a
	// request goes to must hold at least one.
	About []string `json:"about"`
	// Infrastructure lists IP addresses, CIDRs, domains and URLs (at
	// least one), as in RequestFiling.
	Infrastructure []string `json:"infrastructure"`
	Text           string   `json:"text"`
	Name           string   `json:"name,omitempty"`
	Sectors        []string `json:"sectors,omitempty"`
	// Channels chooses the channel per peer: peer name → channel id or
	// title. A peer not named gets the oldest active channel it shares
	// with this node.
	Channels map[string]string `json:"channels,omitempty"`
}

// Routing is what RouteRequest did.
type Routing struct {
	// Requests are the requests filed, one per peer, by peer name.
	Requests []*RoutedRequest `json:"requests"`
	// Unrouted are the items that went to no party, in the order given.
	Unrouted []Unrouted `json:"unrouted"`
}

// RoutedRequest is one request filed by RouteRequest.
type RoutedRequest struct {
	ID        string `json:"id"`
	Peer      string `json:"peer"`
	Territory string `json:"territory"`
	Channel   string `json:"channel"`
	// About are the reports it is about (those on its channel).
	About []string `json:"about"`
	// Infrastructure are the items it carries, with where each lies.
	Infrastructure []Placed `json:"infrastructure"`
}

// Placed is an infrastructure item and where it lies.
type Placed struct {
	Value     string `json:"value"`
	Territory string `json:"territory"`
	// Resolved lists, for a domain or URL, the addresses on the territory
	// that the channels' objects resolve it to.
	Resolved []string `json:"resolved,omitempty"`
}

// Unrouted is an infrastructure item that went to no party. It is the
// shape of the items of a request's unrouted property.
type Unrouted struct {
	Value string `json:"value"`
	// Territory is where it lies (for a mixed network, its first
	// address), "" when unknown.
	Territory string `json:"territory,omitempty"`
	Reason    string `json:"reason"`
}

// RouteRequest files an assistance request per party whose territory
// holds some of f's infrastructure, looking addresses up in g (the
// node's databases; nil: no address has a known territory). It checks
// everything before filing anything: the filing's fields as FileRequest
// does (KindInvalid, naming the field), that each peer chosen shares an
// active channel holding one of the reports, and that something is
// routed at all (else KindInvalid naming the unrouted items; the Routing
// is returned with the error). Requests are then filed in peer-name
// order; an error while filing returns those already filed.
func (s *Service) RouteRequest(ctx context.Context, g *geo.DB, f RouteFiling) (*Routing, error) {
	const op = "workflow.RouteRequest"
	if strings.TrimSpace(f.Text) == "" {
		return nil, dialogue.Errorf(op, dialogue.KindInvalid, "text: required: say what you ask the other parties to do")
	}
	if len(f.About) == 0 {
		return nil, dialogue.Errorf(op, dialogue.KindInvalid, "about: required: name the incident report(s) the request is about")
	}
	if len(f.Infrastructure) == 0 {
		return nil, dialogue.Errorf(op, dialogue.KindInvalid, "infrastructure: required: name the addresses, networks, domains or URLs to route")
	}
	var items []string
	for i, it := range f.Infrastructure {
		v, err := ParseInfrastructure(it)
		if err != nil {
			return nil, dialogue.Errorf(op, dialogue.KindInvalid, "infrastructure[%d]: %s", i, dialogue.Message(err))
		}
		if !slices.Contains(items, v) {
			items = append(items, v)
		}
	}
	// The reports, and the channels that hold them.
	reports, err := s.Reports(ctx, "")
	if err != nil {
		return nil, err
	}
	reportChannels := map[string][]string{} // channel id → about ids on it
	var chIDs []string
	for k, id := range f.About {
		id = strings.TrimSpace(id)
		found := false
		for _, r := range reports {
			if r.ID == id {
				found = true
				if !slices.Contains(reportChannels[r.Channel], id) {
					reportChannels[r.Channel] = append(reportChannels[r.Channel], id)
				}
				if !slices.Contains(chIDs, r.Channel) {
					chIDs = append(chIDs, r.Channel)
				}
			}
		}
		if !found {
			return nil, dialogue.Errorf(op, dialogue.KindInvalid, "about[%d]: %q is no incident report of any channel", k, id)
		}
	}

	// Where each item lies.
	res := &Routing{Unrouted: []Unrouted{}}
	groups := map[string][]Placed{} // territory → items
	var resolver *domainResolver
	for _, v := range items {
		placed, un, err := s.place(ctx, g, v, chIDs, &resolver)
		if err != nil {
			return nil, dialogue.E(op, dialogue.KindOf(err), err)
		}
		if un != nil {
			res.Unrouted = append(res.Unrouted, *un)
		}
		for _, p := range placed {
			groups[p.Territory] = append(groups[p.Territory], p)
		}
	}

	// Who answers for each territory.
	peers, err := s.Store.Peers(ctx)
	if err != nil {
		return nil, err
	}
	byTerritory := map[string][]*dialogue.Peer{}
	for _, p := range peers {
		if p.Territory != "" {
			byTerritory[p.Territory] = append(byTerritory[p.Territory], p)
		}
	}
	for name := range f.Channels {
		if !slices.ContainsFunc(peers, func(p *dialogue.Peer) bool { return p.Name == name }) {
			return nil, dialogue.Errorf(op, dialogue.KindInvalid, "channels: no peer %q: list them with 'parley peer list'", name)
		}
	}
	territories := make([]string, 0, len(groups))
	for cc := range groups {
		territories = append(territories, cc)
	}
	sort.Strings(territories)
	var noParty []Unrouted
	type plan struct {
		peer  *dialogue.Peer
		ch    *dialogue.Channel
		about []string
		infra []Placed
	}
	var plans []*plan
	for _, cc := range territories {
		ps := byTerritory[cc]
		if len(ps) == 0 {
			for _, p := range groups[cc] {
				noParty = append(noParty, Unrouted{Value: p.Value, Territory: cc, Reason: UnroutedNoParty})
			}
			continue
		}
		for _, p := range ps {
			ch, err := s.routeChannel(ctx, p, f.Channels[p.Name])
			if err != nil {
				return nil, dialogue.E(op, dialogue.KindOf(err), err)
			}
			about := reportChannels[ch.ID]
			if len(about) == 0 {
				return nil, dialogue.Errorf(op, dialogue.KindInvalid, "about: none of the reports is on channel %q shared with peer %s (territory %s), where the request for %s would go: file the report on that channel first, or name another with --channel %s=CHANNEL",
					ch.Title, p.Name, cc, placedValues(groups[cc]), p.Name)
			}
			plans = append(plans, &plan{peer: p, ch: ch, about: about, infra: groups[cc]})
		}
	}
	// An item can be unrouted for one territory and routed for another
	// (a domain resolving to both): it is listed as unrouted only when it
	// went nowhere.
	routed := map[string]bool{}
	for _, pl := range plans {
		for _, p := range pl.infra {
			routed[p.Value] = true
		}
	}
	seen := map[string]bool{}
	for _, u := range noParty {
		if !routed[u.Value] && !seen[u.Value+" "+u.Territory] {
			seen[u.Value+" "+u.Territory] = true
			res.Unrouted = append(res.Unrouted, u)
		}
	}
	// In the order given.
	order := map[string]int{}
	for i, v := range items {
		order[v] = i
	}
	sort.SliceStable(res.Unrouted, func(i, j int) bool { return order[res.Unrouted[i].Value] < order[res.Unrouted[j].Value] })
	if len(plans) == 0 {
		return res, dialogue.Errorf(op, dialogue.KindInvalid, "infrastructure: nothing lies on the territory of a peer, so no request was filed: %s", unroutedText(res.Unrouted))
	}

	// One request per peer, in peer-name order.
	merged := map[string]*plan{}
	var names []string
	for _, pl := range plans {
		if m := merged[pl.peer.Name]; m != nil {
			m.infra = append(m.infra, pl.infra...)
			continue
		}
		merged[pl.peer.Name] = pl
		names = append(names, pl.peer.Name)
	}
	sort.Strings(names)
	for _, name := range names {
		pl := merged[name]
		var infra []string
		for _, p := range pl.infra {
			if !slices.Contains(infra, p.Value) {
				infra = append(infra, p.Value)
			}
		}
		id, err := s.FileRequest(ctx, RequestFiling{Channel: pl.ch.ID, About: pl.about, Infrastructure: infra,
			Text: f.Text, Name: f.Name, Sectors: f.Sectors, Unrouted: res.Unrouted})
		if err != nil {
			return res, err
		}
		res.Requests = append(res.Requests, &RoutedRequest{ID: id, Peer: name, Territory: pl.peer.Territory, Channel: pl.ch.ID, About: pl.about, Infrastructure: pl.infra})
	}
	return res, nil
}

// routeChannel is the channel a request to peer p goes on: the one named
// (which must be active and shared with p), or the oldest active one
// shared with p.
func (s *Service) routeChannel(ctx context.Context, p *dialogue.Peer, named string) (*dialogue.Channel, error) {
	if named != "" {
		ch, _, err := s.Channel(ctx, named)
		if err != nil {
			return nil, err
		}
		if ch.Peer != p.Name {
			return nil, dialogue.Errorf("", dialogue.KindInvalid, "channels: channel %q is shared with %s, not with %s", named, ch.Peer, p.Name)
		}
		if ch.State != dialogue.ChannelActive {
			return nil, dialogue.Errorf("", dialogue.KindConflict, "channels: channel %q with %s is %s, not active", named, p.Name, ch.State)
		}
		return ch, nil
	}
	chs, err := s.channels(ctx)
	if err != nil {
		return nil, err
	}
	var best *dialogue.Channel
	for _, ch := range chs {
		if ch.Peer == p.Name && ch.State == dialogue.ChannelActive {
			if best == nil || ch.CreatedAt.Before(best.CreatedAt) || (ch.CreatedAt.Equal(best.CreatedAt) && ch.ID < best.ID) {
				best = ch
			}
		}
	}
	if best == nil {
		return nil, dialogue.Errorf("", dialogue.KindConflict, "peer %s (territory %s) shares no active channel with this node: share one with 'parley channel create TITLE --with %s', accepted on its side", p.Name, p.Territory, p.Name)
	}
	return best, nil
}

// place says where one (parsed) infrastructure item lies: the groups it
// goes to, or why it goes to none.
func (s *Service) place(ctx context.Context, g *geo.DB, v string, chIDs []string, r **domainResolver) ([]Placed, *Unrouted, error) {
	host := v
	if strings.Contains(v, "://") {
		u, err := url.Parse(v)
		if err != nil {
			return nil, &Unrouted{Value: v, Reason: UnroutedUnresolved}, nil
		}
		host = strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	}
	if t, err := geo.ParseTarget(host); err == nil {
		cc, mixed, err := territoryOf(g, t)
		if err != nil {
			return nil, nil, err
		}
		switch {
		case mixed:
			return nil, &Unrouted{Value: v, Territory: cc, Reason: UnroutedMixed}, nil
		case cc == "":
			return nil, &Unrouted{Value: v, Reason: UnroutedUnknown}, nil
		}
		return []Placed{{Value: v, Territory: cc}}, nil, nil
	}
	// A domain: through the channels' objects and their records.
	if *r == nil {
		res, err := s.newDomainResolver(ctx, chIDs)
		if err != nil {
			return nil, nil, err
		}
		*r = res
	}
	byCC := map[string][]string{}
	for _, a := range (*r).addrs[host] {
		if cc := addressTerritory(a); cc != "" && !slices.Contains(byCC[cc], a.Addr) {
			byCC[cc] = append(byCC[cc], a.Addr)
		}
	}
	if len(byCC) == 0 {
		return nil, &Unrouted{Value: v, Reason: UnroutedUnresolved}, nil
	}
	var out []Placed
	for cc, addrs := range byCC {
		sort.Strings(addrs)
		out = append(out, Placed{Value: v, Territory: cc, Resolved: addrs})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Territory < out[j].Territory })
	return out, nil, nil
}

// territoryOf is where an address or network lies by the databases: its
// country, else its registered country; mixed for a network whose
// addresses get several countries.
func territoryOf(g *geo.DB, t geo.Target) (cc string, mixed bool, err error) {
	if g == nil {
		return "", false, nil
	}
	var r geo.PrefixResult
	if t.Network && !t.Prefix.IsSingleIP() {
		r, err = g.LookupPrefix(t.Prefix)
	} else {
		r.Result, err = g.Lookup(t.Prefix.Addr())
	}
	if err != nil {
		return "", false, err
	}
	cc = r.Country
	if cc == "" {
		cc = r.RegisteredCountry
	}
	return cc, r.MixedCountry, nil
}

// addressTerritory is an enrichment record's territory of an address:
// its country, else its registered country; "" for a network with mixed
// countries or an unknown address.
func addressTerritory(a enrich.Address) string {
	if a.MixedCountry {
		return ""
	}
	if a.Country != nil {
		return *a.Country
	}
	if a.RegisteredCountry != nil {
		return *a.RegisteredCountry
	}
	return ""
}

// domainResolver knows, from the objects of some channels and their
// enrichment records, which addresses domain names resolve to.
type domainResolver struct {
	addrs map[string][]enrich.Address // domain (lower case) → addresses
}

// newDomainResolver reads the domain-name objects, observed-data and
// indicators of the channels.
func (s *Service) newDomainResolver(ctx context.Context, chIDs []string) (*domainResolver, error) {
	r := &domainResolver{addrs: map[string][]enrich.Address{}}
	recs, _ := s.Store.(dialogue.EnrichmentStore)
	if recs == nil {
		return r, nil // a store without records resolves nothing
	}
	for _, chID := range chIDs {
		objs, err := s.channelObjects(ctx, chID, "domain-name", "observed-data", "indicator")
		if err != nil {
			return nil, err
		}
		for _, o := range objs {
			var v struct {
				Type        string                     `json:"type"`
				Value       string                     `json:"value"`
				ResolvesTo  []string                   `json:"resolves_to_refs"`
				Objects     map[string]json.RawMessage `json:"objects"`
				Pattern     string                     `json:"pattern"`
				PatternType string                     `json:"pattern_type"`
			}
			if json.Unmarshal(o.Raw, &v) != nil {
				continue
			}
			switch v.Type {
			case "domain-name":
				for _, ref := range v.ResolvesTo {
					rec, err := s.latestRecord(ctx, recs, chID, ref)
					if err != nil {
						return nil, err
					}
					if rec != nil {
						r.add(v.Value, rec.Addresses, nil)
					}
				}
			case "observed-data":
				if len(v.Objects) == 0 {
					continue
				}
				rec, err := s.record(ctx, recs, chID, o)
				if err != nil || rec == nil {
					if err != nil {
						return nil, err
					}
					continue
				}
				for _, raw := range v.Objects {
					var d struct {
						Type       string   `json:"type"`
						Value      string   `json:"value"`
						ResolvesTo []string `json:"resolves_to_refs"`
					}
					if json.Unmarshal(raw, &d) != nil || d.Type != "domain-name" {
						continue
					}
					vias := map[string]bool{}
					for _, k := range d.ResolvesTo {
						vias["objects."+k] = true
					}
					r.add(d.Value, rec.Addresses, func(a enrich.Address) bool { return vias[a.Via] })
				}
			case "indicator":
				if v.PatternType != "" && v.PatternType != "stix" {
					continue
				}
				pairs := domainPairs(v.Pattern)
				if len(pairs) == 0 {
					continue
				}
				rec, err := s.record(ctx, recs, chID, o)
				if err != nil {
					return nil, err
				}
				if rec == nil {
					continue
				}
				for d, addrs := range pairs {
					r.add(d, rec.Addresses, func(a enrich.Address) bool { return slices.Contains(addrs, a.Addr) })
				}
			}
		}
	}
	return r, nil
}

// add records that domain d resolves to the addresses of as that keep
// says to keep (all when nil).
func (r *domainResolver) add(d string, as []enrich.Address, keep func(enrich.Address) bool) {
	d = strings.ToLower(strings.TrimSuffix(d, "."))
	if d == "" {
		return
	}
	for _, a := range as {
		if keep == nil || keep(a) {
			r.addrs[d] = append(r.addrs[d], a)
		}
	}
}

// domainPairs reads, from a STIX pattern, the domains compared with
// domain-name:value = 'D' in an observation that also compares
// domain-name:resolves_to_refs[*].value with addresses (= or IN), joined
// by AND: D → those addresses (as written, in canonical form).
func domainPairs(p string) map[string][]string {
	expr, err := pattern.Parse(p)
	if err != nil {
		return nil
	}
	out := map[string][]string{}
	var walk func(e pattern.Expr)
	walk = func(e pattern.Expr) {
		switch e := e.(type) {
		case *pattern.Bracket:
			for _, group := range conjunctions(e.Cmp, 64) {
				var domains, addrs []string
				for _, c := range group {
					if c.Not || c.Path.Type != "domain-name" {
						continue
					}
					lits := c.Set
					if c.Op == pattern.Eq && c.Value != nil {
						lits = []*pattern.Literal{c.Value}
					} else if c.Op != pattern.In {
						continue
					}
					steps := c.Path.Steps
					switch {
					case len(steps) == 1 && steps[0].Key == "value":
						for _, l := range lits {
							if l.Kind == pattern.StringLit {
								domains = append(domains, strings.ToLower(strings.TrimSuffix(l.Str, ".")))
							}
						}
					case len(steps) == 3 && steps[0].Key == "resolves_to_refs" && steps[2].Kind == pattern.KeyStep && steps[2].Key == "value":
						for _, l := range lits {
							if l.Kind != pattern.StringLit {
								continue
							}
							if t, err := geo.ParseTarget(l.Str); err == nil {
								addrs = append(addrs, t.String())
							}
						}
					}
				}
				for _, d := range domains {
					out[d] = append(out[d], addrs...)
				}
			}
		case *pattern.Paren:
			walk(e.X)
		case *pattern.Binary:
			walk(e.L)
			walk(e.R)
		case *pattern.Qualified:
			walk(e.X)
		}
	}
	walk(expr)
	return out
}

// conjunctions lists the AND-groups of a comparison expression (its
// disjunctive normal form), at most max of them.
func conjunctions(c pattern.Cmp, max int) [][]*pattern.Comparison {
	switch c := c.(type) {
	case *pattern.Comparison:
		return [][]*pattern.Comparison{{c}}
	case *pattern.CmpParen:
		return conjunctions(c.X, max)
	case *pattern.CmpBinary:
		l, r := conjunctions(c.L, max), conjunctions(c.R, max)
		if c.Op == pattern.CmpOr {
			out := append(l, r...)
			return out[:min(len(out), max)]
		}
		var out [][]*pattern.Comparison
		for _, a := range l {
			for _, b := range r {
				if len(out) == max {
					return out
				}
				out = append(out, append(slices.Clip(a), b...))
			}
		}
		return out
	}
	return nil
}

// channelObjects lists the latest version of each object of the given
// types in a channel's collection.
func (s *Service) channelObjects(ctx context.Context, chID string, types ...string) ([]*dialogue.Object, error) {
	var out []*dialogue.Object
	f := dialogue.ObjectFilter{Types: types}
	for {
		page, err := s.Store.FindObjects(ctx, chID, f)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Objects...)
		if !page.More {
			return out, nil
		}
		f.After = page.Next
	}
}

// record is the enrichment record of an object version: nil when it has
// none (it names no address, or it was not enriched yet).
func (s *Service) record(ctx context.Context, recs dialogue.EnrichmentStore, chID string, o *dialogue.Object) (*enrich.Record, error) {
	e, err := recs.Enrichment(ctx, chID, o.ID, o.Version())
	if dialogue.KindOf(err) == dialogue.KindNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if e.Record == nil {
		return nil, nil
	}
	rec, err := enrich.ParseRecord(e.Record)
	if err != nil {
		return nil, nil // a record this code cannot read counts as none
	}
	return rec, nil
}

// latestRecord is record of the latest version of object id.
func (s *Service) latestRecord(ctx context.Context, recs dialogue.EnrichmentStore, chID, id string) (*enrich.Record, error) {
	page, err := s.Store.FindObjects(ctx, chID, dialogue.ObjectFilter{IDs: []string{id}})
	if err != nil {
		if dialogue.KindOf(err) == dialogue.KindNotFound {
			return nil, nil
		}
		return nil, err
	}
	if len(page.Objects) == 0 {
		return nil, nil
	}
	return s.record(ctx, recs, chID, page.Objects[0])
}

func placedValues(ps []Placed) string {
	var vs []string
	for _, p := range ps {
		vs = append(vs, p.Value)
	}
	return strings.Join(vs, ", ")
}

// unroutedText is "8.8.8.8 (US: no party), x.example (unresolved)".
func unroutedText(us []Unrouted) string {
	var parts []string
	for _, u := range us {
		if u.Territory != "" {
			parts = append(parts, fmt.Sprintf("%s (%s: %s)", u.Value, u.Territory, u.Reason))
		} else {
			parts = append(parts, fmt.Sprintf("%s (%s)", u.Value, u.Reason))
		}
	}
	return strings.Join(parts, ", ")
}
