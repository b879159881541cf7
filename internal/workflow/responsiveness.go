package workflow

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
)

// Responsiveness figures: how fast each party of a
// channel acknowledged and answered the assistance requests addressed to
// it, and how it answered the communication checks the other party sent
// it. The same code computes both directions, from the objects of both
// sides and the clock (a request still open before its deadline is
// pending and counts nowhere yet), so both nodes show the same numbers at
// the same time once they hold the same objects (docs/design/workflow.md,
// "Responsiveness").

// RequestFigures is how one party handled the requests addressed to it.
type RequestFigures struct {
	// Received counts the requests addressed to the party; Declined those
	// it declined.
	Received int `json:"received"`
	Declined int `json:"declined"`
	// AckDue counts the requests whose acknowledgement is decided at the
	// time computed for: the party acknowledged (or declined) them, or
	// their acknowledgement deadline has passed. AckInTime counts those it
	// acknowledged (or declined) by the deadline; AckInTimeShare is
	// AckInTime/AckDue (null when AckDue is 0).
	AckDue         int      `json:"ack_due"`
	AckInTime      int      `json:"ack_in_time"`
	AckInTimeShare *float64 `json:"ack_in_time_share"`
	// MedianAckSeconds is the median time from filing to the party's
	// first move (acknowledge or decline); null when none.
	MedianAckSeconds *float64 `json:"median_ack_seconds"`
	// AnswerDue counts the requests not declined whose answer is decided:
	// answered, or past their answer deadline. AnswerInTime counts those
	// answered by the deadline; AnswerInTimeShare is
	// AnswerInTime/AnswerDue (null when AnswerDue is 0).
	AnswerDue         int      `json:"answer_due"`
	AnswerInTime      int      `json:"answer_in_time"`
	AnswerInTimeShare *float64 `json:"answer_in_time_share"`
	// MedianAnswerSeconds is the median time from filing to the answer;
	// null when none.
	MedianAnswerSeconds *float64 `json:"median_answer_seconds"`
}

// CheckFigures is how one party answered the communication checks the
// other party sent it (CheckFigure without its channel and party).
type CheckFigures struct {
	Sent                int      `json:"sent"`
	Answered            int      `json:"answered"`
	AnswerRate          *float64 `json:"answer_rate"`
	MedianAnswerSeconds *float64 `json:"median_answer_seconds"`
}

// PartyResponsiveness is one party's figures.
type PartyResponsiveness struct {
	// Party is the party's name, PartyID its identity.
	Party    string         `json:"party"`
	PartyID  string         `json:"party_ref"`
	Requests RequestFigures `json:"requests"`
	Checks   CheckFigures   `json:"checks"`
}

// ChannelResponsiveness holds the figures of a channel's two parties,
// ordered by identity (the same order on both nodes).
type ChannelResponsiveness struct {
	Channel string                `json:"channel"`
	Title   string                `json:"title"`
	Parties []PartyResponsiveness `json:"parties"`
}

// Responsiveness is the figures at AsOf: per channel, and pooled per
// party over the channels (keyed by party name).
type Responsiveness struct {
	AsOf     time.Time                      `json:"as_of"`
	Channels []ChannelResponsiveness        `json:"channels"`
	Parties  map[string]PartyResponsiveness `json:"parties"`
}

// Responsiveness computes the figures of a channel (id or title), or of
// every channel proposed or active when channel is "", at the service's
// clock.
func (s *Service) Responsiveness(ctx context.Context, channel string) (*Responsiveness, error) {
	chans, err := s.respChannels(ctx, channel)
	if err != nil {
		return nil, err
	}
	now := s.Now().UTC().Truncate(time.Millisecond)
	out := &Responsiveness{AsOf: now, Channels: []ChannelResponsiveness{}, Parties: map[string]PartyResponsiveness{}}
	pooled := map[string]*respSamples{}
	var order []dialogue.Party
	for _, ch := range chans {
		ch, other, err := s.Channel(ctx, ch.ID)
		if err != nil {
			return nil, err
		}
		reqs, err := s.channelRequests(ctx, ch)
		if err != nil {
			return nil, err
		}
		checks, err := s.CheckFigures(ctx, ch)
		if err != nil {
			return nil, err
		}
		comms, err := s.loadComms(ctx, ch, other)
		if err != nil {
			return nil, err
		}
		cr := ChannelResponsiveness{Channel: ch.ID, Title: ch.Title, Parties: []PartyResponsiveness{}}
		for _, cf := range checks {
			party := s.Self
			if cf.PartyID != s.Self.IdentityID {
				party = other
			}
			smp := &respSamples{}
			smp.addRequests(party, reqs, now)
			smp.addChecks(party, comms)
			cr.Parties = append(cr.Parties, PartyResponsiveness{
				Party: cf.Party, PartyID: cf.PartyID, Requests: smp.requestFigures(),
				// The check figures are CheckFigures' own, as
				// 'parley check list' shows them.
				Checks: CheckFigures{Sent: cf.Sent, Answered: cf.Answered, AnswerRate: cf.AnswerRate, MedianAnswerSeconds: cf.MedianAnswerSeconds},
			})
			p := pooled[party.IdentityID]
			if p == nil {
				p = &respSamples{}
				pooled[party.IdentityID] = p
				order = append(order, party)
			}
			p.merge(smp)
		}
		out.Channels = append(out.Channels, cr)
	}
	for _, party := range order {
		p := pooled[party.IdentityID]
		out.Parties[party.Name] = PartyResponsiveness{Party: party.Name, PartyID: party.IdentityID, Requests: p.requestFigures(), Checks: p.checkFigures()}
	}
	return out, nil
}

