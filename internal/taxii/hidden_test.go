package taxii_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/taxii"
)

// TestHiddenCollectionIsNotFound checks that every TAXII route that names
// a collection the user may neither read nor write answers 404 worded as
// for an unknown collection (TAXII 2.1 sections 5.2-5.8 and the node's
// access rule), whatever the method, never 403: a collection without a
// grant, one whose grant to every user the user's own grant takes away,
// and a write-only one for a role that may not write.
func TestHiddenCollectionIsNotFound(t *testing.T) {
	n := newNode(t, nodeOptions{tls: true, fixture: true})
	ctx := context.Background()
	// A status of colAdd, before user1 loses it.
	a := n.do(t, req{method: http.MethodPost, path: objectsAdd, user: "user1", contentType: taxii.MediaTypeTAXII, body: envelope(indicator(1))})
	var st taxii.Status
	a.json(t, &st)
	if a.status != http.StatusAccepted {
		t.Fatalf("POST: %d %s", a.status, a.body)
	}
	if err := n.db.SetGrant(ctx, dialogue.Grant{CollectionID: colAdd, Principal: "user1"}); err != nil {
		t.Fatal(err)
	}
	for _, x := range []struct{ user, collection string }{
		{"user1", colSecret},
		{"admin", colSecret},
		{"user1", colAdd},        // its own grant takes away '*:rw'
		{"lead", colWriteOnly},   // '*' may write; a lead may not
		{"token", colSecret},     // bearer token of user1
		{"token", colAdd},        // the same, with the token
		{"lead", colSecret},      // neither, and a role that may not write
		{"admin", "no-such-one"}, // the wording to match
	} {
		col := apiRoot + "collections/" + x.collection + "/"
		for _, r := range []req{
			{path: col},
			{path: col + "objects/"},
			{method: http.MethodPost, path: col + "objects/", contentType: taxii.MediaTypeTAXII, body: envelope(indicator(2))},
			{path: col + "objects/" + idInd1 + "/"},
			{method: http.MethodDelete, path: col + "objects/" + idInd1 + "/"},
			{method: http.MethodDelete, path: col + "objects/indicator--00000000-0000-4000-8000-000000000000/"},
			{path: col + "objects/" + idInd1 + "/versions/"},
			{path: col + "manifest/"},
			{method: http.MethodHead, path: col + "manifest/"},
		} {
			r.user = x.user
			a := n.do(t, r)
			if a.status != http.StatusNotFound {
				t.Errorf("%s %s as %s: %d, want 404: %s", r.method, r.path, x.user, a.status, a.body)
				continue
			}
			if r.method != http.MethodHead {
				checkError(t, a, 404, "no collection")
			}
		}
	}
	// The status of a POST to colAdd is not there for user1 any more.
	for _, user := range []string{"user1", "token"} {
		checkError(t, n.do(t, req{path: apiRoot + "status/" + st.ID + "/", user: user}), 404, "no status")
	}
	if got := n.do(t, req{path: apiRoot + "status/" + st.ID + "/", user: "admin"}); got.status != http.StatusOK {
		t.Errorf("status as admin: %d %s", got.status, got.body)
	}
}
