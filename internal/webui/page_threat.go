package webui

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/httpapi"
	"github.com/parleyhq/parley/internal/workflow"
	"golang.org/x/text/language"
)

// The threat picture: per channel and sector, each
// party's stated level beside the computed one, with the trend chart
// (inline SVG, drawn here) and the off-limits sectors marked; a form to
// state this party's level. The levels come from workflow.ThreatFor, as
// the signed-in user may see them under TLP 2.0.

func init() {
	routes = append(routes, func(u *UI, m *routeMux) {
		m.HandleFunc("GET /threat", u.signedIn(u.threatPage))
		m.HandleFunc("POST /threat/assess", u.signedIn(u.threatAssess))
	})
	addRU(map[string]string{
		"Threat picture": "Картина угроз",
		"As of %s. Computed levels weigh the incident reports you may see; the charts cover the 30 days from %s.": "По состоянию на %s. Расчётные уровни учитывают отчёты об инцидентах, доступные вам; графики охватывают 30 дней начиная с %s.",
		"How the level is computed":       "Как рассчитывается уровень",
		"No channels yet.":                "Каналов пока нет.",
		"Channel %s":                      "Канал %s",
		"Off-limits sectors: %s":          "Запретные секторы: %s",
		"No sector is agreed off-limits.": "Запретные секторы не согласованы.",
		"Sector":                          "Сектор",
		"Computed level":                  "Расчётный уровень",
		"Stated by %s":                    "Заявлено: %s",
		"Trend":                           "Тенденция",
		"score %s; incidents: %d":         "балл %s; инцидентов: %d",
		"7 days ago: %s; 30 days ago: %s": "7 дней назад: %s; 30 дней назад: %s",
		"not stated":                      "не заявлен",
		"stated %s":                       "заявлен %s",
		"previously %s":                   "ранее %s",
		"No threat levels yet.":           "Уровней угрозы пока нет.",
		"off-limits sector":               "запретный сектор",
		"rising":                          "растёт",
		"falling":                         "снижается",
		"steady":                          "без изменений",
		"low":                             "низкий",
		"guarded":                         "умеренный",
		"elevated":                        "повышенный",
		"high":                            "высокий",
		"severe":                          "критический",
		"Level":                           "Уровень",
		"Date":                            "Дата",
		"computed":                        "расчётный",
		"stated by %s":                    "заявлен: %s",
		"Threat level of sector %s over 30 days, from %s to %s: computed and stated levels.": "Уровень угрозы в секторе %s за 30 дней, с %s по %s: расчётный и заявленные уровни.",
		"Computed level %s on %s (score %s).":                                                "Расчётный уровень %s на %s (балл %s).",
		"%s stated %s from %s: %s":                                                           "%s заявляет %s с %s: %s",
		"Trend of %s":                                                                        "Тенденция: %s",
		"The chart's data":                                                                   "Данные графика",
		"Computed and stated levels, day by day":                                             "Расчётный и заявленные уровни по дням",
		"Rationale":                                                                          "Обоснование",
		"Score":                                                                              "Балл",
		"State this party's level":                                                           "Заявить уровень нашей стороны",
		"Sector (code)":                                                                      "Сектор (код)",
		"Choose a sector":                                                                    "Выберите сектор",
		"Choose a level":                                                                     "Выберите уровень",
		"State the level":                                                                    "Заявить уровень",
		"Level stated: %s, %s.":                                                              "Уровень заявлен: %s, %s.",
		"The level was not stated: %s":                                                       "Уровень не заявлен: %s",
		"Choose a sector from the list.":                                                     "Выберите сектор из списка.",
		"Choose a level from 1 (low) to 5 (severe).":                                         "Выберите уровень от 1 (низкий) до 5 (критический).",
		"A stated level needs its reasons: write the rationale.":                             "Заявленному уровню нужно обоснование: заполните его.",
		"Your role may only read; stating a level needs the role duty, expert or admin.": "Ваша роль позволяет только чтение; чтобы заявить уровень, нужна роль duty, expert или admin.",
		"Computed": "Расчётный",
	})
}

