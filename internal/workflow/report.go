package workflow

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/ingest"
	"github.com/parleyhq/parley/internal/pattern"
	"github.com/parleyhq/parley/internal/stix"
)

// Incident reports: a party files a STIX bundle (the
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
// amber+strict, red; "TLP:" and case are ignored). The refusal is a
// *dialogue.FieldError of the field "tlp".
func ParseTLP(level string) (*stix.TLPMarking, error) {
	m, fe := parseTLP(level)
	if fe != nil {
		return nil, dialogue.InvalidFields("workflow.ParseTLP", fe)
	}
	return m, nil
}

func parseTLP(level string) (*stix.TLPMarking, *dialogue.FieldError) {
	l := strings.ToLower(strings.TrimSpace(level))
	l = strings.TrimPrefix(l, "tlp:")
	if l == "" {
		return nil, &dialogue.FieldError{Field: "tlp", Reason: "required; pick the report's TLP 2.0 marking."}
	}
	for _, m := range stix.TLP2Markings {
		if m.Level == l {
			return m, nil
		}
	}
	return nil, &dialogue.FieldError{Field: "tlp", Reason: "%q is not a TLP 2.0 level (clear, green, amber, amber+strict, red).", Args: []any{level}}
}

// ParseSectors checks sector codes and returns them in the order given,
// without duplicates. The refusal is a *dialogue.FieldError of field.
func ParseSectors(field string, codes []string) ([]string, error) {
	out, fe := parseSectors(field, codes)
	if fe != nil {
		return nil, dialogue.InvalidFields("workflow.ParseSectors", fe)
	}
	return out, nil
}

func parseSectors(field string, codes []string) ([]string, *dialogue.FieldError) {
	var out []string
	for _, c := range codes {
		s, err := dialogue.ParseSector(c)
		if err != nil {
			return nil, &dialogue.FieldError{Field: field, Reason: "%q is not a sector code.", Args: []any{c}}
		}
		if !slices.Contains(out, s.Code) {
			out = append(out, s.Code)
		}
	}
	return out, nil
}

// ParseSeverity reads a severity typed as text (a form's field): a
// number from 1 to 5. The refusal is the one CheckReport gives of a
// number out of range.
func ParseSeverity(s string) (int, *dialogue.FieldError) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < SeverityLow || n > SeverityCritical {
		return 0, severityError(s)
	}
	return n, nil
}

func severityError(typed string) *dialogue.FieldError {
	return &dialogue.FieldError{Field: "severity", Reason: "%q; want a number from 1 (low) to 5 (critical).", Args: []any{typed}}
}

// Limits of a filing's incident.
const (
	MaxTitle       = 300   // characters
	MaxDescription = 20000 // characters
)

// ReportFiling is an incident report to file, as the CLI, the JSON API and
// the web UI's form give it. The objects filed are the bundle's, an
// incident when Title is given, and an indicator per indicator line.
type ReportFiling struct {
	// Channel is the channel's id or title.
	Channel string
	// Bundle is a STIX 2.1 bundle (optional when Title is given).
	Bundle []byte
	// Title and Description make the report's incident: its name and
	// description. Title is required when there is no bundle, and with a
	// description.
	Title, Description string
	// Indicators are indicator lines (ParseIndicators).
	Indicators string
	// TLP is the TLP 2.0 level (clear|green|amber|amber+strict|red).
	TLP string
	// Sectors are the codes of the sectors hit (at least one).
	Sectors []string
	// Severity is 1 low … 5 critical.
	Severity int
	// Recipients of a TLP:RED report (required for it, refused for any
	// other level): user names and role:ROLE.
	Recipients []string
	// Evidence are the report's evidence files, kept in the node's blob
	// store already: the report holds a STIX file object for each, and
	// the channel's log enters each file's hash in the transaction that
	// files the report, from which the peer learns to fetch the bytes.
	Evidence []Evidence
}

// Evidence is an evidence file of a report, as kept in the blob store.
type Evidence struct {
	// Name is the file's name (the file object's name); MediaType its
	// media type, "" when not known.
	Name, MediaType string
	// SHA256 and Size are the kept bytes' hash and length.
	SHA256 [32]byte
	Size   int64
}

// checkedReport is a filing that passed CheckReport.
type checkedReport struct {
	marking    *stix.TLPMarking
	recipients []string
	sectors    []string
	severity   int
	name       string
	objects    []json.RawMessage  // as given; the ones made of the fields marked
	blobs      []dialogue.BlobRef // the evidence files' log entries
	refs       []string
}

