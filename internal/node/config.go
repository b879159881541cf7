package node

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/tlog"
)

// ConfigFile is the name of the configuration file inside a data folder.
// Its presence is what makes a folder a Parley node.
const ConfigFile = "parley.json"

// Default values written by Init.
const (
	DefaultListen       = "127.0.0.1:8443"
	DefaultMaxBodyBytes = 10 << 20 // 10 MiB
	DefaultDatabase     = "parley.db"
	DefaultTLSCert      = "tls/cert.pem"
	DefaultTLSKey       = "tls/key.pem"
)

// Config is a node's configuration file (DIR/parley.json). Paths are
// relative to the data folder unless absolute.
type Config struct {
	// Name is the node's name: a host name or a short label. It is the
	// TLS certificate's subject and the TAXII discovery title.
	Name string `json:"name"`
	// Listen is the host:port `parley serve` listens on by default.
	Listen string `json:"listen"`
	// MaxBodyBytes caps a request body; bigger ones get 413.
	MaxBodyBytes int64 `json:"max_body_bytes"`
	// Database is the SQLite file.
	Database string `json:"database"`
	// TLSCert and TLSKey are the PEM files of the node's certificate and
	// private key.
	TLSCert string `json:"tls_cert"`
	TLSKey  string `json:"tls_key"`
	// Witness lists the signed-note verifier keys of the logs this node
	// witnesses (cosigns), until peering exists: a checkpoint whose origin
	// is "<key name>/parley/<collection>" and that the key signed is
	// cosigned by POST /witness/add-checkpoint. Optional.
	Witness []string `json:"witness,omitempty"`
	// GeoIP lists MaxMind-format databases (.mmdb) that enrichment reads,
	// in order (for each field the first that knows it answers), before
	// the files of DIR/geoip. Optional.
	GeoIP []string `json:"geoip,omitempty"`
	// MaxPendingProposals is how many channel proposals of one peer may
	// wait here, neither accepted nor declined (DefaultMaxPendingProposals
	// when absent): past it a peer's proposal is refused (429) and nothing
	// is stored. Optional; 1 to 10000.
	MaxPendingProposals int `json:"max_pending_proposals,omitempty"`
}

// DefaultMaxPendingProposals is the configuration's max_pending_proposals
// when the file does not set it.
const DefaultMaxPendingProposals = 10

// PendingProposals returns the limit on the channel proposals of one peer
// waiting here: the field, or its default.
func (c *Config) PendingProposals() int {
	if c.MaxPendingProposals == 0 {
		return DefaultMaxPendingProposals
	}
	return c.MaxPendingProposals
}

// ParseConfig reads a configuration file's contents. Unknown fields,
// trailing data and missing or out-of-range values are errors of kind
// KindInvalid that name the field and the rule; defaults are not filled
// in here, so that a file says everything a node does.
func ParseConfig(data []byte) (*Config, error) {
	const op = "node.ParseConfig"
	var c Config
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, dialogue.E(op, dialogue.KindInvalid, describeJSONError(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, dialogue.Errorf(op, dialogue.KindInvalid, "unexpected data after the JSON object")
	}
	if err := c.Validate(); err != nil {
		return nil, dialogue.E(op, dialogue.KindInvalid, err)
	}
	if len(c.GeoIP) == 0 {
		c.GeoIP = nil // "geoip": [] says what no field says
	}
	return &c, nil
}

// describeJSONError turns encoding/json's errors into ones that name the
// field, for a person editing the file by hand.
func describeJSONError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("field %q: must be a %s, not a JSON %s", te.Field, jsonKind(te.Type.Kind().String()), te.Value)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("not valid JSON at byte %d: %v", se.Offset, err)
	}
	if strings.HasPrefix(err.Error(), "json: unknown field ") {
		return fmt.Errorf("field %s: unknown field", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	if err == io.EOF {
		return errors.New("the file is empty")
	}
	return fmt.Errorf("not valid JSON: %v", err)
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "int64", "int", "float64":
		return "number"
	case "slice":
		return "list"
	}
	return goKind
}

