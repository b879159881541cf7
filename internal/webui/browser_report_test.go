package webui_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/geo"
	"github.com/parleyhq/parley/internal/node"
	"github.com/parleyhq/parley/internal/peer"
	"github.com/parleyhq/parley/internal/server"
)

// uiStartGeo is uiStart for a node that has the demo GeoIP database
// (territories XA and XB over the documentation ranges) in its data
// folder, so that it enriches what it holds.
func uiStartGeo(t *testing.T, name string) *uiNode {
	t.Helper()
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), name)
	n, created, err := node.Init(ctx, dir, node.InitOptions{Name: name, Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := geo.DemoDatabase(dir, "XA", "XB"); err != nil {
		n.Close()
		t.Fatal(err)
	}
	for _, u := range []struct {
		name string
		role dialogue.Role
	}{{"olga", dialogue.RoleDuty}, {"lena", dialogue.RoleLead}} {
		h, err := dialogue.HashPassword("password-" + u.name)
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Store.CreateUser(ctx, &dialogue.User{Name: u.name, Role: u.role, CreatedAt: time.Now()}, h); err != nil {
			t.Fatal(err)
		}
	}
	s, err := server.Start(ctx, n, server.Options{Addr: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Peer: peer.Config{PollInterval: 2 * time.Second, LocalInterval: 100 * time.Millisecond, MinBackoff: 50 * time.Millisecond, MaxBackoff: 500 * time.Millisecond, Timeout: 10 * time.Second}})
	if err != nil {
		n.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(5 * time.Second) })
	return &uiNode{name: name, srv: s, pin: created.Pin}
}

