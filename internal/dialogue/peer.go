package dialogue

import (
	"context"
	"errors"
	"time"
)

// Peering: the other parties' nodes this node exchanges with,
// the channels it shares with each, and how far each exchange has got.
//
// Trust is the pinned keys only: a peer is known by the SHA-256 pin of its
// TLS public key (which authenticates it in mutual TLS, both ways) and by
// its log key (a signed-note verifier key, which signs its checkpoints).
// Both are exchanged out of band (`parley keys show`).

// Peer is another party's node.
type Peer struct {
	// Name is the peer's name on this node: the name in its log key, which
	// is the first part of the origin line of its checkpoints.
	Name string
	// URL is where its node listens: https://HOST:PORT.
	URL string
	// TLSPin is the base64 SHA-256 of its certificate's public key
	// (taxii.PinOf), the same key for its server and its client side.
	TLSPin string
	// LogKey is its signed-note verifier key.
	LogKey string
	// Territory is the ISO 3166-1 alpha-2 code of the territory the party
	// answers for ("" when not set).
	Territory string
	CreatedAt time.Time

	// LastContact is the last time a request to or from the peer succeeded
	// (zero: never).
	LastContact time.Time
	// Alarm is "" or the open alarm raised about the peer: AlarmFork,
	// AlarmBadData. It stays until an administrator clears it (ClearAlarm,
	// by AlarmID).
	Alarm       string
	AlarmDetail string
	AlarmAt     time.Time
	AlarmID     int64
}

// Alarm is an alarm raised about a peer, open until an administrator
// clears it, saying who and why.
type Alarm struct {
	ID       int64
	Peer     string
	Alarm    string // AlarmFork, AlarmBadData
	Detail   string
	RaisedAt time.Time
	// ClearedAt is zero while the alarm is open.
	ClearedAt time.Time
	ClearedBy string
	Reason    string
}

// ErrTooManyProposals is in the chain of the error OfferChannel returns
// when the peer has as many proposals waiting here as the node allows.
var ErrTooManyProposals = errors.New("too many channel proposals waiting")

// The alarms a peer can raise.
const (
	// AlarmFork: the peer presented a checkpoint inconsistent with one this
	// node cosigned already (a fork or a rewrite of its log).
	AlarmFork = "FORK"
	// AlarmBadData: the peer served entries, tiles or blobs that do not match
	// the checkpoint it signed.
	AlarmBadData = "BAD-DATA"
)

// ChannelState is where a channel stands between its two sides.
type ChannelState string

// The states of a channel.
const (
	// ChannelProposed: this node proposed the channel; the peer has not
	// accepted it yet. Objects may be added; nothing flows.
	ChannelProposed ChannelState = "proposed"
	// ChannelOffered: the peer proposed it; it waits for `parley channel
	// accept` here. There is no collection yet.
	ChannelOffered ChannelState = "offered"
	// ChannelActive: both sides accepted; entries flow both ways.
	ChannelActive ChannelState = "active"
	// ChannelDeclined: the channel was declined, here (`parley channel
	// decline`: it was offered, there is no collection) or by the peer (it
	// was proposed here: the collection stays, nothing flows). A proposal
	// of the same id again is answered "declined" and not offered anew.
	ChannelDeclined ChannelState = "declined"
)

// Channel is a collection shared with one peer, with the same id on both
// nodes.
type Channel struct {
	ID          string // the collection id, the same on both nodes
	Title       string // the title proposed; the local collection may differ
	Description string
	Peer        string // the peer's name
	State       ChannelState
	// Incoming is true when the peer proposed the channel.
	Incoming bool
	// Notified is true once the peer has been told the current State.
	Notified   bool
	CreatedAt  time.Time
	AcceptedAt time.Time // zero until active
}

// HasCollection reports whether the channel has a collection on this node:
// not while it is only offered, nor once an offer was declined here. Every
// listing of a channel's content skips a channel without one.
func (c *Channel) HasCollection() bool {
	return !c.Incoming || (c.State != ChannelOffered && c.State != ChannelDeclined)
}

// ApplyBatch is a run of a peer's log entries, verified against a
// checkpoint that peer signed, to apply to the channel's collection here.
type ApplyBatch struct {
	Peer         string
	CollectionID string
	// From is the size of the peer's log applied so far: the batch holds
	// its entries [From, To). ApplyReceived refuses (KindConflict) when the
	// stored size is not From, so a batch applied twice changes nothing.
	From, To int64
	// Objects are the objects of the batch (parsed and validated), in
	// entry order. Each keeps its bytes exactly as the peer logged them.
	Objects []*Object
	// Indexes, when set, are the objects' indexes in the peer's log (one
	// per object); the store keeps those of dialogue objects.
	Indexes []int64
	// Blobs are the evidence blobs the batch names, to fetch from the peer.
	Blobs []BlobRef
}

// BlobRef names an evidence blob by the SHA-256 of its bytes.
type BlobRef struct {
	SHA256 [32]byte
	Size   int64
}

// ApplyResult says what ApplyReceived did.
type ApplyResult struct {
	Added, Unchanged int
	// Conflicts lists the objects skipped because this node holds the same
	// (id, version) with other bytes.
	Conflicts []AddResult
}

