package workflow

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/parleyhq/parley/internal/stix"
)

// The JCS of texts (stix.CanonicalJSON) is JSON that reads back as the same texts, and is what Go's
// encoder writes (members sorted, no HTML escapes) but for the characters
// JCS leaves alone and Go escapes (U+2028, U+2029) and the control
// characters Go writes as \u00XX where JCS uses the short forms.
func FuzzJCSTexts(f *testing.F) {
	f.Add("en", "hello", "ru", "Привет")
	f.Add("en", "a\"b\\c\n\t\x1f/<>&", "zh", "你好\u2028")
	f.Add("en-GB", "\b\f\r", "en", "x")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		if !utf8.ValidString(k1) || !utf8.ValidString(v1) || !utf8.ValidString(k2) || !utf8.ValidString(v2) || k1 == k2 {
			return
		}
		texts := map[string]string{k1: v1, k2: v2}
		out, err := stix.CanonicalJSON(texts)
		if err != nil {
			t.Fatal(err)
		}
		var back map[string]string
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("%q: %s: %v", texts, out, err)
		}
		if len(back) != 2 || back[k1] != v1 || back[k2] != v2 {
			t.Fatalf("%q read back as %q", texts, back)
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.Encode(texts)
		goOut := strings.TrimSuffix(buf.String(), "\n")
		norm := strings.NewReplacer(`\u2028`, "\u2028", `\u2029`, "\u2029", `\u0008`, `\b`, `\u000c`, `\f`).Replace(goOut)
		if !strings.ContainsAny(k1+k2, "\u2028\u2029\\") && norm != string(out) && isASCIIKeys(k1, k2) {
			t.Fatalf("%q:\n jcs: %s\n  go: %s", texts, out, goOut)
		}
		if _, err := TextSHA256(texts); err == nil && (!languageTag.MatchString(k1) || strings.TrimSpace(v1) == "") {
			t.Fatalf("%q: accepted", texts)
		}
	})
}

// isASCIIKeys: Go sorts keys by bytes, JCS by UTF-16 code units; they
// agree on ASCII.
func isASCIIKeys(ks ...string) bool {
	for _, k := range ks {
		for i := 0; i < len(k); i++ {
			if k[i] >= 0x80 {
				return false
			}
		}
	}
	return true
}
