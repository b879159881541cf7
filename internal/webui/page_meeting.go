package webui

// The meetings pages: the meetings of this node's
// channels (GET /meetings, paged), one meeting with its agenda,
// participants, minutes (every language's text side by side, the SHA-256
// that is signed, who signed) and action items (GET /meetings/{id}), the
// form to convene one (GET /meetings/new, POST /meetings), and the
// meeting's forms: add an agenda item, record the minutes (one text per
// language), add an action item, set an action item's status, sign the
// minutes. Joint statements have their list with a form to propose one
// (GET and POST /statements) and their page with the sign form (GET
// /statements/{id}, POST /statements/{id}/sign).
//
// The rules are the workflow's: only the convening party updates a
// meeting (its forms show on that party's node only), minutes already
// agreed are not replaced, a party signs a text once and only by the
// hash of the text it read (the form carries the hash shown; a text
// changed meanwhile is refused). The UI parses the forms (dates, lines
// of participants, an item's index) and passes them to the workflow's
// methods with the signed-in user; each refusal is shown beside the field
// it names, with a 4xx status. Meetings and statements carry no TLP
// marking (docs/design/tlp.md: CLEAR); the reports an agenda item links
// are named only when the user may see them (workflow.ReportsFor).

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/httpapi"
	"github.com/parleyhq/parley/internal/workflow"
)

