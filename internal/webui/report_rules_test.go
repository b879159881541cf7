package webui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/workflow"
)

// Every reason the workflow's filing rules give has its Russian text, and
// so has the label of every field the form shows it beside.
func TestFilingReasonsTranslated(t *testing.T) {
	now := time.Date(2036, 12, 1, 8, 0, 0, 0, time.UTC)
	var many strings.Builder
	for i := range 1001 {
		fmt.Fprintf(&many, "10.0.%d.%d\n", i/256, i%256)
	}
	filings := []workflow.ReportFiling{
		{TLP: "purple", Sectors: []string{"moon"}, Severity: 9, Indicators: "nope", Title: strings.Repeat("x", 301), Description: strings.Repeat("y", 20001)},
		{Sectors: nil, Indicators: "fe80::1%eth0", Bundle: []byte("{")},
		{TLP: "red", Indicators: "198.51.100.7/24"},
		{TLP: "red", Recipients: []string{"role:king"}, Indicators: "[ipv4-addr:value = ]"},
		{TLP: "green", Recipients: []string{"olga"}, Indicators: "https:// x/"},
		{Indicators: "@example.org"},
		{Indicators: strings.Repeat("a", 5000)},
		{Indicators: many.String()},
		{Bundle: []byte(`{"type":"bundle","id":"bundle--6b0e3f3c-1f0a-4c51-9a0a-2f7c1b9d4e11","objects":[]}`), Title: ""},
		{Bundle: []byte(`{"type":"bundle","id":"bundle--6b0e3f3c-1f0a-4c51-9a0a-2f7c1b9d4e11","objects":[{"type":"malware"}]}`)},
		{Evidence: []workflow.Evidence{{Name: " "}}},
		{Evidence: []workflow.Evidence{{Name: "capture.pcap", Size: -1}}},
	}
	seen := map[string]bool{}
	for _, f := range filings {
		refused := dialogue.FieldErrorsOf(workflow.CheckReport(f, now))
		for _, fe := range refused {
			seen[fe.Reason] = true
			if _, ok := ru[fe.Reason]; !ok {
				t.Errorf("no Russian text for the reason %q (%s)", fe.Reason, fe)
			}
			fl, ok := fieldLabels[fe.Field]
			if !ok {
				t.Errorf("no label for the field %q", fe.Field)
			} else if _, ok := ru[fl.label]; !ok {
				t.Errorf("no Russian text for the label %q", fl.label)
			}
		}
	}
	if len(seen) < 18 {
		t.Errorf("only %d reasons seen: %v", len(seen), seen)
	}
	if _, fe := workflow.ParseSeverity("high"); fe == nil || ru[fe.Reason] == "" {
		t.Errorf("the severity's refusal %v has no Russian text", fe)
	}
}
