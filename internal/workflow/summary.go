package workflow

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/stix"
)

// The leadership summary: counts, threat levels, overdue items,
// agreed statements and responsiveness, for people who read no STIX. It
// holds nothing above TLP:GREEN (dialogue.SummaryAllows on each object's
// marking, read by the channel's TLP view) and no indicator values,
// patterns, evidence or free text of reports, requests or hotline
// messages: ids, counts, sector codes, levels and times only; the texts it
// shows are those of agreed statements (both parties signed them) that
// are themselves CLEAR or GREEN. The computed threat levels weigh only the
// CLEAR and GREEN reports, so they may be lower than 'parley threat'
// shows (docs/design/workflow.md, "The leadership summary").

// SummaryPolicy says, in the JSON, what the summary leaves out.
const SummaryPolicy = "nothing marked above TLP:GREEN; no indicator values, patterns, evidence or free text of reports, requests and hotline messages; computed threat levels weigh the TLP:CLEAR and TLP:GREEN reports only"

// Summary is the leadership summary at AsOf.
type Summary struct {
	AsOf   time.Time `json:"as_of"`
	Node   string    `json:"node"`
	Policy string    `json:"policy"`
	Counts Counts    `json:"counts"`
	// Threat holds each channel's sectors with the parties' stated levels
	// and Parley's computed level.
	Threat []SummaryThreat `json:"threat"`
	// Requests counts the assistance requests by state, with "total",
	// "overdue" and "off_limits".
	Requests map[string]int `json:"requests"`
	// Overdue lists what is late now, off-limits items (top priority)
	// first, then by due time.
	Overdue []OverdueItem `json:"overdue"`
	// Statements are the agreed statements.
	Statements []SummaryStatement `json:"statements"`
	// Responsiveness is each party's figures over every channel, keyed by
	// the party's name.
	Responsiveness map[string]PartyResponsiveness `json:"responsiveness"`
	// Origins are, per channel, the attacks each party reported by origin
	// territory and by AS (from the TLP:CLEAR and TLP:GREEN reports only;
	// counts, no addresses).
	Origins []*Origins `json:"origins"`
}

// Counts are the summary's counts over every channel proposed or active.
type Counts struct {
	Channels int `json:"channels"`
	// Reports counts the incident reports marked TLP:CLEAR or TLP:GREEN
	// (the others are not counted), by level in ReportsByTLP.
	Reports      int            `json:"reports"`
	ReportsByTLP map[string]int `json:"reports_by_tlp"`
	Requests     int            `json:"requests"`
	// Hotline counts the hotline messages, HotlineUnacknowledged those no
	// person of the receiving party acknowledged yet.
	Hotline               int `json:"hotline_messages"`
	HotlineUnacknowledged int `json:"hotline_unacknowledged"`
	// Checks counts the communication checks, ChecksAnswered those
	// answered.
	Checks         int `json:"checks"`
	ChecksAnswered int `json:"checks_answered"`
	// Escalations counts the escalation events of both parties.
	Escalations int `json:"escalations"`
	// Meetings counts the meetings.
	Meetings int `json:"meetings"`
}

// SummaryThreat is one channel's threat levels.
type SummaryThreat struct {
	Channel   string                `json:"channel"`
	Title     string                `json:"title"`
	OffLimits []string              `json:"off_limits"`
	Sectors   []SummarySectorThreat `json:"sectors"`
}

// SummarySectorThreat is one sector's levels: each party's stated level
// (no rationale; null when none) and the computed level now and its
// trend against 7 days ago.
type SummarySectorThreat struct {
	Sector    string                     `json:"sector"`
	OffLimits bool                       `json:"off_limits"`
	Stated    map[string]*dialogue.Level `json:"stated"`
	Computed  ComputedLevel              `json:"computed"`
	Trend     string                     `json:"trend"`
}

