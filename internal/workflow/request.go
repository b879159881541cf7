package workflow

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/stix"
	"github.com/parleyhq/parley/internal/tlog"
)

// Assistance requests: a party asks the other for help
// about its incident reports (parley-request); the receiving party
// acknowledges, answers or declines it, the requester closes it once
// answered (parley-transition). The state is the fold of the transitions
// of both sides by dialogue.NextRequestState; a transition that breaks the
// rules is ignored and shown as refused. The deadlines are fixed at filing
// (ack_by, answer_by): dialogue.DefaultDeadlines, or
// dialogue.OffLimitsDeadlines when the request names a sector of the
// channel's agreed off-limits list (Service.OffLimits). Overdue is
// computed from the clock. A channel may set its own deadlines
// (SetRequestDeadlines, deadline.go).

// MaxRequestText caps a request's or a transition's text.
const MaxRequestText = 16 << 10

// RequestFiling is what a party files to ask for assistance.
type RequestFiling struct {
	Channel string   `json:"channel"` // id or title
	About   []string `json:"about"`   // incident report ids (at least one)
	// Infrastructure lists IP addresses, CIDRs, domains and URLs to act on.
	Infrastructure []string `json:"infrastructure,omitempty"`
	Text           string   `json:"text"`
	// Name is a short title (the text's first line when empty).
	Name string `json:"name,omitempty"`
	// Sectors are sector codes; empty: those of the reports.
	Sectors []string `json:"sectors,omitempty"`
	// Unrouted are the items of a routed request that went to no party
	// (set by RouteRequest, route.go); kept in the request.
	Unrouted []Unrouted `json:"-"`
}

var domainRE = regexp.MustCompile(`^(?i:[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?)(\.(?i:[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?))*\.(?i:[a-z][a-z0-9-]{0,62})\.?$`)

// ParseInfrastructure checks one infrastructure item: an IPv4 or IPv6
// address, a CIDR, a domain name or an http(s)/ftp URL with a host. It
// returns the item cleaned (a CIDR masked, a domain in lower case).
func ParseInfrastructure(s string) (string, error) {
	const op = "workflow.ParseInfrastructure"
	v := strings.TrimSpace(s)
	if a, err := netip.ParseAddr(v); err == nil {
		return a.String(), nil
	}
	if p, err := netip.ParsePrefix(v); err == nil {
		return p.Masked().String(), nil
	}
	if strings.Contains(v, "://") {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "ftp") || u.Host == "" {
			return "", dialogue.Errorf(op, dialogue.KindInvalid, "%q: not a URL with scheme http, https or ftp and a host", s)
		}
		return v, nil
	}
	if len(v) <= 253 && domainRE.MatchString(v) {
		return strings.ToLower(strings.TrimSuffix(v, ".")), nil
	}
	return "", dialogue.Errorf(op, dialogue.KindInvalid, "%q: not an IP address, a CIDR, a domain name or a URL", s)
}

