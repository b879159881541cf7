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

// The threat picture as one user sees it, with its history (the
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
	// StatedHistory holds, per party name, the level the party stated
	// in force at each sample time (History's times): At is the
	// assessment's valid_from, ID and Rationale its own; Level 0 (and no
	// ID) before the party stated any.
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

// channelPicture computes one channel's picture reading each kind of
// object once: the statements (the off-limits list at each sample time),
// the reports (with their visibility to u) and the assessments. Threat's
// channelThreat reads the assessments and statements again for each of
// its times; the rules are the same (TestThreatFor compares the two).
func (s *Service) channelPicture(ctx context.Context, u *dialogue.User, ch *dialogue.Channel, now time.Time) (*ChannelPicture, error) {
	other, err := s.otherParty(ctx, ch)
	if err != nil {
		return nil, err
	}
	sts, err := s.channelStatements(ctx, ch, other)
	if err != nil {
		return nil, err
	}
	all, visible, err := s.visibleIncidents(ctx, u, ch)
	if err != nil {
		return nil, err
	}
	assessments, err := s.assessmentsByKey(ctx, ch, other)
	if err != nil {
		return nil, err
	}
	since := now.Add(-ThreatHistoryWindow)
	offNow := offLimitsIn(sts, now)
	parties := []string{s.Self.Name, other.Name}

	// The sectors: stated by a party, named by a report, or off-limits.
	sectors := map[string]bool{}
	for k, pts := range assessments {
		if len(pts) > 0 && !pts[0].At.After(now) {
			sectors[k[1]] = true
		}
	}
	for _, in := range all {
		for _, sec := range in.sectors {
			sectors[sec] = true
		}
	}
	for _, sec := range offNow {
		sectors[sec] = true
	}
	var names []string
	for sec := range sectors {
		names = append(names, sec)
	}
	sort.Strings(names)

	var times []time.Time
	for t := since; !t.After(now); t = t.Add(ThreatHistoryStep) {
		times = append(times, t)
	}
	offAt := map[time.Time][]string{}
	for _, t := range append(times, now, now.Add(-7*24*time.Hour)) {
		offAt[t] = offLimitsIn(sts, t)
	}
	bySector := map[string][]threatIncident{}
	for _, in := range visible {
		for _, sec := range in.sectors {
			bySector[sec] = append(bySector[sec], in)
		}
	}
	cp := &ChannelPicture{Channel: ch.ID, Title: ch.Title, Parties: parties, OffLimits: offNow, Sectors: []SectorPicture{}}
	for _, sec := range names {
		mine := bySector[sec]
		sp := SectorPicture{SectorThreat: SectorThreat{Sector: sec, OffLimits: slices.Contains(offNow, sec), Stated: map[string]*StatedLevel{}},
			StatedHistory: map[string][]LevelPoint{}}
		anyStated := false
		for _, p := range parties {
			sp.Stated[p], sp.StatedHistory[p] = statedAt(assessments[[2]string{p, sec}], now, times)
			anyStated = anyStated || sp.Stated[p] != nil
		}
		if !anyStated && !sp.OffLimits && len(mine) == 0 {
			continue // only reports hidden from u name it
		}
		at := func(t time.Time) ComputedLevel {
			return computeThreat(mine, sec, t, slices.Contains(offAt[t], sec))
		}
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
		cp.Sectors = append(cp.Sectors, sp)
	}
	return cp, nil
}

// offLimitsIn is offLimitsAt over statements already read: the sectors
// of the off-limits statement agreed last by t.
func offLimitsIn(sts []*Statement, t time.Time) []string {
	var latest *Statement
	for _, st := range sts {
		if st.Kind != StatementOffLimits || st.State != StatementAgreed || st.AgreedAt.After(t) {
			continue
		}
		if latest == nil || st.AgreedAt.After(*latest.AgreedAt) || st.AgreedAt.Equal(*latest.AgreedAt) && st.ID > latest.ID {
			latest = st
		}
	}
	if latest == nil {
		return []string{}
	}
	return slices.Clone(latest.Sectors)
}

