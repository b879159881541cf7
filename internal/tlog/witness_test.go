package tlog

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/dialogue"
	"golang.org/x/mod/sumdb/note"
)

// TestWitnessDecisions runs the tlog-witness decisions in sequence on one
// witness: each step's answer and the state it leaves.
func TestWitnessDecisions(t *testing.T) {
	ctx := context.Background()
	logS, logV, _, _ := mustKey(t, "cert-a.example")
	otherS, _, _, _ := mustKey(t, "cert-a.example") // same name, other key
	_, _, wskey, _ := mustKey(t, "cert-b.example")
	cosigner, err := NewCosigner(wskey)
	if err != nil {
		t.Fatal(err)
	}
	origin, _ := Origin("cert-a.example", "chan-1")
	l := newMemLog(t, 40)
	fork := newMemLog(t, 40)
	fork.entries[5] = []byte("rewritten")
	fork.hashes = nil
	_ = fork.hashes.Append(fork.entries...)

	cp := func(m *memLog, size int64, s note.Signer) []byte {
		root, _ := TreeHash(size, m.hashes)
		msg, err := Sign(Checkpoint{Origin: origin, Size: size, Hash: root}, s)
		if err != nil {
			t.Fatal(err)
		}
		return msg
	}
	proof := func(old, size int64) []Hash {
		p, err := ProveConsistency(old, size, l.hashes)
		if err != nil {
			t.Fatal(err)
		}
		return p.Hashes
	}
	w := NewWitness(cosigner, &MemWitnessState{}, map[string][]note.Verifier{origin: {logV}})
	steps := []struct {
		name  string
		body  []byte
		want  error // nil: cosigned
		kind  dialogue.Kind
		known uint64
	}{
		{"malformed body", []byte("old x\n\n"), ErrMalformed, dialogue.KindInvalid, 0},
		{"unknown origin", (&AddCheckpointRequest{OldSize: 0, Checkpoint: []byte("cert-z.example/parley/c\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n— x AAAA\n")}).Marshal(), ErrUnknownOrigin, dialogue.KindNotFound, 0},
		{"unknown key", (&AddCheckpointRequest{OldSize: 0, Checkpoint: cp(l, 10, otherS)}).Marshal(), ErrBadSignature, dialogue.KindForbidden, 0},
		{"old above size", (&AddCheckpointRequest{OldSize: 11, Checkpoint: cp(l, 10, logS)}).Marshal(), ErrMalformed, dialogue.KindInvalid, 0},
		{"first checkpoint", (&AddCheckpointRequest{OldSize: 0, Checkpoint: cp(l, 10, logS)}).Marshal(), nil, 0, 0},
		{"stale old size", (&AddCheckpointRequest{OldSize: 0, Checkpoint: cp(l, 20, logS)}).Marshal(), ErrStaleSize, dialogue.KindConflict, 10},
		{"bad proof", (&AddCheckpointRequest{OldSize: 10, Proof: proof(9, 20), Checkpoint: cp(l, 20, logS)}).Marshal(), ErrBadProof, dialogue.KindInvalid, 0},
		{"forked history", (&AddCheckpointRequest{OldSize: 10, Proof: proof(10, 20), Checkpoint: cp(fork, 20, logS)}).Marshal(), ErrBadProof, dialogue.KindInvalid, 0},
		{"good update", (&AddCheckpointRequest{OldSize: 10, Proof: proof(10, 20), Checkpoint: cp(l, 20, logS)}).Marshal(), nil, 0, 0},
		{"same size other root (fork)", (&AddCheckpointRequest{OldSize: 20, Checkpoint: cp(fork, 20, logS)}).Marshal(), ErrFork, dialogue.KindConflict, 20},
		{"same checkpoint again", (&AddCheckpointRequest{OldSize: 20, Checkpoint: cp(l, 20, logS)}).Marshal(), nil, 0, 0},
		{"rollback", (&AddCheckpointRequest{OldSize: 10, Proof: proof(10, 15), Checkpoint: cp(l, 15, logS)}).Marshal(), ErrStaleSize, dialogue.KindConflict, 20},
		{"good update 2", (&AddCheckpointRequest{OldSize: 20, Proof: proof(20, 40), Checkpoint: cp(l, 40, logS)}).Marshal(), nil, 0, 0},
	}
	for _, st := range steps {
		sigs, err := w.AddCheckpoint(ctx, st.body)
		if st.want == nil {
			if err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			if !strings.HasPrefix(string(sigs), "— cert-b.example ") || !strings.HasSuffix(string(sigs), "\n") {
				t.Fatalf("%s: cosignature lines %q", st.name, sigs)
			}
			continue
		}
		if !errors.Is(err, st.want) {
			t.Fatalf("%s: err = %v, want %v", st.name, err, st.want)
		}
		kindIs(t, err, st.kind)
		if st.known != 0 {
			var ce *ConflictError
			if !errors.As(err, &ce) || ce.Known != st.known {
				t.Fatalf("%s: conflict %+v, want known size %d", st.name, ce, st.known)
			}
		}
		if errors.Is(err, ErrFork) && errors.Is(err, ErrStaleSize) {
			t.Fatalf("%s: a fork must be told apart from a stale size", st.name)
		}
	}
}

func TestParseAddCheckpointBad(t *testing.T) {
	cp := "o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n— o AAAA\n"
	h := "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
	for _, c := range []struct{ body, want string }{
		{"", "line 1: no newline"},
		{"old 1", "line 1: no newline"},
		{"new 1\n\n" + cp, `line 1: "new 1" is not`},
		{"old 01\n\n" + cp, "line 1 (old size) \"01\": has a leading zero"},
		{"old -1\n\n" + cp, "line 1 (old size) \"-1\": is not a decimal"},
		{"old 99999999999999999999\n\n" + cp, "is too large"},
		{"old  1\n\n" + cp, "is not a decimal"},
		{"old 1\nnot base64!\n\n" + cp, "line 2 (consistency proof hash)"},
		{"old 1\nAAAA\n\n" + cp, "line 2 (consistency proof hash) \"AAAA\": is 3 bytes, want 32"},
		{"old 1\n" + h, "line 3: no empty line before the checkpoint"},
		{"old 1\n\n", "has no checkpoint after the empty line"},
		{"old 0\n" + h + "\n" + cp, "with old size 0"},
		{"old 1\n" + strings.Repeat(h, 64) + "\n" + cp, "line 65: more than 63"},
	} {
		_, err := ParseAddCheckpoint([]byte(c.body))
		if err == nil || !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseAddCheckpoint(%.40q) = %v, want an error containing %q", c.body, err, c.want)
		}
	}
	// The spec's example request parses.
	ex := "old 20852014\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\njrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=\n5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=\n/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=\n\nexample.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
	r, err := ParseAddCheckpoint([]byte(ex))
	if err != nil || r.OldSize != 20852014 || len(r.Proof) != 4 || string(r.Marshal()) != ex {
		t.Fatalf("spec example: %+v, %v", r, err)
	}
}

func FuzzParseAddCheckpoint(f *testing.F) {
	f.Add([]byte("old 3\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n\no\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n— o AAAA\n"))
	f.Add([]byte("old 0\n\nx"))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := ParseAddCheckpoint(body)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
			return
		}
		if got := r.Marshal(); string(got) != string(body) {
			t.Fatalf("round trip: %q, want %q", got, body)
		}
	})
}