// levelName is a level with its name: "4 high", "4 высокий".
func levelName(l locale, lv dialogue.Level) string {
	names := [...]string{"low", "guarded", "elevated", "high", "severe"}
	if lv < 1 || int(lv) > len(names) {
		return strconv.Itoa(int(lv))
	}
	return strconv.Itoa(int(lv)) + " " + l.T(names[lv-1])
}

// LevelName is levelName in the page's language, for the templates.
func (p *page) LevelName(lv dialogue.Level) string { return levelName(p.locale, lv) }

// threatData is what the threat page shows.
type threatData struct {
	AsOf, Since time.Time
	Formula     string
	Channels    []threatChannel
	Sectors     []dialogue.Sector
	Levels      []dialogue.Level
	// Notice says what was just done (after a level was stated).
	Notice string
}

// threatChannel is one channel's picture with its form.
type threatChannel struct {
	N int // the channel's index, for element ids
	workflow.ChannelPicture
	Rows []threatRow
	Form assessForm
}

// threatRow is one sector: its levels, each party's stated level in
// Parties order, and its chart.
type threatRow struct {
	S      workflow.SectorPicture
	Stated []statedCell
	Chart  chart
}

type statedCell struct {
	Party string
	L     *workflow.StatedLevel
}

// assessForm is the form's values and the refusals beside its fields.
type assessForm struct {
	Sector, Level, Rationale string
	Errors                   map[string]string
}

func (u *UI) threatPage(w http.ResponseWriter, r *http.Request) {
	u.renderThreat(w, r, http.StatusOK, "", "", nil)
}

// renderThreat renders the page (or, for htmx, its body and the flash
// area) with status, notice (what was done) and msg (a refusal); failed
// names the channel whose form is shown again with its values and the
// refusals beside its fields.
func (u *UI) renderThreat(w http.ResponseWriter, r *http.Request, status int, notice, msg string, failed *failedForm) {
	p := u.newPage(r, "Threat picture")
	d, err := u.threatData(r.Context(), p)
	if err != nil {
		u.internal(w, r, err)
		return
	}
	d.Notice, p.Error = notice, msg
	if failed != nil {
		for i := range d.Channels {
			if c := d.Channels[i]; c.Channel == failed.channel || c.Title == failed.channel {
				d.Channels[i].Form = failed.form
			}
		}
	}
	p.Data = d
	if isHTMX(r) {
		u.renderFragment(w, "threat", "threat-response", status, p)
		return
	}
	u.render(w, "threat", status, p)
}

type failedForm struct {
	channel string
	form    assessForm
}

func (u *UI) threatData(ctx context.Context, p *page) (*threatData, error) {
	s := sessionFrom(ctx)
	pic, err := u.wf(ctx).ThreatFor(ctx, s.u, "")
	if err != nil {
		return nil, err
	}
	d := &threatData{AsOf: pic.AsOf, Since: pic.Since, Formula: pic.Formula, Sectors: dialogue.Sectors,
		Levels: []dialogue.Level{dialogue.LevelLow, dialogue.LevelGuarded, dialogue.LevelElevated, dialogue.LevelHigh, dialogue.LevelSevere}}
	for i, ch := range pic.Channels {
		tc := threatChannel{N: i, ChannelPicture: ch}
		for j, sec := range ch.Sectors {
			row := threatRow{S: sec}
			for _, party := range ch.Parties {
				row.Stated = append(row.Stated, statedCell{Party: party, L: sec.Stated[party]})
			}
			row.Chart = newChart(p, fmt.Sprintf("chart-%d-%d", i, j), ch.Parties, sec, pic.Since, pic.AsOf)
			tc.Rows = append(tc.Rows, row)
		}
		d.Channels = append(d.Channels, tc)
	}
	return d, nil
}

// assessFields are the form's fields, each with the reason shown beside
// it when the workflow refuses it (the workflow's message names the
// field first: "level 7: …", "sector \"x\": …", "rationale: …").
var assessFields = []struct{ name, reason string }{
	{"sector", "Choose a sector from the list."},
	{"level", "Choose a level from 1 (low) to 5 (severe)."},
	{"rationale", "A stated level needs its reasons: write the rationale."},
}

