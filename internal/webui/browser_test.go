package webui_test

// The browser tests drive Debian's Chromium, headless, with chromedp
// against real nodes over TLS. `make test` installs the chromium package
// when it is missing; without it these tests fail (never skip), saying so.
//
// Each test's browser trusts exactly the certificates of its nodes, by
// the same pins the peers use (--ignore-certificate-errors-spki-list
// takes base64 SHA-256 of the SubjectPublicKeyInfo, which is what a pin
// is). A console error, a CSP violation or an uncaught exception on any
// page fails the test.

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// chromiumPath is Debian's Chromium, or $PARLEY_CHROMIUM.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("PARLEY_CHROMIUM"), "/usr/bin/chromium"} {
		if p == "" {
			continue
		}
		if _, err := exec.LookPath(p); err == nil {
			return p
		}
	}
	t.Fatal("the browser tests need Chromium: run `make test` (it installs the Debian package chromium as root) or `apt-get install chromium`, or set PARLEY_CHROMIUM to its path")
	return ""
}

// artifactDir is where screenshots go: $PARLEY_ARTIFACTS, else the
// repository's artifacts/screenshots (ignored by git).
func artifactDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("PARLEY_ARTIFACTS")
	if dir == "" {
		abs, err := filepath.Abs(filepath.Join("..", "..", "artifacts", "screenshots"))
		if err != nil {
			t.Fatal(err)
		}
		dir = abs
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// chrome is one browser tab of a test.
type chrome struct {
	t   *testing.T
	ctx context.Context

	mu       sync.Mutex
	problems []string
	allowed  []string
}

// allow lets console errors containing s pass: a refusal the test
// provokes on purpose (the browser logs every 4xx response).
func (c *chrome) allow(s string) {
	c.mu.Lock()
	c.allowed = append(c.allowed, s)
	c.mu.Unlock()
}

// newChrome starts a headless Chromium that trusts the nodes' TLS
// certificates, and opens a tab. Everything stops when the test ends.
func newChrome(t *testing.T, nodes ...*uiNode) *chrome {
	t.Helper()
	pins := make([]string, len(nodes))
	for i, n := range nodes {
		pins[i] = n.pin
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless,
		chromedp.NoSandbox, // the tests run as root in CI
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
		// The machine's network is closed: no background connections.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter"),
		chromedp.Flag("ignore-certificate-errors-spki-list", strings.Join(pins, ",")),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	ctx, cancelTime := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() { cancelTime(); cancelTab(); cancelAlloc() })
	c := &chrome{t: t, ctx: ctx}
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("starting Chromium: %v", err)
	}
	err := chromedp.Listen(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *cdplog.EventEntryAdded:
			if ev.Entry.Level == cdplog.EntryLevelError {
				c.problem(fmt.Sprintf("console %s: %s (%s)", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
			}
		case *runtime.EventExceptionThrown:
			c.problem(fmt.Sprintf("exception: %s (%s:%d)", ev.ExceptionDetails.Text, ev.ExceptionDetails.URL, ev.ExceptionDetails.LineNumber))
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError {
				c.problem("console.error on the page")
			}
		}
	})
	if err != nil {
		t.Fatalf("listening to Chromium: %v", err)
	}
	t.Cleanup(c.checkProblems)
	return c
}

func (c *chrome) problem(s string) {
	c.mu.Lock()
	c.problems = append(c.problems, s)
	c.mu.Unlock()
}

// checkProblems fails the test for any console error or exception seen.
func (c *chrome) checkProblems() {
	c.mu.Lock()
	defer c.mu.Unlock()
next:
	for _, p := range c.problems {
		for _, a := range c.allowed {
			if strings.Contains(p, a) {
				continue next
			}
		}
		c.t.Errorf("browser: %s", p)
	}
}

// run runs chromedp actions, failing the test on an error.
func (c *chrome) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	if err := chromedp.Do(c.ctx, actions...); err != nil {
		c.t.Fatalf("browser, %s: %v", what, err)
	}
}

// open navigates to url and waits for the page's main part.
func (c *chrome) open(url string) {
	c.t.Helper()
	c.run("open "+url, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS("main")))
}

// login signs in on node n as user (whose password is "password-USER")
// and waits for the inbox. Already signed in there as user, it only
// checks so (the login page sends a signed-in browser to the inbox).
func (c *chrome) login(n *uiNode, user string) {
	c.t.Helper()
	c.open(n.srv.URL + "/login")
	if c.nodeCount("#login-name") == 0 {
		if got := c.text("header"); !strings.Contains(got, " "+user+" (") {
			c.t.Fatalf("browser: on %s the login page is skipped, but the header reads %q, not %s", n.name, got, user)
		}
		return
	}
	c.run("sign in as "+user,
		chromedp.SendKeys(chromedp.ID("login-name"), user),
		chromedp.SendKeys(chromedp.ID("login-password"), "password-"+user),
		chromedp.Submit(chromedp.ID("login-password")),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/inbox"]`)),
	)
}

