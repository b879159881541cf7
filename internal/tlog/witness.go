package tlog

import (
	"bytes"
	"context"
	"strings"
	"sync"

	"golang.org/x/mod/sumdb/note"
)

// AddCheckpointRequest is the body of a C2SP tlog-witness add-checkpoint
// request.
type AddCheckpointRequest struct {
	// OldSize is the size of the checkpoint the client believes the witness
	// last cosigned.
	OldSize int64
	// Proof is the consistency proof from OldSize to the checkpoint's size.
	Proof []Hash
	// Checkpoint is the signed checkpoint note, as sent.
	Checkpoint []byte
}

// MaxWitnessProof is the most consistency-proof lines a request may have.
const MaxWitnessProof = 63

// Marshal returns the request body: "old <N>", the proof lines, an empty
// line and the signed checkpoint.
func (r *AddCheckpointRequest) Marshal() []byte {
	var b bytes.Buffer
	b.WriteString("old ")
	b.WriteString(formatDecimal(r.OldSize))
	b.WriteByte('\n')
	for _, h := range r.Proof {
		b.WriteString(h.String())
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.Write(r.Checkpoint)
	return b.Bytes()
}

// ParseAddCheckpoint parses an add-checkpoint request body. Errors are
// ErrMalformed (400) and name the line and the reason. The checkpoint
// note is not verified here.
func ParseAddCheckpoint(body []byte) (*AddCheckpointRequest, error) {
	const op = "tlog.ParseAddCheckpoint"
	bad := func(format string, args ...any) (*AddCheckpointRequest, error) {
		return nil, errorf(op, ErrMalformed, "add-checkpoint request "+format, args...)
	}
	rest := body
	line := func() (string, bool) {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			return "", false
		}
		l := string(rest[:i])
		rest = rest[i+1:]
		return l, true
	}
	first, ok := line()
	if !ok {
		return bad("line 1: no newline")
	}
	size, found := strings.CutPrefix(first, "old ")
	if !found {
		return bad("line 1: %q is not \"old <size>\"", clip(first))
	}
	n, err := parseDecimal(size)
	if err != nil {
		return bad("line 1 (old size) %q: %v", clip(size), err)
	}
	req := &AddCheckpointRequest{OldSize: n, Proof: []Hash{}}
	for lineNo := 2; ; lineNo++ {
		l, ok := line()
		if !ok {
			return bad("line %d: no empty line before the checkpoint", lineNo)
		}
		if l == "" {
			break
		}
		if len(req.Proof) == MaxWitnessProof {
			return bad("line %d: more than %d consistency proof lines", lineNo, MaxWitnessProof)
		}
		h, err := parseHash(l)
		if err != nil {
			return bad("line %d (consistency proof hash) %q: %v", lineNo, clip(l), err)
		}
		req.Proof = append(req.Proof, h)
	}
	if len(rest) == 0 {
		return bad("has no checkpoint after the empty line")
	}
	if n == 0 && len(req.Proof) > 0 {
		return bad("has %d proof lines with old size 0, want none", len(req.Proof))
	}
	req.Checkpoint = rest
	return req, nil
}

func formatDecimal(n int64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return string(b[i:])
}

// WitnessState keeps, per log origin, the latest checkpoint a witness
// cosigned. A store implements it in a table.
type WitnessState interface {
	// Latest returns the size and root hash of the latest checkpoint
	// cosigned for origin, or size 0 and EmptyRoot when there is none.
	Latest(ctx context.Context, origin string) (size int64, root Hash, err error)
	// Store records a newly cosigned checkpoint (its parsed form and the
	// signed note as received) as the latest for its origin. The witness
	// calls it under its lock; a store shared by several processes must
	// also refuse to replace a checkpoint whose size is not oldSize.
	Store(ctx context.Context, oldSize int64, c Checkpoint, signed []byte) error
}

// Witness decides add-checkpoint requests for the logs it trusts, per C2SP
// tlog-witness, and cosigns with cosignature/v1.
type Witness struct {
	cosigner note.Signer
	state    WitnessState
	logs     map[string][]note.Verifier

	mu sync.Mutex // checks and Store are atomic (the spec's race)
}

