package stix

import (
	"encoding/json"
	"testing"
	"time"
)

func TestParleyObjects(t *testing.T) {
	if _, _, err := Parse(ParleyExtension()); err != nil {
		t.Fatalf("the extension-definition does not validate: %v", err)
	}
	now := time.Date(2026, 11, 26, 1, 2, 3, 0, time.UTC)
	for _, typ := range ParleyTypes {
		raw, err := NewParleyObject(typ, now, "identity--0a5e1b2c-3d4e-5f60-8172-839405a6b7c8", map[string]any{"name": "x"})
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		var m map[string]any
		json.Unmarshal(raw, &m)
		ext, _ := m["extensions"].(map[string]any)[ParleyExtensionID].(map[string]any)
		if m["type"] != typ || ext["extension_type"] != "new-sdo" || m["created"] != "2026-11-26T01:02:03.000Z" {
			t.Errorf("%s: %s", typ, raw)
		}
	}
	if _, err := NewParleyObject("report", now, "", nil); err == nil {
		t.Error("built a report as a Parley object")
	}
	if _, err := NewParleyObject(TypeRequest, now, "", map[string]any{"id": "x"}); err == nil {
		t.Error("props overrode the id")
	}
}
