// Package logapi serves a node's record over HTTP: each collection's log,
// read-only, as C2SP tlog-tiles under /log/<collection-id>/ (checkpoint,
// hash tiles, entry bundles) with JSON inclusion and consistency proofs;
// the C2SP tlog-witness endpoint POST /witness/add-checkpoint that
// cosigns the checkpoints of the logs this node trusts; and the client
// side of that endpoint (AddCheckpoint).
//
// It must not sign checkpoints, append entries or decide anything about
// Merkle trees itself: the store (dialogue.LogStore) keeps the log and the
// witness state, package tlog builds tiles and proofs and decides witness
// requests, and package httpapi authenticates users and maps error kinds
// to statuses.
package logapi

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/httpapi"
	"github.com/parleyhq/parley/internal/tlog"
)

// Config configures the log handler.
type Config struct {
	// Store finds collections and says who may read them.
	Store dialogue.Store
	// Log reads the collections' logs.
	Log dialogue.LogStore
	// FindLeaf, when set, finds the index of the entry with a leaf hash
	// (KindNotFound when none), for inclusion proofs asked by leaf=.
	FindLeaf func(ctx context.Context, collectionID string, leaf [32]byte) (int64, error)
	// PeerCanRead, when set, says whether a peer node (a request without a
	// user, from a pinned client certificate: httpapi.PeerFrom) may read
	// a collection's log: nil when it may (the collection of an active
	// channel shared with it), else an error of kind KindForbidden or
	// KindNotFound, answered 403 or 404. When nil, peers may read no log.
	PeerCanRead func(ctx context.Context, peer *dialogue.Peer, collectionID string) error
	// Gate decides what a user may read (docs/design/access.md): the
	// checkpoint, hash tiles and consistency proofs of a collection it may
	// read; an entry bundle only when it may see every entry of it; an
	// inclusion proof only of an entry it may see. Required for users:
	// without it, users read no log.
	Gate *dialogue.Gate
	// LargeObject, when set, returns the bytes of an object whose entry
	// names it by hash (dialogue.PeerStore.LargeObject), so that the gate
	// can decide on it; without it such entries count as hidden from users.
	LargeObject func(ctx context.Context, collectionID string, sum [32]byte) ([]byte, error)
}

// Media types of the log resources.
const (
	ContentTypeCheckpoint = "text/plain; charset=utf-8"
	ContentTypeTile       = "application/octet-stream"
	ContentTypeJSON       = "application/json"
)

// cacheFull is the Cache-Control of a full tile or entry bundle, which
// never changes; partial tiles and the checkpoint are revalidated. They
// are "private" because reading a log needs a user or a peer.
const (
	cacheFull    = "private, max-age=31536000, immutable"
	cachePartial = "private, no-cache"
)

// NewHandler returns the read-only log handler, to mount at /log behind
// authentication (httpapi.Server.MountShared, for users and peers): GET
// /log/<collection-id>/checkpoint, /log/<collection-id>/tile/...,
// /log/<collection-id>/proof/inclusion and
// /log/<collection-id>/proof/consistency. A collection's log is readable
// by the users who may read the collection, and by the peers
// Config.PeerCanRead allows.
func NewHandler(cfg Config) http.Handler {
	h := &handler{cfg: cfg}
	r := chi.NewRouter()
	r.Get("/{collection}/checkpoint", h.checkpoint)
	r.Get("/{collection}/tile/*", h.tile)
	r.Get("/{collection}/proof/inclusion", h.inclusion)
	r.Get("/{collection}/proof/consistency", h.consistency)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		httpapi.Error(w, r, dialogue.Errorf("logapi", dialogue.KindNotFound, "no log resource at %s", r.URL.Path))
	})
	return r
}

type handler struct {
	cfg Config
}

