package workflow_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/stix"
	"github.com/parleyhq/parley/internal/workflow"
)

// The texts of the tests' statements: English and Russian.
var stmtTexts = map[string]string{
	"en": "The parties agree that the energy and health sectors must never be attacked.\n\"Off-limits\" means: no operation, no preparation.",
	"ru": "Стороны согласны, что секторы энергетики и здравоохранения никогда не должны подвергаться атакам.\n«Запретные» означает: никаких операций и никакой подготовки.",
}

// TextSHA256 hashes the RFC 8785 serialisation of the texts: members
// sorted, no white space, minimal escapes, non-ASCII as it is.
func TestTextSHA256(t *testing.T) {
	for _, c := range []struct {
		texts map[string]string
		jcs   string
	}{
		{map[string]string{"en": "hello"}, `{"en":"hello"}`},
		{map[string]string{"ru": "Привет", "en": "a\"b\\c\n\t\u001f/<>&é"}, `{"en":"a\"b\\c\n\t\u001f/<>&é","ru":"Привет"}`},
		{map[string]string{"zh": "你好", "en-GB": "colour", "en": "color"}, `{"en":"color","en-GB":"colour","zh":"你好"}`},
		{map[string]string{"fr": "\u2028\b\f\r\u007f"}, "{\"fr\":\"\u2028\\b\\f\\r\u007f\"}"},
	} {
		sum := sha256.Sum256([]byte(c.jcs))
		got, err := workflow.TextSHA256(c.texts)
		if err != nil || got != hex.EncodeToString(sum[:]) {
			t.Errorf("TextSHA256(%q) = %s, %v; want the hash of %s (%x)", c.texts, got, err, c.jcs, sum)
		}
	}
}

// Bad texts are refused with an error that names the field and the
// reason.
func TestTextSHA256Bad(t *testing.T) {
	for _, c := range []struct {
		texts map[string]string
		want  string
	}{
		{nil, "texts: want at least one text"},
		{map[string]string{"english": "x"}, `texts: language "english": want a language tag`},
		{map[string]string{"": "x"}, `texts: language "": want a language tag`},
		{map[string]string{"en": " \n"}, "texts[en]: empty"},
		{map[string]string{"en": "a\xffb"}, "texts[en]: not valid UTF-8"},
		{map[string]string{"en": strings.Repeat("x", workflow.MaxStatementText+1)}, "texts[en]: 262145 bytes, over the limit"},
	} {
		_, err := workflow.TextSHA256(c.texts)
		if err == nil || !strings.Contains(err.Error(), c.want) || dialogue.KindOf(err) == dialogue.KindOther {
			t.Errorf("TextSHA256(%.40q): %v (%v), want %q", c.texts, err, dialogue.KindOf(err), c.want)
		}
	}
}

// stmtSchemaValid checks an object against the OASIS-less parts we can:
// the STIX parser and Parley's extension schema.
func stmtSchemaValid(t *testing.T, raw []byte) {
	t.Helper()
	if _, _, err := stix.Parse(raw); err != nil {
		t.Errorf("%s: %v", raw, err)
	}
	if err := stix.ValidateParley(raw); err != nil {
		t.Errorf("%s: Parley's schema: %v", raw, err)
	}
}

// stmtRaw returns the stored bytes of the latest version of id on n.
func stmtRaw(t *testing.T, n *stmtNode, channel, id string) []byte {
	t.Helper()
	page, err := n.srv.Node.Store.FindObjects(context.Background(), channel, dialogue.ObjectFilter{IDs: []string{id}})
	if err != nil || len(page.Objects) != 1 {
		t.Fatalf("%s on %s: %v (%d objects)", id, n.name, err, len(page.Objects))
	}
	return page.Objects[0].Raw
}

