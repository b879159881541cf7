package workflow

import (
	"context"
	"fmt"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
)

// Per-channel deadlines of assistance requests: the
// times this node's party gives the other party to acknowledge and to
// answer the requests it files on a channel, normally and when a request
// hits an agreed off-limits sector. They are kept by the node's store
// (DeadlineStore) and written into each request when it is filed (ack_by,
// answer_by), so that both parties see the same deadlines on every
// request, whoever set them (docs/design/workflow.md, "Deadlines").

// DeadlineStore is what a store needs to keep per-channel deadlines
// (internal/sqlite's DB has it). A zero Deadlines means none is set.
type DeadlineStore interface {
	ChannelDeadlines(ctx context.Context, channelID string) (normal, offLimits dialogue.Deadlines, err error)
	SetChannelDeadlines(ctx context.Context, channelID string, normal, offLimits dialogue.Deadlines) error
}

// The bounds of a request deadline.
const (
	MinDeadline = time.Minute
	MaxDeadline = 90 * 24 * time.Hour
)

// ChannelDeadlines are the deadlines of the requests this node's party
// files on a channel. The durations are in seconds in the JSON.
type ChannelDeadlines struct {
	Channel string `json:"channel"`
	Title   string `json:"title"`
	// Normal applies to every request; OffLimits to one that hits a
	// sector of the channel's agreed off-limits list.
	Normal    DeadlinePair `json:"normal"`
	OffLimits DeadlinePair `json:"off_limits"`
}

// DeadlinePair is a pair of deadlines as shown: in seconds, and whether
// it is the default.
type DeadlinePair struct {
	AckSeconds    int64 `json:"ack_seconds"`
	AnswerSeconds int64 `json:"answer_seconds"`
	Default       bool  `json:"default"`
}

// Deadlines returns the pair as durations.
func (p DeadlinePair) Deadlines() dialogue.Deadlines {
	return dialogue.Deadlines{Ack: time.Duration(p.AckSeconds) * time.Second, Answer: time.Duration(p.AnswerSeconds) * time.Second}
}

func pairOf(set, def dialogue.Deadlines) DeadlinePair {
	if set == (dialogue.Deadlines{}) {
		return DeadlinePair{AckSeconds: int64(def.Ack / time.Second), AnswerSeconds: int64(def.Answer / time.Second), Default: true}
	}
	return DeadlinePair{AckSeconds: int64(set.Ack / time.Second), AnswerSeconds: int64(set.Answer / time.Second)}
}

// RequestDeadlines returns the deadlines of a channel (id or title): those
// set for it, else dialogue.DefaultDeadlines and
// dialogue.OffLimitsDeadlines.
func (s *Service) RequestDeadlines(ctx context.Context, channel string) (*ChannelDeadlines, error) {
	ch, _, err := s.Channel(ctx, channel)
	if err != nil {
		return nil, err
	}
	return s.channelDeadlines(ctx, ch)
}

func (s *Service) channelDeadlines(ctx context.Context, ch *dialogue.Channel) (*ChannelDeadlines, error) {
	var normal, off dialogue.Deadlines
	if ds, ok := s.Store.(DeadlineStore); ok {
		var err error
		if normal, off, err = ds.ChannelDeadlines(ctx, ch.ID); err != nil {
			return nil, err
		}
	}
	return &ChannelDeadlines{Channel: ch.ID, Title: ch.Title, Normal: pairOf(normal, dialogue.DefaultDeadlines), OffLimits: pairOf(off, dialogue.OffLimitsDeadlines)}, nil
}

// SetRequestDeadlines sets the deadlines of the requests this node's
// party files on a channel (id or title) from now on; a zero pair goes
// back to the default. Each deadline is whole seconds between MinDeadline
// and MaxDeadline, the answer's no earlier than the acknowledgement's,
// and the off-limits ones no longer than the normal ones (KindInvalid,
// naming the deadline). Requests filed before keep theirs.
func (s *Service) SetRequestDeadlines(ctx context.Context, channel string, normal, offLimits dialogue.Deadlines) (*ChannelDeadlines, error) {
	const op = "workflow.SetRequestDeadlines"
	ch, _, err := s.Channel(ctx, channel)
	if err != nil {
		return nil, err
	}
	ds, ok := s.Store.(DeadlineStore)
	if !ok {
		return nil, dialogue.Errorf(op, dialogue.KindUnavailable, "this node's store cannot keep per-channel deadlines")
	}
	eff := func(d, def dialogue.Deadlines) dialogue.Deadlines {
		if d == (dialogue.Deadlines{}) {
			return def
		}
		return d
	}
	n, o := eff(normal, dialogue.DefaultDeadlines), eff(offLimits, dialogue.OffLimitsDeadlines)
	for _, f := range []struct {
		name string
		d    time.Duration
	}{{"ack", n.Ack}, {"answer", n.Answer}, {"off-limits ack", o.Ack}, {"off-limits answer", o.Answer}} {
		switch {
		case f.d < MinDeadline || f.d > MaxDeadline:
			return nil, dialogue.Errorf(op, dialogue.KindInvalid, "%s deadline %s: want between %s and %s", f.name, f.d, MinDeadline, fmtDays(MaxDeadline))
		case f.d%time.Second != 0:
			return nil, dialogue.Errorf(op, dialogue.KindInvalid, "%s deadline %s: want whole seconds", f.name, f.d)
		}
	}
	switch {
	case n.Answer < n.Ack:
		return nil, dialogue.Errorf(op, dialogue.KindInvalid, "answer deadline %s: earlier than the ack deadline %s", n.Answer, n.Ack)
	case o.Answer < o.Ack:
		return nil, dialogue.Errorf(op, dialogue.KindInvalid, "off-limits answer deadline %s: earlier than the off-limits ack deadline %s", o.Answer, o.Ack)
	case o.Ack > n.Ack:
		return nil, dialogue.Errorf(op, dialogue.KindInvalid, "off-limits ack deadline %s: longer than the ack deadline %s (an off-limits sector gets the short deadlines)", o.Ack, n.Ack)
	case o.Answer > n.Answer:
		return nil, dialogue.Errorf(op, dialogue.KindInvalid, "off-limits answer deadline %s: longer than the answer deadline %s (an off-limits sector gets the short deadlines)", o.Answer, n.Answer)
	}
	if err := ds.SetChannelDeadlines(ctx, ch.ID, normal, offLimits); err != nil {
		return nil, err
	}
	return s.channelDeadlines(ctx, ch)
}

func fmtDays(d time.Duration) string { return fmt.Sprintf("%d days", d/(24*time.Hour)) }