// FileRequest files an assistance request to the channel's other party
// and returns its id. It refuses (KindInvalid, naming the field) no text,
// no report or one that is not an incident report of the channel, bad
// infrastructure items and unknown sectors.
func (s *Service) FileRequest(ctx context.Context, f RequestFiling) (string, error) {
	const op = "workflow.FileRequest"
	text := strings.TrimSpace(f.Text)
	if text == "" {
		return "", dialogue.Errorf(op, dialogue.KindInvalid, "text: required: say what you ask the other party to do")
	}
	if len(text) > MaxRequestText {
		return "", dialogue.Errorf(op, dialogue.KindInvalid, "text: %d bytes, over the limit of %d", len(text), MaxRequestText)
	}
	if len(f.About) == 0 {
		return "", dialogue.Errorf(op, dialogue.KindInvalid, "about: required: name the incident report(s) the request is about")
	}
	var infra []string
	for i, it := range f.Infrastructure {
		v, err := ParseInfrastructure(it)
		if err != nil {
			return "", dialogue.Errorf(op, dialogue.KindInvalid, "infrastructure[%d]: %s", i, dialogue.Message(err))
		}
		if !slices.Contains(infra, v) {
			infra = append(infra, v)
		}
	}
	ch, other, err := s.Channel(ctx, f.Channel)
	if err != nil {
		return "", err
	}
	reports, err := s.Reports(ctx, ch.ID)
	if err != nil {
		return "", err
	}
	var sectors []string
	for k, id := range f.About {
		i := slices.IndexFunc(reports, func(r *Report) bool { return r.ID == strings.TrimSpace(id) })
		if i < 0 {
			return "", dialogue.Errorf(op, dialogue.KindInvalid, "about[%d]: %q is no incident report of channel %s", k, id, ch.Title)
		}
		for _, c := range reports[i].Sectors {
			if !slices.Contains(sectors, c) {
				sectors = append(sectors, c)
			}
		}
	}
	hit := slices.Clone(sectors) // the reports' sectors count even when f.Sectors replaces them
	if len(f.Sectors) > 0 {
		if sectors, err = ParseSectors("sectors", f.Sectors); err != nil {
			return "", err
		}
	}
	cd, err := s.channelDeadlines(ctx, ch)
	if err != nil {
		return "", err
	}
	d := cd.Normal.Deadlines()
	off, err := s.OffLimits(ctx, ch)
	if err != nil {
		return "", err
	}
	offLimits := slices.ContainsFunc(append(hit, sectors...), func(c string) bool { return slices.Contains(off, c) })
	if offLimits {
		d = cd.OffLimits.Deadlines()
	}
	name := f.Name
	if name == "" {
		name, _, _ = strings.Cut(text, "\n")
		name = dialogue.Cut(name, 120)
	}
	now := s.Now().UTC().Truncate(time.Millisecond)
	props := map[string]any{
		"name": name, "description": text, "about_refs": f.About, "to_ref": other.IdentityID,
		"ack_by": stix.FormatTime(now.Add(d.Ack)), "answer_by": stix.FormatTime(now.Add(d.Answer)), "off_limits": offLimits,
	}
	if len(infra) > 0 {
		props["infrastructure"] = infra
	}
	if len(sectors) > 0 {
		props["sectors"] = sectors
	}
	if len(f.Unrouted) > 0 {
		props["unrouted"] = f.Unrouted
	}
	raw, err := stix.NewParleyObject(stix.TypeRequest, now, s.Self.IdentityID, props)
	if err != nil {
		return "", dialogue.E(op, dialogue.KindOther, err)
	}
	ids, err := s.File(ctx, ch, raw)
	if err != nil {
		return "", err
	}
	return ids[0], nil
}

// Move is a move of an assistance request by this node's party.
type Move struct {
	Action dialogue.RequestAction `json:"action"`
	// Kind is an answer's kind (dialogue.ResponseKinds).
	Kind dialogue.ResponseKind `json:"kind,omitempty"`
	// Text is the free text; for a decline or a cannot-act answer, the
	// reason.
	Text string `json:"text,omitempty"`
	// Refs are the objects an answer carries (indicators, sightings,
	// evidence), by id, already in the channel.
	Refs []string `json:"refs,omitempty"`
}

