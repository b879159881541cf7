package workflow

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/stix"
)

// Off-limits escalation: an incident report or an
// assistance request of this node's party that touches a sector of the
// channel's agreed off-limits list is escalated on its own: an escalation
// event (reason off-limits-incident) and an urgent hotline notice to the
// other party, written once per report or request, by the node of the
// party that filed it. A request that hits such a sector gets the short
// deadlines when it is filed (FileRequest); the summary lists off-limits
// items first ("top priority").
//
// This file also puts the request reminders and escalations
// (RequestEvents) on the scheduler of `parley serve`.

// RequestJobsInterval is how often the scheduler looks for request
// reminders, request escalations and off-limits escalations: they read
// every request and report, so not on every tick.
const RequestJobsInterval = 5 * time.Second

func init() {
	RegisterPeriodic("request reminders and escalations, off-limits escalations", (*Service).requestJobs)
}

var (
	// requestJobsMu serialises RequestJobs in a process, so that each
	// event and notice is written once.
	requestJobsMu sync.Mutex
	// requestJobsRun holds each service's last run (Service has no field
	// for it).
	requestJobsRun sync.Map // *Service → time.Time
)

// requestJobs runs RequestJobs at most every RequestJobsInterval of real
// time.
func (s *Service) requestJobs(ctx context.Context) error {
	if last, ok := requestJobsRun.Load(s); ok && time.Since(last.(time.Time)) < RequestJobsInterval {
		return nil
	}
	requestJobsRun.Store(s, time.Now())
	_, err := s.RequestJobs(ctx)
	return err
}

// RequestJobs writes what is due at the service's clock: the request
// reminders and escalations (RequestEvents), then the off-limits
// escalations (OffLimitsEscalations). It returns the ids written.
func (s *Service) RequestJobs(ctx context.Context) ([]string, error) {
	requestJobsMu.Lock()
	defer requestJobsMu.Unlock()
	ids, err := s.RequestEvents(ctx)
	if err != nil {
		return ids, err
	}
	more, err := s.offLimitsEscalations(ctx)
	return append(ids, more...), err
}

// OffLimitsEscalations writes, for each incident report and assistance
// request of this node's party on a proposed or active channel that
// touches a sector the channel agreed off-limits (as agreed when the
// report or request was filed), the escalation event (reason
// off-limits-incident) and the urgent hotline notice that are missing,
// once each. It returns the ids written.
func (s *Service) OffLimitsEscalations(ctx context.Context) ([]string, error) {
	requestJobsMu.Lock()
	defer requestJobsMu.Unlock()
	return s.offLimitsEscalations(ctx)
}

// offLimitsSubject is a report or request that touches an agreed
// off-limits sector.
type offLimitsSubject struct {
	ID      string
	Channel string
	Sectors []string // the off-limits sectors it touches
	Due     time.Time
}

func (s *Service) offLimitsEscalations(ctx context.Context) ([]string, error) {
	const op = "workflow.OffLimitsEscalations"
	chs, err := s.respChannels(ctx, "")
	if err != nil {
		return nil, err
	}
	var written []string
	for _, ch := range chs {
		subjects, err := s.offLimitsSubjects(ctx, ch, true)
		if err != nil || len(subjects) == 0 {
			if err != nil {
				return written, err
			}
			continue
		}
		_, other, err := s.Channel(ctx, ch.ID)
		if err != nil {
			return written, err
		}
		items, err := s.Items(ctx, ch, other, stix.TypeEvent, stix.TypeHotline)
		if err != nil {
			return written, err
		}
		escalated, noticed := map[string]bool{}, map[string]bool{}
		for _, it := range items {
			if !it.From.Local {
				continue
			}
			switch it.Object.Type {
			case stix.TypeEvent:
				if it.Str("reason") == ReasonOffLimitsIncident && it.Str("event_kind") == EventEscalation {
					escalated[it.Str("subject_ref")] = true
				}
			case stix.TypeHotline:
				if it.Str("priority") == string(PriorityUrgent) {
					for _, ref := range stringsOf(it.Props["about_refs"]) {
						noticed[ref] = true
					}
				}
			}
		}
		var raws []json.RawMessage
		for _, sub := range subjects {
			if !escalated[sub.ID] {
				props := map[string]any{"event_kind": EventEscalation, "subject_ref": sub.ID, "reason": ReasonOffLimitsIncident}
				if !sub.Due.IsZero() {
					props["due"] = stamp(sub.Due)
				}
				raw, err := s.NewObject(stix.TypeEvent, props)
				if err != nil {
					return written, dialogue.E(op, dialogue.KindOther, err)
				}
				raws = append(raws, raw)
			}
			if !noticed[sub.ID] {
				raw, err := s.NewObject(stix.TypeHotline, map[string]any{
					"description": offLimitsNotice(sub), "priority": string(PriorityUrgent),
					"ack_within": int64(s.Comms().AckWithin(PriorityUrgent) / time.Second), "about_refs": []string{sub.ID},
				})
				if err != nil {
					return written, dialogue.E(op, dialogue.KindOther, err)
				}
				raws = append(raws, raw)
			}
		}
		if len(raws) == 0 {
			continue
		}
		// The event and the notice go in together: all or nothing.
		ids, err := s.File(ctx, ch, raws...)
		if err != nil {
			return written, err
		}
		written = append(written, ids...)
	}
	return written, nil
}

