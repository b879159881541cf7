// Package webui is the node's web interface for people: server-rendered
// pages (html/template, assets embedded, no JavaScript) behind a login
// with the node's users, in English and Russian. Duty officers work the
// inbox (incoming assistance requests and hotline messages, acknowledged
// from there); leads read the leadership summary.
//
// Every change goes through internal/workflow, under the same rules as
// the CLI and the JSON API; this package must hold no dialogue logic of
// its own and must not reach the database except to check a password and
// load the signed-in user. It sets its own session cookie (random id,
// kept on the server with an expiry), checks a per-session CSRF token on
// every POST, and sends a strict Content-Security-Policy.
package webui

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/base64"
	"html/template"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleyhq/parley/internal/blob"
	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/geo"
	"github.com/parleyhq/parley/internal/httpapi"
	"github.com/parleyhq/parley/internal/throttle"
	"github.com/parleyhq/parley/internal/workflow"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// The headers every response carries. No inline script or style, no
// framing, no resource from elsewhere.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

const (
	// The session and login cookies' names end with the node's name
	// (cookieName): cookies do not tell ports apart, and two nodes on one
	// host (the demo) must not sign each other's users out.
	sessionCookie = "parley_session"
	// loginCookie carries the CSRF token of the login form, before there
	// is a session.
	loginCookie = "parley_login"
	// DefaultSessionTTL is how long a session lasts from sign-in.
	DefaultSessionTTL = 8 * time.Hour
	// maxSessions bounds the session map; the oldest go first.
	maxSessions = 10000
)

// Config configures New.
type Config struct {
	// Workflow runs the dialogue; required.
	Workflow *workflow.Service
	// Store checks passwords and loads users; required.
	Store dialogue.Store
	// Record reads the node's logs and peers' state and verifies the logs,
	// for the Record page (nil: the page shows no log).
	Record Record
	// Blobs is the node's evidence blob store: the report pages keep
	// uploaded evidence there and serve it for download (nil: no
	// evidence can be uploaded or downloaded).
	Blobs *blob.Store
	// Logger logs internal errors (never passwords or session ids).
	Logger *slog.Logger
	// InsecureCookies leaves the Secure flag off the cookies: for a node
	// served over plain HTTP (local experiments) only.
	InsecureCookies bool
	// SessionTTL is how long a session lasts (DefaultSessionTTL when 0).
	SessionTTL time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Geo is the node's GeoIP databases (nil when it has none): with
	// them, a request can be routed by territory (workflow.RouteRequest).
	Geo *geo.DB
	// MaxBodyBytes limits the body of a request other than an evidence
	// upload (httpapi.DefaultMaxBodyBytes when 0); an upload may carry
	// files up to the blob store's MaxSize, and 64 MiB of form besides.
	MaxBodyBytes int64
}

// UI is the web interface; it is an http.Handler for the paths under "/".
type UI struct {
	cfg   Config
	log   *slog.Logger
	pages map[string]*template.Template
	mux   *http.ServeMux
	// patterns are the patterns registered on mux, in order (Routes).
	patterns []string
	// logins bounds the password checks running at once (argon2id costs
	// 64 MiB each).
	logins chan struct{}
	// throttle counts failed sign-ins per user name and client address.
	throttle *throttle.Throttle
	// suffix ends the session and login cookies' names: "_" and the
	// node's name, in the characters a cookie name may hold.
	suffix string

	// verifying is set while the node's logs are being verified: one
	// verification at a time.
	verifying atomic.Bool

	mu       sync.Mutex
	sessions map[string]*session
}

type session struct {
	user    string
	csrf    string
	expires time.Time
	// as is the user as it was at sign-in: the session lasts only while
	// the stored user is the same (dialogue.User.Same).
	as *dialogue.User
}