// fields are the fields of a filing, in the order their refusals are
// listed.
var fields = []string{"channel", "title", "description", "indicators", "tlp", "recipients", "sectors", "severity", "evidence", "bundle"}

// CheckReport checks a filing against the filing rules without the store
// (the channel is only required, not looked up): every refused field, as
// a KindInvalid error holding dialogue.FieldErrors in the order of the
// fields (channel, title, description, indicators, tlp, recipients,
// sectors, severity, evidence, bundle), one refusal per field. The rules:
//
//   - channel: required;
//   - title: required without a bundle and with a description; at most
//     MaxTitle characters; description: at most MaxDescription;
//   - indicators: the lines ParseIndicators takes;
//   - tlp: a TLP 2.0 level; recipients: user names or role:ROLE, required
//     for TLP:RED and refused for any other level;
//   - sectors: at least one, each a sector code; severity: 1 … 5;
//   - evidence: each file with a name and a size of at least 0;
//   - bundle: a STIX 2.1 bundle whose every object passes ingest.Parse
//     (an indicator's STIX pattern pattern.Check), holding, with the
//     incident and indicators of the fields above, an incident or an
//     indicator.
//
// now is the time of the objects it makes.
func CheckReport(f ReportFiling, now time.Time) error {
	_, err := checkReport(f, now, "")
	return err
}

