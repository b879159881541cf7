package taxii_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/httpapi"
	"github.com/parleyhq/parley/internal/ingest"
	"github.com/parleyhq/parley/internal/shareddata"
	"github.com/parleyhq/parley/internal/sqlite"
	"github.com/parleyhq/parley/internal/taxii"
)

// Collections of the medallion fixture (trustgroup1).
const (
	colWriteOnly = "472c94ae-3113-4e3e-a4dd-a9f4ac7471d4" // can_read false, can_write true
	colAdd       = "365fed99-08fa-fdcd-a1b3-fb247eb41d01" // read-write, empty
	colHigh      = "91a7b528-80eb-42ed-a74d-c6fbd5a26116" // read-write, the fixture's objects
	colReadOnly  = "52892447-4d7e-4f70-b94d-d7f22742ff63" // can_read true, can_write false
	colSecret    = "64993447-4d7e-4f70-b94d-d7f33742ee63" // neither
)

// Objects of the High Value Indicator Collection.
const (
	idRel     = "relationship--2f9a9aa9-108a-4333-83e2-4fb25add0463"
	idInd1    = "indicator--cd981c25-8042-4166-8945-51178443bdac"
	idInd3    = "indicator--6770298f-0fd8-471a-ab8c-1c658a46574e" // three versions
	idMarking = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"
	idMalware = "malware--c0931cc6-c75e-47e5-9036-78fabc95d4ec"
)

// Users: passwords have the 12 characters dialogue asks for.
var users = []struct {
	name, password string
	role           dialogue.Role
}{
	{"admin", "Password0-admin", dialogue.RoleAdmin},
	{"user1", "Password1-user1", dialogue.RoleExpert},
	{"lead", "Password2-lead!", dialogue.RoleLead}, // reads; a lead's role may not write
}

// passwordHashes are the users' argon2id hashes, computed once: each
// costs 64 MiB and a good fraction of a second under the race detector.
var passwordHashes = sync.OnceValue(func() []string {
	var hs []string
	for _, u := range users {
		h, err := dialogue.HashPassword(u.password)
		if err != nil {
			panic(err)
		}
		hs = append(hs, h)
	}
	return hs
})

// node is a Parley node on a real HTTP(S) server on 127.0.0.1:0 with a
// real SQLite store in a temporary folder.
type node struct {
	db     *sqlite.DB
	srv    *httptest.Server
	api    *httpapi.Server
	root   string // API root URL
	token  string // a bearer token of user1
	client *http.Client
}

type nodeOptions struct {
	tls         bool
	maxBody     int64
	maxPage     int
	fixture     bool
	wrapHandler func(http.Handler) http.Handler
}

func newNode(t testing.TB, o nodeOptions) *node {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for i, u := range users {
		if err := db.CreateUser(ctx, &dialogue.User{Name: u.name, Role: u.role}, passwordHashes()[i]); err != nil {
			t.Fatal(err)
		}
	}
	tok, err := dialogue.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateToken(ctx, "user1", dialogue.HashToken(tok), "test"); err != nil {
		t.Fatal(err)
	}
	if o.fixture {
		loadFixture(t, db)
	}
	api := httpapi.New(httpapi.Config{Store: db, MaxBodyBytes: o.maxBody, Logger: discardLogger()})
	api.Mount("/taxii2", taxii.NewServer(taxii.Config{Store: db, MaxContentLength: o.maxBody, MaxPageSize: o.maxPage, Contact: "cert@example.org"}))
	h := api.Handler()
	if o.wrapHandler != nil {
		h = o.wrapHandler(h)
	}
	var srv *httptest.Server
	if o.tls {
		srv = httptest.NewUnstartedServer(h)
		srv.EnableHTTP2 = true
		srv.StartTLS()
	} else {
		srv = httptest.NewServer(h)
	}
	t.Cleanup(srv.Close)
	return &node{db: db, srv: srv, api: api, root: srv.URL + "/taxii2/parley/", token: tok, client: srv.Client()}
}

