package workflow

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/stix"
)

// Meetings (docs/design/workflow.md, parley-meeting): an expert round
// with its date, participants, agenda items linking reports and requests,
// minutes (a statement of kind minutes both parties sign) and action
// items. The convening party writes the meeting and its updates, each a
// new version of the same object; the other party agrees by signing the
// minutes. A version of a meeting written by another party than the one
// who convened it is ignored.

// The statuses of an action item.
const (
	ActionOpen    = "open"
	ActionDone    = "done"
	ActionDropped = "dropped"
)

// Participant is a person at a meeting, for one party. Party is the
// party's name or identity id when given; shown as the name.
type Participant struct {
	Party string `json:"party"`
	Name  string `json:"name"`
	Role  string `json:"role,omitempty"`
}

// AgendaItem is one item of a meeting's agenda: a title and the reports
// and requests it is about.
type AgendaItem struct {
	Title      string   `json:"title"`
	ObjectRefs []string `json:"object_refs,omitempty"`
}

// ActionItem is a task a meeting gave to a party. Owner is the party's
// name or identity id when given; shown as the name.
type ActionItem struct {
	Index       int       `json:"index"`
	Description string    `json:"description"`
	Owner       string    `json:"owner"`
	Due         time.Time `json:"due"`
	Status      string    `json:"status"`
	// Overdue is computed: open after its due time.
	Overdue bool `json:"overdue"`
}

// MeetingInput is what CreateMeeting needs.
type MeetingInput struct {
	Name         string        `json:"name"`
	Start        time.Time     `json:"start"`
	Participants []Participant `json:"participants,omitempty"`
	Agenda       []AgendaItem  `json:"agenda,omitempty"`
}

// Meeting is a meeting as it stands: its latest version by the convening
// party, with its minutes' state.
type Meeting struct {
	ID           string        `json:"id"`
	Channel      string        `json:"channel"`
	Name         string        `json:"name"`
	Start        time.Time     `json:"start"`
	ConvenedBy   string        `json:"convened_by"`
	Participants []Participant `json:"participants"`
	Agenda       []AgendaItem  `json:"agenda"`
	MinutesRef   string        `json:"minutes_ref,omitempty"`
	Minutes      *Statement    `json:"minutes,omitempty"`
	ActionItems  []ActionItem  `json:"action_items"`
	Modified     time.Time     `json:"modified"`
	Versions     int           `json:"versions"`

	convener dialogue.Party
	props    map[string]any
}

// CreateMeeting files a new meeting on a channel (id or title), convened
// by this party, and returns its id.
func (s *Service) CreateMeeting(ctx context.Context, channel string, in MeetingInput) (string, error) {
	const op = "workflow.CreateMeeting"
	ch, other, err := s.Channel(ctx, channel)
	if err != nil {
		return "", err
	}
	if strings.TrimSpace(in.Name) == "" {
		return "", dialogue.Errorf(op, dialogue.KindInvalid, "name: a meeting needs a name")
	}
	if in.Start.IsZero() {
		return "", dialogue.Errorf(op, dialogue.KindInvalid, "start: a meeting needs its date and time")
	}
	props := map[string]any{"name": in.Name, "start": stix.FormatTime(in.Start.UTC())}
	if len(in.Participants) > 0 {
		ps, err := s.meetingParticipants(other, in.Participants)
		if err != nil {
			return "", dialogue.E(op, dialogue.KindInvalid, err)
		}
		props["participants"] = ps
	}
	if len(in.Agenda) > 0 {
		items, err := s.meetingAgenda(ctx, ch, nil, in.Agenda)
		if err != nil {
			return "", dialogue.E(op, dialogue.KindOf(err), err)
		}
		props["agenda"] = items
	}
	raw, err := s.NewObject(stix.TypeMeeting, props)
	if err != nil {
		return "", dialogue.E(op, dialogue.KindInvalid, err)
	}
	ids, err := s.File(ctx, ch, raw)
	if err != nil {
		return "", err
	}
	return ids[0], nil
}

// AddAgenda adds items to a meeting's agenda (a new version of the
// meeting). Only the convening party updates a meeting.
func (s *Service) AddAgenda(ctx context.Context, id string, items ...AgendaItem) error {
	const op = "workflow.AddAgenda"
	if len(items) == 0 {
		return dialogue.Errorf(op, dialogue.KindInvalid, "agenda: give at least one item")
	}
	return s.updateMeeting(ctx, op, id, func(ch *dialogue.Channel, m *Meeting) error {
		agenda, _ := m.props["agenda"].([]any)
		add, err := s.meetingAgenda(ctx, ch, agenda, items)
		if err != nil {
			return err
		}
		m.props["agenda"] = add
		return nil
	})
}

