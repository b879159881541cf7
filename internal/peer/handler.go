package peer

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
	"golang.org/x/mod/sumdb/note"

	"github.com/parleyhq/parley/internal/blob"
	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/httpapi"
	"github.com/parleyhq/parley/internal/logapi"
	"github.com/parleyhq/parley/internal/stix"
	"github.com/parleyhq/parley/internal/tlog"
)

// Handler returns the peer protocol, to mount with httpapi's MountPeer at
// "/peer/v1" (the paths ChannelsPath, ObjectsPath, BlobsPath): every
// request comes from a pinned peer (httpapi.PeerFrom).
func (s *Service) Handler() http.Handler {
	r := chi.NewRouter()
	r.Post("/channels", s.handleChannel)
	r.Get("/objects/{collection}/{sum}", s.handleLargeObject)
	if s.cfg.Blobs != nil {
		r.Mount("/blobs", http.StripPrefix("/peer/v1/blobs", blob.Handler(s.cfg.Blobs, s.allowBlob)))
	}
	return r
}

// WitnessHandler returns the witness endpoint (mount it with MountPublic
// at logapi.WitnessPath): a peer's checkpoints of the channels active with
// it are cosigned under its pinned log key, and, for a client that is no
// peer, those of the logs in trusted (the configuration's witness list).
func (s *Service) WitnessHandler(trusted []note.Verifier) http.Handler {
	return logapi.NewWitnessHandler(logapi.WitnessConfig{
		State:    s.st,
		Cosigner: s.cfg.Cosigner,
		Trusted:  trusted,
		Logs:     s.witnessLogs,
		Cosigned: s.Cosigned,
		Refused:  s.Refused,
		Logger:   s.log,
	})
}

// witnessLogs trusts the peer's log key for the origins of its channels
// active with this node, when the request comes from that peer.
func (s *Service) witnessLogs(r *http.Request, origin string) ([]note.Verifier, error) {
	p, ok := httpapi.PeerFrom(r.Context())
	if !ok {
		return nil, nil
	}
	name, id, ok := strings.Cut(origin, tlog.OriginPart)
	if !ok {
		return nil, nil // tlog.Witness says what is wrong with it
	}
	if name != p.Name {
		return nil, dialogue.Errorf("peer.witness", dialogue.KindForbidden, "peer %s sent a checkpoint of %s's log", p.Name, name)
	}
	if err := s.PeerCanRead(r.Context(), p, id); err != nil {
		return nil, err
	}
	v, err := tlog.NewVerifier(p.LogKey)
	if err != nil {
		return nil, err
	}
	s.touch(r.Context(), p)
	return []note.Verifier{v}, nil
}

// PeerCanRead allows a peer the collection of a channel active with it:
// KindNotFound otherwise, so that a peer learns nothing of other channels.
func (s *Service) PeerCanRead(ctx context.Context, p *dialogue.Peer, collectionID string) error {
	ch, err := s.st.Channel(ctx, collectionID)
	if err == nil && ch.ID == collectionID && ch.Peer == p.Name && ch.State == dialogue.ChannelActive {
		return nil
	}
	if err != nil && dialogue.KindOf(err) != dialogue.KindNotFound {
		return err
	}
	return dialogue.Errorf("peer.PeerCanRead", dialogue.KindNotFound, "no channel %s active with %s", clip(collectionID), p.Name)
}

// touch records contact with a peer that called.
func (s *Service) touch(ctx context.Context, p *dialogue.Peer) {
	if err := s.st.SetPeerContact(context.WithoutCancel(ctx), p.Name, s.cfg.Now()); err != nil {
		s.log.Warn("recording contact with a peer failed", "peer", p.Name, "err", err)
	}
}

