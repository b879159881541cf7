// Package node is a Parley node's data folder: the configuration file, the
// TLS key and self-signed certificate, and the store inside it. It holds
// what `parley init`, `parley serve` and `parley demo` share: making a new
// node (Init) and opening an existing one (Open).
//
// It must not serve HTTP, parse command lines or print: the CLI and the
// HTTP server are built on top of it.
package node

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/sqlite"
	"github.com/parleyhq/parley/internal/taxii"
)

// Sentinel errors callers branch on with errors.Is (the CLI turns them
// into hints).
var (
	// ErrNoNode: the folder holds no node (no configuration file).
	ErrNoNode = errors.New("no Parley node here")
	// ErrExists: Init was asked to make a node where one (or other files) exists.
	ErrExists = errors.New("a Parley node exists here already")
	// ErrNotEmpty: Init was asked to make a node in a folder that has other files.
	ErrNotEmpty = errors.New("the folder is not empty")
)

// Node is an open data folder.
type Node struct {
	Dir    string // absolute path of the data folder
	Config Config
	Store  *sqlite.DB

	keys *logKeys // the log key pair, loaded by Init and Open
}

// InitOptions are the choices `parley init` offers. Zero values take the
// defaults.
type InitOptions struct {
	Name         string // required
	Listen       string // DefaultListen when empty
	MaxBodyBytes int64  // DefaultMaxBodyBytes when zero
	Now          time.Time
}

// Created lists what Init made, for the CLI to report.
type Created struct {
	Dir        string
	ConfigFile string
	Database   string
	TLSCert    string
	TLSKey     string
	LogKey     string               // the signer key file (mode 0600)
	LogPub     string               // the verifier key file
	LogKeyPub  string               // the verifier key itself, what peers pin
	Pin        string               // the certificate's public-key pin (taxii.PinOf)
	Collection *dialogue.Collection // the default read-write collection
}

// Init makes a new node in dir: the folder (mode 0700; an existing empty
// folder is used and its mode tightened), the TLS key (mode 0600) and
// self-signed certificate, the SQLite database with its default collection
// titled "local" that every user may read and write, and, last, the
// configuration file. It refuses a folder that has a node or any other
// file in it (ErrExists, ErrNotEmpty; kind KindConflict). When a step
// fails, what Init made is removed. The node is returned open.
func Init(ctx context.Context, dir string, opt InitOptions) (_ *Node, _ *Created, err error) {
	const op = "node.Init"
	if err := ValidateName(opt.Name); err != nil {
		return nil, nil, dialogue.E(op, dialogue.KindInvalid, err)
	}
	if opt.Listen == "" {
		opt.Listen = DefaultListen
	}
	if opt.MaxBodyBytes == 0 {
		opt.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	cfg := Config{
		Name:         opt.Name,
		Listen:       opt.Listen,
		MaxBodyBytes: opt.MaxBodyBytes,
		Database:     DefaultDatabase,
		TLSCert:      DefaultTLSCert,
		TLSKey:       DefaultTLSKey,
	}
	if err := cfg.Validate(); err != nil {
		return nil, nil, dialogue.E(op, dialogue.KindInvalid, err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, nil, dialogue.E(op, dialogue.KindInvalid, err)
	}
	dir = abs

	madeDir, err := prepareDir(dir)
	if err != nil {
		return nil, nil, dialogue.E(op, dialogue.KindOf(err), err)
	}
	var made []string // files to remove on failure, in creation order
	defer func() {
		if err == nil {
			return
		}
		for i := len(made) - 1; i >= 0; i-- {
			os.Remove(made[i])
		}
		if madeDir {
			os.RemoveAll(dir)
		}
	}()

	keyPEM, certPEM, err := newKeyAndCert(cfg.Name, opt.Now)
	if err != nil {
		return nil, nil, dialogue.E(op, dialogue.KindOther, fmt.Errorf("making the TLS key: %w", err))
	}
	keyPath, certPath := cfg.path(dir, cfg.TLSKey), cfg.path(dir, cfg.TLSCert)
	if err := os.MkdirAll(filepath.Dir(keyPath), 0o700); err != nil {
		return nil, nil, dialogue.E(op, dialogue.KindOther, err)
	}
	made = append(made, filepath.Dir(keyPath))
	if err := writeNew(keyPath, keyPEM, 0o600); err != nil {
		return nil, nil, dialogue.E(op, dialogue.KindOther, err)
	}
	made = append(made, keyPath)
	if err := writeNew(certPath, certPEM, 0o644); err != nil {
		return nil, nil, dialogue.E(op, dialogue.KindOther, err)
	}
	made = append(made, certPath)
	keyFiles, err := createLogKey(dir, cfg.Name)
	made = append(made, keyFiles...)
	if err != nil {
		return nil, nil, dialogue.E(op, dialogue.KindOf(err), fmt.Errorf("making the log key: %w", err))
	}
	keys, err := loadLogKey(dir)
	if err != nil {
		return nil, nil, err
	}

	dbPath := cfg.path(dir, cfg.Database)
	made = append(made, dbPath, dbPath+"-wal", dbPath+"-shm")
	st, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		return nil, nil, dialogue.E(op, dialogue.KindOf(err), err)
	}
	defer func() {
		if err != nil {
			st.Close()
		}
	}()
	coll := &dialogue.Collection{
		Title:       dialogue.DefaultCollectionTitle,
		Description: "This node's own collection: every user may read it; every user whose role may write can add to it.",
		CreatedAt:   opt.Now.UTC(),
	}
	if err := st.CreateCollection(ctx, coll); err != nil {
		return nil, nil, dialogue.E(op, dialogue.KindOf(err), err)
	}
	if err := st.SetGrant(ctx, dialogue.Grant{CollectionID: coll.ID, Principal: "*", Read: true, Write: true}); err != nil {
		return nil, nil, dialogue.E(op, dialogue.KindOf(err), err)
	}

	cfgPath := filepath.Join(dir, ConfigFile)
	if err := writeNew(cfgPath, cfg.marshal(), 0o600); err != nil {
		return nil, nil, dialogue.E(op, dialogue.KindOther, err)
	}
	cert, err := ReadCertificate(certPath)
	if err != nil {
		return nil, nil, dialogue.E(op, dialogue.KindOther, err)
	}
	n := &Node{Dir: dir, Config: cfg, Store: st, keys: keys}
	if err := n.setSigner(ctx); err != nil {
		return nil, nil, err
	}
	return n, &Created{
		Dir: dir, ConfigFile: cfgPath, Database: dbPath, TLSCert: certPath, TLSKey: keyPath,
		LogKey: filepath.Join(dir, LogKeyFile), LogPub: filepath.Join(dir, LogPubFile), LogKeyPub: keys.verifierKey,
		Pin: taxii.PinOf(cert), Collection: coll,
	}, nil
}

// prepareDir makes dir (0700) or checks that an existing one is empty,
// and reports whether it made it.
func prepareDir(dir string) (made bool, err error) {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return false, err
		}
		return true, nil
	case err != nil:
		return false, err
	}
	for _, e := range entries {
		if e.Name() == ConfigFile {
			return false, dialogue.E("", dialogue.KindConflict, fmt.Errorf("%w: %s", ErrExists, dir))
		}
	}
	if len(entries) > 0 {
		return false, dialogue.E("", dialogue.KindConflict, fmt.Errorf("%w: %s has %d entries", ErrNotEmpty, dir, len(entries)))
	}
	return false, os.Chmod(dir, 0o700)
}

