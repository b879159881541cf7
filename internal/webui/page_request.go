package webui

// The request pages (and the form to file a request of the report
// pages): every request of this node's channels (GET /requests), one
// request with its timeline and the moves this party may make (GET
// /requests/{id}, POST /requests/{id}/move), the inclusion proof of an
// entry of the timeline in this node's log (GET
// /requests/{id}/proof/{index}), and the form to file a request (GET
// /requests/new, POST /requests).
//
// The rules are the workflow's: a form shows when dialogue.
// NextRequestState allows the move for this party and the user's role may
// write; whatever is posted goes through workflow.MoveRequest,
// FileRequest or RouteRequest, and their refusal is shown beside the
// field it names. Requests carry no TLP marking (docs/design/tlp.md: they
// are CLEAR); the reports they are about are shown only as far as the
// user may see them (workflow.ReportsFor).

import (
	"cmp"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/geo"
	"github.com/parleyhq/parley/internal/httpapi"
	"github.com/parleyhq/parley/internal/logapi"
	"github.com/parleyhq/parley/internal/tlog"
	"github.com/parleyhq/parley/internal/workflow"
)

func init() {
	routes = append(routes, func(u *UI, m *routeMux) {
		m.HandleFunc("GET /requests", u.signedIn(u.requestsPage))
		m.HandleFunc("GET /requests/new", u.signedIn(u.newRequestPage))
		m.HandleFunc("POST /requests", u.signedIn(u.fileRequest))
		m.HandleFunc("GET /requests/{id}", u.signedIn(u.requestPage))
		m.HandleFunc("POST /requests/{id}/move", u.signedIn(u.moveRequest))
		m.HandleFunc("GET /requests/{id}/proof/{index}", u.signedIn(u.requestProof))
	})
	funcs["reqQuery"] = func(f requestListFilter, page int) string { return f.query(page) }
	// deref shows a log index; reqOf is the id of the request page p
	// shows; max1 is n, at least 1.
	funcs["deref"] = func(i *int64) int64 { return *i }
	funcs["reqOf"] = func(p *page) string {
		if d, ok := p.Data.(*requestData); ok {
			return d.R.ID
		}
		return ""
	}
	funcs["max1"] = func(n int) int { return max(n, 1) }
	addRU(map[string]string{
		// The list.
		"All requests":                "Все запросы",
		"Direction":                   "Направление",
		"Any":                         "Любое",
		"Incoming":                    "Входящие",
		"Outgoing":                    "Исходящие",
		"incoming":                    "входящий",
		"outgoing":                    "исходящий",
		"Order":                       "Порядок",
		"Most urgent first":           "Сначала самые срочные",
		"Newest first":                "Сначала новые",
		"Show":                        "Показать",
		"To":                          "Кому",
		"Channel":                     "Канал",
		"Filed":                       "Подан",
		"Next deadline":               "Ближайший срок",
		"No requests match.":          "Подходящих запросов нет.",
		"File a new request":          "Подать новый запрос",
		"Page %d of %d: %d requests.": "Страница %d из %d; запросов: %d.",
		// One request.
		"Request details": "Сведения о запросе",
		"Text":            "Текст",
		"Sectors":         "Секторы",
		"Off-limits":      "Запретный сектор",
		"Yes: the request touches a sector of the channel's agreed off-limits list; shorter deadlines apply.": "Да: запрос затрагивает сектор из согласованного запретного списка канала; действуют сокращённые сроки.",
		"No":      "Нет",
		"Reports": "Отчёты",
		"%d more report(s) that you may not see.": "Ещё отчётов, которые вам не разрешено видеть: %d.",
		"Infrastructure":                    "Инфраструктура",
		"Not routed":                        "Не направлено",
		"Deadlines":                         "Сроки",
		"Acknowledgement":                   "Подтверждение получения",
		"Answer":                            "Ответ",
		"met":                               "соблюдён",
		"Timeline":                          "Хронология",
		"When":                              "Когда",
		"Move":                              "Ход",
		"By":                                "Кто",
		"Log entry":                         "Запись журнала",
		"Details":                           "Подробности",
		"file":                              "подача",
		"acknowledge":                       "подтверждение получения",
		"decline":                           "отклонение",
		"close":                             "закрытие",
		"→ %s":                              "→ %s",
		"index %d in this node's log":       "индекс %d в журнале этого узла",
		"index %d in %s's log":              "индекс %d в журнале узла %s",
		"not known on this node":            "на этом узле неизвестен",
		"inclusion proof":                   "доказательство включения",
		"the proof is served by %s's node":  "доказательство выдаёт узел %s",
		"Reason: %s":                        "Причина: %s",
		"Kind: %s":                          "Вид: %s",
		"Objects: %s":                       "Объекты: %s",
		"Ignored moves":                     "Отклонённые ходы",
		"Why":                               "Почему",
		"What you can do":                   "Что можно сделать",
		"Nothing: your role may only read.": "Ничего: ваша роль позволяет только чтение.",
		"No move is open to your party in this state.": "В этом состоянии вашей стороне ходы недоступны.",
		"Acknowledge receipt":                          "Подтвердить получение",
		"Answer the request":                           "Ответить на запрос",
		"Decline the request":                          "Отклонить запрос",
		"Close the request":                            "Закрыть запрос",
		"Kind of answer":                               "Вид ответа",
		"Choose…":                                      "Выберите…",
		"What was done":                                "Что сделано",
		"Reason (required)":                            "Причина (обязательно)",
		"Decline":                                      "Отклонить",
		"Close":                                        "Закрыть",
		"investigated-found":                           "проверено: найдено",
		"investigated-nothing-found":                   "проверено: ничего не найдено",
		"action-takedown":                              "принято: отключение",
		"action-blocking":                              "принято: блокировка",
		"action-operator-notified":                     "принято: оператор уведомлён",
		"cannot-act":                                   "действие невозможно",
		"The request could not be moved: %s":           "Не удалось выполнить ход по запросу: %s",
		"%s: %s":                                       "%s: %s",
		"Your role may only read; moving a request needs the role duty, expert or admin.": "Ваша роль позволяет только чтение; для хода по запросу нужна роль duty, expert или admin.",
		"No request %s.": "Запроса %s нет.",
		// The form to file one.
		"New request": "Новый запрос",
		"Route by territory (the node's GeoIP databases)":                          "Направить по территории (базы GeoIP узла)",
		"No active channel: a request needs a channel shared with another party.":  "Нет активного канала: для запроса нужен канал, общий с другой стороной.",
		"The incident reports it is about":                                         "Отчёты об инцидентах, к которым относится запрос",
		"No incident report that you may see yet: file one first.":                 "Пока нет отчётов об инцидентах, которые вам разрешено видеть: сначала подайте отчёт.",
		"Infrastructure to act on (one per line: IP address, CIDR, domain or URL)": "Инфраструктура для действий (по одному на строку: IP-адрес, CIDR, домен или URL)",
		"Title (optional: the text's first line)":                                  "Заголовок (необязательно: первая строка текста)",
		"What you ask the other party to do":                                       "О чём вы просите другую сторону",
		"Sectors (optional: codes separated by commas; default: the reports')":     "Секторы (необязательно: коды через запятую; по умолчанию — секторы отчётов)",
		"File the request":                   "Подать запрос",
		"The request could not be filed: %s": "Не удалось подать запрос: %s",
		"Your role may only read; filing a request needs the role duty, expert or admin.": "Ваша роль позволяет только чтение; для подачи запроса нужна роль duty, expert или admin.",
		"channel":                                "канал",
		"about":                                  "отчёты",
		"infrastructure":                         "инфраструктура",
		"text":                                   "текст",
		"name":                                   "заголовок",
		"sectors":                                "секторы",
		"kind":                                   "вид ответа",
		"action":                                 "ход",
		"state":                                  "состояние",
		"direction":                              "направление",
		"order":                                  "порядок",
		"is no incident report that you may see": "не является отчётом об инциденте, который вам разрешено видеть",
		"want incoming or outgoing":              "допустимо incoming или outgoing",
		"want urgent or newest":                  "допустимо urgent или newest",
		"no such state: want submitted, acknowledged, answered, closed or declined": "такого состояния нет: допустимо submitted, acknowledged, answered, closed или declined",
		"want acknowledge, answer, decline or close":                                "допустимо acknowledge, answer, decline или close",
		"this node has no GeoIP database to route by territory: choose a channel":   "на этом узле нет базы GeoIP для направления по территории: выберите канал",
		"Entry %d of %s's log of channel %s: hash the entry (RFC 6962 leaf hash), fold in the hashes along the audit path and compare with the root hash of the signed checkpoint.": "Запись %d журнала узла %s по каналу %s: вычислите хеш записи (лист RFC 6962), последовательно объедините его с хешами пути аудита и сравните с корневым хешем подписанной контрольной точки.",
	})
}

