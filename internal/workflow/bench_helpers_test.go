package workflow_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/node"
	"github.com/parleyhq/parley/internal/peer"
)

// benchChannelNode makes node party-a (closed when the benchmark ends)
// with peer party-b pinned (its node made and closed: nothing listens)
// and the channel "a-b" proposed to it, for the read-path benchmarks
// that fill the store through the workflow.
func benchChannelNode(b *testing.B) (*node.Node, *dialogue.Channel) {
	b.Helper()
	ctx := context.Background()
	dir := b.TempDir()
	n, _, err := node.Init(ctx, filepath.Join(dir, "a"), node.InitOptions{Name: "party-a", Listen: "127.0.0.1:0"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { n.Close() })
	other, created, err := node.Init(ctx, filepath.Join(dir, "b"), node.InitOptions{Name: "party-b", Listen: "127.0.0.1:0"})
	if err != nil {
		b.Fatal(err)
	}
	pe, err := peer.NewPeer("party-b", "https://127.0.0.1:1", created.Pin, other.LogKey(), "")
	if err != nil {
		b.Fatal(err)
	}
	other.Close()
	pe.CreatedAt = time.Now()
	if err := n.Store.AddPeer(ctx, pe); err != nil {
		b.Fatal(err)
	}
	ch := &dialogue.Channel{Title: "a-b", Peer: "party-b", State: dialogue.ChannelProposed, CreatedAt: time.Now()}
	if err := n.Store.ProposeChannel(ctx, ch); err != nil {
		b.Fatal(err)
	}
	return n, ch
}
