package taxii_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/ingest"
	"github.com/parleyhq/parley/internal/stix"
	"github.com/parleyhq/parley/internal/taxii"
)

// The TLP cases of the read paths: one object per case, and the reports
// that carry the RED recipients.
const (
	tlpColl        = "0b7e6c52-3f0a-4c55-9d61-6a3e2f1b9c01"
	tlpClear       = "indicator--10000000-0000-4000-8000-000000000001"
	tlpGreen       = "indicator--10000000-0000-4000-8000-000000000002"
	tlpAmber       = "indicator--10000000-0000-4000-8000-000000000003"
	tlpAmberStrict = "indicator--10000000-0000-4000-8000-000000000004"
	tlpRedUser1    = "indicator--10000000-0000-4000-8000-000000000005" // RED; its report names user1
	tlpRedLeads    = "indicator--10000000-0000-4000-8000-000000000006" // RED; its report names role:lead
	tlpUnmarked    = "indicator--10000000-0000-4000-8000-000000000007" // in no report: CLEAR
	tlpInRedReport = "indicator--10000000-0000-4000-8000-000000000008" // unmarked, in the report for user1
	tlpVersioned   = "indicator--10000000-0000-4000-8000-000000000009" // v1 GREEN, v2 RED to no one
	tlpReportUser1 = "report--20000000-0000-4000-8000-000000000001"
	tlpReportLeads = "report--20000000-0000-4000-8000-000000000002"
)

// tlpSees is what each user of the test node sees of tlpColl.
var tlpSees = map[string][]string{
	"admin": {tlpClear, tlpGreen, tlpAmber, tlpAmberStrict, tlpUnmarked, tlpVersioned},
	"user1": {tlpClear, tlpGreen, tlpAmber, tlpAmberStrict, tlpRedUser1, tlpUnmarked, tlpInRedReport, tlpVersioned, tlpReportUser1},
	"lead":  {tlpClear, tlpGreen, tlpAmber, tlpAmberStrict, tlpRedLeads, tlpUnmarked, tlpVersioned, tlpReportLeads},
}

var tlpAll = []string{tlpClear, tlpGreen, tlpAmber, tlpAmberStrict, tlpRedUser1, tlpRedLeads, tlpUnmarked, tlpInRedReport, tlpVersioned, tlpReportUser1, tlpReportLeads}

func tlpIndicator(id, modified string, m *stix.TLPMarking) json.RawMessage {
	marking := ""
	if m != nil {
		marking = `,"object_marking_refs":["` + m.ID + `"]`
	}
	return json.RawMessage(`{"type":"indicator","spec_version":"2.1","id":"` + id + `","created":"2024-01-02T03:04:05.000Z","modified":"` + modified +
		`","name":"case","pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix","valid_from":"2024-01-02T03:04:05Z"` + marking + `}`)
}

func tlpReport(id string, recipients []string, refs ...string) json.RawMessage {
	rs, _ := json.Marshal(recipients)
	rf, _ := json.Marshal(refs)
	return json.RawMessage(`{"type":"report","spec_version":"2.1","id":"` + id + `","created":"2024-01-02T03:04:05.000Z","modified":"2024-01-02T03:04:05.000Z","name":"red report","published":"2024-01-02T03:04:05Z","object_refs":` +
		string(rf) + `,"object_marking_refs":["` + stix.TLPRed.ID + `"],"extensions":{"` + stix.ParleyExtensionID + `":{"extension_type":"property-extension","sectors":["energy"],"severity":3,"recipients":` + string(rs) + `}}}`)
}

