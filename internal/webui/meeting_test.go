package webui_test

import (
	"context"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
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
	if i := strings.Index(rest, "</form>"); i >= 0 {
		end = i
	}
	// The next field's label ends the field's part (a checkbox's own
	// label comes after it).
	for from := 1; ; {
		i := strings.Index(rest[from:end], "<label")
		if i < 0 {
			break
		}
		if !strings.HasPrefix(rest[from+i:], `<label for="`+field+`"`) {
			end = from + i
			break
		}
		from += i + 1
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

// The meeting page's forms on the convening node: each bad form is
// refused with 4xx beside its field and changes nothing; the good ones
// add an agenda item, record bilingual minutes, add an action item, set
// its status and sign. The other party's node shows no convener's form,
// refuses an update, and signs: the minutes are agreed. A report linked
// from the agenda is named only to a user who may see it.
func TestMeetingForms(t *testing.T) {
	ctx := context.Background()
	a, bn := uiStart(t, "party-a"), uiStart(t, "party-b")
	chID := uiShare(t, a, bn)
	red, err := a.srv.Workflow.FileReportTo(ctx, chID, uiBundle(t), "red", []string{"energy"}, 3, []string{"olga"})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := a.srv.Workflow.ReportFor(ctx, mustUser(t, a, "olga"), red)
	if err != nil {
		t.Fatal(err)
	}
	id, err := a.srv.Workflow.CreateMeeting(ctx, chID, workflow.MeetingInput{Name: "Expert round 1", Start: mustTime(t, "2036-12-01T09:00")})
	if err != nil {
		t.Fatal(err)
	}
	duty := a.browser(t)
	duty.login("olga", "password-olga")
	path := "/meetings/" + id
	versions := func() int {
		m, err := a.srv.Workflow.MeetingByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return m.Versions
	}
	for _, c := range []struct {
		what   string
		path   string
		form   url.Values
		status int
		field  string
		want   string
	}{
		{"agenda item without title", "/agenda", url.Values{"title": {" "}}, 400, "agenda-title", "agenda[0]: title: empty"},
		{"agenda link to an indicator", "/agenda", url.Values{"title": {"x"}, "object_refs": {"indicator--00000000-0000-4000-8000-000000000000"}}, 400, "agenda-refs", "an agenda item links reports and requests"},
		{"agenda link to nothing", "/agenda", url.Values{"title": {"x"}, "object_refs": {"report--00000000-0000-4000-8000-000000000000"}}, 404, "agenda-refs", "object_refs: no report--00000000-0000-4000-8000-000000000000"},
		{"minutes without text", "/minutes", url.Values{"text-en": {" "}, "text-ru": {""}}, 400, "minutes-en", "texts: want at least one text"},
		{"action without description", "/actions", url.Values{"owner": {"party-b"}, "due": {"2036-12-08T09:00"}}, 400, "action-description", "description: an action item needs one"},
		{"action without due time", "/actions", url.Values{"description": {"Block"}, "owner": {"party-b"}, "due": {"next week"}}, 400, "action-due", "due: want a date and time such as 2036-12-01T09:00"},
		{"action of a third party", "/actions", url.Values{"description": {"Block"}, "owner": {"party-c"}, "due": {"2036-12-08T09:00"}}, 400, "action-owner", `owner: party "party-c": want party-a or party-b`},
		{"sign without minutes", "/sign", url.Values{"confirm": {"yes"}, "text_sha256": {"00"}}, 409, "", "has no minutes yet"},
	} {
		resp, body := duty.post(path+c.path, c.form)
		if resp.StatusCode != c.status {
			t.Errorf("%s: %d, want %d\n%s", c.what, resp.StatusCode, c.status, body)
		}
		if c.field != "" {
			besideField(t, c.what, body, c.field, c.want)
		} else if !strings.Contains(body, template.HTMLEscapeString(c.want)) {
			t.Errorf("%s: the page does not say %q:\n%s", c.what, c.want, body)
		}
		if v := versions(); v != 1 {
			t.Fatalf("%s: the meeting has %d versions", c.what, v)
		}
	}

	for _, c := range []struct {
		path string
		form url.Values
	}{
		{"/agenda", url.Values{"title": {"The grid incident"}, "object_refs": {red}}},
		{"/minutes", url.Values{"text-en": {"The parties agreed to share indicators."}, "text-ru": {"Стороны договорились обмениваться индикаторами."}}},
		{"/actions", url.Values{"description": {"Block the C2 addresses"}, "owner": {"party-b"}, "due": {"2036-12-08T09:00"}}},
	} {
		if resp, body := duty.post(path+c.path, c.form); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s: %d\n%s", c.path, resp.StatusCode, body)
		}
	}
	m, err := a.srv.Workflow.MeetingByID(ctx, id)
	if err != nil || m.Minutes == nil || len(m.ActionItems) != 1 || len(m.Agenda) != 1 {
		t.Fatalf("after the forms: %+v, %v", m, err)
	}
	sum := m.Minutes.TextSHA256
	_, page := duty.do("GET", path, nil)
	for _, want := range []string{
		`<div class="text" lang="en"><h3>English</h3><div class="text-body">The parties agreed to share indicators.</div></div>`,
		`<div class="text" lang="ru"><h3>Russian</h3><div class="text-body">Стороны договорились обмениваться индикаторами.</div></div>`,
		`<code id="minutes-hash" class="hash">` + sum + `</code>`,
		`<input type="hidden" name="text_sha256" value="` + sum + `">`,
		`<a href="/reports/` + red + `">` + template.HTMLEscapeString(rep.Name) + `</a>`,
		"Block the C2 addresses", "8 December 2036, 09:00 UTC", `action="/meetings/` + id + `/actions/0"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the meeting page lacks %q", want)
		}
	}
	// The lead may not see the RED report: the agenda does not name it.
	lead := a.browser(t)
	lead.login("lena", "password-lena")
	_, page = lead.do("GET", path, nil)
	if strings.Contains(page, red) || strings.Contains(page, `action="/meetings/`+id+`/agenda"`) || !strings.Contains(page, "The grid incident") {
		t.Errorf("the lead's meeting page names the RED report or offers a form:\n%s", page)
	}
	if resp, _ := lead.post(path+"/sign", url.Values{"confirm": {"yes"}, "text_sha256": {sum}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("the lead signing: %d", resp.StatusCode)
	}

	// Status and signature refusals, then the good ones.
	for _, c := range []struct {
		what, path string
		form       url.Values
		status     int
		field      string
		want       string
	}{
		{"status of no item", "/actions/3", url.Values{"status": {"done"}}, 404, "", "action item 3: meeting"},
		{"status of a bad index", "/actions/x", url.Values{"status": {"done"}}, 400, "", "status: want the number of an action item"},
		{"unknown status", "/actions/0", url.Values{"status": {"finished"}}, 400, "status-0-select", `status "finished": want open, done or dropped`},
		{"sign unconfirmed", "/sign", url.Values{"text_sha256": {sum}}, 400, "sign-confirm", "confirm: tick the box to confirm you have read the text with this hash"},
		{"sign without hash", "/sign", url.Values{"confirm": {"yes"}}, 400, "sign-confirm", "the hash of the text you sign is missing"},
		{"sign another text", "/sign", url.Values{"confirm": {"yes"}, "text_sha256": {strings.Repeat("ab", 32)}}, 409, "", "is not the hash of statement"},
	} {
		resp, body := duty.post(path+c.path, c.form)
		if resp.StatusCode != c.status {
			t.Errorf("%s: %d, want %d\n%s", c.what, resp.StatusCode, c.status, body)
		}
		if c.field != "" {
			besideField(t, c.what, body, c.field, c.want)
		} else if !strings.Contains(body, template.HTMLEscapeString(c.want)) {
			t.Errorf("%s: the page does not say %q:\n%s", c.what, c.want, body)
		}
		if v := versions(); v != 4 {
			t.Fatalf("%s: the meeting has %d versions", c.what, v)
		}
	}
	if st, _ := a.srv.Workflow.StatementByID(ctx, m.MinutesRef); len(st.Sigs) != 0 {
		t.Fatalf("signatures after the refusals: %+v", st.Sigs)
	}
	if resp, body := duty.post(path+"/actions/0", url.Values{"status": {"done"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("status done: %d\n%s", resp.StatusCode, body)
	}
	if resp, body := duty.post(path+"/sign", url.Values{"confirm": {"yes"}, "text_sha256": {sum}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("signing: %d\n%s", resp.StatusCode, body)
	}
	_, page = duty.do("GET", path, nil)
	if !strings.Contains(page, "Signed by party-a") || !strings.Contains(page, "<td>party-a</td><td>olga (duty)</td>") || strings.Contains(page, `action="/meetings/`+id+`/sign"`) {
		t.Errorf("after signing on A:\n%s", page)
	}

	// B: no convener's form; an update is refused by the workflow; B signs.
	other := bn.browser(t)
	other.login("olga", "password-olga")
	other.lang = "ru"
	uiWait(t, "b has the minutes signed by a", func() bool {
		m, err := bn.srv.Workflow.MeetingByID(ctx, id)
		return err == nil && m.Minutes != nil && len(m.Minutes.SignedBy) == 1 && m.ActionItems[0].Status == workflow.ActionDone
	})
	_, page = other.do("GET", path, nil)
	for _, want := range []string{"Протокол", "Подписано: party-a", "Только", "выполнено", `action="/meetings/` + id + `/sign"`, "Я прочитал(а) текст выше; его SHA-256 — " + sum} {
		if !strings.Contains(page, want) && !(want == "Только" && strings.Contains(page, "Изменять эту встречу может только")) {
			t.Errorf("B's page in Russian lacks %q", want)
		}
	}
	if strings.Contains(page, `action="/meetings/`+id+`/agenda"`) || strings.Contains(page, `action="/meetings/`+id+`/minutes"`) {
		t.Error("B is offered the convener's forms")
	}
	resp, body := other.post(path+"/agenda", url.Values{"title": {"mine"}})
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "only the convening party (party-a) updates meeting") {
		t.Errorf("B adding to the agenda: %d\n%s", resp.StatusCode, body)
	}
	if resp, body := other.post(path+"/sign", url.Values{"confirm": {"yes"}, "text_sha256": {sum}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("B signing: %d\n%s", resp.StatusCode, body)
	}
	_, page = other.do("GET", "/meetings", nil)
	if !strings.Contains(page, `class="agreed">Согласовано: подписано обеими сторонами`) {
		t.Errorf("B's list after both signed:\n%s", page)
	}
}

// Joint statements: a bad proposal is refused beside its field and files
// nothing; a good one is shown with both texts; each party signs by the
// hash shown, and the statement is agreed.
func TestStatementForms(t *testing.T) {
	ctx := context.Background()
	a, bn := uiStart(t, "party-a"), uiStart(t, "party-b")
	chID := uiShare(t, a, bn)
	duty := a.browser(t)
	duty.login("olga", "password-olga")
	for _, c := range []struct {
		what   string
		form   url.Values
		status int
		field  string
		want   string
	}{
		{"no channel", url.Values{"text-en": {"x"}}, 400, "statement-channel", "channel: choose a channel"},
		{"unknown channel", url.Values{"channel": {"nope"}, "text-en": {"x"}}, 404, "statement-channel", `no channel "nope"`},
		{"no text", url.Values{"channel": {chID}, "text-en": {" "}}, 400, "statement-en", "texts: want at least one text"},
		// KindTooLarge: its status comes from httpapi's one table.
		{"text too long", url.Values{"channel": {chID}, "text-en": {strings.Repeat("x", workflow.MaxStatementText+1)}}, 413, "statement-en", "over the limit of 262144"},
	} {
		resp, body := duty.post("/statements", c.form)
		if resp.StatusCode != c.status {
			t.Errorf("%s: %d, want %d\n%s", c.what, resp.StatusCode, c.status, body)
		}
		besideField(t, c.what, body, c.field, c.want)
	}
	if sts, err := a.srv.Workflow.Statements(ctx, "", ""); err != nil || len(sts) != 0 {
		t.Fatalf("after the refusals: %d statements, %v", len(sts), err)
	}
	resp, body := duty.post("/statements", url.Values{"channel": {chID}, "text-en": {"We condemn attacks on hospitals."}, "text-ru": {"Мы осуждаем атаки на больницы."}})
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/statements/parley-statement--") {
		t.Fatalf("proposing: %d %s\n%s", resp.StatusCode, loc, body)
	}
	id := strings.TrimPrefix(loc, "/statements/")
	sum, _ := workflow.TextSHA256(map[string]string{"en": "We condemn attacks on hospitals.", "ru": "Мы осуждаем атаки на больницы."})
	_, page := duty.do("GET", loc, nil)
	for _, want := range []string{`lang="ru"><h3>Russian</h3><div class="text-body">Мы осуждаем атаки на больницы.</div>`, `<code id="statement-hash" class="hash">` + sum, "Proposed, not signed yet", "joint statement"} {
		if !strings.Contains(page, want) {
			t.Errorf("the statement page lacks %q:\n%s", want, page)
		}
	}
	if resp, body := duty.post(loc+"/sign", url.Values{"confirm": {"yes"}, "text_sha256": {strings.Repeat("0", 64)}}); resp.StatusCode != http.StatusConflict || !strings.Contains(body, "read the statement again before signing") {
		t.Errorf("signing another hash: %d\n%s", resp.StatusCode, body)
	}
	if resp, body := duty.post(loc+"/sign", url.Values{"confirm": {"yes"}, "text_sha256": {sum}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("signing: %d\n%s", resp.StatusCode, body)
	}
	other := bn.browser(t)
	other.login("olga", "password-olga")
	uiWait(t, "b has the statement signed by a", func() bool {
		st, err := bn.srv.Workflow.StatementByID(ctx, id)
		return err == nil && len(st.SignedBy) == 1
	})
	if resp, body := other.post(loc+"/sign", url.Values{"confirm": {"yes"}, "text_sha256": {sum}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("B signing: %d\n%s", resp.StatusCode, body)
	}
	_, page = other.do("GET", "/statements", nil)
	if !strings.Contains(page, "We condemn attacks on hospitals.") || !strings.Contains(page, "Agreed: signed by both parties") {
		t.Errorf("B's list:\n%s", page)
	}
	if resp, _ := other.do("GET", "/statements/parley-statement--00000000-0000-4000-8000-000000000000", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("an unknown statement: %d", resp.StatusCode)
	}
	if resp, _ := other.do("GET", "/meetings/nonsense", nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a malformed meeting id: %d", resp.StatusCode)
	}
}

func mustUser(t *testing.T, n *uiNode, name string) *dialogue.User {
	t.Helper()
	u, err := n.srv.Node.Store.User(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse("2006-01-02T15:04", s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
