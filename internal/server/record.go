package server

import (
	"context"
	"encoding/base64"
	"slices"

	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/node"
	"github.com/parleyhq/parley/internal/peer"
	"github.com/parleyhq/parley/internal/tlog"
	"github.com/parleyhq/parley/internal/webui"
)

// Record is the node's record as the web UI's Record page reads it
// (webui.Record): each channel's own log and the peer's log as cosigned
// here, the peers' state, and the verification of `parley verify --dir`.
type Record struct {
	n *node.Node
}

// NewRecord returns the record of node n, which must have a log key.
func NewRecord(n *node.Node) *Record { return &Record{n: n} }

var _ webui.Record = (*Record)(nil)

// witnessReader is a store that returns the note of the latest checkpoint
// cosigned for another log (internal/sqlite).
type witnessReader interface {
	WitnessCheckpoint(ctx context.Context, origin string) (*dialogue.Checkpoint, error)
}

// checkpointPager is a store that reads a page of a log's checkpoints,
// newest first (internal/sqlite).
type checkpointPager interface {
	CheckpointPage(ctx context.Context, collectionID string, offset, limit int) ([]*dialogue.Checkpoint, int, error)
}

// Channels returns each channel that has a collection here (not the ones
// offered and not accepted yet), oldest first.
func (r *Record) Channels(ctx context.Context) ([]*webui.RecordChannel, error) {
	l, err := r.n.Log()
	if err != nil {
		return nil, err
	}
	chans, err := r.n.Store.Channels(ctx)
	if err != nil {
		return nil, err
	}
	peers, err := r.n.Store.Peers(ctx)
	if err != nil {
		return nil, err
	}
	cosigners, err := r.n.CosignatureVerifiers(ctx)
	if err != nil {
		return nil, err
	}
	var out []*webui.RecordChannel
	for _, ch := range chans {
		if !ch.HasCollection() {
			continue
		}
		rc := &webui.RecordChannel{ID: ch.ID, Title: ch.Title, Peer: ch.Peer, State: ch.State}
		if c, err := r.n.Store.FindCollection(ctx, ch.ID); err == nil {
			rc.Title = c.Title // the local title, when it differs
		}
		cp, err := l.LatestCheckpoint(ctx, ch.ID)
		switch {
		case err == nil:
			rc.Own = r.ownCheckpoint(cp, cosigners)
		case dialogue.KindOf(err) != dialogue.KindNotFound:
			return nil, err
		}
		if rc.Received, err = r.received(ctx, peers, ch); err != nil {
			return nil, err
		}
		out = append(out, rc)
	}
	return out, nil
}

// ownCheckpoint opens a checkpoint of this node's log with the known
// cosigners' keys.
func (r *Record) ownCheckpoint(cp *dialogue.Checkpoint, cosigners []note.Verifier) *webui.RecordCheckpoint {
	origin, _ := r.n.Origin(cp.CollectionID) // the store's ids are valid
	c := &webui.RecordCheckpoint{Origin: origin, Size: cp.Size, Root: base64.StdEncoding.EncodeToString(cp.Root[:]), Note: string(cp.Note), At: cp.CreatedAt}
	s, err := tlog.Open(cp.Note, origin, r.n.LogVerifier(), cosigners...)
	if err != nil {
		c.Problem = dialogue.Message(err)
		return c
	}
	c.Cosignatures = cosignaturesOf(s, r.n.LogVerifier())
	return c
}

// cosignaturesOf lists a checkpoint's verified cosignatures, with their
// cosignature/v1 timestamps.
func cosignaturesOf(s *tlog.Signed, logKey note.Verifier) []webui.Cosignature {
	var out []webui.Cosignature
	for _, sig := range s.Note.Sigs {
		if sig.Name == logKey.Name() && sig.Hash == logKey.KeyHash() {
			continue
		}
		c := webui.Cosignature{Name: sig.Name}
		if t, err := fnote.CoSigV1Timestamp(sig); err == nil {
			c.At = t
		}
		out = append(out, c)
	}
	return out
}