// tlpNode is a node over HTTPS with the TLP cases in tlpColl, readable
// and writable by every user, and a bearer token per user.
func tlpNode(t *testing.T) (*node, map[string]string) {
	n := newNode(t, nodeOptions{tls: true})
	ctx := context.Background()
	if err := n.db.CreateCollection(ctx, &dialogue.Collection{ID: tlpColl, Title: "tlp"}); err != nil {
		t.Fatal(err)
	}
	if err := n.db.SetGrant(ctx, dialogue.Grant{CollectionID: tlpColl, Principal: "*", Read: true, Write: true}); err != nil {
		t.Fatal(err)
	}
	raws := []json.RawMessage{
		tlpIndicator(tlpClear, "2024-01-02T03:04:05.000Z", stix.TLPClear),
		tlpIndicator(tlpGreen, "2024-01-02T03:04:05.000Z", stix.TLPGreen),
		tlpIndicator(tlpAmber, "2024-01-02T03:04:05.000Z", stix.TLP1Amber),
		tlpIndicator(tlpAmberStrict, "2024-01-02T03:04:05.000Z", stix.TLPAmberStrict),
		tlpIndicator(tlpRedUser1, "2024-01-02T03:04:05.000Z", stix.TLPRed),
		tlpIndicator(tlpRedLeads, "2024-01-02T03:04:05.000Z", stix.TLPRed),
		tlpIndicator(tlpUnmarked, "2024-01-02T03:04:05.000Z", nil),
		tlpIndicator(tlpInRedReport, "2024-01-02T03:04:05.000Z", nil),
		tlpIndicator(tlpVersioned, "2024-01-02T03:04:05.000Z", stix.TLPGreen),
		tlpIndicator(tlpVersioned, "2024-02-02T03:04:05.000Z", stix.TLPRed),
		tlpReport(tlpReportUser1, []string{"user1"}, tlpRedUser1, tlpInRedReport),
		tlpReport(tlpReportLeads, []string{"role:lead"}, tlpRedLeads),
	}
	for _, raw := range raws {
		rep, err := ingest.Objects(ctx, n.db, tlpColl, []json.RawMessage{raw}, ingest.EachOnItsOwn)
		if err != nil || rep.Added != 1 {
			t.Fatalf("adding a case: %v %+v", err, rep)
		}
	}
	toks := map[string]string{}
	for _, u := range users {
		tok, err := dialogue.NewToken()
		if err != nil {
			t.Fatal(err)
		}
		if err := n.db.CreateToken(ctx, u.name, dialogue.HashToken(tok), "tlp"); err != nil {
			t.Fatal(err)
		}
		toks[u.name] = tok
	}
	return n, toks
}

