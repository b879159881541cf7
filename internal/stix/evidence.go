package stix

import (
	"encoding/json"
	"strings"
)

// EvidenceSHA256 returns the SHA-256 that a file or artifact object names
// in its hashes (any spelling of the key: "SHA-256", "sha256"…), as 64
// lower-case hex digits; "" for any other object, or one naming none.
// It is how the gate finds the object an evidence file was filed with.
func EvidenceSHA256(raw []byte) string {
	var o struct {
		Type   string            `json:"type"`
		Hashes map[string]string `json:"hashes"`
	}
	if json.Unmarshal(raw, &o) != nil || o.Type != "file" && o.Type != "artifact" {
		return ""
	}
	return SHA256Of(o.Hashes)
}

// SHA256Of returns the SHA-256 a STIX hashes dictionary gives (any
// spelling of the key), as 64 lower-case hex digits; "" when none.
func SHA256Of(hashes map[string]string) string {
	for k, v := range hashes {
		if !strings.EqualFold(strings.ReplaceAll(k, "-", ""), "sha256") || len(v) != 64 {
			continue
		}
		v = strings.ToLower(v)
		if strings.Trim(v, "0123456789abcdef") == "" {
			return v
		}
	}
	return ""
}

// IsIncidentReport reports whether raw is a report carrying Parley's
// property-extension: an incident report, filed with the objects it holds.
func IsIncidentReport(raw []byte) bool {
	var o struct {
		Type       string                     `json:"type"`
		Extensions map[string]json.RawMessage `json:"extensions"`
	}
	if json.Unmarshal(raw, &o) != nil || o.Type != "report" {
		return false
	}
	_, ok := o.Extensions[ParleyExtensionID]
	return ok
}
