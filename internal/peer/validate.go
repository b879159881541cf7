package peer

import (
	"crypto/sha256"
	"encoding/base64"
	"net"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/text/language"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/tlog"
)

// NewPeer checks what an administrator gives of a peer (`parley peer add`)
// and returns the peer to store. Each error is of kind KindInvalid and
// names the flag and the reason:
//   - name: the peer's node name, which must be the name in its log key;
//   - rawURL: https://HOST:PORT, nothing else;
//   - pin: the tls-pin line of the peer's `parley keys show` (base64
//     SHA-256, "sha256//" before it allowed);
//   - logKey: the log-key line of the same;
//   - territory: empty, or an ISO 3166-1 alpha-2 region code.
func NewPeer(name, rawURL, pin, logKey, territory string) (*dialogue.Peer, error) {
	const op = "peer.NewPeer"
	bad := func(format string, args ...any) (*dialogue.Peer, error) {
		return nil, dialogue.Errorf(op, dialogue.KindInvalid, format, args...)
	}
	v, err := tlog.NewVerifier(logKey)
	if err != nil {
		return bad("--log-key: %s", dialogue.Message(err))
	}
	switch {
	case name == "":
		return bad("--name is required: the peer's node name (%s, the name in its log key)", v.Name())
	case name != v.Name():
		return bad("--name %q: the log key is %s's; the name must be the one in the key", clip(name), v.Name())
	}
	u, err := url.Parse(rawURL)
	switch {
	case rawURL == "":
		return bad("--url is required: where the peer listens, https://HOST:PORT")
	case err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.Trim(u.Path, "/") != "":
		return bad("--url %q: want https://HOST:PORT and nothing else", clip(rawURL))
	}
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil || host == "" {
		return bad("--url %q: want https://HOST:PORT with the port", clip(rawURL))
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return bad("--url %q: port %q: want 1 to 65535", clip(rawURL), clip(port))
	}
	pin = strings.TrimPrefix(strings.TrimSpace(pin), "sha256//")
	sum, err := base64.StdEncoding.DecodeString(pin)
	switch {
	case pin == "":
		return bad("--tls-pin is required: the tls-pin line of the peer's 'parley keys show'")
	case err != nil || len(sum) != sha256.Size:
		return bad("--tls-pin %q: want the base64 SHA-256 of the peer's TLS public key (44 characters)", clip(pin))
	}
	if given := territory; territory != "" {
		territory = strings.ToUpper(territory)
		if !userAssigned(territory) {
			r, err := language.ParseRegion(territory)
			if err != nil || len(territory) != 2 || r.String() != territory || !r.IsCountry() {
				return bad("--territory %q: want an ISO 3166-1 alpha-2 country code, such as FI or NO (or a user-assigned one: AA, QM–QZ, XA–XZ, ZZ)", clip(given))
			}
		}
	}
	return &dialogue.Peer{
		Name:      name,
		URL:       "https://" + u.Host,
		TLSPin:    base64.StdEncoding.EncodeToString(sum),
		LogKey:    logKey,
		Territory: territory,
	}, nil
}

// IdentityID is dialogue.IdentityID: the STIX identity id of the party
// whose node has the given log key.
func IdentityID(logKey string) string { return dialogue.IdentityID(logKey) }

// userAssigned reports whether code is one of ISO 3166-1's user-assigned
// alpha-2 codes (AA, QM–QZ, XA–XZ, ZZ): private territories, such as the
// demo's, that no real state has.
func userAssigned(code string) bool {
	if len(code) != 2 {
		return false
	}
	a, b := code[0], code[1]
	if b < 'A' || b > 'Z' {
		return false
	}
	return code == "AA" || code == "ZZ" || a == 'X' || a == 'Q' && b >= 'M'
}