// tlpGet GETs a path of the API root as the token's user.
func tlpGet(t *testing.T, n *node, tok, method, path string) (int, []byte) {
	t.Helper()
	hr, err := http.NewRequest(method, n.root+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	hr.Header.Set("Accept", taxii.MediaTypeTAXII)
	hr.Header.Set("Authorization", "Bearer "+tok)
	resp, err := n.client.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

func sortedIDs(ids []string) []string {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	return ids
}

// TestTLPTAXII checks, over HTTPS, that each user sees exactly what the
// markings allow on objects, object, versions and manifest, page by page,
// and that a hidden object is not there at all (404, as for an unknown id).
func TestTLPTAXII(t *testing.T) {
	n, toks := tlpNode(t)
	base := "collections/" + tlpColl + "/"
	for _, u := range users {
		tok, want := toks[u.name], sortedIDs(tlpSees[u.name])
		t.Run(u.name, func(t *testing.T) {
			// objects and manifest, whole and two at a time: the pages
			// end where the store's do, nothing is lost or repeated.
			for _, limit := range []string{"", "2"} {
				var objIDs, manIDs []string
				for _, res := range []string{"objects", "manifest"} {
					next := ""
					for pages := 0; ; pages++ {
						q := url.Values{}
						if limit != "" {
							q.Set("limit", limit)
						}
						if next != "" {
							q.Set("next", next)
						}
						status, body := tlpGet(t, n, tok, "GET", base+res+"/?"+q.Encode())
						if status != 200 {
							t.Fatalf("%s limit %q: %d %s", res, limit, status, body)
						}
						var env struct {
							More    bool              `json:"more"`
							Next    string            `json:"next"`
							Objects []json.RawMessage `json:"objects"`
						}
						if err := json.Unmarshal(body, &env); err != nil {
							t.Fatal(err)
						}
						if limit != "" && len(env.Objects) > 2 {
							t.Errorf("%s: a page of %d objects with limit 2", res, len(env.Objects))
						}
						for _, o := range env.Objects {
							var p struct {
								ID string `json:"id"`
							}
							json.Unmarshal(o, &p)
							if res == "objects" {
								objIDs = append(objIDs, p.ID)
							} else {
								manIDs = append(manIDs, p.ID)
							}
						}
						if !env.More {
							break
						}
						next = env.Next
						if pages > 20 {
							t.Fatal("paging does not end")
						}
					}
				}
				// tlpVersioned's last version is RED to no one: the
				// default (last version) listing leaves it out.
				wantLast := slices.DeleteFunc(slices.Clone(want), func(id string) bool { return id == tlpVersioned })
				if got := sortedIDs(objIDs); !slices.Equal(got, wantLast) {
					t.Errorf("objects (limit %q) = %q\nwant %q", limit, got, wantLast)
				}
				if got := sortedIDs(manIDs); !slices.Equal(got, wantLast) {
					t.Errorf("manifest (limit %q) = %q\nwant %q", limit, got, wantLast)
				}
			}
			// Every version: the first of tlpVersioned shows.
			status, body := tlpGet(t, n, tok, "GET", base+"objects/?match[version]=all")
			if status != 200 || strings.Count(string(body), tlpVersioned) != 1 || strings.Contains(string(body), "2024-02-02") {
				t.Errorf("objects match[version]=all: %d, want tlpVersioned's first version only: %s", status, body)
			}
			// object and versions, one id at a time.
			for _, id := range tlpAll {
				visible := slices.Contains(want, id)
				status, body := tlpGet(t, n, tok, "GET", base+"objects/"+id+"/?match[version]=all")
				switch {
				case visible && (status != 200 || !strings.Contains(string(body), id)):
					t.Errorf("object %s: %d %s, want it", id, status, body)
				case !visible && (status != 404 || !strings.Contains(string(body), "no object "+id)):
					t.Errorf("object %s: %d %s, want 404 as for an unknown id", id, status, body)
				}
				status, body = tlpGet(t, n, tok, "GET", base+"objects/"+id+"/versions/")
				var v taxii.Versions
				json.Unmarshal(body, &v)
				switch {
				case !visible && status != 404:
					t.Errorf("versions %s: %d %s, want 404", id, status, body)
				case id == tlpVersioned && fmt.Sprint(v.Versions) != "[2024-01-02T03:04:05Z]" && fmt.Sprint(v.Versions) != "[2024-01-02T03:04:05.000Z]":
					t.Errorf("versions %s: %s, want the GREEN one only", id, body)
				case visible && id != tlpVersioned && len(v.Versions) != 1:
					t.Errorf("versions %s: %d %s", id, status, body)
				}
			}
			// The last version of tlpVersioned is hidden: its default
			// answer is empty, not 404 (an earlier version is visible).
			status, body = tlpGet(t, n, tok, "GET", base+"objects/"+tlpVersioned+"/")
			if status != 200 || strings.Contains(string(body), tlpVersioned) {
				t.Errorf("object %s (last version): %d %s, want an empty envelope", tlpVersioned, status, body)
			}
		})
	}
	// Deleting what one cannot see: as unknown, and nothing is deleted.
	status, body := tlpGet(t, n, toks["user1"], "DELETE", base+"objects/"+tlpRedLeads+"/")
	if status != 404 || !strings.Contains(string(body), "no version of "+tlpRedLeads) {
		t.Errorf("user1 deleting the leads' RED object: %d %s", status, body)
	}
	if status, _ := tlpGet(t, n, toks["lead"], "GET", base+"objects/"+tlpRedLeads+"/"); status != 200 {
		t.Errorf("the leads' RED object after user1's delete: %d", status)
	}
}
