package tlog

import (
	"crypto/rand"
	"strings"
	"unicode"
	"unicode/utf8"

	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"
)

// A node has one Ed25519 key pair in signed-note form. The signer key
// ("PRIVATE+KEY+<name>+<id>+<base64>") signs the node's checkpoints and,
// through [NewCosigner], its witness cosignatures; the verifier key
// ("<name>+<id>+<base64>") is what a peer pins. The key name is the node's
// name ([KeyName]).

// KeyName returns the signed-note key name of a node's log key: the node
// name itself (for example "cert-a.example"). It fails when the name has a
// space or a plus sign, which signed notes forbid.
func KeyName(node string) (string, error) {
	const op = "tlog.KeyName"
	if err := checkName(node); err != nil {
		return "", errorf(op, ErrMalformed, "node name %q: %v", node, err)
	}
	return node, nil
}

// checkName applies the signed-note rules for key names and origins.
func checkName(s string) error {
	switch {
	case s == "":
		return errString("is empty")
	case !utf8.ValidString(s):
		return errString("is not valid UTF-8")
	case strings.IndexFunc(s, unicode.IsSpace) >= 0:
		return errString("has a space")
	case strings.ContainsRune(s, '+'):
		return errString("has a plus sign")
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return errString("has a control character")
	}
	return nil
}

type errString string

func (e errString) Error() string { return string(e) }

// GenerateKey makes a new Ed25519 signed-note key pair named after the node.
// The signer key is secret: keep it in a file with mode 0600 and never log it.
func GenerateKey(node string) (signerKey, verifierKey string, err error) {
	const op = "tlog.GenerateKey"
	name, err := KeyName(node)
	if err != nil {
		return "", "", err
	}
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		return "", "", wrapf(op, ErrMalformed, err, "generating a key for %q", node)
	}
	return skey, vkey, nil
}

// NewSigner loads a signer key made by GenerateKey. The error never repeats
// the key.
func NewSigner(signerKey string) (note.Signer, error) {
	const op = "tlog.NewSigner"
	s, err := note.NewSigner(strings.TrimSpace(signerKey))
	if err != nil {
		return nil, errorf(op, ErrMalformed, "log signing key: not an Ed25519 signed-note signer key")
	}
	return s, nil
}

// NewVerifier loads a verifier key: the log key a peer publishes.
func NewVerifier(verifierKey string) (note.Verifier, error) {
	const op = "tlog.NewVerifier"
	v, err := note.NewVerifier(strings.TrimSpace(verifierKey))
	if err != nil {
		return nil, errorf(op, ErrMalformed, "log verifier key %q: %v", verifierKey, err)
	}
	return v, nil
}

// NewCosigner returns the witness signer for cosignature/v1 (Ed25519 with
// a timestamp, C2SP tlog-cosignature) from a signer key: the node's log
// key (its key id then differs from the log signer's, as the specification
// requires) or a key of its own.
func NewCosigner(signerKey string) (note.Signer, error) {
	const op = "tlog.NewCosigner"
	s, err := fnote.NewSignerForCosignatureV1(strings.TrimSpace(signerKey))
	if err != nil {
		return nil, errorf(op, ErrMalformed, "witness signing key: not an Ed25519 signed-note signer key")
	}
	return s, nil
}

// CosignerKey turns a node's log verifier key into the verifier key of its
// cosignatures (the same public key, signature type 0x04), the string a log
// pins for a witness.
func CosignerKey(verifierKey string) (string, error) {
	const op = "tlog.CosignerKey"
	k, err := fnote.VKeyToCosignatureV1(strings.TrimSpace(verifierKey))
	if err != nil {
		return "", errorf(op, ErrMalformed, "verifier key %q: %v", verifierKey, err)
	}
	return k, nil
}

// NewCosignatureVerifier loads a cosigner's verifier key, either in the
// cosignature form (type 0x04, from CosignerKey) or as the node's plain log
// verifier key (type 0x01), which is converted.
func NewCosignatureVerifier(verifierKey string) (note.Verifier, error) {
	const op = "tlog.NewCosignatureVerifier"
	v, err := fnote.NewVerifierForCosignatureV1(strings.TrimSpace(verifierKey))
	if err != nil {
		return nil, errorf(op, ErrMalformed, "cosigner verifier key %q: %v", verifierKey, err)
	}
	return v, nil
}
