package blob

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/parleyhq/parley/internal/dialogue"
)

// benchSize is the blob size of the benchmarks: 64 MiB.
const benchSize = 64 << 20

// BenchmarkSHA256 is the floor of Put and Fetch: hashing the bytes alone.
func BenchmarkSHA256(b *testing.B) {
	data := randomBytes(30, benchSize)
	b.SetBytes(benchSize)
	for b.Loop() {
		sha256.Sum256(data)
	}
}

// BenchmarkPut puts a new 64 MiB blob each time: hash, write, fsync,
// rename, fsync of the folder.
func BenchmarkPut(b *testing.B) {
	s := newStore(b)
	data := randomBytes(31, benchSize)
	ctx := context.Background()
	b.SetBytes(benchSize)
	var i uint64
	for b.Loop() {
		i++
		binary.BigEndian.PutUint64(data, i) // a new blob each time
		sum, _, err := s.Put(ctx, bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		os.Remove(s.Path(sum))
		b.StartTimer()
	}
}

// BenchmarkFetch fetches a 64 MiB blob from a server on 127.0.0.1, over
// plain HTTP and over TLS 1.3, into an empty store each time.
func BenchmarkFetch(b *testing.B) {
	data := randomBytes(32, benchSize)
	src := newStore(b)
	sum := putBytes(b, src, data)
	ref := dialogue.BlobRef{SHA256: sum, Size: benchSize}
	h := Handler(src, func(*http.Request, [32]byte) error { return nil })
	for _, tc := range []struct {
		name string
		tls  bool
	}{{"http", false}, {"tls", true}} {
		b.Run(tc.name, func(b *testing.B) {
			srv := httptest.NewUnstartedServer(h)
			if tc.tls {
				srv.StartTLS()
			} else {
				srv.Start()
			}
			defer srv.Close()
			c := srv.Client()
			url := srv.URL + "/" + Hex(sum)
			dst := newStore(b)
			ctx := context.Background()
			b.SetBytes(benchSize)
			for b.Loop() {
				if err := dst.Fetch(ctx, c, url, ref); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				os.Remove(dst.Path(sum))
				b.StartTimer()
			}
		})
	}
}
