package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/ingest"
	"github.com/parleyhq/parley/internal/logapi"
	"github.com/parleyhq/parley/internal/node"
	"github.com/parleyhq/parley/internal/stix"
	"github.com/parleyhq/parley/internal/taxii"
	"github.com/parleyhq/parley/internal/tlog"
)

// demoUser is the user the demo makes.
const demoUser = "analyst"

func (m *Main) newDemoCommand() *cobra.Command {
	var once bool
	cmd := &cobra.Command{
		Use:   "demo [--once]",
		Short: "Run a node with sample data in a temporary folder, to try Parley",
		Long: `demo makes a node in a temporary folder, fills it with a sample incident that
Parley generates (indicators, infrastructure, an attack pattern, malware, a
report, all marked TLP:AMBER), creates a user with a random password and an
API token, and serves TAXII 2.1 over HTTPS on 127.0.0.1 on a free port. It
prints the URLs, the user and password, the certificate pin and curl
commands to try, then serves until Ctrl-C and removes the folder.

--once tells the same story, fetches the objects over HTTPS with Parley's
own TAXII client to show that it works, and exits.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return m.runDemo(cmd.Context(), once)
		},
	}
	cmd.Flags().BoolVar(&once, "once", false, "fetch the objects once with the TAXII client, then stop")
	return cmd
}

// demoState is what the demo made, for the story it prints.
type demoState struct {
	tmp, dir, tokenFile string
	created             *node.Created
	objects             int
	types               map[string]int
	password, token     string
}

func (m *Main) runDemo(ctx context.Context, once bool) error {
	tmp, err := os.MkdirTemp("", "parley-demo-")
	if err != nil {
		return fmt.Errorf("making a temporary folder: %w", err)
	}
	m.cleanup = append(m.cleanup, func() { os.RemoveAll(tmp) })
	d := &demoState{tmp: tmp, dir: filepath.Join(tmp, "node"), types: map[string]int{}}

	n, created, err := node.Init(ctx, d.dir, node.InitOptions{Name: "parley-demo", Listen: "127.0.0.1:0"})
	if err != nil {
		return err
	}
	d.created = created
	if err := m.fillDemo(ctx, n, d); err != nil {
		n.Close()
		return err
	}
	if m.Logger == nil && once {
		m.Logger = m.quietLogger() // the story is the output; warnings only
	}
	if err := m.startServer(ctx, n, "127.0.0.1:0", false); err != nil {
		n.Close()
		return err
	}
	m.printDemo(d)
	if !once {
		fmt.Fprintf(m.Stdout, "\nServing until Ctrl-C; then %s is removed.\n", tmp)
		return nil
	}
	got, err := m.fetchDemo(ctx, d)
	if err != nil {
		return fmt.Errorf("the demo's own check failed: %w", err)
	}
	fmt.Fprintf(m.Stdout, "\nChecked: fetched %d objects from %s over HTTPS (TLS 1.3, pin checked) with Parley's TAXII client, as %s.\n",
		got, m.demoURLs(d).objects, demoUser)
	if got != d.objects {
		return fmt.Errorf("the demo's own check failed: fetched %d objects, want %d", got, d.objects)
	}
	size, entries, err := m.verifyDemoLog(ctx, d)
	if err != nil {
		return fmt.Errorf("the demo's own check of the log failed: %w", err)
	}
	fmt.Fprintf(m.Stdout, "Checked: the log at %s has %d entries, signed by %s; every entry verified from the served checkpoint and tiles.\n",
		m.demoURLs(d).log, size, "parley-demo")
	if entries != int64(d.objects) {
		return fmt.Errorf("the demo's own check of the log failed: %d entries, want %d", entries, d.objects)
	}
	if err := m.Close(); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "Stopped the server and removed %s.\n", tmp)
	return nil
}

// fillDemo imports the sample incident and makes the user and token.
func (m *Main) fillDemo(ctx context.Context, n *node.Node, d *demoState) error {
	raws, err := stix.SampleIncident(time.Now())
	if err != nil {
		return err
	}
	rep, err := ingest.Objects(ctx, n.Store, d.created.Collection.ID, raws, ingest.AllOrNothing)
	if err != nil {
		return err
	}
	if rep.Rejected > 0 {
		return fmt.Errorf("the sample incident has %d invalid objects: %v", rep.Rejected, rep.Results[0].Err)
	}
	d.objects = rep.Added
	for _, raw := range raws {
		if o, _, err := stix.Parse(raw); err == nil {
			d.types[o.Type]++
		}
	}
	b := make([]byte, 15)
	rand.Read(b)
	d.password = base64.RawURLEncoding.EncodeToString(b)
	hash, err := dialogue.HashPassword(d.password)
	if err != nil {
		return err
	}
	if err := n.Store.CreateUser(ctx, &dialogue.User{Name: demoUser, Role: dialogue.RoleExpert}, hash); err != nil {
		return err
	}
	if d.token, err = dialogue.NewToken(); err != nil {
		return err
	}
	if err := n.Store.CreateToken(ctx, demoUser, dialogue.HashToken(d.token), "demo"); err != nil {
		return err
	}
	d.tokenFile = filepath.Join(d.tmp, demoUser+".token")
	return os.WriteFile(d.tokenFile, []byte(d.token+"\n"), 0o600)
}

type demoURLs struct{ discovery, apiRoot, collections, objects, indicators, log string }

func (m *Main) demoURLs(d *demoState) demoURLs {
	root := m.url + "/taxii2/" + taxii.APIRoot + "/"
	objects := root + "collections/" + d.created.Collection.ID + "/objects/"
	return demoURLs{
		discovery:   m.url + "/taxii2/",
		apiRoot:     root,
		collections: root + "collections/",
		objects:     objects,
		indicators:  objects + "?" + url.Values{"match[type]": {"indicator"}}.Encode(),
		log:         m.url + "/log/" + d.created.Collection.ID + "/",
	}
}

// printDemo tells what the demo made and where to look.
func (m *Main) printDemo(d *demoState) {
	w := m.Stdout
	u := m.demoURLs(d)
	pin := "sha256//" + d.created.Pin
	fmt.Fprintf(w, "Parley demo: a node with a sample incident, serving TAXII 2.1 on this machine.\n\n")
	fmt.Fprintf(w, "  data folder      %s (removed when the demo stops)\n", d.dir)
	fmt.Fprintf(w, "  sample incident  %d STIX 2.1 objects in collection %q (%s):\n", d.objects, d.created.Collection.Title, d.created.Collection.ID)
	fmt.Fprintf(w, "                   %s\n", typeSummary(d.types))
	fmt.Fprintf(w, "  user             %s (role expert)\n", demoUser)
	fmt.Fprintf(w, "  password         %s\n", d.password)
	fmt.Fprintf(w, "  API token        %s (also in %s)\n", d.token, d.tokenFile)
	fmt.Fprintf(w, "  certificate      %s (self-signed)\n", d.created.TLSCert)
	fmt.Fprintf(w, "  certificate pin  %s\n\n", pin)
	fmt.Fprintf(w, "URLs (HTTPS, TLS 1.3):\n")
	fmt.Fprintf(w, "  discovery        %s\n", u.discovery)
	fmt.Fprintf(w, "  API root         %s\n", u.apiRoot)
	fmt.Fprintf(w, "  collections      %s\n", u.collections)
	fmt.Fprintf(w, "  objects          %s\n", u.objects)
	fmt.Fprintf(w, "  log checkpoint   %scheckpoint (the collection's signed Merkle log: C2SP tlog-checkpoint and tlog-tiles)\n", u.log)
	fmt.Fprintf(w, "  metrics          %s/metrics\n\n", m.url)
	accept := `-H 'Accept: application/taxii+json;version=2.1'`
	basic := fmt.Sprintf("-u '%s:%s'", demoUser, d.password)
	fmt.Fprintf(w, "Try (the pin stands in for a certificate authority; -k skips the CA check, not the pin check):\n")
	fmt.Fprintf(w, "  curl -k --pinnedpubkey '%s' %s %s '%s'\n", pin, basic, accept, u.discovery)
	fmt.Fprintf(w, "  curl -k --pinnedpubkey '%s' %s %s '%s'\n", pin, basic, accept, u.collections)
	fmt.Fprintf(w, "  curl -k --pinnedpubkey '%s' %s %s '%s'\n", pin, basic, accept, u.indicators)
	fmt.Fprintf(w, "With the API token, trusting the node's certificate file instead of a pin:\n")
	fmt.Fprintf(w, "  curl --cacert '%s' -H 'Authorization: Bearer %s' %s '%s'\n", d.created.TLSCert, d.token, accept, u.objects)
	fmt.Fprintf(w, "Read the record: the signed checkpoint, then check every entry from the served tiles alone:\n")
	fmt.Fprintf(w, "  curl -k --pinnedpubkey '%s' %s '%scheckpoint'\n", pin, basic, u.log)
	fmt.Fprintf(w, "  PARLEY_TOKEN=$(cat '%s') parley verify --url '%s' --key '%s' --tls-pin '%s'\n", d.tokenFile, u.log, d.created.LogKeyPub, d.created.Pin)
	fmt.Fprintf(w, "  parley verify --dir %s\n", d.dir)
	fmt.Fprintf(w, "Pull the collection into a second node:\n")
	fmt.Fprintf(w, "  parley init --dir %s --name node-b\n", filepath.Join(d.tmp, "node-b"))
	fmt.Fprintf(w, "  parley pull --dir %s --from '%s' --collection %s --token-file '%s' --tls-pin '%s'\n",
		filepath.Join(d.tmp, "node-b"), u.apiRoot, d.created.Collection.ID, d.tokenFile, pin)
}

// typeSummary is "1 attack-pattern, 4 indicator, ..." in a stable order.
func typeSummary(types map[string]int) string {
	order := []string{"report", "incident", "indicator", "infrastructure", "attack-pattern", "malware",
		"observed-data", "ipv4-addr", "domain-name", "relationship", "identity", "marking-definition"}
	s := ""
	seen := map[string]bool{}
	add := func(t string) {
		if types[t] == 0 || seen[t] {
			return
		}
		seen[t] = true
		if s != "" {
			s += ", "
		}
		s += strconv.Itoa(types[t]) + " " + t
	}
	for _, t := range order {
		add(t)
	}
	for t := range types {
		if !seen[t] {
			add(t)
		}
	}
	return s
}

// fetchDemo fetches every object of the demo collection with the TAXII
// client, over HTTPS with the pin, and returns how many it got.
func (m *Main) fetchDemo(ctx context.Context, d *demoState) (int, error) {
	client, err := taxii.NewClient(m.demoURLs(d).apiRoot, taxii.ClientOptions{
		User: demoUser, Password: d.password, Pin: d.created.Pin, Logger: m.quietLogger(),
	})
	if err != nil {
		return 0, err
	}
	q := url.Values{"limit": {"5"}}
	total := 0
	for {
		env, _, err := client.Objects(ctx, d.created.Collection.ID, q)
		if err != nil {
			return total, err
		}
		total += len(env.Objects)
		if !env.More || env.Next == "" {
			return total, nil
		}
		q.Set("next", env.Next)
	}
}

// verifyDemoLog checks the demo collection's log as a remote reader would:
// the served checkpoint against the node's log key, every entry against
// the served tiles.
func (m *Main) verifyDemoLog(ctx context.Context, d *demoState) (size, entries int64, err error) {
	v, err := node.ParseVerifierKey(d.created.LogKeyPub)
	if err != nil {
		return 0, 0, err
	}
	client, err := logapi.HTTPClient(d.created.Pin, false)
	if err != nil {
		return 0, 0, err
	}
	r := &tlog.RemoteLog{
		Fetch:  logapi.NewFetcher(client, m.demoURLs(d).log, d.token),
		LogKey: v,
		Entry:  func(int64, []byte) error { entries++; return nil },
	}
	s, err := tlog.VerifyRemote(ctx, r, nil)
	if err != nil {
		return 0, 0, err
	}
	return s.Size, entries, nil
}
