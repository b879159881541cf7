package tlog

import (
	"encoding/json"
	"fmt"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/tlog"
)

// MaxProofHashes bounds the hashes of a proof (a tree of 2^63 entries needs
// at most 63 for inclusion, 2×63 for consistency).
const MaxProofHashes = 126

var hasher = rfc6962.DefaultHasher

// InclusionProof is the RFC 6962 audit path of the leaf at LeafIndex in the
// tree of TreeSize entries; its JSON shape is what the proof endpoint serves:
//
//	{"leaf_index":3,"tree_size":8,"hashes":["base64…",…]}
type InclusionProof struct {
	LeafIndex int64  `json:"leaf_index"`
	TreeSize  int64  `json:"tree_size"`
	Hashes    []Hash `json:"hashes"`
}

// ConsistencyProof is the RFC 6962 consistency proof between two tree
// sizes; its JSON shape is
//
//	{"old_size":3,"tree_size":8,"hashes":["base64…",…]}
type ConsistencyProof struct {
	OldSize  int64  `json:"old_size"`
	TreeSize int64  `json:"tree_size"`
	Hashes   []Hash `json:"hashes"`
}

// Prove returns the inclusion proof of leaf index in the tree of size
// from stored hashes.
func Prove(index, size int64, r HashReader) (*InclusionProof, error) {
	const op = "tlog.Prove"
	if index < 0 || size <= index {
		return nil, errorf(op, ErrNotFound, "leaf index %d is not in a tree of size %d", index, size)
	}
	p, err := tlog.ProveRecord(size, index, r)
	if err != nil {
		return nil, wrapf(op, ErrNotFound, err, "inclusion proof of leaf %d at size %d", index, size)
	}
	return &InclusionProof{LeafIndex: index, TreeSize: size, Hashes: nonNil(p)}, nil
}

// ProveConsistency returns the consistency proof between the trees of sizes
// old and size (0 ≤ old ≤ size) from stored hashes. Between equal sizes or
// from size 0 the proof is empty.
func ProveConsistency(old, size int64, r HashReader) (*ConsistencyProof, error) {
	const op = "tlog.ProveConsistency"
	if old < 0 || size < old {
		return nil, errorf(op, ErrMalformed, "old size %d is not between 0 and tree size %d", old, size)
	}
	if old == 0 || old == size {
		return &ConsistencyProof{OldSize: old, TreeSize: size, Hashes: []Hash{}}, nil
	}
	p, err := tlog.ProveTree(size, old, r)
	if err != nil {
		return nil, wrapf(op, ErrNotFound, err, "consistency proof from size %d to %d", old, size)
	}
	return &ConsistencyProof{OldSize: old, TreeSize: size, Hashes: nonNil(p)}, nil
}

func nonNil(hs []Hash) []Hash {
	if hs == nil {
		return []Hash{}
	}
	return hs
}

func slices(hs []Hash) [][]byte {
	out := make([][]byte, len(hs))
	for i := range hs {
		out[i] = hs[i][:]
	}
	return out
}

// Verify checks that the leaf hash is at p.LeafIndex in the tree of size
// p.TreeSize whose root is root.
func (p *InclusionProof) Verify(leaf, root Hash) error {
	const op = "tlog.InclusionProof.Verify"
	if p.LeafIndex < 0 || p.TreeSize <= p.LeafIndex {
		return errorf(op, ErrMalformed, "leaf_index %d is not in a tree of size %d", p.LeafIndex, p.TreeSize)
	}
	if err := proof.VerifyInclusion(hasher, uint64(p.LeafIndex), uint64(p.TreeSize), leaf[:], slices(p.Hashes), root[:]); err != nil {
		return wrapf(op, ErrBadProof, err, "inclusion of leaf %d at size %d", p.LeafIndex, p.TreeSize)
	}
	return nil
}

