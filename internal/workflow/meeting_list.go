package workflow

import (
	"context"
	"slices"
	"strings"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/stix"
)

// Meetings lists the meetings of a channel (id or title; every channel
// that is not refused when empty) as they stand, each with its minutes,
// the latest start first (then by id). A channel's meeting versions and
// its statements are each read once, however many meetings it holds.
func (s *Service) Meetings(ctx context.Context, channel string) ([]*Meeting, error) {
	chans, err := s.statementChannels(ctx, channel)
	if err != nil {
		return nil, err
	}
	out := []*Meeting{}
	for _, ch := range chans {
		other, err := s.otherParty(ctx, ch)
		if err != nil {
			return nil, err
		}
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
		if len(ids) == 0 {
			continue
		}
		sts, err := s.channelStatements(ctx, ch, other)
		if err != nil {
			return nil, err
		}
		minutes := map[string]*Statement{}
		for _, st := range sts {
			if st.Kind == StatementMinutes {
				minutes[st.ID] = st
			}
		}
		for _, id := range ids {
			m, err := s.foldMeeting(ch, other, id, byID[id])
			if err != nil {
				continue // written by neither party, or unreadable: not a meeting of this channel
			}
			if st := minutes[m.MinutesRef]; st != nil && st.MeetingRef == id {
				m.Minutes = st
			}
			out = append(out, m)
		}
	}
	slices.SortStableFunc(out, func(a, b *Meeting) int {
		if c := b.Start.Compare(a.Start); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}
