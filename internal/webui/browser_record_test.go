package webui_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/parleyhq/parley/internal/dialogue"
)

// In Chromium: A files reports and B cosigns them; A's record page shows
// the checkpoint with B's cosignature, and B's copy of A's log has the
// same root. The verify button answers OK in place (htmx); once B stops
// and A files more, A's page shows B behind; once an entry of A's store
// is tampered with, the verify button names the broken entry. The page
// reads in Russian.
func TestBrowserRecord(t *testing.T) {
	ctx := context.Background()
	a, bn := uiStart(t, "party-a"), uiStart(t, "party-b")
	ch := uiShare(t, a, bn)
	for range 2 {
		if _, err := a.srv.Workflow.FileReport(ctx, "a-b", uiBundle(t), "green", []string{"energy"}, 3); err != nil {
			t.Fatal(err)
		}
	}
	_, root := recordSynced(t, a, bn, ch)
	own := `article[id="channel-` + ch + `"] .own-log`
	rcv := `article[id="channel-` + ch + `"] .received-log`

	uiAddUser(t, a, "ada", dialogue.RoleAdmin) // the verification is for admins
	c := newChrome(t, a, bn)
	c.login(a, "ada")
	c.open(a.srv.URL + "/record")
	if got := c.text(own + " .root"); got != root {
		t.Errorf("A's own log shows root %q, want %q", got, root)
	}
	if got := c.text(own + " .cosignatures"); !strings.Contains(got, "party-b, ") || !strings.Contains(got, " UTC") {
		t.Errorf("A's checkpoint's cosignatures read %q, want party-b's with its time", got)
	}
	if got := c.text(`tr[id="peer-party-b"]`); !strings.Contains(got, "up to date") || !strings.Contains(got, "ago") {
		t.Errorf("A's peers table reads %q", got)
	}
	c.run("verify", chromedp.Click(chromedp.ID("verify-button")))
	c.waitText("#verify-result", "OK: every log holds.")
	if got := c.text("#verify-result"); !strings.Contains(got, root) || !strings.Contains(got, "party-b") {
		t.Errorf("the verification's result reads %q", got)
	}
	c.screenshot("record")

	// B's copy of A's log: the same root.
	c.login(bn, "olga")
	c.open(bn.srv.URL + "/record")
	if got := c.text(rcv + " .root"); got != root {
		t.Errorf("B's copy of A's log shows root %q, want %q", got, root)
	}
	if got := c.text(rcv + " h4"); got != "party-a's log, as received" {
		t.Errorf("B's copy is titled %q", got)
	}

	// B stops; A files one more report: B is behind on A's page, its last
	// contact no longer moves.
	c.login(a, "ada")
	c.open(a.srv.URL + "/record")
	if err := bn.srv.Close(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	pb, err := a.srv.Node.Store.Peer(ctx, "party-b")
	if err != nil || pb.LastContact.IsZero() {
		t.Fatalf("A's peer B: %v, last contact %v", err, pb)
	}
	last := pb.LastContact.UTC().Format("2 January 2006, 15:04 UTC")
	if _, err := a.srv.Workflow.FileReport(ctx, "a-b", uiBundle(t), "green", []string{"energy"}, 3); err != nil {
		t.Fatal(err)
	}
	c.reloadUntil(`tr[id="peer-party-b"]`, "entries behind")
	if n := c.nodeCount(`tr[id="peer-party-b"].behind`); n != 1 {
		t.Errorf("B's row is not marked behind (%d)", n)
	}
	if got := c.text(`tr[id="peer-party-b"] .last-contact`); !strings.HasPrefix(got, last) || !strings.Contains(got, "ago") {
		t.Errorf("B's last contact reads %q, want the last one before it stopped (%s) and how long ago", got, last)
	}
	if got := c.text(own + " .cosignatures"); got != "none yet" {
		t.Errorf("A's newest checkpoint, not cosigned by the stopped B, shows %q", got)
	}

	// A tampered entry: the verification names it.
	tamperEntry(t, a)
	c.run("verify again", chromedp.Click(chromedp.ID("verify-button")))
	c.waitText("#verify-result", "FAILED: a log does not verify.")
	if got := c.text("#verify-result tr.verify-failed .verify-outcome"); !strings.Contains(got, "leaf hash differs from the stored hash") || !strings.HasPrefix(got, "FAILED: entry ") {
		t.Errorf("the failed verification reads %q", got)
	}
	c.screenshot("record-verify-failed")

	c.run("pick Russian", chromedp.SetValue(chromedp.ID("lang-select"), "ru"), chromedp.Submit(chromedp.ID("lang-select")))
	c.waitText("h1", "Входящие")
	c.open(a.srv.URL + "/record")
	if got := c.text("h1"); got != "Журнал" {
		t.Errorf("the record page in Russian is titled %q", got)
	}
	if got := c.text("#verify-button"); got != "Проверить журналы" {
		t.Errorf("the verify button in Russian reads %q", got)
	}
	if got := c.text(`tr[id="peer-party-b"]`); !strings.Contains(got, "отставание в записях:") || !strings.Contains(got, "назад") {
		t.Errorf("B's row in Russian reads %q", got)
	}
	if got := c.text(own + " h4"); got != "Журнал этого узла" {
		t.Errorf("the own log in Russian is titled %q", got)
	}
}
