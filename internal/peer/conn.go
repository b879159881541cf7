package peer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/parleyhq/parley/internal/blob"
	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/httpapi"
	"github.com/parleyhq/parley/internal/ingest"
	"github.com/parleyhq/parley/internal/logapi"
	"github.com/parleyhq/parley/internal/stix"
	"github.com/parleyhq/parley/internal/tlog"
	"github.com/parleyhq/parley/internal/write"
)

// The peer protocol's paths, served behind mutual TLS to peers only.
const (
	// ChannelsPath takes a channel message (POST, JSON).
	ChannelsPath = "/peer/v1/channels"
	// ObjectsPath serves an object too large for a log entry:
	// GET /peer/v1/objects/<collection-id>/<sha256 hex>.
	ObjectsPath = "/peer/v1/objects"
	// BlobsPath serves evidence blobs: GET /peer/v1/blobs/<sha256 hex>.
	BlobsPath = "/peer/v1/blobs"
)

// maxMessage caps a channel message or its answer.
const maxMessage = 64 << 10

// httpClient returns the mutual-TLS client for the peer, made anew when
// its pin changed.
func (w *worker) httpClient(p *dialogue.Peer) (*http.Client, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.client == nil || w.clientOf != p.TLSPin {
		if len(w.s.cfg.Cert.Certificate) == 0 {
			return nil, dialogue.Errorf("peer.client", dialogue.KindInvalid, "this node has no TLS certificate to present to peer %s", p.Name)
		}
		w.client = httpapi.PeerClient(w.s.cfg.Cert, p.TLSPin, w.s.cfg.Timeout)
		w.clientOf = p.TLSPin
	}
	return w.client, nil
}

// conn is one round's exchange with a peer.
type conn struct {
	w      *worker
	p      *dialogue.Peer
	client *http.Client
	// contacted is set once a request got an answer from the peer (from
	// the concurrent fetches of tlog.ReadVerified too).
	contacted atomic.Bool
}

func (c *conn) url(path string) string { return strings.TrimSuffix(c.p.URL, "/") + path }

// do sends a request and reads the answer (at most limit bytes); a status
// other than 2xx is an error of the kind the status says, with the text
// the peer gave.
func (c *conn) do(ctx context.Context, method, path string, body []byte, limit int64) (int, []byte, error) {
	const op = "peer.request"
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.url(path), rd)
	if err != nil {
		return 0, nil, dialogue.E(op, dialogue.KindInvalid, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return 0, nil, dialogue.E(op, dialogue.KindUnavailable, fmt.Errorf("peer %s: %s %s: %w", c.p.Name, method, path, err))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return 0, nil, dialogue.E(op, dialogue.KindUnavailable, fmt.Errorf("peer %s: %s %s: reading the answer: %w", c.p.Name, method, path, err))
	}
	c.contacted.Store(true)
	if int64(len(b)) > limit {
		return resp.StatusCode, nil, dialogue.Errorf(op, dialogue.KindTooLarge, "peer %s: %s %s: answer over %d bytes", c.p.Name, method, path, limit)
	}
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, b, dialogue.Errorf(op, httpapi.KindOfStatus(resp.StatusCode), "peer %s: %s %s: %s: %s", c.p.Name, method, path, resp.Status, clip(string(b)))
	}
	return resp.StatusCode, b, nil
}

// ChannelMessage tells a peer this node's view of a channel: proposed (it
// proposes the channel) or active (it accepted, or knows it active).
type ChannelMessage struct {
	ID          string                `json:"id"`
	Title       string                `json:"title"`
	Description string                `json:"description,omitempty"`
	State       dialogue.ChannelState `json:"state"`
}