// New returns the web interface of the node cfg describes.
func New(cfg Config) (*UI, error) {
	const op = "webui.New"
	if cfg.Workflow == nil || cfg.Store == nil {
		return nil, dialogue.Errorf(op, dialogue.KindInvalid, "config: Workflow and Store are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = httpapi.DefaultMaxBodyBytes
	}
	pages, err := parsePages()
	if err != nil {
		return nil, dialogue.E(op, dialogue.KindOther, err)
	}
	u := &UI{cfg: cfg, log: cfg.Logger, pages: pages, logins: make(chan struct{}, 2), throttle: throttle.New(), sessions: map[string]*session{}}
	u.suffix = "_" + strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r == '.' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' {
			return r
		}
		return '_'
	}, cfg.Workflow.Self.Name)
	assets, err := fs.Sub(assetFS, "assets")
	if err != nil {
		return nil, dialogue.E(op, dialogue.KindOther, err)
	}
	m := &routeMux{ServeMux: http.NewServeMux()}
	m.Handle("GET /assets/", http.StripPrefix("/assets/", http.FileServerFS(assets)))
	m.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/assets/favicon.svg", http.StatusMovedPermanently)
	})
	m.HandleFunc("GET /login", u.loginPage)
	m.HandleFunc("POST /login", u.login)
	m.HandleFunc("POST /lang", u.setLang)
	m.HandleFunc("POST /logout", u.signedIn(u.logout))
	m.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/inbox", http.StatusSeeOther) })
	m.HandleFunc("GET /inbox", u.signedIn(u.inbox))
	m.HandleFunc("GET /summary", u.signedIn(u.summary))
	m.HandleFunc("POST /requests/{id}/acknowledge", u.signedIn(u.ackRequest))
	m.HandleFunc("POST /requests/{id}/answer", u.signedIn(u.answerRequest))
	m.HandleFunc("POST /hotline/{id}/acknowledge", u.signedIn(u.ackHotline))
	for _, add := range routes {
		add(u, m)
	}
	m.HandleFunc("/", u.notFound)
	u.mux = m.ServeMux
	u.patterns = m.patterns
	return u, nil
}

// Routes returns the patterns the interface serves ("GET /reports/{id}",
// ...), as they were registered: the authorization matrix test checks
// that each has an access rule.
func (u *UI) Routes() []string { return slices.Clone(u.patterns) }

// routeMux is the interface's ServeMux, which keeps the patterns
// registered on it for Routes.
type routeMux struct {
	*http.ServeMux
	patterns []string
}

// Handle registers h for pattern and keeps the pattern.
func (m *routeMux) Handle(pattern string, h http.Handler) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.Handle(pattern, h)
}

// HandleFunc registers h for pattern and keeps the pattern.
func (m *routeMux) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	m.Handle(pattern, http.HandlerFunc(h))
}

// routes are the handlers of the pages kept in their own files, each
// added by the file's init: func(u *UI, m *routeMux) registers its
// paths on m (wrapping them in u.signedIn).
var routes []func(u *UI, m *routeMux)

// parsePages parses each page's template (templates/NAME.html, which
// defines "content") with the layout; the page is then rendered by NAME.
// Templates whose name starts with "_" are partials, parsed into every
// page.
func parsePages() (map[string]*template.Template, error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	shared := []string{"templates/layout.html"}
	for _, f := range names {
		if strings.HasPrefix(path.Base(f), "_") {
			shared = append(shared, f)
		}
	}
	pages := map[string]*template.Template{}
	for _, f := range names {
		name := strings.TrimSuffix(path.Base(f), ".html")
		if name == "layout" || strings.HasPrefix(name, "_") {
			continue
		}
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, append(slices.Clone(shared), f)...)
		if err != nil {
			return nil, err
		}
		pages[name] = t
	}
	return pages, nil
}

// uploadForm is how many bytes of an evidence upload may be form
// fields and multipart framing, on top of its files.
const uploadForm = 64 << 20

// MaxBodyBytes is the limit of r's body: for an evidence upload (a
// multipart POST /reports) the blob store's MaxSize plus uploadForm, for
// any other request Config.MaxBodyBytes. It makes the UI an
// httpapi.BodyLimiter: the node's server caps bodies at this limit and
// leaves the answer to one over it to ServeHTTP.
func (u *UI) MaxBodyBytes(r *http.Request) int64 {
	if r.Method == http.MethodPost && r.URL.Path == "/reports" && u.cfg.Blobs != nil {
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
			return max(u.cfg.Blobs.MaxSize, 0) + uploadForm
		}
	}
	return u.cfg.MaxBodyBytes
}

