package workflow_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/workflow"
)

// A channel's deadlines: the defaults first, then those set (kept per
// channel in the node's store), back to the defaults with zeros; every
// refused setting names the deadline and the reason.
func TestRequestDeadlines(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := &reqClock{t: time.Date(2036, 1, 5, 8, 0, 0, 0, time.UTC)}
	a, b, ch := reqTwoNodes(t, clock)
	got, err := a.wf.RequestDeadlines(ctx, "a-b")
	if err != nil {
		t.Fatal(err)
	}
	def := workflow.ChannelDeadlines{Channel: ch, Title: "a-b",
		Normal:    workflow.DeadlinePair{AckSeconds: 86400, AnswerSeconds: 3 * 86400, Default: true},
		OffLimits: workflow.DeadlinePair{AckSeconds: 3600, AnswerSeconds: 86400, Default: true}}
	if *got != def {
		t.Errorf("defaults: %+v", got)
	}
	h := time.Hour
	set, err := a.wf.SetRequestDeadlines(ctx, ch, dialogue.Deadlines{Ack: 8 * h, Answer: 40 * h}, dialogue.Deadlines{})
	if err != nil {
		t.Fatal(err)
	}
	if set.Normal != (workflow.DeadlinePair{AckSeconds: 8 * 3600, AnswerSeconds: 40 * 3600}) || set.OffLimits != def.OffLimits {
		t.Errorf("set: %+v", set)
	}
	// B's own setting of the channel is B's: still the defaults.
	if got, _ := b.wf.RequestDeadlines(ctx, ch); *got != def {
		t.Errorf("b's deadlines changed: %+v", got)
	}
	if got, _ := a.wf.SetRequestDeadlines(ctx, ch, dialogue.Deadlines{}, dialogue.Deadlines{}); *got != def {
		t.Errorf("reset: %+v", got)
	}
	for _, c := range []struct {
		n, o dialogue.Deadlines
		want string
	}{
		{dialogue.Deadlines{Ack: 30 * time.Second, Answer: h}, dialogue.Deadlines{}, "ack deadline 30s: want between 1m0s and 90 days"},
		{dialogue.Deadlines{Ack: h, Answer: 91 * 24 * h}, dialogue.Deadlines{}, "answer deadline 2184h0m0s: want between 1m0s and 90 days"},
		{dialogue.Deadlines{Ack: h + time.Millisecond, Answer: 2 * h}, dialogue.Deadlines{}, "ack deadline 1h0m0.001s: want whole seconds"},
		{dialogue.Deadlines{Ack: 5 * h, Answer: 2 * h}, dialogue.Deadlines{}, "answer deadline 2h0m0s: earlier than the ack deadline 5h0m0s"},
		{dialogue.Deadlines{}, dialogue.Deadlines{Ack: 2 * h, Answer: h}, "off-limits answer deadline 1h0m0s: earlier than the off-limits ack deadline 2h0m0s"},
		{dialogue.Deadlines{}, dialogue.Deadlines{Ack: 30 * h, Answer: 30 * h}, "off-limits ack deadline 30h0m0s: longer than the ack deadline 24h0m0s"},
		{dialogue.Deadlines{Ack: 2 * h, Answer: 4 * h}, dialogue.Deadlines{}, "off-limits answer deadline 24h0m0s: longer than the answer deadline 4h0m0s"},
		{dialogue.Deadlines{}, dialogue.Deadlines{Ack: -h, Answer: h}, "off-limits ack deadline -1h0m0s: want between"},
	} {
		if _, err := a.wf.SetRequestDeadlines(ctx, ch, c.n, c.o); dialogue.KindOf(err) != dialogue.KindInvalid || !strings.Contains(err.Error(), c.want) {
			t.Errorf("SetRequestDeadlines(%v, %v): %v; want %q", c.n, c.o, err, c.want)
		}
	}
	if _, err := a.wf.SetRequestDeadlines(ctx, "nope", dialogue.Deadlines{}, dialogue.Deadlines{}); dialogue.KindOf(err) != dialogue.KindNotFound {
		t.Errorf("unknown channel: %v", err)
	}
	if _, err := a.wf.RequestDeadlines(ctx, "nope"); dialogue.KindOf(err) != dialogue.KindNotFound {
		t.Errorf("unknown channel: %v", err)
	}
}
