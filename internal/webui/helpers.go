package webui

import (
	"html/template"
	"net/http"
	"strings"

	"github.com/parleyhq/parley/internal/dialogue"
)

// The menu's entries for the pages kept in their own files.
func init() {
	addRU(map[string]string{
		"Reports":        "Отчёты",
		"Threat picture": "Картина угроз",
		"Responsiveness": "Оперативность",
		"Record":         "Журнал",
		// The inbox's reports.
		"Incident reports received":     "Полученные отчёты об инцидентах",
		"Report":                        "Отчёт",
		"Received":                      "Получен",
		"Sectors":                       "Секторы",
		"Severity":                      "Серьёзность",
		"All incident reports":          "Все отчёты об инцидентах",
		"No incident reports received.": "Полученных отчётов об инцидентах нет.",
		// The summary's overdue list.
		"The %d most urgent of %d overdue items; the inbox lists them all.": "Показаны %d самых срочных из %d просроченных; во входящих — все.",
	})
}

// funcs are the functions every template may call besides the page's
// methods. Page files may add theirs from init.
var funcs = template.FuncMap{
	"add": func(a, b int) int { return a + b },
	"sub": func(a, b int) int { return a - b },
	// short cuts a hash or id to its first n characters, for display.
	"short":     func(n int, s string) string { return dialogue.Clip(s, n) },
	"join":      strings.Join,
	"hasPrefix": strings.HasPrefix,
}

// isHTMX says the request came from htmx, which wants a fragment.
func isHTMX(r *http.Request) bool { return r.Header.Get("HX-Request") == "true" }

// renderFragment renders the template block (defined in the page's
// template, or the layout's "flash") with data, without the layout: the
// answer to an htmx request.
func (u *UI) renderFragment(w http.ResponseWriter, name, block string, status int, data any) {
	var b strings.Builder
	if err := u.pages[name].ExecuteTemplate(&b, block, data); err != nil {
		u.log.Error("webui: rendering a fragment", "page", name, "block", block, "err", err)
		http.Error(w, "Something went wrong on the server; the details are in its log.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}

// flash answers an htmx request with msg shown in the page's #flash
// area (the response replaces that area, whatever the form targeted).
func (u *UI) flash(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("HX-Retarget", "#flash")
	w.Header().Set("HX-Reswap", "innerHTML")
	u.renderFragment(w, "error", "flash", status, msg)
}

// row is what a row template sees: the page (for T, Date, CSRF…) and
// the item.
type row struct {
	P *page
	X any
}

// Row pairs the page with an item for a row template:
// {{template "request-row" ($.Row .)}}.
func (p *page) Row(x any) row { return row{P: p, X: x} }
