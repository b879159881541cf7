package workflow_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/stix"
	"github.com/parleyhq/parley/internal/workflow"
)

// goodFiling is a filing CheckReport accepts: a title and indicator
// lines, no bundle (the web UI's form).
func goodFiling() workflow.ReportFiling {
	return workflow.ReportFiling{Channel: "a-b", Title: "Beacon to a C2 server", Description: "30 hours of beacons.",
		Indicators: "# from the gateway\n192.0.2.10\nupdate-check.example.net\n", TLP: "green", Sectors: []string{"energy"}, Severity: 3}
}

// Each bad input of a filing, refused with its field and its reason (the
// catalogue key) and the words the CLI and the API show.
func TestCheckReport(t *testing.T) {
	now := time.Date(2036, 12, 1, 8, 0, 0, 0, time.UTC)
	if err := workflow.CheckReport(goodFiling(), now); err != nil {
		t.Fatalf("the good filing: %v", err)
	}
	ts := stix.FormatTime(now)
	bundleOf := func(objs ...any) []byte {
		b, _ := json.Marshal(map[string]any{"type": "bundle", "id": stix.NewID("bundle"), "objects": objs})
		return b
	}
	malware := map[string]any{"type": "malware", "spec_version": "2.1", "id": stix.NewID("malware"), "created": ts, "modified": ts, "name": "x", "is_family": false}
	goodInd := map[string]any{"type": "indicator", "spec_version": "2.1", "id": stix.NewID("indicator"), "created": ts, "modified": ts,
		"pattern": "[ipv4-addr:value = '203.0.113.5']", "pattern_type": "stix", "valid_from": ts}
	badPattern := map[string]any{"type": "indicator", "spec_version": "2.1", "id": stix.NewID("indicator"), "created": ts, "modified": ts,
		"pattern": "[file:hashes.'SHA-256' = 'abc']", "pattern_type": "stix", "valid_from": ts}
	for _, c := range []struct {
		name   string
		change func(f *workflow.ReportFiling)
		field  string
		reason string
		words  string // what Error() says of the field
	}{
		{"no channel", func(f *workflow.ReportFiling) { f.Channel = " " }, "channel", "required; pick the channel to file the report on.", "channel: required; pick the channel to file the report on."},
		{"no title", func(f *workflow.ReportFiling) { f.Title = "" }, "title", "required; say in a line what happened.", "title: required"},
		{"description without a title", func(f *workflow.ReportFiling) { f.Title, f.Bundle = "", bundleOf(malware, goodInd) }, "title", "required; say in a line what happened.", "title: required"},
		{"long title", func(f *workflow.ReportFiling) { f.Title = strings.Repeat("x", 301) }, "title", "%d characters; at most %d.", "title: 301 characters; at most 300."},
		{"long description", func(f *workflow.ReportFiling) { f.Description = strings.Repeat("y", 20001) }, "description", "%d characters; at most %d.", "description: 20001 characters; at most 20000."},
		{"not an indicator", func(f *workflow.ReportFiling) { f.Indicators = "192.0.2.10\nnot-an-indicator" }, "indicators",
			"line %d (%s): not an IP address, network, domain, URL, e-mail address, hash (MD5, SHA-1, SHA-256, SHA-512) or STIX pattern in brackets", "indicators: line 2 (not-an-indicator): not an IP address"},
		{"host bits in a network", func(f *workflow.ReportFiling) { f.Indicators = "198.51.100.7/24" }, "indicators", "line %d (%s): not a network address: did you mean %s?", "indicators: line 1 (198.51.100.7/24): not a network address: did you mean 198.51.100.0/24?"},
		{"address with a zone", func(f *workflow.ReportFiling) { f.Indicators = "fe80::1%eth0" }, "indicators", "line %d (%s): an address with a zone names no host elsewhere", "indicators: line 1 (fe80::1%eth0): an address with a zone"},
		{"bad STIX pattern", func(f *workflow.ReportFiling) { f.Indicators = "[ipv4-addr:value = ]" }, "indicators", "line %d (%s): not a valid STIX pattern: %s", "indicators: line 1 ([ipv4-addr:value = ]): not a valid STIX pattern: "},
		{"STIX pattern of a bad hash", func(f *workflow.ReportFiling) { f.Indicators = "[file:hashes.'SHA-256' = 'abc']" }, "indicators", "line %d (%s): not a valid STIX pattern: %s", "not a valid STIX pattern"},
		{"bad URL", func(f *workflow.ReportFiling) { f.Indicators = "https:// bad host/x" }, "indicators", "line %d (%s): not a URL: want scheme://host/path", "indicators: line 1 (https:// bad host/x): not a URL"},
		{"bad e-mail address", func(f *workflow.ReportFiling) { f.Indicators = "@example.org" }, "indicators", "line %d (%s): not an e-mail address: want name@domain", "not an e-mail address"},
		{"long line", func(f *workflow.ReportFiling) { f.Indicators = strings.Repeat("a", 4097) }, "indicators", "line %d: %d bytes; at most %d.", "indicators: line 1: 4097 bytes; at most 4096."},
		{"too many lines", func(f *workflow.ReportFiling) {
			var b strings.Builder
			for i := range 1001 {
				fmt.Fprintf(&b, "10.0.%d.%d\n", i/256, i%256)
			}
			f.Indicators = b.String()
		}, "indicators", "more than %d; file the rest in another report.", "indicators: more than 1000"},
		{"no TLP", func(f *workflow.ReportFiling) { f.TLP = "" }, "tlp", "required; pick the report's TLP 2.0 marking.", "tlp: required"},
		{"TLP 1.0 white", func(f *workflow.ReportFiling) { f.TLP = "white" }, "tlp", "%q is not a TLP 2.0 level (clear, green, amber, amber+strict, red).", `tlp: "white" is not a TLP 2.0 level`},
		{"RED without recipients", func(f *workflow.ReportFiling) { f.TLP = "red" }, "recipients", "required for TLP:RED; name the users (or role:ROLE) who may read the report.", "recipients: required for TLP:RED"},
		{"recipients of a GREEN report", func(f *workflow.ReportFiling) { f.Recipients = []string{"olga"} }, "recipients", "only a TLP:RED report names recipients.", "recipients: only a TLP:RED report"},
		{"bad recipient", func(f *workflow.ReportFiling) { f.TLP, f.Recipients = "red", []string{"olga", "role:king"} }, "recipients", "%q is not a user name or role:ROLE.", `recipients: "role:king" is not a user name or role:ROLE.`},
		{"no sector", func(f *workflow.ReportFiling) { f.Sectors = nil }, "sectors", "required; name at least one sector the incident hit.", "sectors: required"},
		{"unknown sector", func(f *workflow.ReportFiling) { f.Sectors = []string{"energy", "moon-base"} }, "sectors", "%q is not a sector code.", `sectors: "moon-base" is not a sector code.`},
		{"severity 0", func(f *workflow.ReportFiling) { f.Severity = 0 }, "severity", "%q; want a number from 1 (low) to 5 (critical).", `severity: "0"; want a number from 1 (low) to 5 (critical).`},
		{"severity 6", func(f *workflow.ReportFiling) { f.Severity = 6 }, "severity", "%q; want a number from 1 (low) to 5 (critical).", `severity: "6"; want`},
		{"not JSON", func(f *workflow.ReportFiling) { f.Bundle = []byte("{") }, "bundle", "not a STIX 2.1 bundle: %s", "bundle: not a STIX 2.1 bundle"},
		{"no incident or indicator", func(f *workflow.ReportFiling) {
			f.Title, f.Description, f.Indicators, f.Bundle = "", "", "", bundleOf(malware)
		}, "bundle",
			"holds no incident and no indicator: a report is about an incident or gives indicators.", "bundle: holds no incident and no indicator"},
		{"bad pattern in the bundle", func(f *workflow.ReportFiling) { f.Bundle = bundleOf(badPattern) }, "bundle", "%s: %s", "bundle: /objects/0: "},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := goodFiling()
			c.change(&f)
			err := workflow.CheckReport(f, now)
			if dialogue.KindOf(err) != dialogue.KindInvalid {
				t.Fatalf("%v (%v), want invalid", err, dialogue.KindOf(err))
			}
			errs := dialogue.FieldErrorsOf(err)
			if len(errs) != 1 {
				t.Fatalf("%d fields refused, want 1: %v", len(errs), err)
			}
			fe := errs[0]
			if fe.Field != c.field || fe.Reason != c.reason || !strings.Contains(fe.Error(), c.words) || !strings.Contains(dialogue.Message(err), c.words) {
				t.Errorf("refused %q %q (%s), want %q %q (%s)", fe.Field, fe.Reason, fe.Error(), c.field, c.reason, c.words)
			}
		})
	}
	// Every refused field at once, in the order of the fields.
	err := workflow.CheckReport(workflow.ReportFiling{TLP: "purple", Sectors: []string{"moon"}, Severity: 9, Indicators: "nope"}, now)
	var got []string
	for _, fe := range dialogue.FieldErrorsOf(err) {
		got = append(got, fe.Field)
	}
	if want := "channel title indicators tlp sectors severity"; strings.Join(got, " ") != want {
		t.Errorf("refused %v, want %s\n%v", got, want, err)
	}
}