// Off-limits sectors: A proposes, both sign the same hash, and the list is
// agreed on both nodes; the texts arrive byte for byte; a wrong hash and a
// second signature are refused; a signature of another text's hash does
// not count.
func TestOffLimitsTwoNodes(t *testing.T) {
	ctx := context.Background()
	clock := &stmtClock{t: time.Date(2036, 12, 1, 9, 0, 0, 0, time.UTC)}
	a, b, chID := stmtTwoNodes(t, clock)
	ch, _, err := a.wf.Channel(ctx, chID)
	if err != nil {
		t.Fatal(err)
	}

	id, err := a.wf.ProposeStatement(ctx, "a-b", workflow.StatementProposal{Kind: workflow.StatementOffLimits, Texts: stmtTexts, Sectors: []string{"health", "energy", "energy"}})
	if err != nil {
		t.Fatal(err)
	}
	stmtHas(t, b, chID, id)
	st, err := b.wf.StatementByID(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	wantSum, _ := workflow.TextSHA256(stmtTexts)
	if st.State != workflow.StatementProposed || st.ProposedBy != "party-a" || st.TextSHA256 != wantSum || !slices.Equal(st.Sectors, []string{"energy", "health"}) {
		t.Fatalf("on b: %+v", st)
	}
	// Byte-exact: the texts, and the object.
	for lang, text := range stmtTexts {
		if st.Texts[lang] != text {
			t.Errorf("texts[%s] on b = %q, want %q", lang, st.Texts[lang], text)
		}
	}
	if ra, rb := stmtRaw(t, a, chID, id), stmtRaw(t, b, chID, id); !bytes.Equal(ra, rb) {
		t.Errorf("the statement differs:\na: %s\nb: %s", ra, rb)
	} else {
		stmtSchemaValid(t, ra)
		if !bytes.Contains(ra, []byte("Стороны согласны")) {
			t.Errorf("the Russian text is not stored as UTF-8: %s", ra)
		}
	}
	if off, err := a.wf.OffLimits(ctx, ch); err != nil || len(off) != 0 {
		t.Errorf("OffLimits before signatures = %v, %v; want none", off, err)
	}

	// Refused signatures.
	for _, c := range []struct {
		name, id, sum, by string
		kind              dialogue.Kind
		want              string
	}{
		{"wrong hash", id, strings.Repeat("0", 64), "alice (expert)", dialogue.KindConflict, "is not the hash of statement"},
		{"no hash", id, "", "alice (expert)", dialogue.KindInvalid, "text_sha256: give the hash"},
		{"no signer", id, wantSum, " ", dialogue.KindInvalid, "signed_by: name who signs"},
		{"no statement", "parley-statement--00000000-0000-4000-8000-000000000000", wantSum, "alice", dialogue.KindNotFound, "no parley-statement--00000000-0000-4000-8000-000000000000 on any channel"},
		{"not a statement", "report--00000000-0000-4000-8000-000000000000", wantSum, "alice", dialogue.KindInvalid, "want a parley-statement-- or parley-meeting-- id"},
	} {
		_, err := b.wf.SignStatement(ctx, c.id, c.sum, c.by)
		if dialogue.KindOf(err) != c.kind || err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v (%v), want %v %q", c.name, err, dialogue.KindOf(err), c.kind, c.want)
		}
	}

	sigB, err := b.wf.SignStatement(ctx, id, strings.ToUpper(wantSum), "boris (expert)")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.wf.SignStatement(ctx, id, wantSum, "boris (expert)"); dialogue.KindOf(err) != dialogue.KindConflict || !strings.Contains(err.Error(), "signed by party-b already") {
		t.Errorf("signing twice: %v", err)
	}
	stmtHas(t, a, chID, sigB)
	if st, _ := a.wf.StatementByID(ctx, id); st.State != workflow.StatementSigned || st.StateText() != "signed by party-b" {
		t.Errorf("on a after b signed: %s", st.StateText())
	}
	stmtSchemaValid(t, stmtRaw(t, a, chID, sigB))
	clock.Add(time.Minute)
	sigA, err := a.wf.SignStatement(ctx, id, wantSum, "alice (expert)")
	if err != nil {
		t.Fatal(err)
	}
	stmtHas(t, b, chID, sigA)
	for _, n := range []*stmtNode{a, b} {
		st, err := n.wf.StatementByID(ctx, id)
		if err != nil || st.State != workflow.StatementAgreed || len(st.Sigs) != 2 || st.AgreedAt == nil || !st.AgreedAt.Equal(clock.Now()) {
			t.Fatalf("on %s: %+v, %v", n.name, st, err)
		}
		c, _, _ := n.wf.Channel(ctx, chID)
		if off, err := n.wf.OffLimits(ctx, c); err != nil || !slices.Equal(off, []string{"energy", "health"}) {
			t.Errorf("OffLimits on %s = %v, %v", n.name, off, err)
		}
	}

	// A changed text is another statement with another hash: a signature
	// that names the first text's hash does not make it agreed.
	changed := map[string]string{"en": stmtTexts["en"] + " And water.", "ru": stmtTexts["ru"]}
	id2, err := a.wf.ProposeStatement(ctx, chID, workflow.StatementProposal{Kind: workflow.StatementOffLimits, Texts: changed, Sectors: []string{"energy", "health", "water"}})
	if err != nil {
		t.Fatal(err)
	}
	stmtHas(t, b, chID, id2)
	if _, err := b.wf.SignStatement(ctx, id2, wantSum, "boris (expert)"); dialogue.KindOf(err) != dialogue.KindConflict {
		t.Errorf("b signs the changed text with the old hash: %v", err)
	}
	// A node that bypasses the workflow (a buggy or hostile peer) can
	// still send such a signature: it does not count.
	raw, err := b.wf.NewObject(stix.TypeSignature, map[string]any{"statement_ref": id2, "text_sha256": wantSum, "signed_by": "boris (expert)"})
	if err != nil {
		t.Fatal(err)
	}
	c, _, _ := b.wf.Channel(ctx, chID)
	ids, err := b.wf.File(ctx, c, raw)
	if err != nil {
		t.Fatal(err)
	}
	sum2, _ := workflow.TextSHA256(changed)
	if _, err := a.wf.SignStatement(ctx, id2, sum2, "alice (expert)"); err != nil {
		t.Fatal(err)
	}
	stmtHas(t, a, chID, ids[0])
	st2, err := a.wf.StatementByID(ctx, id2)
	if err != nil {
		t.Fatal(err)
	}
	if st2.State != workflow.StatementSigned || !slices.Equal(st2.SignedBy, []string{"party-a"}) {
		t.Errorf("the changed text: %s, signed by %v", st2.StateText(), st2.SignedBy)
	}
	var bad *workflow.Signature
	for i := range st2.Sigs {
		if st2.Sigs[i].ID == ids[0] {
			bad = &st2.Sigs[i]
		}
	}
	if bad == nil || bad.Counts || bad.Reason != "it names another text's hash" {
		t.Errorf("the signature of the old hash: %+v", bad)
	}
	if off, _ := a.wf.OffLimits(ctx, ch); !slices.Equal(off, []string{"energy", "health"}) {
		t.Errorf("OffLimits after an unagreed change = %v", off)
	}
	// Listings.
	if all, err := a.wf.Statements(ctx, "", workflow.StatementOffLimits); err != nil || len(all) != 2 || all[0].ID != id || all[1].ID != id2 {
		t.Errorf("Statements = %v, %v", all, err)
	}
	if js, err := a.wf.Statements(ctx, chID, workflow.StatementJoint); err != nil || len(js) != 0 {
		t.Errorf("joint statements = %v, %v", js, err)
	}
}

