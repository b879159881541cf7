package webui

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/peer"
)

// The Record page: per channel, this node's log and the peer's log as
// received (latest checkpoints with their cosignatures), each channel's
// checkpoint history, the state of the exchange with each peer, and the
// verify button (the check of `parley verify --dir`).

// Record is what the Record page reads and runs. internal/server
// implements it over the node's store.
type Record interface {
	// Channels returns each channel that has a log here, with the latest
	// checkpoint of this node's log and of the peer's log as cosigned here.
	Channels(ctx context.Context) ([]*RecordChannel, error)
	// History returns the checkpoints of a channel's own log, newest first,
	// from offset (at most limit), and how many there are in all.
	// KindNotFound for no such channel.
	History(ctx context.Context, channelID string, offset, limit int) (*RecordHistory, error)
	// Peers returns the state of the exchange with each peer.
	Peers(ctx context.Context) ([]*peer.PeerState, error)
	// Verify checks every log of the node as `parley verify --dir` does.
	// A log that does not verify is a LogCheck with its Failure; the error
	// is for what stopped the check itself (the context's among them).
	Verify(ctx context.Context) ([]*LogCheck, error)
}

// RecordChannel is one channel's record.
type RecordChannel struct {
	ID, Title, Peer string
	State           dialogue.ChannelState
	// Own is the latest checkpoint of this node's log of the channel;
	// Received the latest of the peer's log cosigned here (nil: none).
	Own, Received *RecordCheckpoint
}

// RecordCheckpoint is a checkpoint as the page shows it.
type RecordCheckpoint struct {
	Origin string
	Size   int64
	// Root is the root hash in base64, as the checkpoint writes it.
	Root string
	// Note is the signed note as stored: the checkpoint text and the
	// signature lines.
	Note string
	// At is when it was signed (this node's log) or cosigned here (the
	// peer's log).
	At time.Time
	// Cosignatures are the verified cosignatures, with their
	// cosignature/v1 timestamps.
	Cosignatures []Cosignature
	// Problem says why the note does not verify ("" when it does).
	Problem string
	// Received is true for the peer's log: At is then when this node
	// cosigned it.
	Received bool
}

// Cosignature is one witness's cosignature of a checkpoint.
type Cosignature struct {
	// Name is the cosigner's key name (a peer's node name).
	Name string
	// At is the cosignature's timestamp (zero when it carries none).
	At time.Time
}

// RecordHistory is a page of a channel's checkpoints.
type RecordHistory struct {
	Channel     *RecordChannel
	Checkpoints []*RecordCheckpoint
	Total       int
}

// LogCheck is the verification of one collection's log.
type LogCheck struct {
	Collection, Title string
	// Entries is the number of entries checked, Checkpoints the number of
	// checkpoints.
	Entries     int64
	Checkpoints int
	// Size and Root are the latest checkpoint's (0 and "" when none);
	// Cosigners the names whose cosignatures of it verified.
	Size      int64
	Root      string
	Cosigners []string
	// Failure names what broke ("" when the log holds).
	Failure string
}

// VerifyTimeout bounds one verification of the node's logs.
const VerifyTimeout = 2 * time.Minute

// HistoryPageSize is how many checkpoints a page of a channel's history
// shows.
const HistoryPageSize = 100

func init() {
	routes = append(routes, func(u *UI, m *routeMux) {
		m.HandleFunc("GET /record", u.signedIn(u.recordPage))
		m.HandleFunc("POST /record/verify", u.signedIn(u.recordVerify))
		m.HandleFunc("GET /record/{id}/checkpoints", u.signedIn(u.recordHistory))
	})
}

// recordData is what the record template sees.
type recordData struct {
	Channels []*RecordChannel
	Peers    []*peer.PeerState
	// Verify is the verification's result, when the page answers the
	// verify button without JavaScript.
	Verify *verifyResult
	// MayVerify says whether the user may run the verification (an
	// admin): it rebuilds every log, seconds of CPU. The others see the
	// latest checkpoints, whose signatures each page load checks.
	MayVerify bool
	// History is set on a channel's history page.
	History          *RecordHistory
	Page, Prev, Next int

	l   locale
	now time.Time
}

// Ago says how long ago t was ("never" for the zero time).
func (d *recordData) Ago(t time.Time) string {
	if t.IsZero() {
		return d.l.T("never")
	}
	if d.now.Sub(t) < time.Minute {
		return d.l.T("less than a minute ago")
	}
	return d.l.T("%s ago", d.l.duration(d.now.Sub(t)))
}

// Channel is the channel (by id) of the peers' table.
func (d *recordData) Channel(id string) *RecordChannel {
	for _, c := range d.Channels {
		if c.ID == id {
			return c
		}
	}
	return nil
}