// tellChannel sends this node's state of ch to the peer (proposed,
// active, or declined: an offer declined here), and records the peer's
// answer: its own state (a proposal it had accepted already makes the
// channel active here; one it declined, declined).
func (c *conn) tellChannel(ctx context.Context, ch *dialogue.Channel) error {
	st := c.w.s.st
	state := ch.State
	if state == dialogue.ChannelOffered {
		return nil // nothing to say until it is accepted here
	}
	body, _ := json.Marshal(ChannelMessage{ID: ch.ID, Title: ch.Title, Description: ch.Description, State: state})
	_, ans, err := c.do(ctx, http.MethodPost, ChannelsPath, body, maxMessage)
	if err != nil {
		return err
	}
	var m ChannelMessage
	if err := json.Unmarshal(ans, &m); err != nil {
		return dialogue.Errorf("peer.tellChannel", dialogue.KindInvalid, "peer %s: the answer to a channel message is not JSON: %v", c.p.Name, err)
	}
	if m.State == dialogue.ChannelDeclined && ch.State == dialogue.ChannelProposed {
		if _, err := st.DeclineChannel(ctx, ch.ID, c.p.Name); err != nil {
			return err
		}
		c.w.s.log.Info("channel declined by the peer", "peer", c.p.Name, "channel", ch.ID, "title", ch.Title)
		return nil
	}
	if m.State == dialogue.ChannelActive && ch.State == dialogue.ChannelProposed {
		if err := st.ActivateChannel(ctx, ch.ID, c.p.Name, c.w.s.cfg.Now()); err != nil {
			return err
		}
		c.w.s.log.Info("channel accepted by the peer", "peer", c.p.Name, "channel", ch.ID, "title", ch.Title)
		return st.SetChannelNotified(ctx, ch.ID, dialogue.ChannelActive)
	}
	return st.SetChannelNotified(ctx, ch.ID, state)
}

// push sends this node's latest checkpoint of ch to the peer's witness
// endpoint, with the consistency proof from the size the peer cosigned
// last, and keeps the cosignature.
func (c *conn) push(ctx context.Context, ch *dialogue.Channel) error {
	st := c.w.s.st
	cp, err := st.LatestCheckpoint(ctx, ch.ID)
	if dialogue.KindOf(err) == dialogue.KindNotFound {
		return nil // no entries yet
	}
	if err != nil {
		return err
	}
	old, err := st.Cosigned(ctx, c.p.Name, ch.ID)
	if err != nil {
		return err
	}
	if cp.Size <= old {
		return nil
	}
	sigs, err := c.addCheckpoint(ctx, ch.ID, old, cp)
	var we *logapi.WitnessError
	if errors.As(err, &we) && we.Status == http.StatusConflict && we.Known >= 0 && we.Known != old {
		if we.Known > cp.Size {
			return dialogue.Errorf("peer.push", dialogue.KindConflict,
				"peer %s cosigned size %d of channel %s, more than this node's log holds (%d): was this node's data folder restored from an older copy?", c.p.Name, we.Known, ch.ID, cp.Size)
		}
		sigs, err = c.addCheckpoint(ctx, ch.ID, we.Known, cp)
	}
	if err != nil {
		if errors.As(err, &we) && we.Status == http.StatusConflict {
			c.w.s.log.Error("peer refuses this node's checkpoint as inconsistent with one it cosigned", "peer", c.p.Name, "channel", ch.ID, "size", cp.Size, "err", dialogue.Message(err))
		}
		return err
	}
	v, err := tlog.NewCosignatureVerifier(c.p.LogKey)
	if err != nil {
		return err
	}
	// Add the cosignature to the note as stored now (another peer may have
	// added one since it was read). That is the latest checkpoint still,
	// unless an append came meanwhile: only then are they all listed (a
	// log of single-object commits has as many checkpoints as entries).
	stored, err := st.LatestCheckpoint(ctx, ch.ID)
	if err != nil {
		return err
	}
	if stored.Size != cp.Size {
		cps, err := st.Checkpoints(ctx, ch.ID)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(cps, func(x *dialogue.Checkpoint) bool { return x.Size == cp.Size })
		if i < 0 {
			return dialogue.Errorf("peer.push", dialogue.KindNotFound, "the checkpoint at size %d of channel %s is no longer stored", cp.Size, ch.ID)
		}
		stored = cps[i]
	}
	cosigned, err := tlog.AddCosignatures(stored.Note, sigs, v)
	if err != nil {
		c.w.s.alarm(ctx, c.p.Name, dialogue.AlarmBadData, "its cosignature of channel "+ch.ID+" does not verify: "+dialogue.Message(err))
		return err
	}
	if err := st.SetCheckpointNote(ctx, ch.ID, cp.Size, cosigned); err != nil {
		return err
	}
	if err := st.SetCosigned(ctx, c.p.Name, ch.ID, cp.Size); err != nil {
		return err
	}
	c.w.s.metrics.cosigned.WithLabelValues(c.p.Name).Inc()
	return nil
}

func (c *conn) addCheckpoint(ctx context.Context, id string, old int64, cp *dialogue.Checkpoint) ([]byte, error) {
	proof, err := tlog.ProveConsistency(old, cp.Size, logapi.Hashes(ctx, c.w.s.st, id))
	if err != nil {
		return nil, err
	}
	sigs, err := logapi.AddCheckpoint(ctx, c.client, c.url(logapi.WitnessPath), old, proof.Hashes, cp.Note)
	var we *logapi.WitnessError
	if err == nil || errors.As(err, &we) {
		c.contacted.Store(true)
	}
	return sigs, err
}