// checkReport is CheckReport; the incident and indicators it makes of the
// fields name creator (when not empty) and carry the report's marking:
// they are this party's own. The bundle's objects are kept as given.
func checkReport(f ReportFiling, now time.Time, creator string) (*checkedReport, error) {
	var (
		errs dialogue.FieldErrors
		c    = &checkedReport{severity: f.Severity}
	)
	refuse := func(fe *dialogue.FieldError) {
		if fe != nil && errs.Field(fe.Field) == nil {
			errs = append(errs, fe)
		}
	}
	if strings.TrimSpace(f.Channel) == "" {
		refuse(&dialogue.FieldError{Field: "channel", Reason: "required; pick the channel to file the report on."})
	}
	title, desc := strings.TrimSpace(f.Title), strings.TrimSpace(f.Description)
	switch n := utf8.RuneCountInString(title); {
	case n == 0 && (len(f.Bundle) == 0 || desc != ""):
		refuse(&dialogue.FieldError{Field: "title", Reason: "required; say in a line what happened."})
	case n > MaxTitle:
		refuse(&dialogue.FieldError{Field: "title", Reason: "%d characters; at most %d.", Args: []any{n, MaxTitle}})
	}
	if n := utf8.RuneCountInString(desc); n > MaxDescription {
		refuse(&dialogue.FieldError{Field: "description", Reason: "%d characters; at most %d.", Args: []any{n, MaxDescription}})
	}
	lines, fe := ParseIndicators(f.Indicators)
	refuse(fe)
	c.marking, fe = parseTLP(f.TLP)
	refuse(fe)
	for _, r := range f.Recipients {
		p, err := dialogue.ParseRecipient(strings.TrimSpace(r))
		if err != nil {
			refuse(&dialogue.FieldError{Field: "recipients", Reason: "%q is not a user name or role:ROLE.", Args: []any{r}})
			break
		}
		if !slices.Contains(c.recipients, p) {
			c.recipients = append(c.recipients, p)
		}
	}
	if errs.Field("recipients") == nil && c.marking != nil {
		switch {
		case c.marking.Level == "red" && len(c.recipients) == 0:
			refuse(&dialogue.FieldError{Field: "recipients", Reason: "required for TLP:RED; name the users (or role:ROLE) who may read the report."})
		case c.marking.Level != "red" && len(c.recipients) > 0:
			refuse(&dialogue.FieldError{Field: "recipients", Reason: "only a TLP:RED report names recipients."})
		}
	}
	if len(f.Sectors) == 0 {
		refuse(&dialogue.FieldError{Field: "sectors", Reason: "required; name at least one sector the incident hit."})
	}
	c.sectors, fe = parseSectors("sectors", f.Sectors)
	refuse(fe)
	if f.Severity < SeverityLow || f.Severity > SeverityCritical {
		refuse(severityError(strconv.Itoa(f.Severity)))
	}

	// The objects: the bundle's, the incident, the indicators; each
	// through ingest.Parse, as a write is.
	ts := stix.FormatTime(now.UTC().Truncate(time.Millisecond))
	var raws []json.RawMessage
	if len(f.Bundle) > 0 {
		b, err := stix.ParseBundle(f.Bundle)
		if err != nil {
			refuse(&dialogue.FieldError{Field: "bundle", Reason: "not a STIX 2.1 bundle: %s", Args: []any{errText(err)}})
		} else {
			raws = b.Objects
		}
	}
	var made []map[string]any
	if title != "" {
		c.name = title
		inc := map[string]any{"type": "incident", "spec_version": "2.1", "id": stix.NewID("incident"), "created": ts, "modified": ts, "name": title}
		if desc != "" {
			inc["description"] = desc
		}
		made = append(made, inc)
	}
	for _, l := range lines {
		made = append(made, indicatorObject(l, ts))
	}
	for i, ev := range f.Evidence {
		switch {
		case strings.TrimSpace(ev.Name) == "":
			refuse(&dialogue.FieldError{Field: "evidence", Reason: "file %d has no name.", Args: []any{i + 1}})
			continue
		case ev.Size < 0:
			refuse(&dialogue.FieldError{Field: "evidence", Reason: "%q: a size of %d bytes; a file has at least 0.", Args: []any{ev.Name, ev.Size}})
			continue
		}
		o, err := fileObject(ev)
		if err != nil {
			return nil, dialogue.E("workflow.CheckReport", dialogue.KindOther, err)
		}
		made = append(made, o)
		c.blobs = append(c.blobs, dialogue.BlobRef{SHA256: ev.SHA256, Size: ev.Size})
	}
	nBundle := len(raws)
	for _, m := range made {
		if t, _ := m["type"].(string); creator != "" && !stix.IsSCO(t) {
			m["created_by_ref"] = creator // an SCO (an evidence file) names no creator
		}
		if c.marking != nil {
			m["object_marking_refs"] = []string{c.marking.ID}
		}
		raw, err := json.Marshal(m)
		if err != nil {
			return nil, dialogue.E("workflow.CheckReport", dialogue.KindOther, err)
		}
		raws = append(raws, raw)
	}
	kind := false
	for i, raw := range raws {
		where := fmt.Sprintf("/objects/%d", i)
		if i >= nBundle {
			where = "the incident and indicators made of the fields"
		}
		o, _, err := ingest.Parse(raw)
		if err != nil {
			refuse(&dialogue.FieldError{Field: "bundle", Reason: "%s: %s", Args: []any{where, errText(err)}})
			continue
		}
		if o.Type == "marking-definition" {
			if _, ok := stix.TLP(o.ID); ok {
				continue // published TLP definitions: every node knows them
			}
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			refuse(&dialogue.FieldError{Field: "bundle", Reason: "%s: %s", Args: []any{where, err.Error()}})
			continue
		}
		switch o.Type {
		case "incident", "indicator":
			kind = true
		}
		if o.Type == "incident" && c.name == "" {
			json.Unmarshal(m["name"], &c.name)
		}
		if o.Type == "indicator" {
			var pt, p string
			json.Unmarshal(m["pattern_type"], &pt)
			json.Unmarshal(m["pattern"], &p)
			if pt == "stix" {
				if err := pattern.Check(p); err != nil {
					refuse(&dialogue.FieldError{Field: "bundle", Reason: "%s/pattern (%s): %s", Args: []any{where, o.ID, dialogue.Message(err)}})
					continue
				}
			}
		}
		c.objects = append(c.objects, raw)
		c.refs = append(c.refs, o.ID)
	}
	if !kind && len(raws) > 0 && errs.Field("bundle") == nil {
		refuse(&dialogue.FieldError{Field: "bundle", Reason: "holds no incident and no indicator: a report is about an incident or gives indicators."})
	}
	if c.name == "" {
		c.name = "Incident report"
	}
	if len(errs) > 0 {
		slices.SortStableFunc(errs, func(a, b *dialogue.FieldError) int {
			return slices.Index(fields, a.Field) - slices.Index(fields, b.Field)
		})
		return nil, dialogue.InvalidFields("workflow.FileReport", errs...)
	}
	return c, nil
}

// CheckReportFiling checks a filing as FileReportFiling does, the channel
// too, without filing it: the web UI checks its form before it reads the
// evidence files.
func (s *Service) CheckReportFiling(ctx context.Context, f ReportFiling) error {
	_, _, err := s.checkFiling(ctx, f)
	return err
}