// MoveRequest moves a request: this node's party acknowledges, answers,
// declines or closes it, by the rules of dialogue.NextRequestState (only
// the receiving party acknowledges, answers or declines; only the
// requester closes). It returns the transition's id.
func (s *Service) MoveRequest(ctx context.Context, id string, m Move) (string, error) {
	const op = "workflow.MoveRequest"
	text := strings.TrimSpace(m.Text)
	if len(text) > MaxRequestText {
		return "", dialogue.Errorf(op, dialogue.KindInvalid, "text: %d bytes, over the limit of %d", len(text), MaxRequestText)
	}
	if m.Kind != "" {
		if _, err := dialogue.ParseResponseKind(string(m.Kind)); err != nil {
			return "", err
		}
		if m.Action != dialogue.ActionAnswer {
			return "", dialogue.Errorf(op, dialogue.KindInvalid, "kind: only an answer has a kind")
		}
	}
	r, ch, err := s.request(ctx, id)
	if err != nil {
		return "", err
	}
	byRequester := r.from.IdentityID == s.Self.IdentityID
	reason := ""
	if m.Action == dialogue.ActionDecline || m.Kind == dialogue.ResponseCannotAct {
		reason = text
	}
	to, err := dialogue.NextRequestState(r.State, m.Action, byRequester, m.Kind, reason)
	if err != nil {
		return "", dialogue.E(op, dialogue.KindOf(err), fmt.Errorf("request %s (%s, from %s to %s): %w", r.ID, r.State, r.From, r.To, err))
	}
	props := map[string]any{"request_ref": r.ID, "request_action": string(m.Action), "from_state": string(r.State), "to_state": string(to)}
	if m.Kind != "" {
		props["response_kind"] = string(m.Kind)
	}
	if reason != "" {
		props["reason"] = reason
	} else if text != "" {
		props["description"] = text
	}
	if len(m.Refs) > 0 {
		for i, ref := range m.Refs {
			if !stix.ValidID(ref) {
				return "", dialogue.Errorf(op, dialogue.KindInvalid, "refs[%d]: %q is not a STIX id", i, ref)
			}
		}
		props["object_refs"] = m.Refs
	}
	raw, err := s.NewObject(stix.TypeTransition, props)
	if err != nil {
		return "", dialogue.E(op, dialogue.KindOther, err)
	}
	ids, err := s.File(ctx, ch, raw)
	if err != nil {
		return "", err
	}
	return ids[0], nil
}

// Request is an assistance request as computed now: its state from the
// transitions of both sides, its deadlines and whether it is overdue.
type Request struct {
	ID             string                `json:"id"`
	Channel        string                `json:"channel"`
	Name           string                `json:"name"`
	Text           string                `json:"text"`
	State          dialogue.RequestState `json:"state"`
	From           string                `json:"from"` // the requesting party's name
	To             string                `json:"to"`   // the receiving party's name
	About          []string              `json:"about"`
	Infrastructure []string              `json:"infrastructure,omitempty"`
	// Unrouted are the items of a routed request that went to no party.
	Unrouted       []Unrouted `json:"unrouted,omitempty"`
	Sectors        []string   `json:"sectors,omitempty"`
	OffLimits      bool       `json:"off_limits"`
	Submitted      time.Time  `json:"submitted"`
	AckDeadline    time.Time  `json:"ack_deadline"`
	AnswerDeadline time.Time  `json:"answer_deadline"`
	// Overdue is AckOverdue || AnswerOverdue, at the service's clock.
	Overdue       bool `json:"overdue"`
	AckOverdue    bool `json:"ack_overdue"`
	AnswerOverdue bool `json:"answer_overdue"`
	// History is the request's filing and the transitions that applied,
	// in order; Refused those that broke the rules.
	History []*Transition `json:"history"`
	Refused []*Transition `json:"refused,omitempty"`
	// LogIndex is the request's index in its sender's log (nil when not
	// known on this node; see Transition).
	Log      string `json:"log"`
	LogIndex *int64 `json:"log_index,omitempty"`

	from dialogue.Party
}

// Transition is one state change of a request, as the record holds it.
type Transition struct {
	ID         string                 `json:"id"`
	Action     dialogue.RequestAction `json:"action"` // "file" for the filing
	FromState  dialogue.RequestState  `json:"from_state,omitempty"`
	ToState    dialogue.RequestState  `json:"to_state"`
	By         string                 `json:"by"` // the party's name
	At         time.Time              `json:"at"`
	Kind       dialogue.ResponseKind  `json:"kind,omitempty"`
	Reason     string                 `json:"reason,omitempty"`
	Text       string                 `json:"text,omitempty"`
	ObjectRefs []string               `json:"object_refs,omitempty"`
	// Log says whose log holds the entry: "own" (this node's) or "peer's
	// log". LogIndex is its index there: known for this node's entries;
	// left out for the peer's (this node keeps the peer's entries by
	// object, not by the peer's leaf index).
	Log      string `json:"log"`
	LogIndex *int64 `json:"log_index,omitempty"`
	// Refused says why a transition was ignored in the fold.
	Refused string `json:"refused,omitempty"`
}