// MeetingMinutes proposes the minutes of a meeting (a statement of kind
// minutes linked to it, texts per language) and records them in a new
// version of the meeting. It returns the statement's id, which both
// parties sign. Minutes already agreed are not replaced.
func (s *Service) MeetingMinutes(ctx context.Context, id string, texts map[string]string) (string, error) {
	const op = "workflow.MeetingMinutes"
	m, err := s.MeetingByID(ctx, id)
	if err != nil {
		return "", err
	}
	if err := s.mayUpdateMeeting(op, m); err != nil {
		return "", err
	}
	if m.Minutes != nil && m.Minutes.State == StatementAgreed {
		return "", dialogue.Errorf(op, dialogue.KindConflict, "meeting %s has agreed minutes already (%s): they are not replaced", id, m.MinutesRef)
	}
	// The statement and the meeting's version naming it are filed
	// together: both, or neither.
	var st json.RawMessage
	ch, mv, err := s.meetingVersion(ctx, op, id, func(ch *dialogue.Channel, m *Meeting) error {
		_, other, err := s.Channel(ctx, ch.ID)
		if err != nil {
			return err
		}
		if st, err = s.statementObject(ctx, ch, other, StatementProposal{Kind: StatementMinutes, Texts: texts, MeetingRef: id}); err != nil {
			return err
		}
		m.props["minutes_ref"] = objectID(st)
		return nil
	})
	if err != nil {
		return "", err
	}
	ids, err := s.File(ctx, ch, st, mv)
	if err != nil {
		return "", err
	}
	return ids[0], nil
}

// objectID reads the id of an object built here.
func objectID(raw json.RawMessage) string {
	var v struct {
		ID string `json:"id"`
	}
	json.Unmarshal(raw, &v)
	return v.ID
}

// SignMinutes signs a meeting's minutes as this party: textSHA256 is the
// hash of the minutes read (SignStatement).
func (s *Service) SignMinutes(ctx context.Context, id, textSHA256, signedBy string) (string, error) {
	const op = "workflow.SignMinutes"
	m, err := s.MeetingByID(ctx, id)
	if err != nil {
		return "", err
	}
	if m.MinutesRef == "" {
		return "", dialogue.Errorf(op, dialogue.KindConflict, "meeting %s has no minutes yet: the convening party (%s) writes them", id, m.ConvenedBy)
	}
	return s.SignStatement(ctx, m.MinutesRef, textSHA256, signedBy)
}

// AddActionItem gives a party (name or identity id) a task due at due,
// status open, in a new version of the meeting. It returns its index.
func (s *Service) AddActionItem(ctx context.Context, id, description, owner string, due time.Time) (int, error) {
	const op = "workflow.AddActionItem"
	index := -1
	err := s.updateMeeting(ctx, op, id, func(ch *dialogue.Channel, m *Meeting) error {
		if strings.TrimSpace(description) == "" {
			return dialogue.Errorf(op, dialogue.KindInvalid, "description: an action item needs one")
		}
		if due.IsZero() {
			return dialogue.Errorf(op, dialogue.KindInvalid, "due: an action item needs its deadline")
		}
		other, err := s.otherParty(ctx, ch)
		if err != nil {
			return err
		}
		p, err := s.meetingParty(other, owner)
		if err != nil {
			return dialogue.E(op, dialogue.KindInvalid, fmt.Errorf("owner: %w", err))
		}
		items, _ := m.props["action_items"].([]any)
		index = len(items)
		m.props["action_items"] = append(items, map[string]any{
			"description": description, "owner_ref": p.IdentityID, "due": stix.FormatTime(due.UTC()), "status": ActionOpen,
		})
		return nil
	})
	return index, err
}

// SetActionStatus sets the status (open, done, dropped) of a meeting's
// action item by index, in a new version of the meeting.
func (s *Service) SetActionStatus(ctx context.Context, id string, index int, status string) error {
	const op = "workflow.SetActionStatus"
	if status != ActionOpen && status != ActionDone && status != ActionDropped {
		return dialogue.Errorf(op, dialogue.KindInvalid, "status %q: want open, done or dropped", status)
	}
	return s.updateMeeting(ctx, op, id, func(ch *dialogue.Channel, m *Meeting) error {
		items, _ := m.props["action_items"].([]any)
		if index < 0 || index >= len(items) {
			return dialogue.Errorf(op, dialogue.KindNotFound, "action item %d: meeting %s has %d (0 to %d)", index, id, len(items), len(items)-1)
		}
		item, _ := items[index].(map[string]any)
		if item == nil {
			return dialogue.Errorf(op, dialogue.KindInvalid, "action item %d is not an object", index)
		}
		if item["status"] == status {
			return dialogue.Errorf(op, dialogue.KindConflict, "action item %d is %s already", index, status)
		}
		item["status"] = status
		return nil
	})
}

