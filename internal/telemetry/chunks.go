package telemetry

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"io"

	"github.com/parleyhq/parley/internal/dialogue"
)

// Chunks cuts a log into chunks of whole lines, so that several cores can
// read one log: each chunk is read by a Reader of its own
// (NewChunkReader), and together they give what one Reader of the whole
// log gives — the same lines, events, malformed lines and their numbers
// (TestChunksSameAsReader). Input that starts with gzip's magic bytes is
// decompressed here, as NewReader does.
type Chunks struct {
	cr    *countReader
	in    io.Reader // the lines (decompressed)
	gz    *gzip.Reader
	size  int
	carry []byte // the start of a line the last chunk did not take
	lines int64  // lines in the chunks so far
	err   error
	eof   bool
}

// Chunk is some whole lines of a log and the number of the first.
type Chunk struct {
	Data      []byte
	FirstLine int64
}

// NewChunks returns the chunks of r, of about size bytes each (more when a
// line is longer).
func NewChunks(r io.Reader, size int) (*Chunks, error) {
	cr := &countReader{r: r}
	br := bufio.NewReaderSize(cr, 64<<10)
	c := &Chunks{cr: cr, in: br, size: max(size, 1)}
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, dialogue.Errorf("telemetry.NewChunks", dialogue.KindInvalid, "gzip header: %w", err)
		}
		gz.Multistream(true)
		c.gz, c.in = gz, gz
	}
	return c, nil
}

// BytesRead is how many bytes were read from the input so far.
func (c *Chunks) BytesRead() int64 { return c.cr.n }

// Err is the error that ended the chunks, nil at the end of the input.
func (c *Chunks) Err() error { return c.err }

// Close releases the gzip reader, if any; it does not close the input.
func (c *Chunks) Close() error {
	if c.gz != nil {
		return c.gz.Close()
	}
	return nil
}

// fill reads more into data, up to its capacity (grown when full).
func (c *Chunks) fill(data []byte) []byte {
	if len(data) == cap(data) {
		data = append(data, 0)[:len(data)]
	}
	n, err := c.in.Read(data[len(data):cap(data)])
	data = data[:len(data)+n]
	if err != nil {
		if errors.Is(err, io.EOF) {
			c.eof = true
		} else {
			c.err = dialogue.E("telemetry.Chunks", dialogue.KindInvalid, err)
		}
	}
	return data
}

// Next returns the next chunk, in buf's storage when it is large enough
// (give back the Data of chunks done with, so that reading a log does not
// allocate a chunk's worth each time); false at the end of the input or
// on a read error (see Err).
func (c *Chunks) Next(buf []byte) (Chunk, bool) {
	data := buf[:0]
	if want := max(c.size, len(c.carry)) + 4096; cap(data) < want {
		data = make([]byte, 0, want)
	}
	data = append(data, c.carry...)
	c.carry = nil
	for {
		last := bytes.LastIndexByte(data, '\n')
		switch {
		case last >= 0 && (len(data) >= c.size || c.eof || c.err != nil):
			c.carry = append([]byte(nil), data[last+1:]...)
			return c.chunk(data[:last+1]), true
		case c.eof || c.err != nil:
			if len(data) == 0 || c.err != nil {
				return Chunk{}, false
			}
			return c.chunk(data), true // the last line, without a newline
		case last < 0 && len(data) > MaxLine:
			return c.longLine(data), true
		}
		data = c.fill(data)
	}
}

// chunk numbers the lines of data.
func (c *Chunks) chunk(data []byte) Chunk {
	ch := Chunk{Data: data, FirstLine: c.lines + 1}
	c.lines += int64(bytes.Count(data, []byte{'\n'}))
	if len(data) > 0 && data[len(data)-1] != '\n' {
		c.lines++
	}
	return ch
}

// longLine makes the chunk of a line longer than MaxLine: its first
// MaxLine+1 bytes and a newline, which a Reader counts, as it counts the
// whole line, as one malformed line; the rest of the line is passed over.
func (c *Chunks) longLine(data []byte) Chunk {
	rest := data[MaxLine+1:]
	line := append(data[:MaxLine+1:MaxLine+1], '\n')
	for {
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			c.carry = append([]byte(nil), rest[i+1:]...)
			break
		}
		if c.eof || c.err != nil {
			break
		}
		rest = c.fill(rest[:0])
	}
	return c.chunk(line)
}
