package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/ingest"
	"github.com/parleyhq/parley/internal/match"
	"github.com/parleyhq/parley/internal/node"
	"github.com/parleyhq/parley/internal/server"
	"github.com/parleyhq/parley/internal/telemetry"
)

func init() {
	moreCommands = append(moreCommands, (*Main).newMatchCommand, (*Main).newExportSensorsCommand)
}

// sourceFlags are the flags that choose whose indicators to use.
type sourceFlags struct {
	dir, channel, collection string
}

func (m *Main) sourceFlagsOn(cmd *cobra.Command, f *sourceFlags) {
	m.dirFlag(cmd, &f.dir)
	cmd.Flags().StringVar(&f.channel, "channel", "", "use the indicators of this channel (id or title)")
	cmd.Flags().StringVar(&f.collection, "collection", "", "use the indicators of this collection (id or title)")
}

// indicatorSource is one collection's indicators.
type indicatorSource struct {
	collection *dialogue.Collection
	indicators []match.Indicator
	from       []int // index of each indicator in the combined list
}

// loadIndicators reads the STIX indicators (pattern_type stix, not
// revoked, last versions) of the channel, the collection, or every
// collection when neither is named.
func loadIndicators(ctx context.Context, n *node.Node, f sourceFlags) ([]match.Indicator, []*indicatorSource, error) {
	var cols []*dialogue.Collection
	switch {
	case f.channel != "" && f.collection != "":
		return nil, nil, withHint(errors.New("--channel and --collection name two sources; give one"), "a channel is a collection shared with a peer")
	case f.channel != "":
		ch, err := n.Store.Channel(ctx, f.channel)
		if dialogue.KindOf(err) == dialogue.KindNotFound {
			return nil, nil, withHint(err, "list the channels with: parley channel list --dir %s", n.Dir)
		}
		if err != nil {
			return nil, nil, err
		}
		c, err := n.Store.FindCollection(ctx, ch.ID)
		if err != nil {
			return nil, nil, withHint(fmt.Errorf("channel %q has no collection on this node (is it accepted?): %w", ch.Title, err), "accept it with: parley channel accept --dir %s %s", n.Dir, ch.ID)
		}
		cols = []*dialogue.Collection{c}
	case f.collection != "":
		c, err := findCollection(ctx, n, f.collection)
		if err != nil {
			return nil, nil, err
		}
		cols = []*dialogue.Collection{c}
	default:
		var err error
		if cols, err = n.Store.Collections(ctx); err != nil {
			return nil, nil, err
		}
	}
	var all []match.Indicator
	var srcs []*indicatorSource
	for _, c := range cols {
		src := &indicatorSource{collection: c}
		// The pages are read from the store in order while other cores
		// decode the ones read (decoding each object's JSON costs as much
		// as reading it).
		var pages []*decodedPage
		sem := make(chan struct{}, runtime.GOMAXPROCS(0))
		flt := dialogue.ObjectFilter{Types: []string{"indicator"}, Limit: exportPage}
		for {
			page, err := n.Store.FindObjects(ctx, c.ID, flt)
			if err != nil {
				return nil, nil, err
			}
			d := &decodedPage{done: make(chan struct{})}
			pages = append(pages, d)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem }()
				d.decode(page.Objects)
			}()
			if !page.More {
				break
			}
			flt.After = page.Next
		}
		for _, d := range pages {
			<-d.done
			for _, ind := range d.inds {
				src.indicators = append(src.indicators, ind)
				src.from = append(src.from, len(all))
				all = append(all, ind)
			}
		}
		srcs = append(srcs, src)
	}
	return all, srcs, nil
}

// decodedPage is the indicators of one page of objects.
type decodedPage struct {
	inds []match.Indicator
	done chan struct{}
}