func init() {
	routes = append(routes, func(u *UI, m *routeMux) {
		m.HandleFunc("GET /meetings", u.signedIn(u.meetingsPage))
		m.HandleFunc("GET /meetings/new", u.signedIn(u.newMeetingPage))
		m.HandleFunc("POST /meetings", u.signedIn(u.createMeeting))
		m.HandleFunc("GET /meetings/{id}", u.signedIn(u.meetingPage))
		m.HandleFunc("POST /meetings/{id}/agenda", u.signedIn(u.meetingAgenda))
		m.HandleFunc("POST /meetings/{id}/minutes", u.signedIn(u.meetingMinutes))
		m.HandleFunc("POST /meetings/{id}/actions", u.signedIn(u.meetingAction))
		m.HandleFunc("POST /meetings/{id}/actions/{index}", u.signedIn(u.meetingActionStatus))
		m.HandleFunc("POST /meetings/{id}/sign", u.signedIn(u.meetingSign))
		m.HandleFunc("GET /statements", u.signedIn(u.statementsPage))
		m.HandleFunc("POST /statements", u.signedIn(u.proposeStatement))
		m.HandleFunc("GET /statements/{id}", u.signedIn(u.statementPage))
		m.HandleFunc("POST /statements/{id}/sign", u.signedIn(u.statementSign))
	})
	funcs["stmtTexts"] = statementTexts
	funcs["stmtState"] = statementState
	funcs["stmtKind"] = statementKind
	funcs["stmtExcerpt"] = statementExcerpt
	funcs["meetingOpen"] = meetingOpen
	addRU(map[string]string{
		// The list.
		"Convene a meeting":              "Созвать встречу",
		"Joint statements":               "Совместные заявления",
		"Date":                           "Дата",
		"Meeting":                        "Встреча",
		"Channel":                        "Канал",
		"Convened by":                    "Созвал(а)",
		"Minutes":                        "Протокол",
		"Action items":                   "Поручения",
		"No meetings yet.":               "Встреч пока нет.",
		"No minutes yet":                 "Протокола пока нет",
		"%d open, %d overdue":            "открыто: %d, просрочено: %d",
		"Page %d of %d: %d meetings.":    "Страница %d из %d; встреч: %d.",
		"Page %d of %d: %d statements.":  "Страница %d из %d; заявлений: %d.",
		"Proposed, not signed yet":       "Предложено, подписей пока нет",
		"Signed by %s":                   "Подписано: %s",
		"Agreed: signed by both parties": "Согласовано: подписано обеими сторонами",
		"Invalid: %s":                    "Недействительно: %s",
		"joint statement":                "совместное заявление",
		"minutes of a meeting":           "протокол встречи",
		"off-limits sectors statement":   "заявление о запретных секторах",
		"Your role may only read; this needs the role duty, expert or admin.": "Ваша роль позволяет только чтение; для этого нужна роль duty, expert или admin.",
		// One meeting.
		"Meeting details":         "Сведения о встрече",
		"Starts":                  "Начало",
		"Participants":            "Участники",
		"Party":                   "Сторона",
		"Name":                    "Имя",
		"Role":                    "Должность",
		"No participants listed.": "Участники не указаны.",
		"Agenda":                  "Повестка дня",
		"The agenda is empty.":    "Повестка дня пуста.",
		"Links":                   "Ссылки",
		"Add an agenda item":      "Добавить пункт повестки",
		"Item title":              "Название пункта",
		"Reports and requests it is about (ids, separated by spaces)": "Отчёты и запросы, к которым он относится (идентификаторы через пробел)",
		"Add":                            "Добавить",
		"No minutes have been recorded.": "Протокол не записан.",
		"State":                          "Состояние",
		"SHA-256 of the text":            "SHA-256 текста",
		"Signatures":                     "Подписи",
		"Signed":                         "Подписано",
		"Signed by":                      "Подписал(а)",
		"Valid":                          "Действительна",
		"Yes":                            "Да",
		"No: %s":                         "Нет: %s",
		"No signatures yet.":             "Подписей пока нет.",
		"Record the minutes":             "Записать протокол",
		"Record new minutes (they replace the ones not yet agreed)": "Записать новый протокол (заменяет ещё не согласованный)",
		"Minutes in English": "Протокол на английском",
		"Minutes in Russian": "Протокол на русском",
		"Save the minutes":   "Сохранить протокол",
		"Sign the minutes":   "Подписать протокол",
		"Sign the statement": "Подписать заявление",
		"I have read the text above; its SHA-256 is %s.": "Я прочитал(а) текст выше; его SHA-256 — %s.",
		"Sign as %s":             "Подписать как %s",
		"This party has signed.": "Эта сторона подписала.",
		"Description":            "Описание",
		"Due":                    "Срок",
		"Owner":                  "Ответственный",
		"Status":                 "Статус",
		"No action items.":       "Поручений нет.",
		"overdue":                "просрочено",
		"Set":                    "Установить",
		"Add an action item":     "Добавить поручение",
		"Due (UTC)":              "Срок (UTC)",
		"open":                   "открыто",
		"done":                   "выполнено",
		"dropped":                "снято",
		"Only the convening party (%s) updates this meeting; this party agrees by signing its minutes.": "Изменять эту встречу может только созвавшая её сторона (%s); эта сторона выражает согласие, подписывая протокол.",
		"English":              "Английский",
		"Russian":              "Русский",
		"Back to the meetings": "Вернуться к встречам",
		// The new meeting.
		"New meeting":         "Новая встреча",
		"Meeting title":       "Название встречи",
		"Date and time (UTC)": "Дата и время (UTC)",
		"Participants, one a line: party: name, role (the role is optional)": "Участники, по одному в строке: сторона: имя, должность (должность необязательна)",
		"Agenda, one item a line": "Повестка дня, по пункту в строке",
		"Convene":                 "Созвать",
		"No active channel: a meeting is convened on a channel both parties have accepted.": "Нет действующего канала: встречу созывают в канале, принятом обеими сторонами.",
		// Statements.
		"Statement":                     "Заявление",
		"Kind":                          "Вид",
		"Proposed by":                   "Предложил(а)",
		"Proposed":                      "Предложено",
		"No statements yet.":            "Заявлений пока нет.",
		"Propose a joint statement":     "Предложить совместное заявление",
		"Text in English":               "Текст на английском",
		"Text in Russian":               "Текст на русском",
		"Propose":                       "Предложить",
		"The minutes of the meeting %s": "Протокол встречи %s",
		"Statement details":             "Сведения о заявлении",
		"Sectors":                       "Секторы",
		"Texts":                         "Тексты",
		// Refusals of the forms.
		"The form was refused: %s":                                      "Форма отклонена: %s",
		"want a date and time such as 2036-12-01T09:00":                 "нужны дата и время, например 2036-12-01T09:00",
		"line %d: want \"party: name\" or \"party: name, role\"":        "строка %d: нужно «сторона: имя» или «сторона: имя, должность»",
		"want the number of an action item":                             "нужен номер поручения",
		"tick the box to confirm you have read the text with this hash": "отметьте, что прочитали текст с этим хешем",
		"the hash of the text you sign is missing: reload the page":     "нет хеша подписываемого текста: обновите страницу",
		"choose a channel": "выберите канал",
	})
}

// meetingPageSize is how many meetings, or statements, a list shows on
// one page.
const meetingPageSize = 100