func (u *UI) threatAssess(w http.ResponseWriter, r *http.Request) {
	s := sessionFrom(r.Context())
	l := newLocale(langOf(r))
	refuse := func(status int, msg string) {
		if isHTMX(r) {
			u.flash(w, status, msg)
			return
		}
		u.renderThreat(w, r, status, "", msg, nil)
	}
	if !s.u.Role.CanWrite() {
		refuse(http.StatusForbidden, l.T("Your role may only read; stating a level needs the role duty, expert or admin."))
		return
	}
	channel := r.PostFormValue("channel")
	f := assessForm{Sector: r.PostFormValue("sector"), Level: r.PostFormValue("level"), Rationale: r.PostFormValue("rationale")}
	level, err := strconv.Atoi(strings.TrimSpace(f.Level))
	if err != nil {
		// Not a number: refused here, as the workflow refuses a number
		// out of range.
		f.Errors = map[string]string{"level": l.T("Choose a level from 1 (low) to 5 (severe).")}
		msg := fmt.Sprintf("level %q: want a number from 1 (low) to 5 (severe)", f.Level)
		u.renderThreat(w, r, http.StatusBadRequest, "", l.T("The level was not stated: %s", msg), &failedForm{channel: channel, form: f})
		return
	}
	_, err = u.wf(r.Context()).Assess(r.Context(), channel, f.Sector, level, f.Rationale)
	switch {
	case err == nil:
		notice := l.T("Level stated: %s, %s.", strings.ToLower(strings.TrimSpace(f.Sector)), levelName(l, dialogue.Level(level)))
		if isHTMX(r) {
			u.renderThreat(w, r, http.StatusOK, notice, "", nil)
			return
		}
		http.Redirect(w, r, "/threat", http.StatusSeeOther)
	case dialogue.KindOf(err) == dialogue.KindOther:
		u.internal(w, r, err)
	default:
		msg := dialogue.Message(err)
		for _, fd := range assessFields {
			if strings.HasPrefix(msg, fd.name) {
				f.Errors = map[string]string{fd.name: l.T(fd.reason)}
				u.renderThreat(w, r, httpapi.StatusOf(err), "", l.T("The level was not stated: %s", msg), &failedForm{channel: channel, form: f})
				return
			}
		}
		refuse(httpapi.StatusOf(err), l.T("The level was not stated: %s", msg))
	}
}

// ---- the trend chart

// The chart's size and its plot area, in SVG units.
const (
	chartW, chartH                    = 600, 230
	plotL, plotR, plotTop, plotBottom = 120, 565, 12, 185
)

// chart is one sector's trend: the computed level sampled day by day
// and each party's stated level as a step line, with the axes, ticks,
// a title and a description (the text alternative; the data table sits
// beside it).
type chart struct {
	ID, Title, Desc string
	W, H            int
	PlotL, PlotR    int
	PlotTop, PlotB  int
	// MidX and MidY are the middle of the plot, for the axis labels.
	MidX, MidY     int
	XLabel, YLabel string
	YTicks, XTicks []tick
	Computed       series
	Stated         []series
	// Parties and Rows are the data table: the samples with the
	// computed level and each party's stated one (0: none).
	Parties []string
	Rows    []chartRow
}

type chartRow struct {
	At       time.Time
	Computed dialogue.Level
	Score    string
	Stated   []dialogue.Level
}

type tick struct {
	Pos   string
	Label string
}

// series is one line: its class (computed, party-0, party-1: the line's
// dash and its markers' shape), its legend and its points.
type series struct {
	Class, Label string
	// Line is the polyline's points; Points the markers.
	Line   string
	Points []point
}