// writeNew writes a file that must not exist yet.
func writeNew(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ReadConfig reads and checks dir's configuration file. A folder without
// one gives ErrNoNode (kind KindNotFound).
func ReadConfig(dir string) (*Config, error) {
	const op = "node.ReadConfig"
	data, err := os.ReadFile(filepath.Join(dir, ConfigFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, dialogue.E(op, dialogue.KindNotFound, fmt.Errorf("%w: %s has no %s", ErrNoNode, dir, ConfigFile))
	}
	if err != nil {
		return nil, dialogue.E(op, dialogue.KindOther, err)
	}
	c, err := ParseConfig(data)
	if err != nil {
		return nil, dialogue.E(op, dialogue.KindInvalid, fmt.Errorf("%s: %w", filepath.Join(dir, ConfigFile), errors.Unwrap(err)))
	}
	return c, nil
}

// Open opens the node in dir: it reads the configuration, loads the log
// key (refusing a key file that others can read: ErrLogKeyMode; a node
// made before the record has none: ErrNoLogKey, which `parley keys init`
// mends), and opens the store (which applies pending migrations) with the
// node's checkpoint signer. Close it when done.
func Open(ctx context.Context, dir string) (*Node, error) {
	const op = "node.Open"
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, dialogue.E(op, dialogue.KindInvalid, err)
	}
	cfg, err := ReadConfig(abs)
	if err != nil {
		return nil, err
	}
	keys, err := loadLogKey(abs)
	if err != nil {
		return nil, err
	}
	st, err := sqlite.Open(ctx, cfg.path(abs, cfg.Database))
	if err != nil {
		return nil, dialogue.E(op, dialogue.KindOf(err), err)
	}
	n := &Node{Dir: abs, Config: *cfg, Store: st, keys: keys}
	if err := n.setSigner(ctx); err != nil {
		st.Close()
		return nil, err
	}
	return n, nil
}

// Close closes the store.
func (n *Node) Close() error {
	if n.Store == nil {
		return nil
	}
	err := n.Store.Close()
	n.Store = nil
	return err
}

// CertFile and KeyFile are the absolute paths of the TLS files.
func (n *Node) CertFile() string { return n.Config.path(n.Dir, n.Config.TLSCert) }

// KeyFile is the absolute path of the TLS private key.
func (n *Node) KeyFile() string { return n.Config.path(n.Dir, n.Config.TLSKey) }

// Certificate reads the node's certificate.
func (n *Node) Certificate() (*x509.Certificate, error) {
	c, err := ReadCertificate(n.CertFile())
	if err != nil {
		return nil, dialogue.E("node.Certificate", dialogue.KindOther, err)
	}
	return c, nil
}

// TLSCertificate loads the key pair for a TLS server. It refuses a key
// file that other users can read (kind KindForbidden).
func (n *Node) TLSCertificate() (tls.Certificate, error) {
	const op = "node.TLSCertificate"
	fi, err := os.Stat(n.KeyFile())
	if err != nil {
		return tls.Certificate{}, dialogue.E(op, dialogue.KindOther, err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return tls.Certificate{}, dialogue.E(op, dialogue.KindForbidden,
			fmt.Errorf("%w: %s has mode %04o, want 0600", ErrKeyMode, n.KeyFile(), fi.Mode().Perm()))
	}
	c, err := tls.LoadX509KeyPair(n.CertFile(), n.KeyFile())
	if err != nil {
		return tls.Certificate{}, dialogue.E(op, dialogue.KindOther, err)
	}
	return c, nil
}

// Pin returns the pin of the node's certificate (taxii.PinOf): what
// `parley pull --tls-pin` and curl's --pinnedpubkey (after "sha256//") take.
func (n *Node) Pin() (string, error) {
	c, err := n.Certificate()
	if err != nil {
		return "", err
	}
	return taxii.PinOf(c), nil
}