// checkFiling is CheckReport and the lookup of the channel.
func (s *Service) checkFiling(ctx context.Context, f ReportFiling) (*dialogue.Channel, *checkedReport, error) {
	const op = "workflow.FileReport"
	c, err := checkReport(f, s.Now(), s.Self.IdentityID)
	errs := dialogue.FieldErrorsOf(err)
	if err != nil && errs == nil {
		return nil, nil, err
	}
	var ch *dialogue.Channel
	if name := strings.TrimSpace(f.Channel); name != "" {
		var cerr error
		ch, _, cerr = s.Channel(ctx, name)
		switch {
		case dialogue.KindOf(cerr) == dialogue.KindNotFound:
			errs = append(dialogue.FieldErrors{{Field: "channel", Reason: "%q is not a channel of this node.", Args: []any{name}}}, errs...)
		case cerr != nil && errs == nil:
			return nil, nil, cerr
		}
	}
	if len(errs) > 0 {
		return nil, nil, dialogue.InvalidFields(op, errs...)
	}
	return ch, c, nil
}

// errText is what a parser's refusal says, without operation names.
func errText(err error) string {
	if dialogue.KindOf(err) == dialogue.KindOther {
		return err.Error() // a parser's plain error: its words are the reason
	}
	return dialogue.Message(err)
}

// FileReport files an incident report on a channel (id or title): the
// objects of the STIX bundle, as they are, and a report that references
// them all, marked with the TLP 2.0 marking tlp
// (clear|green|amber|amber+strict|red), with the
// sectors and the severity (1 low … 5 critical) in Parley's
// property-extension. It returns the report's id. It is FileReportFiling
// with the bundle alone.
func (s *Service) FileReport(ctx context.Context, chID string, bundle []byte, tlp string, sectors []string, severity int) (string, error) {
	return s.FileReportTo(ctx, chID, bundle, tlp, sectors, severity, nil)
}

// FileReportTo is FileReport naming the recipients of a TLP:RED report
// (user names and role:ROLE of the nodes; see docs/design/tlp.md).
func (s *Service) FileReportTo(ctx context.Context, chID string, bundle []byte, tlp string, sectors []string, severity int, recipients []string) (string, error) {
	return s.FileReportFiling(ctx, ReportFiling{Channel: chID, Bundle: bundle, TLP: tlp, Sectors: sectors, Severity: severity, Recipients: recipients})
}

// FileReportFiling files an incident report: the objects of the filing
// (ReportFiling) and a report that references them all, marked with the
// filing's TLP 2.0 marking, with the sectors, the severity and a RED
// report's recipients in Parley's property-extension. It returns the
// report's id.
//
// The bundle's objects are filed exactly as given: Parley adds no
// creator and no marking to them, since a change to an object needs a new
// version, which only its creator issues (STIX 2.1 §3.6). An unmarked one
// takes the report's marking by reference (the gate reads the marking of
// the incident report that first held it: docs/design/tlp.md); one with a
// TLP marking of its own keeps it. The incident and indicators made of
// the fields are this party's own: they name its identity and carry the
// report's marking.
//
// It refuses what CheckReport refuses, and a channel that is not one of
// the node's (the field "channel", "%q is not a channel of this node."),
// all in one KindInvalid error of dialogue.FieldErrors: the CLI, the JSON
// API and the web UI refuse the same things with the same words.
func (s *Service) FileReportFiling(ctx context.Context, f ReportFiling) (string, error) {
	const op = "workflow.FileReport"
	ch, c, err := s.checkFiling(ctx, f)
	if err != nil {
		return "", err
	}
	if err := s.checkFiledAt(ctx, ch, c); err != nil {
		return "", err
	}
	now := stix.FormatTime(s.Now().UTC().Truncate(time.Millisecond))
	ext := map[string]any{"extension_type": "property-extension", "sectors": c.sectors, "severity": c.severity}
	if len(c.recipients) > 0 {
		ext["recipients"] = c.recipients
	}
	report := map[string]any{
		"type": "report", "spec_version": "2.1", "id": stix.NewID("report"), "created": now, "modified": now,
		"created_by_ref": s.Self.IdentityID, "name": c.name, "report_types": []string{"threat-report"}, "published": now,
		"object_refs": c.refs, "object_marking_refs": []string{c.marking.ID},
		"extensions": map[string]any{stix.ParleyExtensionID: ext},
	}
	rb, err := json.Marshal(report)
	if err != nil {
		return "", dialogue.E(op, dialogue.KindOther, err)
	}
	// The report and its objects are filed in one transaction: when any
	// is refused (an object stored already with other content), nothing
	// is written and nothing logged. The evidence files' log entries go
	// in the same transaction: a report is never filed without them. The
	// report comes first in the log, so that a peer applying the log in
	// batches holds the report before any unmarked object whose marking
	// it gives.
	if _, err := s.file(ctx, ch, append([]json.RawMessage{rb}, c.objects...), c.blobs); err != nil {
		return "", err
	}
	return report["id"].(string), nil
}

