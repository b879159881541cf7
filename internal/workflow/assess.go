package workflow

import (
	"context"
	"encoding/json"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/stix"
)

// Threat assessments (docs/design/workflow.md, parley-assessment, and
// "The computed threat level"): each party states a level per sector with
// a rationale; Parley computes its own level per sector from the shared
// record with ThreatFormula, the same on both nodes, and shows both side
// by side with the trend.

// The computed threat level's constants (ThreatFormula).
const (
	// ThreatHalfLife is how fast an incident's weight decays with its age.
	ThreatHalfLife = 30 * 24 * time.Hour
	// ThreatOffLimitsFactor multiplies the weight of an incident in a
	// sector agreed off-limits (as agreed at the time computed for).
	ThreatOffLimitsFactor = 2.0
)

// ThreatThresholds are the scores at which the computed level steps up:
// a score below 1 is level 1, below 3 level 2, below 6 level 3, below 10
// level 4, from 10 level 5.
var ThreatThresholds = [4]float64{1, 3, 6, 10}

// ThreatFormula describes the computed level, for help texts and the JSON.
const ThreatFormula = `score(sector, t) = sum over the incident reports of the channel (reports carrying Parley's property-extension) that name the sector and were published at or before t of
  severity (1..5) x 2^(-age/30 days) x (2 if the sector is agreed off-limits at t, else 1),
where age = t - published; level = 1 if score < 1, 2 if < 3, 3 if < 6, 4 if < 10, else 5.
The trend compares the level now with the levels 7 and 30 days ago.`

// ThreatLevel maps a score to a level by ThreatThresholds.
func ThreatLevel(score float64) dialogue.Level {
	for i, t := range ThreatThresholds {
		if score < t {
			return dialogue.Level(i + 1)
		}
	}
	return dialogue.LevelSevere
}

// Assess files this party's threat level for a sector on a channel (id or
// title), valid from now, and returns the assessment's id.
func (s *Service) Assess(ctx context.Context, channel, sector string, level int, rationale string) (string, error) {
	const op = "workflow.Assess"
	ch, _, err := s.Channel(ctx, channel)
	if err != nil {
		return "", err
	}
	code, err := checkSector(sector)
	if err != nil {
		return "", dialogue.E(op, dialogue.KindInvalid, err)
	}
	l, err := dialogue.ParseLevel(level)
	if err != nil {
		return "", dialogue.E(op, dialogue.KindInvalid, err)
	}
	if strings.TrimSpace(rationale) == "" {
		return "", dialogue.Errorf(op, dialogue.KindInvalid, "rationale: a stated level needs its reasons")
	}
	raw, err := s.NewObject(stix.TypeAssessment, map[string]any{
		"sector": code, "level": int(l), "rationale": rationale,
		"valid_from": stix.FormatTime(s.Now().UTC().Truncate(time.Millisecond)),
	})
	if err != nil {
		return "", dialogue.E(op, dialogue.KindInvalid, err)
	}
	ids, err := s.File(ctx, ch, raw)
	if err != nil {
		return "", err
	}
	return ids[0], nil
}

// StatedLevel is a party's latest stated level for a sector.
type StatedLevel struct {
	ID        string         `json:"id"`
	Level     dialogue.Level `json:"level"`
	Rationale string         `json:"rationale"`
	ValidFrom time.Time      `json:"valid_from"`
	// Previous is the level stated before the last change (0: none);
	// ChangedAt is when the party last changed its level.
	Previous  dialogue.Level `json:"previous,omitempty"`
	ChangedAt time.Time      `json:"changed_at"`
}

// ComputedLevel is Parley's level for a sector at one time.
type ComputedLevel struct {
	Level dialogue.Level `json:"level"`
	// Score is rounded to 3 decimals.
	Score float64 `json:"score"`
	// Incidents counts the reports that weigh in.
	Incidents int `json:"incidents"`
}