// RequestFilter selects requests.
type RequestFilter struct {
	Channel string                // id or title; "" for every channel
	State   dialogue.RequestState // "" for any
	Overdue bool                  // only overdue ones
}

// ParseRequestState checks a state name.
func ParseRequestState(s string) (dialogue.RequestState, error) {
	for _, st := range []dialogue.RequestState{dialogue.RequestSubmitted, dialogue.RequestAcknowledged, dialogue.RequestAnswered, dialogue.RequestClosed, dialogue.RequestDeclined} {
		if string(st) == s {
			return st, nil
		}
	}
	return "", dialogue.Errorf("workflow.ParseRequestState", dialogue.KindInvalid, "state %q: want submitted, acknowledged, answered, closed or declined", s)
}

// Requests lists the assistance requests, oldest first, as computed at
// the service's clock.
func (s *Service) Requests(ctx context.Context, f RequestFilter) ([]*Request, error) {
	chs, err := s.channelsOrOne(ctx, f.Channel)
	if err != nil {
		return nil, err
	}
	var out []*Request
	for _, ch := range chs {
		rs, err := s.channelRequests(ctx, ch)
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			if (f.State == "" || r.State == f.State) && (!f.Overdue || r.Overdue) {
				out = append(out, r)
			}
		}
	}
	return out, nil
}

// Request returns one assistance request.
func (s *Service) Request(ctx context.Context, id string) (*Request, error) {
	r, _, err := s.request(ctx, id)
	return r, err
}

func (s *Service) request(ctx context.Context, id string) (*Request, *dialogue.Channel, error) {
	const op = "workflow.Request"
	if stix.IDType(id) != stix.TypeRequest {
		return nil, nil, dialogue.Errorf(op, dialogue.KindInvalid, "request id %q: want parley-request--UUID", id)
	}
	chs, err := s.channels(ctx)
	if err != nil {
		return nil, nil, err
	}
	for _, ch := range chs {
		f, err := s.requestFold(ctx, ch)
		if err != nil {
			return nil, nil, err
		}
		if r := f.byID[id]; r != nil {
			return r.at(s.Now()), ch, nil
		}
	}
	return nil, nil, dialogue.Errorf(op, dialogue.KindNotFound, "no request %s: list them with 'parley request list'", id)
}

// channelRequests computes the requests of a channel at the service's
// clock.
func (s *Service) channelRequests(ctx context.Context, ch *dialogue.Channel) ([]*Request, error) {
	f, err := s.requestFold(ctx, ch)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	out := make([]*Request, len(f.list))
	for i, r := range f.list {
		out[i] = r.at(now)
	}
	return out, nil
}

// requestFold is a channel's requests folded from the requests and
// transitions of both sides, without what depends on the clock (the
// overdue flags). It is shared by the readers of the fold cache: at
// gives each caller its own copy.
type requestFold struct {
	list []*Request // in the order the requests were added
	byID map[string]*Request
}

// at returns a copy of a folded request with its overdue flags at now.
// The copy's slices are the fold's, clipped, so that an append to one
// never writes into the fold.
func (r *Request) at(now time.Time) *Request {
	c := *r
	d := dialogue.Deadlines{Ack: c.AckDeadline.Sub(c.Submitted), Answer: c.AnswerDeadline.Sub(c.Submitted)}
	c.AckOverdue, c.AnswerOverdue = d.Overdue(c.State, c.Submitted, now)
	c.Overdue = c.AckOverdue || c.AnswerOverdue
	return &c
}

// requestTypes are the types a channel's requests are folded from.
var requestTypes = []string{stix.TypeRequest, stix.TypeTransition}

// requestFold returns the fold of a channel's requests, from the cache
// while the store's stamp of the requests and transitions is unchanged.
func (s *Service) requestFold(ctx context.Context, ch *dialogue.Channel) (*requestFold, error) {
	_, other, err := s.Channel(ctx, ch.ID)
	if err != nil {
		return nil, err
	}
	v, err := s.cachedFold(ctx, "requests", ch, other, requestTypes, func() (any, error) {
		return s.foldRequests(ctx, ch, other)
	})
	if err != nil {
		return nil, err
	}
	return v.(*requestFold), nil
}

