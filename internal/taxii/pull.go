package taxii

import (
	"context"
	"net/url"
	"strconv"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/ingest"
)

// PullReport counts what one Pull did.
type PullReport struct {
	Pages      int // pages fetched that carried objects
	New        int // object versions added to the local collection
	Unchanged  int // versions the local collection had already
	Rejected   int
	Rejections []Rejection
	// Cursor is where the pull stopped: the X-TAXII-Date-Added-Last of the
	// last page imported; the next pull asks for objects added after it.
	Cursor string
}

// Rejection is one object a pull refused, and why.
type Rejection struct {
	ID     string
	Reason string
}

// PullKey is the name under which Pull records its cursor in the store:
// one cursor per (remote API root, remote collection, local collection).
func (c *Client) PullKey(localCollectionID, remoteCollectionID string) string {
	return "taxii-pull " + c.root + " " + remoteCollectionID + " -> " + localCollectionID
}

// Pull copies the objects of a remote collection that were added since
// the last pull into a local collection. It pages through the remote's
// objects endpoint (every version, in date_added order) with added_after
// set to the stored cursor and next within the run, validates and imports
// each page with ingest (each object on its own), and records the page's
// X-TAXII-Date-Added-Last as the cursor after each page: an interrupted
// pull resumes where it stopped, with no object skipped or fetched twice.
// The report counts what was done even when an error stops the pull.
func (c *Client) Pull(ctx context.Context, st dialogue.Store, localCollectionID, remoteCollectionID string) (PullReport, error) {
	const op = "taxii.Pull"
	var rep PullReport
	if _, err := st.FindCollection(ctx, localCollectionID); err != nil {
		return rep, dialogue.E(op, dialogue.KindOther, err)
	}
	key := c.PullKey(localCollectionID, remoteCollectionID)
	cursor, err := st.PullCursor(ctx, key)
	if err != nil && dialogue.KindOf(err) != dialogue.KindNotFound {
		return rep, dialogue.E(op, dialogue.KindOther, err)
	}
	rep.Cursor = cursor
	addedAfter, next := cursor, ""
	for {
		q := url.Values{"match[version]": {"all"}}
		if addedAfter != "" {
			q.Set("added_after", addedAfter)
		}
		if next != "" {
			q.Set("next", next)
		}
		if c.opt.PageSize > 0 {
			q.Set("limit", strconv.Itoa(c.opt.PageSize))
		}
		env, hdr, err := c.Objects(ctx, remoteCollectionID, q)
		if err != nil {
			return rep, dialogue.E(op, dialogue.KindOther, err)
		}
		if len(env.Objects) == 0 {
			return rep, nil
		}
		last := hdr.Get(HeaderDateAddedLast)
		if _, err := parseTimestamp(last); err != nil {
			return rep, dialogue.Errorf(op, dialogue.KindInvalid, "the server sent objects without a valid %s header (%q): cannot resume safely", HeaderDateAddedLast, truncate(last, 60))
		}
		ir, err := ingest.Objects(ctx, st, localCollectionID, env.Objects, ingest.EachOnItsOwn)
		if err != nil {
			return rep, dialogue.E(op, dialogue.KindOther, err)
		}
		// The page is in the store: record the cursor even if ctx ends now,
		// so that the next pull does not fetch the page again.
		if err := st.SetPullCursor(context.WithoutCancel(ctx), key, last); err != nil {
			return rep, dialogue.E(op, dialogue.KindOther, err)
		}
		rep.Pages++
		rep.Cursor = last
		rep.New += ir.Added
		rep.Unchanged += ir.Unchanged
		rep.Rejected += ir.Rejected
		for _, r := range ir.Results {
			if r.Status == dialogue.Rejected {
				rep.Rejections = append(rep.Rejections, Rejection{ID: r.ID, Reason: failureMessage(r.Err)})
			}
		}
		c.opt.Logger.InfoContext(ctx, "pulled a page", "collection", remoteCollectionID, "objects", len(env.Objects),
			"new", ir.Added, "unchanged", ir.Unchanged, "rejected", ir.Rejected, "cursor", last)
		if !env.More {
			return rep, nil
		}
		if env.Next != "" {
			next = env.Next
		} else {
			// A server without next: continue from this page's last object.
			addedAfter, next = last, ""
		}
	}
}
