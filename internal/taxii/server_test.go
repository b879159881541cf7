package taxii_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/taxii"
)

const (
	apiRoot     = "/taxii2/parley/"
	objectsHigh = apiRoot + "collections/" + colHigh + "/objects/"
)

// checkError checks that a answered status with a TAXII error object in
// the TAXII media type whose description contains want.
func checkError(t *testing.T, a *answer, status int, want string) {
	t.Helper()
	if a.status != status {
		t.Fatalf("status %d, want %d; body %s", a.status, status, a.body)
	}
	if ct := a.header.Get("Content-Type"); ct != taxii.MediaTypeTAXII {
		t.Errorf("error Content-Type %q, want %q", ct, taxii.MediaTypeTAXII)
	}
	var e struct {
		Title, Description string
		HTTPStatus         string `json:"http_status"`
	}
	a.json(t, &e)
	if e.Title == "" || e.HTTPStatus != fmt.Sprint(status) {
		t.Errorf("error object %s: want a title and http_status %q", a.body, fmt.Sprint(status))
	}
	if !strings.Contains(e.Description, want) {
		t.Errorf("error description %q does not contain %q", e.Description, want)
	}
}

func ids(t *testing.T, a *answer) []string {
	t.Helper()
	var env struct {
		Objects []struct {
			ID       string `json:"id"`
			Modified string `json:"modified"`
		} `json:"objects"`
	}
	a.json(t, &env)
	var out []string
	for _, o := range env.Objects {
		s := o.ID
		if o.ID == idInd3 {
			s += "@" + o.Modified
		}
		out = append(out, s)
	}
	return out
}

const (
	ind3v1 = idInd3 + "@2016-11-03T12:30:59.000Z"
	ind3v2 = idInd3 + "@2016-12-25T12:30:59.444Z"
	ind3v3 = idInd3 + "@2017-01-27T13:49:53.935Z"
)

func TestDiscoveryAndAPIRoot(t *testing.T) {
	n := newNode(t, nodeOptions{tls: true, fixture: true})
	a := n.do(t, req{path: "/taxii2/", user: "admin"})
	if a.status != 200 || a.header.Get("Content-Type") != taxii.MediaTypeTAXII {
		t.Fatalf("discovery: %d %q %s", a.status, a.header.Get("Content-Type"), a.body)
	}
	var d taxii.Discovery
	a.json(t, &d)
	want := n.srv.URL + "/taxii2/parley/"
	if !strings.HasPrefix(want, "https://") || d.Default != want || len(d.APIRoots) != 1 || d.APIRoots[0] != want || d.Title == "" || d.Contact != "cert@example.org" {
		t.Errorf("discovery %+v, want default and api_roots %s", d, want)
	}
	a = n.do(t, req{path: "/taxii2", user: "admin"})
	if a.status != 200 {
		t.Errorf("/taxii2 without slash: %d", a.status)
	}

	a = n.do(t, req{path: apiRoot, user: "admin"})
	var info taxii.APIRootInfo
	a.json(t, &info)
	if a.status != 200 || info.Title == "" || len(info.Versions) != 1 || info.Versions[0] != taxii.MediaTypeTAXII || info.MaxContentLength != 10<<20 {
		t.Errorf("API root: %d %+v", a.status, info)
	}
	checkError(t, n.do(t, req{path: "/taxii2/trustgroup1/", user: "admin"}), 404, "no TAXII resource")
	checkError(t, n.do(t, req{path: "/taxii2/parley/nothing/", user: "admin"}), 404, "no TAXII resource")
	checkError(t, n.do(t, req{path: "/elsewhere", user: "admin"}), 404, "no resource")
}

