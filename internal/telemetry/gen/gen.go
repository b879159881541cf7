// Package gen makes seeded, synthetic indicators and Suricata EVE JSON
// telemetry for tests and benchmarks of matching: the same seed gives
// the same bytes. It must not be used for anything but tests and
// measurements, and its output is never committed.
package gen

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"time"
)

// Indicator is one synthetic indicator: its STIX pattern and, for the
// forms grep can look for, the literal value (else "").
type Indicator struct {
	Pattern string
	Value   string
	kind    byte // 'a' address, 'd' domain, 'u' url, 'h' hash, 'e' email, 'n' network, 's' suffix
}

// Set is a set of synthetic indicators.
type Set struct {
	Indicators []Indicator
}

var words = []string{"alpha", "bravo", "cloud", "delta", "echo", "files", "gate", "hotel", "index", "juliet",
	"kilo", "login", "mail", "node", "office", "portal", "quest", "relay", "secure", "track", "update", "vault", "web", "xray", "zone"}
var tlds = []string{"com", "net", "org", "info", "ru", "io", "biz", "example"}

func domain(r *rand.Rand) string {
	return fmt.Sprintf("%s-%s%d.%s", words[r.IntN(len(words))], words[r.IntN(len(words))], r.IntN(100000), tlds[r.IntN(len(tlds))])
}

func ipv4(r *rand.Rand) string {
	return fmt.Sprintf("%d.%d.%d.%d", 1+r.IntN(222), r.IntN(256), r.IntN(256), 1+r.IntN(254))
}

func hexString(r *rand.Rand, n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[r.IntN(16)]
	}
	return string(b)
}

// NewSet makes n indicators with the seed: about 45% IPv4 addresses,
// 2% IPv4 networks, 25% domain names (a tenth of them as
// LIKE '%.domain', subdomains), 10% URLs, 13% file hashes (MD5 and
// SHA-256) and 5% email addresses.
func NewSet(seed uint64, n int) *Set {
	r := rand.New(rand.NewPCG(seed, 0x1d1c))
	s := &Set{Indicators: make([]Indicator, n)}
	for i := range s.Indicators {
		var ind Indicator
		switch x := r.IntN(100); {
		case x < 45:
			v := ipv4(r)
			ind = Indicator{"[ipv4-addr:value = '" + v + "']", v, 'a'}
		case x < 47:
			v := fmt.Sprintf("%d.%d.%d.0/24", 1+r.IntN(222), r.IntN(256), r.IntN(256))
			ind = Indicator{"[ipv4-addr:value ISSUBSET '" + v + "']", "", 'n'}
		case x < 72:
			v := domain(r)
			if r.IntN(10) == 0 {
				ind = Indicator{"[domain-name:value LIKE '%." + v + "']", "", 's'}
			} else {
				ind = Indicator{"[domain-name:value = '" + v + "']", v, 'd'}
			}
		case x < 82:
			v := "http://" + domain(r) + "/" + words[r.IntN(len(words))] + fmt.Sprintf("/%d.php", r.IntN(1000))
			ind = Indicator{"[url:value = '" + v + "']", v, 'u'}
		case x < 89:
			v := hexString(r, 32)
			ind = Indicator{"[file:hashes.MD5 = '" + v + "']", v, 'h'}
		case x < 95:
			v := hexString(r, 64)
			ind = Indicator{"[file:hashes.'SHA-256' = '" + v + "']", v, 'h'}
		default:
			v := words[r.IntN(len(words))] + fmt.Sprint(r.IntN(1000)) + "@" + domain(r)
			ind = Indicator{"[email-addr:value = '" + v + "']", v, 'e'}
		}
		s.Indicators[i] = ind
	}
	return s
}

// WriteValues writes the literal values, one a line, as grep -F -f
// reads them (networks and suffixes have none and are left out).
func (s *Set) WriteValues(w io.Writer) error {
	bw := bufio.NewWriter(w)
	for _, ind := range s.Indicators {
		if ind.Value != "" {
			bw.WriteString(ind.Value)
			bw.WriteByte('\n')
		}
	}
	return bw.Flush()
}

// EVEOptions shape the telemetry.
type EVEOptions struct {
	Seed   uint64
	Events int
	// HitRate is the share of events that carry an indicator's value
	// (0.01: one in a hundred).
	HitRate float64
	Start   time.Time
}

