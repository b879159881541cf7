package workflow

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/stix"
)

// The hotline: a message a party sends on a channel that
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
	c.ChannelCheckInterval = maps.Clone(c.ChannelCheckInterval)
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
		return nil, dialogue.Errorf(op, dialogue.KindConflict, "hotline message %s was acknowledged already, by %s at %s", id, a.p.AcknowledgedBy, a.p.Received)
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
	messages    []*commsItem          // hotline messages, oldest first
	pings       []*commsItem          // check pings, oldest first
	byID        map[string]*commsItem // messages and pings
	// The first valid receipt, acknowledgement and answer of each message
	// or ping: written by the party that did not send it.
	delivered, acked, answers map[string]*commsItem
	// escalations holds the first hotline-unacknowledged event per message.
	escalations map[string]*commsItem
	// escalationEvents counts the escalation events of both parties,
	// whatever their reason (the summary's count).
	escalationEvents int
	// waiting holds, by the id they name, the receipts, answers and
	// escalations that name no message or ping of the fold: an extension
	// bringing it applies them.
	waiting map[string][]*commsItem
	// upTo is the largest DateAdded of the objects read (µs).
	upTo int64
}

func (c *comms) addedUpTo() int64 { return c.upTo }

// commsTypes are the types a channel's hotline and checks are folded
// from.
var commsTypes = []string{stix.TypeHotline, stix.TypeCheck, stix.TypeReceipt, stix.TypeEvent}

// commsItem is a hotline message, check, receipt or event as the fold
// reads it: its object (without its JSON), the party it comes from and
// the properties the fold uses.
type commsItem struct {
	Object *dialogue.Object
	From   dialogue.Party
	p      commsProps
	// at is the item's own time: a receipt's received, an answer's
	// answered, a ping's sent; atOK whether it is a valid timestamp.
	at   time.Time
	atOK bool
}

// commsProps are the properties of the comms types the fold reads
// (decoded into this, not into a map: a fraction of the work). A property
// of another JSON type reads as absent, as Item.Str.
type commsProps struct {
	CreatedBy string `json:"created_by_ref"`
	// A hotline message's.
	Description string   `json:"description"`
	Priority    string   `json:"priority"`
	AckWithin   float64  `json:"ack_within"`
	About       refsProp `json:"about_refs"`
	// A check's.
	CheckKind  string `json:"check_kind"`
	Trigger    string `json:"trigger"`
	Sent       string `json:"sent"`
	CheckRef   string `json:"check_ref"`
	Answered   string `json:"answered"`
	AnsweredBy string `json:"answered_by"`
	// A receipt's.
	MessageRef     string `json:"message_ref"`
	ReceiptKind    string `json:"receipt_kind"`
	Received       string `json:"received"`
	AcknowledgedBy string `json:"acknowledged_by"`
	// An event's.
	EventKind  string `json:"event_kind"`
	SubjectRef string `json:"subject_ref"`
	Reason     string `json:"reason"`
}

// refsProp is a list of ids: the strings of a JSON array (its other
// members left out), none when the property is not an array.
type refsProp []string

// UnmarshalJSON keeps the strings of an array.
func (r *refsProp) UnmarshalJSON(b []byte) error {
	var a []any
	if json.Unmarshal(b, &a) != nil {
		*r = nil
		return nil
	}
	*r = refsProp(stringsOf(a))
	if len(*r) == 0 {
		*r = nil
	}
	return nil
}

// decodeComms reads an object of the comms types, or nil when it is not
// JSON or comes from neither party (as Items leaves it out).
func (s *Service) decodeComms(o *dialogue.Object, other dialogue.Party) *commsItem {
	it := &commsItem{}
	if !decodeProps(o.Raw, &it.p) {
		return nil
	}
	from := s.partyOf(other, it.p.CreatedBy)
	if from == nil {
		return nil
	}
	it.From = *from
	obj := *o
	obj.Raw = nil
	it.Object = &obj
	var at string
	switch o.Type {
	case stix.TypeReceipt:
		at = it.p.Received
	case stix.TypeCheck:
		at = it.p.Sent
		if it.p.CheckKind == CheckAnswer {
			at = it.p.Answered
		}
	}
	if at != "" {
		t, err := stix.ParseTime(at)
		it.at, it.atOK = t, err == nil
	}
	return it
}