func TestCollections(t *testing.T) {
	n := newNode(t, nodeOptions{fixture: true})
	for _, tc := range []struct {
		user string
		want map[string][2]bool // id -> can_read, can_write
	}{
		{"admin", map[string][2]bool{colWriteOnly: {false, true}, colAdd: {true, true}, colHigh: {true, true}, colReadOnly: {true, false}}},
		// A lead reads; the role may not write whatever the grants say.
		{"lead", map[string][2]bool{colAdd: {true, false}, colHigh: {true, false}, colReadOnly: {true, false}}},
	} {
		a := n.do(t, req{path: apiRoot + "collections/", user: tc.user})
		var cs taxii.Collections
		a.json(t, &cs)
		got := map[string][2]bool{}
		for _, c := range cs.Collections {
			got[c.ID] = [2]bool{c.CanRead, c.CanWrite}
			if len(c.MediaTypes) != 1 || c.MediaTypes[0] != taxii.MediaTypeSTIX || c.Title == "" {
				t.Errorf("collection %+v: want a title and media_types [%s]", c, taxii.MediaTypeSTIX)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s sees %v, want %v", tc.user, got, tc.want)
		}
	}
	a := n.do(t, req{path: apiRoot + "collections/" + colHigh + "/", user: "token"})
	var c taxii.CollectionInfo
	a.json(t, &c)
	if a.status != 200 || c.ID != colHigh || c.Title != "High Value Indicator Collection" || c.Description == "" || !c.CanRead || !c.CanWrite {
		t.Errorf("collection detail: %d %+v", a.status, c)
	}
	// A collection the user may neither read nor write is not there for it.
	checkError(t, n.do(t, req{path: apiRoot + "collections/" + colSecret + "/", user: "admin"}), 404, "no collection")
	checkError(t, n.do(t, req{path: apiRoot + "collections/00000000-0000-4000-8000-000000000000/", user: "admin"}), 404, "no collection")
	// A title is not a collection's URL name.
	checkError(t, n.do(t, req{path: apiRoot + "collections/" + url.PathEscape("High Value Indicator Collection") + "/", user: "admin"}), 404, "no collection")
}

func TestGetObjectsFilters(t *testing.T) {
	n := newNode(t, nodeOptions{fixture: true})
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", []string{idRel, idInd1, idMarking, idMalware, ind3v3}},
		{"match[type]=indicator", []string{idInd1, ind3v3}},
		{"match[type]=indicator,relationship", []string{idRel, idInd1, ind3v3}},
		{"match[type]=indicator&match[type]=malware", []string{idInd1, idMalware, ind3v3}},
		{"match[type]=x-not-there", nil},
		{"match[id]=" + idInd3, []string{ind3v3}},
		{"match[id]=" + idInd3 + "&match[version]=all", []string{ind3v1, ind3v2, ind3v3}},
		{"match[id]=" + idInd3 + "&match[version]=first", []string{ind3v1}},
		{"match[id]=" + idInd3 + "&match[version]=last", []string{ind3v3}},
		{"match[id]=" + idInd3 + "&match[version]=first,last", []string{ind3v1, ind3v3}},
		{"match[id]=" + idInd3 + "&match[version]=2016-12-25T12:30:59.444Z", []string{ind3v2}},
		{"match[id]=" + idInd3 + "&match[version]=2016-12-25T12:30:59.444Z,first", []string{ind3v1, ind3v2}},
		{"match[id]=" + idInd3 + "," + idRel, []string{idRel, ind3v3}},
		{"match[version]=all", []string{idRel, idInd1, ind3v1, ind3v2, idMarking, idMalware, ind3v3}},
		{"match[version]=first", []string{idRel, idInd1, ind3v1, idMarking, idMalware}},
		{"match[spec_version]=2.1", []string{idRel, idInd1, idMarking, idMalware, ind3v3}},
		{"match[spec_version]=2.0", nil},
		{"match[type]=indicator&match[id]=" + idRel, nil},
		{"added_after=2999-01-01T00:00:00Z", nil},
		{"added_after=2000-01-01T00:00:00Z", []string{idRel, idInd1, idMarking, idMalware, ind3v3}},
		{"unknown=1&match[unknown]=2", []string{idRel, idInd1, idMarking, idMalware, ind3v3}},
	} {
		a := n.do(t, req{path: objectsHigh + "?" + tc.query, user: "user1"})
		if a.status != 200 || a.header.Get("Content-Type") != taxii.MediaTypeTAXII {
			t.Errorf("%s: %d %q %s", tc.query, a.status, a.header.Get("Content-Type"), a.body)
			continue
		}
		if got := ids(t, a); fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s:\n got %v\nwant %v", tc.query, got, tc.want)
		}
		first, last := a.header.Get(taxii.HeaderDateAddedFirst), a.header.Get(taxii.HeaderDateAddedLast)
		if (len(tc.want) > 0) != (first != "" && last != "") || first > last {
			t.Errorf("%s: date-added headers %q %q", tc.query, first, last)
		}
	}

	// added_after the first object's date_added leaves the rest; the
	// headers give the first and last date_added of the page.
	all := n.do(t, req{path: objectsHigh + "?match[version]=all", user: "user1"})
	first := all.header.Get(taxii.HeaderDateAddedFirst)
	a := n.do(t, req{path: objectsHigh + "?match[version]=all&added_after=" + first, user: "user1"})
	if got := ids(t, a); fmt.Sprint(got) != fmt.Sprint([]string{idInd1, ind3v1, ind3v2, idMarking, idMalware, ind3v3}) {
		t.Errorf("added_after first: %v", got)
	}
	if a.header.Get(taxii.HeaderDateAddedLast) != all.header.Get(taxii.HeaderDateAddedLast) {
		t.Errorf("last date added differs: %q %q", a.header.Get(taxii.HeaderDateAddedLast), all.header.Get(taxii.HeaderDateAddedLast))
	}
	// Objects come back byte for byte as stored.
	var env struct{ Objects []json.RawMessage }
	all.json(t, &env)
	if !strings.Contains(string(env.Objects[0]), `"relationship_type"`) {
		t.Errorf("first object %s", env.Objects[0])
	}
}