// OverdueItem is something late at AsOf.
type OverdueItem struct {
	// Kind is request, hotline or action-item.
	Kind    string `json:"kind"`
	ID      string `json:"id"`
	Channel string `json:"channel"`
	// Priority is "top" for an item that touches an agreed off-limits
	// sector, else "urgent" or "normal".
	Priority string `json:"priority"`
	// Late says what is late: acknowledgement, answer, action.
	Late string    `json:"late"`
	Due  time.Time `json:"due"`
	// From is the party that waits; Owner the party that is late.
	From  string `json:"from,omitempty"`
	Owner string `json:"owner"`
	// Index is an action item's index in its meeting.
	Index *int `json:"index,omitempty"`
}

// SummaryStatement is an agreed statement.
type SummaryStatement struct {
	ID         string            `json:"id"`
	Channel    string            `json:"channel"`
	Kind       StatementKind     `json:"kind"`
	AgreedAt   time.Time         `json:"agreed_at"`
	Sectors    []string          `json:"sectors,omitempty"`
	MeetingRef string            `json:"meeting_ref,omitempty"`
	Texts      map[string]string `json:"texts,omitempty"`
}

// Summary computes the leadership summary at the service's clock.
func (s *Service) Summary(ctx context.Context) (*Summary, error) {
	// Each channel's folds are read once for the whole summary (its
	// parts ask for the requests, the hotline and the reports several
	// times), all at the same state of the store.
	ctx = withReadSession(ctx)
	now := s.Now().UTC().Truncate(time.Millisecond)
	out := &Summary{AsOf: now, Node: s.Self.Name, Policy: SummaryPolicy, Counts: Counts{ReportsByTLP: map[string]int{}},
		Threat: []SummaryThreat{}, Requests: map[string]int{"total": 0, "overdue": 0, "off_limits": 0}, Overdue: []OverdueItem{}, Statements: []SummaryStatement{}}
	for _, st := range []dialogue.RequestState{dialogue.RequestSubmitted, dialogue.RequestAcknowledged, dialogue.RequestAnswered, dialogue.RequestClosed, dialogue.RequestDeclined} {
		out.Requests[string(st)] = 0
	}
	chans, err := s.respChannels(ctx, "")
	if err != nil {
		return nil, err
	}
	out.Counts.Channels = len(chans)
	out.Origins = []*Origins{}
	for _, ch := range chans {
		if err := s.summaryChannel(ctx, ch, now, out); err != nil {
			return nil, err
		}
		o, err := s.OriginFiguresOf(ctx, ch, func(r *Report) bool { return r.TLP == "clear" || r.TLP == "green" })
		if err != nil {
			return nil, err
		}
		out.Origins = append(out.Origins, o)
	}
	slices.SortStableFunc(out.Overdue, func(a, b OverdueItem) int {
		return cmp.Or(cmp.Compare(priorityRank(a.Priority), priorityRank(b.Priority)), a.Due.Compare(b.Due), cmp.Compare(a.ID, b.ID))
	})
	r, err := s.Responsiveness(ctx, "")
	if err != nil {
		return nil, err
	}
	out.Responsiveness = r.Parties
	return out, nil
}

func priorityRank(p string) int {
	switch p {
	case "top":
		return 0
	case string(PriorityUrgent):
		return 1
	}
	return 2
}

// summaryAllows reports whether the summary may use an object: its
// marking, as the channel's TLP view reads it, is CLEAR or GREEN.
func (s *Service) summaryAllows(ctx context.Context, v *dialogue.TLPView, id string, raw []byte) (bool, error) {
	m, err := v.Marking(ctx, &dialogue.Object{ID: id, Raw: raw})
	if err != nil {
		return false, err
	}
	return dialogue.SummaryAllows(m), nil
}

