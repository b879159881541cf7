package telemetry

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
	"testing/iotest"
)

// readAll reads a log with one Reader: every event (its time and values)
// and the stats.
func readAll(t *testing.T, r *Reader) ([]string, Stats) {
	t.Helper()
	var evs []string
	for r.Next() {
		evs = append(evs, r.Event().Time.String()+" "+strings.Join(values(r.Event()), " "))
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	return evs, r.Stats()
}

// TestChunksSameAsReader cuts random logs — EVE and Zeek lines, blank,
// malformed and over-long lines, CRLF, no final newline, plain and gzip —
// into chunks of random sizes, reads each chunk with a Reader of its own
// (the format detected by the first chunks, then given to the others, as
// parley match does) and checks that together they give what one Reader
// gives: the same events in the same order, the same counts, the same
// malformed lines with the same numbers.
func TestChunksSameAsReader(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	pieces := []string{sampleAlert, sampleDNS, sampleFlow, sampleHTTP, sampleFile, sampleSMTP, "", "not json", `{"event_type":"x"}`, "  ", sampleTLS + "\r"}
	zeek := []string{sampleZeekConn, sampleZeekDNS, sampleZeekHTTP, "", "{", sampleZeekFiles}
	longer := strings.Repeat("x", 3*MaxLine) // cut by Chunks itself
	long := longer[:MaxLine+100]             // whole in a chunk, cut by its Reader
	for n := range 300 {
		src := pieces
		if n%3 == 0 {
			src = zeek
		}
		if n%25 == 0 {
			// Only good lines beside the long ones, so that the long
			// lines' errors are among the MaxErrors kept.
			src = []string{sampleAlert, sampleDNS, sampleFlow, sampleFile, ""}
			if n%3 == 0 {
				src = []string{sampleZeekConn, sampleZeekDNS, ""}
			}
		}
		var lines []string
		if n%5 == 1 {
			lines = append(lines, "junk before any format", "") // lines before the format is known
		}
		for range r.IntN(400) {
			lines = append(lines, src[r.IntN(len(src))])
		}
		if n%25 == 0 {
			lines = slices.Insert(lines, r.IntN(len(lines)+1), long)
			lines = slices.Insert(lines, r.IntN(len(lines)+1), longer)
			lines = append(lines, long[:MaxLine-1]) // just fits
		}
		log := strings.Join(lines, "\n")
		if r.IntN(2) == 0 {
			log += "\n"
		}
		data := []byte(log)
		if n%4 == 0 {
			var z bytes.Buffer
			w := gzip.NewWriter(&z)
			w.Write(data)
			w.Close()
			data = z.Bytes()
		}
		var format Format
		if n%7 == 0 {
			format = EVE
			if n%3 == 0 {
				format = Zeek
			}
		}
		size := 1 + r.IntN(4096)
		if n%10 == 0 {
			size = MaxLine + r.IntN(MaxLine)
		}
		if msg := compareChunked(t, data, format, size); msg != "" {
			t.Fatalf("log %d: %s", n, msg)
		}
	}
}

// compareChunked reads data whole and in chunks of size and says how the
// two differ ("" when they do not).
func compareChunked(t *testing.T, data []byte, format Format, size int) string {
	whole, err := NewReader(bytes.NewReader(data), format)
	if err != nil {
		if _, cerr := NewChunks(bytes.NewReader(data), size); cerr == nil {
			return fmt.Sprintf("NewReader: %v, NewChunks: no error", err)
		}
		return ""
	}
	wantEvs, want := readAll(t, whole)
	chunks, err := NewChunks(iotest.HalfReader(bytes.NewReader(data)), size)
	if err != nil {
		t.Fatalf("NewChunks: %v, NewReader: no error", err)
	}
	var gotEvs []string
	var got Stats
	f := format
	var buf []byte
	cr := NewChunkReader(Chunk{}, nil)
	for {
		c, ok := chunks.Next(buf)
		if !ok {
			break
		}
		cr.Reset(c, f)
		evs, st := readAll(t, cr)
		if f == nil {
			f = cr.Format()
		}
		gotEvs = append(gotEvs, evs...)
		got.Lines += st.Lines
		got.Events += st.Events
		got.Malformed += st.Malformed
		got.Errors = append(got.Errors, st.Errors...)
		buf = c.Data
	}
	if err := chunks.Err(); err != nil {
		t.Fatal(err)
	}
	sort.Slice(got.Errors, func(i, j int) bool { return got.Errors[i].Line < got.Errors[j].Line })
	got.Errors = got.Errors[:min(len(got.Errors), MaxErrors)]
	got.Bytes = chunks.BytesRead()
	if !slices.Equal(gotEvs, wantEvs) || got.Lines != want.Lines || got.Events != want.Events || got.Malformed != want.Malformed ||
		got.Bytes != want.Bytes || fmt.Sprint(got.Errors) != fmt.Sprint(want.Errors) {
		return fmt.Sprintf("chunks of %d bytes:\n%d events, %+v\nwhole:\n%d events, %+v", size, len(gotEvs), got, len(wantEvs), want)
	}
	return ""
}

// FuzzChunks: any input, cut in chunks of any size, reads as it does
// whole.
func FuzzChunks(f *testing.F) {
	f.Add([]byte(sampleAlert+"\n\nnot json\n"+sampleDNS), 7)
	f.Add([]byte(sampleZeekConn+"\r\n"+sampleZeekDNS), 1)
	f.Fuzz(func(t *testing.T, data []byte, size int) {
		if size < 1 || size > 1<<16 {
			return
		}
		if msg := compareChunked(t, data, nil, size); msg != "" {
			t.Fatal(msg)
		}
	})
}