// ---- the list

// requestListFilter is the list's query: state, direction, order.
type requestListFilter struct {
	State     string // "" for any
	Direction string // "", "incoming" or "outgoing"
	Order     string // "urgent" (the default) or "newest"
}

// query is the list's URL query for page n with the filter.
func (f requestListFilter) query(n int) string {
	v := url.Values{}
	if f.State != "" {
		v.Set("state", f.State)
	}
	if f.Direction != "" {
		v.Set("direction", f.Direction)
	}
	if f.Order != "urgent" {
		v.Set("order", f.Order)
	}
	if n > 1 {
		v.Set("page", strconv.Itoa(n))
	}
	if len(v) == 0 {
		return "/requests"
	}
	return "/requests?" + v.Encode()
}

// fieldError is a refusal of one field of a form (or of a query).
type fieldError struct {
	Field  string
	Reason string
}

type requestsData struct {
	Filter   requestListFilter
	Errors   map[string]string
	Requests []*requestRow
	// Page (from 1) of Pages; Prev and Next the neighbours (0: none).
	Page, Pages, Prev, Next, Total int
}

// requestRow is a request of the list with its direction.
type requestRow struct {
	*workflow.Request
	Incoming bool
	Due      bool // NextDue applies (the request is open)
}

// NextDue is when the receiving party must act next.
func (r *requestRow) NextDue() time.Time { return nextDue(r.Request) }