// handleChannel takes a peer's channel message: a proposal is recorded as
// offered here (until `parley channel accept` or `decline`), unless the
// peer has MaxPending proposals waiting already (429, nothing stored); an
// acceptance of a channel this node proposed makes it active, a decline
// makes it declined. The answer is this node's state: a proposal of a
// channel declined here is answered "declined" and not offered again.
func (s *Service) handleChannel(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p, _ := httpapi.PeerFrom(ctx)
	var m ChannelMessage
	if err := decodeMessage(r, &m); err != nil {
		httpapi.Error(w, r, err)
		return
	}
	s.touch(ctx, p)
	now := s.cfg.Now()
	ch, err := s.st.Channel(ctx, m.ID)
	if err != nil && dialogue.KindOf(err) != dialogue.KindNotFound {
		httpapi.Error(w, r, err)
		return
	}
	if err == nil && ch.ID != m.ID {
		ch, err = nil, dialogue.ErrNotFound // found by title: another channel
	}
	switch {
	case ch != nil && ch.Peer != p.Name:
		httpapi.Error(w, r, dialogue.Errorf("peer.channel", dialogue.KindConflict, "channel %s is shared with another peer", m.ID))
		return
	case ch == nil && m.State == dialogue.ChannelProposed:
		ch = &dialogue.Channel{ID: m.ID, Title: m.Title, Description: m.Description, Peer: p.Name, State: dialogue.ChannelOffered, Incoming: true, CreatedAt: now}
		if err := s.st.OfferChannel(ctx, ch, s.cfg.MaxPending); err != nil {
			if errors.Is(err, dialogue.ErrTooManyProposals) {
				s.log.Warn("channel proposal refused: too many waiting", "peer", p.Name, "channel", m.ID, "max", s.cfg.MaxPending)
				err = httpapi.WithStatus(http.StatusTooManyRequests, dialogue.Errorf("peer.channel", dialogue.KindConflict,
					"%d of your channel proposals wait here already, the most this node keeps: ask its administrator to accept or decline them (parley channel list)", s.cfg.MaxPending))
			}
			httpapi.Error(w, r, err)
			return
		}
		s.log.Info("channel proposed by a peer; accept it with 'parley channel accept'", "peer", p.Name, "channel", m.ID, "title", m.Title)
	case ch == nil:
		httpapi.Error(w, r, dialogue.Errorf("peer.channel", dialogue.KindNotFound, "no channel %s here: propose it first", m.ID))
		return
	case m.State == dialogue.ChannelDeclined && ch.State == dialogue.ChannelProposed:
		if ch, err = s.st.DeclineChannel(ctx, ch.ID, p.Name); err != nil {
			httpapi.Error(w, r, err)
			return
		}
		s.log.Info("channel declined by the peer", "peer", p.Name, "channel", ch.ID, "title", ch.Title)
	case m.State == dialogue.ChannelActive && ch.State == dialogue.ChannelProposed:
		if err := s.st.ActivateChannel(ctx, ch.ID, p.Name, now); err != nil {
			httpapi.Error(w, r, err)
			return
		}
		s.log.Info("channel accepted by the peer", "peer", p.Name, "channel", ch.ID, "title", ch.Title)
		// Say it back, and start pushing what waited.
		if err := s.st.SetChannelNotified(ctx, ch.ID, dialogue.ChannelActive); err != nil {
			httpapi.Error(w, r, err)
			return
		}
		ch.State = dialogue.ChannelActive
		s.wake(p.Name)
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(ChannelMessage{ID: ch.ID, Title: ch.Title, Description: ch.Description, State: ch.State})
}

// decodeMessage reads a channel message strictly, naming what is wrong.
func decodeMessage(r *http.Request, m *ChannelMessage) error {
	const op = "peer.channelMessage"
	body, err := io.ReadAll(io.LimitReader(r.Body, maxMessage+1))
	if err != nil {
		return dialogue.E(op, dialogue.KindInvalid, err)
	}
	if len(body) > maxMessage {
		return dialogue.Errorf(op, dialogue.KindTooLarge, "channel message over %d bytes", maxMessage)
	}
	return ParseChannelMessage(body, m)
}

// ParseChannelMessage decodes and checks a channel message: unknown
// fields, a missing or malformed id, an empty title or an unknown state
// are errors of kind KindInvalid naming the field.
func ParseChannelMessage(body []byte, m *ChannelMessage) error {
	const op = "peer.ParseChannelMessage"
	// encoding/json would take the last of two members of one name
	if err := stix.CheckJSON(body); err != nil {
		return dialogue.Errorf(op, dialogue.KindInvalid, "channel message: %v", jsonProblem(err))
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(m); err != nil {
		return dialogue.Errorf(op, dialogue.KindInvalid, "channel message: %v", err)
	}
	if dec.More() {
		return dialogue.Errorf(op, dialogue.KindInvalid, "channel message: data after the JSON object")
	}
	switch {
	case !isUUID(m.ID):
		return dialogue.Errorf(op, dialogue.KindInvalid, "channel message: id %q: want a UUID (the collection id)", clip(m.ID))
	case strings.TrimSpace(m.Title) == "" || len(m.Title) > 200:
		return dialogue.Errorf(op, dialogue.KindInvalid, "channel message: title: want 1 to 200 characters")
	case len(m.Description) > 4000:
		return dialogue.Errorf(op, dialogue.KindInvalid, "channel message: description: over 4000 characters")
	case m.State != dialogue.ChannelProposed && m.State != dialogue.ChannelActive && m.State != dialogue.ChannelDeclined:
		return dialogue.Errorf(op, dialogue.KindInvalid, "channel message: state %q: want %q, %q or %q", clip(string(m.State)), dialogue.ChannelProposed, dialogue.ChannelActive, dialogue.ChannelDeclined)
	}
	return nil
}

// jsonProblem words an error of stix.CheckJSON for a message that is not
// a STIX object: what is wrong, and where.
func jsonProblem(err error) string {
	if es, ok := err.(stix.Errors); ok && len(es) > 0 {
		if es[0].Pointer == "" {
			return es[0].Message
		}
		return es[0].Message + " (at " + es[0].Pointer + ")"
	}
	return err.Error()
}

// isUUID reports whether s is a UUID in its canonical lower-case form.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := range len(s) {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
				return false
			}
		}
	}
	return true
}

