package taxii_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/sqlite"
	"github.com/parleyhq/parley/internal/taxii"
)

// interrupter lets a test break the Nth objects request of a pull: by
// aborting the connection, or by cancelling the client's context.
type interrupter struct {
	mu       sync.Mutex
	requests int // objects GETs seen
	breakAt  int // 0: never
	cancel   context.CancelFunc
}

func (in *interrupter) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/objects/") {
			in.mu.Lock()
			in.requests++
			hit := in.breakAt != 0 && in.requests == in.breakAt
			cancel := in.cancel
			in.mu.Unlock()
			if hit {
				if cancel != nil {
					cancel()
					<-r.Context().Done() // the client went away
					return
				}
				panic(http.ErrAbortHandler) // kill the connection mid-answer
			}
		}
		next.ServeHTTP(w, r)
	})
}

func (in *interrupter) set(breakAfter int, cancel context.CancelFunc) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.breakAt = 0
	if breakAfter >= 0 {
		in.breakAt = in.requests + breakAfter + 1
	}
	in.cancel = cancel
}

func localStore(t *testing.T) (*sqlite.DB, string) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "local.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	c := &dialogue.Collection{Title: "local"}
	if err := db.CreateCollection(ctx, c); err != nil {
		t.Fatal(err)
	}
	return db, c.ID
}

func postIndicators(t *testing.T, n *node, from, count int) {
	t.Helper()
	var objs [][]byte
	for i := from; i < from+count; i++ {
		objs = append(objs, indicator(i))
	}
	a := n.do(t, req{method: http.MethodPost, path: objectsAdd, user: "user1", contentType: taxii.MediaTypeTAXII, body: envelope(objs...)})
	if a.status != 202 {
		t.Fatalf("POST: %d %s", a.status, a.body)
	}
}

