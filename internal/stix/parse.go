package stix

import (
	"encoding/json"
	"fmt"
	"time"
)

// TEMPORARY minimal implementation so that other packages compile; the
// full validator replaces it.

// ParseBundle parses a bundle without validating its objects.
func ParseBundle(data []byte) (*Bundle, error) {
	var b struct {
		Type    string            `json:"type"`
		ID      string            `json:"id"`
		Objects []json.RawMessage `json:"objects"`
	}
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, Errors{{Rule: "json", Message: err.Error()}}
	}
	if b.Type != "bundle" {
		return nil, Errors{{ObjectID: b.ID, Pointer: "/type", Rule: "bundle", Message: fmt.Sprintf("type is %q, want \"bundle\"", b.Type)}}
	}
	return &Bundle{ID: b.ID, Objects: b.Objects}, nil
}

// Parse validates one object.
func Parse(raw []byte) (*Object, []Warning, error) {
	var o struct {
		ID, Type, SpecVersion, Created, Modified string
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, nil, Errors{{Rule: "json", Message: err.Error()}}
	}
	o.ID, _ = m["id"].(string)
	o.Type, _ = m["type"].(string)
	o.SpecVersion, _ = m["spec_version"].(string)
	o.Created, _ = m["created"].(string)
	o.Modified, _ = m["modified"].(string)
	obj := &Object{ID: o.ID, Type: o.Type, SpecVersion: o.SpecVersion, Raw: raw}
	if obj.SpecVersion == "" {
		obj.SpecVersion = "2.1"
	}
	var err error
	if o.Created != "" {
		if obj.Created, err = ParseTime(o.Created); err != nil {
			return nil, nil, Errors{{ObjectID: o.ID, Pointer: "/created", Rule: "timestamp", Message: err.Error()}}
		}
	}
	if o.Modified != "" {
		if obj.Modified, err = ParseTime(o.Modified); err != nil {
			return nil, nil, Errors{{ObjectID: o.ID, Pointer: "/modified", Rule: "timestamp", Message: err.Error()}}
		}
	}
	return obj, nil, nil
}

// ParseTime parses a STIX timestamp: RFC 3339, UTC, with "Z".
func ParseTime(s string) (time.Time, error) {
	return time.Parse(time.RFC3339Nano, s)
}

// FormatTime formats t as a STIX timestamp in UTC with at least
// millisecond precision, more when t has it.
func FormatTime(t time.Time) string {
	t = t.UTC()
	if t.Nanosecond()%1e6 == 0 {
		return t.Format("2006-01-02T15:04:05.000Z")
	}
	return t.Format(time.RFC3339Nano)
}
