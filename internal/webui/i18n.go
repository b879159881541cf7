package webui

import (
	"fmt"
	"net/http"
	"sync"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"
)

// The languages of the UI: English (the keys) and Russian.
var (
	languages = []language.Tag{language.English, language.Russian}
	matcher   = language.NewMatcher(languages)
	// cat is built on first use, after every file's init has added its
	// strings (addRU).
	cat = sync.OnceValue(newCatalog)
)

// addRU adds the Russian text of a page file's strings; it is called
// from init functions only. A key given twice must have the same text.
func addRU(m map[string]string) {
	for k, v := range m {
		if old, ok := ru[k]; ok && old != v {
			panic("webui: two Russian texts for " + k)
		}
		ru[k] = v
	}
}

// ru holds the Russian text of every English key. Each key is also set
// for English, so that the catalogue knows every string (a key missing
// here shows in English; TestCatalogComplete checks there is none).
var ru = map[string]string{
	"Skip to content":                   "Перейти к содержанию",
	"Main":                              "Основное меню",
	"Inbox":                             "Входящие",
	"Summary":                           "Сводка",
	"Signed in as %s (%s)":              "Вы вошли как %s (%s)",
	"Sign out":                          "Выйти",
	"Sign in":                           "Войти",
	"Language":                          "Язык",
	"Change":                            "Сменить",
	"User name":                         "Имя пользователя",
	"Password":                          "Пароль",
	"Incoming requests":                 "Входящие запросы",
	"Request":                           "Запрос",
	"From":                              "От",
	"State":                             "Состояние",
	"Acknowledge by":                    "Подтвердить до",
	"Answer by":                         "Ответить до",
	"Action":                            "Действие",
	"off-limits sector":                 "запретный сектор",
	"Note (optional)":                   "Примечание (необязательно)",
	"Acknowledge":                       "Подтвердить получение",
	"No incoming requests.":             "Входящих запросов нет.",
	"Hotline messages":                  "Сообщения горячей линии",
	"Message":                           "Сообщение",
	"Priority":                          "Приоритет",
	"Acknowledged by %s":                "Получение подтвердил(а) %s",
	"No hotline messages.":              "Сообщений горячей линии нет.",
	"Counts":                            "Показатели",
	"Channels":                          "Каналы",
	"Requests":                          "Запросы",
	"Overdue requests":                  "Просроченные запросы",
	"Meetings":                          "Встречи",
	"Threat levels":                     "Уровни угрозы",
	"Sector":                            "Сектор",
	"Computed level":                    "Расчётный уровень",
	"Trend":                             "Тенденция",
	"No threat levels yet.":             "Уровней угрозы пока нет.",
	"Overdue":                           "Просрочено",
	"Item":                              "Элемент",
	"Late":                              "Что просрочено",
	"Due":                               "Срок",
	"Owner":                             "Ответственный",
	"Nothing is overdue.":               "Просроченного нет.",
	"Hotline messages not acknowledged": "Сообщения горячей линии без подтверждения",
	"Incident reports (TLP:CLEAR and TLP:GREEN)":                                                     "Отчёты об инцидентах (TLP:CLEAR и TLP:GREEN)",
	"As of %s. Nothing marked above TLP:GREEN is shown.":                                             "По состоянию на %s. Материалы с пометкой выше TLP:GREEN не показаны.",
	"This user is disabled. Ask the node's administrator.":                                           "Этот пользователь отключён. Обратитесь к администратору узла.",
	"Wrong user name or password.":                                                                   "Неверное имя пользователя или пароль.",
	"The form has expired or did not come from this site. Reload the page and try again.":            "Форма устарела или отправлена не с этого сайта. Обновите страницу и повторите.",
	"Your role may only read; acting on requests and messages needs the role duty, expert or admin.": "Ваша роль позволяет только чтение; для действий с запросами и сообщениями нужна роль duty, expert или admin.",
	"The request could not be answered: %s":                                                          "Не удалось ответить на запрос: %s",
	"The request could not be acknowledged: %s":                                                      "Не удалось подтвердить получение запроса: %s",
	"The hotline message could not be acknowledged: %s":                                              "Не удалось подтвердить получение сообщения горячей линии: %s",
	"Something went wrong on the server; the details are in its log.":                                "На сервере произошла ошибка; подробности в журнале сервера.",
	"The server's disk is full: nothing can be saved until its administrator makes room.":            "Диск сервера заполнен: ничего нельзя сохранить, пока администратор не освободит место.",
	"Error":     "Ошибка",
	"Too large": "Слишком большой объём",
	"What was sent is larger than this server accepts: the limit is %s.": "Отправленное больше, чем принимает этот сервер: предел — %s.",
	"Pages":         "Страницы",
	"Previous page": "Предыдущая страница",
	"Next page":     "Следующая страница",
	"Page %d: %d requests and %d hotline messages in all.": "Страница %d; всего запросов: %d, сообщений горячей линии: %d.",
	"Requests by state":             "Запросы по состояниям",
	"touching an off-limits sector": "затрагивающие запретный сектор",
	"Back to the inbox":             "Вернуться во входящие",
	"Refused":                       "Отказано",
	"Page not found.":               "Страница не найдена.",
	"in %s":                         "через %s",
	"overdue by %s":                 "просрочено на %s",
	"%d d %d h":                     "%d д %d ч",
	"%d h %d min":                   "%d ч %d мин",
	"%d min":                        "%d мин",
	// States, priorities, trends and summary words.
	"submitted":       "подан",
	"acknowledged":    "получение подтверждено",
	"answered":        "дан ответ",
	"closed":          "закрыт",
	"declined":        "отклонён",
	"normal":          "обычный",
	"urgent":          "срочный",
	"top":             "высший",
	"flash":           "молния",
	"up":              "растёт",
	"down":            "снижается",
	"steady":          "без изменений",
	"request":         "запрос",
	"hotline":         "горячая линия",
	"action-item":     "поручение",
	"acknowledgement": "подтверждение получения",
	"answer":          "ответ",
}