// text is the visible text of the first node sel matches.
func (c *chrome) text(sel string) string {
	c.t.Helper()
	s, err := chromedp.Run(c.ctx, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
	if err != nil {
		c.t.Fatalf("browser, read %s: %v", sel, err)
	}
	return s
}

// waitText waits until the text of sel contains want (reloading nothing:
// for a page that updates itself, or after a submit).
func (c *chrome) waitText(sel, want string) {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var s string
	for time.Now().Before(deadline) {
		got, err := chromedp.Run(c.ctx, chromedp.Text(chromedp.CSS(sel)))
		if err == nil {
			s = got
			if strings.Contains(s, want) {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.t.Fatalf("browser: %s does not show %q; it shows:\n%s", sel, want, s)
}

// reloadUntil reloads the page until sel's text contains want: for what
// arrives from the other node.
func (c *chrome) reloadUntil(sel, want string) {
	c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var s string
	for time.Now().Before(deadline) {
		if err := chromedp.Do(c.ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("main"))); err == nil {
			if got, err := chromedp.Run(c.ctx, chromedp.Text(chromedp.CSS(sel))); err == nil {
				s = got
				if strings.Contains(s, want) {
					return
				}
			}
		}
		time.Sleep(300 * time.Millisecond)
	}
	c.t.Fatalf("browser: %s never showed %q; it shows:\n%s", sel, want, s)
}

var shotName = regexp.MustCompile(`[^a-z0-9-]+`)

// screenshot writes the whole page to the artifact folder as NAME.png.
func (c *chrome) screenshot(name string) string {
	c.t.Helper()
	png, err := chromedp.Run(c.ctx, chromedp.FullScreenshot(100)) // 100: PNG
	if err != nil {
		c.t.Fatalf("browser, screenshot %s: %v", name, err)
	}
	f := filepath.Join(artifactDir(c.t), shotName.ReplaceAllString(strings.ToLower(name), "-")+".png")
	if err := os.WriteFile(f, png, 0o644); err != nil {
		c.t.Fatal(err)
	}
	return f
}

// nodeCount is how many nodes sel matches.
func (c *chrome) nodeCount(sel string) int {
	c.t.Helper()
	nodes, err := chromedp.Run(c.ctx, chromedp.Nodes(chromedp.CSSAll(sel), chromedp.AtLeast(0)))
	if err != nil {
		c.t.Fatalf("browser, count %s: %v", sel, err)
	}
	return len(nodes)
}

// The login page and the inbox work in a real browser under the strict
// CSP: htmx loads (no inline script or style needed), signing in lands in
// the inbox, and the language switch translates the page.
func TestBrowserLoginAndLanguage(t *testing.T) {
	a := uiStart(t, "party-a")
	c := newChrome(t, a)
	c.open(a.srv.URL + "/login")
	c.screenshot("login")
	c.login(a, "olga")
	if got := c.text("h1"); got != "Inbox" {
		t.Errorf("after sign-in the page is %q, want the inbox", got)
	}
	// The script is deferred: wait for the document to be complete.
	if _, err := chromedp.Run(c.ctx, chromedp.Poll[bool](`document.readyState === "complete"`)); err != nil {
		t.Fatalf("the page never completed: %v", err)
	}
	htmx, err := chromedp.Run(c.ctx, chromedp.Evaluate[bool](`typeof htmx === "object" && htmx.version.startsWith("2.")`))
	if err != nil || !htmx {
		t.Errorf("htmx 2 is not loaded on the page (%v)", err)
	}
	c.screenshot("inbox-empty")
	c.run("pick Russian",
		chromedp.SetValue(chromedp.ID("lang-select"), "ru"),
		chromedp.Submit(chromedp.ID("lang-select")),
	)
	c.waitText("h1", "Входящие")
	if got := c.text("nav"); !strings.Contains(got, "Сводка") || strings.Contains(got, "Summary") {
		t.Errorf("the menu in Russian reads %q", got)
	}
	lang, err := chromedp.Run(c.ctx, chromedp.AttributeValue(chromedp.CSS("html"), "lang"))
	if err != nil || lang.Value != "ru" {
		t.Errorf("html lang=%q (%v), want ru", lang.Value, err)
	}
}
