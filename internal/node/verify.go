package node

// Verification of a node's own logs from its store, as `parley verify
// --dir`, the web UI's Record page and the demo run it.

import (
	"context"
	"crypto/sha256"
	"iter"
	"slices"

	"golang.org/x/mod/sumdb/note"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/logapi"
	"github.com/parleyhq/parley/internal/stix"
	"github.com/parleyhq/parley/internal/tlog"
)

// CosignatureVerifiers are the keys whose cosignatures of the node's
// checkpoints are checked: the witnesses of the configuration and every
// peer's log key (as a cosignature/v1 key).
func (n *Node) CosignatureVerifiers(ctx context.Context) ([]note.Verifier, error) {
	var vs []note.Verifier
	seen := map[string]bool{}
	keys := slices.Clone(n.Config.Witness)
	peers, err := n.Store.Peers(ctx)
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
func (n *Node) VerifyCollection(ctx context.Context, c *dialogue.Collection, cosigners []note.Verifier) (*tlog.Report, error) {
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
