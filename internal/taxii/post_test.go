package taxii_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/taxii"
)

const objectsAdd = apiRoot + "collections/" + colAdd + "/objects/"

func envelope(objs ...[]byte) string {
	parts := make([]string, len(objs))
	for i, o := range objs {
		parts[i] = string(o)
	}
	return `{"objects":[` + strings.Join(parts, ",") + `]}`
}

func TestPostObjects(t *testing.T) {
	n := newNode(t, nodeOptions{fixture: true})
	good1, good2 := indicator(1), indicator(2)
	bad := []byte(`{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"yesterday","modified":"2024-01-02T03:04:05.000Z","pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix","valid_from":"2024-01-02T03:04:05Z"}`)
	a := n.do(t, req{method: http.MethodPost, path: objectsAdd, user: "user1", contentType: taxii.MediaTypeTAXII, body: envelope(good1, bad, good2)})
	if a.status != http.StatusAccepted || a.header.Get("Content-Type") != taxii.MediaTypeTAXII {
		t.Fatalf("POST: %d %s", a.status, a.body)
	}
	var st taxii.Status
	a.json(t, &st)
	if st.ID == "" || st.Status != "complete" || st.RequestTimestamp == "" || st.TotalCount != 3 || st.SuccessCount != 2 || st.FailureCount != 1 || st.PendingCount != 0 ||
		len(st.Successes) != 2 || len(st.Failures) != 1 {
		t.Fatalf("status %s", a.body)
	}
	if f := st.Failures[0]; f.ID != "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f" || !strings.Contains(f.Message, "/created") {
		t.Errorf("failure %+v: want the id and a message naming /created", f)
	}
	for _, s := range st.Successes {
		if s.Version != "2024-01-02T03:04:05.000Z" || s.Message != "added" {
			t.Errorf("success %+v", s)
		}
	}
	// The status resource can be fetched again.
	b := n.do(t, req{path: apiRoot + "status/" + st.ID + "/", user: "user1"})
	var st2 taxii.Status
	b.json(t, &st2)
	if b.status != 200 || fmt.Sprint(st2) != fmt.Sprint(st) {
		t.Errorf("GET status: %d\n%+v\nwant\n%+v", b.status, st2, st)
	}
	// The objects are there, in the order posted.
	a = n.do(t, req{path: objectsAdd, user: "user1"})
	var env taxii.Envelope
	a.json(t, &env)
	if len(env.Objects) != 2 || string(env.Objects[0]) != string(good1) || string(env.Objects[1]) != string(good2) {
		t.Errorf("objects after POST: %s", a.body)
	}
	// Posting them again adds nothing and says so.
	a = n.do(t, req{method: http.MethodPost, path: objectsAdd, user: "admin", contentType: taxii.MediaTypeTAXII, body: envelope(good1, good2)})
	a.json(t, &st)
	if st.SuccessCount != 2 || st.FailureCount != 0 || !strings.Contains(st.Successes[0].Message, "unchanged") {
		t.Errorf("second POST: %s", a.body)
	}
	// A bundle, with the STIX media type and with the TAXII one.
	for i, ct := range []string{taxii.MediaTypeSTIX, taxii.MediaTypeTAXII, "application/stix+json"} {
		bundle := fmt.Sprintf(`{"type":"bundle","id":"bundle--6f3b9b5e-5d5c-4c3e-8f3e-2a1d0c9b8a7%d","objects":[%s]}`, i, indicator(10+i))
		a = n.do(t, req{method: http.MethodPost, path: objectsAdd, user: "token", contentType: ct, body: bundle})
		a.json(t, &st)
		if a.status != 202 || st.SuccessCount != 1 {
			t.Errorf("bundle as %s: %d %s", ct, a.status, a.body)
		}
	}
	// An empty envelope is a status with nothing in it.
	a = n.do(t, req{method: http.MethodPost, path: objectsAdd, user: "user1", contentType: taxii.MediaTypeTAXII, body: `{"objects":[]}`})
	a.json(t, &st)
	if a.status != 202 || st.TotalCount != 0 {
		t.Errorf("empty envelope: %d %s", a.status, a.body)
	}
	if c := n.count(t); c != 7+5 {
		t.Errorf("%d objects stored, want 12", c)
	}
	// Statuses: unknown, malformed, of a collection the user cannot see.
	checkError(t, n.do(t, req{path: apiRoot + "status/2d086da7-4bdc-4f91-900e-d77486753710/", user: "user1"}), 404, "no status")
	checkError(t, n.do(t, req{path: apiRoot + "status/nope/", user: "user1"}), 404, "no status")
}

