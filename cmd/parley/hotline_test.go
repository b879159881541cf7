package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"
)

// hotlineKeys returns the tls-pin and log-key lines of 'parley keys show'.
func hotlineKeys(t *testing.T, dir string) (pin, key string) {
	t.Helper()
	for _, l := range strings.Split(mustRun(t, "", "keys", "show", "--dir", dir), "\n") {
		if v, ok := strings.CutPrefix(l, "tls-pin "); ok {
			pin = strings.TrimSpace(v)
		}
		if v, ok := strings.CutPrefix(l, "log-key "); ok {
			key = strings.TrimSpace(v)
		}
	}
	if pin == "" || key == "" {
		t.Fatalf("keys show --dir %s: no tls-pin or log-key", dir)
	}
	return pin, key
}

func hotlineEventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("not yet: %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// The hotline and a check end to end through the commands, between two
// served nodes: A sends; B's node receipts it by itself; B's duty officer
// acknowledges and answers; A lists both, with the times.
func TestHotlineCommandsTwoNodes(t *testing.T) {
	a, b := newNode(t, "party-a"), newNode(t, "party-b")
	mustRun(t, testPassword+"\n", "user", "add", "--dir", b, "--role", "duty", "olga")
	ma, alog := serve(t, a)
	mb, blog := serve(t, b)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("A's log:\n%s\nB's log:\n%s", alog, blog)
			for _, d := range []string{a, b} {
				out, _ := runMain(t, "", "hotline", "list", "--dir", d, "--json")
				t.Logf("%s: %s", d, out)
				out, _ = runMain(t, "", "channel", "list", "--dir", d)
				t.Logf("%s: %s", d, out)
			}
		}
	})
	apin, akey := hotlineKeys(t, a)
	bpin, bkey := hotlineKeys(t, b)
	mustRun(t, "", "peer", "add", "--dir", a, "--name", "party-b", "--url", mb.URL(), "--tls-pin", bpin, "--log-key", bkey)
	mustRun(t, "", "peer", "add", "--dir", b, "--name", "party-a", "--url", ma.URL(), "--tls-pin", apin, "--log-key", akey)
	out := mustRun(t, "", "channel", "create", "--dir", a, "a-b", "--with", "party-b")
	m := regexp.MustCompile(`with id (\S+) to`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("channel create: %s", out)
	}
	chID := m[1]
	hotlineEventually(t, "b is offered the channel and accepts it", func() bool {
		m, _, _ := newMain("")
		if err := m.ParseFlags(t.Context(), []string{"channel", "accept", "--dir", b, chID}); err != nil {
			t.Fatal(err)
		}
		err := m.Run(t.Context())
		m.Close()
		return err == nil
	})

	// What a command writes through its own handle of a served node's
	// store reaches the exchange at the server's next poll (30 s); the test
	// wakes it as a notification would.
	wake := func(m *Main) {
		for _, s := range m.servers {
			s.Peers.WakeAll()
		}
	}

	type hotlineList struct {
		Hotline []struct {
			ID             string     `json:"id"`
			State          string     `json:"state"`
			AcknowledgedBy string     `json:"acknowledged_by"`
			Delivered      *time.Time `json:"delivered"`
			Acknowledged   *time.Time `json:"acknowledged"`
		}
	}
	listOn := func(dir string) hotlineList {
		var l hotlineList
		if err := json.Unmarshal([]byte(mustRun(t, "", "hotline", "list", "--dir", dir, "--json")), &l); err != nil {
			t.Fatal(err)
		}
		return l
	}
	msg := strings.TrimSpace(mustRun(t, "", "hotline", "send", "--dir", a, "--channel", "a-b", "--priority", "urgent", "--text", "Substation outage: call us."))
	if !strings.HasPrefix(msg, "parley-hotline--") {
		t.Fatalf("send printed %q", msg)
	}
	wake(ma)
	hotlineEventually(t, "A sees B's delivery receipt", func() bool {
		l := listOn(a)
		return len(l.Hotline) == 1 && l.Hotline[0].State == "delivered" && l.Hotline[0].Delivered != nil
	})
	ack := strings.TrimSpace(mustRun(t, "", "hotline", "ack", "--dir", b, "--user", "olga", msg))
	if !strings.HasPrefix(ack, "parley-receipt--") {
		t.Fatalf("ack printed %q", ack)
	}
	if l := listOn(b); l.Hotline[0].State != "acknowledged" {
		t.Fatalf("on B: %+v", l)
	}
	wake(mb)
	hotlineEventually(t, "A sees the acknowledgement", func() bool {
		l := listOn(a)
		return l.Hotline[0].State == "acknowledged" && l.Hotline[0].AcknowledgedBy == "olga (duty)" && l.Hotline[0].Acknowledged != nil
	})
	if out := mustRun(t, "", "hotline", "list", "--dir", a); !regexp.MustCompile(`(?m)^parley-hotline--\S+ +party-a +party-b +urgent +\S+ +acknowledged +\S+ +\S+ by olga \(duty\) +\S+ +- +Substation outage: call us.$`).MatchString(out) {
		t.Errorf("hotline list on A:\n%s", out)
	}

	check := strings.TrimSpace(mustRun(t, "", "check", "send", "--dir", a, "--channel", chID))
	if !strings.HasPrefix(check, "parley-check--") {
		t.Fatalf("check send printed %q", check)
	}
	wake(ma)
	hotlineEventually(t, "B has the check", func() bool {
		return strings.Contains(mustRun(t, "", "check", "list", "--dir", b), check)
	})
	answer := strings.TrimSpace(mustRun(t, "", "check", "answer", "--dir", b, "--user", "olga", check))
	if !strings.HasPrefix(answer, "parley-check--") || answer == check {
		t.Fatalf("check answer printed %q", answer)
	}
	wake(mb)
	figures := func(dir string) string {
		out := mustRun(t, "", "check", "list", "--dir", dir)
		return out[strings.Index(out, "CHANNEL"):]
	}
	hotlineEventually(t, "both nodes show party-b answered 1 of 1", func() bool {
		fa, fb := figures(a), figures(b)
		return fa == fb && regexp.MustCompile(`(?m) party-b +1 +1 +100% +\S+$`).MatchString(fa)
	})
}