// fileObject is the STIX file object of an evidence file: its name,
// size, media type and SHA-256 (by which the blob is fetched).
func fileObject(ev Evidence) (map[string]any, error) {
	name := strings.TrimSpace(ev.Name)
	hashes := map[string]any{"SHA-256": hex.EncodeToString(ev.SHA256[:])}
	id, err := stix.SCOID("file", map[string]any{"hashes": hashes, "name": name})
	if err != nil {
		return nil, err
	}
	o := map[string]any{"type": "file", "spec_version": "2.1", "id": id, "name": name, "size": ev.Size, "hashes": hashes}
	if ev.MediaType != "" {
		o["mime_type"] = ev.MediaType
	}
	return o, nil
}

// checkFiledAt refuses (KindConflict) a filing holding an unmarked object
// that a report of the channel holds already at another marking: an
// unmarked object keeps the marking of the first incident report that
// held it, so the new report would show it under a marking that is not
// its own (a weaker one would show its name to readers the object's
// marking keeps out).
func (s *Service) checkFiledAt(ctx context.Context, ch *dialogue.Channel, c *checkedReport) error {
	const op = "workflow.FileReport"
	level, _ := dialogue.ParseTLPLevel(c.marking.Level)
	var filed dialogue.ReportMarkings
	for i, raw := range c.objects {
		if own, _, _ := stix.ReadTLP(raw); own != "" {
			continue
		}
		if filed == nil {
			var err error
			if filed, err = s.reportMarkings(ctx, ch.ID); err != nil {
				return err
			}
		}
		m, ok := filed[c.refs[i]]
		if !ok {
			continue
		}
		same := m.Level == level
		if same && level == dialogue.TLPRed {
			same = len(m.Recipients) == len(c.recipients)
			for _, r := range c.recipients {
				same = same && slices.Contains(m.Recipients, r)
			}
		}
		if !same {
			return dialogue.Errorf(op, dialogue.KindConflict, "object %s is filed already in a report at TLP:%s and names no marking of its own: it keeps that report's marking, so it cannot be filed at TLP:%s; nothing was filed",
				c.refs[i], m.Level, c.marking.Level)
		}
	}
	return nil
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

// reportParty returns the party a report version comes from: the party
// its created_by_ref names, or, when it names none, the party whose node
// logged it (this node's, or the peer it was received from), as the write
// rules read it (dialogue.Parties); nil for neither party.
func (s *Service) reportParty(ctx context.Context, ch *dialogue.Channel, other dialogue.Party, o *dialogue.Object, createdBy string) (*dialogue.Party, error) {
	if createdBy != "" {
		return s.partyOf(other, createdBy), nil
	}
	from, err := s.Store.Origin(ctx, ch.ID, o.ID, o.Version())
	switch {
	case dialogue.KindOf(err) == dialogue.KindNotFound:
		return nil, nil
	case err != nil:
		return nil, err
	case from == "":
		return &s.Self, nil
	case from == other.Name:
		return &other, nil
	}
	return nil, nil
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
		var from []string
		for _, o := range order.Reports() {
			b := memo.get(func() any { return parseReport(ch, o) }, o.Raw).(*reportBase)
			f.markings.Add(nil, b.read)
			if b.rep == nil {
				continue
			}
			p, err := s.reportParty(ctx, ch, other, o, b.createdBy)
			if err != nil {
				return nil, err
			}
			if p != nil {
				bases = append(bases, b)
				from = append(from, p.Name)
			}
		}
		memo.keep()
		f.list = make([]*Report, 0, len(bases))
		f.marks = make([]dialogue.Marking, 0, len(bases))
		for i, b := range bases {
			r := new(Report)
			*r = *b.rep
			r.From = from[i]
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
			if b.rep == nil {
				continue
			}
			p, err := s.reportParty(ctx, ch, other, o, b.createdBy)
			if err != nil {
				return nil, err
			}
			if p != nil {
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