// verifyResult is the outcome of the verify button.
type verifyResult struct {
	Checks []*LogCheck
	// OK is true when every log holds.
	OK bool
	// Failure says why the verification itself stopped ("" when it ran).
	Failure string
	Took    time.Duration
	At      time.Time
}

// Seconds is how long it took, in seconds with two decimals.
func (v *verifyResult) Seconds() string {
	return strconv.FormatFloat(v.Took.Seconds(), 'f', 2, 64)
}

func (u *UI) recordPage(w http.ResponseWriter, r *http.Request) {
	u.renderRecord(w, r, http.StatusOK, "", nil)
}

func (u *UI) renderRecord(w http.ResponseWriter, r *http.Request, status int, msg string, v *verifyResult) {
	p := u.newPage(r, "Record")
	d := &recordData{l: p.locale, now: p.now, Verify: v, MayVerify: p.User != nil && p.User.Role.CanAdminister()}
	if rec := u.cfg.Record; rec != nil {
		var err error
		if d.Channels, err = rec.Channels(r.Context()); err != nil {
			u.internal(w, r, err)
			return
		}
		// Only the channels the user may read (the gate): the others are
		// not there for the user.
		readable, err := u.wf(r.Context()).Channels(r.Context())
		if err != nil {
			u.internal(w, r, err)
			return
		}
		d.Channels = slices.DeleteFunc(d.Channels, func(c *RecordChannel) bool {
			return !slices.ContainsFunc(readable, func(ch *dialogue.Channel) bool { return ch.ID == c.ID })
		})
		if d.Peers, err = rec.Peers(r.Context()); err != nil {
			u.internal(w, r, err)
			return
		}
	}
	p.Data = d
	p.Error = msg
	u.render(w, "record", status, p)
}

func (u *UI) recordHistory(w http.ResponseWriter, r *http.Request) {
	rec := u.cfg.Record
	if rec == nil {
		u.notFound(w, r)
		return
	}
	n, _ := strconv.Atoi(r.URL.Query().Get("page")) // a bad number: the first page
	n = max(n, 1)
	// A channel the user may not read is not there (the gate).
	ch, _, err := u.wf(r.Context()).Channel(r.Context(), r.PathValue("id"))
	switch {
	case dialogue.KindOf(err) == dialogue.KindNotFound || err == nil && ch.ID != r.PathValue("id"):
		u.notFound(w, r)
		return
	case err != nil && dialogue.KindOf(err) != dialogue.KindConflict:
		u.internal(w, r, err)
		return
	}
	h, err := rec.History(r.Context(), r.PathValue("id"), (n-1)*HistoryPageSize, HistoryPageSize)
	switch {
	case dialogue.KindOf(err) == dialogue.KindNotFound:
		u.notFound(w, r)
		return
	case err != nil:
		u.internal(w, r, err)
		return
	}
	if last := max(1, (h.Total+HistoryPageSize-1)/HistoryPageSize); n > last {
		http.Redirect(w, r, "/record/"+h.Channel.ID+"/checkpoints?page="+strconv.Itoa(last), http.StatusSeeOther)
		return
	}
	p := u.newPage(r, "Checkpoints")
	d := &recordData{l: p.locale, now: p.now, History: h, Page: n}
	if n > 1 {
		d.Prev = n - 1
	}
	if n*HistoryPageSize < h.Total {
		d.Next = n + 1
	}
	p.Data = d
	u.render(w, "record", http.StatusOK, p)
}

// recordVerify runs the verification, for an admin only (it costs
// seconds of CPU; 403 for the others), one at a time per node, bounded
// by VerifyTimeout. htmx gets the result's fragment; a plain form the
// record page with the result.
func (u *UI) recordVerify(w http.ResponseWriter, r *http.Request) {
	l := newLocale(langOf(r))
	fail := func(status int, msg string) {
		if isHTMX(r) {
			u.flash(w, status, msg)
			return
		}
		u.renderRecord(w, r, status, msg, nil)
	}
	if !sessionFrom(r.Context()).u.Role.CanAdminister() {
		fail(http.StatusForbidden, l.T("Only an administrator may verify the logs in full: it takes the server seconds of work. The latest checkpoints below are checked each time the page is shown."))
		return
	}
	rec := u.cfg.Record
	if rec == nil {
		fail(http.StatusNotFound, l.T("This node keeps no record to verify."))
		return
	}
	if !u.verifying.CompareAndSwap(false, true) {
		fail(http.StatusConflict, l.T("A verification of this node's logs is running already; wait for its result and try again."))
		return
	}
	v := func() *verifyResult {
		defer u.verifying.Store(false)
		ctx, cancel := context.WithTimeout(r.Context(), VerifyTimeout)
		defer cancel()
		start := time.Now()
		checks, err := rec.Verify(ctx)
		v := &verifyResult{Checks: checks, Took: time.Since(start), At: u.cfg.Now(), OK: err == nil}
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			v.Failure = l.T("The verification took longer than %s and was stopped.", l.duration(VerifyTimeout))
		case err != nil:
			u.log.Error("webui: verifying the record", "err", err)
			v.Failure = l.T("The verification could not run; the details are in the server's log.")
		}
		for _, c := range checks {
			if c.Failure != "" {
				v.OK = false
			}
		}
		return v
	}()
	if isHTMX(r) {
		p := u.newPage(r, "Record")
		u.renderFragment(w, "record", "verify-result", http.StatusOK, p.Row(v))
		return
	}
	u.renderRecord(w, r, http.StatusOK, "", v)
}