// requestProps are the properties of a request or a transition the fold
// reads (decoded into this, not into a map: a tenth of the work).
type requestProps struct {
	CreatedBy   string `json:"created_by_ref"`
	Name        string `json:"name"`
	Description string `json:"description"`
	// A request's.
	About     []string   `json:"about_refs"`
	Infra     []string   `json:"infrastructure"`
	Unrouted  []Unrouted `json:"unrouted"`
	Sectors   []string   `json:"sectors"`
	OffLimits bool       `json:"off_limits"`
	AckBy     string     `json:"ack_by"`
	AnswerBy  string     `json:"answer_by"`
	// A transition's.
	RequestRef string `json:"request_ref"`
	// The move: request_action, or, in a transition written before
	// extension version 1.1.0 (by this node or a peer), action, a name
	// STIX 2.1 reserves (move reads either).
	RequestAction string   `json:"request_action"`
	LegacyAction  string   `json:"action"`
	ResponseKind  string   `json:"response_kind"`
	Reason        string   `json:"reason"`
	ObjectRefs    []string `json:"object_refs"`
}

// move is a transition's move: its request_action, else the legacy
// action of a transition written before the rename.
func (p *requestProps) move() string {
	if p.RequestAction != "" {
		return p.RequestAction
	}
	return p.LegacyAction
}

// requestItem is a request or a transition as the fold reads it.
type requestItem struct {
	obj  *dialogue.Object
	from dialogue.Party
	p    requestProps
	log  string
	idx  *int64
}

// requestItems reads a channel's requests and transitions, oldest first,
// with the party each comes from (an item of neither party is left out)
// and its log index: in one scan with the indexes when the store is a
// dialogue.StampedLister, else item by item (requestLogIndex).
func (s *Service) requestItems(ctx context.Context, ch *dialogue.Channel, other dialogue.Party) ([]*requestItem, error) {
	var out []*requestItem
	decode := func(o *dialogue.Object) *requestItem {
		it := &requestItem{obj: o}
		if !decodeProps(o.Raw, &it.p) {
			return nil // not JSON: left out, as Items does
		}
		from := s.partyOf(other, it.p.CreatedBy)
		if from == nil {
			return nil
		}
		it.from = *from
		return it
	}
	if sl, ok := s.Store.(dialogue.StampedLister); ok {
		err := sl.IndexedObjects(ctx, ch.ID, requestTypes, func(io dialogue.IndexedObject) error {
			it := decode(io.Object)
			if it == nil {
				return nil
			}
			switch {
			case it.from.Local && io.Origin == "" && io.Indexed:
				i := io.LogIndex
				it.log, it.idx = "own", &i
			case it.from.Local:
				// Not an entry of this node's log by its object: the
				// look-up by leaf hash, as requestLogIndex.
				it.log, it.idx = s.requestLogIndex(ctx, ch, &Item{Object: io.Object, From: it.from})
			case io.Origin != "" && io.Indexed:
				i := io.LogIndex
				it.log, it.idx = "peer's log", &i
			default:
				it.log = "peer's log"
			}
			out = append(out, it)
			return nil
		})
		return out, err
	}
	items, err := s.Items(ctx, ch, other, requestTypes...)
	if err != nil {
		return nil, err
	}
	for _, x := range items {
		if it := decode(x.Object); it != nil {
			it.log, it.idx = s.requestLogIndex(ctx, ch, x)
			out = append(out, it)
		}
	}
	return out, nil
}