func TestPostObjectsBadInput(t *testing.T) {
	const limit = 64 << 10
	n := newNode(t, nodeOptions{fixture: true, maxBody: limit})
	big := envelope(indicator(1)) + strings.Repeat(" ", limit)
	for _, tc := range []struct {
		name, contentType, body string
		status                  int
		msg                     string
	}{
		{"no content type", "", envelope(indicator(1)), 415, "Content-Type"},
		{"json", "application/json", envelope(indicator(1)), 415, "Content-Type"},
		{"taxii 2.0", "application/taxii+json;version=2.0", envelope(indicator(1)), 415, "Content-Type"},
		{"garbage type", "this is not a media type", envelope(indicator(1)), 415, "Content-Type"},
		{"not json", taxii.MediaTypeTAXII, `{"objects": [`, 400, "not valid JSON"},
		{"empty body", taxii.MediaTypeTAXII, ``, 400, "not valid JSON"},
		{"array", taxii.MediaTypeTAXII, `[` + string(indicator(1)) + `]`, 422, "not an object"},
		{"no objects", taxii.MediaTypeTAXII, `{"more": false}`, 422, "/objects: missing"},
		{"objects not array", taxii.MediaTypeTAXII, `{"objects": {"a": 1}}`, 422, "/objects: not an array"},
		{"object not object", taxii.MediaTypeTAXII, `{"objects": [1]}`, 422, "/objects/0"},
		{"a bare object", taxii.MediaTypeTAXII, string(indicator(1)), 422, "single \"indicator\" object"},
		{"stix type, not bundle", taxii.MediaTypeSTIX, envelope(indicator(1)), 422, "must be a STIX bundle"},
		{"over the limit", taxii.MediaTypeTAXII, big, 413, "larger than the limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := n.do(t, req{method: http.MethodPost, path: objectsAdd, user: "user1", contentType: tc.contentType, body: tc.body})
			checkError(t, a, tc.status, tc.msg)
		})
	}
	// A body over the limit without a Content-Length (chunked) is refused
	// while it is read.
	pr := strings.NewReader(big)
	hr, _ := http.NewRequest(http.MethodPost, n.srv.URL+objectsAdd, struct{ *strings.Reader }{pr})
	hr.ContentLength = -1
	hr.Header.Set("Content-Type", taxii.MediaTypeTAXII)
	hr.SetBasicAuth("user1", users[1].password)
	resp, err := n.client.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Errorf("chunked body over the limit: %d", resp.StatusCode)
	}
	// Nothing was written.
	if c := n.count(t); c != 7 {
		t.Errorf("%d objects stored after refused POSTs, want 7", c)
	}
	if p, _ := n.db.FindObjects(context.Background(), colAdd, dialogue.ObjectFilter{}); len(p.Objects) != 0 {
		t.Errorf("collection has %d objects", len(p.Objects))
	}
}

func TestDeleteObject(t *testing.T) {
	n := newNode(t, nodeOptions{fixture: true})
	path := objectsHigh + idInd3 + "/"
	a := n.do(t, req{method: http.MethodDelete, path: path + "?match[version]=first", user: "user1"})
	if a.status != 200 || len(a.body) != 0 {
		t.Fatalf("DELETE first: %d %s", a.status, a.body)
	}
	a = n.do(t, req{path: path + "versions/", user: "user1"})
	var v taxii.Versions
	a.json(t, &v)
	if fmt.Sprint(v.Versions) != "[2016-12-25T12:30:59.444Z 2017-01-27T13:49:53.935Z]" {
		t.Errorf("versions after deleting the first: %v", v.Versions)
	}
	checkError(t, n.do(t, req{method: http.MethodDelete, path: path + "?match[version]=2000-01-01T00:00:00Z", user: "user1"}), 404, "no version")
	checkError(t, n.do(t, req{method: http.MethodDelete, path: path + "?match[version]=bad", user: "user1"}), 400, "match[version]")
	checkError(t, n.do(t, req{method: http.MethodDelete, path: path + "?match[spec_version]=2.0", user: "user1"}), 404, "no version")
	a = n.do(t, req{method: http.MethodDelete, path: path, user: "user1"})
	if a.status != 200 {
		t.Fatalf("DELETE all: %d %s", a.status, a.body)
	}
	checkError(t, n.do(t, req{path: path, user: "user1"}), 404, "no object")
	checkError(t, n.do(t, req{method: http.MethodDelete, path: path, user: "user1"}), 404, "no version")
	if c := n.count(t); c != 4 {
		t.Errorf("%d objects left, want 4", c)
	}
}