// In real browsers across two nodes with the demo GeoIP data: A's duty
// officer files a report with an indicator and an evidence file through
// the form (a first try without a sector is refused beside the field);
// B's duty officer finds it in B's list, sees the indicator's territory
// and autonomous system and the evidence's hash, downloads the evidence
// (the bytes hash as shown), and reads the page in Russian.
func TestBrowserReportAcrossNodes(t *testing.T) {
	ctx := context.Background()
	a, bn := uiStartGeo(t, "party-a"), uiStartGeo(t, "party-b")
	uiShare(t, a, bn)
	evidence := bytes.Repeat([]byte("2036-01-01T08:00:00Z 10.20.0.7:49152 -> 192.0.2.10:443 TLS SNI=update-check.example.net\n"), 200)
	sum := sha256.Sum256(evidence)
	hexSum := hex.EncodeToString(sum[:])
	evFile := filepath.Join(t.TempDir(), "beacon-log.txt")
	if err := os.WriteFile(evFile, evidence, 0o600); err != nil {
		t.Fatal(err)
	}
	const title = "Beacon from the grid operator's gateway"

	c := newChrome(t, a, bn)
	c.allow("status of 400") // the refused first try
	c.login(a, "olga")
	c.open(a.srv.URL + "/reports/new")
	c.run("fill in the form",
		chromedp.SendKeys(chromedp.ID("report-title"), title),
		chromedp.SendKeys(chromedp.ID("report-description"), "The gateway beaconed to a C2 server for 30 hours."),
		chromedp.SendKeys(chromedp.ID("report-indicators"), "192.0.2.10\nupdate-check.example.net"),
		chromedp.SetValue(chromedp.ID("report-tlp"), "amber"),
		chromedp.SetValue(chromedp.ID("report-severity"), "4"),
		chromedp.SetUploadFiles(chromedp.ID("report-evidence"), []string{evFile}),
		chromedp.Click(chromedp.CSS(`form.report-form button[type="submit"]`)),
	)
	c.waitText("#report-sectors-error", "Sectors: required")
	if got := c.text("#flash"); !strings.Contains(got, "The report was not filed") {
		t.Errorf("the page's flash reads %q", got)
	}
	if v, err := chromedp.Run(c.ctx, chromedp.Value(chromedp.ID("report-title"))); err != nil || v != title {
		t.Errorf("the title typed is %q after the refusal (%v)", v, err)
	}
	c.run("tick the sector, choose the file again",
		chromedp.Click(chromedp.ID("report-sector-energy")),
		chromedp.SetUploadFiles(chromedp.ID("report-evidence"), []string{evFile}),
	)
	c.screenshot("report-new")
	c.run("file", chromedp.Click(chromedp.CSS(`form.report-form button[type="submit"]`)))
	c.waitText("h1", title)
	loc, err := chromedp.Run(c.ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	id := loc[strings.LastIndex(loc, "/")+1:]
	if !strings.HasPrefix(id, "report--") {
		t.Fatalf("after filing the browser is at %s", loc)
	}
	c.reloadUntil(".indicators", "XA")

	// On B.
	c.login(bn, "olga")
	// Found in B's inbox, among the reports received.
	c.open(bn.srv.URL + "/inbox")
	c.reloadUntil("main", title)
	row := `tr[id="` + id + `"]`
	if got := c.text(row); !strings.Contains(got, "party-a") || !strings.Contains(got, "TLP:AMBER") {
		t.Errorf("B's inbox row of the report reads %q", got)
	}
	c.open(bn.srv.URL + "/reports")
	c.reloadUntil("main", title)
	if got := c.text(row); !strings.Contains(got, "party-a") || !strings.Contains(got, "TLP:AMBER") || !strings.Contains(got, "4 · high") || !strings.Contains(got, "Energy") {
		t.Errorf("B's row of the report reads %q", got)
	}
	c.screenshot("reports")
	c.run("open the report", chromedp.Click(chromedp.CSS(row+" a")))
	c.waitText("h1", title)
	c.reloadUntil(".indicators", "AS64496 (Demo network of XA)")
	c.reloadUntil(".evidence", "Download")
	if got := c.text(".indicators"); !strings.Contains(got, "192.0.2.10: XA, AS64496") || !strings.Contains(got, "update-check.example.net") {
		t.Errorf("B's indicators read %q", got)
	}
	if got := c.text(".evidence"); !strings.Contains(got, hexSum) || !strings.Contains(got, "beacon-log.txt") || !strings.Contains(got, "text/plain") {
		t.Errorf("B's evidence reads %q", got)
	}
	c.screenshot("report")
	// The download link, fetched by the page with its session: the bytes
	// hash to what the page shows.
	got, err := chromedp.Run(c.ctx, chromedp.Evaluate[string](`(async () => {
		const a = document.querySelector(".evidence a[download]");
		const r = await fetch(a.href);
		const d = r.headers.get("Content-Disposition");
		const h = await crypto.subtle.digest("SHA-256", await r.arrayBuffer());
		return r.status + " " + d + " " + Array.from(new Uint8Array(h)).map(b => b.toString(16).padStart(2, "0")).join("");
	})()`, chromedp.EvalAwaitPromise))
	if want := `200 attachment; filename=beacon-log.txt ` + hexSum; err != nil || got != want {
		t.Errorf("download: %q (%v), want %q", got, err, want)
	}
	if _, err := bn.srv.Workflow.Report(ctx, id); err != nil {
		t.Errorf("B's workflow: %v", err)
	}

	c.run("pick Russian", chromedp.SetValue(chromedp.ID("lang-select"), "ru"), chromedp.Submit(chromedp.ID("lang-select")))
	c.waitText("nav", "Отчёты")
	c.open(bn.srv.URL + "/reports/" + id)
	main := c.text("main")
	for _, want := range []string{"Индикаторы", "Доказательства", "Территория и автономная система", "Энергетика", "4 · высокая", "Скачать", "Связанные объекты", "Запросов по этому отчёту нет."} {
		if !strings.Contains(main, want) {
			t.Errorf("the report in Russian lacks %q", want)
		}
	}
	for _, english := range []string{"Indicators", "Evidence", "Severity", "Download"} {
		if strings.Contains(main, english) {
			t.Errorf("the report in Russian still says %q", english)
		}
	}
	c.screenshot("report-ru")
}
