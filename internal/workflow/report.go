package workflow

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/ingest"
	"github.com/parleyhq/parley/internal/pattern"
	"github.com/parleyhq/parley/internal/stix"
)

// Incident reports (issue 5, item 1): a party files a STIX bundle (the
// incident, indicators with STIX patterns, observed data, infrastructure,
// attack patterns, malware, evidence artifacts) on a channel; Parley adds
// a standard report referencing every object, with exactly one TLP 2.0
// marking and, in Parley's property-extension, the sectors hit and the
// severity (docs/design/workflow.md).

// The severity scale of an incident report.
const (
	SeverityLow         = 1
	SeverityModerate    = 2
	SeveritySignificant = 3
	SeverityHigh        = 4
	SeverityCritical    = 5
)

// SeverityScale says the severity scale in words, for help texts and
// errors.
const SeverityScale = "1 low, 2 moderate, 3 significant, 4 high, 5 critical"

// TLPLevels are the TLP 2.0 levels a report may be marked with.
const TLPLevels = "clear, green, amber, amber+strict or red"

// ParseTLP returns the TLP 2.0 marking of a level (clear, green, amber,
// amber+strict, red; "TLP:" and case are ignored).
func ParseTLP(level string) (*stix.TLPMarking, error) {
	l := strings.ToLower(strings.TrimSpace(level))
	l = strings.TrimPrefix(l, "tlp:")
	if l == "" {
		return nil, dialogue.Errorf("workflow.ParseTLP", dialogue.KindInvalid, "tlp: required: a report needs its TLP 2.0 marking, one of %s", TLPLevels)
	}
	for _, m := range stix.TLP2Markings {
		if m.Level == l {
			return m, nil
		}
	}
	return nil, dialogue.Errorf("workflow.ParseTLP", dialogue.KindInvalid, "tlp %q: want %s", level, TLPLevels)
}

// ParseSectors checks sector codes (at least one) and returns them in the
// order given, without duplicates.
func ParseSectors(field string, codes []string) ([]string, error) {
	var out []string
	for _, c := range codes {
		s, err := dialogue.ParseSector(c)
		if err != nil {
			return nil, dialogue.Errorf("workflow.ParseSectors", dialogue.KindInvalid, "%s: %s", field, dialogue.Message(err))
		}
		if !slices.Contains(out, s.Code) {
			out = append(out, s.Code)
		}
	}
	return out, nil
}

// reportKinds are the types a report's bundle must hold one of.
var reportKinds = []string{"incident", "indicator"}

// FileReport files an incident report on a channel (id or title): the
// objects of the STIX bundle, each marked with the TLP 2.0 marking tlp
// (clear|green|amber|amber+strict|red) unless it carries a TLP marking
// already, and a report that references them all, marked tlp, with the
// sectors and the severity (1 low … 5 critical) in Parley's
// property-extension. It returns the report's id.
//
// It refuses (KindInvalid, naming the field) a missing or unknown TLP, no
// or an unknown sector, a severity out of range, a bundle without an
// incident or an indicator, an indicator whose STIX pattern does not pass
// pattern.Check, and any object that is not valid STIX.
func (s *Service) FileReport(ctx context.Context, chID string, bundle []byte, tlp string, sectors []string, severity int) (string, error) {
	return s.FileReportTo(ctx, chID, bundle, tlp, sectors, severity, nil)
}

