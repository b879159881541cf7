package webui_test

import (
	"context"
	"html"
	"regexp"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/workflow"
)

var figureRE = regexp.MustCompile(`<td data-party="([^"]+)" data-figure="([^"]+)">([^<]*)</td>`)

// figuresOf reads a responsiveness page's figures: "party/figure" to its
// text, per table (by the table's id).
func figuresOf(t *testing.T, page string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, table := range regexp.MustCompile(`(?s)<table class="figures" id="([^"]+)">(.*?)</table>`).FindAllStringSubmatch(page, -1) {
		for _, m := range figureRE.FindAllStringSubmatch(table[2], -1) {
			out[table[1]+" "+m[1]+"/"+m[2]] = html.UnescapeString(m[3])
		}
	}
	if len(out) == 0 {
		t.Fatalf("no figures on the page:\n%s", page)
	}
	return out
}

// uiAnsweredRequest has A file a request that B acknowledges and
// answers; it returns when A holds it answered.
func uiAnsweredRequest(t *testing.T, a, b *uiNode) string {
	t.Helper()
	ctx := context.Background()
	report, err := a.srv.Workflow.FileReport(ctx, "a-b", uiBundle(t), "green", []string{"energy"}, 3)
	if err != nil {
		t.Fatal(err)
	}
	id, err := a.srv.Workflow.FileRequest(ctx, workflow.RequestFiling{Channel: "a-b", About: []string{report}, Text: "Please take down the C2 server."})
	if err != nil {
		t.Fatal(err)
	}
	uiWait(t, "B holds the request", func() bool { _, err := b.srv.Workflow.Request(ctx, id); return err == nil })
	if _, err := b.srv.Workflow.MoveRequest(ctx, id, workflow.Move{Action: dialogue.ActionAcknowledge}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.srv.Workflow.MoveRequest(ctx, id, workflow.Move{Action: dialogue.ActionAnswer, Kind: dialogue.ResponseTakedown, Text: "Taken down."}); err != nil {
		t.Fatal(err)
	}
	uiWait(t, "A holds the request answered", func() bool {
		r, err := a.srv.Workflow.Request(ctx, id)
		return err == nil && r.State == dialogue.RequestAnswered
	})
	return id
}

// Both nodes show the same figures once both hold the same objects:
// after B acknowledged and answered A's request, the page on A and the
// page on B read the same, party by party; the figures are the
// workflow's.
func TestResponsivenessSameOnBothNodes(t *testing.T) {
	ctx := context.Background()
	a, bn := uiStart(t, "party-a"), uiStart(t, "party-b")
	uiShare(t, a, bn)
	uiAnsweredRequest(t, a, bn)

	ba, bb := a.browser(t), bn.browser(t)
	ba.login("lena", "password-lena") // a lead reads it too
	bb.login("olga", "password-olga")
	_, pa := ba.do("GET", "/responsiveness", nil)
	_, pb := bb.do("GET", "/responsiveness", nil)
	fa, fb := figuresOf(t, pa), figuresOf(t, pb)
	if len(fa) != 2*11 {
		t.Errorf("%d figures on A, want 11 for each of 2 parties: %v", len(fa), fa)
	}
	for k, v := range fa {
		if fb[k] != v {
			t.Errorf("%s: %q on A, %q on B", k, v, fb[k])
		}
	}
	if len(fa) != len(fb) {
		t.Errorf("A shows %d figures, B %d", len(fa), len(fb))
	}
	// B received the request and acknowledged and answered it at once.
	f, err := a.srv.Workflow.Responsiveness(ctx, "a-b")
	if err != nil {
		t.Fatal(err)
	}
	var rb workflow.PartyResponsiveness
	for _, p := range f.Channels[0].Parties {
		if p.Party == "party-b" {
			rb = p
		}
	}
	if rb.Requests.Received != 1 || rb.Requests.AckDue != 1 || rb.Requests.AnswerDue != 1 || rb.Requests.MedianAckSeconds == nil {
		t.Fatalf("the workflow's figures for party-b: %+v", rb.Requests)
	}
	for k, want := range map[string]string{
		"figures-channel-0 party-b/received":       "1",
		"figures-channel-0 party-b/ack-in-time":    "1 of 1 (100 %)",
		"figures-channel-0 party-b/ack-late":       "0",
		"figures-channel-0 party-b/answer-in-time": "1 of 1 (100 %)",
		"figures-channel-0 party-a/received":       "0",
		"figures-channel-0 party-a/ack-in-time":    "none due",
		"figures-channel-0 party-a/ack-median":     "none",
	} {
		if fa[k] != want {
			t.Errorf("%s: %q, want %q", k, fa[k], want)
		}
	}
	if m := fa["figures-channel-0 party-b/answer-median"]; !regexp.MustCompile(`^\d+ s$`).MatchString(m) {
		t.Errorf("party-b's median time to answer: %q, want seconds", m)
	}
	// Parties in the same order on both nodes (by identity).
	head := regexp.MustCompile(`<th scope="col">Figures of ([^<]+)</th>`)
	if ha, hb := head.FindAllStringSubmatch(pa, -1), head.FindAllStringSubmatch(pb, -1); len(ha) != 2 || len(hb) != 2 || ha[0][1] != hb[0][1] || ha[1][1] != hb[1][1] {
		t.Errorf("the columns differ: A %v, B %v", ha, hb)
	}
	if !strings.Contains(pa, "Channel a-b") || !strings.Contains(pa, "As of ") {
		t.Error("the page does not name the channel and the time")
	}
	bb.lang = "ru"
	_, pr := bb.do("GET", "/responsiveness", nil)
	for _, want := range []string{"Оперативность", "Получено запросов", "1 из 1 (100 %)", "Медианное время ответа", " с</td>"} {
		if !strings.Contains(pr, want) {
			t.Errorf("the Russian page lacks %q", want)
		}
	}
}