// PeerStore keeps peers, channels and the state of each exchange.
// internal/sqlite implements it beside Store.
type PeerStore interface {
	// AddPeer stores a new peer. KindConflict when the name, pin or log key
	// is taken already.
	AddPeer(ctx context.Context, p *Peer) error
	// Peers lists the peers by name.
	Peers(ctx context.Context) ([]*Peer, error)
	// Peer finds a peer by name (KindNotFound).
	Peer(ctx context.Context, name string) (*Peer, error)
	// PeerByPin finds the peer whose TLS pin is pin (KindNotFound).
	PeerByPin(ctx context.Context, pin string) (*Peer, error)
	// SetPeerContact records a successful exchange with the peer at t
	// (kept when later than the stored one).
	SetPeerContact(ctx context.Context, name string, t time.Time) error
	// RaiseAlarm raises an alarm about the peer. A peer has at most one
	// open alarm: raising keeps one already open (the first one counts).
	RaiseAlarm(ctx context.Context, peer, alarm, detail string, t time.Time) error
	// Alarms lists the open alarms, or every alarm when all, by id.
	Alarms(ctx context.Context, all bool) ([]*Alarm, error)
	// ClearAlarm clears an open alarm at t, recording who cleared it and
	// why (both required, KindInvalid), and returns it cleared.
	// KindNotFound for no such alarm; KindConflict when it is cleared
	// already.
	ClearAlarm(ctx context.Context, id int64, by, reason string, t time.Time) (*Alarm, error)

	// ProposeChannel creates, in one transaction, a collection (id, title
	// and description of ch; an empty ID gets a new UUID, written back)
	// and the channel in state ChannelProposed, not notified.
	ProposeChannel(ctx context.Context, ch *Channel) error
	// OfferChannel records a channel the peer proposed (ChannelOffered,
	// Incoming). Offering again a channel that exists with the same peer
	// changes nothing; with another peer it is KindConflict. When the peer
	// has maxPending channels offered here already (0: no limit), nothing
	// is stored and the error is KindConflict with ErrTooManyProposals in
	// its chain.
	OfferChannel(ctx context.Context, ch *Channel, maxPending int) error
	// DeclineChannel makes a channel ChannelDeclined. With peer ""
	// this node declines a channel the peer offered (not notified, so the
	// peer is told); with peer set, that peer declined a channel this node
	// proposed to it (notified: the peer is the one that told).
	// KindNotFound for no such channel; KindConflict for a channel in
	// another state or with another peer. Declining a declined channel
	// changes nothing.
	DeclineChannel(ctx context.Context, id, peer string) (*Channel, error)
	// AcceptChannel accepts an offered channel: it creates the collection
	// with the channel's id (titled title, or the proposed title when
	// empty) and makes the channel active, not notified. KindNotFound for
	// no such channel; KindConflict when it is not offered.
	AcceptChannel(ctx context.Context, id, title string, t time.Time) (*Channel, error)
	// ActivateChannel records that the peer accepted a channel this node
	// proposed (no-op when active already; KindConflict when the peer is
	// not the channel's peer).
	ActivateChannel(ctx context.Context, id, peer string, t time.Time) error
	// SetChannelNotified records that the peer was told the channel's state
	// as it was: only when it is still state.
	SetChannelNotified(ctx context.Context, id string, state ChannelState) error
	// Channel finds a channel by id, or by its collection's title.
	Channel(ctx context.Context, idOrTitle string) (*Channel, error)
	// ChannelByID finds a channel by its id alone (KindNotFound): one
	// lookup, for callers that ask of every request whether a collection
	// is a channel's.
	ChannelByID(ctx context.Context, id string) (*Channel, error)
	// Channels lists every channel, oldest first.
	Channels(ctx context.Context) ([]*Channel, error)

	// Cosigned returns the size of this node's log of a channel that the
	// peer last cosigned (0: none).
	Cosigned(ctx context.Context, peer, collectionID string) (int64, error)
	// SetCosigned records that the peer cosigned size (kept when larger
	// than the stored one).
	SetCosigned(ctx context.Context, peer, collectionID string, size int64) error

	// Applied returns how many entries of the peer's log of a channel are
	// applied here (0: none).
	Applied(ctx context.Context, peer, collectionID string) (int64, error)
	// ApplyReceived applies a batch of the peer's entries in one
	// transaction: the objects are added to the collection (marked as the
	// peer's, never entered in this node's own log), the blobs recorded as
	// wanted from the peer, and Applied set to b.To.
	ApplyReceived(ctx context.Context, b *ApplyBatch) (*ApplyResult, error)
	// WantedBlobs lists the blobs named by a peer's entries that are not
	// fetched yet.
	WantedBlobs(ctx context.Context, peer string) ([]BlobRef, error)
	// BlobFetched records that a wanted blob is kept now.
	BlobFetched(ctx context.Context, sha256 [32]byte) error
	// LargeObject returns the bytes of the object whose log entry in the
	// collection names sha256 (an object over 65535 bytes, see
	// tlog.ObjectEntry). KindNotFound when none.
	LargeObject(ctx context.Context, collectionID string, sha256 [32]byte) ([]byte, error)
	// Origin returns the peer an object version came from ("" for this
	// node's own; KindNotFound for no such version).
	Origin(ctx context.Context, collectionID, id string, version time.Time) (string, error)
}