// parseRequestListFilter reads the list's query; a bad value is refused,
// naming the parameter and the reason.
func parseRequestListFilter(q url.Values) (requestListFilter, []fieldError) {
	f := requestListFilter{State: q.Get("state"), Direction: q.Get("direction"), Order: cmp.Or(q.Get("order"), "urgent")}
	var errs []fieldError
	if f.State != "" {
		if _, err := workflow.ParseRequestState(f.State); err != nil {
			errs = append(errs, fieldError{"state", "no such state: want submitted, acknowledged, answered, closed or declined"})
			f.State = ""
		}
	}
	if f.Direction != "" && f.Direction != "incoming" && f.Direction != "outgoing" {
		errs = append(errs, fieldError{"direction", "want incoming or outgoing"})
		f.Direction = ""
	}
	if f.Order != "urgent" && f.Order != "newest" {
		errs = append(errs, fieldError{"order", "want urgent or newest"})
		f.Order = "urgent"
	}
	return f, errs
}

func open(r *workflow.Request) bool {
	return r.State == dialogue.RequestSubmitted || r.State == dialogue.RequestAcknowledged
}

// sortRequests orders the list: "urgent" puts the open requests first,
// by their next deadline, then the others, newest first; "newest" is by
// filing time only.
func sortRequests(rs []*requestRow, order string) {
	slices.SortStableFunc(rs, func(a, b *requestRow) int {
		if order == "urgent" {
			if a.Due != b.Due {
				if a.Due {
					return -1
				}
				return 1
			}
			if a.Due {
				return nextDue(a.Request).Compare(nextDue(b.Request))
			}
		}
		if c := b.Submitted.Compare(a.Submitted); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}

func (u *UI) requestsPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f, errs := parseRequestListFilter(q)
	rf := workflow.RequestFilter{}
	if f.State != "" {
		rf.State = dialogue.RequestState(f.State)
	}
	rs, err := u.wf(r.Context()).Requests(r.Context(), rf)
	if err != nil {
		u.internal(w, r, err)
		return
	}
	self := u.cfg.Workflow.Self.Name
	d := &requestsData{Filter: f, Errors: map[string]string{}}
	for _, x := range rs {
		in := x.From != self
		if (f.Direction == "incoming" && !in) || (f.Direction == "outgoing" && in) {
			continue
		}
		d.Requests = append(d.Requests, &requestRow{Request: x, Incoming: in, Due: open(x)})
	}
	sortRequests(d.Requests, f.Order)
	d.Total = len(d.Requests)
	d.Pages = max(1, (d.Total+PageSize-1)/PageSize)
	n, _ := strconv.Atoi(q.Get("page")) // a bad number: the first page
	d.Page = min(max(n, 1), d.Pages)
	d.Requests = d.Requests[min((d.Page-1)*PageSize, d.Total):min(d.Page*PageSize, d.Total)]
	if d.Page > 1 {
		d.Prev = d.Page - 1
	}
	if d.Page < d.Pages {
		d.Next = d.Page + 1
	}
	p := u.newPage(r, "Requests")
	status := http.StatusOK
	for _, e := range errs {
		d.Errors[e.Field] = p.T("%s: %s", p.T(e.Field), p.T(e.Reason))
		status = http.StatusBadRequest
	}
	p.Data = d
	u.render(w, "requests", status, p)
}

// ---- one request

// requestData is what the request page shows.
type requestData struct {
	R *workflow.Request
	// Incoming: the other party filed it (this party receives it).
	Incoming bool
	// Reports are the reports it is about that the user may see; Hidden
	// counts the others.
	Reports []*workflow.Report
	Hidden  int
	// Peer is the other party's name (whose log holds its entries).
	Peer string
	// ChannelTitle is the channel's title here.
	ChannelTitle string
	// Moves are the moves this party may make now (the forms shown to a
	// user who may write).
	Moves []dialogue.RequestAction
	Kinds []dialogue.ResponseKind
	// Form is what was posted, with the refusal of each field, shown back
	// when a move was refused.
	Form   moveForm
	Errors map[string]string
	// Message is the refusal of a posted move.
	Message string
}

// moveForm is a posted move.
type moveForm struct {
	Action, Kind, Text string
}

// Can says whether the move a is open to this party.
func (d *requestData) Can(a string) bool {
	return slices.Contains(d.Moves, dialogue.RequestAction(a))
}

// movesOpen lists the moves dialogue.NextRequestState allows this party
// in the request's state. The kind and reason given are placeholders:
// the form asks for them, the workflow checks them.
func movesOpen(r *workflow.Request, byRequester bool) []dialogue.RequestAction {
	var out []dialogue.RequestAction
	for _, a := range []dialogue.RequestAction{dialogue.ActionAcknowledge, dialogue.ActionAnswer, dialogue.ActionDecline, dialogue.ActionClose} {
		if _, err := dialogue.NextRequestState(r.State, a, byRequester, dialogue.ResponseFound, "reason"); err == nil {
			out = append(out, a)
		}
	}
	return out
}

func (u *UI) requestData(ctx context.Context, usr *dialogue.User, id string) (*requestData, error) {
	req, err := u.wf(ctx).Request(ctx, id)
	if err != nil {
		return nil, err
	}
	self := u.cfg.Workflow.Self.Name
	d := &requestData{R: req, Incoming: req.From != self, Kinds: dialogue.ResponseKinds, Errors: map[string]string{}}
	d.Peer = req.To
	if d.Incoming {
		d.Peer = req.From
	}
	d.Moves = movesOpen(req, !d.Incoming)
	d.ChannelTitle = req.Channel
	if ch, err := u.cfg.Workflow.Store.Channel(ctx, req.Channel); err == nil {
		d.ChannelTitle = ch.Title
	}
	visible, err := u.wf(ctx).ReportsFor(ctx, usr, req.Channel)
	if err != nil {
		return nil, err
	}
	for _, a := range req.About {
		i := slices.IndexFunc(visible, func(x *workflow.Report) bool { return x.ID == a })
		if i < 0 {
			d.Hidden++
			continue
		}
		d.Reports = append(d.Reports, visible[i])
	}
	return d, nil
}

func (u *UI) requestPage(w http.ResponseWriter, r *http.Request) {
	u.renderRequest(w, r, http.StatusOK, nil, moveForm{}, "")
}

// renderRequest shows the request page (or, to htmx, its main block),
// with the refusals of a posted move beside their fields and msg in the
// flash area.
func (u *UI) renderRequest(w http.ResponseWriter, r *http.Request, status int, errs map[string]string, form moveForm, msg string) {
	id := r.PathValue("id")
	p := u.newPage(r, "Request")
	d, err := u.requestData(r.Context(), sessionFrom(r.Context()).u, id)
	switch {
	case err != nil && dialogue.KindOf(err) != dialogue.KindOther:
		p.Error = p.T("No request %s.", id)
		u.render(w, "error", http.StatusNotFound, p)
		return
	case err != nil:
		u.internal(w, r, err)
		return
	}
	p.Title = d.R.Name
	if errs != nil {
		d.Errors = errs
	}
	d.Form = form
	d.Message = msg
	p.Data = d
	if isHTMX(r) {
		u.renderFragment(w, "request", "request-main", status, p)
		return
	}
	u.render(w, "request", status, p)
}

// formField is the form field a workflow refusal is about: the name
// before the first ":" or "[" of its message when it is one of fields,
// else the field whose name it mentions ("kind", "reason" for text),
// else "".
func formField(msg string, fields ...string) string {
	head := msg
	if i := strings.IndexAny(head, ":["); i >= 0 {
		head = head[:i]
	}
	if slices.Contains(fields, head) {
		return head
	}
	for _, f := range fields {
		if strings.Contains(msg, f) {
			return f
		}
	}
	if strings.Contains(msg, "reason") && slices.Contains(fields, "text") {
		return "text"
	}
	return ""
}

func (u *UI) moveRequest(w http.ResponseWriter, r *http.Request) {
	s := sessionFrom(r.Context())
	l := newLocale(langOf(r))
	form := moveForm{Action: r.PostFormValue("action"), Kind: r.PostFormValue("kind"), Text: r.PostFormValue("text")}
	fail := func(status int, errs map[string]string, msg string) {
		u.renderRequest(w, r, status, errs, form, msg)
	}
	if !s.u.Role.CanWrite() {
		fail(http.StatusForbidden, nil, l.T("Your role may only read; moving a request needs the role duty, expert or admin."))
		return
	}
	act := dialogue.RequestAction(form.Action)
	switch act {
	case dialogue.ActionAcknowledge, dialogue.ActionAnswer, dialogue.ActionDecline, dialogue.ActionClose:
	default:
		fail(http.StatusBadRequest, nil, l.T("The request could not be moved: %s", l.T("%s: %s", l.T("action"), l.T("want acknowledge, answer, decline or close"))))
		return
	}
	_, err := u.wf(r.Context()).MoveRequest(r.Context(), r.PathValue("id"), workflow.Move{Action: act, Kind: dialogue.ResponseKind(form.Kind), Text: form.Text})
	switch {
	case err == nil && isHTMX(r):
		u.renderRequest(w, r, http.StatusOK, nil, moveForm{}, "")
	case err == nil:
		http.Redirect(w, r, "/requests/"+url.PathEscape(r.PathValue("id")), http.StatusSeeOther)
	case dialogue.KindOf(err) == dialogue.KindOther:
		u.internal(w, r, err)
	default:
		msg := dialogue.Message(err)
		if f := formField(msg, "kind", "text"); f != "" && dialogue.KindOf(err) == dialogue.KindInvalid {
			fail(httpapi.StatusOf(err), map[string]string{form.Action + "-" + f: msg}, l.T("The request could not be moved: %s", msg))
			return
		}
		fail(httpapi.StatusOf(err), nil, l.T("The request could not be moved: %s", msg))
	}
}

// requestProof answers the inclusion proof of an entry of the request's
// timeline in this node's log of the channel, against the log's latest
// checkpoint, as JSON: the entry and its leaf hash, the proof (RFC 6962
// audit path, as GET /log/<channel>/proof/inclusion serves it) and the
// signed checkpoint note with the peer's cosignature when it has one.
// Entries of the peer's log are not kept here: their proof is the peer
// node's.
func (u *UI) requestProof(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	l := newLocale(langOf(r))
	notFound := func() {
		p := u.newPage(r, "Page not found.")
		p.Error = p.T("Page not found.")
		u.render(w, "error", http.StatusNotFound, p)
	}
	index, err := strconv.ParseInt(r.PathValue("index"), 10, 64)
	if err != nil || index < 0 {
		notFound()
		return
	}
	req, err := u.wf(ctx).Request(ctx, r.PathValue("id"))
	if err != nil {
		if dialogue.KindOf(err) == dialogue.KindOther {
			u.internal(w, r, err)
			return
		}
		notFound()
		return
	}
	var entry *workflow.Transition
	for _, t := range append(slices.Clone(req.History), req.Refused...) {
		if t.Log == "own" && t.LogIndex != nil && *t.LogIndex == index {
			entry = t
		}
	}
	if entry == nil {
		notFound()
		return
	}
	// No collection grant is checked, as for the request page and the
	// JSON API (docs/design/tlp.md): the proof holds the entry the page
	// shows (a request or a transition: CLEAR) and hashes only.
	st := u.cfg.Workflow.Store
	cp, err := st.LatestCheckpoint(ctx, req.Channel)
	if err != nil {
		u.internal(w, r, err)
		return
	}
	entries, err := st.LogEntries(ctx, req.Channel, index, index+1)
	if err != nil || len(entries) != 1 {
		u.internal(w, r, cmp.Or(err, dialogue.Errorf("webui.requestProof", dialogue.KindOther, "entry %d of channel %s: none", index, req.Channel)))
		return
	}
	proof, err := tlog.Prove(index, cp.Size, logapi.Hashes(ctx, st, req.Channel))
	if err != nil {
		u.internal(w, r, err)
		return
	}
	origin, _ := tlog.Origin(u.cfg.Workflow.Self.Name, req.Channel)
	out := RequestProof{
		Request: req.ID, Object: entry.ID, Channel: req.Channel, Log: u.cfg.Workflow.Self.Name, Origin: origin,
		LeafIndex: index, TreeSize: cp.Size, Entry: entries[0], LeafHash: tlog.LeafHash(entries[0]),
		Hashes: proof.Hashes, Checkpoint: string(cp.Note),
		Explanation: l.T("Entry %d of %s's log of channel %s: hash the entry (RFC 6962 leaf hash), fold in the hashes along the audit path and compare with the root hash of the signed checkpoint.", index, u.cfg.Workflow.Self.Name, req.Channel),
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", `inline; filename="proof-`+strconv.FormatInt(index, 10)+`.json"`)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(out)
}

// RequestProof is the inclusion proof GET /requests/{id}/proof/{index}
// answers: the entry at LeafIndex of the log of Channel on node Log, in
// the tree of TreeSize entries whose signed checkpoint note is
// Checkpoint. To check it: tlog.LeafHash(Entry) == LeafHash, then
// tlog.InclusionProof{LeafIndex, TreeSize, Hashes}.Verify(LeafHash, root)
// with the root of the checkpoint opened with the node's log key.
type RequestProof struct {
	Request     string      `json:"request"`
	Object      string      `json:"object"` // the request or the transition
	Channel     string      `json:"channel"`
	Log         string      `json:"log"` // the node whose log it is
	Origin      string      `json:"origin"`
	LeafIndex   int64       `json:"leaf_index"`
	TreeSize    int64       `json:"tree_size"`
	Entry       []byte      `json:"entry"` // base64
	LeafHash    tlog.Hash   `json:"leaf_hash"`
	Hashes      []tlog.Hash `json:"hashes"`
	Checkpoint  string      `json:"checkpoint"`
	Explanation string      `json:"explanation"`
}

// ---- filing a request

// newRequestData is the form to file a request.
type newRequestData struct {
	Channels []*dialogue.Channel
	Reports  []*workflow.Report
	CanRoute bool
	Form     newRequestForm
	Errors   map[string]string
}

// newRequestForm is what was posted.
type newRequestForm struct {
	Channel        string
	About          []string
	Infrastructure string
	Name           string
	Text           string
	Sectors        string
}

// Chosen says whether report id is among the form's.
func (f newRequestForm) Chosen(id string) bool { return slices.Contains(f.About, id) }

// canRoute says whether requests can be routed by territory here.
func (u *UI) canRoute() bool { return u.geo() != nil }

// geo is the node's GeoIP databases (nil: none).
func (u *UI) geo() *geo.DB { return u.cfg.Geo }

func (u *UI) newRequestData(ctx context.Context, usr *dialogue.User) (*newRequestData, error) {
	chs, err := u.wf(ctx).Channels(ctx)
	if err != nil {
		return nil, err
	}
	d := &newRequestData{CanRoute: u.canRoute(), Errors: map[string]string{}}
	for _, ch := range chs {
		if ch.State == dialogue.ChannelActive {
			d.Channels = append(d.Channels, ch)
		}
	}
	reps, err := u.wf(ctx).ReportsFor(ctx, usr, "")
	if err != nil {
		return nil, err
	}
	slices.Reverse(reps) // newest first
	d.Reports = reps
	return d, nil
}

func (u *UI) newRequestPage(w http.ResponseWriter, r *http.Request) {
	u.renderNewRequest(w, r, http.StatusOK, newRequestForm{}, nil, "")
}

func (u *UI) renderNewRequest(w http.ResponseWriter, r *http.Request, status int, form newRequestForm, errs map[string]string, msg string) {
	d, err := u.newRequestData(r.Context(), sessionFrom(r.Context()).u)
	if err != nil {
		u.internal(w, r, err)
		return
	}
	d.Form = form
	if errs != nil {
		d.Errors = errs
	}
	p := u.newPage(r, "New request")
	p.Data = d
	p.Error = msg
	if isHTMX(r) {
		u.renderFragment(w, "request_new", "request-form", status, p)
		return
	}
	u.render(w, "request_new", status, p)
}

// lines splits s into its non-empty trimmed lines (and comma-separated
// items when sep is ",").
func lines(s, sep string) []string {
	var out []string
	for _, l := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' || (sep == "," && r == ',') }) {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func (u *UI) fileRequest(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	usr := sessionFrom(ctx).u
	l := newLocale(langOf(r))
	_ = r.ParseForm()
	form := newRequestForm{Channel: r.PostForm.Get("channel"), About: r.PostForm["about"], Infrastructure: r.PostForm.Get("infrastructure"),
		Name: strings.TrimSpace(r.PostForm.Get("name")), Text: r.PostForm.Get("text"), Sectors: r.PostForm.Get("sectors")}
	refuse := func(status int, field, reason string) {
		var errs map[string]string
		if field != "" {
			errs = map[string]string{field: l.T("%s: %s", l.T(field), reason)}
		}
		u.renderNewRequest(w, r, status, form, errs, l.T("The request could not be filed: %s", l.T("%s: %s", l.T(cmp.Or(field, "request")), reason)))
	}
	if !usr.Role.CanWrite() {
		u.renderNewRequest(w, r, http.StatusForbidden, form, nil, l.T("Your role may only read; filing a request needs the role duty, expert or admin."))
		return
	}
	// The reports must be ones the user may see: the workflow would file
	// a request about any report of the channel.
	visible, err := u.wf(ctx).ReportsFor(ctx, usr, "")
	if err != nil {
		u.internal(w, r, err)
		return
	}
	about := make([]string, 0, len(form.About))
	for i, a := range form.About {
		a = strings.TrimSpace(a)
		if !slices.ContainsFunc(visible, func(x *workflow.Report) bool { return x.ID == a }) {
			refuse(http.StatusBadRequest, "about", l.T("%s: %s", "about["+strconv.Itoa(i)+"] "+strconv.Quote(a), l.T("is no incident report that you may see")))
			return
		}
		about = append(about, a)
	}
	infra, sectors := lines(form.Infrastructure, "\n"), lines(form.Sectors, ",")
	if form.Channel == routeChoice {
		u.routeRequest(w, r, form, about, infra, sectors, refuse)
		return
	}
	id, err := u.wf(ctx).FileRequest(ctx, workflow.RequestFiling{Channel: form.Channel, About: about, Infrastructure: infra, Text: form.Text, Name: form.Name, Sectors: sectors})
	if err != nil {
		u.refuseFiling(w, r, err, refuse)
		return
	}
	u.filed(w, r, "/requests/"+url.PathEscape(id))
}

// routeChoice is the channel select's value for routing by territory.
const routeChoice = "route"

func (u *UI) routeRequest(w http.ResponseWriter, r *http.Request, form newRequestForm, about, infra, sectors []string, refuse func(int, string, string)) {
	g := u.geo()
	if g == nil {
		refuse(http.StatusBadRequest, "channel", "this node has no GeoIP database to route by territory: choose a channel")
		return
	}
	res, err := u.wf(r.Context()).RouteRequest(r.Context(), g, workflow.RouteFiling{About: about, Infrastructure: infra, Text: form.Text, Name: form.Name, Sectors: sectors})
	if err != nil && (res == nil || len(res.Requests) == 0) {
		u.refuseFiling(w, r, err, refuse)
		return
	}
	if err != nil {
		u.log.Error("webui: routing a request stopped part way", "err", err)
	}
	if len(res.Requests) == 1 {
		u.filed(w, r, "/requests/"+url.PathEscape(res.Requests[0].ID))
		return
	}
	u.filed(w, r, "/requests?direction=outgoing&order=newest")
}

// refuseFiling shows a workflow's refusal of a filing beside the field
// its message names.
func (u *UI) refuseFiling(w http.ResponseWriter, r *http.Request, err error, refuse func(int, string, string)) {
	if dialogue.KindOf(err) == dialogue.KindOther {
		u.internal(w, r, err)
		return
	}
	msg := dialogue.Message(err)
	field := formField(msg, "channel", "about", "infrastructure", "text", "name", "sectors")
	if dialogue.KindOf(err) == dialogue.KindNotFound || strings.Contains(msg, "channel") && field == "" {
		field = "channel"
	}
	reason := msg
	if strings.HasPrefix(msg, field+":") {
		reason = strings.TrimSpace(strings.TrimPrefix(msg, field+":"))
	}
	refuse(httpapi.StatusOf(err), field, reason)
}

// filed sends the browser to the new request's page (htmx: by
// HX-Redirect).
func (u *UI) filed(w http.ResponseWriter, r *http.Request, to string) {
	if isHTMX(r) {
		w.Header().Set("HX-Redirect", to)
		w.WriteHeader(http.StatusOK)
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}
