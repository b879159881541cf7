package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/parleyhq/parley/internal/blob"
	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/geo"
	"github.com/parleyhq/parley/internal/httpapi"
	"github.com/parleyhq/parley/internal/logapi"
	"github.com/parleyhq/parley/internal/node"
	"github.com/parleyhq/parley/internal/peer"
	"github.com/parleyhq/parley/internal/server"
	"github.com/parleyhq/parley/internal/stix"
	"github.com/parleyhq/parley/internal/taxii"
	"github.com/parleyhq/parley/internal/tlog"
)

// demoUser is the user the demo makes on each node.
const demoUser = "analyst"

// demoWait bounds each step of the demo's story.
const demoWait = 8 * time.Second

func (m *Main) newDemoCommand() *cobra.Command {
	var once bool
	cmd := &cobra.Command{
		Use:   "demo [--once]",
		Short: "Run two nodes, party A and party B, exchanging a report, to try Parley",
		Long: `demo makes two nodes, party-a and party-b, in fresh folders under a temporary
folder, serves both over HTTPS (mutual TLS 1.3) on 127.0.0.1, and runs the
exchange for real: each pins the other's keys, party-a proposes a channel and
party-b accepts it, party-a files an incident report (indicators,
infrastructure, malware, a TLP:AMBER marking) with an evidence file, party-b
receives it, checks every entry against party-a's checkpoint, cosigns that
checkpoint and fetches the evidence by its SHA-256, answers with a note that
party-a receives and cosigns in turn, and both logs are verified.

It prints each step with its time, the URLs, a user and password and an API
token on each node, and commands to look further, then serves until Ctrl-C
and removes the folder. --once tells the same story, checks it with Parley's
TAXII client, and exits.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return m.runDemo(cmd.Context(), once)
		},
	}
	cmd.Flags().BoolVar(&once, "once", false, "tell the story, check it, then stop")
	return cmd
}

// demoParty is one of the demo's two nodes.
type demoParty struct {
	name, label, territory string
	dir                    string
	n                      *node.Node
	srv                    *server.Server
	password, token        string
	tokenFile              string
	identity               string // its STIX identity id
}

// demoState is what the demo made, for the story it prints.
type demoState struct {
	tmp       string
	start     time.Time
	a, b      *demoParty
	channel   *dialogue.Channel
	objects   int
	types     map[string]int
	evidence  [32]byte
	evSize    int64
	committed time.Time     // when party A's report was committed
	latency   time.Duration // from then until party B held it
	steps     []string
	reportID  string
	requestID string
	sizeA     int64
	verifiedA string
	verifiedB string
}

func (m *Main) runDemo(ctx context.Context, once bool) error {
	tmp, err := os.MkdirTemp("", "parley-demo-")
	if err != nil {
		return fmt.Errorf("making a temporary folder: %w", err)
	}
	m.cleanup = append(m.cleanup, func() { os.RemoveAll(tmp) })
	d := &demoState{tmp: tmp, start: time.Now(), types: map[string]int{},
		a: &demoParty{name: "party-a", label: "A", territory: "XA"},
		b: &demoParty{name: "party-b", label: "B", territory: "XB"}}
	if m.Logger == nil {
		m.Logger = m.quietLogger() // the story is the output; warnings only
	}
	w := m.Stdout
	fmt.Fprintf(w, "Parley demo: two nodes, party A and party B, exchanging over mutual TLS on this machine.\n\n")
	for _, p := range []*demoParty{d.a, d.b} {
		if err := m.startDemoParty(ctx, d, p); err != nil {
			return err
		}
	}
	d.step("started %s at %s and %s at %s, each with its own keys and data folder", d.a.name, d.a.srv.URL, d.b.name, d.b.srv.URL)
	fmt.Fprintln(w, d.lastStep())

	// Each pins the other's two keys, as 'parley peer add' does.
	for _, pair := range [][2]*demoParty{{d.a, d.b}, {d.b, d.a}} {
		p, err := peer.NewPeer(pair[1].name, pair[1].srv.URL, pair[1].srv.Pin, pair[1].n.LogKey(), pair[1].territory)
		if err != nil {
			return err
		}
		p.CreatedAt = time.Now()
		if err := pair[0].n.Store.AddPeer(ctx, p); err != nil {
			return err
		}
	}
	d.step("pinned each other: %s pins %s's tls-pin and log-key (territory %s), and %s pins %s's (territory %s)", d.a.name, d.b.name, d.b.territory, d.b.name, d.a.name, d.a.territory)
	fmt.Fprintln(w, d.lastStep())

	d.channel = &dialogue.Channel{Title: "A-B incidents", Description: "Incident reports between party A and party B", Peer: d.b.name, State: dialogue.ChannelProposed, CreatedAt: time.Now()}
	if err := d.a.n.Store.ProposeChannel(ctx, d.channel); err != nil {
		return err
	}
	if err := d.a.n.Store.SetGrant(ctx, dialogue.Grant{CollectionID: d.channel.ID, Principal: "*", Read: true, Write: true}); err != nil {
		return err
	}
	id := d.channel.ID
	if err := demoUntil(ctx, "party-b to be offered the channel", func() (bool, error) {
		ch, err := d.b.n.Store.Channel(ctx, id)
		return err == nil && ch.State == dialogue.ChannelOffered, nil
	}); err != nil {
		return err
	}
	if _, err := d.b.n.Store.AcceptChannel(ctx, id, "", time.Now()); err != nil {
		return err
	}
	if err := d.b.n.Store.SetGrant(ctx, dialogue.Grant{CollectionID: id, Principal: "*", Read: true, Write: true}); err != nil {
		return err
	}
	if err := demoUntil(ctx, "party-a to see the channel accepted", func() (bool, error) {
		ch, err := d.a.n.Store.Channel(ctx, id)
		return err == nil && ch.State == dialogue.ChannelActive, nil
	}); err != nil {
		return err
	}
	d.step("%s proposed channel %q (%s); %s accepted it", d.a.name, d.channel.Title, id, d.b.name)
	fmt.Fprintln(w, d.lastStep())

	if err := m.agreeOffLimits(ctx, d); err != nil {
		return err
	}
	m.say(d)
	if err := m.fileDemoReport(ctx, d); err != nil {
		return err
	}
	fmt.Fprintln(w, d.lastStep())
	if err := m.receiveDemoReport(ctx, d); err != nil {
		return err
	}
	fmt.Fprintln(w, d.steps[len(d.steps)-2])
	fmt.Fprintln(w, d.lastStep())
	for _, step := range []func(context.Context, *demoState) error{m.requestAssistance, m.hotlineAndCheck, m.assessThreat, m.meetAndSign} {
		if err := step(ctx, d); err != nil {
			return err
		}
	}
	// Each party's latest checkpoint cosigned by the other, so that the
	// check below speaks of the whole record.
	for _, p := range []struct{ own, peer *demoParty }{{d.a, d.b}, {d.b, d.a}} {
		if err := demoUntil(ctx, p.peer.name+" to cosign "+p.own.name+"'s latest checkpoint", func() (bool, error) {
			cp, err := p.own.n.Store.LatestCheckpoint(ctx, d.channel.ID)
			if err != nil {
				return false, err
			}
			return strings.Contains(string(cp.Note), "\n\u2014 "+p.peer.name+" "), nil
		}); err != nil {
			return err
		}
	}
	if err := m.verifyDemo(ctx, d); err != nil {
		return fmt.Errorf("the demo's own check of the logs failed: %w", err)
	}
	fmt.Fprintln(w, d.lastStep())
	sum, err := d.a.srv.Workflow.Summary(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nThe leadership summary on %s (nothing above TLP:GREEN; 'parley summary --dir %s'):\n\n", d.a.name, d.a.dir)
	printSummary(w, sum)
	m.printDemo(d)
	if !once {
		fmt.Fprintf(w, "\nServing both nodes until Ctrl-C; then %s is removed.\n", tmp)
		return nil
	}
	// Both nodes hold the same channel once what is in flight arrived
	// (their schedulers may still be writing an event or a receipt).
	var got, onA int
	err = demoUntil(ctx, "both nodes to hold the same channel", func() (bool, error) {
		var err error
		if got, err = m.fetchDemo(ctx, d); err != nil {
			return false, err
		}
		onA, err = countObjects(ctx, d.a.n.Store, id)
		return got == onA, err
	})
	if err != nil {
		return fmt.Errorf("the demo's own check failed: fetched %d objects from party-b, party-a holds %d: %w", got, onA, err)
	}
	fmt.Fprintf(w, "\nChecked: fetched %d objects of the channel from %s over HTTPS (TLS 1.3, pin checked) with Parley's TAXII client, as %s; %s holds the same %d.\n",
		got, demoObjectsURL(d.b, id), demoUser, d.a.name, onA)
	if err := m.Close(); err != nil {
		return err
	}
	fmt.Fprintf(w, "Stopped both nodes and removed %s.\n", tmp)
	return nil
}

// step adds a line to the story, with the time since the start.
func (d *demoState) step(format string, args ...any) {
	line := fmt.Sprintf("  %5.2fs  ", time.Since(d.start).Seconds()) + fmt.Sprintf(format, args...)
	d.steps = append(d.steps, line)
}

func (d *demoState) lastStep() string { return d.steps[len(d.steps)-1] }

// demoUntil polls ok until it holds, for at most demoWait.
func demoUntil(ctx context.Context, what string, ok func() (bool, error)) error {
	deadline := time.Now().Add(demoWait)
	for {
		done, err := ok()
		if err != nil {
			return err
		}
		if done {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the demo waited %s for %s", demoWait, what)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// startDemoParty makes a node, its user and token, and serves it.
func (m *Main) startDemoParty(ctx context.Context, d *demoState, p *demoParty) error {
	p.dir = filepath.Join(d.tmp, p.name)
	n, _, err := node.Init(ctx, p.dir, node.InitOptions{Name: p.name, Listen: "127.0.0.1:0"})
	if err != nil {
		return err
	}
	b := make([]byte, 15)
	rand.Read(b)
	p.password = base64.RawURLEncoding.EncodeToString(b)
	hash, err := dialogue.HashPassword(p.password)
	if err == nil {
		err = n.Store.CreateUser(ctx, &dialogue.User{Name: demoUser, Role: dialogue.RoleExpert}, hash)
	}
	if err == nil {
		p.token, err = dialogue.NewToken()
	}
	if err == nil {
		err = n.Store.CreateToken(ctx, demoUser, dialogue.HashToken(p.token), "demo")
	}
	if err == nil {
		p.tokenFile = filepath.Join(d.tmp, p.name+".token")
		err = os.WriteFile(p.tokenFile, []byte(p.token+"\n"), 0o600)
	}
	if err != nil {
		n.Close()
		return err
	}
	p.identity = peer.IdentityID(n.LogKey())
	// No real GeoIP data: the documentation ranges mapped to the demo's
	// two territories, read through the same code as a real database.
	if _, err := geo.DemoDatabase(p.dir, "XA", "XB"); err != nil {
		n.Close()
		return err
	}
	log := m.logger().With("node", p.name)
	srv, err := m.startNode(ctx, n, "127.0.0.1:0", false, log)
	if err != nil {
		n.Close()
		return err
	}
	p.n, p.srv = n, srv
	return nil
}

// demoEvidence is the evidence file party A attaches: a packet capture's
// summary, made up for the demo.
func demoEvidence(now time.Time) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Parley demo evidence: beacon traffic seen at the mail gateway (made up)\n")
	for i := range 40 {
		t := now.Add(time.Duration(i-40) * 50 * time.Minute).UTC().Format(time.RFC3339)
		fmt.Fprintf(&b, "%s 10.20.0.7:%d -> 203.0.113.42:443 TLS SNI=update-check.example.net bytes=%d\n", t, 49152+i, 1800+37*i)
	}
	return b.Bytes()
}

// fileDemoReport has party A file the sample incident with an evidence
// file in the channel.
func (m *Main) fileDemoReport(ctx context.Context, d *demoState) error {
	a, id := d.a, d.channel.ID
	blobs, err := a.n.Blobs()
	if err != nil {
		return err
	}
	ev := demoEvidence(time.Now())
	sum, size, err := blobs.Put(ctx, bytes.NewReader(ev))
	if err != nil {
		return err
	}
	d.evidence, d.evSize = sum, size
	raws, err := stix.SampleIncidentWith(stix.SampleOptions{
		Now: time.Now(), IdentityID: a.identity, IdentityName: a.name + " (national CERT, demo)",
		Evidence:  []stix.SampleEvidence{{SHA256: sum, MimeType: "text/plain", URL: a.srv.URL + peer.BlobsPath + "/" + blob.Hex(sum)}},
		C2Address: demoC2, NoReport: true,
	})
	if err != nil {
		return err
	}
	bundle, err := json.Marshal(map[string]any{"type": "bundle", "id": stix.NewID("bundle"), "objects": raws})
	if err != nil {
		return err
	}
	if _, err := a.n.Store.AppendBlob(ctx, id, sum, size); err != nil {
		return err
	}
	d.reportID, err = a.srv.Workflow.FileReport(ctx, id, bundle, "amber", []string{"energy"}, 4)
	if err != nil {
		return err
	}
	rep, err := a.srv.Workflow.Report(ctx, d.reportID)
	if err != nil {
		return err
	}
	d.objects = len(rep.Objects) + 1
	d.types["report"]++
	for _, raw := range rep.Objects {
		if o, _, err := stix.Parse(raw); err == nil {
			d.types[o.Type]++
		}
	}
	d.committed = time.Now()
	d.step("%s filed an incident report (sector energy, severity 4 of 5, TLP:AMBER): %d STIX objects (%s) and an evidence file (sha256:%s…, %d bytes)",
		a.name, d.objects, typeSummary(d.types), blob.Hex(sum)[:16], size)
	return nil
}

// receiveDemoReport waits for party B to hold the report and the evidence,
// and party A's checkpoint to carry B's cosignature.
func (m *Main) receiveDemoReport(ctx context.Context, d *demoState) error {
	a, b, id := d.a, d.b, d.channel.ID
	if err := demoUntil(ctx, "party-b to receive the report", func() (bool, error) {
		_, err := b.srv.Workflow.Report(ctx, d.reportID)
		return err == nil, nil
	}); err != nil {
		return err
	}
	d.latency = time.Since(d.committed)
	blobs, err := b.n.Blobs()
	if err != nil {
		return err
	}
	if err := demoUntil(ctx, "party-b to fetch the evidence", func() (bool, error) {
		ok, err := blobs.Has(d.evidence)
		return ok, err
	}); err != nil {
		return err
	}
	d.step("%s received all %d objects, each entry checked against %s's signed checkpoint, %d ms after %s committed them; and the evidence file, its SHA-256 checked",
		b.name, d.objects, a.name, max(d.latency.Milliseconds(), 1), a.name)
	var size int64
	if err := demoUntil(ctx, "party-b to cosign party-a's checkpoint", func() (bool, error) {
		c, err := a.n.Store.Cosigned(ctx, b.name, id)
		if err != nil {
			return false, err
		}
		n, err := a.n.Store.LogSize(ctx, id)
		size = c
		return c == n, err
	}); err != nil {
		return err
	}
	cp, err := a.n.Store.LatestCheckpoint(ctx, id)
	if err != nil {
		return err
	}
	d.sizeA = size
	d.step("%s cosigned %s's checkpoint: size %d (the off-limits list, the report's objects, the evidence hash), root %s…",
		b.name, a.name, size, base64.StdEncoding.EncodeToString(cp.Root[:])[:16])
	return nil
}

// verifyDemo verifies both logs of the channel on both nodes: every
// entry, every checkpoint, the signatures and the cosignatures.
func (m *Main) verifyDemo(ctx context.Context, d *demoState) error {
	for _, p := range []*demoParty{d.a, d.b} {
		c, err := p.n.Store.FindCollection(ctx, d.channel.ID)
		if err != nil {
			return err
		}
		cosigners, err := p.n.CosignatureVerifiers(ctx)
		if err != nil {
			return err
		}
		rep, err := p.n.VerifyCollection(ctx, c, cosigners)
		if err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
		last := rep.Checkpoints[len(rep.Checkpoints)-1]
		line := fmt.Sprintf("%s's log: %d entries, cosigned by %s", p.name, rep.Entries, strings.Join(last.Cosigners, ", "))
		if p == d.a {
			d.verifiedA = line
		} else {
			d.verifiedB = line
		}
	}
	// And party A's log as party B reads it: from the served checkpoint and
	// tiles alone, over mutual TLS.
	v, err := node.ParseVerifierKey(d.a.n.LogKey())
	if err != nil {
		return err
	}
	cert, err := d.b.n.TLSCertificate()
	if err != nil {
		return err
	}
	origin, _ := tlog.Origin(d.a.name, d.channel.ID)
	remote := &tlog.RemoteLog{
		Fetch:  logapi.NewFetcher(httpapi.PeerClient(cert, d.a.srv.Pin, 0), d.a.srv.URL+"/log/"+d.channel.ID+"/", ""),
		Origin: origin, LogKey: v,
	}
	if _, err := tlog.VerifyRemote(ctx, remote, nil); err != nil {
		return fmt.Errorf("party-a's log as party-b reads it: %w", err)
	}
	d.step("verified both logs on both nodes, every entry, checkpoint and signature: %s; %s", d.verifiedA, d.verifiedB)
	return nil
}

func countObjects(ctx context.Context, st dialogue.Store, id string) (int, error) {
	total := 0
	f := dialogue.ObjectFilter{Limit: 1000, MetaOnly: true} // the latest version of each, as TAXII serves
	for {
		page, err := st.FindObjects(ctx, id, f)
		if err != nil {
			return 0, err
		}
		total += len(page.Objects)
		if !page.More {
			return total, nil
		}
		f.After = page.Next
	}
}

func demoObjectsURL(p *demoParty, id string) string {
	return p.srv.URL + "/taxii2/" + taxii.APIRoot + "/collections/" + id + "/objects/"
}

// printDemo tells where to look.
func (m *Main) printDemo(d *demoState) {
	w := m.Stdout
	id := d.channel.ID
	accept := `-H 'Accept: application/taxii+json;version=2.1'`
	for _, p := range []*demoParty{d.a, d.b} {
		pin := "sha256//" + p.srv.Pin
		fmt.Fprintf(w, "\nParty %s: %s\n", p.label, p.name)
		fmt.Fprintf(w, "  data folder      %s (removed when the demo stops)\n", p.dir)
		fmt.Fprintf(w, "  user             %s (role expert), password %s\n", demoUser, p.password)
		fmt.Fprintf(w, "  API token        %s (also in %s)\n", p.token, p.tokenFile)
		fmt.Fprintf(w, "  tls-pin          %s\n", p.srv.Pin)
		fmt.Fprintf(w, "  log-key          %s\n", p.n.LogKey())
		fmt.Fprintf(w, "  web UI           %s/ (sign in as %s; English or Russian)\n", p.srv.URL, demoUser)
		fmt.Fprintf(w, "  discovery        %s/taxii2/\n", p.srv.URL)
		fmt.Fprintf(w, "  channel objects  %s\n", demoObjectsURL(p, id))
		fmt.Fprintf(w, "  log checkpoint   %s/log/%s/checkpoint (C2SP tlog-checkpoint and tlog-tiles)\n", p.srv.URL, id)
		fmt.Fprintf(w, "  metrics          %s/metrics\n", p.srv.URL)
		fmt.Fprintf(w, "  try              curl -k --pinnedpubkey '%s' -u '%s:%s' %s '%s/taxii2/'\n", pin, demoUser, p.password, accept, p.srv.URL)
	}
	a, b := d.a, d.b
	pinA, pinB := "sha256//"+a.srv.Pin, "sha256//"+b.srv.Pin
	basicB := fmt.Sprintf("-u '%s:%s'", demoUser, b.password)
	indicators := demoObjectsURL(b, id) + "?" + url.Values{"match[type]": {"indicator"}}.Encode()
	fmt.Fprintf(w, "\nIn a browser, both web UIs (the certificates are self-signed: this trusts exactly the two pinned keys):\n")
	fmt.Fprintf(w, "  chromium --user-data-dir=\"$(mktemp -d)\" --ignore-certificate-errors-spki-list=%s,%s %s/ %s/\n", a.srv.Pin, b.srv.Pin, a.srv.URL, b.srv.URL)
	fmt.Fprintf(w, "\nLook further (the pin stands in for a certificate authority; -k skips the CA check, not the pin check):\n")
	fmt.Fprintf(w, "On party-b, what it received from party-a (TAXII 2.1):\n")
	fmt.Fprintf(w, "  curl -k --pinnedpubkey '%s' %s %s '%s/taxii2/parley/collections/'\n", pinB, basicB, accept, b.srv.URL)
	fmt.Fprintf(w, "  curl -k --pinnedpubkey '%s' %s %s '%s'\n", pinB, basicB, accept, demoObjectsURL(b, id))
	fmt.Fprintf(w, "  curl -k --pinnedpubkey '%s' %s %s '%s'\n", pinB, basicB, accept, indicators)
	fmt.Fprintf(w, "On party-a, its log's checkpoint, signed by party-a and cosigned by party-b:\n")
	fmt.Fprintf(w, "  curl -k --pinnedpubkey '%s' -H 'Authorization: Bearer %s' '%s/log/%s/checkpoint'\n", pinA, a.token, a.srv.URL, id)
	fmt.Fprintf(w, "The state of the exchange, the logs, the evidence:\n")
	fmt.Fprintf(w, "  parley peer list --dir %s\n", b.dir)
	fmt.Fprintf(w, "  parley channel list --dir %s\n", d.a.dir)
	fmt.Fprintf(w, "  parley verify --dir %s --channel %s\n", d.a.dir, id)
	fmt.Fprintf(w, "  parley log show --dir %s --collection %s\n", d.a.dir, id)
	fmt.Fprintf(w, "  parley blob list --dir %s\n", b.dir)
	fmt.Fprintf(w, "  PARLEY_TOKEN=$(cat '%s') parley verify --url '%s/log/%s/' --key '%s' --tls-pin '%s'\n", d.a.tokenFile, d.a.srv.URL, id, d.a.n.LogKey(), d.a.srv.Pin)
}

// typeSummary is "1 attack-pattern, 4 indicator, ..." in a stable order.
func typeSummary(types map[string]int) string {
	order := []string{"report", "incident", "indicator", "infrastructure", "attack-pattern", "malware",
		"observed-data", "ipv4-addr", "domain-name", "artifact", "relationship", "identity", "marking-definition"}
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

// fetchDemo fetches every object of the channel from party B with the
// TAXII client, over HTTPS with the pin, and returns how many it got.
func (m *Main) fetchDemo(ctx context.Context, d *demoState) (int, error) {
	b := d.b
	client, err := taxii.NewClient(b.srv.URL+"/taxii2/"+taxii.APIRoot+"/", taxii.ClientOptions{
		User: demoUser, Password: b.password, Pin: b.srv.Pin, Logger: m.quietLogger(),
	})
	if err != nil {
		return 0, err
	}
	q := url.Values{"limit": {"10"}}
	total := 0
	for {
		env, _, err := client.Objects(ctx, d.channel.ID, q)
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
