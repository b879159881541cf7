package workflow

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/stix"
)

// Communication checks: a party pings the other party's
// duty officer, on a schedule (ScheduledChecks, run by the scheduler) or
// on demand (SendCheck); the other node writes a delivery receipt by
// itself (Receipts) and a person there answers (AnswerCheck). The answer
// times make the check figures (CheckFigures), which the responsiveness
// figures use: computed from the objects alone, never the clock, so both
// nodes show the same numbers.

// The kinds of parley-check.
const (
	CheckPing   = "ping"
	CheckAnswer = "answer"
)

// The triggers of a ping.
const (
	TriggerScheduled = "scheduled"
	TriggerOnDemand  = "on-demand"
)

// CheckState is where a check stands.
type CheckState string

// The states of a communication check.
const (
	CheckSent      CheckState = "sent"      // no receipt from the other node yet
	CheckDelivered CheckState = "delivered" // the other node has it
	CheckAnswered  CheckState = "answered"  // a person of the other party answered
)

// Check is a communication check (a ping) with where it stands.
type Check struct {
	ID      string `json:"id"`
	Channel string `json:"channel"`
	// From is the checking party, To the checked one (names); Outgoing is
	// true when this node's party checks.
	From     string     `json:"from"`
	To       string     `json:"to"`
	Outgoing bool       `json:"outgoing"`
	Trigger  string     `json:"trigger"`
	Sent     time.Time  `json:"sent"`
	State    CheckState `json:"state"`
	// Delivered is the checked node's receipt time.
	Delivered  *time.Time `json:"delivered"`
	DeliveryID string     `json:"delivery_ref,omitempty"`
	// Answered is when a person answered, AnsweredBy who (name and role),
	// AnswerSeconds the time from Sent to Answered.
	Answered      *time.Time `json:"answered"`
	AnsweredBy    string     `json:"answered_by,omitempty"`
	AnswerID      string     `json:"answer_ref,omitempty"`
	AnswerSeconds *float64   `json:"answer_seconds"`
}

// CheckFigure is how one party answered the checks of a channel that the
// other party sent it.
type CheckFigure struct {
	Channel string `json:"channel"`
	// Party is the checked party's name, PartyID its identity.
	Party   string `json:"party"`
	PartyID string `json:"party_ref"`
	// Sent counts the pings it received; Answered those it answered.
	Sent     int `json:"sent"`
	Answered int `json:"answered"`
	// AnswerRate is Answered/Sent (nil when Sent is 0).
	AnswerRate *float64 `json:"answer_rate"`
	// MedianAnswerSeconds is the median of the answer times (nil when none
	// was answered); of an even count, the mean of the middle two.
	MedianAnswerSeconds *float64 `json:"median_answer_seconds"`
}

// SendCheck pings the other party of a channel (id or title) on demand.
func (s *Service) SendCheck(ctx context.Context, channel string) (*Check, error) {
	ch, other, err := s.Channel(ctx, channel)
	if err != nil {
		return nil, err
	}
	return s.sendPing(ctx, ch, other, TriggerOnDemand)
}

func (s *Service) sendPing(ctx context.Context, ch *dialogue.Channel, other dialogue.Party, trigger string) (*Check, error) {
	raw, err := s.ping(trigger)
	if err != nil {
		return nil, dialogue.E("workflow.SendCheck", dialogue.KindOther, err)
	}
	ids, err := s.File(ctx, ch, raw)
	if err != nil {
		return nil, err
	}
	return s.checkByID(ctx, ch, other, ids[0])
}

func (s *Service) ping(trigger string) (json.RawMessage, error) {
	return s.NewObject(stix.TypeCheck, map[string]any{"check_kind": CheckPing, "trigger": trigger, "sent": stamp(s.Now())})
}

func (s *Service) checkByID(ctx context.Context, ch *dialogue.Channel, other dialogue.Party, id string) (*Check, error) {
	c, err := s.loadComms(ctx, ch, other)
	if err != nil {
		return nil, err
	}
	p := c.byID[id]
	if p == nil || p.Object.Type != stix.TypeCheck {
		return nil, dialogue.Errorf("workflow.Check", dialogue.KindNotFound, "no communication check %s on channel %s", id, ch.ID)
	}
	return c.check(p), nil
}

// AnswerCheck records that by, a person of this node's party (the duty
// officer), answered the other party's check id (with the delivery
// receipt too if the node has not written it yet). Only the checked party
// answers, and only once: answering one's own check is KindForbidden, a
// second answer KindConflict, an unknown id KindNotFound.
func (s *Service) AnswerCheck(ctx context.Context, id string, by *dialogue.User) (*Check, error) {
	const op = "workflow.AnswerCheck"
	if err := checkPerson(op, "answering a communication check", by); err != nil {
		return nil, err
	}
	if err := checkID(op, "id", id); err != nil {
		return nil, err
	}
	commsMu.Lock()
	defer commsMu.Unlock()
	ch, other, err := s.commsFind(ctx, op, id, stix.TypeCheck, "communication check", "parley check list")
	if err != nil {
		return nil, err
	}
	c, err := s.loadComms(ctx, ch, other)
	if err != nil {
		return nil, err
	}
	p := c.byID[id]
	if p == nil {
		return nil, dialogue.Errorf(op, dialogue.KindInvalid, "%s is the answer to a check, not a check: answer the check it names", id)
	}
	if p.From.Local {
		return nil, dialogue.Errorf(op, dialogue.KindForbidden, "only the checked party answers a communication check: %s sent %s, so %s's duty officer answers it on its node", s.Self.Name, id, other.Name)
	}
	if a := c.answers[id]; a != nil {
		return nil, dialogue.Errorf(op, dialogue.KindConflict, "communication check %s was answered already, by %s at %s", id, a.p.AnsweredBy, a.p.Answered)
	}
	now := s.Now()
	var raws []json.RawMessage
	if c.delivered[id] == nil {
		raw, err := s.receipt(id, ReceiptDelivered, now, "")
		if err != nil {
			return nil, dialogue.E(op, dialogue.KindOther, err)
		}
		raws = append(raws, raw)
	}
	raw, err := s.NewObject(stix.TypeCheck, map[string]any{"check_kind": CheckAnswer, "check_ref": id, "answered": stamp(now), "answered_by": by.String()})
	if err != nil {
		return nil, dialogue.E(op, dialogue.KindOther, err)
	}
	if _, err := s.File(ctx, ch, append(raws, raw)...); err != nil {
		return nil, err
	}
	return s.checkByID(ctx, ch, other, id)
}

