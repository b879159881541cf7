package tlog

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/parleyhq/parley/internal/dialogue"
	flog "github.com/transparency-dev/formats/log"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// OriginPart is the path element between the node name and the channel in
// an origin line.
const OriginPart = "/parley/"

// Origin returns the checkpoint origin of a channel's log on a node:
// "<node-name>/parley/<collection-id>", a schema-less URL-like string that
// is unique per node and channel, as C2SP tlog-checkpoint recommends.
func Origin(node, collectionID string) (string, error) {
	const op = "tlog.Origin"
	if err := checkName(node); err != nil {
		return "", errorf(op, ErrMalformed, "node name %q: %v", node, err)
	}
	if err := checkName(collectionID); err != nil {
		return "", errorf(op, ErrMalformed, "collection id %q: %v", collectionID, err)
	}
	if strings.Contains(node, "/") {
		return "", errorf(op, ErrMalformed, "node name %q: has a slash", node)
	}
	return node + OriginPart + collectionID, nil
}

// Checkpoint is the note text of a C2SP tlog-checkpoint: the origin line,
// the tree size and the RFC 6962 root hash. Parley writes no extension
// lines.
type Checkpoint struct {
	Origin string
	Size   int64
	Hash   Hash
}

// Marshal returns the checkpoint's note text (three lines, each ending in a
// newline).
func (c Checkpoint) Marshal() []byte {
	return flog.Checkpoint{Origin: c.Origin, Size: uint64(c.Size), Hash: c.Hash[:]}.Marshal()
}

// ParseCheckpoint parses a checkpoint's note text strictly: exactly three
// lines, a non-empty origin without spaces or plus signs, a decimal size
// without leading zeros, a base64 SHA-256 root hash. Extension lines are
// refused (Parley writes none). Errors name the line and the reason.
func ParseCheckpoint(text []byte) (Checkpoint, error) {
	const op = "tlog.ParseCheckpoint"
	bad := func(format string, args ...any) (Checkpoint, error) {
		return Checkpoint{}, errorf(op, ErrMalformed, "checkpoint "+format, args...)
	}
	if len(text) == 0 {
		return bad("is empty")
	}
	if text[len(text)-1] != '\n' {
		return bad("does not end in a newline")
	}
	lines := strings.Split(string(text[:len(text)-1]), "\n")
	if len(lines) < 3 {
		return bad("has %d lines, want 3 (origin, size, root hash)", len(lines))
	}
	if len(lines) > 3 {
		return bad("line 4: extension lines are not accepted")
	}
	origin, size, hash := lines[0], lines[1], lines[2]
	if err := checkName(origin); err != nil {
		return bad("line 1 (origin): %v", err)
	}
	n, err := parseDecimal(size)
	if err != nil {
		return bad("line 2 (tree size) %q: %v", clip(size), err)
	}
	h, err := parseHash(hash)
	if err != nil {
		return bad("line 3 (root hash) %q: %v", clip(hash), err)
	}
	return Checkpoint{Origin: origin, Size: n, Hash: h}, nil
}

// clip shortens what an error quotes.
func clip(s string) string { return dialogue.Clip(s, 64) }

// parseDecimal parses a non-negative int64 in canonical decimal.
func parseDecimal(s string) (int64, error) {
	if s == "" {
		return 0, errors.New("is empty")
	}
	if s[0] == '0' && len(s) > 1 {
		return 0, errors.New("has a leading zero")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, errors.New("is not a decimal number")
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, errors.New("is too large")
	}
	return n, nil
}

// parseHash parses a standard base64 SHA-256 hash.
func parseHash(s string) (Hash, error) {
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		return Hash{}, errors.New("is not standard base64")
	}
	if len(b) != HashSize {
		return Hash{}, fmt.Errorf("is %d bytes, want %d", len(b), HashSize)
	}
	return Hash(b), nil
}

// Sign signs the checkpoint as a signed note with the log's signer key (and
// any further signers) and returns the note.
func Sign(c Checkpoint, signers ...note.Signer) ([]byte, error) {
	const op = "tlog.Sign"
	if len(signers) == 0 {
		return nil, errorf(op, ErrMalformed, "no signer")
	}
	if _, err := ParseCheckpoint(c.Marshal()); err != nil {
		return nil, err
	}
	msg, err := note.Sign(&note.Note{Text: string(c.Marshal())}, signers...)
	if err != nil {
		return nil, wrapf(op, ErrMalformed, err, "signing checkpoint %s at size %d", c.Origin, c.Size)
	}
	return msg, nil
}