func (s *Service) summaryChannel(ctx context.Context, ch *dialogue.Channel, now time.Time, out *Summary) error {
	ch, other, err := s.Channel(ctx, ch.ID)
	if err != nil {
		return err
	}
	view := s.TLPView(ch.ID, nil)

	// Reports: the CLEAR and GREEN ones only.
	reports, err := s.Reports(ctx, ch.ID)
	if err != nil {
		return err
	}
	allowed := map[string]bool{}
	for _, r := range reports {
		ok, err := s.summaryAllows(ctx, view, r.ID, r.Raw)
		if err != nil {
			return err
		}
		if ok {
			allowed[r.ID] = true
			out.Counts.Reports++
			out.Counts.ReportsByTLP[r.TLP]++
		}
	}

	// Threat levels from the allowed reports.
	if ct, err := s.summaryThreat(ctx, ch, now, allowed); err != nil {
		return err
	} else if len(ct.Sectors) > 0 || len(ct.OffLimits) > 0 {
		out.Threat = append(out.Threat, *ct)
	}

	// Off-limits subjects: top priority.
	subjects, err := s.offLimitsSubjects(ctx, ch, false)
	if err != nil {
		return err
	}
	top := map[string]bool{}
	for _, sub := range subjects {
		top[sub.ID] = true
	}

	// Requests.
	reqs, err := s.channelRequests(ctx, ch)
	if err != nil {
		return err
	}
	for _, r := range reqs {
		out.Counts.Requests++
		out.Requests["total"]++
		out.Requests[string(r.State)]++
		if r.OffLimits {
			out.Requests["off_limits"]++
		}
		if !r.Overdue {
			continue
		}
		out.Requests["overdue"]++
		it := OverdueItem{Kind: "request", ID: r.ID, Channel: ch.ID, Priority: string(PriorityNormal), From: r.From, Owner: r.To}
		if r.OffLimits || top[r.ID] {
			it.Priority = "top"
		}
		if r.AckOverdue {
			it.Late, it.Due = "acknowledgement", r.AckDeadline
		} else {
			it.Late, it.Due = "answer", r.AnswerDeadline
		}
		out.Overdue = append(out.Overdue, it)
	}

	// Hotline and checks.
	c, err := s.loadComms(ctx, ch, other)
	if err != nil {
		return err
	}
	for _, m := range c.messages {
		h := c.hotline(m, now)
		out.Counts.Hotline++
		if h.Acknowledged == nil {
			out.Counts.HotlineUnacknowledged++
		}
		if h.Overdue {
			it := OverdueItem{Kind: "hotline", ID: h.ID, Channel: ch.ID, Priority: string(h.Priority), Late: "acknowledgement", Due: h.AckDue, From: h.From, Owner: h.To}
			for _, ref := range h.About {
				if top[ref] {
					it.Priority = "top"
				}
			}
			out.Overdue = append(out.Overdue, it)
		}
	}
	for _, p := range c.pings {
		out.Counts.Checks++
		if c.answers[p.Object.ID] != nil {
			out.Counts.ChecksAnswered++
		}
	}
	// The escalation events of both parties, counted by the fold that
	// reads them (not decoded again here).
	out.Counts.Escalations += c.escalationEvents
	meetings, err := s.Items(ctx, ch, other, stix.TypeMeeting)
	if err != nil {
		return err
	}
	for _, e := range meetings {
		out.Counts.Meetings++
		m, err := s.meeting(ctx, ch, other, e.Object.ID)
		if err != nil {
			continue // a meeting of neither party: not shown anywhere
		}
		for _, a := range m.ActionItems {
			if a.Overdue {
				i := a.Index
				out.Overdue = append(out.Overdue, OverdueItem{Kind: "action-item", ID: m.ID, Channel: ch.ID, Priority: string(PriorityNormal), Late: "action", Due: a.Due, Owner: a.Owner, Index: &i})
			}
		}
	}

	// Agreed statements that are CLEAR or GREEN; the texts of joint and
	// off-limits statements (minutes are shown by their meeting).
	sts, err := s.channelStatements(ctx, ch, other)
	if err != nil {
		return err
	}
	for _, st := range sts {
		if st.State != StatementAgreed || st.AgreedAt == nil {
			continue
		}
		raw, err := s.objectRaw(ctx, ch, st.ID)
		if err != nil {
			return err
		}
		if ok, err := s.summaryAllows(ctx, view, st.ID, raw); err != nil {
			return err
		} else if !ok {
			continue
		}
		ss := SummaryStatement{ID: st.ID, Channel: ch.ID, Kind: st.Kind, AgreedAt: *st.AgreedAt, Sectors: st.Sectors, MeetingRef: st.MeetingRef}
		if st.Kind != StatementMinutes {
			ss.Texts = st.Texts
		}
		out.Statements = append(out.Statements, ss)
	}
	return nil
}