// fetcher reads the peer's log of a channel.
func (c *conn) fetcher(id string) tlog.Fetcher {
	f := logapi.NewFetcher(c.client, c.url("/log/"+id+"/"), "")
	return func(ctx context.Context, path string) ([]byte, error) {
		b, err := f(ctx, path)
		if err == nil {
			c.contacted.Store(true)
		}
		return b, err
	}
}

// pollAndPull looks at the peer's checkpoint when due (the fallback for a
// push that did not come: it is witnessed here as if pushed), then applies
// what the cosigned checkpoint adds.
func (c *conn) pollAndPull(ctx context.Context, ch *dialogue.Channel) error {
	if c.w.pollDue(ch.ID) {
		// The peer's own push to this node's witness endpoint may cosign
		// its log between the poll's read of the witness state and its
		// store (a conflict that is no fork): the state moved forward, so
		// the poll decides again from it.
		err := c.poll(ctx, ch)
		for try := 0; try < 3 && isMovedOn(err); try++ {
			err = c.poll(ctx, ch)
		}
		if err != nil {
			return err
		}
	}
	return c.pull(ctx, ch)
}

// isMovedOn reports whether err is a witness conflict that is no fork: the
// state it was decided from was moved on by another request.
func isMovedOn(err error) bool {
	var ce *tlog.ConflictError
	return errors.As(err, &ce) && !ce.Fork
}

// origin is the origin line of the peer's log of a channel.
func (c *conn) origin(id string) (string, error) { return tlog.Origin(c.p.Name, id) }

// poll fetches the peer's checkpoint of ch and, when it is larger than the
// one cosigned here, decides it as the witness endpoint would, with the
// consistency proof built from the peer's tiles.
func (c *conn) poll(ctx context.Context, ch *dialogue.Channel) error {
	origin, err := c.origin(ch.ID)
	if err != nil {
		return err
	}
	fetch := c.fetcher(ch.ID)
	msg, err := fetch(ctx, "checkpoint")
	if dialogue.KindOf(err) == dialogue.KindNotFound {
		return nil // no entries there yet
	}
	if err != nil {
		return err
	}
	v, err := tlog.NewVerifier(c.p.LogKey)
	if err != nil {
		return err
	}
	s, err := tlog.Open(msg, origin, v)
	if err != nil {
		c.w.s.alarm(ctx, c.p.Name, dialogue.AlarmBadData, "its checkpoint of channel "+ch.ID+" does not verify: "+dialogue.Message(err))
		return err
	}
	size, root, err := c.w.s.st.WitnessLatest(ctx, origin)
	if err != nil {
		return err
	}
	if s.Size < size {
		// Its log is behind the checkpoint this node cosigned: restored
		// from an older copy? Its next push decides (a fork if it grows
		// another way); say it meanwhile.
		c.w.s.log.Warn("peer serves a checkpoint older than the one cosigned here", "peer", c.p.Name, "channel", ch.ID, "served", s.Size, "cosigned", size)
		return nil
	}
	if s.Size == size {
		if s.Hash != root && size > 0 {
			c.w.s.alarm(ctx, c.p.Name, dialogue.AlarmFork, fmt.Sprintf("its checkpoint of channel %s at size %d has another root than the one cosigned here", ch.ID, size))
			return dialogue.Errorf("peer.poll", dialogue.KindConflict, "peer %s: fork of channel %s at size %d", c.p.Name, ch.ID, size)
		}
		return nil
	}
	proof, err := tlog.ProveRemote(ctx, fetch, s.Size, s.Hash, size)
	if err != nil {
		if errors.Is(err, tlog.ErrVerify) {
			c.w.s.alarm(ctx, c.p.Name, dialogue.AlarmBadData, "its tiles of channel "+ch.ID+" do not match its checkpoint: "+dialogue.Message(err))
		}
		return err
	}
	body := (&tlog.AddCheckpointRequest{OldSize: size, Proof: proof, Checkpoint: msg}).Marshal()
	wit := tlog.NewWitness(c.w.s.cfg.Cosigner, logapi.NewWitnessState(c.w.s.st), map[string][]note.Verifier{origin: {v}})
	if _, err := wit.AddCheckpoint(ctx, body); err != nil {
		if errors.Is(err, tlog.ErrFork) || errors.Is(err, tlog.ErrBadProof) {
			c.w.s.alarm(ctx, c.p.Name, dialogue.AlarmFork, "checkpoint of channel "+ch.ID+" refused: "+dialogue.Message(err))
		}
		return err
	}
	return nil
}