func TestGetObjectsPaging(t *testing.T) {
	n := newNode(t, nodeOptions{fixture: true})
	var got []string
	q := "match[version]=all&limit=3"
	pages := 0
	for {
		a := n.do(t, req{path: objectsHigh + "?" + q, user: "user1"})
		var env taxii.Envelope
		a.json(t, &env)
		got = append(got, ids(t, a)...)
		pages++
		if !env.More {
			if env.Next != "" {
				t.Errorf("last page has next %q", env.Next)
			}
			break
		}
		if env.Next == "" || len(env.Objects) != 3 {
			t.Fatalf("page %d: more without next, or short: %s", pages, a.body)
		}
		q = "match[version]=all&limit=3&next=" + url.QueryEscape(env.Next)
	}
	want := []string{idRel, idInd1, ind3v1, ind3v2, idMarking, idMalware, ind3v3}
	if pages != 3 || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%d pages: %v, want 3 pages: %v", pages, got, want)
	}
	// A limit over the maximum is capped, not refused.
	small := newNode(t, nodeOptions{fixture: true, maxPage: 2})
	a := small.do(t, req{path: objectsHigh + "?limit=100000", user: "user1"})
	var env taxii.Envelope
	a.json(t, &env)
	if a.status != 200 || len(env.Objects) != 2 || !env.More {
		t.Errorf("limit over max: %d, %d objects, more %v", a.status, len(env.Objects), env.More)
	}
}

func TestGetObjectByID(t *testing.T) {
	n := newNode(t, nodeOptions{fixture: true})
	base := objectsHigh + idInd3 + "/"
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", []string{ind3v3}},
		{"match[version]=all", []string{ind3v1, ind3v2, ind3v3}},
		{"match[version]=first", []string{ind3v1}},
		{"match[version]=2016-12-25T12:30:59.444Z", []string{ind3v2}},
		{"match[version]=2000-01-01T00:00:00.000Z", nil},
		{"match[version]=all&limit=2", []string{ind3v1, ind3v2}},
		{"match[spec_version]=2.0", nil},
		{"match[version]=all&added_after=2999-01-01T00:00:00Z", nil},
	} {
		a := n.do(t, req{path: base + "?" + tc.query, user: "user1"})
		if a.status != 200 {
			t.Errorf("%s: %d %s", tc.query, a.status, a.body)
			continue
		}
		if got := ids(t, a); fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s: got %v, want %v", tc.query, got, tc.want)
		}
	}
	a := n.do(t, req{path: objectsHigh + idMarking, user: "user1"})
	if got := ids(t, a); a.status != 200 || fmt.Sprint(got) != fmt.Sprint([]string{idMarking}) || a.header.Get(taxii.HeaderDateAddedFirst) == "" {
		t.Errorf("marking definition: %d %v", a.status, got)
	}
	checkError(t, n.do(t, req{path: objectsHigh + "indicator--00000000-0000-4000-8000-000000000000/", user: "user1"}), 404, "no object")
	checkError(t, n.do(t, req{path: objectsHigh + "not-an-id/", user: "user1"}), 404, "not a STIX object id")
	// An object of another collection is not found here.
	checkError(t, n.do(t, req{path: apiRoot + "collections/" + colAdd + "/objects/" + idInd3 + "/", user: "user1"}), 404, "no object")
}

