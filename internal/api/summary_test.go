package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/stix"
)

// summaryAPIBundle is a bundle of one incident named name and one
// indicator of the address ip.
func summaryAPIBundle(name, ip string) json.RawMessage {
	ts := stix.FormatTime(time.Now())
	b, _ := json.Marshal(map[string]any{"type": "bundle", "id": stix.NewID("bundle"), "objects": []any{
		map[string]any{"type": "incident", "spec_version": "2.1", "id": stix.NewID("incident"), "created": ts, "modified": ts, "name": name},
		map[string]any{"type": "indicator", "spec_version": "2.1", "id": stix.NewID("indicator"), "created": ts, "modified": ts,
			"pattern": "[ipv4-addr:value = '" + ip + "']", "pattern_type": "stix", "valid_from": ts},
	}})
	return b
}

// GET /summary and GET /responsiveness answer documents valid against
// their schemas, for a reader; the summary counts the GREEN report and
// holds nothing of the AMBER one. GET and PUT /deadlines show and set the
// channel's deadlines, which the next request takes; refusals name the
// field.
func TestSummaryAPI(t *testing.T) {
	a := reqAPINode(t)
	var green, amber struct{ ID string }
	for _, r := range []struct {
		tlp, name, ip string
		out           *struct{ ID string }
	}{{"green", "visible-incident", "198.51.100.5", &green}, {"amber", "AMBER-hidden-incident", "203.0.113.55", &amber}} {
		body := map[string]any{"channel": "a-b", "bundle": summaryAPIBundle(r.name, r.ip), "tlp": r.tlp, "sectors": []string{"energy"}, "severity": 3}
		if st, msg := a.do(t, "ana", "POST", "/reports", body, r.out); st != http.StatusCreated {
			t.Fatalf("POST /reports: %d %s", st, msg)
		}
	}

	st, body := a.do(t, "lea", "GET", "/summary", nil, nil)
	if st != http.StatusOK {
		t.Fatalf("GET /summary: %d %s", st, body)
	}
	hotlineAPIValidate(t, hotlineAPISchema(t, "Summary"), []byte(body))
	var sum struct {
		Counts         map[string]any
		Threat         []any
		Requests       map[string]int
		Responsiveness map[string]any
	}
	json.Unmarshal([]byte(body), &sum)
	if sum.Counts["reports"] != 1.0 || len(sum.Threat) != 1 || sum.Requests["total"] != 0 || sum.Responsiveness["party-a"] == nil || sum.Responsiveness["party-b"] == nil {
		t.Errorf("summary: %s", body)
	}
	for _, secret := range []string{amber.ID, "AMBER-hidden-incident", "203.0.113.55", "198.51.100.5", green.ID} {
		if strings.Contains(body, secret) {
			t.Errorf("the summary holds %q: %s", secret, body)
		}
	}

	st, body = a.do(t, "lea", "GET", "/responsiveness?channel=a-b", nil, nil)
	if st != http.StatusOK || !strings.Contains(body, `"party-b"`) {
		t.Fatalf("GET /responsiveness: %d %s", st, body)
	}
	hotlineAPIValidate(t, hotlineAPISchema(t, "Responsiveness"), []byte(body))

	st, body = a.do(t, "lea", "GET", "/deadlines?channel=a-b", nil, nil)
	if st != http.StatusOK || !strings.Contains(body, `"ack_seconds": 86400`) || !strings.Contains(body, `"default": true`) {
		t.Fatalf("GET /deadlines: %d %s", st, body)
	}
	hotlineAPIValidate(t, hotlineAPISchema(t, "Deadlines"), []byte(body))
	set := map[string]any{"channel": "a-b", "ack_seconds": 7200, "answer_seconds": 100800}
	st, body = a.do(t, "ana", "PUT", "/deadlines", set, nil)
	if st != http.StatusOK || !strings.Contains(body, `"ack_seconds": 7200`) {
		t.Fatalf("PUT /deadlines: %d %s", st, body)
	}
	hotlineAPIValidate(t, hotlineAPISchema(t, "Deadlines"), []byte(body))
	var req struct{ ID string }
	if st, msg := a.do(t, "ana", "POST", "/requests", map[string]any{"channel": "a-b", "about": []string{green.ID}, "text": "help"}, &req); st != http.StatusCreated {
		t.Fatalf("POST /requests: %d %s", st, msg)
	}
	var r struct {
		S time.Time `json:"submitted"`
		A time.Time `json:"ack_deadline"`
		N time.Time `json:"answer_deadline"`
	}
	if st, msg := a.do(t, "lea", "GET", "/requests/"+req.ID, nil, &r); st != http.StatusOK || r.A.Sub(r.S) != 2*time.Hour || r.N.Sub(r.S) != 28*time.Hour {
		t.Errorf("the request's deadlines: %d %s", st, msg)
	}
	for _, c := range []struct {
		user, method, path string
		body               any
		status             int
		want               string
	}{
		{"lea", "PUT", "/deadlines", set, http.StatusForbidden, "needs the role expert, duty or admin"},
		{"ana", "PUT", "/deadlines", map[string]any{"ack_seconds": 60}, http.StatusBadRequest, "channel: required"},
		{"ana", "PUT", "/deadlines", map[string]any{"channel": "a-b", "ack_seconds": 30, "answer_seconds": 60}, http.StatusBadRequest, "ack deadline 30s: want between"},
		{"ana", "PUT", "/deadlines", map[string]any{"channel": "a-b", "ack_seconds": 7200}, http.StatusBadRequest, "answer deadline 0s: want between"},
		{"ana", "PUT", "/deadlines", map[string]any{"channel": "a-b", "ack_seconds": 7200, "answer_seconds": 3600}, http.StatusBadRequest, "answer deadline 1h0m0s: earlier than the ack deadline 2h0m0s"},
		{"ana", "PUT", "/deadlines", map[string]any{"channel": "a-b", "ack_seconds": 7200, "answer_seconds": 36000}, http.StatusBadRequest, "off-limits answer deadline 24h0m0s: longer than the answer deadline 10h0m0s"},
		{"ana", "PUT", "/deadlines", map[string]any{"channel": "a-b", "ack_seconds": 60, "answer_seconds": 1e12}, http.StatusBadRequest, "answer deadline 2160h0m1s: want between"},
		{"ana", "PUT", "/deadlines", map[string]any{"channel": "a-b", "ack": 60}, http.StatusBadRequest, `unknown field \"ack\"`},
		{"ana", "PUT", "/deadlines", map[string]any{"channel": "zz"}, http.StatusNotFound, `no channel \"zz\"`},
		{"lea", "GET", "/deadlines", nil, http.StatusBadRequest, "channel: required"},
		{"lea", "GET", "/responsiveness?channel=zz", nil, http.StatusNotFound, `no channel \"zz\"`},
	} {
		if st, msg := a.do(t, c.user, c.method, c.path, c.body, nil); st != c.status || !strings.Contains(msg, c.want) {
			t.Errorf("%s %s %v as %s: %d %s; want %d %q", c.method, c.path, c.body, c.user, st, msg, c.status, c.want)
		}
	}
}
