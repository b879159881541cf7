package workflow

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/stix"
)

// The hotline (issue 5, item 3): a message a party sends on a channel that
// a person on the other side must acknowledge within a time the sender
// states. The receiving node writes a delivery receipt by itself as soon
// as it has the message (Receipts, run by the scheduler); a person there
// acknowledges it (AckHotline); the sending node escalates a message that
// nobody acknowledged in time (EscalateHotline). Every step is an object
// of the record: parley-hotline, parley-receipt, parley-event
// (docs/design/workflow.md).

// Priority is how urgent a hotline message is.
type Priority string

// The priorities of a hotline message.
const (
	PriorityNormal Priority = "normal"
	PriorityUrgent Priority = "urgent"
)

// ParsePriority checks a priority; "" is normal.
func ParsePriority(s string) (Priority, error) {
	switch Priority(s) {
	case "", PriorityNormal:
		return PriorityNormal, nil
	case PriorityUrgent:
		return PriorityUrgent, nil
	}
	return "", dialogue.Errorf("workflow.ParsePriority", dialogue.KindInvalid, "priority %q: want normal or urgent", s)
}

// The kinds of receipt (parley-receipt's receipt_kind).
const (
	// ReceiptDelivered is written by the receiving node itself once it has
	// the message.
	ReceiptDelivered = "delivered"
	// ReceiptAcknowledged is written for a person of the receiving party
	// who read the message.
	ReceiptAcknowledged = "acknowledged"
)

// The kinds and reasons of parley-event this file writes.
const (
	EventEscalation = "escalation"
	// ReasonHotlineUnacknowledged: no person of the receiving party
	// acknowledged a hotline message within its ack_within.
	ReasonHotlineUnacknowledged = "hotline-unacknowledged"
)

// CommsConfig sets the hotline's and the communication checks' times on a
// node.
type CommsConfig struct {
	// AckWithinNormal and AckWithinUrgent are the default ack_within of a
	// hotline message by priority: the time the sender expects a person's
	// acknowledgement within. DefaultComms: 1 hour and 15 minutes.
	AckWithinNormal, AckWithinUrgent time.Duration
	// CheckInterval is how often the scheduler pings the peer on each
	// active channel. DefaultComms: every 6 hours.
	CheckInterval time.Duration
	// ChannelCheckInterval overrides CheckInterval per channel id.
	ChannelCheckInterval map[string]time.Duration
}

// DefaultComms are the hotline's and the checks' times unless a node sets
// others (Service.SetComms).
var DefaultComms = CommsConfig{AckWithinNormal: time.Hour, AckWithinUrgent: 15 * time.Minute, CheckInterval: 6 * time.Hour}

// The bounds of ack_within and of a check interval.
const (
	MinAckWithin     = time.Minute
	MaxAckWithin     = 7 * 24 * time.Hour
	MinCheckInterval = time.Minute
)

// Validate checks the times: each ack_within between MinAckWithin and
// MaxAckWithin, each check interval at least MinCheckInterval.
func (c CommsConfig) Validate() error {
	const op = "workflow.CommsConfig"
	for _, f := range []struct {
		name string
		d    time.Duration
	}{{"ack_within_normal", c.AckWithinNormal}, {"ack_within_urgent", c.AckWithinUrgent}} {
		if f.d < MinAckWithin || f.d > MaxAckWithin {
			return dialogue.Errorf(op, dialogue.KindInvalid, "%s %s: want between %s and %s", f.name, f.d, MinAckWithin, MaxAckWithin)
		}
	}
	if c.CheckInterval < MinCheckInterval {
		return dialogue.Errorf(op, dialogue.KindInvalid, "check_interval %s: want at least %s", c.CheckInterval, MinCheckInterval)
	}
	for id, d := range c.ChannelCheckInterval {
		if d < MinCheckInterval {
			return dialogue.Errorf(op, dialogue.KindInvalid, "check_interval of channel %s: %s: want at least %s", id, d, MinCheckInterval)
		}
	}
	return nil
}

// AckWithin returns the default ack_within for a priority.
func (c CommsConfig) AckWithin(p Priority) time.Duration {
	if p == PriorityUrgent {
		return c.AckWithinUrgent
	}
	return c.AckWithinNormal
}