// foldRequests computes the requests of a channel from their filings and
// the transitions of both sides, in the order the requests were added.
func (s *Service) foldRequests(ctx context.Context, ch *dialogue.Channel, other dialogue.Party) (*requestFold, error) {
	items, err := s.requestItems(ctx, ch, other)
	if err != nil {
		return nil, err
	}
	f := &requestFold{byID: map[string]*Request{}}
	var trans []*requestItem
	for _, it := range items {
		if it.obj.Type == stix.TypeTransition {
			trans = append(trans, it)
			continue
		}
		p := &it.p
		r := &Request{ID: it.obj.ID, Channel: ch.ID, Name: p.Name, Text: p.Description, State: dialogue.RequestSubmitted,
			From: it.from.Name, Submitted: it.obj.Created, from: it.from,
			About: p.About, Infrastructure: p.Infra, Unrouted: p.Unrouted, Sectors: p.Sectors, OffLimits: p.OffLimits}
		r.To = other.Name
		if !it.from.Local {
			r.To = s.Self.Name
		}
		r.AckDeadline, _ = stix.ParseTime(p.AckBy)
		r.AnswerDeadline, _ = stix.ParseTime(p.AnswerBy)
		r.Log, r.LogIndex = it.log, it.idx
		r.History = append(r.History, &Transition{ID: r.ID, Action: "file", ToState: dialogue.RequestSubmitted, By: r.From, At: r.Submitted, Log: r.Log, LogIndex: r.LogIndex})
		f.byID[r.ID] = r
		f.list = append(f.list, r)
	}
	sort.SliceStable(trans, func(i, j int) bool {
		a, b := trans[i].obj, trans[j].obj
		if !a.Created.Equal(b.Created) {
			return a.Created.Before(b.Created)
		}
		// At the same millisecond, the moves in the order the states
		// allow them (an answer and its close can share one).
		if ra, rb := actionRank[trans[i].p.move()], actionRank[trans[j].p.move()]; ra != rb {
			return ra < rb
		}
		return a.ID < b.ID
	})
	for _, it := range trans {
		r := f.byID[it.p.RequestRef]
		if r == nil {
			continue
		}
		p := &it.p
		t := &Transition{ID: it.obj.ID, Action: dialogue.RequestAction(p.move()), FromState: r.State, By: it.from.Name, At: it.obj.Created,
			Kind: dialogue.ResponseKind(p.ResponseKind), Reason: p.Reason, Text: p.Description, ObjectRefs: p.ObjectRefs}
		t.Log, t.LogIndex = it.log, it.idx
		to, err := dialogue.NextRequestState(r.State, t.Action, it.from.IdentityID == r.from.IdentityID, t.Kind, t.Reason)
		if err != nil {
			t.Refused = dialogue.Message(err)
			r.Refused = append(r.Refused, t)
			continue
		}
		t.ToState, r.State = to, to
		r.History = append(r.History, t)
	}
	for _, r := range f.list {
		r.History, r.Refused = slices.Clip(r.History), slices.Clip(r.Refused)
		r.About, r.Infrastructure, r.Unrouted, r.Sectors = slices.Clip(r.About), slices.Clip(r.Infrastructure), slices.Clip(r.Unrouted), slices.Clip(r.Sectors)
	}
	return f, nil
}

// actionRank orders the moves of a request as the states allow them.
var actionRank = map[string]int{string(dialogue.ActionAcknowledge): 1, string(dialogue.ActionAnswer): 2, string(dialogue.ActionDecline): 2, string(dialogue.ActionClose): 3}

// requestLogIndex finds an item's index in its sender's log: this node's
// log for its own items; for the peer's, the index the exchange recorded
// when it applied the entry (nil when none was recorded).
func (s *Service) requestLogIndex(ctx context.Context, ch *dialogue.Channel, it *Item) (string, *int64) {
	if !it.From.Local {
		type receivedIndexer interface {
			ReceivedIndex(ctx context.Context, collectionID, id string, version time.Time) (string, int64, bool, error)
		}
		if ri, ok := s.Store.(receivedIndexer); ok {
			if _, i, ok, err := ri.ReceivedIndex(ctx, ch.ID, it.Object.ID, it.Object.Version()); err == nil && ok {
				return "peer's log", &i
			}
		}
		return "peer's log", nil
	}
	type ownIndexer interface {
		OwnLogIndex(ctx context.Context, collectionID, id string, version time.Time) (int64, bool, error)
	}
	if oi, ok := s.Store.(ownIndexer); ok {
		if i, ok, err := oi.OwnLogIndex(ctx, ch.ID, it.Object.ID, it.Object.Version()); err == nil && ok {
			return "own", &i
		}
	}
	h := tlog.LeafHash(tlog.ObjectEntry(it.Object.Raw))
	i, err := s.Store.LeafIndex(ctx, ch.ID, [32]byte(h))
	if err != nil {
		return "own", nil
	}
	return "own", &i
}