// Verify checks that the tree of size p.OldSize with root oldRoot is a
// prefix of the tree of size p.TreeSize with root root.
func (p *ConsistencyProof) Verify(oldRoot, root Hash) error {
	const op = "tlog.ConsistencyProof.Verify"
	if p.OldSize < 0 || p.TreeSize < p.OldSize {
		return errorf(op, ErrMalformed, "old_size %d is not between 0 and tree_size %d", p.OldSize, p.TreeSize)
	}
	if err := verifyConsistency(uint64(p.OldSize), uint64(p.TreeSize), p.Hashes, oldRoot, root); err != nil {
		return wrapf(op, ErrBadProof, err, "consistency from size %d to %d", p.OldSize, p.TreeSize)
	}
	return nil
}

// verifyConsistency is RFC 6962 consistency verification; from size 0 the
// proof must be empty (any tree extends the empty one).
func verifyConsistency(old, size uint64, hashes []Hash, oldRoot, root Hash) error {
	if old == 0 {
		if len(hashes) != 0 {
			return fmt.Errorf("proof from size 0 has %d hashes, want none", len(hashes))
		}
		return nil
	}
	return proof.VerifyConsistency(hasher, old, size, slices(hashes), oldRoot[:], root[:])
}

// ParseInclusionProof parses the JSON of an inclusion proof strictly: no
// unknown fields, sizes in range, at most MaxProofHashes hashes of 32 bytes.
func ParseInclusionProof(data []byte) (*InclusionProof, error) {
	const op = "tlog.ParseInclusionProof"
	var p InclusionProof
	if err := decodeStrict(data, &p); err != nil {
		return nil, wrapf(op, ErrMalformed, err, "inclusion proof")
	}
	switch {
	case p.LeafIndex < 0:
		return nil, errorf(op, ErrMalformed, "inclusion proof: leaf_index %d is negative", p.LeafIndex)
	case p.TreeSize <= p.LeafIndex:
		return nil, errorf(op, ErrMalformed, "inclusion proof: tree_size %d is not above leaf_index %d", p.TreeSize, p.LeafIndex)
	case p.Hashes == nil:
		return nil, errorf(op, ErrMalformed, "inclusion proof: hashes is missing")
	case len(p.Hashes) > MaxProofHashes:
		return nil, errorf(op, ErrMalformed, "inclusion proof: hashes has %d hashes, more than %d", len(p.Hashes), MaxProofHashes)
	}
	return &p, nil
}

// ParseConsistencyProof parses the JSON of a consistency proof strictly.
func ParseConsistencyProof(data []byte) (*ConsistencyProof, error) {
	const op = "tlog.ParseConsistencyProof"
	var p ConsistencyProof
	if err := decodeStrict(data, &p); err != nil {
		return nil, wrapf(op, ErrMalformed, err, "consistency proof")
	}
	switch {
	case p.OldSize < 0:
		return nil, errorf(op, ErrMalformed, "consistency proof: old_size %d is negative", p.OldSize)
	case p.TreeSize < p.OldSize:
		return nil, errorf(op, ErrMalformed, "consistency proof: tree_size %d is below old_size %d", p.TreeSize, p.OldSize)
	case p.Hashes == nil:
		return nil, errorf(op, ErrMalformed, "consistency proof: hashes is missing")
	case len(p.Hashes) > MaxProofHashes:
		return nil, errorf(op, ErrMalformed, "consistency proof: hashes has %d hashes, more than %d", len(p.Hashes), MaxProofHashes)
	}
	return &p, nil
}

// decodeStrict decodes one JSON object with no unknown fields and nothing
// after it; a hash that is not 32 bytes of base64 is an error naming it.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytesReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonErr(err)
	}
	if dec.More() {
		return fmt.Errorf("data after the JSON object")
	}
	if _, err := dec.Token(); err == nil {
		return fmt.Errorf("data after the JSON object")
	}
	return nil
}

func (p *InclusionProof) marshalJSON() ([]byte, error)   { return json.Marshal(p) }
func (p *ConsistencyProof) marshalJSON() ([]byte, error) { return json.Marshal(p) }
