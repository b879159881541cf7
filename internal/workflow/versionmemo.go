package workflow

import (
	"crypto/sha256"
	"encoding/binary"
	"sync"

	"github.com/parleyhq/parley/internal/dialogue"
)

// The version memo: what a fold computes from one stored version (or one
// object's versions) depends on their JSON alone, and stored versions
// never change. A fold of a channel computed again after a write (the
// fold cache, readcache.go, drops it when the store's stamp moves) finds
// in the memo what was computed from the versions it read last time, by
// the SHA-256 of their JSON, and computes only what is new: a statement's
// text hash (stix.CanonicalJSON over every text) is computed once per
// version, not once per read. Only the entries the latest fold used are
// kept, so the memo holds what one fold of the channel holds.

// maxMemos bounds the memos kept in the process (a node has a few
// channels and a few kinds of fold; tests open many stores).
const maxMemos = 64

// memoKey names the memo of a kind of fold of a channel of a store, for
// this party and the other.
type memoKey struct {
	store            Store
	kind, channel    string
	self, otherParty string
}

// versionMemos holds the memos of every (store, kind, channel, parties),
// at most maxMemos of them.
var versionMemos = struct {
	mu sync.Mutex
	m  map[memoKey]map[[32]byte]any
}{m: map[memoKey]map[[32]byte]any{}}

// versionMemo is one fold's view of a memo: what the previous fold kept,
// and what this one used.
type versionMemo struct {
	key  memoKey
	prev map[[32]byte]any // read only
	used map[[32]byte]any
}

// memo returns the memo of a kind of fold of a channel.
func (s *Service) memo(kind string, ch *dialogue.Channel, other dialogue.Party) *versionMemo {
	key := memoKey{store: s.Store, kind: kind, channel: ch.ID, self: s.Self.IdentityID, otherParty: other.IdentityID}
	versionMemos.mu.Lock()
	prev := versionMemos.m[key]
	versionMemos.mu.Unlock()
	return &versionMemo{key: key, prev: prev, used: map[[32]byte]any{}}
}

// get returns what compute computes from the versions whose JSON is raws
// (in this order), from the memo when it holds it.
func (m *versionMemo) get(compute func() any, raws ...[]byte) any {
	k := sumOf(raws)
	if v, ok := m.used[k]; ok {
		return v
	}
	v, ok := m.prev[k]
	if !ok {
		v = compute()
	}
	m.used[k] = v
	return v
}

// peek is get without keeping the result: for the readers of one object.
func (m *versionMemo) peek(compute func() any, raws ...[]byte) any {
	if v, ok := m.prev[sumOf(raws)]; ok {
		return v
	}
	return compute()
}

// keep makes what this fold used the memo of the next one.
func (m *versionMemo) keep() {
	versionMemos.mu.Lock()
	defer versionMemos.mu.Unlock()
	if _, ok := versionMemos.m[m.key]; !ok && len(versionMemos.m) >= maxMemos {
		clear(versionMemos.m)
	}
	versionMemos.m[m.key] = m.used
}

// sumOf is the SHA-256 of raws, each preceded by its length (one raw:
// its own SHA-256 with the length in front).
func sumOf(raws [][]byte) [32]byte {
	h := sha256.New()
	var n [8]byte
	for _, r := range raws {
		binary.BigEndian.PutUint64(n[:], uint64(len(r)))
		h.Write(n[:])
		h.Write(r)
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}