// The reasons of the request events (parley-event's reason).
const (
	ReasonAckDueSoon        = "ack-due-soon"
	ReasonAckOverdue        = "ack-overdue"
	ReasonAnswerDueSoon     = "answer-due-soon"
	ReasonAnswerOverdue     = "answer-overdue"
	ReasonOffLimitsIncident = "off-limits-incident"
)

// RequestEvents writes the reminders and escalations due at the service's
// clock, each once per (request, reason) for this node's party, and
// returns the ids written. The receiving party's node reminds (a quarter
// of the time to a deadline left: ack-due-soon, answer-due-soon); the
// requesting party's node escalates (ack-overdue, answer-overdue, and
// off-limits-incident for a request that hits an agreed off-limits
// sector). The server calls it periodically.
func (s *Service) RequestEvents(ctx context.Context) ([]string, error) {
	chs, err := s.channels(ctx)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	var written []string
	for _, ch := range chs {
		if ch.State != dialogue.ChannelActive && ch.State != dialogue.ChannelProposed {
			continue
		}
		_, other, err := s.Channel(ctx, ch.ID)
		if err != nil {
			return nil, err
		}
		rs, err := s.channelRequests(ctx, ch)
		if err != nil {
			return nil, err
		}
		evs, err := s.Items(ctx, ch, other, stix.TypeEvent)
		if err != nil {
			return nil, err
		}
		done := map[string]bool{}
		for _, e := range evs {
			if e.From.Local {
				done[e.Str("subject_ref")+" "+e.Str("reason")] = true
			}
		}
		var raws []json.RawMessage
		add := func(r *Request, kind, reason string, due time.Time) error {
			if done[r.ID+" "+reason] {
				return nil
			}
			props := map[string]any{"event_kind": kind, "subject_ref": r.ID, "reason": reason}
			if !due.IsZero() {
				props["due"] = stix.FormatTime(due)
			}
			raw, err := s.NewObject(stix.TypeEvent, props)
			if err != nil {
				return err
			}
			raws = append(raws, raw)
			return nil
		}
		for _, r := range rs {
			mine := r.from.IdentityID == s.Self.IdentityID
			open := r.State == dialogue.RequestSubmitted || r.State == dialogue.RequestAcknowledged
			var err error
			switch {
			case mine && r.OffLimits:
				err = add(r, "escalation", ReasonOffLimitsIncident, r.AckDeadline)
			}
			if err == nil && mine && r.AckOverdue {
				err = add(r, "escalation", ReasonAckOverdue, r.AckDeadline)
			}
			if err == nil && mine && r.AnswerOverdue {
				err = add(r, "escalation", ReasonAnswerOverdue, r.AnswerDeadline)
			}
			if err == nil && !mine && r.State == dialogue.RequestSubmitted && !r.AckOverdue && dueSoon(r.Submitted, r.AckDeadline, now) {
				err = add(r, "reminder", ReasonAckDueSoon, r.AckDeadline)
			}
			if err == nil && !mine && open && !r.AnswerOverdue && dueSoon(r.Submitted, r.AnswerDeadline, now) {
				err = add(r, "reminder", ReasonAnswerDueSoon, r.AnswerDeadline)
			}
			if err != nil {
				return written, dialogue.E("workflow.RequestEvents", dialogue.KindOther, err)
			}
		}
		if len(raws) == 0 {
			continue
		}
		ids, err := s.File(ctx, ch, raws...)
		if err != nil {
			return written, err
		}
		written = append(written, ids...)
	}
	return written, nil
}

// dueSoon reports whether three quarters of the time from start to due
// have passed at now.
func dueSoon(start, due, now time.Time) bool {
	return !now.Before(start.Add(due.Sub(start) * 3 / 4))
}
