package workflow_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/stix"
	"github.com/parleyhq/parley/internal/workflow"
)

func checksOf(t *testing.T, wf *workflow.Service, channel string) []*workflow.Check {
	t.Helper()
	ks, _, err := wf.ListChecks(context.Background(), channel)
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

func checkByID(t *testing.T, wf *workflow.Service, channel, id string) *workflow.Check {
	t.Helper()
	for _, k := range checksOf(t, wf, channel) {
		if k.ID == id {
			return k
		}
	}
	return nil
}

// Checks on demand and on a schedule, both ways; answered and not; the
// refused moves; and the figures, the same on both nodes.
func TestChecksTwoNodes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, b := newCommsNode(t, "party-a"), newCommsNode(t, "party-b")
	ch := shareComms(t, a, b)
	cfg := workflow.DefaultComms
	cfg.ChannelCheckInterval = map[string]time.Duration{ch.ID: time.Hour}
	if err := a.WF.SetComms(cfg); err != nil {
		t.Fatal(err)
	}
	if got := b.WF.Comms().CheckEvery(ch.ID); got != 6*time.Hour {
		t.Errorf("default interval %s, want 6h", got)
	}
	duty := &dialogue.User{Name: "olga", Role: dialogue.RoleDuty}

	// No checks yet: figures with no rate and no median.
	fs, err := a.WF.CheckFigures(ctx, ch)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 2 {
		t.Fatalf("%+v", fs)
	}
	for _, f := range fs {
		if f.Sent != 0 || f.Answered != 0 || f.AnswerRate != nil || f.MedianAnswerSeconds != nil || f.Channel != ch.ID {
			t.Errorf("%+v", f)
		}
	}
	if _, err := a.WF.SendCheck(ctx, "nope"); dialogue.KindOf(err) != dialogue.KindNotFound {
		t.Errorf("unknown channel: %v", err)
	}

	// On demand, A → B; B's node receipts it by itself.
	start := time.Now()
	k1, err := a.WF.SendCheck(ctx, "a-b")
	if err != nil {
		t.Fatal(err)
	}
	if k1.Trigger != workflow.TriggerOnDemand || k1.State != workflow.CheckSent || !k1.Outgoing || k1.From != "party-a" || k1.To != "party-b" || !k1.Sent.Equal(a.Clock.Now()) {
		t.Fatalf("sent: %+v", k1)
	}
	waitUntil(t, 15*time.Second, "A sees B's receipt of the check", func() bool {
		k := checkByID(t, a.WF, ch.ID, k1.ID)
		return k != nil && k.State == workflow.CheckDelivered
	})
	t.Logf("check sent on A → delivered receipt on A: %s", time.Since(start).Round(time.Millisecond))

	// Refused moves.
	for _, c := range []struct {
		name string
		wf   *workflow.Service
		id   string
		by   *dialogue.User
		kind dialogue.Kind
		want []string
	}{
		{"by the checking party", a.WF, k1.ID, duty, dialogue.KindForbidden, []string{"only the checked party answers", "party-b's duty officer"}},
		{"unknown", b.WF, "parley-check--00000000-0000-4000-8000-000000000000", duty, dialogue.KindNotFound, []string{"no communication check", "parley check list"}},
		{"no person", b.WF, k1.ID, &dialogue.User{}, dialogue.KindInvalid, []string{"answering a communication check needs the person"}},
		{"a lead", b.WF, k1.ID, &dialogue.User{Name: "lena", Role: dialogue.RoleLead}, dialogue.KindForbidden, []string{"lena is lead"}},
	} {
		_, err := c.wf.AnswerCheck(ctx, c.id, c.by)
		checkKind(t, c.name, err, c.kind, c.want...)
	}

	// B's duty officer answers 90 s after it was sent.
	b.Clock.Set(k1.Sent.Add(90 * time.Second))
	ans, err := b.WF.AnswerCheck(ctx, k1.ID, duty)
	if err != nil {
		t.Fatal(err)
	}
	if ans.State != workflow.CheckAnswered || ans.AnswerSeconds == nil || *ans.AnswerSeconds != 90 || ans.AnsweredBy != "olga (duty)" {
		t.Fatalf("answered: %+v", ans)
	}
	_, err = b.WF.AnswerCheck(ctx, k1.ID, duty)
	checkKind(t, "twice", err, dialogue.KindConflict, "answered already", "olga (duty)")
	_, err = b.WF.AnswerCheck(ctx, ans.AnswerID, duty)
	checkKind(t, "an answer", err, dialogue.KindInvalid, "the answer to a check, not a check")

	// On a schedule (A's interval on this channel: 1 hour), on the fake
	// clock, through the scheduler.
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); a.WF.RunScheduler(runCtx, 10*time.Millisecond, nil) }()
	defer func() { stop(); <-done }()
	scheduled := func() int {
		n := 0
		for _, k := range checksOf(t, a.WF, ch.ID) {
			if k.Outgoing && k.Trigger == workflow.TriggerScheduled {
				n++
			}
		}
		return n
	}
	a.Clock.Set(ch.AcceptedAt.Add(59 * time.Minute))
	time.Sleep(100 * time.Millisecond)
	if n := scheduled(); n != 0 {
		t.Fatalf("%d scheduled checks before the interval", n)
	}
	a.Clock.Set(ch.AcceptedAt.Add(time.Hour))
	waitUntil(t, 10*time.Second, "the first scheduled check", func() bool { return scheduled() == 1 })
	time.Sleep(100 * time.Millisecond)
	a.Clock.Add(59 * time.Minute)
	time.Sleep(100 * time.Millisecond)
	if n := scheduled(); n != 1 {
		t.Fatalf("%d scheduled checks within the second interval", n)
	}
	a.Clock.Add(10 * time.Hour) // down for ten intervals: one check
	waitUntil(t, 10*time.Second, "the second scheduled check", func() bool { return scheduled() == 2 })
	time.Sleep(100 * time.Millisecond)
	if n := scheduled(); n != 2 {
		t.Fatalf("%d scheduled checks, want 2", n)
	}
	stop()
	<-done

	// On demand, B → A, answered on A after 30 s.
	k2, err := b.WF.SendCheck(ctx, ch.ID)
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 15*time.Second, "A has B's check", func() bool { return checkByID(t, a.WF, ch.ID, k2.ID) != nil })
	a.Clock.Set(k2.Sent.Add(30 * time.Second))
	if _, err := a.WF.AnswerCheck(ctx, k2.ID, &dialogue.User{Name: "anna", Role: dialogue.RoleExpert}); err != nil {
		t.Fatal(err)
	}

	// Both nodes hold the same 4 checks, all delivered, and the same figures.
	sameOnBoth := func() bool {
		ka, fa, err := a.WF.ListChecks(ctx, ch.ID)
		if err != nil {
			t.Fatal(err)
		}
		kb, fb, err := b.WF.ListChecks(ctx, ch.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(ka) != 4 || len(kb) != 4 || !reflect.DeepEqual(fa, fb) {
			return false
		}
		for i := range ka {
			if ka[i].State == workflow.CheckSent || kb[i].State != ka[i].State || ka[i].Outgoing == kb[i].Outgoing {
				return false
			}
		}
		return true
	}
	waitUntil(t, 15*time.Second, "both nodes agree", sameOnBoth)
	fa, err := a.WF.CheckFigures(ctx, ch)
	if err != nil {
		t.Fatal(err)
	}
	fb, err := b.WF.CheckFigures(ctx, ch)
	if err != nil {
		t.Fatal(err)
	}
	ja, _ := json.Marshal(fa)
	jb, _ := json.Marshal(fb)
	if string(ja) != string(jb) {
		t.Fatalf("figures differ:\nA: %s\nB: %s", ja, jb)
	}
	byParty := map[string]workflow.CheckFigure{}
	for _, f := range fa {
		byParty[f.Party] = f
	}
	fB, fA := byParty["party-b"], byParty["party-a"]
	if fB.Sent != 3 || fB.Answered != 1 || *fB.AnswerRate != 1.0/3 || *fB.MedianAnswerSeconds != 90 {
		t.Errorf("party-b: %s", ja)
	}
	if fA.Sent != 1 || fA.Answered != 1 || *fA.AnswerRate != 1 || *fA.MedianAnswerSeconds != 30 {
		t.Errorf("party-a: %s", ja)
	}
	// One delivery receipt per check, whoever wrote it.
	for _, n := range []*commsNode{a, b} {
		if k := countType(t, n, ch.ID, stix.TypeReceipt); k != 4 {
			t.Errorf("%s holds %d receipts, want 4", n.name, k)
		}
	}
}