// decode keeps the STIX-pattern indicators (not revoked) of objs.
func (d *decodedPage) decode(objs []*dialogue.Object) {
	defer close(d.done)
	for _, o := range objs {
		var ind struct {
			ID          string `json:"id"`
			Pattern     string `json:"pattern"`
			PatternType string `json:"pattern_type"`
			Revoked     bool   `json:"revoked"`
		}
		if json.Unmarshal(o.Raw, &ind) != nil || ind.PatternType != "stix" || ind.Revoked || ind.Pattern == "" {
			continue
		}
		d.inds = append(d.inds, match.Indicator{ID: ind.ID, Pattern: ind.Pattern})
	}
}

// formatFlags choose how logs are read.
type formatFlags struct {
	format    string
	timeField string
	maps      []string
}

func (f *formatFlags) resolve() (telemetry.Format, error) {
	switch f.format {
	case "", "auto":
		return nil, nil
	case "eve", "suricata":
		return telemetry.EVE, nil
	case "zeek":
		return telemetry.Zeek, nil
	case "json":
		mp := telemetry.Mapping{Time: f.timeField, Fields: map[string]telemetry.Kind{}}
		for _, s := range f.maps {
			k, field, ok := strings.Cut(s, "=")
			kind, known := telemetry.ParseKind(k)
			if !ok || !known || field == "" {
				return nil, withHint(fmt.Errorf("--map %q: not KIND=FIELD with a known kind", s), "kinds: ip, ipv4, ipv6, domain, url, email, md5, sha1, sha256, sha512; FIELD is a member name, dots reach into objects")
			}
			mp.Fields[field] = kind
		}
		g, err := telemetry.NewGeneric(mp)
		if err != nil {
			return nil, withHint(err, "--format json needs --time-field FIELD and at least one --map KIND=FIELD")
		}
		return g, nil
	}
	return nil, withHint(fmt.Errorf("--format %q is not a log format", f.format), "use auto, eve, zeek or json")
}

// fileReport is what one log gave.
type fileReport struct {
	Name      string   `json:"name"`
	Format    string   `json:"format,omitempty"`
	Lines     int64    `json:"lines"`
	Events    int64    `json:"events"`
	Malformed int64    `json:"malformed"`
	Errors    []string `json:"errors,omitempty"`
}