// SectorThreat is one sector's levels on a channel.
type SectorThreat struct {
	Sector    string `json:"sector"`
	OffLimits bool   `json:"off_limits"`
	// Stated holds each party's latest stated level, by party name (null
	// when the party stated none).
	Stated   map[string]*StatedLevel `json:"stated"`
	Computed ComputedLevel           `json:"computed"`
	// Computed7d and Computed30d are the computed levels 7 and 30 days
	// before AsOf; Trend says rising, falling or steady against the
	// 7-day level.
	Computed7d  ComputedLevel `json:"computed_7d_ago"`
	Computed30d ComputedLevel `json:"computed_30d_ago"`
	Trend       string        `json:"trend"`
}

// ChannelThreat is the threat picture of one channel.
type ChannelThreat struct {
	Channel   string         `json:"channel"`
	Title     string         `json:"title"`
	Parties   []string       `json:"parties"`
	OffLimits []string       `json:"off_limits"`
	Sectors   []SectorThreat `json:"sectors"`
}

// Threat is the threat picture at AsOf.
type Threat struct {
	AsOf     time.Time       `json:"as_of"`
	Formula  string          `json:"formula"`
	Channels []ChannelThreat `json:"channels"`
}

// Threat computes the threat picture of a channel (id or title; every
// active channel when empty) at the service's clock.
func (s *Service) Threat(ctx context.Context, channel string) (*Threat, error) {
	chans, err := s.statementChannels(ctx, channel)
	if err != nil {
		return nil, err
	}
	now := s.Now().UTC().Truncate(time.Millisecond)
	out := &Threat{AsOf: now, Formula: ThreatFormula, Channels: []ChannelThreat{}}
	for _, ch := range chans {
		ct, err := s.channelThreat(ctx, ch, now)
		if err != nil {
			return nil, err
		}
		out.Channels = append(out.Channels, *ct)
	}
	return out, nil
}

// threatIncident is a report as the formula sees it.
type threatIncident struct {
	id        string
	published time.Time
	severity  int
	sectors   []string
}

func (s *Service) channelThreat(ctx context.Context, ch *dialogue.Channel, now time.Time) (*ChannelThreat, error) {
	other, err := s.otherParty(ctx, ch)
	if err != nil {
		return nil, err
	}
	incidents, err := s.threatIncidents(ctx, ch)
	if err != nil {
		return nil, err
	}
	if s.viewer != nil {
		// Only the reports the viewer may see weigh: a figure never
		// reveals what its reader may not open.
		if _, incidents, err = s.visibleIncidentsIn(ctx, s.view(ch.ID), ch); err != nil {
			return nil, err
		}
	}
	offNow, err := s.offLimitsAt(ctx, ch, now)
	if err != nil {
		return nil, err
	}
	off7, err := s.offLimitsAt(ctx, ch, now.Add(-7*24*time.Hour))
	if err != nil {
		return nil, err
	}
	off30, err := s.offLimitsAt(ctx, ch, now.Add(-30*24*time.Hour))
	if err != nil {
		return nil, err
	}
	items, err := s.Items(ctx, ch, other, stix.TypeAssessment)
	if err != nil {
		return nil, err
	}
	type key struct{ party, sector string }
	var assessments []*Item
	for _, it := range items {
		vf, err := stix.ParseTime(it.Str("valid_from"))
		if err != nil || vf.After(now) {
			continue
		}
		assessments = append(assessments, it)
	}
	// The same order on both nodes: valid_from, then id.
	sort.SliceStable(assessments, func(i, j int) bool {
		a, _ := stix.ParseTime(assessments[i].Str("valid_from"))
		b, _ := stix.ParseTime(assessments[j].Str("valid_from"))
		if !a.Equal(b) {
			return a.Before(b)
		}
		return assessments[i].Object.ID < assessments[j].Object.ID
	})
	stated := map[key]*StatedLevel{}
	sectors := map[string]bool{}
	for _, it := range assessments {
		sector := it.Str("sector")
		lv, _ := it.Props["level"].(float64)
		vf, _ := stix.ParseTime(it.Str("valid_from"))
		k := key{it.From.Name, sector}
		prev := stated[k]
		sl := &StatedLevel{ID: it.Object.ID, Level: dialogue.Level(lv), Rationale: it.Str("rationale"), ValidFrom: vf, ChangedAt: vf}
		if prev != nil {
			if prev.Level == sl.Level {
				sl.Previous, sl.ChangedAt = prev.Previous, prev.ChangedAt
			} else {
				sl.Previous = prev.Level
			}
		}
		stated[k] = sl
		sectors[sector] = true
	}
	for _, in := range incidents {
		for _, sec := range in.sectors {
			sectors[sec] = true
		}
	}
	for _, sec := range offNow {
		sectors[sec] = true
	}
	ct := &ChannelThreat{Channel: ch.ID, Title: ch.Title, Parties: []string{s.Self.Name, other.Name}, OffLimits: offNow, Sectors: []SectorThreat{}}
	var names []string
	for sec := range sectors {
		names = append(names, sec)
	}
	sort.Strings(names)
	for _, sec := range names {
		st := SectorThreat{Sector: sec, OffLimits: slices.Contains(offNow, sec), Stated: map[string]*StatedLevel{}}
		for _, p := range ct.Parties {
			st.Stated[p] = stated[key{p, sec}]
		}
		st.Computed = computeThreat(incidents, sec, now, slices.Contains(offNow, sec))
		st.Computed7d = computeThreat(incidents, sec, now.Add(-7*24*time.Hour), slices.Contains(off7, sec))
		st.Computed30d = computeThreat(incidents, sec, now.Add(-30*24*time.Hour), slices.Contains(off30, sec))
		switch {
		case st.Computed.Level > st.Computed7d.Level:
			st.Trend = "rising"
		case st.Computed.Level < st.Computed7d.Level:
			st.Trend = "falling"
		default:
			st.Trend = "steady"
		}
		ct.Sectors = append(ct.Sectors, st)
	}
	return ct, nil
}