func TestVersionsAndManifest(t *testing.T) {
	n := newNode(t, nodeOptions{fixture: true})
	a := n.do(t, req{path: objectsHigh + idInd3 + "/versions/", user: "user1"})
	var v taxii.Versions
	a.json(t, &v)
	want := []string{"2016-11-03T12:30:59.000Z", "2016-12-25T12:30:59.444Z", "2017-01-27T13:49:53.935Z"}
	if a.status != 200 || fmt.Sprint(v.Versions) != fmt.Sprint(want) || v.More || a.header.Get(taxii.HeaderDateAddedLast) == "" {
		t.Errorf("versions: %d %s", a.status, a.body)
	}
	a = n.do(t, req{path: objectsHigh + idInd3 + "/versions/?limit=1", user: "user1"})
	a.json(t, &v)
	if len(v.Versions) != 1 || !v.More || v.Next == "" {
		t.Errorf("versions limit=1: %s", a.body)
	}
	a = n.do(t, req{path: objectsHigh + idInd3 + "/versions/?limit=1&next=" + url.QueryEscape(v.Next), user: "user1"})
	a.json(t, &v)
	if fmt.Sprint(v.Versions) != fmt.Sprint(want[1:2]) {
		t.Errorf("versions page 2: %s", a.body)
	}
	a = n.do(t, req{path: objectsHigh + idMarking + "/versions/", user: "user1"})
	a.json(t, &v)
	if fmt.Sprint(v.Versions) != "[2017-01-20T00:00:00.000Z]" {
		t.Errorf("unmodified marking definition's version: %s", a.body)
	}
	checkError(t, n.do(t, req{path: objectsHigh + "indicator--00000000-0000-4000-8000-000000000000/versions/", user: "user1"}), 404, "no object")

	a = n.do(t, req{path: apiRoot + "collections/" + colHigh + "/manifest/?match[version]=all", user: "user1"})
	var m taxii.Manifest
	a.json(t, &m)
	if a.status != 200 || len(m.Objects) != 7 || m.More || a.header.Get(taxii.HeaderDateAddedFirst) != m.Objects[0].DateAdded || a.header.Get(taxii.HeaderDateAddedLast) != m.Objects[6].DateAdded {
		t.Fatalf("manifest: %d %s %v", a.status, a.body, a.header)
	}
	for i, r := range m.Objects {
		if r.MediaType != taxii.MediaTypeSTIX || r.Version == "" || (i > 0 && r.DateAdded <= m.Objects[i-1].DateAdded) {
			t.Errorf("manifest record %d %+v: want media type, version and ascending date_added", i, r)
		}
	}
	if m.Objects[2].ID != idInd3 || m.Objects[2].Version != "2016-11-03T12:30:59.000Z" {
		t.Errorf("manifest record 2: %+v", m.Objects[2])
	}
	a = n.do(t, req{path: apiRoot + "collections/" + colHigh + "/manifest/?match[type]=indicator&limit=1", user: "user1"})
	a.json(t, &m)
	if len(m.Objects) != 1 || m.Objects[0].ID != idInd1 || !m.More || m.Next == "" {
		t.Errorf("manifest limit: %s", a.body)
	}
}

func TestBadQueries(t *testing.T) {
	n := newNode(t, nodeOptions{fixture: true})
	for _, tc := range []struct{ path, want string }{
		{objectsHigh + "?added_after=yesterday", "added_after"},
		{objectsHigh + "?added_after=2016-11-01T03:04:05", "added_after"},
		{objectsHigh + "?limit=0", "limit"},
		{objectsHigh + "?limit=-5", "limit"},
		{objectsHigh + "?limit=ten", "limit"},
		{objectsHigh + "?match[version]=newest", "match[version]"},
		{objectsHigh + "?match[id]=indicator", "match[id]"},
		{objectsHigh + "?match[type]=Indicator", "match[type]"},
		{objectsHigh + "?match[spec_version]=latest", "match[spec_version]"},
		{objectsHigh + "?next=not-a-cursor", "next"},
		{objectsHigh + idInd3 + "/?match[version]=x", "match[version]"},
		{objectsHigh + idInd3 + "/versions/?limit=x", "limit"},
		{apiRoot + "collections/" + colHigh + "/manifest/?added_after=x", "added_after"},
	} {
		checkError(t, n.do(t, req{path: tc.path, user: "user1"}), 400, tc.want)
	}
}