type indicatorReport struct {
	ID        string    `json:"id"`
	Count     int64     `json:"count"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

type skipReport struct {
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

type matchReport struct {
	Events        int64             `json:"events"`
	MatchedEvents int64             `json:"matched_events"`
	Malformed     int64             `json:"malformed"`
	Indicators    []indicatorReport `json:"indicators"`
	Loaded        int               `json:"indicators_loaded"`
	FastPath      int               `json:"fast_path"`
	Evaluator     int               `json:"evaluator"`
	Skipped       []skipReport      `json:"skipped,omitempty"`
	EvalErrors    int64             `json:"evaluation_errors,omitempty"`
	Files         []fileReport      `json:"files"`
	Sightings     int               `json:"sightings_filed,omitempty"`
}

func (m *Main) newMatchCommand() *cobra.Command {
	var src sourceFlags
	var ff formatFlags
	var asJSON, emit bool
	var workers int
	cmd := &cobra.Command{
		Use:   "match --dir DIR [--channel C | --collection ID|TITLE] [--json] [--emit-sightings] [--workers N] LOGFILE...",
		Short: "Run the node's indicators over telemetry logs and count the matches",
		Long: `match runs the STIX indicators of a channel or a collection (of every
collection when none is named) over logs and prints, for each indicator that
matched, how many events matched it and when it was first and last seen.

Logs are Suricata EVE JSON, Zeek JSON logs (conn, dns, http, ssl, files) or
other JSON lines (--format json with --time-field and --map KIND=FIELD), plain
or gzip; '-' is standard input. The format is detected from the first line
unless --format says. Malformed lines are counted and reported, never fatal.

Each event is judged on its own: indicators whose pattern needs several
observations (AND or FOLLOWEDBY between brackets, REPEATS) are listed as
skipped. --emit-sightings files, in the indicator's collection, one STIX
sighting per matched indicator (count, first and last seen, this node's
identity as where_sighted; no log lines), so on a channel the peer learns
that its indicators were seen.

With several workers (--workers, the number of cores by default) each log
is cut into chunks of whole lines read on all cores at once.`,
		Example: `  parley match --dir /var/lib/parley --channel "A-B incidents" /var/log/suricata/eve.json
  zcat dns.log.gz | parley match --json -
  parley match --format json --time-field @timestamp --map ip=source.ip --map domain=dns.question.name app.log`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return withHint(errors.New("no log files given"), "name one or more files, or '-' for standard input")
			}
			if i := slices.Index(args, "-"); i >= 0 && slices.Contains(args[i+1:], "-") {
				return errors.New("'-' (standard input) named more than once")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			format, err := ff.resolve()
			if err != nil {
				return err
			}
			n, err := m.openNode(ctx, src.dir)
			if err != nil {
				return err
			}
			defer n.Close()
			inds, srcs, err := loadIndicators(ctx, n, src)
			if err != nil {
				return err
			}
			if emit && len(srcs) == 0 {
				return errors.New("--emit-sightings: no collection to file sightings in")
			}
			set := match.Compile(inds, match.Options{})
			rep := &matchReport{Loaded: len(inds), FastPath: set.Fast(), Evaluator: set.Slow(), Indicators: []indicatorReport{}}
			for _, p := range set.Problems() {
				rep.Skipped = append(rep.Skipped, skipReport{p.ID, p.Err.Error()})
			}
			prog := newProgress(m.Stderr, isTerminal(m.Stderr), len(args))
			mt, files, err := m.matchFiles(args, format, set, workers, prog)
			prog.done()
			if err != nil {
				return err
			}
			for _, fr := range files {
				rep.Files = append(rep.Files, *fr)
				rep.Malformed += fr.Malformed
			}
			st := mt.Stats()
			rep.Events, rep.MatchedEvents, rep.EvalErrors = st.Events, st.MatchedEvents, st.EvalErrors
			results := mt.Results()
			for _, r := range results {
				rep.Indicators = append(rep.Indicators, indicatorReport{r.ID, r.Count, r.First, r.Last})
			}
			if emit && len(results) > 0 {
				if rep.Sightings, err = fileSightings(ctx, n, srcs, results); err != nil {
					return err
				}
			}
			if asJSON {
				enc := json.NewEncoder(m.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(rep)
			}
			printMatchReport(m.Stdout, m.Stderr, rep, st.FirstEvalError)
			return nil
		},
	}
	m.sourceFlagsOn(cmd, &src)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON document")
	cmd.Flags().BoolVar(&emit, "emit-sightings", false, "file a STIX sighting for each matched indicator, in its collection")
	cmd.Flags().IntVar(&workers, "workers", runtime.GOMAXPROCS(0), "cores to read with (each log cut into chunks of lines)")
	cmd.Flags().StringVar(&ff.format, "format", "auto", "log format: auto, eve, zeek or json")
	cmd.Flags().StringVar(&ff.timeField, "time-field", "", "--format json: the field with the event's time")
	cmd.Flags().StringArrayVar(&ff.maps, "map", nil, "--format json: KIND=FIELD, a field holding values of a kind (repeatable)")
	return cmd
}

// matchChunk is the size of the pieces a log is cut into for the workers.
var matchChunk = 4 << 20

// matchFiles reads the logs, one after another, through the set, and
// returns the matcher with the counts and the files' reports in the
// order given. Each log is cut into chunks of whole lines
// (telemetry.Chunks) read by the workers at once, each with its own
// Reader and Matcher, merged at the end: the same counts and reports
// whatever the number of workers (TestMatchWorkers), and as one Reader of
// the whole log (TestChunksSameAsReader).
func (m *Main) matchFiles(names []string, format telemetry.Format, set *match.Set, workers int, prog *progress) (*match.Matcher, []*fileReport, error) {
	files := make([]*fileReport, len(names))
	workers = max(1, workers)
	p := &chunkPool{jobs: make(chan chunkJob), free: make(chan []byte, 2*workers+2)}
	matchers := make([]*match.Matcher, workers+1) // the last is the dispatcher's
	var wg sync.WaitGroup
	for w := range workers {
		mt := set.NewMatcher()
		matchers[w] = mt
		wg.Go(func() {
			rd := telemetry.NewChunkReader(telemetry.Chunk{}, nil)
			for j := range p.jobs {
				p.read(rd, mt, j)
			}
		})
	}
	matchers[workers] = set.NewMatcher()
	var err error
	for i, name := range names {
		if files[i], err = m.matchFileChunks(name, format, p, matchers[workers], prog.worker(i)); err != nil {
			break
		}
	}
	close(p.jobs)
	wg.Wait()
	if err != nil {
		return nil, nil, err
	}
	for _, mt := range matchers[1:] {
		matchers[0].Merge(mt)
	}
	return matchers[0], files, nil
}

// chunkPool is the workers' queue of chunks and the buffers they give back.
type chunkPool struct {
	jobs chan chunkJob
	free chan []byte
}

type chunkJob struct {
	c      telemetry.Chunk
	format telemetry.Format
	res    *chunkResult
	file   *fileCounts
	done   *sync.WaitGroup
}

// chunkResult is what the reader of one chunk counted.
type chunkResult struct {
	stats  telemetry.Stats
	format telemetry.Format
}

// fileCounts are one file's running counts, for the progress line.
type fileCounts struct {
	events, matched atomic.Int64
}

// read reads one chunk through the matcher and gives its buffer back.
func (p *chunkPool) read(rd *telemetry.Reader, mt *match.Matcher, j chunkJob) {
	rd.Reset(j.c, j.format)
	matched0 := mt.Stats().MatchedEvents
	var events int64
	for rd.Next() {
		mt.Feed(rd.Event())
		events++
	}
	mt.Flush()
	j.res.stats, j.res.format = rd.Stats(), rd.Format()
	j.file.events.Add(events)
	j.file.matched.Add(mt.Stats().MatchedEvents - matched0)
	select {
	case p.free <- j.c.Data:
	default:
	}
	if j.done != nil {
		j.done.Done()
	}
}

// matchFileChunks reads one log (name, or "-" for standard input): it
// cuts the log into chunks and hands them out to the workers; until the format is known (detected from
// the first lines that name one), it reads the chunks itself, in order,
// with mt.
func (m *Main) matchFileChunks(name string, format telemetry.Format, p *chunkPool, mt *match.Matcher, prog *fileProgress) (*fileReport, error) {
	in, size, closeIn, err := m.openTelemetry(name)
	if err != nil {
		return nil, err
	}
	defer closeIn()
	chunks, err := telemetry.NewChunks(in, matchChunk)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	defer chunks.Close()
	prog.start(name, size)
	var (
		counts  fileCounts
		results []*chunkResult
		wg      sync.WaitGroup
		detect  = telemetry.NewChunkReader(telemetry.Chunk{}, nil)
	)
	f := format
	for {
		var buf []byte
		select {
		case buf = <-p.free:
		default:
		}
		c, ok := chunks.Next(buf)
		if !ok {
			break
		}
		res := &chunkResult{}
		results = append(results, res)
		if f == nil {
			p.read(detect, mt, chunkJob{c: c, res: res, file: &counts})
			f = res.format
		} else {
			wg.Add(1)
			p.jobs <- chunkJob{c: c, format: f, res: res, file: &counts, done: &wg}
		}
		prog.update(chunks.BytesRead(), counts.events.Load(), counts.matched.Load())
	}
	wg.Wait()
	prog.update(chunks.BytesRead(), counts.events.Load(), counts.matched.Load())
	if err := chunks.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	fr := &fileReport{Name: name}
	var errs []telemetry.LineError
	for _, r := range results {
		fr.Lines += r.stats.Lines
		fr.Events += r.stats.Events
		fr.Malformed += r.stats.Malformed
		errs = append(errs, r.stats.Errors...)
	}
	if f != nil {
		fr.Format = f.Name()
	}
	slices.SortFunc(errs, func(a, b telemetry.LineError) int { return cmp.Compare(a.Line, b.Line) })
	for _, e := range errs[:min(len(errs), telemetry.MaxErrors)] {
		fr.Errors = append(fr.Errors, e.Error())
	}
	return fr, nil
}

// openTelemetry opens a log (name, or "-" for standard input): the reader, its
// size when known, and how to close it.
func (m *Main) openTelemetry(name string) (io.Reader, int64, func(), error) {
	if name == "-" {
		return m.Stdin, 0, func() {}, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, 0, nil, dialogue.E("parley match", dialogue.KindNotFound, err)
	}
	var size int64
	if fi, err := f.Stat(); err == nil {
		size = fi.Size()
	}
	return f, size, func() { f.Close() }, nil
}

func printMatchReport(out, errOut io.Writer, rep *matchReport, evalErr error) {
	for _, f := range rep.Files {
		if f.Malformed > 0 {
			fmt.Fprintf(errOut, "parley: warning: %s: %d malformed lines skipped, the first:\n", f.Name, f.Malformed)
			for _, e := range f.Errors {
				fmt.Fprintf(errOut, "  %s\n", e)
			}
		}
	}
	if len(rep.Skipped) > 0 {
		fmt.Fprintf(errOut, "parley: warning: %d indicators not run:\n", len(rep.Skipped))
		for i, s := range rep.Skipped {
			if i == 10 {
				fmt.Fprintf(errOut, "  … and %d more (--json lists them all)\n", len(rep.Skipped)-10)
				break
			}
			fmt.Fprintf(errOut, "  %s: %s\n", s.ID, s.Reason)
		}
	}
	if evalErr != nil {
		fmt.Fprintf(errOut, "parley: warning: %d evaluations failed, the first: %v\n", rep.EvalErrors, evalErr)
	}
	if len(rep.Indicators) > 0 {
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "INDICATOR\tCOUNT\tFIRST SEEN\tLAST SEEN")
		for _, r := range rep.Indicators {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", r.ID, r.Count, r.FirstSeen.Format(time.RFC3339Nano), r.LastSeen.Format(time.RFC3339Nano))
		}
		tw.Flush()
	}
	fmt.Fprintf(out, "%d events, %d matched %d of %d indicators; %d malformed lines\n",
		rep.Events, rep.MatchedEvents, len(rep.Indicators), rep.Loaded, rep.Malformed)
	if rep.Sightings > 0 {
		fmt.Fprintf(out, "Filed %d sightings.\n", rep.Sightings)
	}
}

// fileSightings files one sighting per matched indicator in the
// collection the indicator came from, with this node's identity (added
// to the collection when it lacks it) as creator and where sighted.
func fileSightings(ctx context.Context, n *node.Node, srcs []*indicatorSource, results []match.Result) (int, error) {
	byIndex := map[int]match.Result{}
	for _, r := range results {
		byIndex[r.Index] = r
	}
	self := dialogue.IdentityID(n.LogKey())
	now := time.Now().UTC().Truncate(time.Millisecond)
	ts := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
	filed := 0
	type batch struct {
		collection string
		raws       []json.RawMessage
	}
	var batches []batch
	for _, src := range srcs {
		var raws []json.RawMessage
		for _, idx := range src.from {
			r, ok := byIndex[idx]
			if !ok {
				continue
			}
			first, last := r.First.Truncate(time.Millisecond), r.Last.Truncate(time.Millisecond)
			if r.Last.After(last) {
				last = last.Add(time.Millisecond) // keep last_seen at or after the real time
			}
			raw, err := sightingObject(self, r.ID, now, first, last, r.Count)
			if err != nil {
				return filed, err
			}
			raws = append(raws, raw)
		}
		if len(raws) == 0 {
			continue
		}
		// On a channel the write store sends this party's identity
		// first; another collection gets it here when it lacks it.
		_, err := n.Store.Channel(ctx, src.collection.ID)
		if dialogue.KindOf(err) != dialogue.KindNotFound && err != nil {
			return filed, err
		}
		if err != nil {
			page, err := n.Store.FindObjects(ctx, src.collection.ID, dialogue.ObjectFilter{IDs: []string{self}, Limit: 1})
			if err != nil {
				return filed, err
			}
			if len(page.Objects) == 0 {
				id, _ := json.Marshal(map[string]any{
					"type": "identity", "spec_version": "2.1", "id": self, "created": ts(now), "modified": ts(now),
					"name": n.Config.Name, "identity_class": "organization",
				})
				raws = append([]json.RawMessage{id}, raws...)
			}
		}
		batches = append(batches, batch{src.collection.ID, raws})
	}
	// Every batch is built before any is written; each is written whole
	// or not at all (one transaction per collection).
	for _, b := range batches {
		rep, err := ingest.Objects(ctx, server.WriteStore(n), b.collection, b.raws, ingest.AllOrNothing)
		if err != nil {
			return filed, err
		}
		if rep.Refused {
			var why []string
			for _, r := range rep.Results {
				if r.Err != nil {
					why = append(why, fmt.Sprintf("%s: %v", r.ID, r.Err))
				}
			}
			return filed, dialogue.Errorf("parley match", dialogue.KindInvalid, "the sightings were refused: %s", strings.Join(why, "; "))
		}
		for _, r := range rep.Results {
			if r.Status == dialogue.Added && strings.HasPrefix(r.ID, "sighting--") {
				filed++
			}
		}
	}
	return filed, nil
}

// progress draws a one-line progress report on a terminal: files, bytes
// read, events per second, matches, summed over the files being read. It
// draws nothing when off. Workers report through their fileProgress.
type progress struct {
	w     io.Writer
	on    bool
	files int
	t0    time.Time

	mu    sync.Mutex
	last  time.Time
	per   map[int]*fileProgress
	drawn bool
}

// fileProgress is one file's counts.
type fileProgress struct {
	p               *progress
	name            string
	size, read      int64
	events, matches int64
	started         bool
}

func newProgress(w io.Writer, on bool, files int) *progress {
	return &progress{w: w, on: on, files: files, t0: time.Now(), per: map[int]*fileProgress{}}
}

// worker returns the progress of file i.
func (p *progress) worker(i int) *fileProgress {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := &fileProgress{p: p}
	p.per[i] = f
	return f
}

func (f *fileProgress) start(name string, size int64) {
	f.p.mu.Lock()
	f.name, f.size, f.started = name, size, true
	f.p.mu.Unlock()
}

// update records the file's counts so far and redraws at most five times
// a second.
func (f *fileProgress) update(read, events, matches int64) {
	p := f.p
	p.mu.Lock()
	defer p.mu.Unlock()
	f.read, f.events, f.matches = read, events, matches
	if !p.on || time.Since(p.last) < 200*time.Millisecond {
		return
	}
	p.last = time.Now()
	var read0, size, ev, mat int64
	sized := len(p.per) == p.files
	name := ""
	for _, x := range p.per {
		read0, ev, mat, size = read0+x.read, ev+x.events, mat+x.matches, size+x.size
		sized = sized && x.started && x.size > 0
		name = x.name
	}
	what := fmt.Sprintf("%d files", p.files)
	if p.files == 1 {
		what = name
	}
	pct := ""
	if sized {
		pct = fmt.Sprintf(" %3.0f%%", 100*float64(read0)/float64(size))
	}
	secs := time.Since(p.t0).Seconds()
	fmt.Fprintf(p.w, "\r%s%s  %.1f MB  %d events (%.0f/s)  %d matched\033[K", what, pct, float64(read0)/1e6, ev, float64(ev)/secs, mat)
	p.drawn = true
}

func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

// sightingObject is the STIX sighting parley match files: indicator of
// seen count times between first and last in this party's (self's)
// telemetry, made at now.
func sightingObject(self, of string, now, first, last time.Time, count int64) (json.RawMessage, error) {
	ts := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
	return json.Marshal(map[string]any{
		"type": "sighting", "spec_version": "2.1", "id": "sighting--" + uuid.NewString(),
		"created": ts(now), "modified": ts(now), "created_by_ref": self,
		"count": min(count, 999999999), "first_seen": ts(first), "last_seen": ts(last),
		"sighting_of_ref": of, "where_sighted_refs": []string{self},
		"description": "Seen in local telemetry by parley match.",
	})
}