// statedAt is a party's stated level for a sector at now (nil: none),
// from its assessments in channelThreat's order, and the level in force
// at each of times (ascending; Level 0 before the first).
func statedAt(pts []LevelPoint, now time.Time, times []time.Time) (*StatedLevel, []LevelPoint) {
	var sl *StatedLevel
	hist := make([]LevelPoint, 0, len(times))
	var cur LevelPoint
	next := 0 // the next sample time
	for _, p := range pts {
		if p.At.After(now) {
			break
		}
		for next < len(times) && times[next].Before(p.At) {
			hist = append(hist, cur)
			next++
		}
		l := &StatedLevel{ID: p.ID, Level: p.Level, Rationale: p.Rationale, ValidFrom: p.At, ChangedAt: p.At}
		if sl != nil {
			if sl.Level == l.Level {
				l.Previous, l.ChangedAt = sl.Previous, sl.ChangedAt
			} else {
				l.Previous = sl.Level
			}
		}
		sl, cur = l, p
	}
	for next < len(times) {
		hist = append(hist, cur)
		next++
	}
	return sl, hist
}

// visibleIncidents is threatIncidents, all of them and those of the
// reports u may see.
func (s *Service) visibleIncidents(ctx context.Context, u *dialogue.User, ch *dialogue.Channel) (all, visible []threatIncident, err error) {
	return s.visibleIncidentsIn(ctx, s.TLPView(ch.ID, u), ch)
}

// visibleIncidentsIn is threatIncidents, all of them and those of the
// reports view lets its viewer see.
func (s *Service) visibleIncidentsIn(ctx context.Context, view *dialogue.TLPView, ch *dialogue.Channel) (all, visible []threatIncident, err error) {
	other, err := s.otherParty(ctx, ch)
	if err != nil {
		return nil, nil, err
	}
	v, err := s.cachedFold(ctx, "threat-incidents", ch, other, []string{"report"}, func() (any, error) { return s.threatIncidents(ctx, ch) })
	if err != nil {
		return nil, nil, err
	}
	all = v.([]threatIncident) // shared: read only
	visibleIDs := map[string]bool{}
	f := dialogue.ObjectFilter{Types: []string{"report"}}
	for {
		page, err := s.Store.FindObjects(ctx, ch.ID, f)
		if err != nil {
			return nil, nil, err
		}
		for _, o := range page.Objects {
			ok, err := view.Visible(ctx, o)
			if err != nil {
				return nil, nil, err
			}
			visibleIDs[o.ID] = ok
		}
		if !page.More {
			break
		}
		f.After = page.Next
	}
	for _, in := range all {
		if visibleIDs[in.id] {
			visible = append(visible, in)
		}
	}
	return all, visible, nil
}

// assessmentsByKey is a channel's assessments per (party name, sector),
// each level stated, in channelThreat's order (valid_from, then id);
// kept in the read cache while the store's stamp of the assessments is
// unchanged. The map is shared: read it, never change it.
func (s *Service) assessmentsByKey(ctx context.Context, ch *dialogue.Channel, other dialogue.Party) (map[[2]string][]LevelPoint, error) {
	v, err := s.cachedFold(ctx, "assessments", ch, other, []string{stix.TypeAssessment}, func() (any, error) {
		return s.foldAssessments(ctx, ch, other)
	})
	if err != nil {
		return nil, err
	}
	return v.(map[[2]string][]LevelPoint), nil
}

// foldAssessments reads a channel's assessments for assessmentsByKey.
func (s *Service) foldAssessments(ctx context.Context, ch *dialogue.Channel, other dialogue.Party) (map[[2]string][]LevelPoint, error) {
	items, err := s.Items(ctx, ch, other, stix.TypeAssessment)
	if err != nil {
		return nil, err
	}
	out := map[[2]string][]LevelPoint{}
	for _, it := range items {
		vf, err := stix.ParseTime(it.Str("valid_from"))
		if err != nil {
			continue
		}
		lv, _ := it.Props["level"].(float64)
		k := [2]string{it.From.Name, it.Str("sector")}
		out[k] = append(out[k], LevelPoint{At: vf, Level: dialogue.Level(lv), ID: it.Object.ID, Rationale: it.Str("rationale")})
	}
	for _, pts := range out {
		sort.SliceStable(pts, func(i, j int) bool {
			if !pts[i].At.Equal(pts[j].At) {
				return pts[i].At.Before(pts[j].At)
			}
			return pts[i].ID < pts[j].ID
		})
	}
	return out, nil
}
