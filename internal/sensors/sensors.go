// Package sensors writes indicator sets in the formats network sensors
// load: Suricata dataset files (one per data type, with the encoding
// each type needs) and Zeek Intel framework files.
//
// It takes the values internal/match extracts from simple indicators
// and writes them; it must not read stores or decide which indicators
// to export.
package sensors

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/match"
	"github.com/parleyhq/parley/internal/telemetry"
)

// Entry is one value of one indicator.
type Entry struct {
	IndicatorID string
	Term        match.Term
}

// Skip is a value a format cannot carry, and why.
type Skip struct {
	IndicatorID string
	Reason      string
}

// Entries extracts the values of indicators; the indicators that are not
// simple lists of values are returned as skips.
func Entries(inds []match.Indicator) ([]Entry, []Skip) {
	var out []Entry
	var skips []Skip
	for _, ind := range inds {
		terms, err := match.Terms(ind.Pattern)
		if err != nil {
			skips = append(skips, Skip{ind.ID, err.Error()})
			continue
		}
		for _, t := range terms {
			out = append(out, Entry{ind.ID, t})
		}
	}
	return out, skips
}

// Dataset is one Suricata dataset file.
type Dataset struct {
	Name string // the dataset's name, also the file's base name without .lst
	Type string // Suricata's type: string, md5, sha256, ipv4, ip
	File string // the file written
	Len  int    // values written (each once)
}

// datasetOf says which dataset a value goes to; "" with a reason when
// Suricata datasets cannot hold it.
func datasetOf(t match.Term) (name, typ, reason string) {
	switch {
	case t.Kind == telemetry.IPv4 && t.Net.IsSingleIP():
		return "parley-ipv4", "ipv4", ""
	case t.Kind == telemetry.IPv6 && t.Net.IsSingleIP():
		return "parley-ipv6", "ip", ""
	case t.Kind == telemetry.IPv4 || t.Kind == telemetry.IPv6:
		return "", "", "Suricata datasets hold addresses, not networks (" + t.Net.String() + ")"
	case t.Suffix:
		return "", "", "Suricata datasets match whole values, not domain suffixes (" + t.Value + ")"
	case t.Kind == telemetry.Domain:
		return "parley-domain", "string", ""
	case t.Kind == telemetry.URL:
		return "parley-url", "string", ""
	case t.Kind == telemetry.Email:
		return "parley-email", "string", ""
	case t.Kind == telemetry.MD5:
		if isHex(t.Value, 32) {
			return "parley-md5", "md5", ""
		}
		return "", "", fmt.Sprintf("%q is not an MD5 hash (32 hex digits)", t.Value)
	case t.Kind == telemetry.SHA256:
		if isHex(t.Value, 64) {
			return "parley-sha256", "sha256", ""
		}
		return "", "", fmt.Sprintf("%q is not a SHA-256 hash (64 hex digits)", t.Value)
	}
	return "", "", "Suricata datasets have no type for " + t.Kind.HashKey() + " hashes"
}

// encodeDataset writes a value as Suricata's dataset files hold it:
// string datasets base64 (standard alphabet, padded), md5 and sha256 in
// hex, ipv4 dotted, ip as IPv6 text.
func encodeDataset(typ string, t match.Term) string {
	switch typ {
	case "string":
		return base64.StdEncoding.EncodeToString([]byte(t.Value))
	case "ipv4", "ip":
		return t.Net.Addr().String()
	}
	return strings.ToLower(t.Value)
}

