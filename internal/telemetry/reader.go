package telemetry

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"

	"github.com/parleyhq/parley/internal/dialogue"
)

// MaxLine is the longest line a reader takes; a longer line is counted
// as malformed and skipped.
const MaxLine = 1 << 20

// MaxErrors is how many malformed lines a reader keeps the reason of.
const MaxErrors = 10

// Stats counts what a reader has read.
type Stats struct {
	Bytes     int64 // bytes read from the input (compressed, for gzip)
	Lines     int64 // lines, blank lines included
	Events    int64 // lines read into events
	Malformed int64 // lines that could not be read
	// Errors are the first MaxErrors malformed lines: the line number and
	// the reason.
	Errors []LineError
}

// LineError says why one line could not be read.
type LineError struct {
	Line int64
	Err  error
}

func (e LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

// Reader reads events from a log, one line at a time.
type Reader struct {
	br     *bufio.Reader
	cr     *countReader
	gz     *gzip.Reader
	format Format
	s      scanner
	ev     Event
	stats  Stats
	err    error
	long   bool  // skipping the rest of a line longer than MaxLine
	base   int64 // the number of the line before the first (a chunk's)
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// NewReader returns a reader of r in format f (nil: detected from the
// first line that names one). Input that starts with gzip's magic bytes
// is decompressed.
func NewReader(r io.Reader, f Format) (*Reader, error) {
	const op = "telemetry.NewReader"
	cr := &countReader{r: r}
	br := bufio.NewReaderSize(cr, MaxLine)
	rd := &Reader{cr: cr, br: br, format: f}
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, dialogue.Errorf(op, dialogue.KindInvalid, "gzip header: %w", err)
		}
		gz.Multistream(true)
		rd.gz = gz
		rd.br = bufio.NewReaderSize(gz, MaxLine)
	}
	return rd, nil
}

// NewChunkReader returns a reader of one chunk of a log (see Chunks) in
// format f (nil: detected, as NewReader does). Its malformed lines are
// numbered as in the whole log; the chunk is not decompressed.
func NewChunkReader(c Chunk, f Format) *Reader {
	r := &Reader{br: bufio.NewReaderSize(nil, MaxLine)}
	r.Reset(c, f)
	return r
}

// Reset makes r a reader of another chunk, as NewChunkReader does, with
// its buffers.
func (r *Reader) Reset(c Chunk, f Format) {
	r.cr = &countReader{r: bytes.NewReader(c.Data)}
	r.br.Reset(r.cr)
	r.format, r.base = f, c.FirstLine-1
	r.stats, r.err, r.long, r.gz = Stats{}, nil, false, nil
}

// Format is the reader's format: the one given, or the one detected (nil
// until a line names it).
func (r *Reader) Format() Format { return r.format }

// Next reads the next event; false at the end of the input or on a read
// error (see Err). Malformed lines are counted in Stats and skipped.
func (r *Reader) Next() bool {
	for r.err == nil {
		line, err := r.br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			if !r.long {
				r.long = true
				r.stats.Lines++
				r.malformed(fmt.Errorf("longer than %d bytes", MaxLine))
			}
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) {
			r.err = dialogue.E("telemetry.Reader", dialogue.KindInvalid, err)
			return false
		}
		if len(line) == 0 && err != nil {
			r.err = io.EOF
			return false
		}
		if r.long {
			// The end of a long line.
			r.long = false
			if err != nil {
				r.err = io.EOF
			}
			continue
		}
		if len(line) > MaxLine {
			r.stats.Lines++
			r.malformed(fmt.Errorf("longer than %d bytes", MaxLine))
			continue
		}
		r.stats.Lines++
		if err != nil {
			r.err = io.EOF // the last line, without a newline; read it below
		}
		if ok := r.parse(line); ok {
			return true
		}
	}
	return false
}

func (r *Reader) parse(line []byte) bool {
	for len(line) > 0 && (line[len(line)-1] == '\n' || line[len(line)-1] == '\r') {
		line = line[:len(line)-1]
	}
	if len(bytes.TrimSpace(line)) == 0 {
		return false
	}
	if r.format == nil {
		if r.format = Detect(line); r.format == nil {
			r.malformed(errors.New("neither Suricata EVE (event_type) nor Zeek (ts, uid, id.orig_h): give the format"))
			return false
		}
	}
	r.ev.reset()
	r.s.reset(line)
	err := r.format.parse(&r.s, &r.ev)
	if err == nil {
		err = r.s.end()
	}
	if err != nil {
		r.malformed(err)
		return false
	}
	r.stats.Events++
	return true
}

func (r *Reader) malformed(err error) {
	r.stats.Malformed++
	if len(r.stats.Errors) < MaxErrors {
		r.stats.Errors = append(r.stats.Errors, LineError{r.base + r.stats.Lines, err})
	}
}

// Event is the event Next read; it and its values are valid until the
// next call of Next.
func (r *Reader) Event() *Event { return &r.ev }

// Err is the error that stopped the reader, nil at the end of the input.
func (r *Reader) Err() error {
	if errors.Is(r.err, io.EOF) {
		return nil
	}
	return r.err
}

// Stats are the reader's counts so far.
func (r *Reader) Stats() Stats {
	s := r.stats
	s.Bytes = r.cr.n
	return s
}

// BytesRead is how many bytes were read from the input so far (cheap;
// for progress reports).
func (r *Reader) BytesRead() int64 { return r.cr.n }

// Close releases the gzip reader, if any; it does not close the input.
func (r *Reader) Close() error {
	if r.gz != nil {
		return r.gz.Close()
	}
	return nil
}

// ParseLine reads one line in format f into ev, for tests and callers
// that split lines themselves. ev's values are valid until the next call
// with the same ev.
func ParseLine(f Format, line []byte, ev *Event) error {
	var s scanner
	ev.reset()
	s.reset(line)
	if err := f.parse(&s, ev); err != nil {
		return err
	}
	return s.end()
}