// received is the latest checkpoint of the peer's log of ch that this
// node cosigned (nil: none).
func (r *Record) received(ctx context.Context, peers []*dialogue.Peer, ch *dialogue.Channel) (*webui.RecordCheckpoint, error) {
	origin, err := tlog.Origin(ch.Peer, ch.ID)
	if err != nil {
		return nil, err
	}
	wr, ok := any(r.n.Store).(witnessReader)
	if !ok {
		return nil, nil
	}
	cp, err := wr.WitnessCheckpoint(ctx, origin)
	if dialogue.KindOf(err) == dialogue.KindNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	c := &webui.RecordCheckpoint{Origin: origin, Size: cp.Size, Root: base64.StdEncoding.EncodeToString(cp.Root[:]), Note: string(cp.Note), At: cp.CreatedAt, Received: true,
		Cosignatures: []webui.Cosignature{{Name: r.n.Config.Name, At: cp.CreatedAt}}}
	i := slices.IndexFunc(peers, func(p *dialogue.Peer) bool { return p.Name == ch.Peer })
	if i < 0 {
		c.Problem = "no peer named " + ch.Peer + " is pinned here"
		return c, nil
	}
	v, err := tlog.NewVerifier(peers[i].LogKey)
	if err != nil {
		c.Problem = dialogue.Message(err)
		return c, nil
	}
	s, err := tlog.Open(cp.Note, origin, v)
	if err != nil {
		c.Problem = dialogue.Message(err)
		return c, nil
	}
	if s.Size != cp.Size || s.Hash != cp.Root {
		c.Problem = "the stored note does not match the stored size and root"
	}
	return c, nil
}

// History returns a page of the checkpoints of a channel's own log,
// newest first.
func (r *Record) History(ctx context.Context, channelID string, offset, limit int) (*webui.RecordHistory, error) {
	l, err := r.n.Log()
	if err != nil {
		return nil, err
	}
	ch, err := r.n.Store.Channel(ctx, channelID)
	if err != nil {
		return nil, err
	}
	if !ch.HasCollection() {
		return nil, dialogue.Errorf("server.Record.History", dialogue.KindNotFound, "channel %s: not accepted here, it has no log", ch.ID)
	}
	offset, limit = max(offset, 0), max(limit, 0)
	var page []*dialogue.Checkpoint
	var total int
	if pr, ok := any(r.n.Store).(checkpointPager); ok {
		if page, total, err = pr.CheckpointPage(ctx, ch.ID, offset, limit); err != nil {
			return nil, err
		}
	} else {
		cps, err := l.Checkpoints(ctx, ch.ID)
		if err != nil {
			return nil, err
		}
		total = len(cps)
		for i := len(cps) - 1 - offset; i >= 0 && len(page) < limit; i-- {
			page = append(page, cps[i])
		}
	}
	cosigners, err := r.n.CosignatureVerifiers(ctx)
	if err != nil {
		return nil, err
	}
	h := &webui.RecordHistory{Channel: &webui.RecordChannel{ID: ch.ID, Title: ch.Title, Peer: ch.Peer, State: ch.State}, Total: total}
	if c, err := r.n.Store.FindCollection(ctx, ch.ID); err == nil {
		h.Channel.Title = c.Title
	}
	for _, cp := range page {
		h.Checkpoints = append(h.Checkpoints, r.ownCheckpoint(cp, cosigners))
	}
	return h, nil
}

// Peers returns the state of the exchange with each peer, as `parley
// peer list` shows it.
func (r *Record) Peers(ctx context.Context) ([]*peer.PeerState, error) {
	return peer.States(ctx, r.n.Store)
}

// Verify checks every collection's log as `parley verify --dir` does
// (node.VerifyCollection), one after the other; it stops at the context's
// end.
func (r *Record) Verify(ctx context.Context) ([]*webui.LogCheck, error) {
	colls, err := r.n.Store.Collections(ctx)
	if err != nil {
		return nil, err
	}
	cosigners, err := r.n.CosignatureVerifiers(ctx)
	if err != nil {
		return nil, err
	}
	var out []*webui.LogCheck
	for _, c := range colls {
		lc := &webui.LogCheck{Collection: c.ID, Title: c.Title}
		out = append(out, lc)
		rep, err := r.n.VerifyCollection(ctx, c, cosigners)
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		if err != nil {
			if dialogue.KindOf(err) == dialogue.KindOther {
				return out, err
			}
			lc.Failure = dialogue.Message(err)
			continue
		}
		lc.Entries, lc.Checkpoints = rep.Entries, len(rep.Checkpoints)
		if k := len(rep.Checkpoints); k > 0 {
			cp := rep.Checkpoints[k-1]
			lc.Size, lc.Root, lc.Cosigners = cp.Size, base64.StdEncoding.EncodeToString(cp.Hash[:]), cp.Cosigners
		}
	}
	return out, nil
}