func TestPullInterruptedAndResumed(t *testing.T) {
	in := &interrupter{}
	remote := newNode(t, nodeOptions{tls: true, fixture: true, wrapHandler: in.wrap})
	postIndicators(t, remote, 0, 50)
	local, localID := localStore(t)
	client, err := taxii.NewClient(remote.root, taxii.ClientOptions{
		User: "lead", Password: users[2].password, PageSize: 10,
		Pin: taxii.PinOf(remote.srv.Certificate()), Logger: discardLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	var total taxii.PullReport
	sum := func(r taxii.PullReport) {
		total.Pages += r.Pages
		total.New += r.New
		total.Unchanged += r.Unchanged
		total.Rejected += r.Rejected
	}

	// 1: the connection dies while the third page is asked for.
	in.set(2, nil)
	rep, err := client.Pull(context.Background(), local, localID, colAdd)
	if err == nil || rep.Pages != 2 || rep.New != 20 {
		t.Fatalf("pull 1: %+v, %v; want 2 pages, 20 new and an error", rep, err)
	}
	sum(rep)
	cursor, _ := local.PullCursor(context.Background(), client.PullKey(localID, colAdd))
	if rep.Cursor == "" || !strings.Contains(cursor, `"`+rep.Cursor+`"`) {
		t.Fatalf("cursor after pull 1: %q, report %q", cursor, rep.Cursor)
	}

	// 2: the client's context ends during the second page.
	ctx, cancel := context.WithCancel(context.Background())
	in.set(1, cancel)
	rep, err = client.Pull(ctx, local, localID, colAdd)
	cancel()
	// The resume follows the next the cursor kept.
	if err == nil || rep.Pages != 1 || rep.New != 10 || rep.Repeated != 0 {
		t.Fatalf("pull 2: %+v, %v; want 1 page, 10 new and an error", rep, err)
	}
	sum(rep)

	// Objects added to the remote in the meantime arrive too.
	postIndicators(t, remote, 50, 5)

	// 3: to the end.
	in.set(-1, nil)
	rep, err = client.Pull(context.Background(), local, localID, colAdd)
	// It follows the next kept by pull 2 to the end, then asks once from
	// the cursor for what that next's query could not see: it gets back
	// the last version, and drops it.
	if err != nil || rep.New != 25 || rep.Unchanged != 0 || rep.Repeated != 1 || rep.Pages != 3 {
		t.Fatalf("pull 3: %+v, %v; want 25 new in 3 pages, 1 repeated", rep, err)
	}
	sum(rep)

	// 4: nothing new. The pull asks from just before the last instant
	// taken and drops the version it gets back.
	rep, err = client.Pull(context.Background(), local, localID, colAdd)
	if err != nil || rep.Pages != 0 || rep.New != 0 || rep.Repeated != 1 {
		t.Fatalf("pull 4: %+v, %v", rep, err)
	}

	if total.New != 55 || total.Unchanged != 0 || total.Rejected != 0 {
		t.Errorf("over all pulls: %+v; want each of 55 objects new exactly once", total)
	}
	page, err := local.FindObjects(context.Background(), localID, dialogue.ObjectFilter{Versions: dialogue.VersionMatch{All: true}, MetaOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	remotePage, err := remote.db.FindObjects(context.Background(), colAdd, dialogue.ObjectFilter{Versions: dialogue.VersionMatch{All: true}, MetaOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, o := range page.Objects {
		if seen[o.ID] {
			t.Errorf("%s twice in the local store", o.ID)
		}
		seen[o.ID] = true
	}
	for _, o := range remotePage.Objects {
		if !seen[o.ID] {
			t.Errorf("%s not pulled", o.ID)
		}
	}
	if len(page.Objects) != 55 || len(remotePage.Objects) != 55 {
		t.Errorf("local %d objects, remote %d; want 55", len(page.Objects), len(remotePage.Objects))
	}
}

func TestPullAllVersionsAndRejections(t *testing.T) {
	remote := newNode(t, nodeOptions{tls: true, fixture: true})
	local, localID := localStore(t)
	client, err := taxii.NewClient(remote.root, taxii.ClientOptions{Token: remote.token, Insecure: true, PageSize: 2, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := client.Pull(context.Background(), local, localID, colHigh)
	if err != nil || rep.New != 7 || rep.Pages != 4 {
		t.Fatalf("pull: %+v %v; want all 7 versions in 4 pages", rep, err)
	}
	// A remote collection the user may not read, and one that does not exist.
	// The first is not there for the user, as the second.
	if _, err := client.Pull(context.Background(), local, localID, colSecret); dialogue.KindOf(err) != dialogue.KindNotFound {
		t.Errorf("forbidden collection: %v", err)
	}
	if _, err := client.Pull(context.Background(), local, localID, "00000000-0000-4000-8000-000000000000"); dialogue.KindOf(err) != dialogue.KindNotFound || !strings.Contains(err.Error(), "no collection") {
		t.Errorf("unknown collection: %v", err)
	}
	// Wrong credentials.
	bad, _ := taxii.NewClient(remote.root, taxii.ClientOptions{User: "user1", Password: "wrong-password", Insecure: true})
	if _, err := bad.Pull(context.Background(), local, localID, colHigh); dialogue.KindOf(err) != dialogue.KindUnauthenticated {
		t.Errorf("wrong password: %v", err)
	}
}

func TestClientTLS(t *testing.T) {
	remote := newNode(t, nodeOptions{tls: true, fixture: true})
	other := sha256.Sum256([]byte("some other key"))
	for _, tc := range []struct {
		name string
		opt  taxii.ClientOptions
		err  string // "" for success
	}{
		{"right pin", taxii.ClientOptions{Pin: taxii.PinOf(remote.srv.Certificate())}, ""},
		{"wrong pin", taxii.ClientOptions{Pin: base64.StdEncoding.EncodeToString(other[:])}, "does not match the expected pin"},
		{"no pin, self-signed", taxii.ClientOptions{}, "certificate"},
		{"insecure", taxii.ClientOptions{Insecure: true}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opt.User, tc.opt.Password = "user1", users[1].password
			c, err := taxii.NewClient(remote.root, tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			cs, err := c.Collections(context.Background())
			if tc.err == "" {
				if err != nil || len(cs) != 4 {
					t.Fatalf("%d collections, %v", len(cs), err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) || dialogue.KindOf(err) != dialogue.KindUnavailable {
				t.Fatalf("err %v, want one about %q", err, tc.err)
			}
		})
	}
	for _, tc := range []struct {
		url string
		opt taxii.ClientOptions
	}{
		{"ftp://x/", taxii.ClientOptions{}},
		{"https:///nohost", taxii.ClientOptions{}},
		{remote.root, taxii.ClientOptions{Pin: "short"}},
		{remote.root, taxii.ClientOptions{Pin: taxii.PinOf(remote.srv.Certificate()), Insecure: true}},
		{remote.root, taxii.ClientOptions{Password: "p", Token: "t"}},
	} {
		if _, err := taxii.NewClient(tc.url, tc.opt); dialogue.KindOf(err) != dialogue.KindInvalid {
			t.Errorf("NewClient(%q, %+v): %v, want invalid", tc.url, tc.opt, err)
		}
	}
}
