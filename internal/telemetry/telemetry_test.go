package telemetry

import (
	"bytes"
	"compress/gzip"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// Sample lines written after the formats' documentation: Suricata's
// "EVE JSON Format" page and Zeek's log field reference (conn, dns,
// http, ssl, files) with LogAscii::use_json.
var (
	sampleAlert = `{"timestamp":"2017-04-07T22:24:37.251547+0100","flow_id":586497171462735,"pcap_cnt":53381,"event_type":"alert","src_ip":"192.168.2.14","src_port":50096,"dest_ip":"209.53.113.5","dest_port":80,"proto":"TCP","metadata":{"flowbits":["http.dottedquadhost"]},"tx_id":4,"alert":{"action":"allowed","gid":1,"signature_id":2018358,"rev":10,"signature":"ET HUNTING GENERIC SUSPICIOUS POST to Dotted Quad with Fake Browser 1","category":"Potentially Bad Traffic","severity":2},"app_proto":"http"}`
	sampleDNS   = `{"timestamp":"2009-11-24T21:27:09.534255+0100","event_type":"dns","src_ip":"192.168.2.7","src_port":53,"dest_ip":"x.x.250.50","dest_port":23242,"proto":"UDP","dns":{"version":2,"type":"answer","id":16000,"flags":"8180","qr":true,"rd":true,"ra":true,"rrname":"Twitter.com.","rrtype":"A","rcode":"NOERROR","answers":[{"rrname":"twitter.com","rrtype":"A","ttl":8,"rdata":"104.244.42.65"},{"rrname":"twitter.com","rrtype":"CNAME","ttl":8,"rdata":"edge.twimg.com"}],"grouped":{"A":["104.244.42.65","104.244.42.1"],"AAAA":["2606:4700::6810:1"]}}}`
	sampleHTTP  = `{"timestamp":"2009-11-24T21:27:09.534255+0100","event_type":"http","src_ip":"192.168.2.7","src_port":38974,"dest_ip":"x.x.250.50","dest_port":80,"proto":"TCP","http":{"hostname":"www.digip.org","url":"\/jansson\/releases\/jansson-2.6.tar.gz","http_user_agent":"Wget\/1.13.4 (linux-gnu)","http_content_type":"application\/x-gzip","http_method":"GET","protocol":"HTTP\/1.1","status":200,"length":428}}`
	sampleTLS   = `{"timestamp":"2016-04-06T13:22:51.364012+0000","flow_id":1113356848423513,"event_type":"tls","src_ip":"10.16.1.11","src_port":54232,"dest_ip":"2001:db8::53","dest_port":443,"proto":"TCP","tls":{"subject":"C=US, ST=California, L=Mountain View, O=Google Inc, CN=*.google.com","issuerdn":"C=US, O=Google Inc, CN=Google Internet Authority G2","serial":"0C:00:99:B7:D7:54:C9:F6:77:26:31:7E:BA:EA:7C:1C","fingerprint":"8f:51:12:06:a0:cc:4e:cd:e8:a3:8b:38:f8:87:59:e5:af:95:ca:cd","sni":"calendar.google.com","version":"TLS 1.2","notbefore":"2017-01-04T10:48:59","notafter":"2017-03-29T10:18:00"}}`
	sampleFile  = `{"timestamp":"2021-06-25T12:45:02.024164+0000","flow_id":1433016521372011,"event_type":"fileinfo","src_ip":"192.0.2.80","src_port":80,"dest_ip":"10.0.0.5","dest_port":49810,"proto":"TCP","http":{"hostname":"files.example","url":"/a.exe","http_method":"GET","status":200,"length":1024},"app_proto":"http","fileinfo":{"filename":"/a.exe","sid":[],"gaps":false,"state":"CLOSED","md5":"79054025255FB1A26E4BC422AEF54EB4","sha1":"da39a3ee5e6b4b0d3255bfef95601890afd80709","sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","stored":false,"size":1024,"tx_id":0}}`
	sampleFlow  = `{"timestamp":"2021-06-25T12:45:02.024164Z","flow_id":1433016521372011,"event_type":"flow","src_ip":"10.0.0.5","src_port":49810,"dest_ip":"198.51.100.7","dest_port":443,"proto":"TCP","flow":{"pkts_toserver":10,"pkts_toclient":12,"bytes_toserver":1200,"bytes_toclient":9000,"start":"2021-06-25T12:44:59.000000+0000","end":"2021-06-25T12:45:02.000000+0000","age":3,"state":"closed","reason":"timeout","alerted":false},"tcp":{"tcp_flags":"1b","syn":true,"fin":true,"psh":true,"ack":true,"state":"closed"}}`
	sampleSMTP  = `{"timestamp":"2021-06-25T12:45:02.024164Z","event_type":"smtp","src_ip":"10.0.0.5","dest_ip":"192.0.2.25","smtp":{"helo":"mx.example","mail_from":"<Alice@Example.org>","rcpt_to":["<bob@example.net>","<carol@example.net>"]}}`

	sampleZeekConn  = `{"ts":1591367999.305988,"uid":"CMdzit1AMNsmfAIiQc","id.orig_h":"192.168.4.76","id.orig_p":36844,"id.resp_h":"192.168.4.1","id.resp_p":53,"proto":"udp","service":"dns","duration":0.06685185432434082,"orig_bytes":62,"resp_bytes":141,"conn_state":"SF","missed_bytes":0,"history":"Dd","orig_pkts":2,"orig_ip_bytes":118,"resp_pkts":2,"resp_ip_bytes":197}`
	sampleZeekDNS   = `{"ts":1591367999.306059,"uid":"CMdzit1AMNsmfAIiQc","id.orig_h":"192.168.4.76","id.orig_p":36844,"id.resp_h":"192.168.4.1","id.resp_p":53,"proto":"udp","trans_id":8555,"query":"testmyids.com","qclass":1,"qclass_name":"C_INTERNET","qtype":1,"qtype_name":"A","rcode":0,"rcode_name":"NOERROR","AA":false,"TC":false,"RD":true,"RA":true,"Z":0,"answers":["31.3.245.133","cdn.testmyids.com"],"TTLs":[3600.0,60.0],"rejected":false}`
	sampleZeekHTTP  = `{"ts":"2020-06-05T14:39:59.305988Z","uid":"CHhAvVGS1DHFjwGM9","id.orig_h":"192.168.4.76","id.orig_p":46378,"id.resp_h":"31.3.245.133","id.resp_p":80,"trans_depth":1,"method":"GET","host":"testmyids.com","uri":"/","version":"1.1","user_agent":"curl/7.47.0","request_body_len":0,"response_body_len":39,"status_code":200,"status_msg":"OK","tags":[],"resp_fuids":["FEEsZS1w0Z0VJIb5x4"],"resp_mime_types":["text/plain"]}`
	sampleZeekSSL   = `{"ts":1591368000.1,"uid":"C1","id.orig_h":"2001:db8::7","id.orig_p":50000,"id.resp_h":"2001:db8::443","id.resp_p":443,"version":"TLSv12","cipher":"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256","server_name":"www.example.org","resumed":false,"established":true}`
	sampleZeekFiles = `{"ts":1591368000.2,"fuid":"FEEsZS1w0Z0VJIb5x4","tx_hosts":["31.3.245.133"],"rx_hosts":["192.168.4.76"],"conn_uids":["CHhAvVGS1DHFjwGM9"],"source":"HTTP","depth":0,"analyzers":["MD5","SHA1","SHA256"],"mime_type":"text/plain","duration":0.0,"is_orig":false,"seen_bytes":39,"total_bytes":39,"missing_bytes":0,"overflow_bytes":0,"timedout":false,"md5":"2fbc1ec5b4c7e2b3ab5d7d5ac8a7f6e1","sha1":"da39a3ee5e6b4b0d3255bfef95601890afd80709","sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}`
)

func values(ev *Event) []string {
	var out []string
	for _, v := range ev.Values {
		out = append(out, v.Kind.String()+"="+v.String())
	}
	return out
}

func TestSamples(t *testing.T) {
	tests := []struct {
		name string
		f    Format
		line string
		time string
		want []string
	}{
		{"eve alert", EVE, sampleAlert, "2017-04-07T21:24:37.251547Z", []string{"ipv4=192.168.2.14", "ipv4=209.53.113.5"}},
		{"eve dns", EVE, sampleDNS, "2009-11-24T20:27:09.534255Z", []string{"ipv4=192.168.2.7", "domain=twitter.com", "ipv4=104.244.42.65",
			"domain=edge.twimg.com", "ipv4=104.244.42.1", "ipv6=2606:4700::6810:1"}},
		{"eve http", EVE, sampleHTTP, "2009-11-24T20:27:09.534255Z", []string{"ipv4=192.168.2.7", "domain=www.digip.org", "url=http://www.digip.org/jansson/releases/jansson-2.6.tar.gz"}},
		{"eve tls", EVE, sampleTLS, "2016-04-06T13:22:51.364012Z", []string{"ipv4=10.16.1.11", "ipv6=2001:db8::53", "domain=calendar.google.com"}},
		{"eve fileinfo", EVE, sampleFile, "2021-06-25T12:45:02.024164Z", []string{"ipv4=192.0.2.80", "ipv4=10.0.0.5", "domain=files.example", "url=http://files.example/a.exe",
			"md5=79054025255fb1a26e4bc422aef54eb4", "sha1=da39a3ee5e6b4b0d3255bfef95601890afd80709", "sha256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}},
		{"eve flow", EVE, sampleFlow, "2021-06-25T12:45:02.024164Z", []string{"ipv4=10.0.0.5", "ipv4=198.51.100.7"}},
		{"eve smtp", EVE, sampleSMTP, "2021-06-25T12:45:02.024164Z", []string{"ipv4=10.0.0.5", "ipv4=192.0.2.25", "email=Alice@Example.org", "email=bob@example.net", "email=carol@example.net"}},
		{"zeek conn", Zeek, sampleZeekConn, "2020-06-05T14:39:59.305988Z", []string{"ipv4=192.168.4.76", "ipv4=192.168.4.1"}},
		{"zeek dns", Zeek, sampleZeekDNS, "2020-06-05T14:39:59.306059Z", []string{"ipv4=192.168.4.76", "ipv4=192.168.4.1", "domain=testmyids.com", "ipv4=31.3.245.133", "domain=cdn.testmyids.com"}},
		{"zeek http", Zeek, sampleZeekHTTP, "2020-06-05T14:39:59.305988Z", []string{"ipv4=192.168.4.76", "ipv4=31.3.245.133", "domain=testmyids.com", "url=http://testmyids.com/"}},
		{"zeek ssl", Zeek, sampleZeekSSL, "2020-06-05T14:40:00.1Z", []string{"ipv6=2001:db8::7", "ipv6=2001:db8::443", "domain=www.example.org"}},
		{"zeek files", Zeek, sampleZeekFiles, "2020-06-05T14:40:00.2Z", []string{"ipv4=31.3.245.133", "ipv4=192.168.4.76", "md5=2fbc1ec5b4c7e2b3ab5d7d5ac8a7f6e1",
			"sha1=da39a3ee5e6b4b0d3255bfef95601890afd80709", "sha256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Detect([]byte(tt.line)); got != tt.f {
				t.Errorf("Detect = %v, want %s", got, tt.f.Name())
			}
			var ev Event
			if err := ParseLine(tt.f, []byte(tt.line), &ev); err != nil {
				t.Fatal(err)
			}
			if got := ev.Time.Format(time.RFC3339Nano); got != tt.time {
				t.Errorf("time %s, want %s", got, tt.time)
			}
			if got := values(&ev); !slices.Equal(got, tt.want) {
				t.Errorf("values\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestGeneric(t *testing.T) {
	f, err := NewGeneric(Mapping{Time: "@timestamp", Fields: map[string]Kind{
		"source.ip": IPv4, "destination.ip": IPv4, "dns.question.name": Domain, "url.full": URL, "file.hash.sha256": SHA256, "id.orig_h": IPv4}})
	if err != nil {
		t.Fatal(err)
	}
	line := `{"@timestamp":"2024-05-01T10:00:00.5+02:00","source":{"ip":"10.1.2.3","port":5353},"destination":{"ip":"2001:db8::1"},"dns":{"question":{"name":"EVIL.example."}},"url":{"full":"https://evil.example/x"},"file":{"hash":{"sha256":["AB","cd"]}},"id.orig_h":"192.0.2.1","other":[1,2,{"a":null}]}`
	var ev Event
	if err := ParseLine(f, []byte(line), &ev); err != nil {
		t.Fatal(err)
	}
	want := []string{"ipv4=10.1.2.3", "ipv6=2001:db8::1", "domain=evil.example", "url=https://evil.example/x", "sha256=ab", "sha256=cd", "ipv4=192.0.2.1"}
	if got := values(&ev); !slices.Equal(got, want) {
		t.Errorf("values %q, want %q", got, want)
	}
	if got := ev.Time.Format(time.RFC3339Nano); got != "2024-05-01T08:00:00.5Z" {
		t.Errorf("time %s", got)
	}
	for _, m := range []Mapping{{Fields: map[string]Kind{"a": IPv4}}, {Time: "t"}, {Time: "t", Fields: map[string]Kind{"a.": IPv4}}, {Time: "t", Fields: map[string]Kind{"a": 99}}} {
		if _, err := NewGeneric(m); err == nil {
			t.Errorf("NewGeneric(%+v): no error", m)
		}
	}
}

// TestBadLines: each malformed line is an error that names the field
// (or the offset) and the reason.
func TestBadLines(t *testing.T) {
	tests := []struct {
		f    Format
		line string
		want string
	}{
		{EVE, `{"event_type":"dns","src_ip":"10.0.0.1"}`, "field timestamp: missing"},
		{EVE, `{"timestamp":"yesterday","event_type":"dns"}`, "field timestamp: not a timestamp"},
		{EVE, `{"timestamp":"2024-13-01T00:00:00Z"}`, "field timestamp: not a timestamp"},
		{EVE, `{"timestamp":7}`, "field timestamp: offset 13: expected a string"},
		{EVE, `{"timestamp":"2024-01-01T00:00:00Z","dns":{"rrname":"a.example"`, "offset 63: expected , or }"},
		{EVE, `{"timestamp":"2024-01-01T00:00:00Z"} x`, "offset 37: text after the JSON value"},
		{EVE, `["timestamp"]`, "offset 0: expected an object"},
		{EVE, `{"timestamp":"2024-01-01T00:00:00Z","src_ip":"10.0.0.1\u0"}`, `field src_ip: offset 56: bad \u escape`},
		{EVE, `{"timestamp":"2024-01-01T00:00:00Z","x":tru}`, "offset 40: unexpected character"},
		{EVE, `{"timestamp":"2024-01-01T00:00:00Z","x":01}`, "offset 40: bad number"},
		{EVE, `{"timestamp":"2024-01-01T00:00:00Z","x":"a` + "\t" + `b"}`, ""}, // a tab inside a skipped string is not checked
		{EVE, `{"timestamp":"2024-01-01T00:00:00Z","src_ip":"a` + "\x01" + `"}`, "field src_ip: offset 47: control character in a string"},
		{EVE, `{"timestamp":"2024-01-01T00:00:00Z","flow":{"a":[1}}`, "offset 50: unbalanced }"},
		{EVE, `{"timestamp":"2024-01-01T00:00:00Z","flow":{"a":"}`, "offset 48: unterminated string"},
		{Zeek, `{"uid":"C1","id.orig_h":"10.0.0.1"}`, "field ts: missing"},
		{Zeek, `{"ts":"x","uid":"C1"}`, "field ts: not a timestamp"},
		{Zeek, `{"ts":1.5,"answers":["a",}`, "field answers: offset 25: unexpected character"},
		{Zeek, strings.Repeat("[", 100), "offset 0: expected an object"},
		{Zeek, `{"ts":1,"x":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`, "field x: offset 75: nested too deeply"},
	}
	for _, tt := range tests {
		var ev Event
		err := ParseLine(tt.f, []byte(tt.line), &ev)
		if tt.want == "" {
			if err != nil {
				t.Errorf("%s: %v", tt.line, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s:\n got %v\nwant %s", tt.line, err, tt.want)
		}
	}
}

// TestReader: a stream with good, blank, malformed and over-long lines,
// plain and gzip; malformed lines are counted and reported, not fatal.
func TestReader(t *testing.T) {
	var in bytes.Buffer
	for _, l := range []string{sampleAlert, "", "not json", sampleDNS, `{"event_type":"x"}`, strings.Repeat("x", MaxLine+10), sampleHTTP + "\r"} {
		in.WriteString(l + "\n")
	}
	in.WriteString(sampleTLS) // no final newline
	for _, gz := range []bool{false, true} {
		data := in.Bytes()
		if gz {
			var b bytes.Buffer
			w := gzip.NewWriter(&b)
			w.Write(data)
			w.Close()
			data = b.Bytes()
		}
		r, err := NewReader(bytes.NewReader(data), nil)
		if err != nil {
			t.Fatal(err)
		}
		var domains []string
		for r.Next() {
			for _, v := range r.Event().Values {
				if v.Kind == Domain {
					domains = append(domains, string(v.Text))
				}
			}
		}
		if err := r.Err(); err != nil {
			t.Fatal(err)
		}
		st := r.Stats()
		if st.Lines != 8 || st.Events != 4 || st.Malformed != 3 || st.Bytes != int64(len(data)) {
			t.Errorf("gzip %v: stats %+v", gz, st)
		}
		if r.Format() != EVE {
			t.Errorf("format %v, want eve", r.Format())
		}
		want := []string{"line 3: offset 0: expected an object", "line 5: field timestamp: missing", "line 6: longer than 1048576 bytes"}
		var got []string
		for _, e := range st.Errors {
			got = append(got, e.Error())
		}
		if !slices.Equal(got, want) {
			t.Errorf("errors %q, want %q", got, want)
		}
		if !slices.Equal(domains, []string{"twitter.com", "edge.twimg.com", "www.digip.org", "calendar.google.com"}) {
			t.Errorf("domains %q", domains)
		}
	}
	// A log of neither format says so.
	r, _ := NewReader(strings.NewReader(`{"a":1}`+"\n"), nil)
	for r.Next() {
	}
	if st := r.Stats(); st.Malformed != 1 || !strings.Contains(st.Errors[0].Error(), "give the format") {
		t.Errorf("undetected format: %+v", st)
	}
	if _, err := NewReader(bytes.NewReader([]byte{0x1f, 0x8b, 0, 0}), nil); err == nil || !strings.Contains(err.Error(), "gzip header") {
		t.Errorf("bad gzip: %v", err)
	}
}

func TestParseTime(t *testing.T) {
	for in, want := range map[string]string{
		"2024-02-29T23:59:59Z":            "2024-02-29T23:59:59Z",
		"2024-03-01T00:30:00.123+01:00":   "2024-02-29T23:30:00.123Z",
		"1970-01-01T00:00:00-0130":        "1970-01-01T01:30:00Z",
		"1600-03-01T00:00:00Z":            "1600-03-01T00:00:00Z",
		"1591367999.305988":               "2020-06-05T14:39:59.305988Z",
		"1591367999":                      "2020-06-05T14:39:59Z",
		"2024-01-01 00:00:00.1234567891Z": "2024-01-01T00:00:00.123456789Z",
	} {
		got, err := parseTime([]byte(in))
		if err != nil || got.Format(time.RFC3339Nano) != want {
			t.Errorf("parseTime(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{"", "x", "2024-01-01T00:00:00", "2024-01-01T00:00:00.Z", "2024-01-01T24:00:00Z", "1.2.3", "2024-01-01T00:00:00+1"} {
		if _, err := parseTime([]byte(in)); err == nil {
			t.Errorf("parseTime(%q): no error", in)
		}
	}
}

func TestParseAddr(t *testing.T) {
	for in, want := range map[string]string{"10.0.0.1": "10.0.0.1", "::ffff:10.0.0.1": "10.0.0.1", "2001:DB8::1": "2001:db8::1", "0.0.0.0": "0.0.0.0"} {
		a, ok := parseAddr([]byte(in))
		if !ok || a.String() != want {
			t.Errorf("parseAddr(%q) = %v, %v", in, a, ok)
		}
	}
	for _, in := range []string{"", "10.0.0", "10.0.0.256", "010.0.0.1", "10..0.1", "fe80::1%eth0", "x.example", "1.2.3.4.5"} {
		if a, ok := parseAddr([]byte(in)); ok {
			t.Errorf("parseAddr(%q) = %v", in, a)
		}
	}
}

func fuzzFormat(f *testing.F, format Format, seeds ...string) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		var ev Event
		err := ParseLine(format, line, &ev)
		if err != nil {
			return
		}
		for _, v := range ev.Values {
			if v.Kind < IPv4 || v.Kind >= NumKinds {
				t.Fatalf("value of kind %d", v.Kind)
			}
			if (v.Kind == IPv4 || v.Kind == IPv6) != v.Addr.IsValid() {
				t.Fatalf("value %v: address kind and address disagree", v)
			}
			if v.Kind == Domain && (bytes.ContainsFunc(v.Text, func(r rune) bool { return r >= 'A' && r <= 'Z' }) || !utf8.Valid(v.Text)) {
				t.Fatalf("domain %q not lower case or not UTF-8", v.Text)
			}
		}
		// A line read once reads the same through a Reader.
		r, err := NewReader(bytes.NewReader(append(bytes.ReplaceAll(line, []byte("\n"), nil), '\n')), format)
		if err != nil {
			t.Fatal(err)
		}
		for r.Next() {
		}
	})
}

func FuzzEVE(f *testing.F) {
	fuzzFormat(f, EVE, sampleAlert, sampleDNS, sampleHTTP, sampleTLS, sampleFile, sampleFlow, sampleSMTP)
}

func FuzzZeek(f *testing.F) {
	fuzzFormat(f, Zeek, sampleZeekConn, sampleZeekDNS, sampleZeekHTTP, sampleZeekSSL, sampleZeekFiles)
}

func FuzzGeneric(f *testing.F) {
	g, err := NewGeneric(Mapping{Time: "t", Fields: map[string]Kind{"a.b": IPv4, "c": Domain, "d.e.f": MD5}})
	if err != nil {
		f.Fatal(err)
	}
	fuzzFormat(f, g, `{"t":1,"a":{"b":"10.0.0.1"},"c":["X.example"],"d":{"e":{"f":"AB"}}}`, `{"t":"2024-01-01T00:00:00Z","a.b":"::1"}`)
}

// TestNoAllocs checks that reading the common lines allocates nothing
// once the buffers have grown (an allocation a line costs the EVE
// benchmark a tenth of its time, and with a million indicators loaded
// half: the collector's marking walks the compiled set and evicts it
// from the caches).
func TestNoAllocs(t *testing.T) {
	generic, err := NewGeneric(Mapping{Time: "@timestamp", Fields: map[string]Kind{
		"source.ip": IPv4, "destination.ip": IPv4, "dns.question.name": Domain, "url.full": URL, "file.hash.sha256": SHA256, "id.orig_h": IPv4}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		f    Format
		line string
	}{
		{EVE, sampleAlert}, {EVE, sampleDNS}, {EVE, sampleTLS}, {EVE, sampleHTTP}, {EVE, sampleFile}, {EVE, sampleFlow}, {EVE, sampleSMTP},
		{Zeek, sampleZeekConn}, {Zeek, sampleZeekDNS}, {Zeek, sampleZeekHTTP}, {Zeek, sampleZeekFiles},
		{generic, `{"@timestamp":"2024-05-01T10:00:00.5+02:00","source":{"ip":"10.1.2.3","port":5353},"destination":{"ip":"2001:db8::1"},"dns":{"question":{"name":"EVIL.example."}},"url":{"full":"https://evil.example/x"},"file":{"hash":{"sha256":["AB","cd"]}},"id.orig_h":"192.0.2.1","other":[1,2,{"a":null}]}`},
	} {
		var ev Event
		var s scanner // kept from line to line, as a Reader keeps it
		line := []byte(tc.line)
		parse := func() error {
			ev.reset()
			s.reset(line)
			if err := tc.f.parse(&s, &ev); err != nil {
				return err
			}
			return s.end()
		}
		if err := parse(); err != nil {
			t.Fatalf("%s: %v", tc.line, err)
		}
		if n := testing.AllocsPerRun(100, func() { parse() }); n != 0 {
			t.Errorf("%s: %v allocations a line", tc.line[:60], n)
		}
	}
}