// FileReportTo is FileReport naming the recipients of a TLP:RED report
// (user names and role:ROLE of the nodes; see docs/design/tlp.md): a RED
// report needs at least one, and only a RED report takes them.
func (s *Service) FileReportTo(ctx context.Context, chID string, bundle []byte, tlp string, sectors []string, severity int, recipients []string) (string, error) {
	const op = "workflow.FileReport"
	marking, err := ParseTLP(tlp)
	if err != nil {
		return "", err
	}
	recipients, err = reportRecipients(marking, recipients)
	if err != nil {
		return "", err
	}
	if len(sectors) == 0 {
		return "", dialogue.Errorf(op, dialogue.KindInvalid, "sector: required: name at least one sector the incident hit (codes: %s)", strings.Join(dialogue.SectorCodes(), ", "))
	}
	codes, err := ParseSectors("sector", sectors)
	if err != nil {
		return "", err
	}
	if severity < SeverityLow || severity > SeverityCritical {
		return "", dialogue.Errorf(op, dialogue.KindInvalid, "severity %d: want %s", severity, SeverityScale)
	}
	ch, _, err := s.Channel(ctx, chID)
	if err != nil {
		return "", err
	}
	b, err := stix.ParseBundle(bundle)
	if err != nil {
		return "", dialogue.E(op, dialogue.KindInvalid, fmt.Errorf("bundle: %w", err))
	}
	var (
		raws []json.RawMessage
		refs []string
		name string
		kind bool
	)
	for i, raw := range b.Objects {
		o, _, err := ingest.Parse(raw)
		if err != nil {
			return "", dialogue.E(op, dialogue.KindInvalid, fmt.Errorf("bundle /objects/%d: %w", i, err))
		}
		if o.Type == "marking-definition" {
			if _, ok := stix.TLP(o.ID); ok {
				continue // published TLP definitions: every node knows them
			}
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			return "", dialogue.Errorf(op, dialogue.KindInvalid, "bundle /objects/%d: %v", i, err)
		}
		switch o.Type {
		case "incident", "indicator":
			kind = true
		}
		if o.Type == "incident" && name == "" {
			json.Unmarshal(m["name"], &name)
		}
		if o.Type == "indicator" {
			var pt, p string
			json.Unmarshal(m["pattern_type"], &pt)
			json.Unmarshal(m["pattern"], &p)
			if pt == "stix" {
				if err := pattern.Check(p); err != nil {
					return "", dialogue.Errorf(op, dialogue.KindInvalid, "bundle /objects/%d/pattern (%s): %s", i, o.ID, dialogue.Message(err))
				}
			}
		}
		if o.Type != "marking-definition" && !hasTLP(m) {
			var mrefs []string
			json.Unmarshal(m["object_marking_refs"], &mrefs)
			mrefs = append(mrefs, marking.ID)
			m["object_marking_refs"], _ = json.Marshal(mrefs)
			raw, _ = json.Marshal(m)
		}
		raws = append(raws, raw)
		refs = append(refs, o.ID)
	}
	if !kind {
		return "", dialogue.Errorf(op, dialogue.KindInvalid, "bundle: holds no %s: a report is about an incident or gives indicators", strings.Join(reportKinds, " and no "))
	}
	if name == "" {
		name = "Incident report"
	}
	now := stix.FormatTime(s.Now().UTC().Truncate(time.Millisecond))
	ext := map[string]any{"extension_type": "property-extension", "sectors": codes, "severity": severity}
	if len(recipients) > 0 {
		ext["recipients"] = recipients
	}
	report := map[string]any{
		"type": "report", "spec_version": "2.1", "id": stix.NewID("report"), "created": now, "modified": now,
		"created_by_ref": s.Self.IdentityID, "name": name, "report_types": []string{"threat-report"}, "published": now,
		"object_refs": refs, "object_marking_refs": []string{marking.ID},
		"extensions": map[string]any{stix.ParleyExtensionID: ext},
	}
	rb, err := json.Marshal(report)
	if err != nil {
		return "", dialogue.E(op, dialogue.KindOther, err)
	}
	// The report and its objects are filed in one transaction: when any
	// is refused (an object stored already with other content, say
	// another marking), nothing is written and nothing logged.
	if _, err := s.File(ctx, ch, append(raws, rb)...); err != nil {
		return "", err
	}
	return report["id"].(string), nil
}

// hasTLP reports whether an object's object_marking_refs holds a TLP
// marking (1.0 or 2.0).
func hasTLP(m map[string]json.RawMessage) bool {
	var refs []string
	json.Unmarshal(m["object_marking_refs"], &refs)
	for _, r := range refs {
		if _, ok := stix.TLP(r); ok {
			return true
		}
	}
	return false
}

// Report is an incident report as the CLI and the API show it.
type Report struct {
	ID      string    `json:"id"`
	Channel string    `json:"channel"`
	From    string    `json:"from"` // the reporting party's name
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
	// TLP is the report's TLP 2.0 level (clear … red).
	TLP      string   `json:"tlp"`
	Sectors  []string `json:"sectors"`
	Severity int      `json:"severity"`
	// ObjectRefs are the ids of the objects the report holds.
	ObjectRefs []string `json:"object_refs"`
	// Objects are the objects themselves (Report only, not Reports).
	Objects []json.RawMessage `json:"objects,omitempty"`
	// Raw is the report object.
	Raw json.RawMessage `json:"report"`
}

