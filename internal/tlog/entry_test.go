package tlog

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
)

func TestObjectEntry(t *testing.T) {
	small := []byte(`{"type":"identity"}`)
	if e := ObjectEntry(small); !bytes.Equal(e, small) {
		t.Fatalf("small object entry = %q, want the bytes themselves", e)
	}
	k, sum, size, err := ParseEntry(small)
	if err != nil || k != EntryObject || sum != sha256.Sum256(small) || size != int64(len(small)) {
		t.Fatalf("ParseEntry(small) = %v %x %d %v", k, sum, size, err)
	}
	big := append([]byte(`{"x":"`), bytes.Repeat([]byte("a"), MaxEntrySize)...)
	big = append(big, `"}`...)
	e := ObjectEntry(big)
	if len(e) > 100 || !strings.HasPrefix(string(e), "parley/object sha256:") {
		t.Fatalf("big object entry = %q", e)
	}
	k, sum, size, err = ParseEntry(e)
	if err != nil || k != EntryObjectRef || sum != sha256.Sum256(big) || size != int64(len(big)) {
		t.Fatalf("ParseEntry(big ref) = %v %x %d %v", k, sum, size, err)
	}
	bsum := sha256.Sum256([]byte("evidence"))
	k, sum, size, err = ParseEntry(BlobEntry(bsum, 8))
	if err != nil || k != EntryBlob || sum != bsum || size != 8 {
		t.Fatalf("ParseEntry(blob) = %v %x %d %v", k, sum, size, err)
	}
}

func TestParseEntryBad(t *testing.T) {
	h := strings.Repeat("ab", 32)
	for _, tc := range []struct{ in, want string }{
		{"", "neither"},
		{"hello", "neither"},
		{"parley/blob sha256:" + h + " 8", "want sha256"},
		{"parley/blob sha256:" + h + "  8\n", "size"},
		{"parley/blob sha256:" + strings.ToUpper(h) + " 8\n", "lower-case hex"},
		{"parley/blob sha256:" + h[:62] + "zz 8\n", "lower-case hex"},
		{"parley/blob sha256:" + h + " 08\n", "size"},
		{"parley/blob sha256:" + h + " -1\n", "size"},
		{"parley/object sha256:" + h + " 100\n", "fits an entry"},
	} {
		_, _, _, err := ParseEntry([]byte(tc.in))
		if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseEntry(%q) = %v, want malformed saying %q", tc.in, err, tc.want)
		}
	}
}

func FuzzParseEntry(f *testing.F) {
	f.Add([]byte(`{"a":1}`))
	f.Add(BlobEntry(sha256.Sum256(nil), 0))
	f.Add([]byte("parley/object sha256:" + strings.Repeat("0", 64) + " 70000\n"))
	f.Fuzz(func(t *testing.T, e []byte) {
		k, sum, size, err := ParseEntry(e)
		if err != nil {
			return
		}
		switch k {
		case EntryObject:
			if sum != sha256.Sum256(e) || size != int64(len(e)) {
				t.Fatal("object entry's hash or size wrong")
			}
		case EntryBlob:
			if !bytes.Equal(BlobEntry(sum, size), e) {
				t.Fatalf("blob entry %q is not canonical", e)
			}
		case EntryObjectRef:
			if !bytes.Equal(refLine(objectRefPrefix, sum, size), e) {
				t.Fatalf("object ref entry %q is not canonical", e)
			}
		}
	})
}
