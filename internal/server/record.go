package server

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"iter"
	"slices"

	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/logapi"
	"github.com/parleyhq/parley/internal/node"
	"github.com/parleyhq/parley/internal/peer"
	"github.com/parleyhq/parley/internal/stix"
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
	cosigners, err := CosignatureVerifiers(r.n)
	if err != nil {
		return nil, err
	}
	var out []*webui.RecordChannel
	for _, ch := range chans {
		if ch.State == dialogue.ChannelOffered {
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
	if ch.State == dialogue.ChannelOffered {
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
	cosigners, err := CosignatureVerifiers(r.n)
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
// (VerifyCollection), one after the other; it stops at the context's
// end.
func (r *Record) Verify(ctx context.Context) ([]*webui.LogCheck, error) {
	colls, err := r.n.Store.Collections(ctx)
	if err != nil {
		return nil, err
	}
	cosigners, err := CosignatureVerifiers(r.n)
	if err != nil {
		return nil, err
	}
	var out []*webui.LogCheck
	for _, c := range colls {
		lc := &webui.LogCheck{Collection: c.ID, Title: c.Title}
		out = append(out, lc)
		rep, err := VerifyCollection(ctx, r.n, c, cosigners)
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

// CosignatureVerifiers are the keys whose cosignatures of this node's
// checkpoints are checked: the witnesses of the configuration and every
// peer's log key (as a cosignature/v1 key).
func CosignatureVerifiers(n *node.Node) ([]note.Verifier, error) {
	var vs []note.Verifier
	seen := map[string]bool{}
	keys := slices.Clone(n.Config.Witness)
	peers, err := n.Store.Peers(context.Background())
	if err != nil {
		return nil, err
	}
	for _, p := range peers {
		keys = append(keys, p.LogKey)
	}
	for _, k := range keys {
		if seen[k] {
			continue
		}
		seen[k] = true
		v, err := tlog.NewCosignatureVerifier(k)
		if err != nil {
			return nil, err
		}
		vs = append(vs, v)
	}
	return vs, nil
}

// VerifyCollection checks a collection's log as `parley verify --dir`
// does: it rebuilds every leaf hash and the whole tree from the stored
// entries and compares them with the stored hashes, checks every stored
// checkpoint (signature, cosignatures by the given keys, root,
// consistency with the next), and that every object version stored in
// the collection is an entry of the log. The error names the first
// broken entry, stored hash, checkpoint or object (KindInvalid), or is
// the store's.
func VerifyCollection(ctx context.Context, n *node.Node, c *dialogue.Collection, cosigners []note.Verifier) (*tlog.Report, error) {
	l, err := n.Log()
	if err != nil {
		return nil, err
	}
	origin, err := n.Origin(c.ID)
	if err != nil {
		return nil, err
	}
	size, err := l.LogSize(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	cps, err := l.Checkpoints(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	seen := make(map[[32]byte]bool, size)
	sl := &tlog.StoredLog{
		Origin: origin, Size: size, Entries: storedEntries(ctx, l, c.ID, size, seen),
		Hashes: logapi.Hashes(ctx, l, c.ID), LogKey: n.LogVerifier(), Cosigners: cosigners,
	}
	for _, cp := range cps {
		sl.Checkpoints = append(sl.Checkpoints, tlog.StoredCheckpoint{Size: cp.Size, Note: cp.Note})
	}
	// The stored objects are listed and hashed on the other core while
	// VerifyLog rebuilds the tree: only their sums are kept.
	type listed struct {
		sums [][32]byte
		err  error
	}
	done := make(chan listed, 1)
	go func() {
		var l listed
		l.sums = make([][32]byte, 0, size)
		l.err = storedObjects(ctx, n.Store, c.ID, func(s dialogue.ObjectSum) error {
			l.sums = append(l.sums, s.SHA256)
			return nil
		})
		done <- l
	}()
	rep, err := tlog.VerifyLog(ctx, sl)
	stored := <-done
	if err != nil {
		return nil, err
	}
	if stored.err != nil {
		return nil, stored.err
	}
	// Nothing is stored outside the record: every object version the
	// collection holds must be an entry of its log. On a miss, list the
	// objects again to name it.
	for _, sum := range stored.sums {
		if seen[sum] {
			continue
		}
		err = storedObjects(ctx, n.Store, c.ID, func(s dialogue.ObjectSum) error {
			if s.SHA256 == sum {
				return dialogue.Errorf("", dialogue.KindInvalid, "object %s version %s is stored but is not an entry of the log", s.ID, stix.FormatTime(s.Version))
			}
			return nil
		})
		if err == nil {
			err = dialogue.Errorf("", dialogue.KindInvalid, "an object version with SHA-256 %x is stored but is not an entry of the log", sum)
		}
		return nil, err
	}
	return rep, nil
}

// storedEntries yields the entries of a log in index order, marking in
// seen the SHA-256 of each object entry.
func storedEntries(ctx context.Context, l dialogue.LogStore, id string, size int64, seen map[[32]byte]bool) iter.Seq2[[]byte, error] {
	return func(yield func([]byte, error) bool) {
		const chunk = 4096
		for start := int64(0); start < size; start += chunk {
			es, err := l.LogEntries(ctx, id, start, min(size, start+chunk))
			if err != nil {
				yield(nil, err)
				return
			}
			for _, e := range es {
				kind, sum, _, err := tlog.ParseEntry(e)
				if err != nil {
					yield(nil, err)
					return
				}
				if kind == tlog.EntryObject || kind == tlog.EntryObjectRef {
					seen[sum] = true
				}
				if !yield(e, nil) {
					return
				}
			}
		}
	}
}

// storedObjects calls fn with the id, TAXII version and SHA-256 of every
// object version stored in a collection: from the sums the store keeps
// when it can list them (dialogue.ObjectSumLister), else by reading and
// hashing every version.
func storedObjects(ctx context.Context, st dialogue.Store, id string, fn func(dialogue.ObjectSum) error) error {
	if l, ok := st.(dialogue.ObjectSumLister); ok {
		return l.ObjectSums(ctx, id, fn)
	}
	f := dialogue.ObjectFilter{Versions: dialogue.VersionMatch{All: true}, SpecVersions: []string{"2.0", "2.1"}}
	for {
		p, err := st.FindObjects(ctx, id, f)
		if err != nil {
			return err
		}
		for _, o := range p.Objects {
			if err := fn(dialogue.ObjectSum{ID: o.ID, Version: o.TAXIIVersion(), SHA256: sha256.Sum256(o.Raw)}); err != nil {
				return err
			}
		}
		if !p.More {
			return nil
		}
		f.After = p.Next
	}
}
