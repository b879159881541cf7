package write

import (
	"context"

	"github.com/parleyhq/parley/internal/dialogue"
)

// Channels: channelOnly holds no other channel, so nothing it is given
// was received on another one (the write store's cross-channel rule).
func (channelOnly) Channels(context.Context) ([]*dialogue.Channel, error) { return nil, nil }
