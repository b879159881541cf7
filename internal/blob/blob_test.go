package blob

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
)

func newStore(t testing.TB) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// randomBytes returns n bytes from a seeded generator.
func randomBytes(seed uint64, n int) []byte {
	b := make([]byte, n)
	var s [32]byte
	s[0] = byte(seed)
	s[1] = byte(seed >> 8)
	rand.NewChaCha8(s).Read(b)
	return b
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

// tmpFiles lists what is left in the store's tmp/ folder.
func tmpFiles(t *testing.T, s *Store) []string {
	t.Helper()
	es, err := os.ReadDir(filepath.Join(s.Dir, TmpDir))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestOpenMakesFolders(t *testing.T) {
	s := newStore(t)
	for _, d := range []string{s.Dir, filepath.Join(s.Dir, HashDir), filepath.Join(s.Dir, TmpDir)} {
		if m := mode(t, d); m != 0o700 {
			t.Errorf("%s has mode %04o, want 0700", d, m)
		}
	}
	// Opening again keeps what is there.
	data := []byte("evidence")
	sum, _, err := s.Put(context.Background(), bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	s2, err := Open(s.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := s2.Has(sum); err != nil || !ok {
		t.Errorf("after reopening, Has = %v, %v; want true", ok, err)
	}
}

func TestOpenRemovesStalePuts(t *testing.T) {
	s := newStore(t)
	tmp := filepath.Join(s.Dir, TmpDir)
	old := time.Now().Add(-StaleAfter - time.Hour)
	for _, name := range []string{"put-old", "put-new", "abc.part"} {
		if err := os.WriteFile(filepath.Join(tmp, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		if name != "put-new" {
			os.Chtimes(filepath.Join(tmp, name), old, old)
		}
	}
	if _, err := Open(s.Dir); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(tmpFiles(t, s), " "); got != "abc.part put-new" {
		t.Errorf("tmp/ holds %q after Open; want the old Put's file gone, the rest kept", got)
	}
}

func TestPutOpen(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	data := randomBytes(1, 300_000)
	sum, size, err := s.Put(ctx, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if want := sha256.Sum256(data); sum != want {
		t.Errorf("Put sum = %x, want %x", sum, want)
	}
	if size != int64(len(data)) {
		t.Errorf("Put size = %d, want %d", size, len(data))
	}
	h := Hex(sum)
	if want := filepath.Join(s.Dir, "sha256", h[:2], h); s.Path(sum) != want {
		t.Errorf("Path = %s, want %s", s.Path(sum), want)
	}
	if m := mode(t, s.Path(sum)); m != 0o600 {
		t.Errorf("blob file mode %04o, want 0600", m)
	}
	if m := mode(t, filepath.Dir(s.Path(sum))); m != 0o700 {
		t.Errorf("shard folder mode %04o, want 0700", m)
	}
	f, err := s.Open(sum)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(f)
	f.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Open read %d bytes (err %v), want the %d put", len(got), err, len(data))
	}
	info, err := s.Stat(sum)
	if err != nil || info.Size != size || info.SHA256 != sum {
		t.Errorf("Stat = %+v, %v; want size %d", info, err, size)
	}
	if ok, err := s.Has(sum); !ok || err != nil {
		t.Errorf("Has = %v, %v; want true", ok, err)
	}
	if left := tmpFiles(t, s); len(left) != 0 {
		t.Errorf("tmp/ holds %v after Put", left)
	}
}

func TestPutTwiceIsNoOp(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	data := []byte("the same bytes")
	sum1, _, err := s.Put(ctx, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	fi1, err := os.Stat(s.Path(sum1))
	if err != nil {
		t.Fatal(err)
	}
	sum2, size2, err := s.Put(ctx, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if sum2 != sum1 || size2 != int64(len(data)) {
		t.Errorf("second Put = %x, %d; want %x, %d", sum2, size2, sum1, len(data))
	}
	fi2, err := os.Stat(s.Path(sum1))
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(fi1, fi2) {
		t.Error("the second Put replaced the kept file; want it untouched")
	}
	if left := tmpFiles(t, s); len(left) != 0 {
		t.Errorf("tmp/ holds %v after the second Put", left)
	}
	list, err := s.List()
	if err != nil || len(list) != 1 {
		t.Errorf("List = %v, %v; want one blob", list, err)
	}
}

func TestPutEmpty(t *testing.T) {
	s := newStore(t)
	sum, size, err := s.Put(context.Background(), strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	if sum != sha256.Sum256(nil) || size != 0 {
		t.Errorf("Put of nothing = %x, %d", sum, size)
	}
	if ok, _ := s.Has(sum); !ok {
		t.Error("the empty blob is not kept")
	}
}

func TestPutMaxSize(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	s.MaxSize = 1000
	if _, _, err := s.Put(ctx, bytes.NewReader(make([]byte, 1000))); err != nil {
		t.Fatalf("Put at the limit: %v", err)
	}
	_, _, err := s.Put(ctx, bytes.NewReader(make([]byte, 1001)))
	if dialogue.KindOf(err) != dialogue.KindTooLarge || !strings.Contains(err.Error(), "over the limit of 1000 bytes") {
		t.Fatalf("Put over the limit: %v; want KindTooLarge naming the limit", err)
	}
	if left := tmpFiles(t, s); len(left) != 0 {
		t.Errorf("tmp/ holds %v after a refused Put", left)
	}
	if list, _ := s.List(); len(list) != 1 {
		t.Errorf("List has %d blobs, want only the one at the limit", len(list))
	}
}

// failingReader gives some bytes, then an error.
type failingReader struct{ n int }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, errors.New("the disk went away")
	}
	k := min(len(p), r.n)
	r.n -= k
	return k, nil
}

func TestPutReadErrorKeepsNothing(t *testing.T) {
	s := newStore(t)
	_, _, err := s.Put(context.Background(), &failingReader{n: 5000})
	if err == nil || !strings.Contains(err.Error(), "the disk went away") {
		t.Fatalf("Put = %v; want the reader's error", err)
	}
	if left := tmpFiles(t, s); len(left) != 0 {
		t.Errorf("tmp/ holds %v after a failed Put", left)
	}
	if list, _ := s.List(); len(list) != 0 {
		t.Errorf("List = %v after a failed Put", list)
	}
}

func TestPutCancelled(t *testing.T) {
	s := newStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := s.Put(ctx, bytes.NewReader(make([]byte, 100))); !errors.Is(err, context.Canceled) {
		t.Fatalf("Put with a cancelled context = %v", err)
	}
	if left := tmpFiles(t, s); len(left) != 0 {
		t.Errorf("tmp/ holds %v", left)
	}
}

func TestMissing(t *testing.T) {
	s := newStore(t)
	sum := sha256.Sum256([]byte("never put"))
	if _, err := s.Open(sum); dialogue.KindOf(err) != dialogue.KindNotFound || !strings.Contains(err.Error(), Hex(sum)) {
		t.Errorf("Open of a missing blob = %v; want KindNotFound naming it", err)
	}
	if _, err := s.Stat(sum); dialogue.KindOf(err) != dialogue.KindNotFound {
		t.Errorf("Stat of a missing blob = %v; want KindNotFound", err)
	}
	if ok, err := s.Has(sum); ok || err != nil {
		t.Errorf("Has of a missing blob = %v, %v; want false, nil", ok, err)
	}
}

func TestList(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	var sums []string
	for i := range 5 {
		sum, _, err := s.Put(ctx, bytes.NewReader(randomBytes(uint64(i), 10*i)))
		if err != nil {
			t.Fatal(err)
		}
		sums = append(sums, Hex(sum))
	}
	// Stray files are not blobs.
	os.WriteFile(filepath.Join(s.Dir, HashDir, "README"), []byte("x"), 0o600)
	os.WriteFile(filepath.Join(s.Dir, HashDir, sums[0][:2], "not-a-blob"), []byte("x"), 0o600)
	os.WriteFile(filepath.Join(s.Dir, TmpDir, sums[1]+".part"), []byte("x"), 0o600)
	list, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 5 {
		t.Fatalf("List has %d blobs, want 5: %v", len(list), list)
	}
	for i := 1; i < len(list); i++ {
		if Hex(list[i-1].SHA256) >= Hex(list[i].SHA256) {
			t.Errorf("List is not ordered by hash at %d", i)
		}
	}
	for _, in := range list {
		if !strings.Contains(strings.Join(sums, " "), Hex(in.SHA256)) {
			t.Errorf("List has %s, which was not put", Hex(in.SHA256))
		}
	}
}

var hexA = strings.Repeat("a", 64)

func TestParseName(t *testing.T) {
	good := Hex(sha256.Sum256([]byte("x")))
	sum, err := ParseName(good)
	if err != nil || Hex(sum) != good {
		t.Fatalf("ParseName(%s) = %x, %v", good, sum, err)
	}
	for _, tc := range []struct{ name, in, want string }{
		{"empty", "", "got 0 characters"},
		{"short", "abc", "want 64 lowercase hexadecimal digits (a SHA-256), got 3 characters"},
		{"63", hexA[:63], "got 63 characters"},
		{"65", hexA + "a", "got 65 characters"},
		{"prefix", "sha256:" + hexA[:57], `character 1 is 's'`},
		{"uppercase", "A" + hexA[1:], `character 1 is 'A', want a lowercase hexadecimal digit`},
		{"not hex", hexA[:10] + "g" + hexA[11:], `character 11 is 'g'`},
		{"slash", hexA[:32] + "/" + hexA[33:], `character 33 is '/'`},
		{"space", " " + hexA[1:], `character 1 is ' '`},
		{"dots", "..", "got 2 characters"},
		{"utf8", "é" + hexA[2:], `character 1 is 'é'`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseName(tc.in)
			if err == nil {
				t.Fatalf("ParseName(%q) = nil error", tc.in)
			}
			if !strings.Contains(err.Error(), "blob name") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseName(%q) = %q; want it to name the blob name and say %q", tc.in, err, tc.want)
			}
		})
	}
}

func TestParseSum(t *testing.T) {
	good := Hex(sha256.Sum256([]byte("x")))
	for _, in := range []string{good, "sha256:" + good, strings.ToUpper(good), "sha256:" + strings.ToUpper(good)} {
		sum, err := ParseSum(in)
		if err != nil || Hex(sum) != good {
			t.Errorf("ParseSum(%q) = %x, %v; want %s", in, sum, err, good)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"", "got 0 characters"},
		{"sha256:", "got 0 characters"},
		{"abc", `want 64 hexadecimal digits, optionally after "sha256:", got 3 characters`},
		{"sha512:" + hexA, "got 71 characters"},
		{"SHA256:" + hexA[:57], `character 1 is 'S'`},
		{"sha256:" + hexA[:60] + "xyz1", `character 68 is 'x', want a hexadecimal digit`},
		{hexA[:63] + "-", `character 64 is '-'`},
	} {
		_, err := ParseSum(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseSum(%q) = %v; want an error saying %q", tc.in, err, tc.want)
		}
	}
}

func FuzzParseName(f *testing.F) {
	f.Add(hexA)
	f.Add("A" + hexA[1:])
	f.Add("")
	f.Add("sha256:" + hexA)
	f.Fuzz(func(t *testing.T, s string) {
		sum, err := ParseName(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "blob name ") {
				t.Errorf("error %q does not name the blob name", err)
			}
			return
		}
		if Hex(sum) != s {
			t.Errorf("ParseName(%q) accepted it as %s", s, Hex(sum))
		}
	})
}

func FuzzParseSum(f *testing.F) {
	f.Add(hexA)
	f.Add("sha256:" + strings.ToUpper(hexA))
	f.Add("sha256:")
	f.Fuzz(func(t *testing.T, s string) {
		sum, err := ParseSum(s)
		if err != nil {
			return
		}
		if !strings.EqualFold(Hex(sum), strings.TrimPrefix(s, "sha256:")) {
			t.Errorf("ParseSum(%q) accepted it as %s", s, Hex(sum))
		}
	})
}

// FuzzPutOpen checks that whatever bytes are put come back from Open,
// under their SHA-256, and that putting them again changes nothing.
func FuzzPutOpen(f *testing.F) {
	s, err := Open(filepath.Join(f.TempDir(), "blobs"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte{})
	f.Add([]byte("evidence"))
	f.Add(randomBytes(7, 70_000))
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx := context.Background()
		sum, size, err := s.Put(ctx, bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if sum != sha256.Sum256(data) || size != int64(len(data)) {
			t.Fatalf("Put = %x, %d; want %x, %d", sum, size, sha256.Sum256(data), len(data))
		}
		if again, _, err := s.Put(ctx, bytes.NewReader(data)); err != nil || again != sum {
			t.Fatalf("second Put = %x, %v", again, err)
		}
		f, err := s.Open(sum)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(f)
		f.Close()
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("Open gave %d bytes (err %v), want the %d put", len(got), err, len(data))
		}
	})
}