// computeThreat applies ThreatFormula to one sector at t.
func computeThreat(incidents []threatIncident, sector string, t time.Time, offLimits bool) ComputedLevel {
	var c ComputedLevel
	var score float64
	for _, in := range incidents {
		if in.published.After(t) || !slices.Contains(in.sectors, sector) {
			continue
		}
		age := t.Sub(in.published)
		w := float64(in.severity) * math.Exp2(-float64(age)/float64(ThreatHalfLife))
		if offLimits {
			w *= ThreatOffLimitsFactor
		}
		score += w
		c.Incidents++
	}
	c.Score = math.Round(score*1000) / 1000
	c.Level = ThreatLevel(score)
	return c
}

// threatIncidents reads the reports of a channel that carry Parley's
// property-extension, whoever wrote them, ordered by id (so that sums run
// in the same order on both nodes).
func (s *Service) threatIncidents(ctx context.Context, ch *dialogue.Channel) ([]threatIncident, error) {
	var out []threatIncident
	f := dialogue.ObjectFilter{Types: []string{"report"}}
	for {
		page, err := s.Store.FindObjects(ctx, ch.ID, f)
		if err != nil {
			return nil, err
		}
		for _, o := range page.Objects {
			var r struct {
				Published  string                     `json:"published"`
				Revoked    bool                       `json:"revoked"`
				Extensions map[string]json.RawMessage `json:"extensions"`
			}
			if json.Unmarshal(o.Raw, &r) != nil || r.Revoked {
				continue
			}
			var ext struct {
				Sectors  []string `json:"sectors"`
				Severity int      `json:"severity"`
			}
			if json.Unmarshal(r.Extensions[stix.ParleyExtensionID], &ext) != nil || len(ext.Sectors) == 0 || ext.Severity < 1 || ext.Severity > 5 {
				continue
			}
			pub, err := stix.ParseTime(r.Published)
			if err != nil {
				pub = o.Created
			}
			out = append(out, threatIncident{id: o.ID, published: pub, severity: ext.Severity, sectors: ext.Sectors})
		}
		if !page.More {
			break
		}
		f.After = page.Next
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out, nil
}
