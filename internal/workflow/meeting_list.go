package workflow

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/stix"
)

// Meetings lists the meetings of a channel (id or title; every channel
// that is not refused when empty) as they stand, each with its minutes,
// the latest start first (then by id). A channel's meetings are folded
// once between two writes to them (the fold cache, readcache.go), each
// from its versions only when they changed (versionMemo); its statements
// likewise (channelStatements). Each call gets its own copies, with the
// action items' overdue flags at the service's clock.
func (s *Service) Meetings(ctx context.Context, channel string) ([]*Meeting, error) {
	chans, err := s.statementChannels(ctx, channel)
	if err != nil {
		return nil, err
	}
	out := []*Meeting{}
	now := s.Now()
	for _, ch := range chans {
		other, err := s.otherParty(ctx, ch)
		if err != nil {
			return nil, err
		}
		ms, err := s.meetingFold(ctx, ch, other)
		if err != nil {
			return nil, err
		}
		if len(ms) == 0 {
			continue
		}
		sts, err := s.statementFold(ctx, ch, other)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			c := m.clone(now)
			if st := sts.byID[c.MinutesRef]; st != nil && st.Kind == StatementMinutes && st.MeetingRef == c.ID {
				c.Minutes = st.clone()
			}
			out = append(out, c)
		}
	}
	if len(chans) > 1 {
		slices.SortStableFunc(out, compareMeetings)
	}
	return out, nil
}

// compareMeetings orders meetings the latest start first, then by id.
func compareMeetings(a, b *Meeting) int {
	if c := b.Start.Compare(a.Start); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

// meetingFold returns a channel's meetings folded from their versions
// (foldMeeting; without minutes), the latest start first, from the fold
// cache while the store's stamp of meetings is unchanged. They are
// shared: the caller must not change them (clone).
func (s *Service) meetingFold(ctx context.Context, ch *dialogue.Channel, other dialogue.Party) ([]*Meeting, error) {
	v, err := s.cachedFold(ctx, "meetings", ch, other, []string{stix.TypeMeeting}, func() (any, error) {
		byID := map[string][]*dialogue.Object{}
		var ids []string
		f := dialogue.ObjectFilter{Types: []string{stix.TypeMeeting}, Versions: dialogue.VersionMatch{All: true}}
		for {
			page, err := s.Store.FindObjects(ctx, ch.ID, f)
			if err != nil {
				return nil, err
			}
			for _, o := range page.Objects {
				if byID[o.ID] == nil {
					ids = append(ids, o.ID)
				}
				byID[o.ID] = append(byID[o.ID], o)
			}
			if !page.More {
				break
			}
			f.After = page.Next
		}
		memo := s.memo("meetings", ch, other)
		out := make([]*Meeting, 0, len(ids))
		for _, id := range ids {
			versions := byID[id]
			raws := make([][]byte, len(versions))
			for i, v := range versions {
				raws[i] = v.Raw
			}
			m, _ := memo.get(func() any {
				m, err := s.foldMeeting(ch, other, id, versions)
				if err != nil {
					return nil // written by neither party, or unreadable: not a meeting of this channel
				}
				m.props = nil
				return m
			}, raws...).(*Meeting)
			if m != nil {
				out = append(out, m)
			}
		}
		memo.keep()
		slices.SortStableFunc(out, compareMeetings)
		return out, nil
	})
	if err != nil {
		return nil, err
	}
	return v.([]*Meeting), nil
}

// clone is a copy of a folded meeting that shares nothing with it, its
// action items' overdue flags at now. The properties it was folded from
// are not copied.
func (m *Meeting) clone(now time.Time) *Meeting {
	c := *m
	c.props = nil
	c.Participants = slices.Clone(m.Participants)
	c.Agenda = slices.Clone(m.Agenda)
	for i := range c.Agenda {
		c.Agenda[i].ObjectRefs = slices.Clone(c.Agenda[i].ObjectRefs)
	}
	c.ActionItems = slices.Clone(m.ActionItems)
	for i := range c.ActionItems {
		a := &c.ActionItems[i]
		a.Overdue = a.Status == ActionOpen && now.After(a.Due)
	}
	if m.Minutes != nil {
		c.Minutes = m.Minutes.clone()
	}
	return &c
}