// collection finds the collection named in the URL by id and checks that
// the user, or else the peer, the request comes from may read it.
func (h *handler) collection(r *http.Request) (string, error) {
	const op = "logapi.collection"
	ctx := r.Context()
	id := chi.URLParam(r, "collection")
	u := httpapi.UserFrom(ctx)
	if u == nil {
		peer, ok := httpapi.PeerFrom(ctx)
		if !ok {
			return "", dialogue.Errorf(op, dialogue.KindUnauthenticated, "authentication required")
		}
		// A peer is asked about first, so that it learns nothing of the
		// collections it does not share.
		if err := h.peerCanRead(ctx, peer, id); err != nil {
			return "", err
		}
	}
	c, err := h.cfg.Store.FindCollection(ctx, id)
	if err == nil && c.ID != id {
		err = dialogue.ErrNotFound // logs are named by collection id only
	}
	if err != nil {
		if errors.Is(err, dialogue.ErrNotFound) || dialogue.KindOf(err) == dialogue.KindNotFound {
			return "", dialogue.Errorf(op, dialogue.KindNotFound, "no collection %q", clip(id))
		}
		return "", dialogue.E(op, dialogue.KindOther, err)
	}
	if u == nil {
		return c.ID, nil // a peer, allowed above
	}
	if h.cfg.Gate == nil {
		return "", dialogue.Errorf(op, dialogue.KindForbidden, "this node serves no logs to users")
	}
	if err := h.cfg.Gate.CheckRead(ctx, dialogue.UserViewer(u), c.ID); err != nil {
		if dialogue.KindOf(err) == dialogue.KindNotFound {
			return "", dialogue.Errorf(op, dialogue.KindNotFound, "no collection %q", clip(id))
		}
		return "", dialogue.E(op, dialogue.KindOther, err)
	}
	return c.ID, nil
}

// entriesVisible returns nil when the request's viewer may see every
// entry of entries (the log of collection id, from index start): a peer
// sees all of a channel it may read; a user, through the gate, each
// object, large object and evidence file the entries name. Else an error
// of kind KindForbidden naming the first hidden entry by index only.
func (h *handler) entriesVisible(r *http.Request, id string, start int64, entries [][]byte) error {
	ctx := r.Context()
	u := httpapi.UserFrom(ctx)
	if u == nil {
		return nil // a peer of the channel, allowed by collection
	}
	v := dialogue.UserViewer(u)
	view := h.cfg.Gate.View(v, id)
	for k, e := range entries {
		ok, err := h.entryVisible(ctx, view, v, id, e)
		if err != nil {
			return err
		}
		if !ok {
			return dialogue.Errorf("logapi", dialogue.KindForbidden, "entry %d of the log of collection %s is not yours to read (its object's TLP marking or your grant): read the hash tiles and proofs to check the log, and the objects you may see through TAXII or the API", start+int64(k), id)
		}
	}
	return nil
}

// entryVisible reports whether the gate lets v see what one entry holds.
func (h *handler) entryVisible(ctx context.Context, view *dialogue.TLPView, v dialogue.Viewer, id string, e []byte) (bool, error) {
	kind, sum, _, err := tlog.ParseEntry(e)
	if err != nil {
		return false, nil // not an entry this node reads: not served to users
	}
	var raw []byte
	switch kind {
	case tlog.EntryObject:
		raw = e
	case tlog.EntryObjectRef:
		if h.cfg.LargeObject == nil {
			return false, nil
		}
		if raw, err = h.cfg.LargeObject(ctx, id, sum); err != nil {
			if dialogue.KindOf(err) == dialogue.KindNotFound {
				return false, nil
			}
			return false, err
		}
	case tlog.EntryBlob:
		err := h.cfg.Gate.CheckEvidence(ctx, v, id, hex.EncodeToString(sum[:]))
		if dialogue.KindOf(err) == dialogue.KindNotFound {
			return false, nil
		}
		return err == nil, err
	default:
		return false, nil
	}
	var p struct {
		ID   string `json:"id"`
		Type string `json:"type"`
	}
	if json.Unmarshal(raw, &p) != nil {
		return false, nil
	}
	return view.Visible(ctx, &dialogue.Object{ID: p.ID, Type: p.Type, Raw: raw})
}