// meetingTimeLayout is how a datetime-local field writes a time (read as
// UTC: the UI shows every date in UTC).
const meetingTimeLayout = "2006-01-02T15:04"

// meetingLangs are the languages the forms take a text in, in the order
// texts are shown side by side.
var meetingLangs = []string{"en", "ru"}

// ---- what the templates see

type meetingsData struct {
	Meetings []*workflow.Meeting
	Channels map[string]string // id → title
	meetingPaging
}

// meetingPaging is a list's page (from 1) of Pages; Prev and Next the
// neighbours (0: none); Total the items in all.
type meetingPaging struct {
	Page, Pages, Prev, Next, Total int
}

// meetingPaged cuts items to page n (from 1; out of range: the nearest).
func meetingPaged[T any](items []T, n int) ([]T, meetingPaging) {
	pg := meetingPaging{Total: len(items), Pages: max(1, (len(items)+meetingPageSize-1)/meetingPageSize)}
	pg.Page = min(max(n, 1), pg.Pages)
	if pg.Page > 1 {
		pg.Prev = pg.Page - 1
	}
	if pg.Page < pg.Pages {
		pg.Next = pg.Page + 1
	}
	i, j := min((pg.Page-1)*meetingPageSize, len(items)), min(pg.Page*meetingPageSize, len(items))
	return items[i:j], pg
}

// meetingOpen counts a meeting's open and overdue action items: [open,
// overdue].
func meetingOpen(m *workflow.Meeting) [2]int {
	var n [2]int
	for _, a := range m.ActionItems {
		if a.Status == workflow.ActionOpen {
			n[0]++
		}
		if a.Overdue {
			n[1]++
		}
	}
	return n
}

type meetingData struct {
	M       *workflow.Meeting
	Channel string
	// Self is this node's party; Convener says it convened the meeting
	// (and so may update it); Parties are both, for the owner field.
	Self     string
	Convener bool
	Parties  []string
	// Refs are an agenda item's links the user may see: request ids,
	// and the reports the user may see, by id, with their names.
	Reports map[string]string
	// Form holds the values of a refused form; Errors the refusals, by
	// "form.field" (or "form" for one about the whole form).
	Form   map[string]string
	Errors map[string]string
}

// MayRecordMinutes says the minutes form shows: this party convened the
// meeting and its minutes are not agreed.
func (d *meetingData) MayRecordMinutes() bool {
	return d.Convener && (d.M.Minutes == nil || d.M.Minutes.State != workflow.StatementAgreed)
}

// MaySign says this party may sign the meeting's minutes.
func (d *meetingData) MaySign() bool { return statementSignable(d.M.Minutes, d.Self) }

// RefShown says an agenda item's link is shown: a request, or a report
// the user may see.
func (d *meetingData) RefShown(ref string) bool {
	if d.IsReport(ref) {
		_, ok := d.Reports[ref]
		return ok
	}
	return true
}

// formShown says the page shows the form named form to a user who may
// write (canWrite) or not.
func (d *meetingData) formShown(form string, canWrite bool) bool {
	if !canWrite {
		return false
	}
	switch form {
	case "agenda", "action":
		return d.Convener
	case "minutes":
		return d.MayRecordMinutes()
	case "sign":
		return d.MaySign()
	}
	if n, ok := strings.CutPrefix(form, "status-"); ok {
		i, err := strconv.Atoi(n)
		return d.Convener && err == nil && i >= 0 && i < len(d.M.ActionItems)
	}
	return false
}

// IsReport says an agenda item's link is a report (else a request).
func (d *meetingData) IsReport(ref string) bool { return strings.HasPrefix(ref, "report--") }

// Statuses are the statuses an action item may be set to.
func (d *meetingData) Statuses() []string {
	return []string{workflow.ActionOpen, workflow.ActionDone, workflow.ActionDropped}
}

// MinutesValue is the minutes form's text in language lang: the refused
// form's, else the minutes' own.
func (d *meetingData) MinutesValue(lang string) string {
	if v, ok := d.Form["minutes.text-"+lang]; ok {
		return v
	}
	if d.M.Minutes != nil {
		return d.M.Minutes.Texts[lang]
	}
	return ""
}

// statementSignable says party self may sign st.
func statementSignable(st *workflow.Statement, self string) bool {
	return st != nil && st.State != workflow.StatementAgreed && st.State != workflow.StatementInvalid && !slices.Contains(st.SignedBy, self)
}

