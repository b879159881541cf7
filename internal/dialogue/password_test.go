package dialogue

import (
	"strings"
	"testing"
)

func TestPasswordHash(t *testing.T) {
	h, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=65536,t=3,p=2$") {
		t.Fatalf("hash %q is not argon2id in PHC format", h)
	}
	if !CheckPassword(h, "correct horse battery") {
		t.Error("right password refused")
	}
	if CheckPassword(h, "correct horse batterY") {
		t.Error("wrong password accepted")
	}
	h2, _ := HashPassword("correct horse battery")
	if h == h2 {
		t.Error("two hashes of one password are equal: salt not random")
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=65536,t=3,p=2$AAAA$AAAA", "$argon2id$v=19$m=65536,t=0,p=2$AAAA$AAAA", h[:len(h)-4] + "!!!!"} {
		if CheckPassword(bad, "correct horse battery") {
			t.Errorf("CheckPassword(%q) accepted", bad)
		}
	}
	if _, err := HashPassword("short"); KindOf(err) != KindInvalid {
		t.Errorf("short password: err = %v, want invalid", err)
	}
}

func TestToken(t *testing.T) {
	a, _ := NewToken()
	b, _ := NewToken()
	if a == b || !strings.HasPrefix(a, TokenPrefix) {
		t.Fatalf("tokens %q %q", a, b)
	}
	if HashToken(a) == HashToken(b) || len(HashToken(a)) != 64 {
		t.Fatal("token hashes wrong")
	}
}

func TestErrorKinds(t *testing.T) {
	err := Errorf("sqlite.FindCollection", KindNotFound, "collection %q does not exist", "x")
	if KindOf(err) != KindNotFound {
		t.Fatal(KindOf(err))
	}
	wrapped := E("taxii.getObjects", KindOther, err)
	if KindOf(wrapped) != KindNotFound {
		t.Fatalf("kind lost through wrapping: %v", KindOf(wrapped))
	}
	if got := Message(wrapped); got != `collection "x" does not exist` {
		t.Fatalf("Message = %q", got)
	}
	if Message(E("op", KindOther, errString("SQL logic error"))) != "internal error" {
		t.Fatal("internal detail leaked")
	}
}

type errString string

func (e errString) Error() string { return string(e) }