// peerCanRead asks Config.PeerCanRead; its refusals keep their kind
// (KindForbidden, KindNotFound), any other failure is internal.
func (h *handler) peerCanRead(ctx context.Context, peer *dialogue.Peer, id string) error {
	const op = "logapi.peerCanRead"
	if h.cfg.PeerCanRead == nil {
		return dialogue.Errorf(op, dialogue.KindForbidden, "this node serves no logs to peers")
	}
	err := h.cfg.PeerCanRead(ctx, peer, id)
	switch dialogue.KindOf(err) {
	case dialogue.KindForbidden, dialogue.KindNotFound, dialogue.KindUnavailable:
		return dialogue.E(op, dialogue.KindOf(err), err)
	}
	if err != nil {
		return dialogue.E(op, dialogue.KindOther, err)
	}
	return nil
}

// latest returns the collection's newest checkpoint; a log without one is
// KindNotFound.
func (h *handler) latest(r *http.Request, id string) (*dialogue.Checkpoint, error) {
	cp, err := h.cfg.Log.LatestCheckpoint(r.Context(), id)
	if err != nil {
		if dialogue.KindOf(err) == dialogue.KindNotFound {
			return nil, dialogue.Errorf("logapi", dialogue.KindNotFound, "the log of collection %s has no checkpoint yet (no entries)", id)
		}
		return nil, dialogue.E("logapi", dialogue.KindOther, err)
	}
	return cp, nil
}

func (h *handler) checkpoint(w http.ResponseWriter, r *http.Request) {
	id, err := h.collection(r)
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	cp, err := h.latest(r, id)
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	write(w, ContentTypeCheckpoint, cachePartial, cp.Note)
}

func (h *handler) tile(w http.ResponseWriter, r *http.Request) {
	id, err := h.collection(r)
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	t, err := tlog.ParseTilePath("tile/" + chi.URLParam(r, "*"))
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	// Tiles are served for the tree of the latest checkpoint, so that what
	// a client fetches after reading the checkpoint is all there.
	cp, err := h.latest(r, id)
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	if !tlog.TileInTree(t, cp.Size) {
		httpapi.Error(w, r, dialogue.Errorf("logapi", dialogue.KindNotFound, "%s is not in the tree of size %d", tlog.TilePath(t), cp.Size))
		return
	}
	var data []byte
	if t.L < 0 {
		start, end := tlog.EntryRange(t)
		var entries [][]byte
		entries, err = h.cfg.Log.LogEntries(r.Context(), id, start, end)
		if err == nil && len(entries) != int(end-start) {
			err = dialogue.Errorf("logapi", dialogue.KindOther, "store returned %d entries for [%d, %d)", len(entries), start, end)
		}
		if err == nil {
			if verr := h.entriesVisible(r, id, start, entries); verr != nil {
				httpapi.Error(w, r, verr)
				return
			}
			data, err = tlog.EntryBundle(entries)
		}
	} else {
		data, err = tlog.ReadTile(t, cp.Size, Hashes(r.Context(), h.cfg.Log, id))
	}
	if err != nil {
		httpapi.Error(w, r, dialogue.E("logapi", dialogue.KindOther, err))
		return
	}
	cache := cachePartial
	if t.W == tlog.TileWidth {
		cache = cacheFull
	}
	write(w, ContentTypeTile, cache, data)
}

func (h *handler) inclusion(w http.ResponseWriter, r *http.Request) {
	id, err := h.collection(r)
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	q, err := ParseInclusionQuery(r.URL.RawQuery)
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	cp, err := h.latest(r, id)
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	size := q.Size
	if size == 0 {
		size = cp.Size
	}
	if size > cp.Size {
		httpapi.Error(w, r, dialogue.Errorf("logapi", dialogue.KindNotFound, "size %d is beyond the latest checkpoint's %d", size, cp.Size))
		return
	}
	index := q.Index
	if q.HasLeaf {
		if h.cfg.FindLeaf == nil {
			httpapi.Error(w, r, dialogue.Errorf("logapi", dialogue.KindInvalid, "this node cannot look up a leaf by hash yet: ask by index=N"))
			return
		}
		index, err = h.cfg.FindLeaf(r.Context(), id, q.Leaf)
		if err != nil {
			if dialogue.KindOf(err) == dialogue.KindNotFound {
				err = dialogue.Errorf("logapi", dialogue.KindNotFound, "no entry to prove in the tree of size %d (or not one you may read)", size)
			}
			httpapi.Error(w, r, err)
			return
		}
	}
	// An inclusion proof confirms that an entry is there: only of an entry
	// the viewer may see, else as for a leaf that is not in the log.
	if index >= 0 && index < size {
		entries, err := h.cfg.Log.LogEntries(r.Context(), id, index, index+1)
		if err == nil && len(entries) == 1 {
			err = h.entriesVisible(r, id, index, entries)
		}
		if err != nil {
			if k := dialogue.KindOf(err); k == dialogue.KindForbidden || k == dialogue.KindNotFound {
				err = dialogue.Errorf("logapi", dialogue.KindNotFound, "no entry to prove in the tree of size %d (or not one you may read)", size)
			}
			httpapi.Error(w, r, err)
			return
		}
	}
	p, err := tlog.Prove(index, size, Hashes(r.Context(), h.cfg.Log, id))
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	writeJSON(w, p)
}

