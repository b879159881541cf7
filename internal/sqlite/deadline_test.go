package sqlite_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/sqlite"
)

// A channel's request deadlines: none set (zero) at first, set, kept
// through a reopen, reset to none with zeros; an unknown channel is
// NOT-FOUND, a negative duration INVALID naming it.
func TestChannelDeadlines(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "parley.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	ch := withChannel(t, db)
	n, o, err := db.ChannelDeadlines(ctx, ch)
	if err != nil || n != (dialogue.Deadlines{}) || o != (dialogue.Deadlines{}) {
		t.Fatalf("fresh channel: %v %v %v", n, o, err)
	}
	normal := dialogue.Deadlines{Ack: 12 * time.Hour, Answer: 48 * time.Hour}
	off := dialogue.Deadlines{Ack: 30 * time.Minute, Answer: 12*time.Hour + 1500*time.Millisecond}
	if err := db.SetChannelDeadlines(ctx, ch, normal, off); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if db, err = sqlite.Open(ctx, path); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	n, o, err = db.ChannelDeadlines(ctx, ch)
	if err != nil || n != normal || o != (dialogue.Deadlines{Ack: 30 * time.Minute, Answer: 12*time.Hour + time.Second}) {
		t.Errorf("after reopen: %v %v %v", n, o, err)
	}
	// the channel itself reads as before
	if c, err := db.Channel(ctx, ch); err != nil || c.State != dialogue.ChannelActive {
		t.Errorf("channel: %+v %v", c, err)
	}
	if err := db.SetChannelDeadlines(ctx, ch, dialogue.Deadlines{}, off); err != nil {
		t.Fatal(err)
	}
	if n, _, _ := db.ChannelDeadlines(ctx, ch); n != (dialogue.Deadlines{}) {
		t.Errorf("after reset: %v", n)
	}
	const missing = "00000000-0000-4000-8000-000000000000"
	if _, _, err := db.ChannelDeadlines(ctx, missing); dialogue.KindOf(err) != dialogue.KindNotFound || !strings.Contains(err.Error(), missing) {
		t.Errorf("unknown channel: %v", err)
	}
	if err := db.SetChannelDeadlines(ctx, missing, normal, off); dialogue.KindOf(err) != dialogue.KindNotFound {
		t.Errorf("set on an unknown channel: %v", err)
	}
	if err := db.SetChannelDeadlines(ctx, ch, dialogue.Deadlines{Ack: -time.Hour}, off); dialogue.KindOf(err) != dialogue.KindInvalid || !strings.Contains(err.Error(), "ack deadline -1h0m0s: negative") {
		t.Errorf("negative: %v", err)
	}
}
