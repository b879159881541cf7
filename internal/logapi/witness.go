package logapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/mod/sumdb/note"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/httpapi"
	"github.com/parleyhq/parley/internal/tlog"
)

// WitnessPath is where the witness endpoint is mounted.
const WitnessPath = "/witness/add-checkpoint"

// ContentTypeSize is the media type of a 409 answer's body: the size the
// witness knows, in decimal, and a newline (C2SP tlog-witness).
const ContentTypeSize = "text/x.tlog.size"

// MaxWitnessBody caps an add-checkpoint request body.
const MaxWitnessBody = 64 << 10

// WitnessConfig configures the witness endpoint.
type WitnessConfig struct {
	// State keeps the latest cosigned checkpoint of each origin.
	State dialogue.LogStore
	// Cosigner signs cosignatures (tlog.NewCosigner from the node's log key).
	Cosigner note.Signer
	// Trusted are the verifier keys of the logs to witness. A key named N
	// vouches for the origins "N/parley/<collection>".
	Trusted []note.Verifier
	// Logs, when set, gives more trusted keys for the origin of one
	// request: with peering, the log key of the peer that the mutual-TLS
	// client is, for the channels active with it. An error refuses the
	// request (its kind picks the status).
	Logs func(r *http.Request, origin string) ([]note.Verifier, error)
	// Cosigned, when set, is called once a checkpoint is cosigned and
	// stored: with peering, the cue to fetch the new entries.
	Cosigned func(origin string, size int64)
	// Refused, when set, is called when a checkpoint that a trusted key
	// signed is refused as inconsistent with the one cosigned before (a
	// fork: ErrFork or ErrBadProof).
	Refused func(r *http.Request, origin string, err error)
	Logger  *slog.Logger
}

// NewWitnessHandler returns the C2SP tlog-witness handler for
// POST /witness/add-checkpoint. On success it answers 200 with the
// cosignature lines; otherwise 400 (malformed), 403 (bad signature), 404
// (unknown origin), 409 (stale old size, with the known size as a
// text/x.tlog.size body; or a fork), 422 (bad consistency proof).
//
// It needs no user: what it trusts is the log key pinned in the
// configuration, which signed the checkpoint, so any TLS client may ask.
// Once peering exists it will sit behind mutual TLS with the peers' pins.
func NewWitnessHandler(cfg WitnessConfig) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &witnessHandler{cfg: cfg}
}

type witnessHandler struct {
	cfg WitnessConfig
	mu  sync.Mutex // one decision at a time: check and store are atomic
}

func (h *witnessHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		textError(w, http.StatusMethodNotAllowed, "use POST")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxWitnessBody+1))
	if err != nil {
		if httpapi.IsTooLarge(err) {
			textError(w, http.StatusRequestEntityTooLarge, "request body too large")
			return
		}
		textError(w, http.StatusBadRequest, "reading the request body failed")
		return
	}
	if len(body) > MaxWitnessBody {
		textError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than %d bytes", MaxWitnessBody))
		return
	}
	sigs, origin, size, err := h.addCheckpoint(r, body)
	if err != nil {
		if h.cfg.Refused != nil && (errors.Is(err, tlog.ErrFork) || errors.Is(err, tlog.ErrBadProof)) {
			h.cfg.Refused(r, origin, err)
		}
		h.answerError(w, r, err)
		return
	}
	if h.cfg.Cosigned != nil {
		h.cfg.Cosigned(origin, size)
	}
	write(w, "text/plain; charset=utf-8", "no-store", sigs)
}