// offLimitsNotice is the hotline notice's text: ids and sector codes
// only, never a report's title or content (the notice carries no TLP
// marking).
func offLimitsNotice(sub offLimitsSubject) string {
	what := "Incident report"
	if stix.IDType(sub.ID) == stix.TypeRequest {
		what = "Assistance request"
	}
	return fmt.Sprintf("OFF-LIMITS INCIDENT: %s %s touches the agreed off-limits sector(s) %s. Escalated at top priority: please acknowledge now; requests about it have the short deadlines.",
		what, sub.ID, strings.Join(sub.Sectors, ", "))
}

// offLimitsSubjects lists the reports and requests of a channel (of this
// node's party only when own) that touch a sector agreed off-limits when
// they were filed, in filing order.
func (s *Service) offLimitsSubjects(ctx context.Context, ch *dialogue.Channel, own bool) ([]offLimitsSubject, error) {
	other, err := s.otherParty(ctx, ch)
	if err != nil {
		return nil, err
	}
	sts, err := s.channelStatements(ctx, ch, other)
	if err != nil {
		return nil, err
	}
	var agreed []*Statement
	for _, st := range sts {
		if st.Kind == StatementOffLimits && st.State == StatementAgreed && st.AgreedAt != nil {
			agreed = append(agreed, st)
		}
	}
	if len(agreed) == 0 {
		return nil, nil
	}
	// offAt is offLimitsAt on the statements read once.
	offAt := func(t time.Time) []string {
		var latest *Statement
		for _, st := range agreed {
			if st.AgreedAt.After(t) {
				continue
			}
			if latest == nil || st.AgreedAt.After(*latest.AgreedAt) || st.AgreedAt.Equal(*latest.AgreedAt) && st.ID > latest.ID {
				latest = st
			}
		}
		if latest == nil {
			return nil
		}
		return latest.Sectors
	}
	touched := func(sectors []string, t time.Time) []string {
		var out []string
		off := offAt(t)
		for _, c := range sectors {
			if slices.Contains(off, c) && !slices.Contains(out, c) {
				out = append(out, c)
			}
		}
		return out
	}
	var out []offLimitsSubject
	reports, err := s.Reports(ctx, ch.ID)
	if err != nil {
		return nil, err
	}
	for _, r := range reports {
		if own && r.From != s.Self.Name {
			continue
		}
		if hit := touched(r.Sectors, r.Created); len(hit) > 0 {
			out = append(out, offLimitsSubject{ID: r.ID, Channel: ch.ID, Sectors: hit})
		}
	}
	reqs, err := s.channelRequests(ctx, ch)
	if err != nil {
		return nil, err
	}
	for _, r := range reqs {
		if own && r.from.IdentityID != s.Self.IdentityID || !r.OffLimits {
			continue
		}
		hit := touched(r.Sectors, r.Submitted)
		if len(hit) == 0 {
			// off_limits was decided at filing (the reports' sectors
			// count too): keep it, naming the sectors agreed then.
			hit = offAt(r.Submitted)
		}
		out = append(out, offLimitsSubject{ID: r.ID, Channel: ch.ID, Sectors: hit, Due: r.AckDeadline})
	}
	return out, nil
}

// stringsOf returns the strings of a decoded JSON array.
func stringsOf(v any) []string {
	a, _ := v.([]any)
	out := make([]string, 0, len(a))
	for _, x := range a {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