// Reports lists the incident reports (reports carrying Parley's
// property-extension) of a channel, or of every channel when chID is "",
// oldest first: those the service's viewer may see (As; every one for
// the operator).
func (s *Service) Reports(ctx context.Context, chID string) ([]*Report, error) {
	chs, err := s.channelsOrOne(ctx, chID)
	if err != nil {
		return nil, err
	}
	var out []*Report
	for _, ch := range chs {
		f, err := s.reportFold(ctx, ch)
		if err != nil {
			return nil, err
		}
		view := s.view(ch.ID)
		for i, r := range f.list {
			if ok, err := view.Allows(ctx, f.marks[i]); err != nil {
				return nil, err
			} else if !ok {
				continue
			}
			c := *r
			out = append(out, &c)
		}
	}
	return out, nil
}

// reportFold is a channel's incident reports as read from their objects,
// shared by the readers of the fold cache: each takes copies.
type reportFold struct {
	list []*Report // oldest first
	// marks are the TLP markings of list's reports, as a TLPView of the
	// channel gives them (ReportsFor).
	marks []dialogue.Marking
	byID  map[string]*Report
	// markings are what every report of the channel (an incident report
	// or not, of either party or neither) says of the objects it holds:
	// the TLP views of the channel read them from here (TLPView).
	markings dialogue.ReportMarkings
}

// reportBase is what one stored report version says: its TLP marking and
// references as stix.ReadTLP reads them, and the incident report it is
// (nil when it is not one, or not a JSON object), without its party.
type reportBase struct {
	createdBy  string
	level      string
	recipients []string
	refs       []string
	rep        *Report
}

// parseReport reads a stored report version of channel ch.
func parseReport(ch *dialogue.Channel, o *dialogue.Object) *reportBase {
	b := &reportBase{}
	b.level, b.recipients, b.refs = stix.ReadTLP(o.Raw)
	it := &Item{Object: o}
	if json.Unmarshal(o.Raw, &it.Props) != nil {
		return b
	}
	b.createdBy = it.Str("created_by_ref")
	if r := reportOf(ch, it); r != nil {
		r.Sectors, r.ObjectRefs = slices.Clip(r.Sectors), slices.Clip(r.ObjectRefs)
		b.rep = r
	}
	return b
}

// read is the reportBase as a dialogue.TLPReader's answer.
func (b *reportBase) read([]byte) (string, []string, []string) { return b.level, b.recipients, b.refs }

// reportFold returns the incident reports of a channel, from the fold
// cache while the store's stamp of its reports is unchanged.
func (s *Service) reportFold(ctx context.Context, ch *dialogue.Channel) (*reportFold, error) {
	ch, other, err := s.Channel(ctx, ch.ID)
	if err != nil {
		return nil, err
	}
	return s.reportFoldOf(ctx, ch, other)
}

