package peer

import (
	"context"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/tlog"
)

// PeerState is what `parley peer list` shows of a peer.
type PeerState struct {
	dialogue.Peer
	Channels []ChannelState `json:"channels"`
	// Behind sums, over the active channels, this node's entries the peer
	// has not cosigned yet and the peer's cosigned entries not applied here.
	Behind int64 `json:"behind"`
	// Cosigned is the largest size of this node's logs the peer cosigned.
	Cosigned int64 `json:"cosigned"`
}

// ChannelState is the exchange in one channel, seen from this node.
type ChannelState struct {
	ID    string                `json:"id"`
	Title string                `json:"title"`
	State dialogue.ChannelState `json:"state"`
	// Sent is the size of this node's log; Cosigned how much of it the peer
	// cosigned.
	Sent     int64 `json:"sent"`
	Cosigned int64 `json:"cosigned"`
	// Received is the size of the peer's log cosigned here; Applied how
	// much of it is applied.
	Received int64 `json:"received"`
	Applied  int64 `json:"applied"`
}

// States returns the state of every peer, by name.
func States(ctx context.Context, st Store) ([]*PeerState, error) {
	peers, err := st.Peers(ctx)
	if err != nil {
		return nil, err
	}
	chans, err := st.Channels(ctx)
	if err != nil {
		return nil, err
	}
	var out []*PeerState
	for _, p := range peers {
		ps := &PeerState{Peer: *p, Channels: []ChannelState{}}
		for _, ch := range chans {
			if ch.Peer != p.Name {
				continue
			}
			cs := ChannelState{ID: ch.ID, Title: ch.Title, State: ch.State}
			if !ch.HasCollection() {
				// Not accepted here: no collection yet, nothing exchanged.
				ps.Channels = append(ps.Channels, cs)
				continue
			}
			if cs.Sent, err = st.LogSize(ctx, ch.ID); err != nil {
				return nil, err
			}
			if cs.Cosigned, err = st.Cosigned(ctx, p.Name, ch.ID); err != nil {
				return nil, err
			}
			origin, err := tlog.Origin(p.Name, ch.ID)
			if err != nil {
				return nil, err
			}
			if cs.Received, _, err = st.WitnessLatest(ctx, origin); err != nil {
				return nil, err
			}
			if cs.Applied, err = st.Applied(ctx, p.Name, ch.ID); err != nil {
				return nil, err
			}
			if ch.State == dialogue.ChannelActive {
				ps.Behind += max(cs.Sent-cs.Cosigned, 0) + max(cs.Received-cs.Applied, 0)
			}
			ps.Cosigned = max(ps.Cosigned, cs.Cosigned)
			ps.Channels = append(ps.Channels, cs)
		}
		out = append(out, ps)
	}
	return out, nil
}