// pull fetches the entries of the peer's log of ch that the checkpoint
// cosigned here adds to what is applied, checks each against it, and
// applies them in batches, each one transaction with the new applied size.
func (c *conn) pull(ctx context.Context, ch *dialogue.Channel) error {
	st := c.w.s.st
	origin, err := c.origin(ch.ID)
	if err != nil {
		return err
	}
	size, root, err := st.WitnessLatest(ctx, origin)
	if err != nil {
		return err
	}
	applied, err := st.Applied(ctx, c.p.Name, ch.ID)
	if err != nil {
		return err
	}
	if applied >= size {
		return nil
	}
	b := &dialogue.ApplyBatch{Peer: c.p.Name, CollectionID: ch.ID, From: applied}
	applyCtx := ctx
	flush := func(to int64) error {
		if to == b.From {
			return nil
		}
		b.To = to
		if err := c.refuseForeign(applyCtx, b); err != nil {
			return err
		}
		res, err := st.ApplyReceived(applyCtx, b)
		if err != nil {
			return err
		}
		for _, r := range res.Conflicts {
			c.w.s.log.Warn("object from peer skipped: this node holds the same version with other content", "peer", c.p.Name, "channel", ch.ID, "id", r.ID, "version", r.Version)
		}
		c.w.s.metrics.applied.WithLabelValues(c.p.Name).Add(float64(to - b.From))
		b = &dialogue.ApplyBatch{Peer: c.p.Name, CollectionID: ch.ID, From: to}
		return nil
	}
	limit := int64(c.w.s.cfg.ApplyBatch)
	done := applied // the entries before done are in b or applied
	err = tlog.ReadVerified(ctx, c.fetcher(ch.ID), size, tlog.Hash(root), applied, size, func(i int64, e []byte) error {
		kind, sum, n, err := tlog.ParseEntry(e)
		if err != nil {
			c.w.s.log.Warn("entry from peer skipped: not a Parley entry", "peer", c.p.Name, "channel", ch.ID, "index", i, "err", dialogue.Message(err))
		}
		var raw []byte
		switch kind {
		case tlog.EntryObject:
			raw = e
		case tlog.EntryObjectRef:
			if raw, err = c.largeObject(ctx, ch.ID, sum, n); err != nil {
				return err
			}
		case tlog.EntryBlob:
			b.Blobs = append(b.Blobs, dialogue.BlobRef{SHA256: sum, Size: n})
		}
		if raw != nil {
			o, _, err := ingest.Parse(raw)
			if err != nil {
				// The peer's node accepted it; this one does not (another
				// version of Parley?). Skipped, said, counted.
				c.w.s.log.Warn("object from peer skipped: it does not validate here", "peer", c.p.Name, "channel", ch.ID, "index", i, "err", dialogue.Message(err))
				c.w.s.metrics.invalid.WithLabelValues(c.p.Name).Inc()
			} else if err := c.checkParley(o.Type, raw); err != nil {
				// A dialogue object speaks for its party: one the peer
				// logged in another party's name is a forgery.
				c.w.s.alarm(ctx, c.p.Name, dialogue.AlarmBadData, dialogue.Message(err))
				c.w.s.metrics.invalid.WithLabelValues(c.p.Name).Inc()
			} else {
				b.Objects = append(b.Objects, &dialogue.Object{ID: o.ID, Type: o.Type, SpecVersion: o.SpecVersion, Created: o.Created, Modified: o.Modified, Raw: o.Raw})
				b.Indexes = append(b.Indexes, i)
			}
		}
		done = i + 1
		if done-b.From >= limit {
			return flush(done)
		}
		return nil
	})
	if errors.Is(err, tlog.ErrVerify) {
		c.w.s.alarm(ctx, c.p.Name, dialogue.AlarmBadData, "its entries of channel "+ch.ID+" do not match its cosigned checkpoint: "+dialogue.Message(err))
	}
	if err != nil {
		// Keep what was checked before the failure, even when the failure
		// is this node stopping.
		var cancel context.CancelFunc
		applyCtx, cancel = context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if ferr := flush(done); ferr != nil {
			c.w.s.log.Warn("applying entries from peer failed", "peer", c.p.Name, "channel", ch.ID, "err", dialogue.Message(ferr))
		}
		return err
	}
	return flush(size)
}