// objectRaw returns the first version of an object of a channel (the
// version of a statement that counts).
func (s *Service) objectRaw(ctx context.Context, ch *dialogue.Channel, id string) ([]byte, error) {
	page, err := s.Store.FindObjects(ctx, ch.ID, dialogue.ObjectFilter{IDs: []string{id}, Versions: dialogue.VersionMatch{First: true}})
	if err != nil {
		return nil, err
	}
	if len(page.Objects) == 0 {
		return nil, dialogue.Errorf("workflow.Summary", dialogue.KindNotFound, "object %s is not in channel %s", id, ch.ID)
	}
	return page.Objects[0].Raw, nil
}

// summaryThreat is the channel's threat picture with the computed levels
// from the allowed reports only: a sector shows when a party stated a
// level for it, it is off-limits, or an allowed report names it.
func (s *Service) summaryThreat(ctx context.Context, ch *dialogue.Channel, now time.Time, allowed map[string]bool) (*SummaryThreat, error) {
	full, err := s.channelThreat(ctx, ch, now)
	if err != nil {
		return nil, err
	}
	// The channel's incidents from the read cache (the threat page's
	// fold, kept while the reports' stamp is unchanged; shared: read
	// only).
	other, err := s.otherParty(ctx, ch)
	if err != nil {
		return nil, err
	}
	v, err := s.cachedFold(ctx, "threat-incidents", ch, other, []string{"report"}, func() (any, error) { return s.threatIncidents(ctx, ch) })
	if err != nil {
		return nil, err
	}
	all := v.([]threatIncident)
	var incidents []threatIncident
	for _, in := range all {
		if allowed[in.id] {
			incidents = append(incidents, in)
		}
	}
	off7, err := s.offLimitsAt(ctx, ch, now.Add(-7*24*time.Hour))
	if err != nil {
		return nil, err
	}
	out := &SummaryThreat{Channel: ch.ID, Title: ch.Title, OffLimits: full.OffLimits, Sectors: []SummarySectorThreat{}}
	for _, st := range full.Sectors {
		sec := SummarySectorThreat{Sector: st.Sector, OffLimits: st.OffLimits, Stated: map[string]*dialogue.Level{}}
		stated := false
		for party, l := range st.Stated {
			if l != nil {
				lv := l.Level
				sec.Stated[party], stated = &lv, true
			} else {
				sec.Stated[party] = nil
			}
		}
		sec.Computed = computeThreat(incidents, st.Sector, now, st.OffLimits)
		if !stated && !st.OffLimits && sec.Computed.Incidents == 0 {
			continue // only reports above GREEN name it
		}
		before := computeThreat(incidents, st.Sector, now.Add(-7*24*time.Hour), slices.Contains(off7, st.Sector))
		switch {
		case sec.Computed.Level > before.Level:
			sec.Trend = "rising"
		case sec.Computed.Level < before.Level:
			sec.Trend = "falling"
		default:
			sec.Trend = "steady"
		}
		out.Sectors = append(out.Sectors, sec)
	}
	return out, nil
}
