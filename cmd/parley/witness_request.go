package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/mod/sumdb/note"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/logapi"
	"github.com/parleyhq/parley/internal/node"
	"github.com/parleyhq/parley/internal/tlog"
)

func (m *Main) newWitnessRequestCommand() *cobra.Command {
	var dir, witnessURL, coll, key, pin string
	var insecure bool
	cmd := &cobra.Command{
		Use:   "request --dir DIR --url https://HOST:PORT [--collection C] [--key VKEY|NAME] [--tls-pin PIN | --insecure]",
		Short: "Ask a witness to cosign the latest checkpoints of this node's logs",
		Long: `request asks the witness at the URL (a peer's 'parley serve'; its
POST /witness/add-checkpoint, C2SP tlog-witness) to cosign the latest
checkpoint of a collection's log (--collection), or of every collection
whose log has a checkpoint. For each, it finds the last size that witness
cosigned (the newest stored checkpoint carrying its cosignature; 0 when
none), sends the consistency proof from that size, and, when the witness
knows another size (409), tries once more from that size. The returned
cosignature is checked against the witness's key and stored beside the
checkpoint, where 'parley log show', 'parley verify' and the served
checkpoint show it.

The witness's key is one of this node's 'witness' list (see 'parley witness
trust'; witnessing is mutual): the only one, or the one --key names. --key
also takes a verifier key not in the list, but then 'log show' and 'verify'
do not count the cosignature until the key is trusted.

It prints one line per collection:

  cosigned COLLECTION-ID size N by WITNESS
  cosigned COLLECTION-ID size N by WITNESS (already)
  failed COLLECTION-ID: WHAT WENT WRONG

("already": the stored checkpoint carries the witness's cosignature; nothing
was asked.)
and exits non-zero when any failed. The witness must witness this node's
log: on the witness, 'parley witness trust' with this node's log-key.`,
		Example: `  parley witness request --dir /var/lib/parley --url https://cert-b.example:8443 --tls-pin 'Xy…='`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			endpoint, err := witnessEndpoint(witnessURL)
			if err != nil {
				return err
			}
			client, err := logapi.HTTPClient(pin, insecure)
			if err != nil {
				return withHint(err, "give the tls-pin line of the witness's 'parley keys show'")
			}
			n, err := m.openNode(ctx, dir)
			if err != nil {
				return err
			}
			defer n.Close()
			l, err := n.Log()
			if err != nil {
				return err
			}
			wv, err := witnessVerifier(n, key)
			if err != nil {
				return err
			}
			var colls []*dialogue.Collection
			if coll != "" {
				c, err := findCollection(ctx, n, coll)
				if err != nil {
					return err
				}
				colls = []*dialogue.Collection{c}
			} else if colls, err = n.Store.Collections(ctx); err != nil {
				return err
			}
			r := &cosignRequest{n: n, l: l, client: client, endpoint: endpoint, witness: wv}
			var failed []string
			var first error
			tried := 0
			for _, c := range colls {
				size, already, err := r.request(ctx, c, coll != "")
				if errors.Is(err, errNoCheckpoint) {
					continue
				}
				tried++
				if err != nil {
					fmt.Fprintf(m.Stdout, "failed %s: %s\n", c.ID, errorLine(err))
					failed = append(failed, c.ID)
					if first == nil {
						first = err
					}
					continue
				}
				note := ""
				if already {
					note = " (already)"
				}
				fmt.Fprintf(m.Stdout, "cosigned %s size %d by %s%s\n", c.ID, size, wv.Name(), note)
			}
			switch {
			case tried == 0:
				return withHint(errors.New("no collection's log has a checkpoint yet: nothing to cosign"), "import objects first")
			case len(failed) > 0:
				return witnessHint(fmt.Errorf("%d of %d logs not cosigned by %s", len(failed), tried, wv.Name()), first, n)
			}
			return nil
		},
	}
	m.dirFlag(cmd, &dir)
	f := cmd.Flags()
	f.StringVar(&witnessURL, "url", "", "the witness node's URL, https://HOST:PORT")
	f.StringVar(&coll, "collection", "", "only this collection's log, by id or title (default: every log with a checkpoint)")
	f.StringVar(&key, "key", "", "the witness's key: a verifier key, or the name of one in the node's witness list (default: the only one there)")
	f.StringVar(&pin, "tls-pin", "", "the witness's TLS pin (the tls-pin line of its 'parley keys show')")
	f.BoolVar(&insecure, "insecure", false, "do not check the witness's certificate (test servers only; its cosignature is still checked)")
	return cmd
}

