package node

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/tlog"
)

// The node's log key: one Ed25519 signed-note key pair, named after the
// node, that signs the checkpoints of every collection's log and cosigns,
// as a witness, the checkpoints of the logs it trusts. Its files are fixed
// paths inside the data folder.
const (
	LogKeyFile = "keys/log.key" // the signer key, mode 0600; secret
	LogPubFile = "keys/log.pub" // the verifier key, what peers pin
)

// ErrNoLogKey: the node has no log key (it was made before the record
// existed). `parley keys init` makes one.
var ErrNoLogKey = errors.New("the node has no log signing key")

// ErrLogKeyMode: the log key file can be read by other users.
var ErrLogKeyMode = errors.New("the log key file can be read by other users")

// logKeys is the loaded key pair.
type logKeys struct {
	verifierKey string // "<name>+<id>+<base64>"
	signer      note.Signer
	verifier    note.Verifier
	cosigner    note.Signer
}

// createLogKey writes a new key pair for the node name into dir and
// returns the files it made (for removal on a later failure). It refuses
// to replace an existing key.
func createLogKey(dir, name string) (made []string, err error) {
	skey, vkey, err := tlog.GenerateKey(name)
	if err != nil {
		return nil, err
	}
	keyPath, pubPath := filepath.Join(dir, LogKeyFile), filepath.Join(dir, LogPubFile)
	if _, err := os.Stat(filepath.Dir(keyPath)); errors.Is(err, fs.ErrNotExist) {
		if err := os.Mkdir(filepath.Dir(keyPath), 0o700); err != nil {
			return nil, err
		}
		made = append(made, filepath.Dir(keyPath))
	}
	if err := writeNew(keyPath, []byte(skey+"\n"), 0o600); err != nil {
		return made, err
	}
	made = append(made, keyPath)
	if err := writeNew(pubPath, []byte(vkey+"\n"), 0o644); err != nil {
		return made, err
	}
	return append(made, pubPath), nil
}

// InitLogKey makes the log key of an existing node that has none (a node
// made before the record existed) and returns the verifier key. It
// refuses (KindConflict) when the node has a key already.
func InitLogKey(dir string) (verifierKey string, err error) {
	const op = "node.InitLogKey"
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", dialogue.E(op, dialogue.KindInvalid, err)
	}
	cfg, err := ReadConfig(abs)
	if err != nil {
		return "", err
	}
	for _, f := range []string{LogKeyFile, LogPubFile} {
		if _, err := os.Stat(filepath.Join(abs, f)); err == nil {
			return "", dialogue.Errorf(op, dialogue.KindConflict, "%s exists already: the node has a log key", filepath.Join(abs, f))
		}
	}
	made, err := createLogKey(abs, cfg.Name)
	if err != nil {
		for i := len(made) - 1; i >= 0; i-- {
			os.Remove(made[i])
		}
		return "", dialogue.E(op, dialogue.KindOf(err), err)
	}
	k, err := loadLogKey(abs)
	if err != nil {
		return "", err
	}
	return k.verifierKey, nil
}

// loadLogKey reads the key pair, refusing a signer key file that others
// can read and a verifier key that is not the signer's.
func loadLogKey(dir string) (*logKeys, error) {
	const op = "node.loadLogKey"
	keyPath, pubPath := filepath.Join(dir, LogKeyFile), filepath.Join(dir, LogPubFile)
	fi, err := os.Stat(keyPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, dialogue.E(op, dialogue.KindNotFound, fmt.Errorf("%w: %s does not exist (nodes made before the record have none)", ErrNoLogKey, keyPath))
	}
	if err != nil {
		return nil, dialogue.E(op, dialogue.KindOther, err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, dialogue.E(op, dialogue.KindForbidden,
			fmt.Errorf("%w: %s has mode %04o, want 0600", ErrLogKeyMode, keyPath, fi.Mode().Perm()))
	}
	skey, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, dialogue.E(op, dialogue.KindOther, err)
	}
	signer, err := tlog.NewSigner(string(skey))
	if err != nil {
		// tlog's message never repeats the key.
		return nil, dialogue.E(op, dialogue.KindInvalid, fmt.Errorf("%s: %s", keyPath, dialogue.Message(err)))
	}
	cosigner, err := tlog.NewCosigner(string(skey))
	if err != nil {
		return nil, dialogue.E(op, dialogue.KindInvalid, fmt.Errorf("%s: %s", keyPath, dialogue.Message(err)))
	}
	pub, err := os.ReadFile(pubPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, dialogue.E(op, dialogue.KindNotFound, fmt.Errorf("%w: %s does not exist beside %s", ErrNoLogKey, pubPath, keyPath))
	}
	if err != nil {
		return nil, dialogue.E(op, dialogue.KindOther, err)
	}
	vkey := strings.TrimSpace(string(pub))
	verifier, err := ParseVerifierKey(vkey)
	if err != nil {
		return nil, dialogue.E(op, dialogue.KindInvalid, fmt.Errorf("%s: %w", pubPath, err))
	}
	if verifier.Name() != signer.Name() || verifier.KeyHash() != signer.KeyHash() {
		return nil, dialogue.Errorf(op, dialogue.KindInvalid, "%s is not the verifier key of %s", pubPath, keyPath)
	}
	// Sign and verify once, so that a public key that does not match the
	// private one (same name and id, other bytes) is caught here.
	msg, err := note.Sign(&note.Note{Text: "parley key check\n"}, signer)
	if err == nil {
		_, err = note.Open(msg, note.VerifierList(verifier))
	}
	if err != nil {
		return nil, dialogue.Errorf(op, dialogue.KindInvalid, "%s is not the verifier key of %s", pubPath, keyPath)
	}
	return &logKeys{verifierKey: vkey, signer: signer, verifier: verifier, cosigner: cosigner}, nil
}