// CheckEvery returns the check interval of a channel.
func (c CommsConfig) CheckEvery(channelID string) time.Duration {
	if d, ok := c.ChannelCheckInterval[channelID]; ok {
		return d
	}
	return c.CheckInterval
}

// commsConfigs holds each service's CommsConfig (Service has no field for
// it); a service without one uses DefaultComms.
var commsConfigs sync.Map // *Service → CommsConfig

// SetComms sets the service's hotline and check times after checking them.
func (s *Service) SetComms(c CommsConfig) error {
	if err := c.Validate(); err != nil {
		return err
	}
	c.ChannelCheckInterval = maps(c.ChannelCheckInterval)
	commsConfigs.Store(s, c)
	return nil
}

// Comms returns the service's hotline and check times.
func (s *Service) Comms() CommsConfig {
	if c, ok := commsConfigs.Load(s); ok {
		return c.(CommsConfig)
	}
	return DefaultComms
}

func maps(m map[string]time.Duration) map[string]time.Duration {
	if m == nil {
		return nil
	}
	out := make(map[string]time.Duration, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// commsMu serialises the hotline's and the checks' check-then-write steps
// in a process, so that one receipt, acknowledgement, answer or
// escalation is written for each. (Two processes writing at the same
// instant could still both write; the fold then counts the first.)
var commsMu sync.Mutex

// HotlineInput is a hotline message to send.
type HotlineInput struct {
	// Channel is the channel's id or title.
	Channel string
	// Text is the message (at most MaxHotlineText characters).
	Text string
	// Priority is normal ("" too) or urgent.
	Priority Priority
	// AckWithin is the time a person of the other party has to
	// acknowledge; zero takes the node's default for the priority
	// (CommsConfig). Whole seconds.
	AckWithin time.Duration
	// About are STIX ids the message is about (optional).
	About []string
}

// MaxHotlineText caps a hotline message's text, in characters.
const MaxHotlineText = 10000

// HotlineState is where a hotline message stands.
type HotlineState string

// The states of a hotline message.
const (
	HotlineSent         HotlineState = "sent"         // no receipt from the other node yet
	HotlineDelivered    HotlineState = "delivered"    // the other node has it
	HotlineAcknowledged HotlineState = "acknowledged" // a person of the other party acknowledged it
)

// Hotline is a hotline message with where it stands, computed from the
// record and the clock.
type Hotline struct {
	ID      string `json:"id"`
	Channel string `json:"channel"`
	// From and To are the parties' names; Outgoing is true when this
	// node's party sent it.
	From     string   `json:"from"`
	To       string   `json:"to"`
	Outgoing bool     `json:"outgoing"`
	Text     string   `json:"text"`
	Priority Priority `json:"priority"`
	// AckWithin is in seconds.
	AckWithin int64     `json:"ack_within"`
	About     []string  `json:"about_refs,omitempty"`
	Sent      time.Time `json:"sent"`
	// AckDue is Sent + AckWithin.
	AckDue time.Time    `json:"ack_due"`
	State  HotlineState `json:"state"`
	// Delivered is when the receiving node had it (its receipt's time).
	Delivered  *time.Time `json:"delivered"`
	DeliveryID string     `json:"delivery_ref,omitempty"`
	// Acknowledged is when a person acknowledged it, AcknowledgedBy who
	// (name and role).
	Acknowledged   *time.Time `json:"acknowledged"`
	AcknowledgedBy string     `json:"acknowledged_by,omitempty"`
	AckID          string     `json:"acknowledgement_ref,omitempty"`
	// Overdue: not acknowledged, and the clock is past AckDue.
	Overdue bool `json:"overdue"`
	// AckLate: acknowledged after AckDue.
	AckLate bool `json:"ack_late"`
	// Escalation is the escalation event's id, once written.
	Escalation string `json:"escalation_ref,omitempty"`
}

var stixIDRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// checkID checks that id is a STIX id, naming the field.
func checkID(op, field, id string) error {
	if !stixIDRE.MatchString(id) {
		return dialogue.Errorf(op, dialogue.KindInvalid, "%s %q: not a STIX id (type--UUID)", field, id)
	}
	return nil
}

// SendHotline sends a hotline message on a channel.
func (s *Service) SendHotline(ctx context.Context, in HotlineInput) (*Hotline, error) {
	const op = "workflow.SendHotline"
	text := strings.TrimSpace(in.Text)
	if text == "" {
		return nil, dialogue.Errorf(op, dialogue.KindInvalid, "text: the message is empty")
	}
	if n := len([]rune(text)); n > MaxHotlineText {
		return nil, dialogue.Errorf(op, dialogue.KindInvalid, "text: %d characters, at most %d", n, MaxHotlineText)
	}
	prio, err := ParsePriority(string(in.Priority))
	if err != nil {
		return nil, dialogue.E(op, dialogue.KindInvalid, err)
	}
	within := in.AckWithin
	if within == 0 {
		within = s.Comms().AckWithin(prio)
	}
	if within < MinAckWithin || within > MaxAckWithin {
		return nil, dialogue.Errorf(op, dialogue.KindInvalid, "ack_within %s: want between %s and %s", within, MinAckWithin, MaxAckWithin)
	}
	within = within.Truncate(time.Second)
	for i, id := range in.About {
		if err := checkID(op, fmt.Sprintf("about_refs item %d", i+1), id); err != nil {
			return nil, err
		}
	}
	ch, other, err := s.Channel(ctx, in.Channel)
	if err != nil {
		return nil, err
	}
	props := map[string]any{"description": text, "priority": string(prio), "ack_within": int64(within / time.Second)}
	if len(in.About) > 0 {
		props["about_refs"] = in.About
	}
	raw, err := s.NewObject(stix.TypeHotline, props)
	if err != nil {
		return nil, dialogue.E(op, dialogue.KindOther, err)
	}
	ids, err := s.File(ctx, ch, raw)
	if err != nil {
		return nil, err
	}
	return s.hotlineByID(ctx, ch, other, ids[0])
}

func (s *Service) hotlineByID(ctx context.Context, ch *dialogue.Channel, other dialogue.Party, id string) (*Hotline, error) {
	c, err := s.loadComms(ctx, ch, other)
	if err != nil {
		return nil, err
	}
	m := c.byID[id]
	if m == nil || m.Object.Type != stix.TypeHotline {
		return nil, dialogue.Errorf("workflow.Hotline", dialogue.KindNotFound, "no hotline message %s on channel %s", id, ch.ID)
	}
	return c.hotline(m, s.Now()), nil
}

// AckHotline records that by, a person of this node's party, acknowledged
// the other party's hotline message id (with the delivery receipt too if
// the node has not written it yet). Only the receiving party acknowledges,
// and only once: acknowledging one's own message is KindForbidden, a
// second acknowledgement KindConflict, an unknown id KindNotFound.
func (s *Service) AckHotline(ctx context.Context, id string, by *dialogue.User) (*Hotline, error) {
	const op = "workflow.AckHotline"
	if err := checkPerson(op, "acknowledging a hotline message", by); err != nil {
		return nil, err
	}
	if err := checkID(op, "id", id); err != nil {
		return nil, err
	}
	commsMu.Lock()
	defer commsMu.Unlock()
	ch, other, err := s.commsFind(ctx, op, id, stix.TypeHotline, "hotline message", "parley hotline list")
	if err != nil {
		return nil, err
	}
	c, err := s.loadComms(ctx, ch, other)
	if err != nil {
		return nil, err
	}
	m := c.byID[id]
	if m == nil {
		return nil, dialogue.Errorf(op, dialogue.KindNotFound, "no hotline message %s: list them with 'parley hotline list'", id)
	}
	if m.From.Local {
		return nil, dialogue.Errorf(op, dialogue.KindForbidden, "only the receiving party acknowledges a hotline message: %s sent %s, so %s acknowledges it on its node", s.Self.Name, id, other.Name)
	}
	if a := c.acked[id]; a != nil {
		return nil, dialogue.Errorf(op, dialogue.KindConflict, "hotline message %s was acknowledged already, by %s at %s", id, a.Str("acknowledged_by"), a.Str("received"))
	}
	now := s.Now()
	var raws []json.RawMessage
	if c.delivered[id] == nil {
		raw, err := s.receipt(id, ReceiptDelivered, now, "")
		if err != nil {
			return nil, dialogue.E(op, dialogue.KindOther, err)
		}
		raws = append(raws, raw)
	}
	raw, err := s.receipt(id, ReceiptAcknowledged, now, by.String())
	if err != nil {
		return nil, dialogue.E(op, dialogue.KindOther, err)
	}
	if _, err := s.File(ctx, ch, append(raws, raw)...); err != nil {
		return nil, err
	}
	return s.hotlineByID(ctx, ch, other, id)
}

// checkPerson checks that a move is made by a person who may write.
func checkPerson(op, what string, by *dialogue.User) error {
	if by == nil || by.Name == "" {
		return dialogue.Errorf(op, dialogue.KindInvalid, "%s needs the person: a user of this node (name and role)", what)
	}
	if !by.Role.CanWrite() {
		return dialogue.Errorf(op, dialogue.KindForbidden, "%s needs the role duty, expert or admin; user %s is %s", what, by.Name, by.Role)
	}
	return nil
}

// receipt builds a parley-receipt of this node's party.
func (s *Service) receipt(messageID, kind string, at time.Time, by string) (json.RawMessage, error) {
	props := map[string]any{"message_ref": messageID, "receipt_kind": kind, "received": stamp(at)}
	if by != "" {
		props["acknowledged_by"] = by
	}
	return s.NewObject(stix.TypeReceipt, props)
}

// stamp formats a time as the timestamps of Parley's objects: UTC,
// milliseconds.
func stamp(t time.Time) string { return stix.FormatTime(t.UTC().Truncate(time.Millisecond)) }

// ListHotline lists the hotline messages of a channel (id or title), or
// of every channel when channel is "", both directions, oldest first.
func (s *Service) ListHotline(ctx context.Context, channel string) ([]*Hotline, error) {
	out := []*Hotline{}
	now := s.Now()
	err := s.eachComms(ctx, channel, false, func(c *comms) error {
		for _, m := range c.messages {
			out = append(out, c.hotline(m, now))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(out, func(a, b *Hotline) int {
		return cmp.Or(a.Sent.Compare(b.Sent), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// Receipts writes this node's delivery receipt for each hotline message
// and check ping the peer sent on an active channel that has none yet.
// The scheduler runs it every tick, so a message is receipted within a
// tick of being applied.
func (s *Service) Receipts(ctx context.Context) error {
	commsMu.Lock()
	defer commsMu.Unlock()
	return s.eachComms(ctx, "", true, func(c *comms) error {
		now := s.Now()
		var raws []json.RawMessage
		for _, m := range append(slices.Clip(c.messages), c.pings...) {
			if m.From.Local || c.delivered[m.Object.ID] != nil {
				continue
			}
			raw, err := s.receipt(m.Object.ID, ReceiptDelivered, now, "")
			if err != nil {
				return err
			}
			raws = append(raws, raw)
		}
		if len(raws) == 0 {
			return nil
		}
		_, err := s.File(ctx, c.ch, raws...)
		return err
	})
}

// EscalateHotline writes an escalation event (reason
// hotline-unacknowledged, due the message's ack deadline) for each of
// this node's hotline messages on an active channel that no person of the
// other party acknowledged by its deadline, once per message.
func (s *Service) EscalateHotline(ctx context.Context) error {
	commsMu.Lock()
	defer commsMu.Unlock()
	return s.eachComms(ctx, "", true, func(c *comms) error {
		now := s.Now()
		var raws []json.RawMessage
		for _, m := range c.messages {
			h := c.hotline(m, now)
			if !h.Outgoing || !h.Overdue || h.Escalation != "" {
				continue
			}
			raw, err := s.NewObject(stix.TypeEvent, map[string]any{
				"event_kind": EventEscalation, "subject_ref": h.ID,
				"reason": ReasonHotlineUnacknowledged, "due": stamp(h.AckDue),
			})
			if err != nil {
				return err
			}
			raws = append(raws, raw)
		}
		if len(raws) == 0 {
			return nil
		}
		_, err := s.File(ctx, c.ch, raws...)
		return err
	})
}

func init() {
	RegisterPeriodic("hotline and check receipts", (*Service).Receipts)
	RegisterPeriodic("hotline escalations", (*Service).EscalateHotline)
	RegisterPeriodic("scheduled communication checks", (*Service).ScheduledChecks)
}

// comms is the hotline and the checks of one channel, folded from the
// objects of both parties.
type comms struct {
	ch          *dialogue.Channel
	self, other dialogue.Party
	messages    []*Item          // hotline messages, oldest first
	pings       []*Item          // check pings, oldest first
	byID        map[string]*Item // messages and pings
	// The first valid receipt, acknowledgement and answer of each message
	// or ping: written by the party that did not send it.
	delivered, acked, answers map[string]*Item
	// escalations holds the first hotline-unacknowledged event per message.
	escalations map[string]*Item
}

// commsTypes are the types a channel's hotline and checks are folded
// from.
var commsTypes = []string{stix.TypeHotline, stix.TypeCheck, stix.TypeReceipt, stix.TypeEvent}

// loadComms folds a channel's hotline messages, checks, receipts and
// events; from the fold cache while the store's stamp of those types is
// unchanged (readcache.go). The fold is shared: its readers only read it
// (hotline computes each message's view at a time), and each gets its own
// copy of the struct with ch, the channel as the caller read it.
func (s *Service) loadComms(ctx context.Context, ch *dialogue.Channel, other dialogue.Party) (*comms, error) {
	v, err := s.cachedFold(ctx, "comms", ch, other, commsTypes, func() (any, error) {
		items, err := s.Items(ctx, ch, other, commsTypes...)
		if err != nil {
			return nil, err
		}
		c := foldComms(ch, s.Self, other, items)
		c.messages, c.pings = slices.Clip(c.messages), slices.Clip(c.pings)
		return c, nil
	})
	if err != nil {
		return nil, err
	}
	c := *v.(*comms)
	c.ch = ch
	return &c, nil
}

// foldComms folds the items of a channel (of both parties, oldest first):
// a receipt, acknowledgement or answer counts only when the party that
// did not send the message wrote it, the first by its own timestamp.
func foldComms(ch *dialogue.Channel, self, other dialogue.Party, items []*Item) *comms {
	c := &comms{ch: ch, self: self, other: other, byID: map[string]*Item{},
		delivered: map[string]*Item{}, acked: map[string]*Item{}, answers: map[string]*Item{}, escalations: map[string]*Item{}}
	for _, it := range items {
		switch {
		case it.Object.Type == stix.TypeHotline:
			c.messages = append(c.messages, it)
			c.byID[it.Object.ID] = it
		case it.Object.Type == stix.TypeCheck && it.Str("check_kind") == CheckPing:
			c.pings = append(c.pings, it)
			c.byID[it.Object.ID] = it
		}
	}
	for _, it := range items {
		switch it.Object.Type {
		case stix.TypeReceipt:
			m := c.byID[it.Str("message_ref")]
			if m == nil || m.From.IdentityID == it.From.IdentityID || !validTime(it, "received") {
				continue
			}
			switch it.Str("receipt_kind") {
			case ReceiptDelivered:
				keepFirst(c.delivered, m.Object.ID, it, "received")
			case ReceiptAcknowledged:
				if m.Object.Type == stix.TypeHotline {
					keepFirst(c.acked, m.Object.ID, it, "received")
				}
			}
		case stix.TypeCheck:
			if it.Str("check_kind") != CheckAnswer {
				continue
			}
			p := c.byID[it.Str("check_ref")]
			if p == nil || p.Object.Type != stix.TypeCheck || p.From.IdentityID == it.From.IdentityID || !validTime(it, "answered") {
				continue
			}
			keepFirst(c.answers, p.Object.ID, it, "answered")
		case stix.TypeEvent:
			m := c.byID[it.Str("subject_ref")]
			if m == nil || m.Object.Type != stix.TypeHotline || it.Str("reason") != ReasonHotlineUnacknowledged || it.Str("event_kind") != EventEscalation {
				continue
			}
			if e := c.escalations[m.Object.ID]; e == nil || it.Object.Created.Before(e.Object.Created) ||
				it.Object.Created.Equal(e.Object.Created) && it.Object.ID < e.Object.ID {
				c.escalations[m.Object.ID] = it
			}
		}
	}
	return c
}

func validTime(it *Item, prop string) bool {
	_, err := stix.ParseTime(it.Str(prop))
	return err == nil
}

func itemTime(it *Item, prop string) time.Time {
	t, _ := stix.ParseTime(it.Str(prop))
	return t
}

// keepFirst keeps in m[key] the earliest item by the timestamp prop, then
// by id, so that both nodes pick the same.
func keepFirst(m map[string]*Item, key string, it *Item, prop string) {
	old := m[key]
	if old == nil {
		m[key] = it
		return
	}
	t, o := itemTime(it, prop), itemTime(old, prop)
	if t.Before(o) || t.Equal(o) && it.Object.ID < old.Object.ID {
		m[key] = it
	}
}

func (c *comms) party(p dialogue.Party) dialogue.Party {
	if p.IdentityID == c.self.IdentityID {
		return c.other
	}
	return c.self
}

// hotline computes a message's view at now.
func (c *comms) hotline(m *Item, now time.Time) *Hotline {
	within, _ := m.Props["ack_within"].(float64)
	sent := m.Object.Created.UTC()
	h := &Hotline{
		ID: m.Object.ID, Channel: c.ch.ID, From: m.From.Name, To: c.party(m.From).Name, Outgoing: m.From.Local,
		Text: m.Str("description"), Priority: Priority(m.Str("priority")), AckWithin: int64(within),
		Sent: sent, AckDue: sent.Add(time.Duration(within) * time.Second), State: HotlineSent,
	}
	if refs, ok := m.Props["about_refs"].([]any); ok {
		for _, r := range refs {
			if s, ok := r.(string); ok {
				h.About = append(h.About, s)
			}
		}
	}
	if d := c.delivered[h.ID]; d != nil {
		t := itemTime(d, "received")
		h.Delivered, h.DeliveryID, h.State = &t, d.Object.ID, HotlineDelivered
	}
	if a := c.acked[h.ID]; a != nil {
		t := itemTime(a, "received")
		h.Acknowledged, h.AcknowledgedBy, h.AckID, h.State = &t, a.Str("acknowledged_by"), a.Object.ID, HotlineAcknowledged
		h.AckLate = t.After(h.AckDue)
	} else {
		h.Overdue = now.After(h.AckDue)
	}
	if e := c.escalations[h.ID]; e != nil {
		h.Escalation = e.Object.ID
	}
	return h
}

// eachComms folds the hotline and checks of one channel (id or title) or
// of every channel that has a collection ("" ; only the active ones when
// activeOnly) and calls f with each. With every channel, one channel's
// failure does not stop the others; the errors are joined.
func (s *Service) eachComms(ctx context.Context, channel string, activeOnly bool, f func(*comms) error) error {
	if channel != "" {
		ch, other, err := s.Channel(ctx, channel)
		if err != nil {
			return err
		}
		c, err := s.loadComms(ctx, ch, other)
		if err != nil {
			return err
		}
		return f(c)
	}
	chans, err := s.Store.Channels(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, ch := range chans {
		if ch.State == dialogue.ChannelOffered || activeOnly && ch.State != dialogue.ChannelActive {
			continue
		}
		full, other, err := s.Channel(ctx, ch.ID)
		if err == nil {
			var c *comms
			if c, err = s.loadComms(ctx, full, other); err == nil {
				err = f(c)
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("channel %s: %w", ch.ID, err))
		}
	}
	return errors.Join(errs...)
}

// commsFind finds the channel holding the object id, which must be of type
// typ (called what in messages; list is the command that lists them).
func (s *Service) commsFind(ctx context.Context, op, id, typ, what, list string) (*dialogue.Channel, dialogue.Party, error) {
	chans, err := s.Store.Channels(ctx)
	if err != nil {
		return nil, dialogue.Party{}, err
	}
	for _, ch := range chans {
		if ch.State == dialogue.ChannelOffered {
			continue
		}
		page, err := s.Store.FindObjects(ctx, ch.ID, dialogue.ObjectFilter{IDs: []string{id}, MetaOnly: true})
		if err != nil {
			if dialogue.KindOf(err) == dialogue.KindNotFound {
				continue
			}
			return nil, dialogue.Party{}, err
		}
		if len(page.Objects) == 0 {
			continue
		}
		if t := page.Objects[0].Type; t != typ {
			return nil, dialogue.Party{}, dialogue.Errorf(op, dialogue.KindInvalid, "%s is a %s, not a %s", id, t, what)
		}
		return s.Channel(ctx, ch.ID)
	}
	return nil, dialogue.Party{}, dialogue.Errorf(op, dialogue.KindNotFound, "no %s %s on any channel: list them with '%s'", what, id, list)
}