// errNoCheckpoint marks a collection whose log has no checkpoint yet:
// skipped when every collection is asked for.
var errNoCheckpoint = errors.New("no checkpoint")

// witnessEndpoint turns https://HOST:PORT (or the endpoint's own URL) into
// the add-checkpoint URL.
func witnessEndpoint(raw string) (string, error) {
	hint := "give the witness node's address, e.g. --url https://cert-b.example:8443"
	if raw == "" {
		return "", withHint(errors.New("--url is required: the witness to ask"), "%s", hint)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", withHint(fmt.Errorf("--url %q: want https://HOST:PORT", raw), "%s", hint)
	}
	u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), logapi.WitnessPath) + logapi.WitnessPath
	return u.String(), nil
}

// witnessVerifier picks the cosignature verifier of the witness: key as a
// verifier key (it contains '+', which a name cannot), or the key of that
// name in the node's witness list; without key, the list's only one.
func witnessVerifier(n *node.Node, key string) (note.Verifier, error) {
	hint := "trust the witness's log-key with 'parley witness trust --dir " + n.Dir + " VKEY', or give it with --key VKEY"
	if strings.Contains(key, "+") {
		v, err := tlog.NewCosignatureVerifier(key)
		if err != nil {
			return nil, withHint(fmt.Errorf("--key: %s", dialogue.Message(err)), "copy the log-key line of the witness's 'parley keys show'")
		}
		return v, nil
	}
	var names []string
	var match []string
	for _, k := range n.Config.Witness {
		v, err := node.ParseVerifierKey(k)
		if err != nil {
			return nil, err
		}
		names = append(names, v.Name())
		if key == "" || v.Name() == key {
			match = append(match, k)
		}
	}
	switch {
	case key != "" && len(match) == 0:
		return nil, withHint(fmt.Errorf("--key %q: no key of that name in the witness list (%s)", key, listOrNone(names)), "%s", hint)
	case len(match) == 0:
		return nil, withHint(errors.New("the node trusts no witness: which key should the cosignatures verify under?"), "%s", hint)
	case len(match) > 1:
		return nil, withHint(fmt.Errorf("the node trusts several witnesses (%s)", strings.Join(names, ", ")), "name the one at --url with --key NAME")
	}
	return tlog.NewCosignatureVerifier(match[0])
}

func listOrNone(names []string) string {
	if len(names) == 0 {
		return "empty"
	}
	return strings.Join(names, ", ")
}

// witnessHint attaches to the summary error the hint for the first
// failure.
func witnessHint(summary, first error, n *node.Node) error {
	var we *logapi.WitnessError
	switch {
	case errors.As(first, &we) && we.Status == http.StatusNotFound:
		return withHint(summary, "the witness does not witness this node's log: on the witness, run 'parley witness trust --dir DIR %s' and restart its 'parley serve'", n.LogKey())
	case errors.As(first, &we) && we.Status == http.StatusForbidden:
		return withHint(summary, "the witness trusts another key under this node's name; give it this node's log-key: %s", n.LogKey())
	case errors.As(first, &we) && we.Status == http.StatusConflict:
		return withHint(summary, "the witness holds a checkpoint this node's log is not consistent with: compare 'parley log show' with the witness's administrator")
	case dialogue.KindOf(first) == dialogue.KindUnavailable:
		return withHint(summary, "check --url and that --tls-pin is the tls-pin line of the witness's 'parley keys show'")
	case hintFor(first) != "":
		return withHint(summary, "%s", hintFor(first))
	}
	return summary
}