// LogKey returns the node's log verifier key: the string a peer pins
// ("log-key" in `parley keys show`).
func (n *Node) LogKey() string { return n.keys.verifierKey }

// LogVerifier returns the verifier of the node's checkpoints.
func (n *Node) LogVerifier() note.Verifier { return n.keys.verifier }

// Cosigner returns the node's witness signer (cosignature/v1, from the
// log key).
func (n *Node) Cosigner() note.Signer { return n.keys.cosigner }

// Origin returns the checkpoint origin of a collection's log on this node.
func (n *Node) Origin(collectionID string) (string, error) {
	return tlog.Origin(n.Config.Name, collectionID)
}

// SignCheckpoint is the node's dialogue.LogSigner: it signs the
// tlog-checkpoint of a collection's log at size with root as a signed
// note with the node's log key.
func (n *Node) SignCheckpoint(collectionID string, size int64, root [32]byte) ([]byte, error) {
	origin, err := n.Origin(collectionID)
	if err != nil {
		return nil, err
	}
	return tlog.Sign(tlog.Checkpoint{Origin: origin, Size: size, Hash: root}, n.keys.signer)
}

// logSignerSetter is what a store offers to take the node's signer.
type logSignerSetter interface {
	SetLogSigner(dialogue.LogSigner)
}

// logSigner is a store that signs the logs left unsigned (filled by a
// migration, or appended to while no signer was set).
type logSigner interface {
	SignLogs(ctx context.Context) error
}

// setSigner gives the store the node's checkpoint signer and has it sign
// the logs that have no checkpoint at their size yet.
func (n *Node) setSigner(ctx context.Context) error {
	if s, ok := any(n.Store).(logSignerSetter); ok {
		s.SetLogSigner(n.SignCheckpoint)
	}
	if s, ok := any(n.Store).(logSigner); ok {
		if err := s.SignLogs(ctx); err != nil {
			return dialogue.E("node.Open", dialogue.KindOf(err), fmt.Errorf("signing the logs: %w", err))
		}
	}
	return nil
}

// LeafIndex finds the index of the entry of a collection's log whose leaf
// hash is leaf, when the store can (KindUnavailable otherwise).
func (n *Node) LeafIndex(ctx context.Context, collectionID string, leaf [32]byte) (int64, error) {
	type leafIndexer interface {
		LeafIndex(ctx context.Context, collectionID string, leafHash [32]byte) (int64, error)
	}
	if s, ok := any(n.Store).(leafIndexer); ok {
		return s.LeafIndex(ctx, collectionID, leaf)
	}
	return 0, dialogue.Errorf("node.LeafIndex", dialogue.KindUnavailable, "this build's store cannot find a leaf by hash")
}

// Log returns the store's log interface (the record).
func (n *Node) Log() (dialogue.LogStore, error) {
	l, ok := any(n.Store).(dialogue.LogStore)
	if !ok {
		return nil, dialogue.Errorf("node.Log", dialogue.KindUnavailable, "this build's store keeps no log")
	}
	return l, nil
}

// WitnessVerifiers returns the verifiers of the logs this node witnesses
// (Config.Witness).
func (n *Node) WitnessVerifiers() ([]note.Verifier, error) {
	var vs []note.Verifier
	for i, k := range n.Config.Witness {
		v, err := ParseVerifierKey(k)
		if err != nil {
			return nil, dialogue.E("node.WitnessVerifiers", dialogue.KindInvalid, fmt.Errorf("%s field \"witness\" item %d: %w", ConfigFile, i+1, err))
		}
		vs = append(vs, v)
	}
	return vs, nil
}

// TrustLog adds a log's verifier key to the logs this node witnesses and
// rewrites the configuration file. Adding a key already there changes
// nothing and reports false; another key with the same name (node) is
// refused (KindConflict).
func (n *Node) TrustLog(verifierKey string) (added bool, err error) {
	const op = "node.TrustLog"
	v, err := ParseVerifierKey(verifierKey)
	if err != nil {
		return false, dialogue.E(op, dialogue.KindInvalid, err)
	}
	verifierKey = strings.TrimSpace(verifierKey)
	for _, k := range n.Config.Witness {
		if strings.TrimSpace(k) == verifierKey {
			return false, nil
		}
		if old, err := ParseVerifierKey(k); err == nil && old.Name() == v.Name() {
			return false, dialogue.Errorf(op, dialogue.KindConflict, "a different key named %q is trusted already: %s", v.Name(), k)
		}
	}
	cfg := n.Config
	cfg.Witness = append(append([]string(nil), n.Config.Witness...), verifierKey)
	if err := cfg.Validate(); err != nil {
		return false, dialogue.E(op, dialogue.KindInvalid, err)
	}
	if err := replaceFile(filepath.Join(n.Dir, ConfigFile), cfg.marshal(), 0o600); err != nil {
		return false, dialogue.E(op, dialogue.KindOther, err)
	}
	n.Config = cfg
	return true, nil
}

// replaceFile writes path atomically: a temporary file beside it, synced,
// then renamed over it.
func replaceFile(path string, data []byte, mode os.FileMode) error {
	tmp := path + ".new"
	os.Remove(tmp)
	if err := writeNew(tmp, data, mode); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
