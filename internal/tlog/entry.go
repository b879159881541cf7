package tlog

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
)

// What a log entry is. A log entry is one of:
//
//   - a STIX object version: its exact stored bytes (a JSON object, so the
//     entry starts with '{'), when they fit an entry bundle (MaxEntrySize);
//   - a STIX object version too large for that: the line
//     "parley/object sha256:<hex> <size>\n", committing to its bytes, which
//     travel as a blob fetched by hash;
//   - an evidence blob: the line "parley/blob sha256:<hex> <size>\n".
//
// Entries are never longer than MaxEntrySize, so every log can be served as
// C2SP tlog-tiles.

// EntryKind says what an entry commits to.
type EntryKind uint8

// The kinds of entries.
const (
	EntryObject    EntryKind = iota + 1 // the object's bytes themselves
	EntryObjectRef                      // an object too large for an entry, by hash
	EntryBlob                           // an evidence blob, by hash
)

const (
	objectRefPrefix = "parley/object sha256:"
	blobPrefix      = "parley/blob sha256:"
)

// ObjectEntry returns the log entry for an object version whose stored
// bytes are raw.
func ObjectEntry(raw []byte) []byte {
	if len(raw) <= MaxEntrySize {
		return raw
	}
	return refLine(objectRefPrefix, sha256.Sum256(raw), int64(len(raw)))
}

// BlobEntry returns the log entry for an evidence blob.
func BlobEntry(sum [32]byte, size int64) []byte { return refLine(blobPrefix, sum, size) }

func refLine(prefix string, sum [32]byte, size int64) []byte {
	b := make([]byte, 0, len(prefix)+64+22)
	b = append(b, prefix...)
	b = hex.AppendEncode(b, sum[:])
	b = append(b, ' ')
	b = strconv.AppendInt(b, size, 10)
	return append(b, '\n')
}

// ParseEntry says what an entry is. For EntryObject, sum is the SHA-256 of
// the entry itself and size its length; for the others, the hash and size
// the line names.
func ParseEntry(e []byte) (kind EntryKind, sum [32]byte, size int64, err error) {
	if len(e) > MaxEntrySize {
		return 0, sum, 0, fmt.Errorf("entry of %d bytes: over %d: %w", len(e), MaxEntrySize, ErrMalformed)
	}
	if len(e) > 0 && e[0] == '{' {
		return EntryObject, sha256.Sum256(e), int64(len(e)), nil
	}
	var rest []byte
	switch {
	case bytes.HasPrefix(e, []byte(objectRefPrefix)):
		kind, rest = EntryObjectRef, e[len(objectRefPrefix):]
	case bytes.HasPrefix(e, []byte(blobPrefix)):
		kind, rest = EntryBlob, e[len(blobPrefix):]
	default:
		return 0, sum, 0, fmt.Errorf("entry is neither a STIX object nor a parley/object or parley/blob line: %w", ErrMalformed)
	}
	if len(rest) < 64+3 || rest[64] != ' ' || rest[len(rest)-1] != '\n' {
		return 0, sum, 0, fmt.Errorf("entry line: want sha256:<64 hex> <size>\\n: %w", ErrMalformed)
	}
	if _, err := hex.Decode(sum[:], rest[:64]); err != nil || bytes.ContainsAny(rest[:64], "ABCDEF") {
		return 0, sum, 0, fmt.Errorf("entry line: hash is not 64 lower-case hex digits: %w", ErrMalformed)
	}
	digits := rest[65 : len(rest)-1]
	size, err = strconv.ParseInt(string(digits), 10, 64)
	if err != nil || size < 0 || (len(digits) > 1 && digits[0] == '0') {
		return 0, sum, 0, fmt.Errorf("entry line: size %q is not a decimal byte count: %w", digits, ErrMalformed)
	}
	if kind == EntryObjectRef && size <= MaxEntrySize {
		return 0, sum, 0, fmt.Errorf("entry line: an object of %d bytes fits an entry and must be entered itself: %w", size, ErrMalformed)
	}
	return kind, sum, size, nil
}
