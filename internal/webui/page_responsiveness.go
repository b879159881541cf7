package webui

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/workflow"
)

// Responsiveness: how fast each party acknowledged and
// answered the requests addressed to it and answered the other party's
// communication checks, per channel and over all channels, as
// workflow.Responsiveness computes them: the same code on both nodes, so
// both show the same numbers. The parties are in identity order, the
// same on both nodes.

func init() {
	routes = append(routes, func(u *UI, m *routeMux) {
		m.HandleFunc("GET /responsiveness", u.signedIn(u.responsivenessPage))
	})
	addRU(map[string]string{
		"Responsiveness": "Оперативность",
		"As of %s: every assistance request and communication check of the channel up to then. Each party's figures are about the requests addressed to it and the checks the other party sent it.": "По состоянию на %s: все запросы о помощи и проверки связи по каналу до этого момента. Показатели каждой стороны относятся к адресованным ей запросам и к проверкам связи, которые ей направила другая сторона.",
		"All channels":                    "Все каналы",
		"Figure":                          "Показатель",
		"Requests received":               "Получено запросов",
		"Declined":                        "Отклонено",
		"Acknowledgements due":            "Подтверждений к сроку",
		"Acknowledged in time":            "Подтверждено в срок",
		"Acknowledged late or not at all": "Подтверждено с опозданием или не подтверждено",
		"Median time to acknowledge":      "Медианное время подтверждения",
		"Answers due":                     "Ответов к сроку",
		"Answered in time":                "Отвечено в срок",
		"Answered late or not at all":     "Отвечено с опозданием или без ответа",
		"Median time to answer":           "Медианное время ответа",
		"Communication checks received":   "Получено проверок связи",
		"Checks answered":                 "Отвечено на проверки",
		"Median time to answer a check":   "Медианное время ответа на проверку",
		"No channels yet.":                "Каналов пока нет.",
		"Channel %s":                      "Канал %s",
		"%d of %d (%s)":                   "%d из %d (%s)",
		"none due":                        "сроки не наступили",
		"none":                            "нет",
		"%d s":                            "%d с",
		"Figures of %s":                   "Показатели: %s",
		"A request counts once its deadline has passed or the party has moved; a request still open before its deadline counts nowhere yet.": "Запрос учитывается, когда его срок истёк или сторона на него отреагировала; открытый запрос, срок которого ещё не истёк, пока не учитывается.",
	})
}

// respTable is one table of figures: a row per figure, a column per party.
type respTable struct {
	ID, Caption string
	Parties     []string
	Rows        []respRow
}

// respRow is one figure; Key names it for the tests ("ack-median").
type respRow struct {
	Key, Label string
	Cells      []string
}

type respData struct {
	AsOf     time.Time
	Channels []respTable
	All      *respTable
}

func (u *UI) responsivenessPage(w http.ResponseWriter, r *http.Request) {
	f, err := u.wf(r.Context()).Responsiveness(r.Context(), "")
	if err != nil {
		u.internal(w, r, err)
		return
	}
	p := u.newPage(r, "Responsiveness")
	d := &respData{AsOf: f.AsOf}
	for i, ch := range f.Channels {
		d.Channels = append(d.Channels, respTableOf(p, "channel-"+strconv.Itoa(i), p.T("Channel %s", ch.Title), ch.Parties))
	}
	if len(f.Channels) > 1 {
		var all []workflow.PartyResponsiveness
		for _, pr := range f.Parties {
			all = append(all, pr)
		}
		slices.SortFunc(all, func(a, b workflow.PartyResponsiveness) int { return strings.Compare(a.PartyID, b.PartyID) })
		t := respTableOf(p, "all", p.T("All channels"), all)
		d.All = &t
	}
	p.Data = d
	u.render(w, "responsiveness", http.StatusOK, p)
}

func respTableOf(p *page, id, caption string, parties []workflow.PartyResponsiveness) respTable {
	t := respTable{ID: id, Caption: caption}
	for _, pr := range parties {
		t.Parties = append(t.Parties, pr.Party)
	}
	row := func(key, label string, cell func(workflow.PartyResponsiveness) string) {
		r := respRow{Key: key, Label: p.T(label)}
		for _, pr := range parties {
			r.Cells = append(r.Cells, cell(pr))
		}
		t.Rows = append(t.Rows, r)
	}
	n := func(f func(workflow.PartyResponsiveness) int) func(workflow.PartyResponsiveness) string {
		return func(pr workflow.PartyResponsiveness) string { return strconv.Itoa(f(pr)) }
	}
	row("received", "Requests received", n(func(pr workflow.PartyResponsiveness) int { return pr.Requests.Received }))
	row("declined", "Declined", n(func(pr workflow.PartyResponsiveness) int { return pr.Requests.Declined }))
	row("ack-in-time", "Acknowledged in time", func(pr workflow.PartyResponsiveness) string {
		return p.ofShare(pr.Requests.AckInTime, pr.Requests.AckDue, pr.Requests.AckInTimeShare)
	})
	row("ack-late", "Acknowledged late or not at all", n(func(pr workflow.PartyResponsiveness) int { return pr.Requests.AckDue - pr.Requests.AckInTime }))
	row("ack-median", "Median time to acknowledge", func(pr workflow.PartyResponsiveness) string { return p.seconds(pr.Requests.MedianAckSeconds) })
	row("answer-in-time", "Answered in time", func(pr workflow.PartyResponsiveness) string {
		return p.ofShare(pr.Requests.AnswerInTime, pr.Requests.AnswerDue, pr.Requests.AnswerInTimeShare)
	})
	row("answer-late", "Answered late or not at all", n(func(pr workflow.PartyResponsiveness) int { return pr.Requests.AnswerDue - pr.Requests.AnswerInTime }))
	row("answer-median", "Median time to answer", func(pr workflow.PartyResponsiveness) string { return p.seconds(pr.Requests.MedianAnswerSeconds) })
	row("checks", "Communication checks received", n(func(pr workflow.PartyResponsiveness) int { return pr.Checks.Sent }))
	row("checks-answered", "Checks answered", func(pr workflow.PartyResponsiveness) string {
		return p.ofShare(pr.Checks.Answered, pr.Checks.Sent, pr.Checks.AnswerRate)
	})
	row("check-median", "Median time to answer a check", func(pr workflow.PartyResponsiveness) string { return p.seconds(pr.Checks.MedianAnswerSeconds) })
	return t
}

// ofShare is "3 of 4 (75 %)", or "none due".
func (p *page) ofShare(n, of int, share *float64) string {
	if share == nil || of == 0 {
		return p.T("none due")
	}
	return p.T("%d of %d (%s)", n, of, strconv.FormatFloat(*share*100, 'f', 0, 64)+" %")
}

// seconds is a median time, "2 h 5 min" or "40 s", or "none".
func (p *page) seconds(s *float64) string {
	if s == nil {
		return p.T("none")
	}
	d := time.Duration(*s * float64(time.Second))
	if d < time.Minute {
		return p.T("%d s", int(d/time.Second))
	}
	return p.duration(d)
}