// Validate checks every field. The error names the field and the rule.
func (c *Config) Validate() error {
	if err := ValidateName(c.Name); err != nil {
		return fmt.Errorf("field \"name\": %w", err)
	}
	if err := ValidateListen(c.Listen); err != nil {
		return fmt.Errorf("field \"listen\": %w", err)
	}
	if c.MaxBodyBytes < 1024 || c.MaxBodyBytes > 1<<30 {
		return fmt.Errorf("field \"max_body_bytes\": %d is out of range (1024 to %d)", c.MaxBodyBytes, 1<<30)
	}
	if c.MaxPendingProposals < 0 || c.MaxPendingProposals > 10000 {
		return fmt.Errorf("field \"max_pending_proposals\": %d is out of range (1 to 10000; absent: %d)", c.MaxPendingProposals, DefaultMaxPendingProposals)
	}
	seen := make(map[string]bool)
	for i, k := range c.Witness {
		v, err := ParseVerifierKey(k)
		if err != nil {
			return fmt.Errorf("field \"witness\" item %d: %w", i+1, err)
		}
		if seen[v.Name()] {
			return fmt.Errorf("field \"witness\" item %d: a second key named %q (one key per node)", i+1, v.Name())
		}
		seen[v.Name()] = true
	}
	listed := make(map[string]bool)
	for i, p := range c.GeoIP {
		switch {
		case p == "":
			return fmt.Errorf("field \"geoip\" item %d: empty path", i+1)
		case strings.ContainsRune(p, 0):
			return fmt.Errorf("field \"geoip\" item %d: contains a NUL byte", i+1)
		case listed[filepath.Clean(p)]:
			return fmt.Errorf("field \"geoip\" item %d: %q is listed twice", i+1, p)
		}
		listed[filepath.Clean(p)] = true
	}
	for _, f := range []struct{ name, v string }{{"database", c.Database}, {"tls_cert", c.TLSCert}, {"tls_key", c.TLSKey}} {
		if f.v == "" {
			return fmt.Errorf("field %q: missing", f.name)
		}
		if strings.ContainsRune(f.v, 0) {
			return fmt.Errorf("field %q: contains a NUL byte", f.name)
		}
	}
	return nil
}

// ValidateName checks a node name: 1 to 63 characters of letters, digits,
// '-' and '.', starting and ending with a letter or digit, so that it can
// be a DNS name in the certificate.
func ValidateName(name string) error {
	if name == "" {
		return errors.New("a node name is required")
	}
	if len(name) > 63 {
		return fmt.Errorf("node name %q is longer than 63 characters", name)
	}
	for i, c := range name {
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if alnum {
			continue
		}
		if (c == '-' || c == '.') && i > 0 && i < len(name)-1 {
			continue
		}
		return fmt.Errorf("node name %q: character %q at %d is not allowed (letters, digits, inner '-' and '.')", name, c, i)
	}
	if strings.Contains(name, "..") {
		return fmt.Errorf("node name %q has an empty label (\"..\")", name)
	}
	return nil
}

// ValidateListen checks a host:port listen address. Port 0 is allowed
// (the system picks one); the host must be an IP address or a name.
func ValidateListen(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port (%v)", addr, strings.TrimPrefix(err.Error(), "address "+addr+": "))
	}
	if host == "" {
		return fmt.Errorf("%q has no host; use 127.0.0.1:PORT for this machine only, or 0.0.0.0:PORT for every interface", addr)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%q: port %q is not a number from 0 to 65535", addr, port)
	}
	return nil
}

// GeoIPDir is the folder of a node's data folder whose .mmdb files are
// read after those the configuration's geoip field lists.
const GeoIPDir = "geoip"

// GeoIPFiles lists the node's MaxMind-format databases, in the order
// they are read: the configuration's geoip files (relative to the data
// folder unless absolute), then DIR/geoip/*.mmdb in name order, each
// once. It lists no file when there is none; whether the files can be
// read is for the reader (geo.Open) to say.
func (n *Node) GeoIPFiles() ([]string, error) {
	var out []string
	seen := make(map[string]bool)
	for _, p := range n.Config.GeoIP {
		p = filepath.Clean(n.Config.path(n.Dir, p))
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	found, err := filepath.Glob(filepath.Join(n.Dir, GeoIPDir, "*.mmdb"))
	if err != nil {
		return nil, dialogue.E("node.GeoIPFiles", dialogue.KindOther, err)
	}
	sort.Strings(found)
	for _, p := range found {
		if p = filepath.Clean(p); !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out, nil
}

// path resolves a configured path against the data folder.
func (c *Config) path(dir, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

// marshal is the file's contents: indented JSON, so that it can be edited
// by hand.
func (c *Config) marshal() []byte {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		panic(err) // a struct of strings and an int always marshals
	}
	return append(b, '\n')
}

// clipKey shortens a key string for an error message.
func clipKey(s string) string { return dialogue.Clip(s, 80) }

// ParseVerifierKey loads a log's signed-note verifier key
// ("<name>+<id>+<base64>"), as `parley keys show` prints it after
// "log-key". The error never repeats a private key pasted by mistake.
func ParseVerifierKey(k string) (note.Verifier, error) {
	k = strings.TrimSpace(k)
	if strings.HasPrefix(k, "PRIVATE+KEY+") {
		return nil, errors.New("that is a private signing key: give the verifier key (the log-key line of 'parley keys show'), and keep the private one secret")
	}
	v, err := tlog.NewVerifier(k)
	if err != nil {
		return nil, fmt.Errorf("%q is not a signed-note verifier key (want NAME+ID+BASE64, the log-key line of 'parley keys show')", clipKey(k))
	}
	return v, nil
}
