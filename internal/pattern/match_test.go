package pattern_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/pattern"
)

// obs builds one observation at second sec of a fixed day from objects
// given as JSON.
func obs(t testing.TB, sec, n int, objects ...string) pattern.Observation {
	t.Helper()
	at := time.Date(2024, 5, 1, 10, 0, sec, 0, time.UTC)
	o := pattern.Observation{ID: fmt.Sprintf("observed-data--%d", sec), FirstObserved: at, LastObserved: at, NumberObserved: n}
	for i, s := range objects {
		v, err := pattern.DecodeJSON([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		o.Objects = append(o.Objects, pattern.Object{Key: fmt.Sprint(i), Props: v.(map[string]any)})
	}
	return o
}

func TestMatch(t *testing.T) {
	data := []pattern.Observation{
		obs(t, 0, 1, `{"type":"ipv6-addr","value":"2001:db8::1"}`),
		obs(t, 5, 2, `{"type":"file","name":"a.exe","hashes":{"SHA-256":"ab"},"size":12,"parent_directory_ref":"1"}`, `{"type":"directory","path":"C:\\Windows"}`),
		obs(t, 9, 1, `{"type":"network-traffic","dst_port":443,"protocols":["tcp","tls"]}`),
	}
	for _, tc := range []struct {
		pattern string
		want    bool
	}{
		{"[ipv6-addr:value ISSUBSET '2001:db8::/32']", true},
		{"[ipv6-addr:value ISSUBSET '2001:db9::/32']", false},
		{"[ipv6-addr:value ISSUBSET '10.0.0.0/8']", false},
		{"[EXISTS file:hashes.'SHA-256']", true},
		{"[EXISTS file:hashes.MD5]", false},
		{"[file:hashes[*] = 'ab']", false}, // [*] steps into lists only, as in the reference matcher
		{"[file:parent_directory_ref.path = 'C:\\\\Windows']", true},
		{"[file:name = 'a.exe' AND directory:path LIKE 'C:%']", false}, // AND needs one object
		{"[network-traffic:protocols[1] = 'tls']", true},
		{"[network-traffic:protocols[2] = 'tls']", false},
		{"[network-traffic:dst_port IN (80, 443)]", true},
		// number_observed 2 counts twice; the others once.
		{"[file:size = 12] REPEATS 2 TIMES", true},
		{"[file:size = 12] REPEATS 3 TIMES", false},
		{"[ipv6-addr:value = '2001:db8::1'] FOLLOWEDBY [network-traffic:dst_port = 443]", true},
		{"[network-traffic:dst_port = 443] FOLLOWEDBY [ipv6-addr:value = '2001:db8::1']", false},
		{"([ipv6-addr:value = '2001:db8::1'] AND [network-traffic:dst_port = 443]) WITHIN 9 SECONDS", true},
		{"([ipv6-addr:value = '2001:db8::1'] AND [network-traffic:dst_port = 443]) WITHIN 8.999 SECONDS", false},
		{"[file:size = 12] START t'2024-05-01T10:00:05Z' STOP t'2024-05-01T10:00:06Z'", true},
		{"[file:size = 12] START t'2024-05-01T10:00:00Z' STOP t'2024-05-01T10:00:05Z'", false},
	} {
		p, err := pattern.Compile(tc.pattern)
		if err != nil {
			t.Errorf("Compile(%q): %v", tc.pattern, err)
			continue
		}
		got, err := p.Match(data)
		if err != nil || got != tc.want {
			t.Errorf("Match(%q) = %v, %v; want %v", tc.pattern, got, err, tc.want)
		}
	}
}

// TestMatchErrors checks that observed data that cannot be judged gives
// an error naming the observation, the path and the reason.
func TestMatchErrors(t *testing.T) {
	for _, tc := range []struct {
		pattern string
		obs     pattern.Observation
		want    string
	}{
		{"[x:t > t'2024-01-01T00:00:00Z']", obs(t, 1, 1, `{"type":"x","t":"yesterday"}`), `observed-data--1: x:t: "yesterday" is compared with a timestamp but is not a STIX timestamp`},
		{"[x:a_ref.b = 1]", obs(t, 2, 1, `{"type":"x","a_ref":5}`), "observed-data--2: the value of reference property a_ref is not a string"},
		{"[x:a_refs[*].b = 1]", obs(t, 3, 1, `{"type":"x","a_refs":"y"}`), "observed-data--3: the value of reference list property a_refs is not a list"},
		{"[x:ip ISSUBSET '10.0.0.0/8']", obs(t, 4, 1, `{"type":"x","ip":"ten"}`), `observed-data--4: x:ip: "ten" is not an IP address or CIDR network`},
		{"[x:p_hex = h'00']", obs(t, 5, 1, `{"type":"x","p_hex":"zz"}`), `observed-data--5: property p_hex is not hex: "zz"`},
		{"[x:a = 1]", obs(t, 6, 0, `{"type":"x","a":1}`), "observed-data--6: number_observed is 0, not at least 1"},
	} {
		p, err := pattern.Compile(tc.pattern)
		if err != nil {
			t.Fatal(err)
		}
		_, err = p.Match([]pattern.Observation{tc.obs})
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, dialogue.ErrInvalid) {
			t.Errorf("Match(%q) error = %v; want kind invalid and %q", tc.pattern, err, tc.want)
		}
	}
}

// TestTooComplex checks that a search with too many ways to bind stops
// with ErrTooComplex instead of running for hours.
func TestTooComplex(t *testing.T) {
	var data []pattern.Observation
	for i := range 60 {
		data = append(data, obs(t, i, 1, `{"type":"x","a":1}`))
	}
	p, err := pattern.Compile("([x:a = 1] FOLLOWEDBY [x:a = 1]) REPEATS 25 TIMES WITHIN 1 SECONDS")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = p.Match(data)
	if !errors.Is(err, pattern.ErrTooComplex) || !errors.Is(err, dialogue.ErrTooLarge) {
		t.Fatalf("Match = %v; want ErrTooComplex of kind too large", err)
	}
	t.Logf("gave up after %v", time.Since(start))
}

func TestFromObjects(t *testing.T) {
	objs := []json.RawMessage{
		json.RawMessage(`{"type":"observed-data","id":"observed-data--1","first_observed":"2024-01-01T00:00:00Z","last_observed":"2023-01-01T00:00:00Z","number_observed":1,"object_refs":["x--1"]}`),
	}
	_, err := pattern.FromObjects(objs)
	if err == nil || !strings.Contains(err.Error(), "observed-data--1: last_observed is before first_observed") {
		t.Errorf("FromObjects = %v; want last_observed is before first_observed", err)
	}
	objs[0] = json.RawMessage(`{"type":"observed-data","id":"observed-data--1","first_observed":"2024-01-01T00:00:00Z","last_observed":"2024-01-01T00:00:00Z","number_observed":"1"}`)
	if _, err := pattern.FromObjects(objs); err == nil || !strings.Contains(err.Error(), "number_observed: an integer from 1 to 999999999 is required") {
		t.Errorf("FromObjects = %v; want number_observed named", err)
	}
}
