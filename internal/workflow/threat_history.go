package workflow

import (
	"context"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/stix"
)

// The threat picture as one user sees it, with its history (issue 8, the
// web UI's threat page): Threat's stated and computed levels, the
// computed ones weighing only the incident reports the user may see under
// TLP 2.0 (docs/design/tlp.md: a report hidden from a user counts nowhere
// for that user, so it does not move a level either), and for each sector
// the computed level sampled over the last ThreatHistoryWindow and each
// party's stated levels over the same time, for the trend charts.

// The history's span and step: the computed level is sampled every
// ThreatHistoryStep from ThreatHistoryWindow before the time computed
// for up to it (31 samples).
const (
	ThreatHistoryWindow = 30 * 24 * time.Hour
	ThreatHistoryStep   = 24 * time.Hour
)

// LevelPoint is a level at one time: a sample of the computed level
// (Score set), or a party's stated level from At (ID and Rationale set).
type LevelPoint struct {
	At        time.Time      `json:"at"`
	Level     dialogue.Level `json:"level"`
	Score     float64        `json:"score,omitempty"`
	ID        string         `json:"id,omitempty"`
	Rationale string         `json:"rationale,omitempty"`
}

// SectorPicture is a sector's threat levels with their history.
type SectorPicture struct {
	SectorThreat
	// History is the computed level at each sample time, oldest first.
	History []LevelPoint `json:"history"`
	// StatedHistory holds, per party name, the levels the party stated
	// in the window, oldest first; the first is the one in force at the
	// window's start when the party stated it before (At is then its own
	// valid_from, before Since). Empty when the party stated none.
	StatedHistory map[string][]LevelPoint `json:"stated_history"`
}

// ChannelPicture is one channel's threat picture for a user.
type ChannelPicture struct {
	Channel   string          `json:"channel"`
	Title     string          `json:"title"`
	Parties   []string        `json:"parties"`
	OffLimits []string        `json:"off_limits"`
	Sectors   []SectorPicture `json:"sectors"`
}

// ThreatPicture is the threat picture at AsOf for one user, with history
// from Since.
type ThreatPicture struct {
	AsOf     time.Time        `json:"as_of"`
	Since    time.Time        `json:"since"`
	Formula  string           `json:"formula"`
	Channels []ChannelPicture `json:"channels"`
}

// ThreatFor is Threat as user u sees it, with each sector's history: the
// computed levels (now, 7 and 30 days ago, and the samples) weigh only
// the reports u may see; a sector only reports hidden from u name is left
// out. The stated levels and the off-limits list are the channel's own
// (assessments and statements carry no marking: they are CLEAR).
func (s *Service) ThreatFor(ctx context.Context, u *dialogue.User, channel string) (*ThreatPicture, error) {
	chans, err := s.statementChannels(ctx, channel)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(chans, func(a, b *dialogue.Channel) int { return strings.Compare(a.ID, b.ID) })
	now := s.Now().UTC().Truncate(time.Millisecond)
	out := &ThreatPicture{AsOf: now, Since: now.Add(-ThreatHistoryWindow), Formula: ThreatFormula, Channels: []ChannelPicture{}}
	for _, ch := range chans {
		cp, err := s.channelPicture(ctx, u, ch, now)
		if err != nil {
			return nil, err
		}
		out.Channels = append(out.Channels, *cp)
	}
	return out, nil
}