// ServeHTTP serves the interface with its security headers. A body over
// MaxBodyBytes is answered with the error page (413) in the user's
// language; an evidence upload's body is streamed, never held in memory.
func (u *UI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	// same-origin, not no-referrer: with no-referrer a browser sends
	// "Origin: null" on a form's POST, which the CSRF check must refuse.
	h.Set("Referrer-Policy", "same-origin")
	if strings.HasPrefix(r.URL.Path, "/assets/") {
		// The node's server sets no-store on every answer by default; the
		// embedded assets may be cached as the browser sees fit.
		h.Del("Cache-Control")
	} else {
		h.Set("Cache-Control", "no-store")
	}
	limit := u.MaxBodyBytes(r)
	if r.ContentLength > limit {
		u.tooLarge(w, r, limit)
		return
	}
	if r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, limit)
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); r.Method == http.MethodPost && mt == "application/x-www-form-urlencoded" {
		// A form without Content-Length that runs over: said here, where
		// the limit is known, rather than as a form without its token.
		if err := r.ParseForm(); httpapi.IsTooLarge(err) {
			u.tooLarge(w, r, limit)
			return
		}
	}
	u.mux.ServeHTTP(w, r)
}

// tooLarge answers a request whose body is over limit bytes: the error
// page (the #flash area for htmx) saying the limit, with the status of
// KindTooLarge in httpapi's one table.
func (u *UI) tooLarge(w http.ResponseWriter, r *http.Request, limit int64) {
	p := u.newPage(r, "Too large")
	p.Error = p.T("What was sent is larger than this server accepts: the limit is %s.", p.SizeText(limit))
	status := httpapi.StatusOf(dialogue.ErrTooLarge)
	if isHTMX(r) {
		u.flash(w, status, p.Error)
		return
	}
	u.render(w, "error", status, p)
}

// page is what a template sees.
type page struct {
	locale
	Lang     string
	Title    string
	Node     string
	User     *dialogue.User
	CanWrite bool
	CSRF     string
	Error    string
	Data     any
	now      time.Time
}

// AnswerKinds are the kinds of answer, for the answer forms.
func (p *page) AnswerKinds() []dialogue.ResponseKind { return dialogue.ResponseKinds }

// States are the request states, in their order, for the summary.
func (p *page) States() []string {
	return []string{"submitted", "acknowledged", "answered", "closed", "declined"}
}

// Date formats t in the page's language.
func (p *page) Date(t time.Time) string { return p.date(t) }

// Countdown says how long until t, or how long it is overdue.
func (p *page) Countdown(t time.Time) string { return p.countdown(t, p.now) }

func (u *UI) newPage(r *http.Request, title string) *page {
	l := newLocale(langOf(r))
	p := &page{locale: l, Lang: l.code(), Title: l.T(title), Node: u.cfg.Workflow.Self.Name, now: u.cfg.Now()}
	if s := sessionFrom(r.Context()); s != nil {
		p.User = s.u
		p.CanWrite = s.u.Role.CanWrite()
		p.CSRF = s.s.csrf
	}
	return p
}

func (u *UI) render(w http.ResponseWriter, name string, status int, p *page) {
	var b strings.Builder
	if err := u.pages[name].ExecuteTemplate(&b, "layout", p); err != nil {
		u.log.Error("webui: rendering a page", "page", name, "err", err)
		http.Error(w, p.T("Something went wrong on the server; the details are in its log."), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}

func (u *UI) notFound(w http.ResponseWriter, r *http.Request) {
	p := u.newPage(r, "Page not found.")
	p.Error = p.T("Page not found.")
	u.render(w, "error", http.StatusNotFound, p)
}

// newToken is 32 random bytes, base64url.
func newToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// cookieName is the name of this node's cookie base: the session and
// login cookies carry the node's name; the language is the same for all.
func (u *UI) cookieName(base string) string {
	if base == langCookie {
		return base
	}
	return base + u.suffix
}

func (u *UI) cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: u.cookieName(name), Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true, Secure: !u.cfg.InsecureCookies, SameSite: http.SameSiteStrictMode}
}

// ---- sessions

type sessionKey struct{}

type signed struct {
	s  *session
	id string
	u  *dialogue.User
}

func sessionFrom(ctx context.Context) *signed {
	s, _ := ctx.Value(sessionKey{}).(*signed)
	return s
}