// refuseForeign takes out of b the objects the peer may not send
// (write.Received: another party's name, a new version of another
// party's object) and raises BAD-DATA for each: they are not applied,
// the rest is.
func (c *conn) refuseForeign(ctx context.Context, b *dialogue.ApplyBatch) error {
	refused, err := write.Received(ctx, c.w.s.st, c.w.s.self, c.p, b.CollectionID, b.Objects)
	if err != nil || len(refused) == 0 {
		return err
	}
	objs, idx := b.Objects[:0:0], b.Indexes[:0:0]
	for i, o := range b.Objects {
		if err := refused[i]; err != nil {
			c.w.s.alarm(ctx, c.p.Name, dialogue.AlarmBadData, dialogue.Message(err))
			c.w.s.metrics.invalid.WithLabelValues(c.p.Name).Inc()
			continue
		}
		objs = append(objs, o)
		if b.Indexes != nil {
			idx = append(idx, b.Indexes[i])
		}
	}
	b.Objects, b.Indexes = objs, idx
	return nil
}

// checkParley checks that a Parley dialogue object received from the
// peer names the peer's party as its creator, and that it passes the
// extension's JSON Schema as received (stix.ValidateParleyReceived: a
// transition from a peer running older code may still name its move
// "action"); a report, that it passes the schema when it carries Parley's
// property-extension.
func (c *conn) checkParley(typ string, raw []byte) error {
	if typ == "report" {
		if err := stix.ValidateParleyReceived(raw); err != nil {
			return dialogue.Errorf("peer.checkParley", dialogue.KindInvalid, "%s sent a report that breaks Parley's extension schema: %w", c.p.Name, err)
		}
		return nil
	}
	if !stix.IsParleyType(typ) {
		return nil
	}
	var probe struct {
		ID           string `json:"id"`
		CreatedByRef string `json:"created_by_ref"`
	}
	json.Unmarshal(raw, &probe)
	if want := IdentityID(c.p.LogKey); probe.CreatedByRef != want {
		return dialogue.Errorf("peer.checkParley", dialogue.KindInvalid, "%s sent %s with created_by_ref %q, not its own identity %s", c.p.Name, probe.ID, probe.CreatedByRef, want)
	}
	if err := stix.ValidateParleyReceived(raw); err != nil {
		return dialogue.Errorf("peer.checkParley", dialogue.KindInvalid, "%s sent %s, which breaks Parley's extension schema: %w", c.p.Name, probe.ID, err)
	}
	return nil
}

// largeObject fetches an object whose entry names it by hash, and checks
// it.
func (c *conn) largeObject(ctx context.Context, id string, sum [32]byte, size int64) ([]byte, error) {
	_, raw, err := c.do(ctx, http.MethodGet, ObjectsPath+"/"+id+"/"+hex.EncodeToString(sum[:]), nil, min(size, 64<<20))
	if err != nil {
		return nil, err
	}
	if int64(len(raw)) != size || sha256.Sum256(raw) != sum {
		err := dialogue.Errorf("peer.largeObject", dialogue.KindInvalid, "peer %s: object sha256:%x of channel %s: the bytes served do not match the log entry", c.p.Name, sum, id)
		c.w.s.alarm(ctx, c.p.Name, dialogue.AlarmBadData, dialogue.Message(err))
		return nil, err
	}
	return raw, nil
}

// fetchBlobs fetches the blobs the peer's entries name and this node does
// not keep yet.
func (c *conn) fetchBlobs(ctx context.Context) error {
	if c.w.s.cfg.Blobs == nil {
		return nil
	}
	st := c.w.s.st
	wanted, err := st.WantedBlobs(ctx, c.p.Name)
	if err != nil {
		return err
	}
	for _, ref := range wanted {
		err := c.w.s.cfg.Blobs.Fetch(ctx, c.client, c.url(BlobsPath+"/"+blob.Hex(ref.SHA256)), ref)
		if errors.Is(err, blob.ErrMismatch) {
			c.w.s.alarm(ctx, c.p.Name, dialogue.AlarmBadData, dialogue.Message(err))
		}
		if err != nil {
			return err
		}
		c.contacted.Store(true)
		if err := st.BlobFetched(ctx, ref.SHA256); err != nil {
			return err
		}
		c.w.s.metrics.blobs.WithLabelValues(c.p.Name).Inc()
	}
	return nil
}

func clip(s string) string { return dialogue.Clip(strings.TrimSpace(s), 200) }