// respChannels is one channel (id or title), or every channel proposed or
// active, in id order.
func (s *Service) respChannels(ctx context.Context, channel string) ([]*dialogue.Channel, error) {
	if channel != "" {
		ch, _, err := s.Channel(ctx, channel)
		if err != nil {
			return nil, err
		}
		return []*dialogue.Channel{ch}, nil
	}
	all, err := s.channels(ctx)
	if err != nil {
		return nil, err
	}
	var out []*dialogue.Channel
	for _, ch := range all {
		if ch.State == dialogue.ChannelActive || ch.State == dialogue.ChannelProposed {
			out = append(out, ch)
		}
	}
	slices.SortFunc(out, func(a, b *dialogue.Channel) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// respSamples are the counts and times one party's figures are made of;
// samples of several channels pool by merge.
type respSamples struct {
	received, declined         int
	ackDue, ackInTime          int
	answerDue, answerInTime    int
	ackSecs, answerSecs        []float64
	checksSent, checksAnswered int
	checkSecs                  []float64
}

func (a *respSamples) merge(b *respSamples) {
	a.received += b.received
	a.declined += b.declined
	a.ackDue += b.ackDue
	a.ackInTime += b.ackInTime
	a.answerDue += b.answerDue
	a.answerInTime += b.answerInTime
	a.ackSecs = append(a.ackSecs, b.ackSecs...)
	a.answerSecs = append(a.answerSecs, b.answerSecs...)
	a.checksSent += b.checksSent
	a.checksAnswered += b.checksAnswered
	a.checkSecs = append(a.checkSecs, b.checkSecs...)
}

// addRequests counts the requests addressed to party, as computed at now:
// its first move (acknowledge or decline) and its answer, each against
// its deadline. Only the moves that applied (Request.History) count.
func (a *respSamples) addRequests(party dialogue.Party, reqs []*Request, now time.Time) {
	for _, r := range reqs {
		if r.To != party.Name || r.from.IdentityID == party.IdentityID {
			continue
		}
		a.received++
		var acked, answered *Transition
		declined := false
		for _, t := range r.History {
			switch t.Action {
			case dialogue.ActionAcknowledge:
				if acked == nil {
					acked = t
				}
			case dialogue.ActionDecline:
				declined = true
				if acked == nil {
					acked = t
				}
			case dialogue.ActionAnswer:
				if answered == nil {
					answered = t
				}
			}
		}
		if declined {
			a.declined++
		}
		switch {
		case acked != nil:
			a.ackDue++
			if !acked.At.After(r.AckDeadline) {
				a.ackInTime++
			}
			a.ackSecs = append(a.ackSecs, acked.At.Sub(r.Submitted).Seconds())
		case now.After(r.AckDeadline):
			a.ackDue++
		}
		switch {
		case declined:
		case answered != nil:
			a.answerDue++
			if !answered.At.After(r.AnswerDeadline) {
				a.answerInTime++
			}
			a.answerSecs = append(a.answerSecs, answered.At.Sub(r.Submitted).Seconds())
		case now.After(r.AnswerDeadline):
			a.answerDue++
		}
	}
}

// addChecks counts the pings the other party sent party, as CheckFigures
// does.
func (a *respSamples) addChecks(party dialogue.Party, c *comms) {
	for _, p := range c.pings {
		if p.From.IdentityID == party.IdentityID {
			continue
		}
		a.checksSent++
		if k := c.check(p); k.AnswerSeconds != nil {
			a.checksAnswered++
			a.checkSecs = append(a.checkSecs, *k.AnswerSeconds)
		}
	}
}

func (a *respSamples) requestFigures() RequestFigures {
	f := RequestFigures{Received: a.received, Declined: a.declined, AckDue: a.ackDue, AckInTime: a.ackInTime, AnswerDue: a.answerDue, AnswerInTime: a.answerInTime}
	f.AckInTimeShare = share(a.ackInTime, a.ackDue)
	f.AnswerInTimeShare = share(a.answerInTime, a.answerDue)
	f.MedianAckSeconds = medianPtr(a.ackSecs)
	f.MedianAnswerSeconds = medianPtr(a.answerSecs)
	return f
}

func (a *respSamples) checkFigures() CheckFigures {
	return CheckFigures{Sent: a.checksSent, Answered: a.checksAnswered, AnswerRate: share(a.checksAnswered, a.checksSent), MedianAnswerSeconds: medianPtr(a.checkSecs)}
}

// share is n/of, nil when of is 0.
func share(n, of int) *float64 {
	if of == 0 {
		return nil
	}
	v := float64(n) / float64(of)
	return &v
}

func medianPtr(xs []float64) *float64 {
	m, ok := median(xs)
	if !ok {
		return nil
	}
	return &m
}
