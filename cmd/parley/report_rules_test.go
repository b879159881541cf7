package main

import (
	"bytes"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// TestReportRefusalsEverywhere files the same bad reports through the
// CLI, the JSON API and the web UI's form of one node: each path refuses
// the same field, the CLI and the API with the same words (the
// workflow's), the web UI beside the field with the same reason after the
// field's label.
func TestReportRefusalsEverywhere(t *testing.T) {
	dir := newNode(t, "node-a")
	other := filepath.Join(t.TempDir(), "node-b")
	mustRun(t, "", "init", "--dir", other, "--name", "node-b")
	key, pin := keysOf(t, other)
	mustRun(t, "", "peer", "add", "--dir", dir, "--name", "node-b", "--url", "https://127.0.0.1:1", "--tls-pin", pin, "--log-key", key)
	mustRun(t, "", "channel", "create", "--dir", dir, "a-b", "--with", "node-b")
	token := strings.TrimSpace(mustRun(t, "", "token", "create", "--dir", dir, "--user", "alice"))
	m, _ := serve(t, dir)
	// The form offers the active channels: b's acceptance, as peering
	// would record it.
	ch, err := m.node.Store.Channel(t.Context(), "a-b")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.node.Store.ActivateChannel(t.Context(), ch.ID, "node-b", time.Now()); err != nil {
		t.Fatal(err)
	}
	client := httpsClient(t, dir)
	jar, _ := cookiejar.New(nil)
	client.Jar = jar
	base := m.URL()

	// The web UI: sign in, and the form's token.
	page := func(method, path string, form url.Values) (int, string) {
		t.Helper()
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, _ := http.NewRequest(method, base+path, body)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		req.Header.Set("Accept-Language", "en")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	csrf := func(p string) string {
		t.Helper()
		mm := csrfRE.FindStringSubmatch(p)
		if mm == nil {
			t.Fatalf("no CSRF token in\n%s", p)
		}
		return mm[1]
	}
	_, login := page("GET", "/login", nil)
	if st, p := page("POST", "/login", url.Values{"csrf": {csrf(login)}, "name": {"alice"}, "password": {testPassword}}); st != 200 {
		t.Fatalf("sign-in: %d\n%s", st, p)
	}
	_, form := page("GET", "/reports/new", nil)
	formToken := csrf(form)

	type filing struct {
		channel, title, indicators, tlp, severity string
		sectors, recipients                       []string
	}
	good := filing{channel: "a-b", title: "Beacons to a C2 server", indicators: "192.0.2.10\nupdate-check.example.net\n", tlp: "green", severity: "3", sectors: []string{"energy"}}
	indicatorsFile := filepath.Join(t.TempDir(), "iocs.txt")
	for _, c := range []struct {
		name   string
		change func(f *filing)
		field  string
		words  string // what the CLI and the API say; the web UI says it after the field's label
	}{
		{"unknown channel", func(f *filing) { f.channel = "nope" }, "channel", `channel: "nope" is not a channel of this node.`},
		{"no title", func(f *filing) { f.title = "" }, "title", "title: required; say in a line what happened."},
		{"long title", func(f *filing) { f.title = strings.Repeat("x", 301) }, "title", "title: 301 characters; at most 300."},
		{"not an indicator", func(f *filing) { f.indicators = "192.0.2.10\nnot-an-indicator" }, "indicators",
			"indicators: line 2 (not-an-indicator): not an IP address, network, domain, URL, e-mail address, hash (MD5, SHA-1, SHA-256, SHA-512) or STIX pattern in brackets"},
		{"host bits", func(f *filing) { f.indicators = "198.51.100.7/24" }, "indicators", "indicators: line 1 (198.51.100.7/24): not a network address: did you mean 198.51.100.0/24?"},
		{"bad STIX pattern", func(f *filing) { f.indicators = "[file:hashes.'SHA-256' = 'abc']" }, "indicators", "indicators: line 1 ([file:hashes.'SHA-256' = 'abc']): not a valid STIX pattern: "},
		{"bad e-mail address", func(f *filing) { f.indicators = "@example.org" }, "indicators", "indicators: line 1 (@example.org): not an e-mail address: want name@domain"},
		{"no TLP", func(f *filing) { f.tlp = "" }, "tlp", "tlp: required; pick the report's TLP 2.0 marking."},
		{"unknown TLP", func(f *filing) { f.tlp = "purple" }, "tlp", `tlp: "purple" is not a TLP 2.0 level (clear, green, amber, amber+strict, red).`},
		{"RED without recipients", func(f *filing) { f.tlp = "red" }, "recipients", "recipients: required for TLP:RED; name the users (or role:ROLE) who may read the report."},
		{"recipients of a GREEN report", func(f *filing) { f.recipients = []string{"alice"} }, "recipients", "recipients: only a TLP:RED report names recipients."},
		{"bad recipient", func(f *filing) { f.tlp, f.recipients = "red", []string{"role:king"} }, "recipients", `recipients: "role:king" is not a user name or role:ROLE.`},
		{"no sector", func(f *filing) { f.sectors = nil }, "sectors", "sectors: required; name at least one sector the incident hit."},
		{"unknown sector", func(f *filing) { f.sectors = []string{"moon-base"} }, "sectors", `sectors: "moon-base" is not a sector code.`},
		{"severity 0", func(f *filing) { f.severity = "0" }, "severity", `severity: "0"; want a number from 1 (low) to 5 (critical).`},
		{"severity 6", func(f *filing) { f.severity = "6" }, "severity", `severity: "6"; want a number from 1 (low) to 5 (critical).`},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := good
			c.change(&f)

			// The CLI.
			if err := os.WriteFile(indicatorsFile, []byte(f.indicators), 0o600); err != nil {
				t.Fatal(err)
			}
			args := []string{"report", "file", "--dir", dir, "--channel", f.channel, "--tlp", f.tlp, "--severity", f.severity, "--indicators", indicatorsFile}
			if f.title != "" {
				args = append(args, "--title", f.title)
			}
			for _, s := range f.sectors {
				args = append(args, "--sector", s)
			}
			for _, r := range f.recipients {
				args = append(args, "--recipient", r)
			}
			cli, _, stderr := newMain("")
			err := cli.ParseFlags(t.Context(), args)
			if err == nil {
				err = cli.Run(t.Context())
				cli.Close()
			}
			if err == nil {
				t.Fatal("the CLI filed it")
			}
			cli.PrintError(err)
			if want := "parley: error: " + c.words; !strings.Contains(stderr.String(), want) {
				t.Errorf("CLI: %q, want %q", stderr, want)
			}

			// The API.
			sev := 0
			if _, err := json.Marshal(f.severity); err == nil {
				json.Unmarshal([]byte(f.severity), &sev)
			}
			body, _ := json.Marshal(map[string]any{"channel": f.channel, "title": f.title, "indicators": f.indicators, "tlp": f.tlp,
				"sectors": f.sectors, "severity": sev, "recipients": f.recipients})
			req, _ := http.NewRequest("POST", base+"/api/reports", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var answer struct {
				Description string `json:"description"`
			}
			json.NewDecoder(resp.Body).Decode(&answer)
			resp.Body.Close()
			if resp.StatusCode != 400 || !strings.HasPrefix(answer.Description, c.words) || strings.Contains(answer.Description, "\n") {
				t.Errorf("API: %d %q, want 400 %q", resp.StatusCode, answer.Description, c.words)
			}

			// The web UI: the same reason beside the same field, after
			// its label.
			st, p := page("POST", "/reports", url.Values{"csrf": {formToken}, "channel": {f.channel}, "title": {f.title}, "indicators": {f.indicators},
				"tlp": {f.tlp}, "severity": {f.severity}, "sectors": f.sectors, "recipients": {strings.Join(f.recipients, ", ")}})
			errRE := regexp.MustCompile(`<p class="field-error" id="report-([a-z]+)-error">([^<]*)</p>`)
			all := errRE.FindAllStringSubmatch(p, -1)
			if st != 400 || len(all) != 1 || all[0][1] != c.field {
				t.Fatalf("web UI: %d, field errors %q, want 400 and one beside %s\n%s", st, all, c.field, p)
			}
			_, reason, _ := strings.Cut(c.words, ": ")
			if got := html.UnescapeString(all[0][2]); !strings.Contains(got, ": "+reason) || !strings.HasPrefix(strings.ToLower(got), strings.ToLower(c.field)) {
				t.Errorf("web UI: %q, want the reason %q", got, reason)
			}
		})
	}
}