// The indicator lines of every kind become the STIX patterns the UI's
// form always made.
func TestParseIndicators(t *testing.T) {
	lines, fe := workflow.ParseIndicators(strings.Join([]string{
		"# a comment", "", "192.0.2.10", "2001:db8::1", "198.51.100.0/24", "2001:db8::/32",
		"Update-Check.Example.NET.", "https://update-check.example.net/a?b=c", "ops@Example.org",
		strings.Repeat("a", 32), strings.Repeat("B", 40), strings.Repeat("c", 64), strings.Repeat("d", 128),
		"[ipv4-addr:value = '203.0.113.1']", "192.0.2.10",
	}, "\r\n"))
	if fe != nil {
		t.Fatal(fe)
	}
	want := []string{
		"[ipv4-addr:value = '192.0.2.10']", "[ipv6-addr:value = '2001:db8::1']", "[ipv4-addr:value ISSUBSET '198.51.100.0/24']",
		"[ipv6-addr:value ISSUBSET '2001:db8::/32']", "[domain-name:value = 'update-check.example.net']",
		"[url:value = 'https://update-check.example.net/a?b=c']", "[email-addr:value = 'ops@example.org']",
		"[file:hashes.MD5 = '" + strings.Repeat("a", 32) + "']", "[file:hashes.'SHA-1' = '" + strings.Repeat("b", 40) + "']",
		"[file:hashes.'SHA-256' = '" + strings.Repeat("c", 64) + "']", "[file:hashes.'SHA-512' = '" + strings.Repeat("d", 128) + "']",
		"[ipv4-addr:value = '203.0.113.1']",
	}
	if len(lines) != len(want) {
		t.Fatalf("%d patterns, want %d: %+v", len(lines), len(want), lines)
	}
	for i, l := range lines {
		if l.Pattern != want[i] {
			t.Errorf("line %d: %s, want %s", l.Line, l.Pattern, want[i])
		}
	}
}

func FuzzParseIndicators(f *testing.F) {
	f.Add("192.0.2.1\nexample.org\n[ipv4-addr:value = '1.2.3.4']")
	f.Add("https://x.example/\nops@example.org\n198.51.100.7/24")
	f.Fuzz(func(t *testing.T, text string) {
		lines, fe := workflow.ParseIndicators(text)
		if fe != nil {
			if fe.Field != "indicators" || fe.Reason == "" {
				t.Fatalf("refusal %+v", fe)
			}
			return
		}
		for _, l := range lines {
			if l.Pattern == "" {
				t.Fatalf("empty pattern of line %d", l.Line)
			}
		}
	})
}
