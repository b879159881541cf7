package main

import (
	"context"
	"fmt"
	"io"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/stix"
)

// exportTLP is TLP on `parley export` (docs/design/tlp.md). A bundle on
// standard output leaves the node, so what never leaves the recipient
// organisation (AMBER+STRICT and RED) is left out unless
// --include-restricted asks for it, with a warning. --as USER exports what
// that user may see (RED only when the user is named); without it the
// export is the operator's, who holds the data folder anyway.
type exportTLP struct {
	view    *dialogue.TLPView
	viewer  dialogue.Viewer // the operator, or the user of --as
	include bool

	restricted int // objects marked AMBER+STRICT or RED that the reader may see
}

func newExportTLP(ctx context.Context, st dialogue.Store, collectionID, as string, include bool) (*exportTLP, error) {
	e := &exportTLP{include: include, viewer: dialogue.OperatorViewer()}
	gate := dialogue.NewGate(st, stix.ReadTLP)
	if as != "" {
		u, err := st.User(ctx, as)
		if err != nil {
			if dialogue.KindOf(err) == dialogue.KindNotFound {
				return nil, withHint(fmt.Errorf("--as %q: no such user", as), "list the users with: parley user list")
			}
			return nil, err
		}
		e.viewer = dialogue.UserViewer(u)
		if err := gate.CheckRead(ctx, e.viewer, collectionID); err != nil {
			if dialogue.KindOf(err) == dialogue.KindNotFound {
				return nil, withHint(fmt.Errorf("--as %s: the user may not read collection %s", as, collectionID), "grant it with: parley collection grant %s --user %s --read", collectionID, as)
			}
			return nil, err
		}
	}
	e.view = gate.View(e.viewer, collectionID)
	return e, nil
}

// keep reports whether o goes into the bundle.
func (e *exportTLP) keep(ctx context.Context, o *dialogue.Object) (bool, error) {
	m, err := e.view.Marking(ctx, o)
	if err != nil {
		return false, err
	}
	if ok, err := e.view.Allows(ctx, m); err != nil || !ok {
		return false, err // not there for this user: not even counted
	}
	if m.Restricted() {
		e.restricted++
		return e.include, nil
	}
	return true, nil
}

// report says on w what was left out or, with --include-restricted, warns.
func (e *exportTLP) report(w io.Writer) {
	switch {
	case e.restricted == 0:
	case e.include:
		fmt.Fprintf(w, "warning: the bundle holds %d objects marked TLP:AMBER+STRICT or TLP:RED: they must not leave the organisation\n", e.restricted)
	default:
		fmt.Fprintf(w, "left out %d objects marked TLP:AMBER+STRICT or TLP:RED: they do not leave the organisation (--include-restricted writes them)\n", e.restricted)
	}
}