func newCatalog() *catalog.Builder {
	b := catalog.NewBuilder(catalog.Fallback(language.English))
	for k, v := range ru {
		// Both calls only fail on a malformed message, which the keys
		// here are not; TestCatalogComplete renders every one.
		_ = b.SetString(language.English, k, k)
		_ = b.SetString(language.Russian, k, v)
	}
	return b
}

// langCookie remembers the language the user picked.
const langCookie = "parley_lang"

// langOf is the request's language: the one the user picked (a cookie),
// else the best match of Accept-Language, else English.
func langOf(r *http.Request) language.Tag {
	if c, err := r.Cookie(langCookie); err == nil {
		switch c.Value {
		case "en":
			return language.English
		case "ru":
			return language.Russian
		}
	}
	tags, _, err := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	if err != nil || len(tags) == 0 {
		return language.English
	}
	_, i, _ := matcher.Match(tags...)
	return languages[i]
}

// locale formats text, dates and durations in one language.
type locale struct {
	tag language.Tag
	p   *message.Printer
}

func newLocale(tag language.Tag) locale {
	return locale{tag: tag, p: message.NewPrinter(tag, message.Catalog(cat()))}
}

// code is the language's code for the html lang attribute and the cookie.
func (l locale) code() string {
	if l.tag == language.Russian {
		return "ru"
	}
	return "en"
}

// T translates key (printed with %v when it is no string) and formats
// args into it.
func (l locale) T(key any, args ...any) string {
	k, ok := key.(string)
	if !ok {
		k = fmt.Sprint(key)
	}
	if len(args) == 0 {
		// A plain string: looked up without formatting (the catalogue
		// holds the same text; a page calls this thousands of times).
		if l.tag == language.Russian {
			if v, ok := ru[k]; ok {
				return v
			}
		}
		return k
	}
	return l.p.Sprintf(k, args...)
}

var ruMonths = [...]string{"января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября", "ноября", "декабря"}

// date formats t in UTC, the way the language writes dates: "2 January
// 2036, 08:00 UTC" or "2 января 2036 г., 08:00 UTC".
func (l locale) date(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	t = t.UTC()
	if l.tag == language.Russian {
		return fmt.Sprintf("%d %s %d г., %s UTC", t.Day(), ruMonths[t.Month()-1], t.Year(), t.Format("15:04"))
	}
	return t.Format("2 January 2006, 15:04 UTC")
}

// countdown says how long until due, or how long it is overdue, at now.
func (l locale) countdown(due, now time.Time) string {
	d := due.Sub(now)
	if d < 0 {
		return l.T("overdue by %s", l.duration(-d))
	}
	return l.T("in %s", l.duration(d))
}

func (l locale) duration(d time.Duration) string {
	m := int(d / time.Minute)
	switch {
	case m >= 24*60:
		return l.T("%d d %d h", m/(24*60), m%(24*60)/60)
	case m >= 60:
		return l.T("%d h %d min", m/60, m%60)
	}
	return l.T("%d min", m)
}
