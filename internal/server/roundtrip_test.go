package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/stix"
)

// A TAXII client that POSTs an object to a channel GETs back the bytes it
// sent, on its node and on the peer: nothing adds a creator or a marking
// to an object (a change would need a new version, STIX 2.1 §3.6).
func TestTAXIIPostGetSameBytes(t *testing.T) {
	a, b := startNode(t, "party-a"), startNode(t, "party-b")
	ch := share(t, a, b)
	ts := stix.FormatTime(time.Now().UTC().Truncate(time.Millisecond))
	id := stix.NewID("indicator")
	// Compact JSON in an order of its own, naming no creator and no marking.
	obj := `{"type":"indicator","id":"` + id + `","spec_version":"2.1","modified":"` + ts + `","created":"` + ts +
		`","pattern_type":"stix","pattern":"[ipv4-addr:value = '198.51.100.77']","valid_from":"` + ts + `","name":"round trip"}`
	path := "/taxii2/parley/collections/" + ch + "/objects"
	c := newClient(t, a, idExpert, nil)
	code, body, _, err := c.do(http.MethodPost, path, []byte(`{"objects":[`+obj+`]}`), true)
	if err != nil || code != http.StatusAccepted {
		t.Fatalf("POST: %d %v %.300s", code, err, body)
	}
	var status struct {
		SuccessCount int `json:"success_count"`
	}
	if decode(body, &status); status.SuccessCount != 1 {
		t.Fatalf("POST: %s", body)
	}
	waitFor(t, "b holds the indicator", func() bool {
		page, err := b.srv.Node.Store.FindObjects(context.Background(), ch, dialogue.ObjectFilter{IDs: []string{id}, MetaOnly: true})
		return err == nil && len(page.Objects) == 1
	})
	for _, n := range []*tnode{a, b} {
		code, body, _, err := newClient(t, n, idExpert, nil).do(http.MethodGet, path+"/"+id+"/", nil, true)
		if err != nil || code != http.StatusOK {
			t.Fatalf("%s: GET: %d %v %.300s", n.name, code, err, body)
		}
		var env struct{ Objects []json.RawMessage }
		if err := decode(body, &env); err != nil || len(env.Objects) != 1 {
			t.Fatalf("%s: GET: %v %.300s", n.name, err, body)
		}
		if string(env.Objects[0]) != obj {
			t.Errorf("%s: GET gives\n%s\nfor the POSTed\n%s", n.name, env.Objects[0], obj)
		}
	}
}