// NewWitness returns a witness that cosigns with cosigner (see NewCosigner)
// the checkpoints of the logs given as origin → trusted verifier keys.
func NewWitness(cosigner note.Signer, state WitnessState, logs map[string][]note.Verifier) *Witness {
	m := make(map[string][]note.Verifier, len(logs))
	for o, vs := range logs {
		m[o] = append([]note.Verifier(nil), vs...)
	}
	return &Witness{cosigner: cosigner, state: state, logs: m}
}

// AddCheckpoint decides one add-checkpoint request body. On success it
// returns the cosignature lines to answer with 200 (each "— <name>
// <base64>\n"). Otherwise the error is, with errors.Is: ErrMalformed
// (400), ErrUnknownOrigin (404), ErrBadSignature (403), ErrStaleSize (409,
// a *ConflictError whose Known size is the answer's body), ErrFork (409),
// ErrBadProof (422), or an internal error from the state.
func (w *Witness) AddCheckpoint(ctx context.Context, body []byte) ([]byte, error) {
	const op = "tlog.Witness.AddCheckpoint"
	req, err := ParseAddCheckpoint(body)
	if err != nil {
		return nil, err
	}
	// The origin is the first line of the note; it picks the keys.
	origin, _, _ := strings.Cut(string(req.Checkpoint), "\n")
	keys, ok := w.logs[origin]
	if !ok {
		return nil, errorf(op, ErrUnknownOrigin, "checkpoint origin %q is not a log this witness knows", clip(origin))
	}
	n, err := note.Open(req.Checkpoint, note.VerifierList(keys...))
	if err != nil {
		var unverified *note.UnverifiedNoteError
		var invalid *note.InvalidSignatureError
		switch {
		case asErr(err, &unverified):
			return nil, errorf(op, ErrBadSignature, "checkpoint for %s: no signature by a trusted key", origin)
		case asErr(err, &invalid):
			return nil, errorf(op, ErrBadSignature, "checkpoint for %s: signature by %s does not verify", origin, invalid.Name)
		}
		return nil, wrapf(op, ErrMalformed, err, "checkpoint note")
	}
	c, err := ParseCheckpoint([]byte(n.Text))
	if err != nil {
		return nil, err
	}
	if req.OldSize > c.Size {
		return nil, errorf(op, ErrMalformed, "old size %d is above the checkpoint size %d", req.OldSize, c.Size)
	}

	w.mu.Lock()
	defer w.mu.Unlock()
	size, root, err := w.state.Latest(ctx, origin)
	if err != nil {
		return nil, err
	}
	if req.OldSize != size {
		return nil, conflictErr(op, &ConflictError{Known: uint64(size)})
	}
	if c.Size == size {
		if c.Hash != root && size > 0 || size == 0 && c.Hash != EmptyRoot {
			return nil, conflictErr(op, &ConflictError{Known: uint64(size), Fork: true})
		}
		if len(req.Proof) != 0 {
			return nil, errorf(op, ErrBadProof, "proof between equal sizes %d has %d hashes, want none", size, len(req.Proof))
		}
	} else if err := verifyConsistency(uint64(size), uint64(c.Size), req.Proof, root, c.Hash); err != nil {
		return nil, wrapf(op, ErrBadProof, err, "consistency from size %d to %d", size, c.Size)
	}
	if err := w.state.Store(ctx, size, c, req.Checkpoint); err != nil {
		return nil, err
	}
	signed, err := note.Sign(&note.Note{Text: n.Text}, w.cosigner)
	if err != nil {
		return nil, err
	}
	_, sigs, _ := splitNote(signed)
	return sigs, nil
}

// MemWitnessState is a WitnessState in memory, for tests and for a
// witness that need not survive a restart.
type MemWitnessState struct {
	mu     sync.Mutex
	latest map[string]Checkpoint
}

// Latest implements WitnessState.
func (m *MemWitnessState) Latest(_ context.Context, origin string) (int64, Hash, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.latest[origin]
	if !ok {
		return 0, EmptyRoot, nil
	}
	return c.Size, c.Hash, nil
}

// Store implements WitnessState.
func (m *MemWitnessState) Store(_ context.Context, oldSize int64, c Checkpoint, _ []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.latest == nil {
		m.latest = make(map[string]Checkpoint)
	}
	if m.latest[c.Origin].Size != oldSize {
		return conflictErr("tlog.MemWitnessState.Store", &ConflictError{Known: uint64(m.latest[c.Origin].Size)})
	}
	m.latest[c.Origin] = c
	return nil
}