// session returns the live session of the request's cookie, or nil.
func (u *UI) session(r *http.Request) (string, *session) {
	c, err := r.Cookie(u.cookieName(sessionCookie))
	if err != nil || c.Value == "" {
		return "", nil
	}
	now := u.cfg.Now()
	u.mu.Lock()
	defer u.mu.Unlock()
	s := u.sessions[c.Value]
	if s == nil {
		return "", nil
	}
	if !now.Before(s.expires) {
		delete(u.sessions, c.Value)
		return "", nil
	}
	return c.Value, s
}

func (u *UI) newSession(user *dialogue.User) (string, *session) {
	now := u.cfg.Now()
	id := newToken()
	s := &session{user: user.Name, csrf: newToken(), expires: now.Add(u.cfg.SessionTTL), as: user}
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.sessions) >= maxSessions {
		var oldest string
		for k, v := range u.sessions {
			if !now.Before(v.expires) {
				delete(u.sessions, k)
			} else if oldest == "" || v.expires.Before(u.sessions[oldest].expires) {
				oldest = k
			}
		}
		if len(u.sessions) >= maxSessions {
			delete(u.sessions, oldest)
		}
	}
	u.sessions[id] = s
	return id, s
}

// signedIn runs h for a request of a live session whose user still
// exists, is enabled and has the password it signed in with (the store is
// read on each request, so a change by the CLI counts at once), with the
// CSRF token checked on a POST; otherwise it ends the session and sends
// the browser to the login page (a page) or refuses (a POST).
func (u *UI) signedIn(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, s := u.session(r)
		if s == nil {
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, "/login", http.StatusSeeOther)
				return
			}
			u.forbidden(w, r)
			return
		}
		if r.Method == http.MethodPost && !u.csrfOK(r, s.csrf) {
			u.forbidden(w, r)
			return
		}
		usr, err := u.cfg.Store.User(r.Context(), s.user)
		if err != nil && dialogue.KindOf(err) != dialogue.KindNotFound {
			u.internal(w, r, err)
			return
		}
		if err != nil || !s.as.Same(usr) || dialogue.CheckEnabled(usr) != nil {
			u.drop(id)
			http.SetCookie(w, u.cookie(sessionCookie, "", -1))
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, "/login", http.StatusSeeOther)
				return
			}
			u.forbidden(w, r)
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, &signed{s: s, id: id, u: usr})))
	}
}

func (u *UI) drop(id string) {
	u.mu.Lock()
	delete(u.sessions, id)
	u.mu.Unlock()
}

// csrfOK checks the form's token against want, and the Origin header,
// when the browser sends one, against the host.
func (u *UI) csrfOK(r *http.Request, want string) bool {
	if o := r.Header.Get("Origin"); o != "" {
		_, host, _ := strings.Cut(o, "://")
		if host != r.Host {
			return false
		}
	}
	got := r.PostFormValue("csrf")
	return want != "" && len(got) == len(want) && subtleEqual(got, want)
}

func (u *UI) forbidden(w http.ResponseWriter, r *http.Request) {
	p := u.newPage(r, "Refused")
	p.Error = p.T("The form has expired or did not come from this site. Reload the page and try again.")
	u.render(w, "error", http.StatusForbidden, p)
}

// internal answers an error the page cannot show in a form: the error
// page (the #flash area for htmx) with the status httpapi's one table
// gives its kind. A server-side failure is logged and told in general
// words, a full disk as such; a refusal (4xx) is told as it is.
func (u *UI) internal(w http.ResponseWriter, r *http.Request, err error) {
	status := httpapi.StatusOf(err)
	p := u.newPage(r, "Error")
	switch {
	case dialogue.KindOf(err) == dialogue.KindDiskFull:
		u.log.Error("webui: the disk is full", "path", r.URL.Path, "err", err)
		p.Error = p.T("The server's disk is full: nothing can be saved until its administrator makes room.")
	case status >= 500:
		u.log.Error("webui: internal error", "path", r.URL.Path, "err", err)
		p.Error = p.T("Something went wrong on the server; the details are in its log.")
	default:
		p.Error = dialogue.Message(err)
	}
	if isHTMX(r) {
		u.flash(w, status, p.Error)
		return
	}
	u.render(w, "error", status, p)
}

// ---- login, logout, language

func (u *UI) loginPage(w http.ResponseWriter, r *http.Request) {
	if _, s := u.session(r); s != nil {
		http.Redirect(w, r, "/inbox", http.StatusSeeOther)
		return
	}
	u.renderLogin(w, r, http.StatusOK, "")
}

