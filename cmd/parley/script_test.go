package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/sqlite"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"parley": main})
}

// TestScripts runs the CLI scripts in testdata/*.txtar: each runs the
// real parley binary against real data folders in its own work dir.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata",
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"mode":       cmdMode,
			"cmpobjects": cmdCmpObjects,
			"envline":    cmdEnvLine,
			"peersays":   cmdPeerSays,
		},
		RequireExplicitExec: true,
		Setup:               setup,
	})
}

// setup puts the STIX bundles of testdata/bundles in each script's
// work folder.
//
// It also turns off the race detector's one-second sleep at exit
// (GORACE atexit_sleep_ms), which would otherwise add a second to every
// parley command a script runs under -race.
func setup(env *testscript.Env) error {
	env.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	files, err := filepath.Glob(filepath.Join("testdata", "bundles", "*.json"))
	if err != nil {
		return err
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(env.WorkDir, filepath.Base(f)), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// cmdMode checks a file's permission bits: mode PATH 0600.
func cmdMode(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: mode PATH PERM")
	}
	fi, err := os.Stat(ts.MkAbs(args[0]))
	ts.Check(err)
	want, err := strconv.ParseUint(args[1], 8, 32)
	ts.Check(err)
	got := fi.Mode().Perm()
	if (got == os.FileMode(want)) == neg {
		ts.Fatalf("%s has mode %04o; want %s%04o", args[0], got, map[bool]string{true: "not ", false: ""}[neg], want)
	}
}

// cmdCmpObjects checks that the objects of the bundle OUT are, byte for
// byte and in order, the objects of the bundles IN... one after another:
// cmpobjects OUT IN...
func cmdCmpObjects(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("cmpobjects does not support !")
	}
	if len(args) < 2 {
		ts.Fatalf("usage: cmpobjects OUT IN...")
	}
	objects := func(name string) []json.RawMessage {
		var b struct {
			Type    string            `json:"type"`
			Objects []json.RawMessage `json:"objects"`
		}
		data := []byte(ts.ReadFile(name))
		if err := json.Unmarshal(data, &b); err != nil {
			ts.Fatalf("%s: %v", name, err)
		}
		if b.Type != "bundle" {
			ts.Fatalf("%s: type %q, want bundle", name, b.Type)
		}
		return b.Objects
	}
	got := objects(args[0])
	var want []json.RawMessage
	for _, in := range args[1:] {
		want = append(want, objects(in)...)
	}
	if len(got) != len(want) {
		ts.Fatalf("%s has %d objects, want %d", args[0], len(got), len(want))
	}
	for i := range got {
		if !bytes.Equal(got[i], want[i]) {
			ts.Fatalf("object %d differs:\n got: %s\nwant: %s", i, got[i], want[i])
		}
	}
	ts.Logf("%d objects identical", len(got))
}

// cmdEnvLine sets an environment variable to the rest of the first line
// of a file that starts with a prefix (stdout when the file is "stdout"):
// envline VAR FILE PREFIX. It lets a script pass what one command printed
// (a key, a pin, an id) to the next.
func cmdEnvLine(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: envline VAR FILE PREFIX")
	}
	data := ts.ReadFile(args[1])
	for _, l := range strings.Split(data, "\n") {
		if rest, ok := strings.CutPrefix(l, args[2]); ok {
			ts.Setenv(args[0], strings.TrimSpace(rest))
			return
		}
	}
	ts.Fatalf("no line of %s starts with %q", args[1], args[2])
}

// cmdPeerSays records in a node's store what a pinned peer's messages
// would (the peer protocol itself is tested in internal/peer):
//
//	peersays DIR PEER propose ID TITLE    a channel proposal, offered here
//	peersays DIR PEER fork DETAIL         the peer's log forked: FORK
func cmdPeerSays(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 4 {
		ts.Fatalf("usage: peersays DIR PEER propose ID TITLE | peersays DIR PEER fork DETAIL")
	}
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(ts.MkAbs(args[0]), "parley.db"))
	ts.Check(err)
	defer db.Close()
	switch args[2] {
	case "propose":
		if len(args) != 5 {
			ts.Fatalf("usage: peersays DIR PEER propose ID TITLE")
		}
		ts.Check(db.OfferChannel(ctx, &dialogue.Channel{ID: args[3], Title: args[4], Peer: args[1]}, 0))
	case "fork":
		ts.Check(db.RaiseAlarm(ctx, args[1], dialogue.AlarmFork, strings.Join(args[3:], " "), time.Now()))
	default:
		ts.Fatalf("peersays: %q is neither propose nor fork", args[2])
	}
}
