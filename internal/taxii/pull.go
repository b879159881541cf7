package taxii

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/ingest"
)

// PullReport counts what one Pull did. Every object version the server
// sent is counted once, in one of New, Unchanged, Rejected and Repeated
// (but for a page on which the local store failed: the error says so).
type PullReport struct {
	Pages      int // pages fetched that carried objects not taken before
	New        int // object versions added to the local collection
	Unchanged  int // versions the local collection had already
	Rejected   int
	Rejections []Rejection
	// Repeated counts the versions the server sent again that this or an
	// earlier pull had already taken (imported, found unchanged or
	// rejected): a resume asks from just before the cursor's instant, so
	// it gets back what was taken at that instant. They are dropped
	// before ingest: neither imported nor counted in the three above.
	Repeated int
	// Cursor is where the pull stopped: the X-TAXII-Date-Added-Last of the
	// last page taken. The next pull asks for what was added at or after
	// it, less the versions already taken at that instant (Taken of them).
	Cursor string
	Taken  int
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

// defaultPullPageSize is the limit a pull asks for when ClientOptions
// gives none: a limit goes with every request, since some servers
// (medallion) refuse a next without one. The server caps it to its own.
const defaultPullPageSize = DefaultMaxPageSize

// maxPullPageSize bounds the limit a pull asks for when it grows its pages
// to get past a group of versions that share one date_added on a server
// that gives no next.
const maxPullPageSize = 1 << 16

// pullCursor is where a pull stopped: the date_added (as the server wrote
// it in X-TAXII-Date-Added-Last) of the last page taken, and the versions
// already taken that may have been added at that instant.
//
// TAXII gives a date_added per page (first and last), not per object, so
// which objects of a page share the last instant is unknown. Taken is
// therefore every version of the pages whose last date_added is At: the
// last such page whole, and the earlier ones when they ended on the same
// instant (a server gives one date_added to many objects, such as all the
// objects of one POST). Taken can hold versions added before At; that
// costs a few ids, never an object.
//
// Next, when set, is the server's next for the page after the last one
// taken, with the added_after of the query it belongs to: a resume tries
// it first, and goes on from At when the server refuses it.
type pullCursor struct {
	At         string   `json:"date_added"`
	Taken      []string `json:"taken,omitempty"`
	Next       string   `json:"next,omitempty"`
	AddedAfter string   `json:"added_after,omitempty"`
}

// parsePullCursor reads a stored cursor. A bare timestamp is a cursor
// stored before the versions taken were kept: it reads as that instant
// with nothing taken, so the resume asks from just before it and the
// local store's copy tells what is already there (counted unchanged).
func parsePullCursor(s string) (pullCursor, error) {
	if s == "" {
		return pullCursor{}, nil
	}
	var c pullCursor
	if strings.HasPrefix(s, "{") {
		if err := json.Unmarshal([]byte(s), &c); err != nil {
			return pullCursor{}, err
		}
	} else {
		c.At = s
	}
	if _, err := parseTimestamp(c.At); err != nil {
		return pullCursor{}, err
	}
	return c, nil
}

func (c pullCursor) String() string {
	if c.At == "" {
		return ""
	}
	b, _ := json.Marshal(c)
	return string(b)
}

// instantBefore returns the instant one unit of ts's own precision before
// ts, written with the same number of fractional digits: for
// "2024-03-01T12:00:00.120Z", "2024-03-01T12:00:00.119Z". Sent as
// added_after (which means strictly after), it asks for everything added
// at ts or later, and nothing added before the previous representable
// instant. The unit is the one the server wrote, so a server that keeps
// that precision reads the value exactly (no rounding can carry it up to
// ts, which would skip what was added at ts); a server that keeps more
// precision than it writes (truncating) sends back a little more, which
// the local store recognises (unchanged). Never less.
func instantBefore(ts string) (string, error) {
	t, err := parseTimestamp(ts)
	if err != nil {
		return "", err
	}
	digits := 0
	if i := strings.IndexByte(ts, '.'); i >= 0 {
		digits = len(ts) - i - 2 // between the dot and the Z
	}
	if digits > 9 {
		digits = 9
	}
	unit := time.Second
	for range digits {
		unit /= 10
	}
	layout := "2006-01-02T15:04:05"
	if digits > 0 {
		layout += "." + strings.Repeat("0", digits)
	}
	return t.Add(-unit).Format(layout + "Z"), nil
}

// versionKey names one object version for the cursor: id and modified (or
// created, for objects without modified), or a hash of the bytes when the
// object has no readable id (it will be rejected, but once only).
func versionKey(raw json.RawMessage) string {
	var o struct {
		ID       string `json:"id"`
		Modified string `json:"modified"`
		Created  string `json:"created"`
	}
	if json.Unmarshal(raw, &o) == nil && o.ID != "" {
		v := o.Modified
		if v == "" {
			v = o.Created
		}
		return o.ID + " " + v
	}
	sum := sha256.Sum256(raw)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Pull copies the objects of a remote collection that were added since
// the last pull into a local collection. It pages through the remote's
// objects endpoint (every version, in date_added order) with a limit on
// every request, following next within the run, validates and imports
// each page with ingest (each object on its own), and records the cursor
// after each page.
//
// The cursor is the page's X-TAXII-Date-Added-Last with the versions
// taken at that instant (see pullCursor). A pull resumes with added_after
// one unit before that instant and drops what the cursor says was taken,
// so that an interrupted pull — at a page boundary inside a group of
// objects that share one date_added, an error, a kill — neither skips nor
// imports again. The cursor also keeps the server's next, which a resume
// tries first; when the server refuses a next (it expired, the server
// restarted) the pull goes on from the cursor's instant instead.
//
// The report counts what was done even when an error stops the pull;
// an error means the pull did not reach the end.
func (c *Client) Pull(ctx context.Context, st dialogue.Store, localCollectionID, remoteCollectionID string) (PullReport, error) {
	const op = "taxii.Pull"
	var rep PullReport
	if _, err := st.FindCollection(ctx, localCollectionID); err != nil {
		return rep, dialogue.E(op, dialogue.KindOther, err)
	}
	key := c.PullKey(localCollectionID, remoteCollectionID)
	stored, err := st.PullCursor(ctx, key)
	if err != nil && dialogue.KindOf(err) != dialogue.KindNotFound {
		return rep, dialogue.E(op, dialogue.KindOther, err)
	}
	cur, err := parsePullCursor(stored)
	if err != nil {
		return rep, dialogue.Errorf(op, dialogue.KindInvalid, "the stored cursor of %s is not readable (%v): delete it to pull everything again", key, err)
	}
	var curAt time.Time
	if cur.At != "" {
		curAt, _ = parseTimestamp(cur.At)
	}
	taken := make(map[string]bool, len(cur.Taken))
	for _, k := range cur.Taken {
		taken[k] = true
	}
	rep.Cursor, rep.Taken = cur.At, len(taken)

	pageSize := c.opt.PageSize
	if pageSize <= 0 {
		pageSize = defaultPullPageSize
	}
	limit := pageSize
	// fromCursor is the added_after that resumes from the cursor.
	fromCursor := func() string {
		if cur.At == "" {
			return ""
		}
		s, _ := instantBefore(cur.At) // cur.At was parsed already
		return s
	}
	addedAfter, next := fromCursor(), ""
	// stale is set while the pull follows a next kept from an earlier
	// pull: the server may have answered it from the results of that
	// earlier query (medallion keeps them), which miss what was added
	// since. Its last page ends the chain, not the pull: one query from
	// the cursor follows.
	stale := false
	if cur.Next != "" {
		addedAfter, next, stale = cur.AddedAfter, cur.Next, true
	}
	// end is where a page without more leads: the end of the pull, or
	// the query from the cursor after a stale chain.
	end := func() bool {
		if !stale {
			return true
		}
		addedAfter, next, stale = fromCursor(), "", false
		return false
	}
	// refused is set when a next failed and the pull went on from the
	// cursor, until a page brings something new: a second failure of next
	// before that ends the pull rather than loop on the same page.
	refused := false
	// save records the cursor, with the next that follows the page. It
	// runs once the page is in the store and even if ctx ends now, so
	// that the next pull does not take the page again.
	save := func(env *Envelope) error {
		cur.Next, cur.AddedAfter = "", ""
		if env.More && env.Next != "" {
			cur.Next, cur.AddedAfter = env.Next, addedAfter
		}
		return st.SetPullCursor(context.WithoutCancel(ctx), key, cur.String())
	}
	for {
		q := url.Values{"match[version]": {"all"}, "limit": {strconv.Itoa(limit)}}
		if addedAfter != "" {
			q.Set("added_after", addedAfter)
		}
		if next != "" {
			q.Set("next", next)
		}
		env, hdr, err := c.Objects(ctx, remoteCollectionID, q)
		if err != nil {
			if next != "" && !refused && dialogue.KindOf(err) != dialogue.KindUnavailable {
				// The server answered the next with an error: it no longer
				// knows it (expired, restarted) or fails on it. Ask again
				// from the cursor, once. A server that cannot be reached
				// (or answers 503) ends the pull: the next one resumes.
				c.opt.Logger.WarnContext(ctx, "the server refused next; going on from the cursor", "collection", remoteCollectionID, "cursor", cur.At, "err", err)
				addedAfter, next, refused, stale = fromCursor(), "", true, false
				continue
			}
			return rep, dialogue.E(op, dialogue.KindOther, err)
		}
		if len(env.Objects) == 0 {
			if end() {
				return rep, nil
			}
			continue
		}
		last := hdr.Get(HeaderDateAddedLast)
		lastAt, err := parseTimestamp(last)
		if err != nil {
			return rep, dialogue.Errorf(op, dialogue.KindInvalid, "the server sent objects without a valid %s header (%q): cannot resume safely", HeaderDateAddedLast, truncate(last, 60))
		}

		// Drop what was taken already; keep the rest in the page's order.
		keys := make([]string, len(env.Objects))
		var fresh []json.RawMessage
		for i, raw := range env.Objects {
			keys[i] = versionKey(raw)
			if taken[keys[i]] {
				rep.Repeated++
				continue
			}
			taken[keys[i]] = true // also drops a version sent twice in a page
			fresh = append(fresh, raw)
		}
		var ir ingest.Report
		if len(fresh) > 0 {
			r, err := ingest.Objects(ctx, st, localCollectionID, fresh, ingest.EachOnItsOwn)
			if err != nil {
				return rep, dialogue.E(op, dialogue.KindOther, err)
			}
			ir = *r
		}

		// Move the cursor. A page ending after the cursor's instant starts
		// a new one: only this page can hold versions added at its last
		// instant (earlier pages ended before it). A page ending at the
		// cursor's instant (or, from a server that truncates, just before
		// it) adds its versions to those taken there.
		advanced := cur.At == "" || lastAt.After(curAt)
		if advanced {
			cur.At, curAt = last, lastAt
			clear(taken)
		}
		if !advanced && len(fresh) == 0 {
			// Only versions taken already (the overlap of a resume): the
			// cursor stays as it is, and the page is not counted.
			if !env.More {
				if end() {
					return rep, nil
				}
				continue
			}
			if env.Next == "" {
				// The same request would get the same page: more versions
				// share the cursor's instant than the page holds, and the
				// server gives no next. Ask for larger pages, as long as
				// the server gives as many as asked.
				if len(env.Objects) < limit || limit >= maxPullPageSize {
					return rep, errStuck(op, len(env.Objects), cur.At)
				}
				limit = min(2*limit, maxPullPageSize)
				addedAfter = fromCursor()
				continue
			}
			if env.Next != cur.Next {
				if err := save(env); err != nil {
					return rep, dialogue.E(op, dialogue.KindOther, err)
				}
			}
			next = env.Next
			continue
		}
		for _, k := range keys {
			taken[k] = true
		}
		cur.Taken = cur.Taken[:0]
		for k := range taken {
			cur.Taken = append(cur.Taken, k)
		}
		sort.Strings(cur.Taken)
		// The page is in the store: count it whether or not its cursor
		// can be recorded.
		rep.Pages++
		rep.New += ir.Added
		rep.Unchanged += ir.Unchanged
		rep.Rejected += ir.Rejected
		for _, r := range ir.Results {
			if r.Status == dialogue.Rejected {
				rep.Rejections = append(rep.Rejections, Rejection{ID: r.ID, Reason: failureMessage(r.Err)})
			}
		}
		if err := save(env); err != nil {
			return rep, dialogue.E(op, dialogue.KindOther, err)
		}
		refused = false // this page brought something new
		rep.Cursor, rep.Taken = cur.At, len(cur.Taken)
		c.opt.Logger.InfoContext(ctx, "pulled a page", "collection", remoteCollectionID, "objects", len(env.Objects),
			"new", ir.Added, "unchanged", ir.Unchanged, "rejected", ir.Rejected, "repeated", len(env.Objects)-len(fresh), "cursor", cur.At)
		if !env.More {
			if end() {
				return rep, nil
			}
			continue
		}
		if env.Next != "" {
			next = env.Next
			continue
		}
		// A server without next: go on from the cursor.
		addedAfter, next, limit = fromCursor(), "", pageSize
	}
}

// errStuck is the error of a pull that got a page of versions it had all
// taken already, with more to come, no next, and no larger page to be
// had: more versions share one date_added than the server puts in a page,
// and only next could page through them.
func errStuck(op string, n int, at string) error {
	return dialogue.Errorf(op, dialogue.KindOther, "the server has more than %d object versions added at %s and gives no next to page through them", n, at)
}