// reportFoldOf is reportFold with the channel's other party. Computed
// again, it parses only the report versions it did not see last time
// (versionMemo).
func (s *Service) reportFoldOf(ctx context.Context, ch *dialogue.Channel, other dialogue.Party) (*reportFold, error) {
	v, err := s.cachedFold(ctx, "reports", ch, other, []string{"report"}, func() (any, error) {
		memo := s.memo("reports", ch, other)
		f := &reportFold{byID: map[string]*Report{}, markings: dialogue.ReportMarkings{}}
		var bases []*reportBase
		// Every version, to know where each report first arrived: an
		// object takes the marking of the first report that held it
		// (dialogue.ReportMarkings).
		var order dialogue.ReportOrder
		lf := dialogue.ObjectFilter{Types: []string{"report"}, Versions: dialogue.VersionMatch{All: true}}
		for {
			page, err := s.Store.FindObjects(ctx, ch.ID, lf)
			if err != nil {
				return nil, err
			}
			for _, o := range page.Objects {
				b := memo.get(func() any { return parseReport(ch, o) }, o.Raw).(*reportBase)
				order.Put(o, b.rep != nil)
			}
			if !page.More {
				break
			}
			lf.After = page.Next
		}
		for _, o := range order.Reports() {
			b := memo.get(func() any { return parseReport(ch, o) }, o.Raw).(*reportBase)
			f.markings.Add(nil, b.read)
			if b.rep != nil && s.partyOf(other, b.createdBy) != nil {
				bases = append(bases, b)
			}
		}
		memo.keep()
		f.list = make([]*Report, 0, len(bases))
		f.marks = make([]dialogue.Marking, 0, len(bases))
		for _, b := range bases {
			r := new(Report)
			*r = *b.rep
			r.From = s.partyOf(other, b.createdBy).Name
			f.list = append(f.list, r)
			f.marks = append(f.marks, dialogue.MarkingIn(r.ID, b.level, b.recipients, f.markings))
			f.byID[r.ID] = r
		}
		return f, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*reportFold), nil
}

// Report returns one incident report with its objects, as the service's
// viewer may see it (As): KindNotFound, as for an unknown id, when it may
// not; without the objects it may not see. The report is looked up by id
// on each channel the viewer may read (the latest version of it), not
// among all reports.
func (s *Service) Report(ctx context.Context, id string) (*Report, error) {
	const op = "workflow.Report"
	if stix.IDType(id) != "report" {
		return nil, dialogue.Errorf(op, dialogue.KindInvalid, "report id %q: want report--UUID", id)
	}
	chs, err := s.channelsOrOne(ctx, "")
	if err != nil {
		return nil, err
	}
	var found *Report
	for _, c := range chs {
		ch, other, err := s.Channel(ctx, c.ID)
		if err != nil {
			return nil, err
		}
		page, err := s.Store.FindObjects(ctx, ch.ID, dialogue.ObjectFilter{IDs: []string{id}, Types: []string{"report"}})
		if err != nil {
			return nil, err
		}
		if found != nil {
			continue
		}
		memo := s.memo("reports", ch, other)
		for _, o := range page.Objects {
			if o.ID != id || o.Type != "report" {
				continue
			}
			b := memo.peek(func() any { return parseReport(ch, o) }, o.Raw).(*reportBase)
			if p := s.partyOf(other, b.createdBy); b.rep != nil && p != nil {
				r := *b.rep
				r.From = p.Name
				found = &r
			}
		}
	}
	if found == nil {
		return nil, dialogue.Errorf(op, dialogue.KindNotFound, "no incident report %s: list them with 'parley report list'", id)
	}
	r := found
	f := dialogue.ObjectFilter{IDs: r.ObjectRefs}
	for {
		page, err := s.Store.FindObjects(ctx, r.Channel, f)
		if err != nil {
			return nil, err
		}
		for _, o := range page.Objects {
			r.Objects = append(r.Objects, o.Raw)
		}
		if !page.More {
			return s.visibleReport(ctx, r)
		}
		f.After = page.Next
	}
}

func (s *Service) channelsOrOne(ctx context.Context, chID string) ([]*dialogue.Channel, error) {
	if chID != "" {
		ch, _, err := s.Channel(ctx, chID)
		if err != nil {
			return nil, err
		}
		return []*dialogue.Channel{ch}, nil
	}
	return s.channels(ctx)
}

// reportOf reads an incident report from a stored report; nil when it
// has no Parley extension.
func reportOf(ch *dialogue.Channel, it *Item) *Report {
	var p struct {
		Name       string   `json:"name"`
		ObjectRefs []string `json:"object_refs"`
		Markings   []string `json:"object_marking_refs"`
		Extensions map[string]struct {
			Sectors  []string `json:"sectors"`
			Severity int      `json:"severity"`
		} `json:"extensions"`
	}
	if json.Unmarshal(it.Object.Raw, &p) != nil {
		return nil
	}
	ext, ok := p.Extensions[stix.ParleyExtensionID]
	if !ok {
		return nil
	}
	r := &Report{ID: it.Object.ID, Channel: ch.ID, From: it.From.Name, Name: p.Name, Created: it.Object.Created,
		Sectors: ext.Sectors, Severity: ext.Severity, ObjectRefs: p.ObjectRefs, Raw: it.Object.Raw}
	for _, m := range p.Markings {
		if t, ok := stix.TLP(m); ok && t.Version == 2 {
			r.TLP = t.Level
		}
	}
	return r
}
