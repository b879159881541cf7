package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/stix"
	"github.com/parleyhq/parley/internal/workflow"
)

// Regression tests of the gate, end to end on two nodes: each one a
// defect of the builds before the gate (docs/design/access.md), where
// some path decided by itself who may read or write what.

// taggedBundle is bundle's sample incident with the incident's and every
// indicator's name and description set to tag, so that a page or answer
// that shows them can be told from one that does not, and without the
// sample's own STIX report: filed first, that report (RED naming no one
// when the filing is RED) would be the first to hold the objects and hide
// them from the filing's recipients too.
func taggedBundle(t testing.TB, tag string) (b []byte, incident, indicator string) {
	t.Helper()
	raw, incident, indicator := bundle(t)
	var bnd map[string]any
	if err := json.Unmarshal(raw, &bnd); err != nil {
		t.Fatal(err)
	}
	var objs []any
	for _, o := range bnd["objects"].([]any) {
		m := o.(map[string]any)
		switch m["type"] {
		case "report":
			continue
		case "incident", "indicator":
			m["name"] = tag
			m["description"] = tag
		}
		objs = append(objs, m)
	}
	bnd["objects"] = objs
	b, _ = json.Marshal(bnd)
	return b, incident, indicator
}

// fileReport files a report through the API as c and returns its id.
func fileReport(t testing.TB, c *client, ch string, bnd []byte, level string, recipients ...string) string {
	t.Helper()
	body := map[string]any{"channel": ch, "bundle": jsonRaw(bnd), "tlp": level, "sectors": []string{"energy"}, "severity": 4}
	if len(recipients) > 0 {
		body["recipients"] = recipients
	}
	var out struct{ ID string }
	code, resp, _, err := c.do("POST", "/api/reports", body, true)
	if err != nil || code != http.StatusCreated || decode(resp, &out) != nil {
		t.Fatalf("%s files a %s report: %d %v %.300s", c.user, level, code, err, resp)
	}
	return out.ID
}

// post sends a JSON body to the API as c, wants status 201 and returns
// the id answered.
func post(t testing.TB, c *client, path string, body map[string]any) string {
	t.Helper()
	var out struct{ ID string }
	code, resp, _, err := c.do("POST", path, body, true)
	if err != nil || code != http.StatusCreated || decode(resp, &out) != nil {
		t.Fatalf("%s: POST %s: %d %v %.300s", c.user, path, code, err, resp)
	}
	return out.ID
}

// get asks path as c (HTTP Basic unless ui) and returns status and body.
func get(t testing.TB, c *client, path string, ui bool) (int, string) {
	t.Helper()
	code, body, _, err := c.do("GET", path, nil, !ui)
	if err != nil {
		t.Fatalf("%s: GET %s: %v", c.user, path, err)
	}
	return code, body
}

// held is every version of every object of a collection on n, as one
// string to search.
func held(t testing.TB, n *tnode, collectionID string) string {
	t.Helper()
	var sb strings.Builder
	f := dialogue.ObjectFilter{Versions: dialogue.VersionMatch{All: true}}
	for {
		page, err := n.srv.Node.Store.FindObjects(context.Background(), collectionID, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Objects {
			sb.Write(o.Raw)
			sb.WriteByte('\n')
		}
		if !page.More {
			return sb.String()
		}
		f.After = page.Next
	}
}

// figure is a figure's JSON without the time it was computed at, so that
// two answers can be compared.
func figure(t testing.TB, body string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("a figure that is not JSON: %v\n%.300s", err, body)
	}
	var strip func(any)
	strip = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			delete(x, "as_of")
			for _, e := range x {
				strip(e)
			}
		case []any:
			for _, e := range x {
				strip(e)
			}
		}
	}
	strip(v)
	out, _ := json.Marshal(v)
	return string(out)
}

// signedIn is a client of n for user, signed in to the web UI too.
func signedIn(t testing.TB, n *tnode, user string) *client {
	t.Helper()
	c := newClient(t, n, user, nil)
	c.login()
	return c
}

