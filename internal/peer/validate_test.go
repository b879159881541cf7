package peer

import (
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/tlog"
)

const goodPin = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="

func testKey(t testing.TB, name string) string {
	t.Helper()
	_, vkey, err := tlog.GenerateKey(name)
	if err != nil {
		t.Fatal(err)
	}
	return vkey
}

func TestNewPeer(t *testing.T) {
	key := testKey(t, "cert-b")
	p, err := NewPeer("cert-b", "https://cert-b.example:8443/", "sha256//"+goodPin, key, "no")
	if err != nil {
		t.Fatal(err)
	}
	if p.URL != "https://cert-b.example:8443" || p.TLSPin != goodPin || p.Territory != "NO" || p.LogKey != key {
		t.Errorf("got %+v", p)
	}
	if p, err := NewPeer("cert-b", "https://[::1]:9443", goodPin, key, ""); err != nil || p.URL != "https://[::1]:9443" {
		t.Errorf("IPv6 URL: %+v, %v", p, err)
	}
	for _, code := range []string{"xa", "XB", "QM", "QZ", "AA", "ZZ"} {
		if p, err := NewPeer("cert-b", "https://b:1", goodPin, key, code); err != nil || p.Territory != strings.ToUpper(code) {
			t.Errorf("user-assigned territory %s: %+v, %v", code, p, err)
		}
	}
}

func TestNewPeerBad(t *testing.T) {
	key := testKey(t, "cert-b")
	for _, tc := range []struct {
		name, url, pin, key, territory string
		want                           string // in the message
	}{
		{"cert-b", "https://b:1", goodPin, "", "", "--log-key"},
		{"cert-b", "https://b:1", goodPin, "cert-b+12345678+AAAA", "", "--log-key"},
		{"", "https://b:1", goodPin, key, "", "--name is required"},
		{"cert-c", "https://b:1", goodPin, key, "", "the name must be the one in the key"},
		{"cert-b", "", goodPin, key, "", "--url is required"},
		{"cert-b", "http://b:1", goodPin, key, "", "want https://HOST:PORT"},
		{"cert-b", "https://b", goodPin, key, "", "with the port"},
		{"cert-b", "https://b:0", goodPin, key, "", "want 1 to 65535"},
		{"cert-b", "https://b:70000", goodPin, key, "", "want 1 to 65535"},
		{"cert-b", "https://b:1/taxii2/", goodPin, key, "", "nothing else"},
		{"cert-b", "https://u:p@b:1", goodPin, key, "", "nothing else"},
		{"cert-b", "https://b:1?x=1", goodPin, key, "", "nothing else"},
		{"cert-b", "https://b:1", "", key, "", "--tls-pin is required"},
		{"cert-b", "https://b:1", "not base64!", key, "", "--tls-pin"},
		{"cert-b", "https://b:1", "AAAA", key, "", "44 characters"},
		{"cert-b", "https://b:1", goodPin, key, "NOR", "--territory"},
		{"cert-b", "https://b:1", goodPin, key, "QB", "--territory"},
		{"cert-b", "https://b:1", goodPin, key, "EU", "--territory"},
		{"cert-b", "https://b:1", goodPin, key, "X1", "--territory"},
		{"cert-b", "https://b:1", goodPin, key, "1", "--territory"},
	} {
		_, err := NewPeer(tc.name, tc.url, tc.pin, tc.key, tc.territory)
		if err == nil {
			t.Errorf("%+v: accepted", tc)
			continue
		}
		if dialogue.KindOf(err) != dialogue.KindInvalid || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v (kind %v), want a KindInvalid error saying %q", tc, err, dialogue.KindOf(err), tc.want)
		}
	}
}

func FuzzNewPeer(f *testing.F) {
	key := testKey(f, "cert-b")
	f.Add("cert-b", "https://b:1", goodPin, "NO")
	f.Add("cert-b", "https://[::1]:65535/", "sha256//"+goodPin, "")
	f.Add("x", "ftp://b", "", "zz")
	f.Fuzz(func(t *testing.T, name, url, pin, territory string) {
		p, err := NewPeer(name, url, pin, key, territory)
		if err != nil {
			if dialogue.KindOf(err) != dialogue.KindInvalid {
				t.Fatalf("kind %v: %v", dialogue.KindOf(err), err)
			}
			return
		}
		// What is accepted comes out normalised and is accepted again.
		q, err := NewPeer(p.Name, p.URL, p.TLSPin, p.LogKey, p.Territory)
		if err != nil || *q != *p {
			t.Fatalf("not stable: %+v then %+v, %v", p, q, err)
		}
	})
}

func TestParseChannelMessageBad(t *testing.T) {
	const id = "6f1c1f4e-3c3a-4a39-9b86-2c1f0f3c8e21"
	for _, tc := range []struct{ body, want string }{
		{``, "channel message"},
		{`[]`, "channel message"},
		{`{"id":"` + id + `","title":"t","state":"active","extra":1}`, "unknown field"},
		{`{"id":"` + id + `","title":"t","state":"active"} {}`, "after the top-level value"},
		{`{"id":"` + strings.ToUpper(id) + `","title":"t","state":"active"}`, "id"},
		{`{"id":"collection--` + id + `","title":"t","state":"active"}`, "want a UUID"},
		{`{"id":"` + id + `","title":"  ","state":"active"}`, "title"},
		{`{"id":"` + id + `","title":"` + strings.Repeat("t", 201) + `","state":"active"}`, "title"},
		{`{"id":"` + id + `","title":"t","description":"` + strings.Repeat("d", 4001) + `","state":"active"}`, "description"},
		{`{"id":"` + id + `","title":"t","state":"offered"}`, "state"},
		{`{"id":"` + id + `","title":"t"}`, "state"},
		{`{"id":5,"title":"t","state":"active"}`, "id"},
		{`{"id":"` + id + `","title":"t","state":"active","title":"u"}`, `duplicate member name "title" (at /title)`},
		{`{"id":"` + id + `","title":"t","state":"active","description":"d","description":"e"}`, "/description"},
	} {
		var m ChannelMessage
		err := ParseChannelMessage([]byte(tc.body), &m)
		if err == nil || dialogue.KindOf(err) != dialogue.KindInvalid || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%.60s: got %v, want a KindInvalid error saying %q", tc.body, err, tc.want)
		}
	}
	var m ChannelMessage
	if err := ParseChannelMessage([]byte(`{"id":"`+id+`","title":"A-B incidents","state":"proposed"}`), &m); err != nil || m.Title != "A-B incidents" {
		t.Errorf("good message: %+v, %v", m, err)
	}
}

func FuzzParseChannelMessage(f *testing.F) {
	f.Add([]byte(`{"id":"6f1c1f4e-3c3a-4a39-9b86-2c1f0f3c8e21","title":"t","state":"proposed"}`))
	f.Add([]byte(`{"id":"","title":"","state":""}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var m ChannelMessage
		if err := ParseChannelMessage(body, &m); err != nil {
			if dialogue.KindOf(err) != dialogue.KindInvalid {
				t.Fatalf("kind %v: %v", dialogue.KindOf(err), err)
			}
			return
		}
		if !isUUID(m.ID) || (m.State != dialogue.ChannelProposed && m.State != dialogue.ChannelActive) {
			t.Fatalf("accepted %+v", m)
		}
	})
}