// handleLargeObject serves an object too large for a log entry to a peer
// that may read the channel.
func (s *Service) handleLargeObject(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p, _ := httpapi.PeerFrom(ctx)
	id := chi.URLParam(r, "collection")
	if err := s.PeerCanRead(ctx, p, id); err != nil {
		httpapi.Error(w, r, err)
		return
	}
	sum, err := parseSum(chi.URLParam(r, "sum"))
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	raw, err := s.st.LargeObject(ctx, id, sum)
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/stix+json;version=2.1")
	w.Write(raw)
}

func parseSum(s string) ([32]byte, error) {
	var sum [32]byte
	if len(s) != 64 {
		return sum, dialogue.Errorf("peer.sum", dialogue.KindInvalid, "sha256 %q: want 64 lower-case hex digits", clip(s))
	}
	if _, err := hex.Decode(sum[:], []byte(s)); err != nil || strings.ToLower(s) != s {
		return sum, dialogue.Errorf("peer.sum", dialogue.KindInvalid, "sha256 %q: want 64 lower-case hex digits", clip(s))
	}
	return sum, nil
}

// allowBlob lets a peer fetch a blob entered in a channel active with it.
func (s *Service) allowBlob(r *http.Request, sum [32]byte) error {
	ctx := r.Context()
	p, ok := httpapi.PeerFrom(ctx)
	if !ok {
		return dialogue.Errorf("peer.blob", dialogue.KindForbidden, "blobs are for peers only")
	}
	chans, err := s.st.Channels(ctx)
	if err != nil {
		return err
	}
	for _, ch := range chans {
		if ch.Peer != p.Name || ch.State != dialogue.ChannelActive {
			continue
		}
		in, err := s.blobIn(ctx, ch.ID, sum)
		if err != nil {
			return err
		}
		if in {
			return nil
		}
	}
	return dialogue.Errorf("peer.blob", dialogue.KindNotFound, "no blob sha256:%x in a channel active with %s", sum, p.Name)
}

// blobIn reports whether the blob is entered in the collection's log.
func (s *Service) blobIn(ctx context.Context, collectionID string, sum [32]byte) (bool, error) {
	type blobFinder interface {
		BlobInLog(ctx context.Context, collectionID string, sum [32]byte) (bool, error)
	}
	if f, ok := s.st.(blobFinder); ok {
		return f.BlobInLog(ctx, collectionID, sum)
	}
	return false, fmt.Errorf("peer.blob: the store cannot tell which log names a blob")
}