// loadComms folds a channel's hotline messages, checks, receipts and
// events; from the fold cache while the store's stamp of those types is
// unchanged, extended with the versions added since when it changed
// (readcache.go). The fold is shared: its readers only read it (hotline
// computes each message's view at a time), and each gets its own copy of
// the struct with ch, the channel as the caller read it.
func (s *Service) loadComms(ctx context.Context, ch *dialogue.Channel, other dialogue.Party) (*comms, error) {
	v, err := s.cachedExtended(ctx, "comms", ch, other, commsTypes, func() (any, error) {
		var items []*commsItem
		var upTo int64
		err := s.eachLatest(ctx, ch, commsTypes, func(o *dialogue.Object) {
			upTo = max(upTo, o.DateAdded.UnixMicro())
			if it := s.decodeComms(o, other); it != nil {
				items = append(items, it)
			}
		})
		if err != nil {
			return nil, err
		}
		c := foldComms(ch, s.Self, other, items)
		c.upTo = upTo
		return c, nil
	}, func(v any, added []dialogue.AddedVersion) any {
		c := v.(*comms).clone()
		items := make([]*commsItem, 0, len(added))
		for _, a := range added {
			c.upTo = max(c.upTo, a.Object.DateAdded.UnixMicro())
			if it := s.decodeComms(a.Object, other); it != nil {
				items = append(items, it)
			}
		}
		c.add(items)
		return c
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
func foldComms(ch *dialogue.Channel, self, other dialogue.Party, items []*commsItem) *comms {
	c := &comms{ch: ch, self: self, other: other, byID: map[string]*commsItem{},
		delivered: map[string]*commsItem{}, acked: map[string]*commsItem{}, answers: map[string]*commsItem{},
		escalations: map[string]*commsItem{}, waiting: map[string][]*commsItem{}}
	c.add(items)
	return c
}

// clone returns a copy of the fold that add may change without changing
// c: its maps copied, its lists clipped (an append copies them).
func (c *comms) clone() *comms {
	n := *c
	n.messages, n.pings = slices.Clip(c.messages), slices.Clip(c.pings)
	n.byID, n.delivered, n.acked, n.answers = maps.Clone(c.byID), maps.Clone(c.delivered), maps.Clone(c.acked), maps.Clone(c.answers)
	n.escalations, n.waiting = maps.Clone(c.escalations), maps.Clone(c.waiting)
	return &n
}

// add applies items (oldest first, none already in the fold) to the
// fold: the messages and pings first, then the rest, and the items
// waiting for a message or ping that came. What counts never depends on
// the order the items come in (the first by time, then id), so a fold
// extended with items is the fold of all of them.
func (c *comms) add(items []*commsItem) {
	var came []string
	for _, it := range items {
		switch {
		case it.Object.Type == stix.TypeHotline:
			c.messages = append(c.messages, it)
		case it.Object.Type == stix.TypeCheck && it.p.CheckKind == CheckPing:
			c.pings = append(c.pings, it)
		default:
			continue
		}
		c.byID[it.Object.ID] = it
		came = append(came, it.Object.ID)
	}
	for _, it := range items {
		if it.Object.Type == stix.TypeEvent && it.p.EventKind == EventEscalation {
			c.escalationEvents++
		}
		c.apply(it)
	}
	for _, id := range came {
		for _, it := range c.waiting[id] {
			c.apply(it)
		}
		delete(c.waiting, id)
	}
}

// apply counts a receipt, answer or escalation event if it is valid for
// the message or ping it names, or keeps it waiting for it when the fold
// has none of that id.
func (c *comms) apply(it *commsItem) {
	var ref string
	switch it.Object.Type {
	case stix.TypeReceipt:
		if k := it.p.ReceiptKind; !it.atOK || k != ReceiptDelivered && k != ReceiptAcknowledged {
			return
		}
		ref = it.p.MessageRef
	case stix.TypeCheck:
		if it.p.CheckKind != CheckAnswer || !it.atOK {
			return
		}
		ref = it.p.CheckRef
	case stix.TypeEvent:
		if it.p.Reason != ReasonHotlineUnacknowledged || it.p.EventKind != EventEscalation {
			return
		}
		ref = it.p.SubjectRef
	default:
		return
	}
	m := c.byID[ref]
	if m == nil {
		c.waiting[ref] = append(slices.Clip(c.waiting[ref]), it)
		return
	}
	switch it.Object.Type {
	case stix.TypeReceipt:
		if m.From.IdentityID == it.From.IdentityID {
			return
		}
		switch it.p.ReceiptKind {
		case ReceiptDelivered:
			keepFirst(c.delivered, ref, it)
		case ReceiptAcknowledged:
			if m.Object.Type == stix.TypeHotline {
				keepFirst(c.acked, ref, it)
			}
		}
	case stix.TypeCheck:
		if m.Object.Type != stix.TypeCheck || m.From.IdentityID == it.From.IdentityID {
			return
		}
		keepFirst(c.answers, ref, it)
	case stix.TypeEvent:
		if m.Object.Type != stix.TypeHotline {
			return
		}
		if e := c.escalations[ref]; e == nil || it.Object.Created.Before(e.Object.Created) ||
			it.Object.Created.Equal(e.Object.Created) && it.Object.ID < e.Object.ID {
			c.escalations[ref] = it
		}
	}
}

// keepFirst keeps in m[key] the earliest item by its own time, then by
// id, so that both nodes pick the same.
func keepFirst(m map[string]*commsItem, key string, it *commsItem) {
	old := m[key]
	if old == nil || it.at.Before(old.at) || it.at.Equal(old.at) && it.Object.ID < old.Object.ID {
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
func (c *comms) hotline(m *commsItem, now time.Time) *Hotline {
	within := m.p.AckWithin
	sent := m.Object.Created.UTC()
	h := &Hotline{
		ID: m.Object.ID, Channel: c.ch.ID, From: m.From.Name, To: c.party(m.From).Name, Outgoing: m.From.Local,
		Text: m.p.Description, Priority: Priority(m.p.Priority), AckWithin: int64(within),
		Sent: sent, AckDue: sent.Add(time.Duration(within) * time.Second), State: HotlineSent,
		About: slices.Clip([]string(m.p.About)),
	}
	if d := c.delivered[h.ID]; d != nil {
		t := d.at
		h.Delivered, h.DeliveryID, h.State = &t, d.Object.ID, HotlineDelivered
	}
	if a := c.acked[h.ID]; a != nil {
		t := a.at
		h.Acknowledged, h.AcknowledgedBy, h.AckID, h.State = &t, a.p.AcknowledgedBy, a.Object.ID, HotlineAcknowledged
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
	chans, err := s.channels(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, ch := range chans {
		if !ch.HasCollection() || activeOnly && ch.State != dialogue.ChannelActive {
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
	chans, err := s.channels(ctx)
	if err != nil {
		return nil, dialogue.Party{}, err
	}
	for _, ch := range chans {
		if !ch.HasCollection() {
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