// addCheckpoint picks the trusted keys the checkpoint's origin names and
// lets tlog.Witness decide. It returns the cosignature lines, and the
// origin and size of the checkpoint.
func (h *witnessHandler) addCheckpoint(r *http.Request, body []byte) (sigs []byte, origin string, size int64, err error) {
	logs := make(map[string][]note.Verifier)
	if _, rest, ok := bytes.Cut(body, []byte("\n\n")); ok {
		origin, _, _ = strings.Cut(string(rest), "\n")
		if name, _, ok := strings.Cut(origin, tlog.OriginPart); ok {
			for _, v := range h.cfg.Trusted {
				if v.Name() == name {
					logs[origin] = append(logs[origin], v)
				}
			}
		}
		if h.cfg.Logs != nil {
			vs, err := h.cfg.Logs(r, origin)
			if err != nil {
				return nil, origin, 0, err
			}
			logs[origin] = append(logs[origin], vs...)
		}
		if len(logs[origin]) == 0 {
			delete(logs, origin)
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	wit := tlog.NewWitness(h.cfg.Cosigner, witnessState{h.cfg.State}, logs)
	sigs, err = wit.AddCheckpoint(r.Context(), body)
	if err != nil {
		return nil, origin, 0, err
	}
	if req, err := tlog.ParseAddCheckpoint(body); err == nil {
		if text, _, ok := bytes.Cut(req.Checkpoint, []byte("\n\n")); ok {
			if c, err := tlog.ParseCheckpoint(append(text, '\n')); err == nil {
				size = c.Size
			}
		}
	}
	return sigs, origin, size, nil
}

func (h *witnessHandler) answerError(w http.ResponseWriter, r *http.Request, err error) {
	var ce *tlog.ConflictError
	switch {
	case errors.As(err, &ce) && !ce.Fork:
		b := strconv.FormatUint(ce.Known, 10) + "\n"
		w.Header().Set("Content-Type", ContentTypeSize)
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.WriteHeader(http.StatusConflict)
		io.WriteString(w, b)
	case errors.Is(err, tlog.ErrMalformed):
		textError(w, http.StatusBadRequest, dialogue.Message(err))
	case errors.Is(err, tlog.ErrBadSignature):
		textError(w, http.StatusForbidden, dialogue.Message(err))
	case errors.Is(err, tlog.ErrUnknownOrigin):
		textError(w, http.StatusNotFound, dialogue.Message(err))
	case errors.Is(err, tlog.ErrFork):
		textError(w, http.StatusConflict, dialogue.Message(err))
	case errors.Is(err, tlog.ErrBadProof):
		textError(w, http.StatusUnprocessableEntity, dialogue.Message(err))
	case dialogue.KindOf(err) != dialogue.KindOther:
		textError(w, httpapi.StatusOf(err), dialogue.Message(err))
	default:
		h.cfg.Logger.ErrorContext(r.Context(), "witness request failed", "err", err)
		textError(w, http.StatusInternalServerError, "internal error")
	}
}

func textError(w http.ResponseWriter, status int, msg string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	io.WriteString(w, msg+"\n")
}

// NewWitnessState returns the store's witness table as a
// tlog.WitnessState, for a witness that decides in process (a peer polled
// instead of pushing).
func NewWitnessState(l dialogue.LogStore) tlog.WitnessState { return witnessState{l} }

// witnessState adapts the store's witness table to tlog.WitnessState.
type witnessState struct{ l dialogue.LogStore }

func (s witnessState) Latest(ctx context.Context, origin string) (int64, tlog.Hash, error) {
	size, root, err := s.l.WitnessLatest(ctx, origin)
	if err != nil {
		return 0, tlog.Hash{}, err
	}
	if size == 0 {
		return 0, tlog.EmptyRoot, nil
	}
	return size, tlog.Hash(root), nil
}

func (s witnessState) Store(ctx context.Context, oldSize int64, c tlog.Checkpoint, signed []byte) error {
	err := s.l.WitnessStore(ctx, c.Origin, oldSize, c.Size, c.Hash, signed)
	if dialogue.KindOf(err) == dialogue.KindConflict {
		// Another process moved the state: answer with the size it knows.
		if size, _, lerr := s.l.WitnessLatest(ctx, c.Origin); lerr == nil {
			return dialogue.E("logapi.witnessState.Store", dialogue.KindConflict, &tlog.ConflictError{Known: uint64(size)})
		}
	}
	return err
}