// ListChecks lists the checks of a channel (id or title), or of every
// channel when channel is "", both directions, oldest first, with the
// figures of each channel's two parties.
func (s *Service) ListChecks(ctx context.Context, channel string) ([]*Check, []CheckFigure, error) {
	checks, figs := []*Check{}, []CheckFigure{}
	err := s.eachComms(ctx, channel, false, func(c *comms) error {
		for _, p := range c.pings {
			checks = append(checks, c.check(p))
		}
		figs = append(figs, c.figures()...)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	slices.SortStableFunc(checks, func(a, b *Check) int {
		return cmp.Or(a.Sent.Compare(b.Sent), cmp.Compare(a.ID, b.ID))
	})
	return checks, figs, nil
}

// CheckFigures returns how each party of a channel answered the checks the
// other sent it: the checked party's pings received, answered, answer
// rate and median answer time, ordered by party identity so that both
// nodes give the same list. The figures depend on the objects alone: a
// ping not answered yet counts as unanswered.
func (s *Service) CheckFigures(ctx context.Context, ch *dialogue.Channel) ([]CheckFigure, error) {
	ch, other, err := s.Channel(ctx, ch.ID)
	if err != nil {
		return nil, err
	}
	c, err := s.loadComms(ctx, ch, other)
	if err != nil {
		return nil, err
	}
	return c.figures(), nil
}

// ScheduledChecks sends a scheduled ping on each active channel whose last
// scheduled ping from this node (or, before the first, the channel's
// activation) is at least the channel's check interval ago. A node that
// was down for several intervals sends one ping, not one per interval.
func (s *Service) ScheduledChecks(ctx context.Context) error {
	cfg := s.Comms()
	commsMu.Lock()
	defer commsMu.Unlock()
	return s.eachComms(ctx, "", true, func(c *comms) error {
		last := c.ch.AcceptedAt
		if last.IsZero() {
			last = c.ch.CreatedAt
		}
		for _, p := range c.pings {
			if p.From.Local && p.p.Trigger == TriggerScheduled {
				if t := p.at; t.After(last) {
					last = t
				}
			}
		}
		if s.Now().Before(last.Add(cfg.CheckEvery(c.ch.ID))) {
			return nil
		}
		_, err := s.sendPing(ctx, c.ch, c.other, TriggerScheduled)
		return err
	})
}

// check computes a ping's view.
func (c *comms) check(p *commsItem) *Check {
	k := &Check{
		ID: p.Object.ID, Channel: c.ch.ID, From: p.From.Name, To: c.party(p.From).Name, Outgoing: p.From.Local,
		Trigger: p.p.Trigger, Sent: p.at, State: CheckSent,
	}
	if d := c.delivered[k.ID]; d != nil {
		t := d.at
		k.Delivered, k.DeliveryID, k.State = &t, d.Object.ID, CheckDelivered
	}
	if a := c.answers[k.ID]; a != nil {
		t := a.at
		secs := t.Sub(k.Sent).Seconds()
		k.Answered, k.AnsweredBy, k.AnswerID, k.AnswerSeconds, k.State = &t, a.p.AnsweredBy, a.Object.ID, &secs, CheckAnswered
	}
	return k
}

// figures computes the check figures of the channel's two parties, ordered
// by identity.
func (c *comms) figures() []CheckFigure {
	parties := []dialogue.Party{c.self, c.other}
	slices.SortFunc(parties, func(a, b dialogue.Party) int { return cmp.Compare(a.IdentityID, b.IdentityID) })
	out := make([]CheckFigure, 0, 2)
	for _, party := range parties {
		f := CheckFigure{Channel: c.ch.ID, Party: party.Name, PartyID: party.IdentityID}
		var times []float64
		for _, p := range c.pings {
			if p.From.IdentityID == party.IdentityID {
				continue // its own check
			}
			f.Sent++
			if k := c.check(p); k.AnswerSeconds != nil {
				f.Answered++
				times = append(times, *k.AnswerSeconds)
			}
		}
		if f.Sent > 0 {
			r := float64(f.Answered) / float64(f.Sent)
			f.AnswerRate = &r
		}
		if m, ok := median(times); ok {
			f.MedianAnswerSeconds = &m
		}
		out = append(out, f)
	}
	return out
}

// median returns the median of xs (the mean of the middle two of an even
// count); false when xs is empty.
func median(xs []float64) (float64, bool) {
	if len(xs) == 0 {
		return 0, false
	}
	xs = slices.Clone(xs)
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2], true
	}
	return (xs[n/2-1] + xs[n/2]) / 2, true
}