// MeetingByID returns a meeting (on any channel) as it stands.
func (s *Service) MeetingByID(ctx context.Context, id string) (*Meeting, error) {
	if !strings.HasPrefix(id, stix.TypeMeeting+"--") {
		return nil, dialogue.Errorf("workflow.Meeting", dialogue.KindInvalid, "id %q: want a %s-- id", id, stix.TypeMeeting)
	}
	ch, other, err := s.statementChannel(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.meeting(ctx, ch, other, id)
}

// meeting reads the versions of a meeting and folds them (foldMeeting),
// with its minutes.
func (s *Service) meeting(ctx context.Context, ch *dialogue.Channel, other dialogue.Party, id string) (*Meeting, error) {
	const op = "workflow.Meeting"
	if !strings.HasPrefix(id, stix.TypeMeeting+"--") {
		return nil, dialogue.Errorf(op, dialogue.KindInvalid, "id %q: want a %s-- id", id, stix.TypeMeeting)
	}
	var versions []*dialogue.Object
	f := dialogue.ObjectFilter{IDs: []string{id}, Versions: dialogue.VersionMatch{All: true}}
	for {
		page, err := s.Store.FindObjects(ctx, ch.ID, f)
		if err != nil {
			return nil, err
		}
		versions = append(versions, page.Objects...)
		if !page.More {
			break
		}
		f.After = page.Next
	}
	if len(versions) == 0 {
		return nil, dialogue.Errorf(op, dialogue.KindNotFound, "no meeting %s on channel %s", id, ch.ID)
	}
	m, err := s.foldMeeting(ch, other, id, versions)
	if err != nil {
		return nil, err
	}
	if m.MinutesRef != "" {
		st, err := s.statement(ctx, ch, other, m.MinutesRef)
		if err == nil && st.Kind == StatementMinutes && st.MeetingRef == id {
			m.Minutes = st
		}
	}
	return m, nil
}

// foldMeeting folds the versions of a meeting (at least one): the latest
// written by the party that wrote the first. The minutes are not read.
func (s *Service) foldMeeting(ch *dialogue.Channel, other dialogue.Party, id string, versions []*dialogue.Object) (*Meeting, error) {
	const op = "workflow.Meeting"
	sort.SliceStable(versions, func(i, j int) bool { return versions[i].Modified.Before(versions[j].Modified) })
	m := &Meeting{ID: id, Channel: ch.ID}
	var creator string
	for _, v := range versions {
		var props map[string]any
		if json.Unmarshal(v.Raw, &props) != nil {
			continue
		}
		by, _ := props["created_by_ref"].(string)
		if creator == "" {
			creator = by
		}
		if by != creator {
			continue
		}
		m.props, m.Modified = props, v.Modified
		m.Versions++
	}
	convener := s.partyOf(other, creator)
	if convener == nil {
		return nil, dialogue.Errorf(op, dialogue.KindNotFound, "meeting %s was not written by either party of channel %s", id, ch.ID)
	}
	m.convener = *convener
	m.ConvenedBy = m.convener.Name
	name := func(ref string) string {
		if p := s.partyOf(other, ref); p != nil {
			return p.Name
		}
		return ref
	}
	var body struct {
		Name         string `json:"name"`
		Start        string `json:"start"`
		MinutesRef   string `json:"minutes_ref"`
		Participants []struct {
			PartyRef string `json:"party_ref"`
			Name     string `json:"name"`
			Role     string `json:"role"`
		} `json:"participants"`
		Agenda      []AgendaItem `json:"agenda"`
		ActionItems []struct {
			Description string `json:"description"`
			OwnerRef    string `json:"owner_ref"`
			Due         string `json:"due"`
			Status      string `json:"status"`
		} `json:"action_items"`
	}
	raw, _ := json.Marshal(m.props)
	if err := json.Unmarshal(raw, &body); err != nil {
		return nil, dialogue.Errorf(op, dialogue.KindInvalid, "meeting %s: %v", id, err)
	}
	m.Name, m.MinutesRef = body.Name, body.MinutesRef
	m.Start, _ = stix.ParseTime(body.Start)
	m.Participants, m.Agenda, m.ActionItems = []Participant{}, []AgendaItem{}, []ActionItem{}
	for _, p := range body.Participants {
		m.Participants = append(m.Participants, Participant{Party: name(p.PartyRef), Name: p.Name, Role: p.Role})
	}
	m.Agenda = append(m.Agenda, body.Agenda...)
	now := s.Now()
	for i, a := range body.ActionItems {
		due, _ := stix.ParseTime(a.Due)
		m.ActionItems = append(m.ActionItems, ActionItem{Index: i, Description: a.Description, Owner: name(a.OwnerRef), Due: due, Status: a.Status,
			Overdue: a.Status == ActionOpen && now.After(due)})
	}
	return m, nil
}

func (s *Service) mayUpdateMeeting(op string, m *Meeting) error {
	if m.convener.IdentityID != s.Self.IdentityID {
		return dialogue.Errorf(op, dialogue.KindForbidden, "only the convening party (%s) updates meeting %s; the other party agrees by signing its minutes", m.ConvenedBy, m.ID)
	}
	return nil
}

// updateMeeting writes a new version of a meeting: the latest version's
// properties changed by change, modified now (later than the latest).
func (s *Service) updateMeeting(ctx context.Context, op, id string, change func(*dialogue.Channel, *Meeting) error) error {
	ch, raw, err := s.meetingVersion(ctx, op, id, change)
	if err != nil {
		return err
	}
	_, err = s.File(ctx, ch, raw)
	return err
}

// meetingVersion builds updateMeeting's new version, not filed yet, and
// returns it with the meeting's channel.
func (s *Service) meetingVersion(ctx context.Context, op, id string, change func(*dialogue.Channel, *Meeting) error) (*dialogue.Channel, json.RawMessage, error) {
	ch, other, err := s.statementChannel(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	m, err := s.meeting(ctx, ch, other, id)
	if err != nil {
		return nil, nil, err
	}
	if err := s.mayUpdateMeeting(op, m); err != nil {
		return nil, nil, err
	}
	if err := change(ch, m); err != nil {
		return nil, nil, err
	}
	mod := s.Now().UTC().Truncate(time.Millisecond)
	if !mod.After(m.Modified) {
		mod = m.Modified.Add(time.Millisecond)
	}
	m.props["modified"] = stix.FormatTime(mod)
	raw, err := json.Marshal(m.props)
	if err != nil {
		return nil, nil, dialogue.E(op, dialogue.KindOther, err)
	}
	if _, _, err := stix.Parse(raw); err != nil {
		return nil, nil, dialogue.E(op, dialogue.KindInvalid, err)
	}
	return ch, raw, nil
}

// meetingParty resolves a party by name or identity id ("" is this one).
func (s *Service) meetingParty(other dialogue.Party, p string) (dialogue.Party, error) {
	switch p {
	case "", s.Self.Name, s.Self.IdentityID:
		return s.Self, nil
	case other.Name, other.IdentityID:
		return other, nil
	}
	return dialogue.Party{}, fmt.Errorf("party %q: want %s or %s", p, s.Self.Name, other.Name)
}

func (s *Service) meetingParticipants(other dialogue.Party, in []Participant) ([]any, error) {
	var out []any
	for i, p := range in {
		party, err := s.meetingParty(other, p.Party)
		if err != nil {
			return nil, fmt.Errorf("participants[%d]: %w", i, err)
		}
		if strings.TrimSpace(p.Name) == "" {
			return nil, fmt.Errorf("participants[%d]: name: empty", i)
		}
		o := map[string]any{"party_ref": party.IdentityID, "name": p.Name}
		if p.Role != "" {
			o["role"] = p.Role
		}
		out = append(out, o)
	}
	return out, nil
}

// meetingAgenda checks agenda items and appends them to have: each needs
// a title, and its references must be reports or requests on the channel.
func (s *Service) meetingAgenda(ctx context.Context, ch *dialogue.Channel, have []any, items []AgendaItem) ([]any, error) {
	const op = "workflow.Agenda"
	for i, it := range items {
		if strings.TrimSpace(it.Title) == "" {
			return nil, dialogue.Errorf(op, dialogue.KindInvalid, "agenda[%d]: title: empty", i)
		}
		o := map[string]any{"title": it.Title}
		var refs []string
		for _, ref := range it.ObjectRefs {
			typ, _, _ := strings.Cut(ref, "--")
			if typ != "report" && typ != stix.TypeRequest {
				return nil, dialogue.Errorf(op, dialogue.KindInvalid, "agenda[%d]: object_refs: %q: an agenda item links reports and requests (report--…, %s--…)", i, ref, stix.TypeRequest)
			}
			page, err := s.Store.FindObjects(ctx, ch.ID, dialogue.ObjectFilter{IDs: []string{ref}, Limit: 1, MetaOnly: true})
			if err != nil {
				return nil, err
			}
			if len(page.Objects) == 0 {
				return nil, dialogue.Errorf(op, dialogue.KindNotFound, "agenda[%d]: object_refs: no %s on channel %s", i, ref, ch.ID)
			}
			if !slices.Contains(refs, ref) {
				refs = append(refs, ref)
			}
		}
		if len(refs) > 0 {
			o["object_refs"] = refs
		}
		have = append(have, o)
	}
	return have, nil
}
