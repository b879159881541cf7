package node

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/blob"
)

func TestBlobs(t *testing.T) {
	n, _ := initNode(t, "cert-a.example")
	s, err := n.Blobs()
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(n.Dir, "blobs"); s.Dir != want {
		t.Errorf("blob folder %s, want %s", s.Dir, want)
	}
	if m := mode(t, s.Dir); m != 0o700 {
		t.Errorf("blob folder mode %04o, want 0700", m)
	}
	if s.MaxSize != DefaultMaxBlobBytes {
		t.Errorf("MaxSize = %d, want %d", s.MaxSize, DefaultMaxBlobBytes)
	}
	sum, _, err := s.Put(context.Background(), strings.NewReader("evidence"))
	if err != nil {
		t.Fatal(err)
	}
	// Opening it again finds what was put.
	s2, err := n.Blobs()
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := s2.Has(sum); !ok || err != nil {
		t.Errorf("Has(%s) = %v, %v after reopening", blob.Hex(sum), ok, err)
	}
}