// cosignRequest asks one witness to cosign this node's logs.
type cosignRequest struct {
	n        *node.Node
	l        dialogue.LogStore
	client   *http.Client
	endpoint string
	witness  note.Verifier
}

// request gets the latest checkpoint of c's log cosigned and stored, and
// returns its size, and already when the stored checkpoint carried the
// witness's cosignature (nothing was asked). A log without checkpoint is
// errNoCheckpoint, or, when the collection was named, an error saying so.
func (r *cosignRequest) request(ctx context.Context, c *dialogue.Collection, named bool) (size int64, already bool, err error) {
	origin, err := r.n.Origin(c.ID)
	if err != nil {
		return 0, false, err
	}
	cps, err := r.l.Checkpoints(ctx, c.ID)
	if err != nil {
		return 0, false, err
	}
	if len(cps) == 0 {
		if named {
			return 0, false, withHint(fmt.Errorf("the log of collection %s has no checkpoint yet (no entries)", c.ID), "import objects first")
		}
		return 0, false, errNoCheckpoint
	}
	latest := cps[len(cps)-1]
	// The last size this witness cosigned: the newest stored checkpoint
	// whose note carries its cosignature.
	var old int64
	for i := len(cps) - 1; i >= 0; i-- {
		s, err := tlog.Open(cps[i].Note, origin, r.n.LogVerifier(), r.witness)
		if err != nil {
			return 0, false, withHint(fmt.Errorf("stored checkpoint at size %d: %s", cps[i].Size, dialogue.Message(err)), "check the log with: parley verify --dir %s --channel %s", r.n.Dir, c.ID)
		}
		if slices.Contains(s.Cosigners, r.witness.Name()) {
			old = cps[i].Size
			break
		}
	}
	if old == latest.Size {
		return latest.Size, true, nil
	}
	sigs, err := r.add(ctx, c.ID, old, latest)
	var we *logapi.WitnessError
	if errors.As(err, &we) && we.Status == http.StatusConflict && we.Known >= 0 && we.Known != old {
		// The witness knows another size (its cosignature of it is not
		// stored here, or another request moved it): the spec's flow is
		// to try again from the size it knows, once.
		if we.Known > latest.Size {
			return 0, false, fmt.Errorf("the witness knows size %d, beyond this log's latest checkpoint (size %d)", we.Known, latest.Size)
		}
		sigs, err = r.add(ctx, c.ID, we.Known, latest)
	}
	if err != nil {
		return 0, false, err
	}
	// Add the cosignature to the note as stored now (another request may
	// have added one since it was read).
	cur, err := r.checkpointAt(ctx, c.ID, latest.Size)
	if err != nil {
		return 0, false, err
	}
	cosigned, err := tlog.AddCosignatures(cur.Note, sigs, r.witness)
	if err != nil {
		return 0, false, fmt.Errorf("the witness's answer: %s", dialogue.Message(err))
	}
	if err := r.l.SetCheckpointNote(ctx, c.ID, latest.Size, cosigned); err != nil {
		return 0, false, err
	}
	return latest.Size, false, nil
}

// add sends one add-checkpoint request from size old to cp.
func (r *cosignRequest) add(ctx context.Context, id string, old int64, cp *dialogue.Checkpoint) ([]byte, error) {
	proof, err := tlog.ProveConsistency(old, cp.Size, logapi.Hashes(ctx, r.l, id))
	if err != nil {
		return nil, err
	}
	return logapi.AddCheckpoint(ctx, r.client, r.endpoint, old, proof.Hashes, cp.Note)
}

func (r *cosignRequest) checkpointAt(ctx context.Context, id string, size int64) (*dialogue.Checkpoint, error) {
	cps, err := r.l.Checkpoints(ctx, id)
	if err != nil {
		return nil, err
	}
	for _, cp := range slices.Backward(cps) {
		if cp.Size == size {
			return cp, nil
		}
	}
	return nil, fmt.Errorf("the checkpoint at size %d is no longer stored", size)
}
