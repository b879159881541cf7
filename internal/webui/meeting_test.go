package webui_test

import (
	"context"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/workflow"
)

// meetingIDRE finds a meeting's id in a redirect.
var meetingIDRE = regexp.MustCompile(`^/meetings/(parley-meeting--[0-9a-f-]+)$`)

// besideField checks that page shows want as a refusal right after the
// form field whose id is field (before the next label or the form's
// end).
func besideField(t *testing.T, what, page, field, want string) {
	t.Helper()
	at := strings.Index(page, `id="`+field+`"`)
	if at < 0 {
		t.Errorf("%s: the page has no field %s:\n%s", what, field, page)
		return
	}
	rest := page[at:]
	end := len(rest)
	for _, stop := range []string{"<label", "</form>"} {
		if i := strings.Index(rest[1:], stop); i >= 0 && i+1 < end {
			end = i + 1
		}
	}
	seg := rest[:end]
	if !strings.Contains(seg, `<p class="field-error" role="alert">`) || !strings.Contains(seg, template.HTMLEscapeString(want)) {
		t.Errorf("%s: no refusal %q beside field %s; after the field:\n%s", what, want, field, seg)
	}
}

// post posts form (with the page's CSRF token) and returns the status and
// the answer.
func (b *browser) post(path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	_, page := b.do("GET", "/meetings", nil)
	if form.Get("csrf") == "" {
		form.Set("csrf", csrfOf(b.t, page))
	}
	return b.do("POST", path, form)
}

// A duty officer convenes a meeting from the form; each bad form is
// refused with 4xx and its reason beside the field, and creates nothing;
// a lead may not convene.
func TestMeetingNewForm(t *testing.T) {
	ctx := context.Background()
	a, bn := uiStart(t, "party-a"), uiStart(t, "party-b")
	chID := uiShare(t, a, bn)
	duty := a.browser(t)
	duty.login("olga", "password-olga")
	if _, page := duty.do("GET", "/meetings", nil); !strings.Contains(page, "No meetings yet.") || !strings.Contains(page, `href="/meetings/new"`) {
		t.Fatalf("meetings, none yet:\n%s", page)
	}
	_, page := duty.do("GET", "/meetings/new", nil)
	for _, want := range []string{`<option value="` + chID + `">a-b</option>`, `<label for="meeting-start">Date and time (UTC)</label>`, `type="datetime-local"`} {
		if !strings.Contains(page, want) {
			t.Errorf("new meeting form lacks %q:\n%s", want, page)
		}
	}
	good := url.Values{"channel": {chID}, "name": {"Expert round 1"}, "start": {"2036-12-01T09:00"},
		"participants": {"party-a: Olga Ivanova, duty officer\n\nparty-b: Boris"}, "agenda": {"The grid incident\n\nAny other business\n"}}
	with := func(k, v string) url.Values {
		f := url.Values{}
		for kk, vv := range good {
			f[kk] = vv
		}
		f.Set(k, v)
		return f
	}
	for _, c := range []struct {
		what   string
		form   url.Values
		status int
		field  string
		want   string
	}{
		{"no channel", with("channel", ""), 400, "meeting-channel", "channel: choose a channel"},
		{"unknown channel", with("channel", "no-such-channel"), 404, "meeting-channel", `no channel "no-such-channel"`},
		{"no title", with("name", "  "), 400, "meeting-name", "name: a meeting needs a name"},
		{"no start", with("start", ""), 400, "meeting-start", "start: want a date and time such as 2036-12-01T09:00"},
		{"bad start", with("start", "1 December 2036"), 400, "meeting-start", "start: want a date and time"},
		{"start out of range", with("start", "2036-13-01T09:00"), 400, "meeting-start", "start: want a date and time"},
		{"participant without party", with("participants", "party-a: Olga\nBoris"), 400, "meeting-participants", `participants: line 2: want "party: name" or "party: name, role"`},
		{"participant without name", with("participants", "party-a:  , lead"), 400, "meeting-participants", "participants: line 1:"},
		{"participant of a third party", with("participants", "party-c: Carl"), 400, "meeting-participants", `participants[0]: party "party-c": want party-a or party-b`},
	} {
		resp, body := duty.post("/meetings", c.form)
		if resp.StatusCode != c.status {
			t.Errorf("%s: %d, want %d\n%s", c.what, resp.StatusCode, c.status, body)
		}
		besideField(t, c.what, body, c.field, c.want)
		if !strings.Contains(body, `value="`+c.form.Get("name")+`"`) && c.form.Get("name") != "  " {
			t.Errorf("%s: the form lost its values", c.what)
		}
	}
	// Without the token, or as a lead: refused.
	if resp, _ := duty.do("POST", "/meetings", good); resp.StatusCode != http.StatusForbidden {
		t.Errorf("without CSRF token: %d", resp.StatusCode)
	}
	lead := a.browser(t)
	lead.login("lena", "password-lena")
	if _, page := lead.do("GET", "/meetings", nil); strings.Contains(page, `href="/meetings/new"`) {
		t.Error("the lead is offered to convene a meeting")
	}
	resp, body := lead.post("/meetings", with("csrf", ""))
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "Your role may only read") {
		t.Errorf("lead convening: %d\n%s", resp.StatusCode, body)
	}
	if ms, err := a.srv.Workflow.Meetings(ctx, ""); err != nil || len(ms) != 0 {
		t.Fatalf("after the refused forms: %d meetings, %v", len(ms), err)
	}

	resp, body = duty.post("/meetings", good)
	m := meetingIDRE.FindStringSubmatch(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || m == nil {
		t.Fatalf("convening: %d %s\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	got, err := a.srv.Workflow.MeetingByID(ctx, m[1])
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "Expert round 1" || got.Start.Format("2006-01-02 15:04") != "2036-12-01 09:00" || len(got.Agenda) != 2 || got.Agenda[1].Title != "Any other business" ||
		len(got.Participants) != 2 || got.Participants[0] != (workflow.Participant{Party: "party-a", Name: "Olga Ivanova", Role: "duty officer"}) || got.Participants[1].Party != "party-b" {
		t.Errorf("convened: %+v", got)
	}
	_, page = duty.do("GET", "/meetings", nil)
	for _, want := range []string{`<a href="/meetings/` + m[1] + `">Expert round 1</a>`, "1 December 2036, 09:00 UTC", "<td>a-b</td>", "No minutes yet"} {
		if !strings.Contains(page, want) {
			t.Errorf("the list lacks %q:\n%s", want, page)
		}
	}
}