func (h *handler) consistency(w http.ResponseWriter, r *http.Request) {
	id, err := h.collection(r)
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	q, err := ParseConsistencyQuery(r.URL.RawQuery)
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	cp, err := h.latest(r, id)
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	size := q.New
	if size == 0 {
		size = cp.Size
	}
	if size > cp.Size {
		httpapi.Error(w, r, dialogue.Errorf("logapi", dialogue.KindNotFound, "new size %d is beyond the latest checkpoint's %d", size, cp.Size))
		return
	}
	if q.Old > size {
		httpapi.Error(w, r, dialogue.Errorf("logapi", dialogue.KindInvalid, "parameter old: %d is above the new size %d", q.Old, size))
		return
	}
	p, err := tlog.ProveConsistency(q.Old, size, Hashes(r.Context(), h.cfg.Log, id))
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	writeJSON(w, p)
}

// Hashes reads a collection's stored hashes as a tlog.HashReader.
func Hashes(ctx context.Context, l dialogue.LogStore, collectionID string) tlog.HashReader {
	return tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		hs, err := l.LogHashes(ctx, collectionID, indexes)
		if err != nil {
			return nil, err
		}
		if len(hs) != len(indexes) {
			return nil, dialogue.Errorf("logapi.Hashes", dialogue.KindOther, "store returned %d hashes for %d indexes", len(hs), len(indexes))
		}
		out := make([]tlog.Hash, len(hs))
		for i, h := range hs {
			out[i] = tlog.Hash(h)
		}
		return out, nil
	})
}

// InclusionQuery is the query of an inclusion proof request:
// leaf=<base64 or hex leaf hash> or index=<N>, and optionally size=<N>
// (0: the latest checkpoint's size).
type InclusionQuery struct {
	Leaf    [32]byte
	HasLeaf bool
	Index   int64
	Size    int64
}

// ConsistencyQuery is the query of a consistency proof request: old=<M>
// and optionally new=<N> (0: the latest checkpoint's size).
type ConsistencyQuery struct {
	Old, New int64
}

// ParseInclusionQuery parses the query string of an inclusion proof
// request. Errors (KindInvalid) name the parameter and the reason.
func ParseInclusionQuery(raw string) (*InclusionQuery, error) {
	const op = "logapi.ParseInclusionQuery"
	vals, err := parseQuery(op, raw, "leaf", "index", "size")
	if err != nil {
		return nil, err
	}
	q := &InclusionQuery{}
	leaf, hasLeaf := vals["leaf"]
	idx, hasIndex := vals["index"]
	switch {
	case hasLeaf && hasIndex:
		return nil, dialogue.Errorf(op, dialogue.KindInvalid, "give parameter leaf or index, not both")
	case !hasLeaf && !hasIndex:
		return nil, dialogue.Errorf(op, dialogue.KindInvalid, "parameter leaf (a leaf hash) or index (an entry index) is required")
	case hasLeaf:
		h, err := ParseLeafHash(leaf)
		if err != nil {
			return nil, dialogue.Errorf(op, dialogue.KindInvalid, "parameter leaf: %v", err)
		}
		q.Leaf, q.HasLeaf = h, true
	default:
		if q.Index, err = parseSize(op, "index", idx); err != nil {
			return nil, err
		}
	}
	if s, ok := vals["size"]; ok {
		if q.Size, err = parseSize(op, "size", s); err != nil {
			return nil, err
		}
		if q.Size == 0 {
			return nil, dialogue.Errorf(op, dialogue.KindInvalid, "parameter size: 0 has no leaves")
		}
		if !q.HasLeaf && q.Index >= q.Size {
			return nil, dialogue.Errorf(op, dialogue.KindInvalid, "parameter index: %d is not below size %d", q.Index, q.Size)
		}
	}
	return q, nil
}

