package write

import (
	"context"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/stix"
)

// Nothing sent on one channel ever leaves on another (docs/design/tlp.md):
// the write store refuses to add to a channel an object that this node
// received from a peer on another channel, unless what was received is
// marked TLP:CLEAR (or TLP 1.0 WHITE), whose disclosure is not limited.
// Unmarked counts as not CLEAR here: re-sending needs the sender's
// explicit word. The published TLP marking definitions pass: every node
// has them. Copying a received object into a collection that is not a
// channel stays inside the node and is allowed; sending that copy on
// another channel is still refused, since the original is found where it
// was received.

// crossChannel returns, by object id, the refusal of each of objs that
// was received from a peer on a channel other than collectionID.
func (w *Writer) crossChannel(ctx context.Context, collectionID string, objs []*dialogue.Object) (map[string]error, error) {
	const op = "write.AddObjects"
	var ids []string
	seen := map[string]bool{}
	for _, o := range objs {
		if _, ok := stix.TLP(o.ID); ok || seen[o.ID] {
			continue
		}
		seen[o.ID] = true
		ids = append(ids, o.ID)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	chs, err := w.Store.Channels(ctx)
	if err != nil {
		return nil, err
	}
	refused := map[string]error{}
	for _, ch := range chs {
		if ch.ID == collectionID || !ch.HasCollection() {
			continue // an offered channel has no collection yet
		}
		for start := 0; start < len(ids); start += lookupIDs {
			f := dialogue.ObjectFilter{IDs: ids[start:min(start+lookupIDs, len(ids))], Versions: dialogue.VersionMatch{All: true}}
			for {
				page, err := w.Store.FindObjects(ctx, ch.ID, f)
				if err != nil {
					return nil, err
				}
				for _, o := range page.Objects {
					if refused[o.ID] != nil {
						continue
					}
					if level, _, _ := stix.ReadTLP(o.Raw); level == "clear" {
						continue
					}
					from, err := w.Store.Origin(ctx, ch.ID, o.ID, o.TAXIIVersion())
					if err != nil {
						return nil, err
					}
					if from != "" {
						refused[o.ID] = dialogue.Errorf(op, dialogue.KindForbidden,
							"%s came from peer %s on channel %s (%s): nothing received on one channel leaves on another, unless it is marked TLP:CLEAR",
							o.ID, from, ch.ID, ch.Title)
					}
				}
				if !page.More {
					break
				}
				f.After = page.Next
			}
		}
	}
	return refused, nil
}