// Proposals that break a rule are refused with the field and the reason.
func TestProposeStatementRefused(t *testing.T) {
	ctx := context.Background()
	clock := &stmtClock{t: time.Date(2036, 12, 1, 9, 0, 0, 0, time.UTC)}
	a, _, chID := stmtTwoNodes(t, clock)
	en := map[string]string{"en": "text"}
	for _, c := range []struct {
		name    string
		channel string
		p       workflow.StatementProposal
		kind    dialogue.Kind
		want    string
	}{
		{"kind", chID, workflow.StatementProposal{Kind: "treaty", Texts: en}, dialogue.KindInvalid, `statement kind "treaty": want joint-statement, minutes or off-limits`},
		{"no texts", chID, workflow.StatementProposal{Kind: workflow.StatementJoint}, dialogue.KindInvalid, "texts: want at least one text"},
		{"no sectors", chID, workflow.StatementProposal{Kind: workflow.StatementOffLimits, Texts: en}, dialogue.KindInvalid, "sectors: an off-limits statement names at least one sector"},
		{"bad sector", chID, workflow.StatementProposal{Kind: workflow.StatementOffLimits, Texts: en, Sectors: []string{"energy", "casinos"}}, dialogue.KindInvalid, `sectors: sector "casinos": not a sector code`},
		{"sectors on a joint statement", chID, workflow.StatementProposal{Kind: workflow.StatementJoint, Texts: en, Sectors: []string{"energy"}}, dialogue.KindInvalid, "sectors: only an off-limits statement names sectors"},
		{"minutes without meeting", chID, workflow.StatementProposal{Kind: workflow.StatementMinutes, Texts: en}, dialogue.KindInvalid, "meeting_ref: minutes belong to a meeting"},
		{"no such meeting", chID, workflow.StatementProposal{Kind: workflow.StatementJoint, Texts: en, MeetingRef: "parley-meeting--00000000-0000-4000-8000-000000000000"}, dialogue.KindNotFound, "meeting_ref: no meeting parley-meeting--00000000-0000-4000-8000-000000000000"},
		{"no channel", "nowhere", workflow.StatementProposal{Kind: workflow.StatementJoint, Texts: en}, dialogue.KindNotFound, `no channel "nowhere"`},
	} {
		_, err := a.wf.ProposeStatement(ctx, c.channel, c.p)
		if dialogue.KindOf(err) != c.kind || err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v (%v), want %v %q", c.name, err, dialogue.KindOf(err), c.kind, c.want)
		}
	}
	// A joint statement in two languages is fine.
	id, err := a.wf.ProposeStatement(ctx, chID, workflow.StatementProposal{Kind: workflow.StatementJoint, Texts: stmtTexts})
	if err != nil {
		t.Fatal(err)
	}
	st, err := a.wf.StatementByID(ctx, id)
	if err != nil || st.Kind != workflow.StatementJoint || st.State != workflow.StatementProposed {
		t.Fatalf("%+v %v", st, err)
	}
	out, _ := json.Marshal(st)
	var back workflow.Statement
	if err := json.Unmarshal(out, &back); err != nil || back.Texts["ru"] != stmtTexts["ru"] {
		t.Errorf("JSON round trip of the texts: %s, %v", out, err)
	}
	_ = fmt.Sprint
}