type newMeetingData struct {
	Channels []*dialogue.Channel
	Form     map[string]string
	Errors   map[string]string
}

type statementsData struct {
	Statements []*workflow.Statement
	Channels   []*dialogue.Channel // active, for the form
	Titles     map[string]string   // channel id → title
	Form       map[string]string
	Errors     map[string]string
	meetingPaging
}

type statementData struct {
	S       *workflow.Statement
	Channel string
	Self    string
	Errors  map[string]string
}

// MaySign says this party may sign the statement.
func (d *statementData) MaySign() bool { return statementSignable(d.S, d.Self) }

// statementText is one language's text of a statement.
type statementText struct {
	Lang, Text string
}

// statementTexts orders a statement's texts for showing side by side:
// English, Russian, then the others by tag.
func statementTexts(texts map[string]string) []statementText {
	var out []statementText
	for lang, text := range texts {
		out = append(out, statementText{lang, text})
	}
	rank := func(l string) int {
		if i := slices.Index(meetingLangs, l); i >= 0 {
			return i
		}
		return len(meetingLangs)
	}
	slices.SortFunc(out, func(a, b statementText) int {
		if c := rank(a.Lang) - rank(b.Lang); c != 0 {
			return c
		}
		return strings.Compare(a.Lang, b.Lang)
	})
	return out
}

// statementState is a statement's state in the page's language.
func statementState(p *page, st *workflow.Statement) string {
	if st == nil {
		return p.T("No minutes yet")
	}
	switch st.State {
	case workflow.StatementSigned:
		return p.T("Signed by %s", strings.Join(st.SignedBy, ", "))
	case workflow.StatementAgreed:
		return p.T("Agreed: signed by both parties")
	case workflow.StatementInvalid:
		return p.T("Invalid: %s", st.Problem)
	}
	return p.T("Proposed, not signed yet")
}

// statementKind is a kind of statement in the page's language.
func statementKind(p *page, k workflow.StatementKind) string {
	switch k {
	case workflow.StatementJoint:
		return p.T("joint statement")
	case workflow.StatementMinutes:
		return p.T("minutes of a meeting")
	case workflow.StatementOffLimits:
		return p.T("off-limits sectors statement")
	}
	return string(k)
}

// statementExcerpt is the start of a statement's first text (in the
// page's language when it has one), at most 160 characters.
func statementExcerpt(p *page, st *workflow.Statement) string {
	text, ok := st.Texts[p.Lang]
	if !ok {
		if ts := statementTexts(st.Texts); len(ts) > 0 {
			text = ts[0].Text
		}
	}
	if utf8.RuneCountInString(text) <= 160 {
		return text
	}
	r := []rune(text)
	return string(r[:160]) + "…"
}

// ---- parsing the forms

// meetingFieldErr is an invalid form field, as a dialogue error.
func meetingFieldErr(field, reason string, args ...any) error {
	return dialogue.E("webui.meetingForm", dialogue.KindInvalid, &dialogue.FieldError{Field: field, Reason: reason, Args: args})
}