func (u *UI) renderLogin(w http.ResponseWriter, r *http.Request, status int, msg string) {
	p := u.newPage(r, "Sign in")
	p.CSRF = newToken()
	if msg != "" {
		p.Error = p.T(msg)
	}
	http.SetCookie(w, u.cookie(loginCookie, p.CSRF, 3600))
	u.render(w, "login", status, p)
}

func (u *UI) login(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie(u.cookieName(loginCookie))
	if err != nil || !u.csrfOK(r, c.Value) {
		u.renderLogin(w, r, http.StatusForbidden, "The form has expired or did not come from this site. Reload the page and try again.")
		return
	}
	name, password := strings.TrimSpace(r.PostFormValue("name")), r.PostFormValue("password")
	userKey, addrKey := throttle.UserKey(name), throttle.AddrKey(r)
	now := u.cfg.Now()
	if until := u.throttle.Locked(now, userKey, addrKey); !until.IsZero() {
		u.log.Warn("webui: sign-in refused, too many failures", "user", name, "addr", throttle.ClientAddr(r), "until", until)
		w.Header().Set("Retry-After", strconv.Itoa(int(until.Sub(now).Seconds())+1))
		p := u.newPage(r, "Sign in")
		u.renderLogin(w, r, http.StatusTooManyRequests, p.T("Too many failed sign-ins. Try again after %s.", p.Date(until)))
		return
	}
	usr, err := u.checkPassword(r.Context(), name, password)
	if err != nil {
		u.internal(w, r, err)
		return
	}
	if usr == nil {
		u.throttle.Fail(now, userKey, addrKey)
		u.log.Info("webui: sign-in refused", "user", name, "addr", throttle.ClientAddr(r))
		u.renderLogin(w, r, http.StatusUnauthorized, "Wrong user name or password.")
		return
	}
	u.throttle.Succeed(userKey)
	if dialogue.CheckEnabled(usr) != nil {
		u.log.Info("webui: sign-in refused, the user is disabled", "user", name, "addr", throttle.ClientAddr(r))
		u.renderLogin(w, r, http.StatusForbidden, "This user is disabled. Ask the node's administrator.")
		return
	}
	id, _ := u.newSession(usr)
	http.SetCookie(w, u.cookie(loginCookie, "", -1))
	http.SetCookie(w, u.cookie(sessionCookie, id, int(u.cfg.SessionTTL/time.Second)))
	http.Redirect(w, r, "/inbox", http.StatusSeeOther)
}

// dummyHash is checked for an unknown user, so that it costs as much
// time as a wrong password.
var dummyHash = sync.OnceValue(func() string {
	h, _ := dialogue.HashPassword("parley-webui-dummy-never-matches")
	return h
})