// WriteSuricataDatasets writes one .lst file per dataset into dir (made
// if missing) and returns what it wrote, and the values it could not.
// A value given by several indicators is written once.
func WriteSuricataDatasets(dir string, entries []Entry) ([]Dataset, []Skip, error) {
	const op = "sensors.WriteSuricataDatasets"
	byName := map[string]*Dataset{}
	lines := map[string][]string{}
	seen := map[string]bool{}
	var skips []Skip
	for _, e := range entries {
		name, typ, reason := datasetOf(e.Term)
		if name == "" {
			skips = append(skips, Skip{e.IndicatorID, reason})
			continue
		}
		v := encodeDataset(typ, e.Term)
		if seen[name+"\x00"+v] {
			continue
		}
		seen[name+"\x00"+v] = true
		if byName[name] == nil {
			byName[name] = &Dataset{Name: name, Type: typ, File: filepath.Join(dir, name+".lst")}
		}
		byName[name].Len++
		lines[name] = append(lines[name], v)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, skips, dialogue.E(op, dialogue.KindOther, err)
	}
	var out []Dataset
	for _, name := range slices.Sorted(mapsKeys(byName)) {
		d := byName[name]
		if err := writeLines(d.File, lines[name]); err != nil {
			return nil, skips, dialogue.E(op, dialogue.KindOther, err)
		}
		out = append(out, *d)
	}
	return out, skips, nil
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func writeLines(path string, lines []string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	for _, l := range lines {
		bw.WriteString(l)
		bw.WriteByte('\n')
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// SuricataRule is an example rule using a dataset written by
// WriteSuricataDatasets, with the given sid: DNS queries against the
// domain set, file hashes with filemd5 / filesha256 (which read the same
// hex lists); "" for the other sets, whose rules depend on the sensor's
// version and where it sits.
func SuricataRule(d Dataset, sid int) string {
	load := fmt.Sprintf("dataset:isset,%s,type %s,load %s.lst", d.Name, d.Type, d.Name)
	switch d.Name {
	case "parley-domain":
		return fmt.Sprintf(`alert dns any any -> any any (msg:"parley: DNS query of a listed domain"; dns.query; %s; sid:%d; rev:1;)`, load, sid)
	case "parley-md5":
		return fmt.Sprintf(`alert http any any -> any any (msg:"parley: file with a listed MD5"; filemd5:%s.lst; sid:%d; rev:1;)`, d.Name, sid)
	case "parley-sha256":
		return fmt.Sprintf(`alert http any any -> any any (msg:"parley: file with a listed SHA-256"; filesha256:%s.lst; sid:%d; rev:1;)`, d.Name, sid)
	}
	return ""
}

// Zeek Intel framework types for each kind of value.
func zeekType(t match.Term) (string, string) {
	switch {
	case t.Suffix:
		return "", "Zeek's Intel::DOMAIN matches whole names, not suffixes (" + t.Value + ")"
	case (t.Kind == telemetry.IPv4 || t.Kind == telemetry.IPv6) && t.Net.IsSingleIP():
		return "Intel::ADDR", ""
	case t.Kind == telemetry.IPv4 || t.Kind == telemetry.IPv6:
		return "Intel::SUBNET", ""
	case t.Kind == telemetry.Domain:
		return "Intel::DOMAIN", ""
	case t.Kind == telemetry.URL:
		return "Intel::URL", ""
	case t.Kind == telemetry.Email:
		return "Intel::EMAIL", ""
	}
	return "Intel::FILE_HASH", ""
}

// ZeekHeader is the header line of the Intel files WriteZeekIntel
// writes (fields separated by tabs).
const ZeekHeader = "#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc"

// WriteZeekIntel writes a Zeek Intel framework file: the #fields header,
// then one tab-separated line per value with its type, source and the
// indicator's id as description. URLs lose their scheme (Zeek's
// Intel::URL is a URL without "http://"); values with tabs or line
// breaks, and domain suffixes, are skipped. It returns the lines written.
func WriteZeekIntel(w io.Writer, entries []Entry, source string) (int, []Skip, error) {
	bw := bufio.NewWriter(w)
	bw.WriteString(ZeekHeader + "\n")
	n := 0
	var skips []Skip
	seen := map[string]bool{}
	for _, e := range entries {
		typ, reason := zeekType(e.Term)
		if typ == "" {
			skips = append(skips, Skip{e.IndicatorID, reason})
			continue
		}
		v := e.Term.Value
		switch typ {
		case "Intel::ADDR":
			v = e.Term.Net.Addr().String()
		case "Intel::SUBNET":
			v = e.Term.Net.String()
		case "Intel::URL":
			v = strings.TrimPrefix(strings.TrimPrefix(v, "http://"), "https://")
		}
		if v == "" || strings.ContainsAny(v, "\t\r\n") {
			skips = append(skips, Skip{e.IndicatorID, fmt.Sprintf("%q cannot be written in a tab-separated Zeek file", v)})
			continue
		}
		key := typ + "\t" + v + "\t" + e.IndicatorID
		if seen[key] {
			continue
		}
		seen[key] = true
		fmt.Fprintf(bw, "%s\t%s\t%s\t%s\n", v, typ, source, e.IndicatorID)
		n++
	}
	if err := bw.Flush(); err != nil {
		return n, skips, dialogue.E("sensors.WriteZeekIntel", dialogue.KindOther, err)
	}
	return n, skips, nil
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