// point is a marker: a circle at X, Y, or the polygon Poly; Title is
// its tooltip and text.
type point struct {
	X, Y, Poly string
	Title      string
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

func newChart(p *page, id string, parties []string, sec workflow.SectorPicture, since, asOf time.Time) chart {
	c := chart{ID: id, W: chartW, H: chartH, PlotL: plotL, PlotR: plotR, PlotTop: plotTop, PlotB: plotBottom,
		MidX: (plotL + plotR) / 2, MidY: (plotTop + plotBottom) / 2,
		XLabel: p.T("Date"), YLabel: p.T("Level"),
		Title: p.T("Trend of %s", sec.Sector),
		Desc:  p.T("Threat level of sector %s over 30 days, from %s to %s: computed and stated levels.", sec.Sector, p.Date(since), p.Date(asOf))}
	span := float64(asOf.Sub(since))
	x := func(t time.Time) float64 {
		if t.Before(since) {
			t = since
		}
		return plotL + float64(t.Sub(since))/span*float64(plotR-plotL)
	}
	y := func(l dialogue.Level) float64 {
		return plotTop + float64(5-l)/4*float64(plotBottom-plotTop)
	}
	for l := dialogue.LevelLow; l <= dialogue.LevelSevere; l++ {
		c.YTicks = append(c.YTicks, tick{Pos: num(y(l)), Label: p.LevelName(l)})
	}
	for i := range 4 {
		t := since.Add(time.Duration(i) * (asOf.Sub(since) / 3))
		c.XTicks = append(c.XTicks, tick{Pos: num(x(t)), Label: p.shortDate(t)})
	}
	c.Computed = series{Class: "computed", Label: p.T("Computed")}
	var line []string
	for _, h := range sec.History {
		px, py := num(x(h.At)), num(y(h.Level))
		line = append(line, px+","+py)
		c.Computed.Points = append(c.Computed.Points, point{X: px, Y: py,
			Title: p.T("Computed level %s on %s (score %s).", p.LevelName(h.Level), p.Date(h.At), num3(h.Score))})
	}
	c.Computed.Line = strings.Join(line, " ")
	for i, party := range parties {
		pts := sec.StatedHistory[party]
		s := series{Class: fmt.Sprintf("party-%d", i), Label: p.T("stated by %s", party)}
		var line []string
		for j, pt := range pts {
			if pt.Level == 0 {
				continue
			}
			px, py := x(sec.History[j].At), y(pt.Level)
			line = append(line, num(px)+","+num(py))
			end := float64(plotR)
			if j+1 < len(pts) {
				end = x(sec.History[j+1].At)
			}
			line = append(line, num(end)+","+num(py))
			// A marker where another assessment comes into force.
			if j == 0 || pts[j-1].ID != pt.ID {
				s.Points = append(s.Points, point{X: num(px), Y: num(py), Poly: marker(i, px, py),
					Title: p.T("%s stated %s from %s: %s", party, p.LevelName(pt.Level), p.Date(pt.At), pt.Rationale)})
			}
		}
		if len(line) == 0 {
			continue
		}
		s.Line = strings.Join(line, " ")
		c.Stated = append(c.Stated, s)
	}
	// The data table: a row per sample, the computed level and each
	// party's stated one.
	for j, h := range sec.History {
		r := chartRow{At: h.At, Computed: h.Level, Score: num3(h.Score)}
		for _, party := range parties {
			if pts := sec.StatedHistory[party]; j < len(pts) {
				r.Stated = append(r.Stated, pts[j].Level)
			} else {
				r.Stated = append(r.Stated, 0)
			}
		}
		c.Rows = append(c.Rows, r)
	}
	c.Parties = parties
	return c
}

// marker is the polygon of party i's markers: a square for the first
// party, a diamond for the second (shapes, not only colours, tell the
// lines apart).
func marker(i int, x, y float64) string {
	const r = 5
	var pts [][2]float64
	if i == 0 {
		pts = [][2]float64{{x - r, y - r}, {x + r, y - r}, {x + r, y + r}, {x - r, y + r}}
	} else {
		pts = [][2]float64{{x, y - r - 1}, {x + r + 1, y}, {x, y + r + 1}, {x - r - 1, y}}
	}
	var b strings.Builder
	for i, p := range pts {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(num(p[0]) + "," + num(p[1]))
	}
	return b.String()
}

func num3(f float64) string { return strconv.FormatFloat(f, 'f', 3, 64) }

var ruShortMonths = [...]string{"янв.", "февр.", "марта", "апр.", "мая", "июня", "июля", "авг.", "сент.", "окт.", "нояб.", "дек."}

// shortDate is a day and month in the page's language: "2 Jan", "2 янв.".
func (p *page) shortDate(t time.Time) string {
	t = t.UTC()
	if p.tag == language.Russian {
		return fmt.Sprintf("%d %s", t.Day(), ruShortMonths[t.Month()-1])
	}
	return t.Format("2 Jan")
}
