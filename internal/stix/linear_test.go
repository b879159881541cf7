package stix

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// wideObject builds a valid custom object with n members in the shape
// named: many custom properties, one dictionary with many keys, one
// long list, many small nested objects, or one long string.
func wideObject(shape string, n int) []byte {
	var b strings.Builder
	b.WriteString(`{"type":"x-wide","spec_version":"2.1","id":"x-wide--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z"`)
	switch shape {
	case "properties":
		for i := range n {
			fmt.Fprintf(&b, `,"x_p%d":%d`, i, i)
		}
	case "dictionary":
		b.WriteString(`,"x_dict":{`)
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `"k%d":"v"`, i)
		}
		b.WriteString(`}`)
	case "list":
		b.WriteString(`,"x_list":[`)
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.Itoa(i))
		}
		b.WriteString(`]`)
	case "nested":
		b.WriteString(`,"x_list":[`)
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"a":%d,"b":{"c":[true]}}`, i)
		}
		b.WriteString(`]`)
	case "string":
		b.WriteString(`,"x_text":"`)
		b.WriteString(strings.Repeat(`ab\"`, n))
		b.WriteString(`"`)
	}
	b.WriteString(`}`)
	return []byte(b.String())
}

var wideShapes = []string{"properties", "dictionary", "list", "nested", "string"}

// coldParse parses data with a decoder of its own, as the first object
// after a large one (or after a garbage collection) is: comparing a
// small object read with the pool's warm decoder to a large one (which
// always gets a new one, see release) would measure the pool, not the
// parser.
func coldParse(data []byte) error {
	decoderPool.Get() // dropped: Parse makes a new one
	_, _, err := Parse(data)
	return err
}

// TestParseIsLinear parses objects of 100,000 members of every shape:
// each takes well under a second when the work per member is constant
// (a tenth of that on an idle machine), and a minute when it grows with
// the number of members. The limit is generous, for busy machines.
func TestParseIsLinear(t *testing.T) {
	if testing.Short() {
		t.Skip("timing test")
	}
	const n, limit = 100_000, 10 * time.Second
	for _, shape := range wideShapes {
		t.Run(shape, func(t *testing.T) {
			data := wideObject(shape, n)
			done := make(chan error, 1)
			start := time.Now()
			go func() { done <- coldParse(data) }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("%d members: %v", n, time.Since(start))
			case <-time.After(limit):
				t.Fatalf("%d members: not parsed after %v", n, limit)
			}
		})
	}
}

// TestDuplicateCheckIsLinear counts the member names the duplicate
// check compares: at most linearKeys, or one hash and the rare names
// whose hashes are equal, per member, however many members an object
// has and however they nest.
func TestDuplicateCheckIsLinear(t *testing.T) {
	for _, shape := range wideShapes {
		for _, n := range []int{1_000, 100_000} {
			data := wideObject(shape, n)
			d := getDecoder(data)
			if _, err := d.decode(); err != nil {
				t.Fatal(err)
			}
			members := bytes.Count(data, []byte(":")) // an upper bound: every member has one
			if d.nameCompares > (linearKeys+1)*members {
				t.Errorf("%s, %d: %d comparisons for %d members", shape, n, d.nameCompares, members)
			}
			d.release()
		}
	}
}