// TestPagingWhileAdding pages through a collection while other requests
// add objects to it: every object present before paging started is seen
// exactly once, nothing is seen twice, and the pages stay in date_added
// order.
func TestPagingWhileAdding(t *testing.T) {
	n := newNode(t, nodeOptions{fixture: true})
	var before []string
	for i := range 60 {
		before = append(before, string(indicator(i)))
	}
	a := n.do(t, req{method: http.MethodPost, path: objectsAdd, user: "user1", contentType: taxii.MediaTypeTAXII, body: "{\"objects\":[" + strings.Join(before, ",") + "]}"})
	if a.status != 202 {
		t.Fatal(a.status, string(a.body))
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	added := 0
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 100; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			b := n.do(t, req{method: http.MethodPost, path: objectsAdd, user: "user1", contentType: taxii.MediaTypeTAXII, body: envelope(indicator(i), indicator(i+1000))})
			if b.status != 202 {
				t.Errorf("concurrent POST: %d", b.status)
				return
			}
			added += 2
		}
	}()
	seen := map[string]int{}
	lastAdded := ""
	q := "limit=7"
	for {
		a := n.do(t, req{path: objectsAdd + "?" + q, user: "token"})
		var env taxii.Envelope
		a.json(t, &env)
		for _, id := range ids(t, a) {
			seen[id]++
		}
		if f := a.header.Get(taxii.HeaderDateAddedFirst); f != "" && f <= lastAdded {
			t.Errorf("page starts at %s, not after the previous page's end %s", f, lastAdded)
		}
		if l := a.header.Get(taxii.HeaderDateAddedLast); l != "" {
			lastAdded = l
		}
		if !env.More {
			break
		}
		q = "limit=7&next=" + url.QueryEscape(env.Next)
	}
	close(stop)
	wg.Wait()
	for id, c := range seen {
		if c != 1 {
			t.Errorf("%s seen %d times", id, c)
		}
	}
	for _, o := range before {
		id := o[strings.Index(o, `"id":"`)+6:]
		id = id[:strings.IndexByte(id, '"')]
		if seen[id] != 1 {
			t.Errorf("%s, there before paging began, seen %d times", id, seen[id])
		}
	}
	if added == 0 {
		t.Log("no object was added while paging")
	}
	t.Logf("%d objects seen, %d added while paging", len(seen), added)
}

func TestMetrics(t *testing.T) {
	n := newNode(t, nodeOptions{fixture: true})
	n.do(t, req{path: objectsHigh, user: "user1"})
	n.do(t, req{path: objectsHigh + "?limit=0", user: "user1"})
	n.do(t, req{method: http.MethodPost, path: objectsAdd, user: "user1", contentType: taxii.MediaTypeTAXII, body: envelope(indicator(1), []byte(`{"type":"indicator"}`))})
	a := n.do(t, req{path: "/metrics", user: "admin", accept: "-"})
	if a.status != 200 {
		t.Fatalf("metrics: %d %s", a.status, a.body)
	}
	body := string(a.body)
	for _, want := range []string{
		`parley_http_requests_total{method="GET",route="/taxii2/parley/collections/{collection}/objects",status="200"} 1`,
		`parley_http_requests_total{method="GET",route="/taxii2/parley/collections/{collection}/objects",status="400"} 1`,
		`parley_http_requests_total{method="POST",route="/taxii2/parley/collections/{collection}/objects",status="202"} 1`,
		`parley_http_request_duration_seconds_bucket{method="GET",route="/taxii2/parley/collections/{collection}/objects",le="+Inf"} 2`,
		`parley_import_objects_total{outcome="new"} 1`,
		`parley_import_objects_total{outcome="rejected"} 1`,
		`parley_import_objects_total{outcome="unchanged"} 0`,
		`parley_store_objects 8`,
		`parley_store_collections 5`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