func init() {
	addRU(map[string]string{
		"Checkpoints":  "Контрольные точки",
		"Verification": "Проверка",
		"Verifying rebuilds every log of this node from its stored entries and checks every checkpoint's signature, root and cosignatures, as parley verify does. It may take a moment.": "Проверка заново строит каждый журнал этого узла из сохранённых записей и проверяет подпись, корневой хеш и соподписи каждой контрольной точки, как команда parley verify. Это может занять некоторое время.",
		"Verify the logs":   "Проверить журналы",
		"Verifying…":        "Идёт проверка…",
		"Peers":             "Узлы других сторон",
		"Peer":              "Узел",
		"Last contact":      "Последняя связь",
		"Behind":            "Отставание",
		"Cosigned":          "Заверено записей",
		"Alarm":             "Тревога",
		"%d entries behind": "отставание в записях: %d",
		"up to date":        "отставания нет",
		"sent %d, cosigned %d; received %d, applied %d": "отправлено %d, заверено %d; получено %d, применено %d",
		"since %s":                           "с %s",
		"none":                               "нет",
		"No peers.":                          "Узлов других сторон нет.",
		"Logs":                               "Журналы",
		"with %s":                            "с узлом %s",
		"active":                             "действует",
		"proposed":                           "предложен",
		"offered":                            "предложен другой стороной",
		"This node's log":                    "Журнал этого узла",
		"No checkpoint yet.":                 "Контрольных точек пока нет.",
		"Checkpoint history":                 "История контрольных точек",
		"%s's log, as received":              "Журнал узла %s в полученном виде",
		"Nothing received and cosigned yet.": "Пока ничего не получено и не заверено.",
		"No channel has a log yet.":          "Ни у одного канала пока нет журнала.",
		"Origin":                             "Источник (origin)",
		"Size":                               "Размер",
		"Root hash":                          "Корневой хеш",
		"Signed at":                          "Время подписи",
		"Cosigned here at":                   "Время заверения здесь",
		"Cosignatures":                       "Соподписи",
		"none yet":                           "пока нет",
		"Signed note":                        "Подписанная запись (signed note)",
		"OK: every log holds.":               "OK: все журналы целостны.",
		"FAILED: a log does not verify.":     "ОШИБКА: журнал не прошёл проверку.",
		"Verified %s in %s s.":               "Проверено %s за %s с.",
		"Log":                                "Журнал",
		"Entries":                            "Записей",
		"Latest size":                        "Последний размер",
		"Cosigned by":                        "Кем заверено",
		"Result":                             "Результат",
		"FAILED":                             "ОШИБКА",
		"Back to the record":                 "Вернуться к журналу",
		"Page %d: %d checkpoints of this node's log in all, newest first.": "Страница %d; всего контрольных точек журнала этого узла: %d, сначала новые.",
		"never":                                "никогда",
		"%s ago":                               "%s назад",
		"less than a minute ago":               "меньше минуты назад",
		"This node keeps no record to verify.": "Этот узел не ведёт журнала, который можно проверить.",
		"A verification of this node's logs is running already; wait for its result and try again.":                                                                     "Проверка журналов этого узла уже идёт; дождитесь её результата и повторите.",
		"The verification took longer than %s and was stopped.":                                                                                                         "Проверка заняла больше %s и была остановлена.",
		"The verification could not run; the details are in the server's log.":                                                                                          "Проверку не удалось выполнить; подробности в журнале сервера.",
		"Only an administrator may verify the logs in full: it takes the server seconds of work. The latest checkpoints below are checked each time the page is shown.": "Полную проверку журналов может запустить только администратор: она занимает у сервера секунды работы. Последние контрольные точки ниже проверяются при каждом показе страницы.",
	})
}
