package taxii_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/google/uuid"

	"github.com/parleyhq/parley/internal/taxii"
)

// TestStatusVersions checks that each line of a status resource gives the
// object's version as the manifest does (TAXII 2.1 section 4.3.1): an
// SDO's modified, a marking definition's created, an SCO's date added;
// and, for a rejected object, the version it was posted with when that
// can be read.
func TestStatusVersions(t *testing.T) {
	n := newNode(t, nodeOptions{tls: true, fixture: true})
	sdoID := "indicator--" + uuid.NewString()
	sdo := fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":%q,"created":"2024-01-02T03:04:05.000Z","modified":"2024-02-03T04:05:06.123Z","name":"x","pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix","valid_from":"2024-01-02T03:04:05Z"}`, sdoID)
	scoID := "ipv4-addr--" + uuid.NewString()
	sco := fmt.Sprintf(`{"type":"ipv4-addr","spec_version":"2.1","id":%q,"value":"198.51.100.7"}`, scoID)
	mdID := "marking-definition--" + uuid.NewString()
	md := fmt.Sprintf(`{"type":"marking-definition","spec_version":"2.1","id":%q,"created":"2024-03-04T05:06:07.000Z","name":"statement","definition_type":"statement","definition":{"statement":"Copyright 2024 Example"}}`, mdID)
	badID := "indicator--" + uuid.NewString()
	bad := fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":%q,"created":"yesterday","modified":"2024-05-06T07:08:09.000Z","pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix","valid_from":"2024-01-02T03:04:05Z"}`, badID)
	noVersion := `{"type":"indicator","spec_version":"2.1","id":"indicator--not-a-uuid"}`
	bundle := fmt.Sprintf(`{"type":"bundle","id":"bundle--%s","objects":[%s,%s,%s,%s,%s]}`, uuid.NewString(), sdo, sco, md, bad, noVersion)

	post := func() taxii.Status {
		t.Helper()
		a := n.do(t, req{method: http.MethodPost, path: objectsAdd, user: "user1", contentType: taxii.MediaTypeSTIX, body: bundle})
		if a.status != http.StatusAccepted {
			t.Fatalf("POST: %d %s", a.status, a.body)
		}
		var st taxii.Status
		a.json(t, &st)
		return st
	}
	first := post()

	a := n.do(t, req{path: apiRoot + "collections/" + colAdd + "/manifest/", user: "user1"})
	var m taxii.Manifest
	a.json(t, &m)
	manifest := map[string]string{}
	for _, r := range m.Objects {
		manifest[r.ID] = r.Version
	}
	if manifest[sdoID] != "2024-02-03T04:05:06.123Z" || manifest[mdID] != "2024-03-04T05:06:07.000Z" || manifest[scoID] == "" {
		t.Fatalf("manifest %s", a.body)
	}
	wantOK := map[string]string{sdoID: manifest[sdoID], scoID: manifest[scoID], mdID: manifest[mdID]}
	wantFailed := map[string]string{badID: "2024-05-06T07:08:09.000Z", "indicator--not-a-uuid": ""}

	// The answer to the POST, the status fetched again, and a second POST
	// of the same bundle (every object unchanged) say the same versions.
	b := n.do(t, req{path: apiRoot + "status/" + first.ID + "/", user: "user1"})
	var fetched taxii.Status
	b.json(t, &fetched)
	for name, st := range map[string]taxii.Status{"POST": first, "GET status": fetched, "second POST": post()} {
		if len(st.Successes) != len(wantOK) || len(st.Failures) != len(wantFailed) {
			t.Errorf("%s: %d successes, %d failures; want %d, %d: %+v", name, len(st.Successes), len(st.Failures), len(wantOK), len(wantFailed), st)
			continue
		}
		for _, d := range st.Successes {
			if want, ok := wantOK[d.ID]; !ok || d.Version != want {
				t.Errorf("%s: success %+v, want version %q (the manifest's)", name, d, want)
			}
		}
		for _, d := range st.Failures {
			if want, ok := wantFailed[d.ID]; !ok || d.Version != want {
				t.Errorf("%s: failure %+v, want version %q", name, d, want)
			}
		}
	}
}