// checkPassword returns the user whose name and password these are (nil
// for a wrong pair). The user is read before the hash, so that a password
// changed in between leaves the session with the old generation, ended at
// its first request.
func (u *UI) checkPassword(ctx context.Context, name, password string) (*dialogue.User, error) {
	if name == "" || password == "" {
		return nil, nil
	}
	select {
	case u.logins <- struct{}{}:
		defer func() { <-u.logins }()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	usr, err := u.cfg.Store.User(ctx, name)
	var hash string
	if err == nil {
		hash, err = u.cfg.Store.PasswordHash(ctx, name)
	}
	switch {
	case dialogue.KindOf(err) == dialogue.KindNotFound:
		dialogue.CheckPassword(dummyHash(), password)
		return nil, nil
	case err != nil:
		return nil, err
	}
	if !dialogue.CheckPassword(hash, password) {
		return nil, nil
	}
	return usr, nil
}

func (u *UI) logout(w http.ResponseWriter, r *http.Request) {
	u.drop(sessionFrom(r.Context()).id)
	http.SetCookie(w, u.cookie(sessionCookie, "", -1))
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// setLang remembers the language the user picked. A signed-in user's
// form carries the session's token; before sign-in, the login form's.
func (u *UI) setLang(w http.ResponseWriter, r *http.Request) {
	want := ""
	if _, s := u.session(r); s != nil {
		want = s.csrf
	} else if c, err := r.Cookie(u.cookieName(loginCookie)); err == nil {
		want = c.Value
	}
	if !u.csrfOK(r, want) {
		u.forbidden(w, r)
		return
	}
	lang := r.PostFormValue("lang")
	if lang != "en" && lang != "ru" {
		lang = "en"
	}
	c := u.cookie(langCookie, lang, 365*24*3600)
	http.SetCookie(w, c)
	back := "/inbox"
	if _, s := u.session(r); s == nil {
		back = "/login"
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

// ---- pages

// PageSize is how many requests, and how many hotline messages, the
// inbox shows on one page.
const PageSize = 100

type inboxData struct {
	Requests []*workflow.Request
	Hotline  []*workflow.Hotline
	// Reports are the newest incident reports received from the other
	// parties that the user may see (at most InboxReports).
	Reports []*workflow.Report
	// Page is the page shown (from 1); Prev and Next the neighbours (0:
	// none); Total the requests and messages in all.
	Page, Prev, Next            int
	TotalRequests, TotalHotline int
}

// nextDue is when a request's receiving party must act next.
func nextDue(r *workflow.Request) time.Time {
	if r.State == dialogue.RequestSubmitted {
		return r.AckDeadline
	}
	return r.AnswerDeadline
}

// paged cuts the inbox to page n (from 1): the requests by their next
// deadline, the unacknowledged messages first, each by when it is due.
func (d *inboxData) paged(n int) {
	slices.SortStableFunc(d.Requests, func(a, b *workflow.Request) int { return nextDue(a).Compare(nextDue(b)) })
	slices.SortStableFunc(d.Hotline, func(a, b *workflow.Hotline) int {
		if (a.Acknowledged == nil) != (b.Acknowledged == nil) {
			if a.Acknowledged == nil {
				return -1
			}
			return 1
		}
		return a.AckDue.Compare(b.AckDue)
	})
	d.TotalRequests, d.TotalHotline = len(d.Requests), len(d.Hotline)
	last := max(1, (max(d.TotalRequests, d.TotalHotline)+PageSize-1)/PageSize)
	n = min(max(n, 1), last)
	cut := func(total int) (int, int) { return min((n-1)*PageSize, total), min(n*PageSize, total) }
	i, j := cut(d.TotalRequests)
	d.Requests = d.Requests[i:j]
	i, j = cut(d.TotalHotline)
	d.Hotline = d.Hotline[i:j]
	d.Page = n
	if n > 1 {
		d.Prev = n - 1
	}
	if n < last {
		d.Next = n + 1
	}
}

// InboxReports is how many received incident reports the inbox shows;
// the reports page has them all.
const InboxReports = 20

func (u *UI) inboxData(ctx context.Context, usr *dialogue.User) (*inboxData, error) {
	rs, err := u.wf(ctx).Requests(ctx, workflow.RequestFilter{})
	if err != nil {
		return nil, err
	}
	d := &inboxData{}
	self := u.cfg.Workflow.Self.Name
	for _, r := range rs {
		if r.From != self && (r.State == dialogue.RequestSubmitted || r.State == dialogue.RequestAcknowledged) {
			d.Requests = append(d.Requests, r)
		}
	}
	hs, err := u.wf(ctx).ListHotline(ctx, "")
	if err != nil {
		return nil, err
	}
	for _, h := range hs {
		if !h.Outgoing {
			d.Hotline = append(d.Hotline, h)
		}
	}
	reps, err := u.wf(ctx).ReportsFor(ctx, usr, "")
	if err != nil {
		return nil, err
	}
	for _, rep := range slices.Backward(reps) { // newest first
		if rep.From != self {
			d.Reports = append(d.Reports, rep)
		}
	}
	slices.SortStableFunc(d.Reports, func(a, b *workflow.Report) int { return b.Created.Compare(a.Created) })
	d.Reports = d.Reports[:min(len(d.Reports), InboxReports)]
	return d, nil
}

func (u *UI) inbox(w http.ResponseWriter, r *http.Request) {
	u.renderInbox(w, r, http.StatusOK, "")
}

func (u *UI) renderInbox(w http.ResponseWriter, r *http.Request, status int, msg string) {
	d, err := u.inboxData(r.Context(), sessionFrom(r.Context()).u)
	if err != nil {
		u.internal(w, r, err)
		return
	}
	n, _ := strconv.Atoi(r.URL.Query().Get("page")) // a bad number: the first page
	d.paged(n)
	p := u.newPage(r, "Inbox")
	p.Data = d
	p.Error = msg
	u.render(w, "inbox", status, p)
}

// SummaryOverdue is how many overdue items the summary page lists (the
// most urgent first, as the workflow orders them); it counts them all.
const SummaryOverdue = 100

// summaryData is the summary with its overdue list cut to the first
// SummaryOverdue items.
type summaryData struct {
	*workflow.Summary
	Overdue      []workflow.OverdueItem
	OverdueTotal int
}

func (u *UI) summary(w http.ResponseWriter, r *http.Request) {
	sum, err := u.wf(r.Context()).Summary(r.Context())
	if err != nil {
		u.internal(w, r, err)
		return
	}
	p := u.newPage(r, "Summary")
	d := &summaryData{Summary: sum, Overdue: sum.Overdue, OverdueTotal: len(sum.Overdue)}
	d.Overdue = d.Overdue[:min(len(d.Overdue), SummaryOverdue)]
	p.Data = d
	u.render(w, "summary", http.StatusOK, p)
}

func (u *UI) ackRequest(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	u.act(w, r, "The request could not be acknowledged: %s", func(ctx context.Context, usr *dialogue.User) (string, any, error) {
		if _, err := u.wf(ctx).MoveRequest(ctx, id, workflow.Move{Action: dialogue.ActionAcknowledge, Text: r.PostFormValue("text")}); err != nil {
			return "", nil, err
		}
		req, err := u.wf(ctx).Request(ctx, id)
		return "request-row", req, err
	})
}

// answerRequest answers an acknowledged request from the inbox (the
// request's page has the same form, and the others).
func (u *UI) answerRequest(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	u.act(w, r, "The request could not be answered: %s", func(ctx context.Context, usr *dialogue.User) (string, any, error) {
		m := workflow.Move{Action: dialogue.ActionAnswer, Kind: dialogue.ResponseKind(r.PostFormValue("kind")), Text: r.PostFormValue("text")}
		if _, err := u.wf(ctx).MoveRequest(ctx, id, m); err != nil {
			return "", nil, err
		}
		req, err := u.wf(ctx).Request(ctx, id)
		return "request-row", req, err
	})
}

func (u *UI) ackHotline(w http.ResponseWriter, r *http.Request) {
	u.act(w, r, "The hotline message could not be acknowledged: %s", func(ctx context.Context, usr *dialogue.User) (string, any, error) {
		h, err := u.wf(ctx).AckHotline(ctx, r.PathValue("id"), usr)
		return "hotline-row", h, err
	})
}

// act runs a change for a user who may write. A plain form then shows
// the inbox again: after a redirect when it went through, with the
// refusal otherwise. An htmx request gets the changed item's row (the
// inbox template's block) or the refusal in the page's #flash area.
func (u *UI) act(w http.ResponseWriter, r *http.Request, refused string, do func(context.Context, *dialogue.User) (string, any, error)) {
	s := sessionFrom(r.Context())
	l := newLocale(langOf(r))
	fail := func(status int, msg string) {
		if isHTMX(r) {
			u.flash(w, status, msg)
			return
		}
		u.renderInbox(w, r, status, msg)
	}
	if !s.u.Role.CanWrite() {
		fail(http.StatusForbidden, l.T("Your role may only read; acting on requests and messages needs the role duty, expert or admin."))
		return
	}
	block, item, err := do(r.Context(), s.u)
	switch {
	case err == nil && isHTMX(r):
		p := u.newPage(r, "Inbox")
		u.renderFragment(w, "inbox", block, http.StatusOK, p.Row(item))
	case err == nil:
		http.Redirect(w, r, "/inbox", http.StatusSeeOther)
	case dialogue.KindOf(err) == dialogue.KindOther:
		u.internal(w, r, err)
	default:
		fail(httpapi.StatusOf(err), l.T(refused, dialogue.Message(err)))
	}
}

// wf is the workflows as the signed-in user of ctx uses them
// (workflow.Service.As): every read and write of a page passes the node's
// gate with that viewer; without a session, no one's.
func (u *UI) wf(ctx context.Context) *workflow.Service {
	var usr *dialogue.User
	if s := sessionFrom(ctx); s != nil {
		usr = s.u
	}
	return u.cfg.Workflow.As(dialogue.UserViewer(usr))
}
