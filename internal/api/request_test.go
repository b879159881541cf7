package api_test

import (
	"net/http"
	"strings"
	"testing"
)

// The requests API on the requesting node: file, list, show; the moves
// this party may not make are refused with the status of their kind and
// the rule in words.
func TestRequestsAPI(t *testing.T) {
	a := reqAPINode(t)
	var rep, req struct{ ID string }
	if st, msg := a.do(t, "ana", "POST", "/reports", map[string]any{"channel": "a-b", "bundle": apiBundle(t), "tlp": "amber", "sectors": []string{"energy"}, "severity": 4}, &rep); st != 201 {
		t.Fatalf("POST /reports: %d %s", st, msg)
	}
	filing := map[string]any{"channel": "a-b", "about": []string{rep.ID}, "infrastructure": []string{"203.0.113.7", "c2.example"}, "text": "Please take it down"}
	if st, msg := a.do(t, "ana", "POST", "/requests", filing, &req); st != 201 || !strings.HasPrefix(req.ID, "parley-request--") {
		t.Fatalf("POST /requests: %d %s", st, msg)
	}
	var one map[string]any
	if st, msg := a.do(t, "lea", "GET", "/requests/"+req.ID, nil, &one); st != 200 || one["state"] != "submitted" || one["from"] != "party-a" || one["to"] != "party-b" ||
		one["overdue"] != false || one["ack_deadline"] == nil || one["answer_deadline"] == nil || len(one["history"].([]any)) != 1 {
		t.Fatalf("GET /requests/{id}: %d %s", st, msg)
	}
	var list []map[string]any
	if st, msg := a.do(t, "lea", "GET", "/requests?state=submitted&overdue=false", nil, &list); st != 200 || len(list) != 1 {
		t.Fatalf("GET /requests: %d %s", st, msg)
	}
	if st, msg := a.do(t, "lea", "GET", "/requests?overdue=true", nil, &list); st != 200 || len(list) != 0 {
		t.Fatalf("GET /requests?overdue=true: %d %s", st, msg)
	}
	for _, c := range []struct {
		user, method, path string
		body               any
		status             int
		want               string
	}{
		{"ana", "POST", "/requests/" + req.ID + "/acknowledge", nil, http.StatusForbidden, "only the receiving party may acknowledge a request"},
		{"ana", "POST", "/requests/" + req.ID + "/answer", map[string]any{"kind": "action-takedown"}, http.StatusForbidden, "only the receiving party may answer"},
		{"ana", "POST", "/requests/" + req.ID + "/decline", map[string]any{"text": "no"}, http.StatusForbidden, "only the receiving party may decline"},
		{"ana", "POST", "/requests/" + req.ID + "/close", map[string]any{}, http.StatusConflict, "a request that is submitted cannot be closed"},
		{"ana", "POST", "/requests/" + req.ID + "/answer", map[string]any{"kind": "shrug"}, http.StatusBadRequest, `kind \"shrug\"`},
		{"ana", "POST", "/requests/" + req.ID + "/close", map[string]any{"why": 1}, http.StatusBadRequest, "why"},
		{"lea", "POST", "/requests/" + req.ID + "/close", nil, http.StatusForbidden, "needs the role expert, duty or admin"},
		{"ana", "POST", "/requests/parley-request--00000000-0000-4000-8000-000000000000/close", nil, http.StatusNotFound, "no request"},
		{"ana", "POST", "/requests", map[string]any{"channel": "a-b", "about": []string{rep.ID}, "text": "x", "infrastructure": []string{"::::"}}, http.StatusBadRequest, `infrastructure[0]: \"::::\"`},
		{"ana", "POST", "/requests", map[string]any{"channel": "a-b", "about": []string{rep.ID}}, http.StatusBadRequest, "text: required"},
		{"lea", "GET", "/requests?state=open", nil, http.StatusBadRequest, `state \"open\"`},
		{"lea", "GET", "/requests?overdue=maybe", nil, http.StatusBadRequest, `overdue \"maybe\"`},
	} {
		if st, msg := a.do(t, c.user, c.method, c.path, c.body, nil); st != c.status || !strings.Contains(msg, c.want) {
			t.Errorf("%s %s as %s: %d %s; want %d %q", c.method, c.path, c.user, st, msg, c.status, c.want)
		}
	}
}