// Signed is a checkpoint whose log signature verified.
type Signed struct {
	Checkpoint
	// Note is the opened note with its verified and unverified signatures.
	Note *note.Note
	// Cosigners are the names of the cosigners whose signatures verified.
	Cosigners []string
}

// Open verifies a signed checkpoint note. It must carry a valid signature by
// logKey; signatures by the given cosigners must be valid when present;
// signatures by other keys are ignored. When origin is not empty the
// checkpoint's origin must equal it.
func Open(msg []byte, origin string, logKey note.Verifier, cosigners ...note.Verifier) (*Signed, error) {
	const op = "tlog.Open"
	known := append([]note.Verifier{logKey}, cosigners...)
	n, err := note.Open(msg, note.VerifierList(known...))
	if err != nil {
		var unverified *note.UnverifiedNoteError
		var invalid *note.InvalidSignatureError
		switch {
		case errors.As(err, &unverified):
			return nil, errorf(op, ErrBadSignature, "checkpoint note: no signature by a known key")
		case errors.As(err, &invalid):
			return nil, errorf(op, ErrBadSignature, "checkpoint note: signature by %s (key id %08x) does not verify", invalid.Name, invalid.Hash)
		}
		return nil, wrapf(op, ErrMalformed, err, "checkpoint note")
	}
	s := &Signed{Note: n}
	logSigned := false
	for _, sig := range n.Sigs {
		// note.Open decodes base64 leniently; a known signature must be
		// spelt canonically, so that no byte of a stored note can change
		// without verification failing.
		if _, err := base64.StdEncoding.Strict().DecodeString(sig.Base64); err != nil {
			return nil, errorf(op, ErrBadSignature, "checkpoint note: signature by %s is not canonical base64", sig.Name)
		}
		if sig.Name == logKey.Name() && sig.Hash == logKey.KeyHash() {
			logSigned = true
		} else {
			s.Cosigners = append(s.Cosigners, sig.Name)
		}
	}
	if !logSigned {
		return nil, errorf(op, ErrBadSignature, "checkpoint note: no signature by the log key %s", logKey.Name())
	}
	c, err := ParseCheckpoint([]byte(n.Text))
	if err != nil {
		return nil, err
	}
	if origin != "" && c.Origin != origin {
		return nil, errorf(op, ErrMalformed, "checkpoint line 1 (origin): %q, want %q", clip(c.Origin), origin)
	}
	s.Checkpoint = c
	return s, nil
}

// AddCosignatures appends to a signed checkpoint the signature lines a
// witness answered (C2SP tlog-witness), after checking each line against
// the witness's cosigner verifier. Lines by other keys are dropped; a
// line by the witness that does not verify is an error. It returns the
// checkpoint note with the new signatures, without duplicates.
func AddCosignatures(msg, sigLines []byte, witness note.Verifier) ([]byte, error) {
	const op = "tlog.AddCosignatures"
	text, _, ok := splitNote(msg)
	if !ok {
		return nil, errorf(op, ErrMalformed, "checkpoint note: no blank line before the signatures")
	}
	if len(sigLines) == 0 || sigLines[len(sigLines)-1] != '\n' {
		return nil, errorf(op, ErrMalformed, "witness answer: does not end in a newline")
	}
	n, err := note.Open(append(append(append([]byte{}, text...), '\n'), sigLines...), note.VerifierList(witness))
	if err != nil {
		var unverified *note.UnverifiedNoteError
		if errors.As(err, &unverified) {
			return nil, errorf(op, ErrBadSignature, "witness answer: no signature by %s", witness.Name())
		}
		return nil, wrapf(op, ErrBadSignature, err, "witness answer")
	}
	out := append([]byte{}, msg...)
	for _, sig := range n.Sigs {
		line := "— " + sig.Name + " " + sig.Base64 + "\n"
		if !bytes.Contains(msg, []byte(line)) {
			out = append(out, line...)
		}
	}
	return out, nil
}

// splitNote splits a signed note into its text (with its final newline)
// and its signature block, at the last blank line.
func splitNote(msg []byte) (text, sigs []byte, ok bool) {
	i := bytes.LastIndex(msg, []byte("\n\n"))
	if i < 0 {
		return nil, nil, false
	}
	return msg[:i+1], msg[i+2:], true
}

// Hash is a SHA-256 hash in the tree.
type Hash = tlog.Hash

// HashSize is the size of a Hash in bytes.
const HashSize = tlog.HashSize