// A channel whose grants name two users (and "*" no one) is not there for
// the other users of the node: the API and the web UI list and show
// nothing of it, whatever its objects' TLP, and a user without a write
// grant files nothing on it — nothing is stored, logged or sent to the
// peer.
func TestGateRegressGrantsNarrowed(t *testing.T) {
	ctx := context.Background()
	a, b := startNode(t, "party-a"), startNode(t, "party-b")
	ch := share(t, a, b)
	st := a.srv.Node.Store
	for _, g := range []dialogue.Grant{
		{CollectionID: ch, Principal: dialogue.GrantAll},
		{CollectionID: ch, Principal: idAdmin, Read: true, Write: true},
		{CollectionID: ch, Principal: idExpert, Read: true, Write: true},
	} {
		if err := st.SetGrant(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	admin, expert := signedIn(t, a, idAdmin), signedIn(t, a, idExpert)
	others := []*client{signedIn(t, a, idDuty), signedIn(t, a, idLead)}

	// What the others see of the node's figures before anything is filed.
	figures := []string{"/api/threat", "/api/summary", "/api/origins"}
	before := map[string]string{}
	for _, c := range others {
		for _, p := range figures {
			code, body := get(t, c, p, false)
			before[c.user+p] = body
			if code != http.StatusOK {
				t.Fatalf("%s: GET %s: %d %.300s", c.user, p, code, body)
			}
		}
	}

	secret := []string{ch}
	report := map[string]string{}
	for _, l := range levels {
		bnd, inc, ind := taggedBundle(t, "grant-narrowed "+l+" incident")
		// The RED report names the others too: only the grant keeps them
		// out.
		var rcpt []string
		if l == "red" {
			rcpt = []string{idAdmin, idExpert, idDuty, idLead}
		}
		report[l] = fileReport(t, admin, ch, bnd, l, rcpt...)
		secret = append(secret, report[l], inc, ind, "grant-narrowed "+l+" incident")
	}
	req := post(t, admin, "/api/requests", map[string]any{"channel": ch, "about": []string{report["clear"]}, "text": "grant-narrowed request text"})
	hot := post(t, admin, "/api/hotline", map[string]any{"channel": ch, "text": "grant-narrowed hotline text", "priority": "urgent"})
	secret = append(secret, req, hot, "grant-narrowed request text", "grant-narrowed hotline text")

	// The users the grants name see it all.
	for _, c := range []*client{admin, expert} {
		_, body := get(t, c, "/api/reports?channel="+ch, false)
		for _, l := range levels {
			if !strings.Contains(body, report[l]) {
				t.Errorf("%s does not see the %s report of the channel granted to it", c.user, l)
			}
		}
	}

	leaks := func(c *client, path, body string) {
		t.Helper()
		for _, s := range secret {
			// A 404 may repeat the id it was asked.
			if strings.Contains(body, s) && !strings.Contains(path, s) {
				t.Errorf("%s: %s shows %q of a channel it may not read:\n%.400s", c.user, path, s, body)
			}
		}
	}
	for _, c := range others {
		for _, p := range []string{"/api/reports", "/api/requests", "/api/hotline", "/api/threat", "/api/summary", "/api/origins"} {
			code, body := get(t, c, p, false)
			if code != http.StatusOK {
				t.Errorf("%s: GET %s: %d %.300s", c.user, p, code, body)
			}
			leaks(c, p, body)
			if slices.Contains(figures, p) && figure(t, body) != figure(t, before[c.user+p]) {
				t.Errorf("%s: GET %s moved with what was filed on a channel it may not read:\nbefore %.400s\nafter  %.400s", c.user, p, before[c.user+p], body)
			}
		}
		for _, p := range []string{"/api/reports?channel=" + ch, "/api/requests?channel=" + ch, "/api/hotline?channel=" + ch, "/api/threat?channel=" + ch, "/api/requests/" + req} {
			if code, body := get(t, c, p, false); code != http.StatusNotFound {
				t.Errorf("%s: GET %s: %d, want 404\n%.300s", c.user, p, code, body)
			} else {
				leaks(c, p, body)
			}
		}
		for _, l := range levels {
			p := "/api/reports/" + report[l]
			if code, body := get(t, c, p, false); code != http.StatusNotFound {
				t.Errorf("%s: GET %s (%s): %d, want 404\n%.300s", c.user, p, l, code, body)
			} else {
				leaks(c, p, body)
			}
			p = "/reports/" + report[l]
			if code, body := get(t, c, p, true); code != http.StatusNotFound {
				t.Errorf("%s: web UI %s (%s): %d, want 404\n%.300s", c.user, p, l, code, body)
			} else {
				leaks(c, p, body)
			}
		}
		for _, p := range []string{"/reports", "/inbox"} {
			code, body := get(t, c, p, true)
			if code != http.StatusOK {
				t.Errorf("%s: web UI %s: %d", c.user, p, code)
			}
			leaks(c, p, body)
		}
	}

	// Duty's role writes, but no grant lets it write here: its report and
	// hotline message are refused, and nothing of them is stored here or
	// reaches the peer.
	duty := others[0]
	n := count(t, a, ch)
	refusedBundle, _, _ := taggedBundle(t, "grant-narrowed refused report")
	for _, w := range []struct {
		path string
		body map[string]any
	}{
		{"/api/reports", map[string]any{"channel": ch, "bundle": jsonRaw(refusedBundle), "tlp": "clear", "sectors": []string{"energy"}, "severity": 2}},
		{"/api/hotline", map[string]any{"channel": ch, "text": "grant-narrowed refused hotline", "priority": "urgent"}},
	} {
		code, body, _, err := duty.do("POST", w.path, w.body, true)
		if err != nil {
			t.Fatal(err)
		}
		// Refused: 403, or the answer for an unknown channel (404; 400 where
		// the channel is a field of a filing form).
		if code != http.StatusForbidden && code != http.StatusNotFound && !(code == http.StatusBadRequest && strings.Contains(body, "is not a channel of this node")) {
			t.Errorf("duty without a write grant: POST %s: %d, want 403 or 404\n%.300s", w.path, code, body)
		}
	}
	if after := count(t, a, ch); after != n {
		t.Errorf("the refused writes stored %d objects", after-n)
	}
	// Something permitted after them: once it is on the peer, so would be
	// anything sent before it.
	post(t, admin, "/api/hotline", map[string]any{"channel": ch, "text": "grant-narrowed permitted hotline", "priority": "urgent"})
	waitFor(t, "the peer holds the permitted hotline message", func() bool {
		return strings.Contains(held(t, b, ch), "grant-narrowed permitted hotline")
	})
	for _, s := range []string{"grant-narrowed refused report", "grant-narrowed refused hotline"} {
		if strings.Contains(held(t, a, ch), s) || strings.Contains(held(t, b, ch), s) {
			t.Errorf("a refused write (%q) was stored or reached the peer", s)
		}
	}
}

// A user whose own grant takes everything away, while "*" reads and
// writes, can neither read nor write the channel on any path: TAXII
// answers as for an unknown collection, the API and the web UI show
// nothing of it, and its log is not there.
func TestGateRegressRevokedUser(t *testing.T) {
	ctx := context.Background()
	a, b := startNode(t, "party-a"), startNode(t, "party-b")
	ch := share(t, a, b)
	if err := a.srv.Node.Store.SetGrant(ctx, dialogue.Grant{CollectionID: ch, Principal: idRevoked}); err != nil {
		t.Fatal(err)
	}
	admin, u := signedIn(t, a, idAdmin), signedIn(t, a, idRevoked)
	bnd, inc, _ := taggedBundle(t, "revoked-user incident")
	rep := fileReport(t, admin, ch, bnd, "green")
	hot := post(t, admin, "/api/hotline", map[string]any{"channel": ch, "text": "revoked-user hotline text", "priority": "urgent"})
	secret := []string{ch, rep, inc, hot, "revoked-user incident", "revoked-user hotline text"}
	leaks := func(path, body string) {
		t.Helper()
		for _, s := range secret {
			if strings.Contains(body, s) && !strings.Contains(path, s) {
				t.Errorf("%s shows %q to the revoked user:\n%.400s", path, s, body)
			}
		}
	}
	// The rest of the node's users still read it.
	if _, body := get(t, admin, "/api/reports/"+rep, false); !strings.Contains(body, inc) {
		t.Fatalf("admin does not see the report:\n%.300s", body)
	}

	// TAXII: the collection is not listed, and is answered as one that
	// does not exist.
	const api = "/taxii2/parley/collections/"
	unknown := "00000000-0000-4000-8000-000000000000"
	code, body := get(t, u, api, false)
	if code != http.StatusOK {
		t.Errorf("GET %s: %d", api, code)
	}
	leaks(api, body)
	taxiiPaths := []string{"", "/objects", "/manifest", "/objects/" + inc, "/objects/" + inc + "/versions"}
	for _, p := range taxiiPaths {
		code, body := get(t, u, api+ch+p, false)
		if code != http.StatusNotFound && code != http.StatusForbidden {
			t.Errorf("TAXII GET %s%s: %d, want 404\n%.300s", api, ch+p, code, body)
		}
		leaks(api+ch+p, body)
	}
	tb, _, _ := taggedBundle(t, "revoked-user taxii write")
	if code, body, _, err := u.do("POST", api+ch+"/objects", tb, true); err != nil || code != http.StatusNotFound && code != http.StatusForbidden {
		t.Errorf("TAXII POST objects: %d %v, want 404\n%.300s", code, err, body)
	}
	t.Run("taxii-as-unknown", func(t *testing.T) {
		for _, p := range taxiiPaths {
			code, body := get(t, u, api+ch+p, false)
			ucode, ubody := get(t, u, api+unknown+p, false)
			if code != http.StatusNotFound || code != ucode || strings.ReplaceAll(body, ch, unknown) != ubody {
				t.Errorf("TAXII GET %s%s: %d, want %d as for an unknown collection\n%.300s\nunknown: %.300s", api, ch+p, code, ucode, body, ubody)
			}
		}
		if code, body, _, err := u.do("POST", api+ch+"/objects", tb, true); err != nil || code != http.StatusNotFound {
			t.Errorf("TAXII POST objects: %d %v, want 404\n%.300s", code, err, body)
		}
	})

	// The API.
	for _, p := range []string{"/api/reports", "/api/hotline", "/api/requests", "/api/threat", "/api/summary"} {
		code, body := get(t, u, p, false)
		if code != http.StatusOK {
			t.Errorf("GET %s: %d", p, code)
		}
		leaks(p, body)
	}
	for _, p := range []string{"/api/reports?channel=" + ch, "/api/hotline?channel=" + ch, "/api/reports/" + rep} {
		if code, body := get(t, u, p, false); code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404\n%.300s", p, code, body)
		} else {
			leaks(p, body)
		}
	}
	ab, _, _ := taggedBundle(t, "revoked-user api write")
	for _, w := range []struct {
		path string
		body map[string]any
	}{
		{"/api/reports", map[string]any{"channel": ch, "bundle": jsonRaw(ab), "tlp": "clear", "sectors": []string{"energy"}, "severity": 2}},
		{"/api/hotline", map[string]any{"channel": ch, "text": "revoked-user api write", "priority": "urgent"}},
	} {
		code, body, _, err := u.do("POST", w.path, w.body, true)
		unknownChannel := code == http.StatusBadRequest && strings.Contains(body, "is not a channel of this node")
		if err != nil || code != http.StatusNotFound && code != http.StatusForbidden && !unknownChannel {
			t.Errorf("POST %s: %d %v, want 404 or 403 (or the filing's unknown channel)\n%.300s", w.path, code, err, body)
		}
	}

	// The web UI.
	for _, p := range []string{"/reports", "/inbox"} {
		code, body := get(t, u, p, true)
		if code != http.StatusOK {
			t.Errorf("web UI %s: %d", p, code)
		}
		leaks(p, body)
	}
	if code, body := get(t, u, "/reports/"+rep, true); code != http.StatusNotFound {
		t.Errorf("web UI /reports/%s: %d, want 404", rep, code)
	} else {
		leaks("/reports/"+rep, body)
	}
	if code, body, _ := u.postForm("/reports", url.Values{"channel": {ch}, "title": {"revoked-user ui write"}, "indicators": {"192.0.2.77"},
		"sectors": {"energy"}, "tlp": {"clear"}, "severity": {"2"}}, "ui.txt", []byte("revoked-user ui evidence")); code != http.StatusNotFound && code != http.StatusForbidden && code != http.StatusBadRequest {
		// 400: the form offers no channel the user may not write to.
		t.Errorf("web UI POST /reports: %d, want 404, 403 or 400\n%.300s", code, body)
	}

	// The log.
	if code, body := get(t, u, "/log/"+ch+"/checkpoint", false); code != http.StatusNotFound {
		t.Errorf("GET /log/%s/checkpoint: %d, want 404\n%.300s", ch, code, body)
	}
	all := held(t, a, ch)
	for _, s := range []string{"revoked-user taxii write", "revoked-user api write", "revoked-user ui write", "192.0.2.77"} {
		if strings.Contains(all, s) {
			t.Errorf("the revoked user's write %q was stored", s)
		}
	}
}

// postForm posts a multipart form as the web UI's report form sends it:
// the fields (with the session's token), then each file as "evidence".
func (c *client) postForm(path string, fields url.Values, name string, data []byte) (int, string, http.Header) {
	c.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("csrf", c.csrf)
	for k, vs := range fields {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="evidence"; filename="`+name+`"`)
	h.Set("Content-Type", "text/plain")
	w, err := mw.CreatePart(h)
	if err != nil {
		c.t.Fatal(err)
	}
	w.Write(data)
	mw.Close()
	req, err := http.NewRequest("POST", c.base+path, &body)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out), resp.Header
}

// An evidence file is not read through a report that merely names its
// hash: a user who is not a recipient of the RED report the file was
// filed with files a CLEAR report whose file object names its SHA-256,
// and is refused the file through it, while the recipient gets it through
// the RED report.
func TestGateRegressEvidenceByHash(t *testing.T) {
	a, b := startNode(t, "party-a"), startNode(t, "party-b")
	ch := share(t, a, b)
	r, m := signedIn(t, a, idExpert), signedIn(t, a, idDuty)

	evidence := []byte("evidence-by-hash: for the RED report's recipient only\n")
	s := sha256.Sum256(evidence)
	sum := hex.EncodeToString(s[:])
	code, body, h := r.postForm("/reports", url.Values{"channel": {ch}, "title": {"evidence-by-hash red report"},
		"description": {"A RED report with its evidence."}, "indicators": {"192.0.2.10\n"}, "sectors": {"energy"},
		"tlp": {"red"}, "recipients": {idExpert}, "severity": {"3"}}, "red.txt", evidence)
	red := strings.TrimPrefix(h.Get("Location"), "/reports/")
	if code != http.StatusSeeOther || !strings.HasPrefix(red, "report--") {
		t.Fatalf("R files the RED report with evidence: %d %s\n%.400s", code, h.Get("Location"), body)
	}

	// M names the file's hash in a CLEAR report of its own.
	fileID, err := stix.SCOID("file", map[string]any{"hashes": map[string]string{"SHA-256": sum}})
	if err != nil {
		t.Fatal(err)
	}
	raw, _, _ := taggedBundle(t, "evidence-by-hash clear report")
	var bnd map[string]any
	json.Unmarshal(raw, &bnd)
	bnd["objects"] = append(bnd["objects"].([]any), map[string]any{"type": "file", "spec_version": "2.1", "id": fileID,
		"name": "red.txt", "hashes": map[string]string{"SHA-256": sum}})
	raw, _ = json.Marshal(bnd)
	mine := fileReport(t, m, ch, raw, "clear")

	path := "/reports/" + mine + "/evidence/" + sum
	if code, body := get(t, m, path, true); code != http.StatusNotFound || strings.Contains(body, string(evidence)) {
		t.Errorf("M: web UI %s: %d, want 404\n%.300s", path, code, body)
	}
	if code, body := get(t, m, "/reports/"+red+"/evidence/"+sum, true); code != http.StatusNotFound || strings.Contains(body, string(evidence)) {
		t.Errorf("M: the RED report's evidence: %d, want 404", code)
	}
	if code, body := get(t, r, "/reports/"+red+"/evidence/"+sum, true); code != http.StatusOK || body != string(evidence) {
		t.Errorf("R: the RED report's evidence: %d %q", code, body)
	}
}

// A user who files a RED report naming themselves as its recipient, with
// object_refs to another's RED incident and indicator, gains nothing:
// the incident and indicator stay hidden on TAXII, in the API's report
// and on the web UI's report page.
func TestGateRegressRecipientHijack(t *testing.T) {
	a, b := startNode(t, "party-a"), startNode(t, "party-b")
	ch := share(t, a, b)
	r, m := signedIn(t, a, idExpert), signedIn(t, a, idDuty)
	const tag = "recipient-hijack red incident"
	bnd, inc, ind := taggedBundle(t, tag)
	theirs := fileReport(t, r, ch, bnd, "red", idExpert)
	type shown struct {
		ID      string
		Objects []struct{ ID string }
	}
	shows := func(rep shown, id string) bool {
		return slices.ContainsFunc(rep.Objects, func(o struct{ ID string }) bool { return o.ID == id })
	}
	var their shown
	if _, body := get(t, r, "/api/reports/"+theirs, false); decode(body, &their) != nil || !shows(their, inc) || !shows(their, ind) {
		t.Fatalf("R does not see its own report's incident %s and indicator %s: %+v", inc, ind, their)
	}

	red, err := workflow.ParseTLP("red")
	if err != nil {
		t.Fatal(err)
	}
	now := stix.FormatTime(time.Now().UTC())
	mine := stix.NewID("report")
	report := map[string]any{
		"type": "report", "spec_version": "2.1", "id": mine, "created": now, "modified": now, "published": now,
		"name": "recipient-hijack M's report", "report_types": []string{"threat-report"},
		"object_refs": []string{inc, ind}, "object_marking_refs": []string{red.ID},
		"extensions": map[string]any{stix.ParleyExtensionID: map[string]any{
			"extension_type": "property-extension", "sectors": []string{"energy"}, "severity": 3, "recipients": []string{idDuty}}},
	}
	raw, _ := json.Marshal(map[string]any{"type": "bundle", "id": stix.NewID("bundle"), "objects": []any{report}})
	const objects = "/taxii2/parley/collections/"
	code, body, _, err := m.do("POST", objects+ch+"/objects", raw, true)
	if err != nil || code != http.StatusAccepted || !strings.Contains(body, `"success_count":1`) {
		t.Fatalf("M posts its report on TAXII: %d %v\n%.400s", code, err, body)
	}

	for _, id := range []string{inc, ind} {
		p := objects + ch + "/objects/" + id
		if code, body := get(t, m, p, false); code != http.StatusNotFound || strings.Contains(body, tag) {
			t.Errorf("M: TAXII GET %s: %d, want 404\n%.300s", p, code, body)
		}
	}
	code, body = get(t, m, "/api/reports/"+mine, false)
	var rep shown
	if code != http.StatusOK || decode(body, &rep) != nil || rep.ID != mine {
		t.Fatalf("M: GET /api/reports/%s: %d\n%.400s", mine, code, body)
	}
	for _, id := range []string{inc, ind} {
		if shows(rep, id) {
			t.Errorf("M's report shows R's RED object %s", id)
		}
	}
	if strings.Contains(body, tag) {
		t.Errorf("M's report shows R's RED objects' content:\n%.400s", body)
	}
	code, body = get(t, m, "/reports/"+mine, true)
	if code != http.StatusOK || !strings.Contains(body, "recipient-hijack M&#39;s report") {
		t.Errorf("M: web UI /reports/%s: %d, want M's report", mine, code)
	}
	if strings.Contains(body, tag) {
		t.Errorf("M's report page shows R's RED objects' content")
	}
}

// A user who is not a recipient of a RED report cannot confirm that its
// id exists: a request about it is answered as one about an unknown id,
// and the channel's threat levels and origins are those of before it was
// filed.
func TestGateRegressRedIDsUnconfirmed(t *testing.T) {
	a, b := startNode(t, "party-a"), startNode(t, "party-b")
	ch := share(t, a, b)
	r, m := signedIn(t, a, idExpert), signedIn(t, a, idDuty)
	cb, _, _ := taggedBundle(t, "red-ids clear report")
	fileReport(t, r, ch, cb, "clear")

	figures := []string{"/api/threat?channel=" + ch, "/api/origins?channel=" + ch}
	before := map[string]string{}
	for _, c := range []*client{r, m} {
		for _, p := range figures {
			code, body := get(t, c, p, false)
			if code != http.StatusOK {
				t.Fatalf("%s: GET %s: %d %.300s", c.user, p, code, body)
			}
			before[c.user+p] = figure(t, body)
		}
	}
	rb, _, _ := taggedBundle(t, "red-ids red report")
	red := fileReport(t, r, ch, rb, "red", idExpert)
	if _, body := get(t, r, figures[0], false); figure(t, body) == before[r.user+figures[0]] {
		t.Errorf("the recipient's threat levels did not move with the RED report: the test sees nothing")
	}
	for _, p := range figures {
		if _, body := get(t, m, p, false); figure(t, body) != before[m.user+p] {
			t.Errorf("%s for a non-recipient moved with the RED report:\nbefore %.400s\nafter  %.400s", p, before[m.user+p], figure(t, body))
		}
	}

	unknown := stix.NewID("report")
	ask := func(id string) (int, string) {
		code, body, _, err := m.do("POST", "/api/requests", map[string]any{"channel": ch, "about": []string{id}, "text": "red-ids request"}, true)
		if err != nil {
			t.Fatal(err)
		}
		return code, strings.ReplaceAll(body, id, "ID")
	}
	uc, ub := ask(unknown)
	rc, rbody := ask(red)
	if uc != rc || ub != rbody {
		t.Errorf("a request about an invisible RED report is answered\n%d %.300s\nand one about an unknown id\n%d %.300s", rc, rbody, uc, ub)
	}
	if uc < 400 {
		t.Errorf("a request about an unknown report: %d", uc)
	}
}