// ParseConsistencyQuery parses the query string of a consistency proof
// request. Errors (KindInvalid) name the parameter and the reason.
func ParseConsistencyQuery(raw string) (*ConsistencyQuery, error) {
	const op = "logapi.ParseConsistencyQuery"
	vals, err := parseQuery(op, raw, "old", "new")
	if err != nil {
		return nil, err
	}
	q := &ConsistencyQuery{}
	o, ok := vals["old"]
	if !ok {
		return nil, dialogue.Errorf(op, dialogue.KindInvalid, "parameter old (the old tree size) is required")
	}
	if q.Old, err = parseSize(op, "old", o); err != nil {
		return nil, err
	}
	if n, ok := vals["new"]; ok {
		if q.New, err = parseSize(op, "new", n); err != nil {
			return nil, err
		}
		if q.New == 0 {
			return nil, dialogue.Errorf(op, dialogue.KindInvalid, "parameter new: 0 is not a tree with entries")
		}
		if q.Old > q.New {
			return nil, dialogue.Errorf(op, dialogue.KindInvalid, "parameter old: %d is above new %d", q.Old, q.New)
		}
	}
	return q, nil
}

// parseQuery splits a query string strictly: only the known parameters,
// each at most once.
func parseQuery(op, raw string, known ...string) (map[string]string, error) {
	vals := make(map[string]string)
	if raw == "" {
		return vals, nil
	}
	for _, kv := range strings.Split(raw, "&") {
		k, v, _ := strings.Cut(kv, "=")
		if !contains(known, k) {
			return nil, dialogue.Errorf(op, dialogue.KindInvalid, "parameter %q: unknown (want %s)", clip(k), strings.Join(known, ", "))
		}
		if _, dup := vals[k]; dup {
			return nil, dialogue.Errorf(op, dialogue.KindInvalid, "parameter %s: given twice", k)
		}
		// PathUnescape, not QueryUnescape: a '+' of base64 stays a '+'.
		u, err := url.PathUnescape(v)
		if err != nil {
			return nil, dialogue.Errorf(op, dialogue.KindInvalid, "parameter %s: bad percent-encoding", k)
		}
		vals[k] = u
	}
	return vals, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// parseSize parses a decimal size or index: digits only, no leading zero.
func parseSize(op, name, s string) (int64, error) {
	if s == "" {
		return 0, dialogue.Errorf(op, dialogue.KindInvalid, "parameter %s: empty", name)
	}
	if len(s) > 1 && s[0] == '0' {
		return 0, dialogue.Errorf(op, dialogue.KindInvalid, "parameter %s: %q has a leading zero", name, clip(s))
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, dialogue.Errorf(op, dialogue.KindInvalid, "parameter %s: %q is not a decimal number", name, clip(s))
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, dialogue.Errorf(op, dialogue.KindInvalid, "parameter %s: %q is too large", name, clip(s))
	}
	return n, nil
}

// ParseLeafHash parses a leaf hash given as 64 hex digits or as standard
// (or URL-safe) base64 of 32 bytes.
func ParseLeafHash(s string) ([32]byte, error) {
	var h [32]byte
	if len(s) == 64 {
		if b, err := hex.DecodeString(s); err == nil {
			copy(h[:], b)
			return h, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
		if b, err := enc.Strict().DecodeString(s); err == nil && len(b) == 32 {
			copy(h[:], b)
			return h, nil
		}
	}
	return h, errors.New(strconv.Quote(clip(s)) + " is neither 64 hex digits nor the base64 of 32 bytes")
}

func clip(s string) string { return dialogue.Clip(s, 80) }

func write(w http.ResponseWriter, contentType, cache string, data []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Cache-Control", cache)
	h.Set("Content-Length", strconv.Itoa(len(data)))
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	w.Write(data)
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	write(w, ContentTypeJSON, "no-store", append(b, '\n'))
}