func TestMediaTypes(t *testing.T) {
	n := newNode(t, nodeOptions{fixture: true})
	for _, tc := range []struct {
		accept string
		status int
	}{
		{taxii.MediaTypeTAXII, 200},
		{"application/taxii+json", 200},
		{"application/taxii+json; version=2.1", 200},
		{"*/*", 200},
		{"-", 200},
		{"text/html, application/taxii+json;version=2.1;q=0.9", 200},
		{"application/json", 406},
		{"application/stix+json;version=2.1", 406},
		{"application/taxii+json;version=2.0", 406},
		{"application/taxii+json;version=2.1;q=0", 406},
		{"text/html", 406},
	} {
		for _, path := range []string{"/taxii2/", objectsHigh} {
			a := n.do(t, req{path: path, user: "user1", accept: tc.accept})
			if a.status != tc.status {
				t.Errorf("GET %s Accept %q: %d, want %d", path, tc.accept, a.status, tc.status)
			}
			if tc.status == 406 {
				checkError(t, a, 406, "Accept")
			}
		}
	}
	// Method not allowed.
	checkError(t, n.do(t, req{method: http.MethodPut, path: objectsHigh, user: "user1"}), 405, "not allowed")
	checkError(t, n.do(t, req{method: http.MethodPost, path: apiRoot + "collections/", user: "user1"}), 405, "not allowed")
}

func TestAuthentication(t *testing.T) {
	n := newNode(t, nodeOptions{fixture: true, tls: true})
	for _, tc := range []struct {
		name string
		r    req
		want int
		msg  string
	}{
		{"none", req{path: apiRoot}, 401, "authentication required"},
		{"wrong password", req{path: apiRoot, user: "admin", password: "Password1-user1"}, 401, "wrong user name or password"},
		{"unknown user", req{path: apiRoot, user: "mallory", password: "Password0-admin"}, 401, "wrong user name or password"},
		{"right password", req{path: apiRoot, user: "admin"}, 200, ""},
		{"right password again (cached)", req{path: apiRoot, user: "admin"}, 200, ""},
		{"wrong password after a right one", req{path: apiRoot, user: "admin", password: "Password0-admiN"}, 401, "wrong user name or password"},
		{"token", req{path: apiRoot, user: "token"}, 200, ""},
		{"forbidden collection", req{path: apiRoot + "collections/" + colSecret + "/objects/", user: "admin"}, 404, "no collection"},
		{"write-only collection read", req{path: apiRoot + "collections/" + colWriteOnly + "/objects/", user: "admin"}, 403, "may not read"},
		{"manifest needs read", req{path: apiRoot + "collections/" + colWriteOnly + "/manifest/", user: "admin"}, 403, "may not read"},
		{"lead may not post", req{method: http.MethodPost, path: apiRoot + "collections/" + colHigh + "/objects/", user: "lead", contentType: taxii.MediaTypeTAXII, body: `{"objects":[]}`}, 403, "may not write"},
		{"read-only collection post", req{method: http.MethodPost, path: apiRoot + "collections/" + colReadOnly + "/objects/", user: "admin", contentType: taxii.MediaTypeTAXII, body: `{"objects":[]}`}, 403, "may not write"},
		{"lead may not delete", req{method: http.MethodDelete, path: objectsHigh + idInd1 + "/", user: "lead"}, 403, "may not write"},
		{"metrics need a user", req{path: "/metrics", accept: "-"}, 401, "authentication required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := n.do(t, tc.r)
			if tc.want == 200 {
				if a.status != 200 {
					t.Fatalf("%d %s", a.status, a.body)
				}
				return
			}
			checkError(t, a, tc.want, tc.msg)
			if tc.want == 401 && !strings.HasPrefix(a.header.Get("WWW-Authenticate"), "Basic ") {
				t.Errorf("401 without WWW-Authenticate: Basic: %q", a.header.Get("WWW-Authenticate"))
			}
		})
	}
	// A bad token, and a scheme Parley does not know.
	hr, _ := http.NewRequest("GET", n.srv.URL+apiRoot, nil)
	hr.Header.Set("Authorization", "Bearer parley_nope")
	resp, err := n.client.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("bad token: %d", resp.StatusCode)
	}
	hr.Header.Set("Authorization", "Digest x")
	resp, err = n.client.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("digest: %d", resp.StatusCode)
	}
	// Nothing was written by the refused POSTs and DELETE.
	if c := n.count(t); c != 7 {
		t.Errorf("%d objects stored, want the fixture's 7", c)
	}
}