// loadFixture loads medallion's default_data.json (API root trustgroup1):
// its collections, with grants to every user as can_read / can_write say,
// and the objects of the High Value Indicator Collection, in the order of
// their date_added in the fixture's manifest. The one object without
// spec_version (a STIX 2.0 version of the malware) is left out: Parley
// stores STIX 2.1.
func loadFixture(t testing.TB, db *sqlite.DB) {
	t.Helper()
	ctx := context.Background()
	var data map[string]struct {
		Collections []struct {
			ID          string            `json:"id"`
			Title       string            `json:"title"`
			Description string            `json:"description"`
			CanRead     bool              `json:"can_read"`
			CanWrite    bool              `json:"can_write"`
			Objects     []json.RawMessage `json:"objects"`
			Manifest    []struct {
				ID        string `json:"id"`
				DateAdded string `json:"date_added"`
				Version   string `json:"version"`
			} `json:"manifest"`
		} `json:"collections"`
	}
	if err := json.Unmarshal(shareddata.File(t, "taxii", "default_data.json"), &data); err != nil {
		t.Fatal(err)
	}
	for _, c := range data["trustgroup1"].Collections {
		if err := db.CreateCollection(ctx, &dialogue.Collection{ID: c.ID, Title: c.Title, Description: c.Description}); err != nil {
			t.Fatal(err)
		}
		if c.CanRead || c.CanWrite {
			if err := db.SetGrant(ctx, dialogue.Grant{CollectionID: c.ID, Principal: "*", Read: c.CanRead, Write: c.CanWrite}); err != nil {
				t.Fatal(err)
			}
		}
		type keyed struct {
			key string
			raw json.RawMessage
		}
		var objs []keyed
		for _, raw := range c.Objects {
			var o struct{ ID, Modified, Created, SpecVersion string }
			var m map[string]any
			json.Unmarshal(raw, &m)
			if m["spec_version"] == nil {
				continue
			}
			o.ID, _ = m["id"].(string)
			o.Modified, _ = m["modified"].(string)
			o.Created, _ = m["created"].(string)
			v := o.Modified
			if v == "" {
				v = o.Created
			}
			key := ""
			for _, mf := range c.Manifest {
				if mf.ID == o.ID && mf.Version == v {
					key = mf.DateAdded
				}
			}
			if key == "" {
				t.Fatalf("fixture: no manifest entry for %s %s", o.ID, v)
			}
			objs = append(objs, keyed{key, raw})
		}
		sort.SliceStable(objs, func(i, j int) bool { return objs[i].key < objs[j].key })
		var raws []json.RawMessage
		for _, k := range objs {
			raws = append(raws, k.raw)
		}
		if len(raws) == 0 {
			continue
		}
		// One object at a time: each gets its own, increasing date_added.
		for _, raw := range raws {
			rep, err := ingest.Objects(ctx, db, c.ID, []json.RawMessage{raw}, ingest.EachOnItsOwn)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Added != 1 {
				t.Fatalf("fixture object not added: %+v", rep.Results)
			}
		}
	}
}

// indicator returns a valid STIX 2.1 indicator with a new id.
func indicator(n int) []byte {
	return fmt.Appendf(nil, `{"type":"indicator","spec_version":"2.1","id":"indicator--%s","created":"2024-01-02T03:04:05.000Z","modified":"2024-01-02T03:04:05.000Z","name":"test indicator %d","pattern":"[ipv4-addr:value = '198.51.100.%d']","pattern_type":"stix","valid_from":"2024-01-02T03:04:05Z"}`,
		uuid.NewString(), n, n%256)
}

// answer is a response read whole.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a *answer) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(a.body, v); err != nil {
		t.Fatalf("answer %d is not JSON: %v\n%s", a.status, err, a.body)
	}
}

type req struct {
	method, path string // path relative to the server, e.g. /taxii2/parley/
	user         string // "" for none; "token" for user1's bearer token
	password     string // overrides the user's password
	accept       string // default: the TAXII media type; "-" for none
	contentType  string
	body         string
}

func (n *node) do(t testing.TB, r req) *answer {
	t.Helper()
	if r.method == "" {
		r.method = http.MethodGet
	}
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	hr, err := http.NewRequest(r.method, n.srv.URL+r.path, body)
	if err != nil {
		t.Fatal(err)
	}
	switch r.accept {
	case "":
		hr.Header.Set("Accept", taxii.MediaTypeTAXII)
	case "-":
	default:
		hr.Header.Set("Accept", r.accept)
	}
	if r.contentType != "" {
		hr.Header.Set("Content-Type", r.contentType)
	}
	switch r.user {
	case "":
	case "token":
		hr.Header.Set("Authorization", "Bearer "+n.token)
	default:
		pw := r.password
		if pw == "" {
			for _, u := range users {
				if u.name == r.user {
					pw = u.password
				}
			}
		}
		hr.SetBasicAuth(r.user, pw)
	}
	resp, err := n.client.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return &answer{status: resp.StatusCode, header: resp.Header, body: b}
}

func (n *node) count(t testing.TB) int64 {
	t.Helper()
	s, err := n.db.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s.Objects
}