// parseMeetingTime reads a datetime-local value as UTC.
func parseMeetingTime(field, v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	for _, layout := range []string{meetingTimeLayout, "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, v, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, meetingFieldErr(field, "want a date and time such as 2036-12-01T09:00")
}

// parseParticipants reads lines "party: name" or "party: name, role";
// blank lines are skipped. The parties and names are checked by the
// workflow.
func parseParticipants(v string) ([]workflow.Participant, error) {
	var out []workflow.Participant
	for i, line := range strings.Split(v, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		party, rest, ok := strings.Cut(line, ":")
		name, role, _ := strings.Cut(rest, ",")
		party, name, role = strings.TrimSpace(party), strings.TrimSpace(name), strings.TrimSpace(role)
		if !ok || party == "" || name == "" {
			return nil, meetingFieldErr("participants", "line %d: want \"party: name\" or \"party: name, role\"", i+1)
		}
		out = append(out, workflow.Participant{Party: party, Name: name, Role: role})
	}
	return out, nil
}

// parseAgendaLines reads one agenda item title a line; blank lines are
// skipped.
func parseAgendaLines(v string) []workflow.AgendaItem {
	var out []workflow.AgendaItem
	for line := range strings.Lines(v) {
		if t := strings.TrimSpace(line); t != "" {
			out = append(out, workflow.AgendaItem{Title: t})
		}
	}
	return out
}

// meetingInput reads the new-meeting form.
func meetingInput(form map[string]string) (string, workflow.MeetingInput, error) {
	in := workflow.MeetingInput{Name: form["name"], Agenda: parseAgendaLines(form["agenda"])}
	if strings.TrimSpace(form["channel"]) == "" {
		return "", in, meetingFieldErr("channel", "choose a channel")
	}
	start, err := parseMeetingTime("start", form["start"])
	if err != nil {
		return "", in, err
	}
	in.Start = start
	if in.Participants, err = parseParticipants(form["participants"]); err != nil {
		return "", in, err
	}
	return form["channel"], in, nil
}

// minutesTexts reads one text a language; an empty one is left out (the
// workflow refuses minutes with no text at all).
func minutesTexts(form map[string]string) map[string]string {
	texts := map[string]string{}
	for _, l := range meetingLangs {
		if strings.TrimSpace(form["text-"+l]) != "" {
			texts[l] = form["text-"+l]
		}
	}
	return texts
}

// signHash reads the sign form: the hash of the text shown and the
// ticked confirmation.
func signHash(form map[string]string) (string, error) {
	if form["confirm"] == "" {
		return "", meetingFieldErr("confirm", "tick the box to confirm you have read the text with this hash")
	}
	if strings.TrimSpace(form["text_sha256"]) == "" {
		return "", meetingFieldErr("confirm", "the hash of the text you sign is missing: reload the page")
	}
	return form["text_sha256"], nil
}

// formValues are the posted fields named, trimmed of nothing.
func formValues(r *http.Request, names ...string) map[string]string {
	out := map[string]string{}
	for _, n := range names {
		out[n] = r.PostFormValue(n)
	}
	return out
}

// refusalField is the field a refusal names: a form's own parse error,
// or the head of a workflow message ("texts[en]: empty" → text-en,
// "agenda[0]: title: empty" → title) when it is one of fields; else ""
// (the refusal is about the whole form).
func refusalField(err error, fields ...string) string {
	var fe *dialogue.FieldError
	if errors.As(err, &fe) {
		return fe.Field
	}
	msg := dialogue.Message(err)
	if strings.HasPrefix(msg, "texts[") {
		if l, _, ok := strings.Cut(strings.TrimPrefix(msg, "texts["), "]"); ok && slices.Contains(fields, "text-"+l) {
			return "text-" + l
		}
	}
	if strings.HasPrefix(msg, "texts:") && len(fields) > 0 && strings.HasPrefix(fields[0], "text-") {
		return fields[0]
	}
	for _, part := range strings.SplitN(msg, ": ", 3) {
		head := strings.TrimSpace(part)
		if i := strings.IndexAny(head, "[ "); i >= 0 {
			head = head[:i]
		}
		if head == "text_sha256" || head == "signed_by" {
			head = "confirm"
		}
		if slices.Contains(fields, head) {
			return head
		}
	}
	return ""
}

// refusalText is a refusal in the page's language: a form's own parse
// error translated, a workflow's message as it is.
func refusalText(l locale, err error) string {
	var fe *dialogue.FieldError
	if errors.As(err, &fe) {
		return fe.Field + ": " + l.T(fe.Reason, fe.Args...)
	}
	return dialogue.Message(err)
}

// ---- handlers

// channelTitles maps each channel's id to its title, and lists the
// active channels (where meetings are convened).
func (u *UI) channelTitles(ctx context.Context) (map[string]string, []*dialogue.Channel, error) {
	chs, err := u.wf(ctx).Channels(ctx)
	if err != nil {
		return nil, nil, err
	}
	titles := map[string]string{}
	var active []*dialogue.Channel
	for _, ch := range chs {
		titles[ch.ID] = ch.Title
		if ch.State == dialogue.ChannelActive {
			active = append(active, ch)
		}
	}
	return titles, active, nil
}

func (u *UI) meetingsPage(w http.ResponseWriter, r *http.Request) {
	ms, err := u.wf(r.Context()).Meetings(r.Context(), "")
	if err != nil {
		u.internal(w, r, err)
		return
	}
	titles, _, err := u.channelTitles(r.Context())
	if err != nil {
		u.internal(w, r, err)
		return
	}
	n, _ := strconv.Atoi(r.URL.Query().Get("page")) // a bad number: the first page
	d := &meetingsData{Channels: titles}
	d.Meetings, d.meetingPaging = meetingPaged(ms, n)
	p := u.newPage(r, "Meetings")
	p.Data = d
	u.render(w, "meetings", http.StatusOK, p)
}

// mayWrite refuses a user whose role may only read, with the page
// rendered by refuse; it says whether to go on.
func (u *UI) mayWrite(r *http.Request, refuse func(status int, err error)) bool {
	if sessionFrom(r.Context()).u.Role.CanWrite() {
		return true
	}
	refuse(http.StatusForbidden, dialogue.E("webui.mayWrite", dialogue.KindForbidden, errors.New(newLocale(langOf(r)).T("Your role may only read; this needs the role duty, expert or admin."))))
	return false
}

func (u *UI) newMeetingPage(w http.ResponseWriter, r *http.Request) {
	u.renderNewMeeting(w, r, http.StatusOK, map[string]string{}, map[string]string{})
}

func (u *UI) renderNewMeeting(w http.ResponseWriter, r *http.Request, status int, form, errs map[string]string) {
	_, active, err := u.channelTitles(r.Context())
	if err != nil {
		u.internal(w, r, err)
		return
	}
	p := u.newPage(r, "New meeting")
	p.Data = &newMeetingData{Channels: active, Form: form, Errors: errs}
	u.render(w, "meeting_new", status, p)
}

func (u *UI) createMeeting(w http.ResponseWriter, r *http.Request) {
	form := formValues(r, "channel", "name", "start", "participants", "agenda")
	l := newLocale(langOf(r))
	refuse := func(status int, err error) {
		field := refusalField(err, "channel", "name", "start", "participants", "agenda")
		if dialogue.Message(err) != "" && strings.HasPrefix(dialogue.Message(err), "no channel") {
			field = "channel"
		}
		u.renderNewMeeting(w, r, status, form, map[string]string{field: refusalText(l, err)})
	}
	if !u.mayWrite(r, refuse) {
		return
	}
	channel, in, err := meetingInput(form)
	if err == nil {
		var id string
		id, err = u.wf(r.Context()).CreateMeeting(r.Context(), channel, in)
		if err == nil {
			http.Redirect(w, r, "/meetings/"+id, http.StatusSeeOther)
			return
		}
	}
	if dialogue.KindOf(err) == dialogue.KindOther {
		u.internal(w, r, err)
		return
	}
	refuse(httpapi.StatusOf(err), err)
}

func (u *UI) meetingPage(w http.ResponseWriter, r *http.Request) {
	u.renderMeeting(w, r, http.StatusOK, "", nil, nil)
}

// renderMeeting shows the meeting of the request's path, with the
// refused form's values and errors (form names it).
func (u *UI) renderMeeting(w http.ResponseWriter, r *http.Request, status int, form string, values, errs map[string]string) {
	ctx := r.Context()
	m, err := u.wf(ctx).MeetingByID(ctx, r.PathValue("id"))
	if err != nil {
		u.refusedPage(w, r, err)
		return
	}
	wf := u.wf(ctx)
	titles, _, err := u.channelTitles(ctx)
	if err != nil {
		u.internal(w, r, err)
		return
	}
	d := &meetingData{M: m, Channel: titles[m.Channel], Self: wf.Self.Name, Convener: m.ConvenedBy == wf.Self.Name, Reports: map[string]string{}, Form: map[string]string{}, Errors: map[string]string{}}
	if _, other, err := wf.Channel(ctx, m.Channel); err == nil {
		d.Parties = []string{wf.Self.Name, other.Name}
	}
	if meetingLinksReports(m) {
		reps, err := wf.ReportsFor(ctx, sessionFrom(ctx).u, m.Channel)
		if err != nil {
			u.internal(w, r, err)
			return
		}
		for _, rep := range reps {
			d.Reports[rep.ID] = rep.Name
		}
	}
	p := u.newPage(r, "Meeting")
	for k, v := range values {
		d.Form[form+"."+k] = v
	}
	shown := d.formShown(form, p.CanWrite)
	for k, v := range errs {
		switch {
		case !shown:
			p.Error = v // the form is not on the page: the refusal goes above it
		case k == "":
			d.Errors[form] = v
		default:
			d.Errors[form+"."+k] = v
		}
	}
	p.Title = m.Name
	p.Data = d
	if isHTMX(r) {
		u.renderFragment(w, "meeting", "meeting-body", status, p)
		return
	}
	u.render(w, "meeting", status, p)
}

// meetingLinksReports says an agenda item of m links a report.
func meetingLinksReports(m *workflow.Meeting) bool {
	for _, a := range m.Agenda {
		for _, ref := range a.ObjectRefs {
			if strings.HasPrefix(ref, "report--") {
				return true
			}
		}
	}
	return false
}

// refusedPage shows a refusal to show a page (an unknown or malformed
// id) on the error page, with its status.
func (u *UI) refusedPage(w http.ResponseWriter, r *http.Request, err error) {
	if dialogue.KindOf(err) == dialogue.KindOther {
		u.internal(w, r, err)
		return
	}
	p := u.newPage(r, "Refused")
	p.Error = dialogue.Message(err)
	u.render(w, "error", httpapi.StatusOf(err), p)
}

// meetingChange runs a change of the meeting in the path posted by form
// (its fields named): after it, the meeting as it stands (a redirect for
// a plain form, the page's body for htmx); when refused, the page with
// the refusal beside the field it names.
func (u *UI) meetingChange(w http.ResponseWriter, r *http.Request, form string, fields []string, do func(ctx context.Context, id string, values map[string]string) error) {
	values := formValues(r, fields...)
	l := newLocale(langOf(r))
	refuse := func(status int, err error) {
		u.renderMeeting(w, r, status, form, values, map[string]string{refusalField(err, fields...): refusalText(l, err)})
	}
	if !u.mayWrite(r, refuse) {
		return
	}
	id := r.PathValue("id")
	err := do(r.Context(), id, values)
	switch {
	case err == nil && isHTMX(r):
		u.renderMeeting(w, r, http.StatusOK, "", nil, nil)
	case err == nil:
		http.Redirect(w, r, "/meetings/"+id+"#"+form, http.StatusSeeOther)
	case dialogue.KindOf(err) == dialogue.KindOther:
		u.internal(w, r, err)
	default:
		refuse(httpapi.StatusOf(err), err)
	}
}

func (u *UI) meetingAgenda(w http.ResponseWriter, r *http.Request) {
	u.meetingChange(w, r, "agenda", []string{"title", "object_refs"}, func(ctx context.Context, id string, v map[string]string) error {
		return u.wf(ctx).AddAgenda(ctx, id, workflow.AgendaItem{Title: v["title"], ObjectRefs: strings.Fields(strings.ReplaceAll(v["object_refs"], ",", " "))})
	})
}

func (u *UI) meetingMinutes(w http.ResponseWriter, r *http.Request) {
	u.meetingChange(w, r, "minutes", []string{"text-en", "text-ru"}, func(ctx context.Context, id string, v map[string]string) error {
		_, err := u.wf(ctx).MeetingMinutes(ctx, id, minutesTexts(v))
		return err
	})
}

func (u *UI) meetingAction(w http.ResponseWriter, r *http.Request) {
	u.meetingChange(w, r, "action", []string{"description", "owner", "due"}, func(ctx context.Context, id string, v map[string]string) error {
		due, err := parseMeetingTime("due", v["due"])
		if err != nil {
			return err
		}
		_, err = u.wf(ctx).AddActionItem(ctx, id, v["description"], v["owner"], due)
		return err
	})
}

func (u *UI) meetingActionStatus(w http.ResponseWriter, r *http.Request) {
	index := r.PathValue("index")
	u.meetingChange(w, r, "status-"+index, []string{"status"}, func(ctx context.Context, id string, v map[string]string) error {
		n, err := strconv.Atoi(index)
		if err != nil || n < 0 {
			return meetingFieldErr("status", "want the number of an action item")
		}
		return u.wf(ctx).SetActionStatus(ctx, id, n, v["status"])
	})
}

// meetingSigner names the signed-in user for the record, as the JSON API does:
// "name (role)".
func meetingSigner(r *http.Request) string {
	usr := sessionFrom(r.Context()).u
	return fmt.Sprintf("%s (%s)", usr.Name, usr.Role)
}

func (u *UI) meetingSign(w http.ResponseWriter, r *http.Request) {
	u.meetingChange(w, r, "sign", []string{"confirm", "text_sha256"}, func(ctx context.Context, id string, v map[string]string) error {
		sum, err := signHash(v)
		if err != nil {
			return err
		}
		_, err = u.wf(ctx).SignMinutes(ctx, id, sum, meetingSigner(r))
		return err
	})
}

// ---- statements

func (u *UI) statementsPage(w http.ResponseWriter, r *http.Request) {
	u.renderStatements(w, r, http.StatusOK, map[string]string{}, map[string]string{})
}

func (u *UI) renderStatements(w http.ResponseWriter, r *http.Request, status int, form, errs map[string]string) {
	ctx := r.Context()
	sts, err := u.wf(ctx).Statements(ctx, "", "")
	if err != nil {
		u.internal(w, r, err)
		return
	}
	titles, active, err := u.channelTitles(ctx)
	if err != nil {
		u.internal(w, r, err)
		return
	}
	slices.Reverse(sts) // newest first
	n, _ := strconv.Atoi(r.URL.Query().Get("page"))
	d := &statementsData{Channels: active, Titles: titles, Form: form, Errors: errs}
	d.Statements, d.meetingPaging = meetingPaged(sts, n)
	p := u.newPage(r, "Joint statements")
	p.Data = d
	u.render(w, "statements", status, p)
}

func (u *UI) proposeStatement(w http.ResponseWriter, r *http.Request) {
	form := formValues(r, "channel", "text-en", "text-ru")
	l := newLocale(langOf(r))
	refuse := func(status int, err error) {
		field := refusalField(err, "text-en", "text-ru", "channel")
		if strings.HasPrefix(dialogue.Message(err), "no channel") || strings.HasPrefix(dialogue.Message(err), "channel ") {
			field = "channel"
		}
		u.renderStatements(w, r, status, form, map[string]string{field: refusalText(l, err)})
	}
	if !u.mayWrite(r, refuse) {
		return
	}
	if strings.TrimSpace(form["channel"]) == "" {
		refuse(http.StatusBadRequest, meetingFieldErr("channel", "choose a channel"))
		return
	}
	id, err := u.wf(r.Context()).ProposeStatement(r.Context(), form["channel"], workflow.StatementProposal{Kind: workflow.StatementJoint, Texts: minutesTexts(form)})
	switch {
	case err == nil:
		http.Redirect(w, r, "/statements/"+id, http.StatusSeeOther)
	case dialogue.KindOf(err) == dialogue.KindOther:
		u.internal(w, r, err)
	default:
		refuse(httpapi.StatusOf(err), err)
	}
}

func (u *UI) statementPage(w http.ResponseWriter, r *http.Request) {
	u.renderStatement(w, r, http.StatusOK, nil)
}

func (u *UI) renderStatement(w http.ResponseWriter, r *http.Request, status int, errs map[string]string) {
	ctx := r.Context()
	st, err := u.wf(ctx).StatementByID(ctx, r.PathValue("id"))
	if err != nil {
		u.refusedPage(w, r, err)
		return
	}
	titles, _, err := u.channelTitles(ctx)
	if err != nil {
		u.internal(w, r, err)
		return
	}
	if errs == nil {
		errs = map[string]string{}
	}
	p := u.newPage(r, "Statement")
	d := &statementData{S: st, Channel: titles[st.Channel], Self: u.cfg.Workflow.Self.Name, Errors: errs}
	if msg := errs["sign"]; msg != "" && !(p.CanWrite && d.MaySign()) {
		p.Error = msg // the sign form is not on the page: the refusal goes above it
	}
	p.Data = d
	if isHTMX(r) {
		u.renderFragment(w, "statement", "statement-body", status, p)
		return
	}
	u.render(w, "statement", status, p)
}

func (u *UI) statementSign(w http.ResponseWriter, r *http.Request) {
	values := formValues(r, "confirm", "text_sha256")
	l := newLocale(langOf(r))
	refuse := func(status int, err error) {
		u.renderStatement(w, r, status, map[string]string{"sign": refusalText(l, err)})
	}
	if !u.mayWrite(r, refuse) {
		return
	}
	id := r.PathValue("id")
	sum, err := signHash(values)
	if err == nil {
		_, err = u.wf(r.Context()).SignStatement(r.Context(), id, sum, meetingSigner(r))
	}
	switch {
	case err == nil && isHTMX(r):
		u.renderStatement(w, r, http.StatusOK, nil)
	case err == nil:
		http.Redirect(w, r, "/statements/"+id, http.StatusSeeOther)
	case dialogue.KindOf(err) == dialogue.KindOther:
		u.internal(w, r, err)
	case dialogue.KindOf(err) == dialogue.KindNotFound:
		u.refusedPage(w, r, err)
	default:
		refuse(httpapi.StatusOf(err), err)
	}
}
