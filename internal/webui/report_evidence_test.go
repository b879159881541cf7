package webui_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"net/http"
	"testing"

	"github.com/parleyhq/parley/internal/dialogue"
)

// setBlobEntryRefusal makes the node's SQLite file refuse (on) or accept
// again (off) every new log entry of an evidence blob, with a trigger:
// the store fails between a report's objects and its evidence's entries.
func setBlobEntryRefusal(t *testing.T, n *uiNode, on bool) {
	t.Helper()
	db, err := sql.Open("sqlite", n.srv.Node.Store.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`PRAGMA busy_timeout = 5000`); err != nil {
		t.Fatal(err)
	}
	q := `DROP TRIGGER refuse_blob_entries`
	if on {
		q = `CREATE TRIGGER refuse_blob_entries BEFORE INSERT ON log_entries WHEN NEW.object_seq IS NULL
			BEGIN SELECT RAISE(ABORT, 'blob entries refused by the test'); END`
	}
	if _, err := db.Exec(q); err != nil {
		t.Fatal(err)
	}
}

// A report filed in the web UI with evidence files is one transaction:
// when the store refuses the evidence's log entry, after it has taken
// the report's objects, the user is told the report was not filed and
// the channel is as it was: no report, no object, no log entry. Once the
// store takes such entries again, the same filing goes through with the
// file's entry in the channel's log.
func TestReportEvidenceOneTransaction(t *testing.T) {
	ctx := context.Background()
	a, bn := uiStart(t, "party-a"), uiStart(t, "party-b")
	ch := uiShare(t, a, bn)
	// Nothing arrives from the peer while the channel is counted.
	a.srv.StopExchange()
	bn.srv.StopExchange()
	st := a.srv.Node.Store
	duty := a.browser(t)
	duty.login("olga", "password-olga")
	_, page := duty.do("GET", "/reports/new", nil)
	form := goodReport(ch, csrfOf(t, page))
	ev := upload{"capture.pcap", "application/vnd.tcpdump.pcap", []byte("evidence of the beacon\n")}
	sum := sha256.Sum256(ev.data)

	state := func() (objects int, size int64, reports int) {
		t.Helper()
		for f := (dialogue.ObjectFilter{Versions: dialogue.VersionMatch{All: true}, MetaOnly: true}); ; {
			p, err := st.FindObjects(ctx, ch, f)
			if err != nil {
				t.Fatal(err)
			}
			objects += len(p.Objects)
			if !p.More {
				break
			}
			f.After = p.Next
		}
		size, err := st.LogSize(ctx, ch)
		if err != nil {
			t.Fatal(err)
		}
		rs, err := a.srv.Workflow.Reports(ctx, ch)
		if err != nil {
			t.Fatal(err)
		}
		return objects, size, len(rs)
	}
	objects0, size0, reports0 := state()

	setBlobEntryRefusal(t, a, true)
	resp, body := duty.postMultipart("/reports", form, ev)
	if resp.StatusCode != http.StatusInternalServerError || resp.Header.Get("Location") != "" {
		t.Errorf("a filing whose evidence entry the store refuses: %d %q, want 500 and no report\n%.400s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	if objects, size, reports := state(); objects != objects0 || size != size0 || reports != reports0 {
		t.Errorf("the refused filing left objects %d→%d, log size %d→%d, reports %d→%d: want the channel unchanged",
			objects0, objects, size0, size, reports0, reports)
	}
	if in, err := st.BlobInLog(ctx, ch, sum); err != nil || in {
		t.Errorf("the evidence entered in the log: %v, %v", in, err)
	}

	setBlobEntryRefusal(t, a, false)
	resp, body = duty.postMultipart("/reports", form, ev)
	if m := reportLink.FindStringSubmatch(resp.Header.Get("Location")); m == nil {
		t.Fatalf("the filing once the store takes blob entries: %d\n%.400s", resp.StatusCode, body)
	}
	if in, err := st.BlobInLog(ctx, ch, sum); err != nil || !in {
		t.Errorf("the filed report's evidence in the log: %v, %v", in, err)
	}
	if _, _, reports := state(); reports != reports0+1 {
		t.Errorf("reports after the filing: %d, want %d", reports, reports0+1)
	}
}