// WriteEVE writes Suricata EVE JSON lines: a mix of flow (40%), dns
// (25%), http (15%), tls (12%), fileinfo (5%) and alert (3%) events,
// laid out as Suricata writes them.
func (s *Set) WriteEVE(w io.Writer, o EVEOptions) error {
	r := rand.New(rand.NewPCG(o.Seed, 0xe7e))
	bw := bufio.NewWriterSize(w, 1<<20)
	t := o.Start
	if t.IsZero() {
		t = time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	}
	// hit returns an indicator value of the wanted kind now and then.
	hit := func(kind byte, def func() string) string {
		if r.Float64() >= o.HitRate || len(s.Indicators) == 0 {
			return def()
		}
		for range 50 {
			ind := s.Indicators[r.IntN(len(s.Indicators))]
			if ind.kind == kind && ind.Value != "" {
				return ind.Value
			}
		}
		return def()
	}
	internal := func() string { return fmt.Sprintf("10.%d.%d.%d", r.IntN(256), r.IntN(256), 1+r.IntN(254)) }
	for i := range o.Events {
		t = t.Add(time.Duration(r.IntN(2000)) * time.Microsecond)
		ts := t.Format("2006-01-02T15:04:05.000000-0700")
		src, dst := internal(), hit('a', func() string { return ipv4(r) })
		sp, dp := 1024+r.IntN(60000), []int{53, 80, 443, 8080, 25}[r.IntN(5)]
		flow := 1e15 + r.Int64N(1e15)
		head := fmt.Sprintf(`{"timestamp":"%s","flow_id":%d,"in_iface":"eth0",`, ts, flow)
		addr := fmt.Sprintf(`"src_ip":"%s","src_port":%d,"dest_ip":"%s","dest_port":%d,"proto":"%s"`, src, sp, dst, dp, "TCP")
		var line string
		switch x := r.IntN(100); {
		case x < 40:
			line = head + `"event_type":"flow",` + addr + fmt.Sprintf(`,"app_proto":"tls","flow":{"pkts_toserver":%d,"pkts_toclient":%d,"bytes_toserver":%d,"bytes_toclient":%d,"start":"%s","end":"%s","age":%d,"state":"closed","reason":"timeout","alerted":false},"tcp":{"tcp_flags":"1b","tcp_flags_ts":"1b","tcp_flags_tc":"1b","syn":true,"fin":true,"psh":true,"ack":true,"state":"closed"}}`,
				r.IntN(100), r.IntN(100), r.IntN(100000), r.IntN(1000000), ts, ts, r.IntN(100))
		case x < 65:
			q := hit('d', func() string { return domain(r) })
			line = head + `"event_type":"dns",` + strings.Replace(addr, `"TCP"`, `"UDP"`, 1) + fmt.Sprintf(`,"dns":{"version":2,"type":"answer","id":%d,"flags":"8180","qr":true,"rd":true,"ra":true,"rrname":"%s","rrtype":"A","rcode":"NOERROR","answers":[{"rrname":"%s","rrtype":"A","ttl":300,"rdata":"%s"}],"grouped":{"A":["%s"]}}}`,
				r.IntN(65536), q, q, dst, dst)
		case x < 80:
			u := hit('u', func() string { return "http://" + domain(r) + "/index.html" })
			host, path, _ := strings.Cut(strings.TrimPrefix(u, "http://"), "/")
			line = head + `"event_type":"http",` + addr + fmt.Sprintf(`,"tx_id":0,"http":{"hostname":"%s","url":"/%s","http_user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64)","http_content_type":"text/html","http_method":"GET","protocol":"HTTP/1.1","status":200,"length":%d}}`,
				host, path, r.IntN(100000))
		case x < 92:
			sni := hit('d', func() string { return domain(r) })
			line = head + `"event_type":"tls",` + addr + fmt.Sprintf(`,"tls":{"subject":"CN=%s","issuerdn":"C=US, O=Let's Encrypt, CN=R3","serial":"04:A1:%02X","fingerprint":"%s","sni":"%s","version":"TLS 1.3","notbefore":"2024-01-01T00:00:00","notafter":"2024-04-01T00:00:00","ja3":{"hash":"%s"}}}`,
				sni, r.IntN(256), hexString(r, 40), sni, hexString(r, 32))
		case x < 97:
			md5 := hit('h', func() string { return hexString(r, 32) })
			line = head + `"event_type":"fileinfo",` + addr + fmt.Sprintf(`,"http":{"hostname":"%s","url":"/download/setup.exe","http_method":"GET","status":200},"app_proto":"http","fileinfo":{"filename":"/download/setup.exe","sid":[],"gaps":false,"state":"CLOSED","md5":"%s","sha256":"%s","stored":false,"size":%d,"tx_id":0}}`,
				domain(r), md5, hexString(r, 64), r.IntN(10000000))
		default:
			line = head + `"event_type":"alert",` + addr + fmt.Sprintf(`,"tx_id":0,"alert":{"action":"allowed","gid":1,"signature_id":%d,"rev":3,"signature":"ET POLICY Suspicious outbound connection","category":"Potentially Bad Traffic","severity":2},"app_proto":"tls"}`,
				2000000+r.IntN(100000))
		}
		bw.WriteString(line)
		bw.WriteByte('\n')
		_ = i
	}
	return bw.Flush()
}