func (s *Service) channelPicture(ctx context.Context, u *dialogue.User, ch *dialogue.Channel, now time.Time) (*ChannelPicture, error) {
	full, err := s.channelThreat(ctx, ch, now)
	if err != nil {
		return nil, err
	}
	incidents, err := s.visibleIncidents(ctx, u, ch)
	if err != nil {
		return nil, err
	}
	// The off-limits list at each sample time (the 7- and 30-day levels
	// are samples too).
	since := now.Add(-ThreatHistoryWindow)
	var times []time.Time
	for t := since; !t.After(now); t = t.Add(ThreatHistoryStep) {
		times = append(times, t)
	}
	offAt := map[time.Time][]string{now: full.OffLimits}
	for _, t := range append(times, now.Add(-7*24*time.Hour)) {
		if _, ok := offAt[t]; ok {
			continue
		}
		if offAt[t], err = s.offLimitsAt(ctx, ch, t); err != nil {
			return nil, err
		}
	}
	stated, err := s.statedHistory(ctx, ch, now, since)
	if err != nil {
		return nil, err
	}
	// The incidents by sector, so that each sample sums only its own.
	bySector := map[string][]threatIncident{}
	for _, in := range incidents {
		for _, sec := range in.sectors {
			bySector[sec] = append(bySector[sec], in)
		}
	}
	cp := &ChannelPicture{Channel: full.Channel, Title: full.Title, Parties: full.Parties, OffLimits: full.OffLimits, Sectors: []SectorPicture{}}
	for _, st := range full.Sectors {
		mine := bySector[st.Sector]
		anyStated := false
		for _, l := range st.Stated {
			anyStated = anyStated || l != nil
		}
		if !anyStated && !st.OffLimits && len(mine) == 0 {
			continue // only reports hidden from u name it
		}
		at := func(t time.Time) ComputedLevel {
			return computeThreat(mine, st.Sector, t, slices.Contains(offAt[t], st.Sector))
		}
		sp := SectorPicture{SectorThreat: st, StatedHistory: map[string][]LevelPoint{}}
		sp.Computed = at(now)
		sp.Computed7d = at(now.Add(-7 * 24 * time.Hour))
		sp.Computed30d = at(since)
		switch {
		case sp.Computed.Level > sp.Computed7d.Level:
			sp.Trend = "rising"
		case sp.Computed.Level < sp.Computed7d.Level:
			sp.Trend = "falling"
		default:
			sp.Trend = "steady"
		}
		for _, t := range times {
			c := at(t)
			sp.History = append(sp.History, LevelPoint{At: t, Level: c.Level, Score: c.Score})
		}
		for _, p := range full.Parties {
			sp.StatedHistory[p] = stated[[2]string{p, st.Sector}]
			if sp.StatedHistory[p] == nil {
				sp.StatedHistory[p] = []LevelPoint{}
			}
		}
		cp.Sectors = append(cp.Sectors, sp)
	}
	return cp, nil
}

// visibleIncidents is threatIncidents without the reports u may not see.
func (s *Service) visibleIncidents(ctx context.Context, u *dialogue.User, ch *dialogue.Channel) ([]threatIncident, error) {
	all, err := s.threatIncidents(ctx, ch)
	if err != nil {
		return nil, err
	}
	view := s.TLPView(ch.ID, u)
	visible := map[string]bool{}
	f := dialogue.ObjectFilter{Types: []string{"report"}}
	for {
		page, err := s.Store.FindObjects(ctx, ch.ID, f)
		if err != nil {
			return nil, err
		}
		for _, o := range page.Objects {
			ok, err := view.Visible(ctx, o)
			if err != nil {
				return nil, err
			}
			visible[o.ID] = ok
		}
		if !page.More {
			break
		}
		f.After = page.Next
	}
	out := all[:0]
	for _, in := range all {
		if visible[in.id] {
			out = append(out, in)
		}
	}
	return out, nil
}

// statedHistory is, per (party, sector), the levels stated from since to
// now, oldest first, the one in force at since first; in the order
// channelThreat reads them (valid_from, then id), so that the last is the
// party's StatedLevel.
func (s *Service) statedHistory(ctx context.Context, ch *dialogue.Channel, now, since time.Time) (map[[2]string][]LevelPoint, error) {
	other, err := s.otherParty(ctx, ch)
	if err != nil {
		return nil, err
	}
	items, err := s.Items(ctx, ch, other, stix.TypeAssessment)
	if err != nil {
		return nil, err
	}
	var pts []struct {
		key [2]string
		p   LevelPoint
	}
	for _, it := range items {
		vf, err := stix.ParseTime(it.Str("valid_from"))
		if err != nil || vf.After(now) {
			continue
		}
		lv, _ := it.Props["level"].(float64)
		pts = append(pts, struct {
			key [2]string
			p   LevelPoint
		}{[2]string{it.From.Name, it.Str("sector")}, LevelPoint{At: vf, Level: dialogue.Level(lv), ID: it.Object.ID, Rationale: it.Str("rationale")}})
	}
	sort.SliceStable(pts, func(i, j int) bool {
		if !pts[i].p.At.Equal(pts[j].p.At) {
			return pts[i].p.At.Before(pts[j].p.At)
		}
		return pts[i].p.ID < pts[j].p.ID
	})
	out := map[[2]string][]LevelPoint{}
	for _, x := range pts {
		h := out[x.key]
		// A level stated before the window is kept only while it is the
		// one in force at its start.
		if len(h) == 1 && h[0].At.Before(since) && !x.p.At.After(since) {
			h = h[:0]
		}
		out[x.key] = append(h, x.p)
	}
	return out, nil
}
