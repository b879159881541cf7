package stix

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

const (
	exParty  = "identity--0a5e1b2c-3d4e-5f60-8172-839405a6b7c8"
	exOther  = "identity--1b6f2c3d-4e5f-4061-9283-94a5b6c7d8e9"
	exReport = "report--2c7a3d4e-5f60-4172-8394-a5b6c7d8e9f0"
)

// parleyExamples returns a good object of each of Parley's types and a
// report with the property-extension, as the design note describes them.
func parleyExamples(t *testing.T) map[string]map[string]any {
	t.Helper()
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	ts := FormatTime(now)
	sum := strings.Repeat("ab", 32)
	props := map[string]map[string]any{
		TypeRequest: {"name": "Takedown of C2", "description": "Please act on the C2 servers", "about_refs": []string{exReport},
			"infrastructure": []string{"203.0.113.7", "198.51.100.0/24", "evil.example", "https://evil.example/x"},
			"sectors":        []string{"energy"}, "to_ref": exOther, "ack_by": ts, "answer_by": ts, "off_limits": true},
		TypeTransition: {"request_ref": "parley-request--3d8b4e5f-6071-4283-94a5-b6c7d8e9f0a1", "request_action": "answer", "from_state": "acknowledged",
			"to_state": "answered", "response_kind": "action-takedown", "description": "taken down", "object_refs": []string{"sighting--4e9c5f60-7182-4394-a5b6-c7d8e9f0a1b2"}},
		TypeHotline:    {"description": "Call me", "priority": "urgent", "ack_within": 900, "about_refs": []string{exReport}},
		TypeReceipt:    {"message_ref": "parley-hotline--5fad6071-8293-44a5-b6c7-d8e9f0a1b2c3", "receipt_kind": "acknowledged", "acknowledged_by": "duty officer Ana", "received": ts},
		TypeCheck:      {"check_kind": "ping", "trigger": "on-demand", "sent": ts},
		TypeAssessment: {"sector": "water", "level": 4, "rationale": "three incidents this month", "valid_from": ts},
		TypeMeeting: {"name": "Round 7", "start": ts, "participants": []map[string]any{{"party_ref": exParty, "name": "Ana", "role": "head"}},
			"agenda":       []map[string]any{{"title": "The C2 takedown", "object_refs": []string{exReport}}},
			"minutes_ref":  "parley-statement--60be7182-93a4-45b6-87d8-e9f0a1b2c3d4",
			"action_items": []map[string]any{{"description": "share logs", "owner_ref": exOther, "due": ts, "status": "open"}}},
		TypeStatement: {"statement_kind": "off-limits", "texts": map[string]string{"en": "We shall not attack", "ru": "Мы не будем атаковать"}, "text_sha256": sum, "sectors": []string{"energy", "healthcare-public"}},
		TypeSignature: {"statement_ref": "parley-statement--60be7182-93a4-45b6-87d8-e9f0a1b2c3d4", "text_sha256": sum, "signed_by": "Ana, head of CERT"},
		TypeEvent:     {"event_kind": "escalation", "subject_ref": "parley-request--3d8b4e5f-6071-4283-94a5-b6c7d8e9f0a1", "reason": "ack-overdue", "due": ts},
	}
	out := map[string]map[string]any{}
	for _, typ := range ParleyTypes {
		p, ok := props[typ]
		if !ok {
			t.Fatalf("no example of %s", typ)
		}
		raw, err := NewParleyObject(typ, now, exParty, p)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		json.Unmarshal(raw, &m)
		out[typ] = m
	}
	out["report"] = map[string]any{"type": "report", "spec_version": "2.1", "id": exReport, "created": ts, "modified": ts, "created_by_ref": exParty,
		"name": "Attack on the grid", "published": ts, "object_refs": []string{"incident--71cf8293-a4b5-46c7-98e9-f0a1b2c3d4e5"},
		"object_marking_refs": []string{TLPAmber.ID},
		"extensions":          map[string]any{ParleyExtensionID: map[string]any{"extension_type": "property-extension", "sectors": []string{"energy", "drinking-water"}, "severity": 5}}}
	return out
}

func TestValidateParleyGood(t *testing.T) {
	for typ, m := range parleyExamples(t) {
		raw, _ := json.Marshal(m)
		if err := ValidateParley(raw); err != nil {
			t.Errorf("%s: %v\n%s", typ, err, raw)
		}
		if typ != "report" {
			if _, _, err := Parse(raw); err != nil {
				t.Errorf("%s: Parse: %v", typ, err)
			}
		}
	}
	// Objects that are not Parley's pass untouched.
	for _, raw := range []string{
		`{"type":"indicator","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"}`,
		`{"type":"report","id":"report--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","object_refs":[]}`,
	} {
		if err := ValidateParley([]byte(raw)); err != nil {
			t.Errorf("%s: %v", raw, err)
		}
	}
}

func TestParleySchemaSectorsAndTypes(t *testing.T) {
	var s struct {
		Defs map[string]json.RawMessage `json:"$defs"`
	}
	if err := json.Unmarshal(ParleySchema(), &s); err != nil {
		t.Fatal(err)
	}
	for _, typ := range append([]string{"report", "report-extension"}, ParleyTypes...) {
		if _, ok := s.Defs[typ]; !ok {
			t.Errorf("the schema has no definition of %s", typ)
		}
	}
	if _, err := parleySchemas(); err != nil {
		t.Fatal(err)
	}
}

// A table of bad objects: each gets an error naming the property as a JSON
// pointer and the reason.
func TestValidateParleyBad(t *testing.T) {
	ex := parleyExamples(t)
	type edit func(m map[string]any)
	set := func(k string, v any) edit { return func(m map[string]any) { m[k] = v } }
	del := func(k string) edit { return func(m map[string]any) { delete(m, k) } }
	rename := func(from, to string) edit { return func(m map[string]any) { m[to] = m[from]; delete(m, from) } }
	ext := func(k string, v any) edit {
		return func(m map[string]any) {
			m["extensions"].(map[string]any)[ParleyExtensionID].(map[string]any)[k] = v
		}
	}
	for _, tc := range []struct {
		name, typ string
		edit      edit
		pointer   string
		reason    string
	}{
		{"request without to_ref", TypeRequest, del("to_ref"), "/to_ref", "required property missing"},
		{"request without about_refs", TypeRequest, del("about_refs"), "/about_refs", "required property missing"},
		{"request about a non-report", TypeRequest, set("about_refs", []string{"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"}), "/about_refs/0", "is not"},
		{"request with a bad deadline", TypeRequest, set("ack_by", "2026-11-26 09:00"), "/ack_by", "STIX timestamp"},
		{"request with an unknown sector", TypeRequest, set("sectors", []string{"nukes"}), "/sectors/0", `"nukes" is not one of`},
		{"request with off_limits a string", TypeRequest, set("off_limits", "yes"), "/off_limits", "a string, want a boolean"},
		{"request with an unknown property", TypeRequest, set("priority", "high"), "/priority", "property not allowed"},
		{"request with a bad id", TypeRequest, set("id", "parley-request--1"), "/id", "is not"},
		{"request with the wrong spec_version", TypeRequest, set("spec_version", "2.0"), "/spec_version", `want "2.1"`},
		{"request without created_by_ref", TypeRequest, del("created_by_ref"), "/created_by_ref", "required property missing"},
		{"request without the extension marker", TypeRequest, set("extensions", map[string]any{}), "/extensions/" + ParleyExtensionID, "required property missing"},
		{"request marked a property-extension", TypeRequest, ext("extension_type", "property-extension"), "/extensions/" + ParleyExtensionID + "/extension_type", `want "new-sdo"`},
		{"transition with a wrong action", TypeTransition, set("request_action", "reopen"), "/request_action", `"reopen" is not one of acknowledge, answer, decline, close`},
		{"transition with a wrong state", TypeTransition, set("to_state", "done"), "/to_state", `"done" is not one of`},
		{"answer without a kind", TypeTransition, del("response_kind"), "/response_kind", "required property missing"},
		{"answer with an unknown kind", TypeTransition, set("response_kind", "shrug"), "/response_kind", `"shrug" is not one of`},
		{"cannot-act without reason", TypeTransition, set("response_kind", "cannot-act"), "/reason", "required property missing"},
		{"decline without reason", TypeTransition, func(m map[string]any) { m["request_action"] = "decline"; delete(m, "response_kind") }, "/reason", "required property missing"},
		{"acknowledgement with a kind", TypeTransition, set("request_action", "acknowledge"), "/response_kind", "property not allowed"},
		{"transition with the reserved name action", TypeTransition, rename("request_action", "action"), "/action", "property not allowed"},
		{"transition with no move", TypeTransition, del("request_action"), "/request_action", "required property missing"},
		{"transition with an empty reason", TypeTransition, set("reason", ""), "/reason", "minLength"},
		{"hotline with a bad priority", TypeHotline, set("priority", "panic"), "/priority", `"panic" is not one of normal, urgent`},
		{"hotline with ack_within 0", TypeHotline, set("ack_within", 0), "/ack_within", "below the minimum 1"},
		{"hotline with ack_within 1.5", TypeHotline, set("ack_within", 1.5), "/ack_within", "want a integer"},
		{"receipt acknowledged by nobody", TypeReceipt, del("acknowledged_by"), "/acknowledged_by", "required property missing"},
		{"receipt of a request", TypeReceipt, set("message_ref", "parley-request--3d8b4e5f-6071-4283-94a5-b6c7d8e9f0a1"), "/message_ref", "is not"},
		{"ping without sent", TypeCheck, del("sent"), "/sent", "required property missing"},
		{"check answer without check_ref", TypeCheck, set("check_kind", "answer"), "/check_ref", "required property missing"},
		{"assessment level 6", TypeAssessment, set("level", 6), "/level", "above the maximum 5 (1 low … 5 severe)"},
		{"assessment level 0", TypeAssessment, set("level", 0), "/level", "below the minimum 1 (1 low … 5 severe)"},
		{"assessment without rationale", TypeAssessment, del("rationale"), "/rationale", "required property missing"},
		{"meeting participant without name", TypeMeeting, set("participants", []map[string]any{{"party_ref": exParty}}), "/participants/0/name", "required property missing"},
		{"meeting action item with a bad status", TypeMeeting, set("action_items", []map[string]any{{"description": "x", "owner_ref": exOther, "due": "2026-11-26T09:00:00Z", "status": "late"}}), "/action_items/0/status", `"late" is not one of open, done, dropped`},
		{"meeting owner not an identity", TypeMeeting, set("action_items", []map[string]any{{"description": "x", "owner_ref": exReport, "due": "2026-11-26T09:00:00Z", "status": "open"}}), "/action_items/0/owner_ref", "identity id"},
		{"statement with a bad sha256", TypeStatement, set("text_sha256", strings.Repeat("AB", 32)), "/text_sha256", "hex SHA-256"},
		{"statement with a short sha256", TypeStatement, set("text_sha256", "abc"), "/text_sha256", "hex SHA-256"},
		{"statement without texts", TypeStatement, set("texts", map[string]string{}), "/texts", "minProperties"},
		{"statement with an empty text", TypeStatement, set("texts", map[string]string{"en": ""}), "/texts/en", "minLength"},
		{"statement with a bad language", TypeStatement, set("texts", map[string]string{"english!": "x"}), "/texts/english!", "property not allowed"},
		{"off-limits statement without sectors", TypeStatement, del("sectors"), "/sectors", "required property missing"},
		{"joint statement with sectors", TypeStatement, set("statement_kind", "joint-statement"), "/sectors", "property not allowed"},
		{"signature without hash", TypeSignature, del("text_sha256"), "/text_sha256", "required property missing"},
		{"event of a bad kind", TypeEvent, set("event_kind", "nag"), "/event_kind", `"nag" is not one of reminder, escalation`},
		{"event with a bad reason", TypeEvent, set("reason", "Ack Overdue"), "/reason", "is not"},
		{"report without TLP", "report", set("object_marking_refs", []string{}), "/object_marking_refs", "exactly one TLP 2.0 marking"},
		{"report with TLP 1.0 only", "report", set("object_marking_refs", []string{TLP1Green.ID}), "/object_marking_refs", "exactly one TLP 2.0 marking"},
		{"report with two TLPs", "report", set("object_marking_refs", []string{TLPAmber.ID, TLPRed.ID}), "/object_marking_refs", "more than one"},
		{"report severity 9", "report", ext("severity", 9), "/extensions/" + ParleyExtensionID + "/severity", "above the maximum 5"},
		{"report without sectors", "report", ext("sectors", []string{}), "/extensions/" + ParleyExtensionID + "/sectors", "minItems"},
		{"report with an unknown sector", "report", ext("sectors", []string{"it", "shipping"}), "/extensions/" + ParleyExtensionID + "/sectors/1", `"shipping" is not one of`},
		{"report with a duplicate sector", "report", ext("sectors", []string{"it", "it"}), "/extensions/" + ParleyExtensionID + "/sectors", "unique"},
		{"report extension with extra", "report", ext("colour", "red"), "/extensions/" + ParleyExtensionID + "/colour", "property not allowed"},
		{"report without published", "report", del("published"), "/published", "required property missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := deepCopy(ex[tc.typ])
			tc.edit(m)
			raw, _ := json.Marshal(m)
			err := ValidateParley(raw)
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("got %v, want Errors\n%s", err, raw)
			}
			for _, e := range es {
				if e.Pointer == tc.pointer && strings.Contains(e.Message, tc.reason) {
					if e.ObjectID != m["id"] && tc.pointer != "/id" {
						t.Errorf("error names object %q, want %v", e.ObjectID, m["id"])
					}
					return
				}
			}
			t.Errorf("got %v\nwant an error at %s saying %q", err, tc.pointer, tc.reason)
		})
	}
	// A Parley extension on another type, and input that is no object.
	for raw, want := range map[string]string{
		`{"type":"indicator","extensions":{"` + ParleyExtensionID + `":{}}}`: "applies to reports only",
		`[1]`:            "not a JSON object",
		`{"type":`:       "not a JSON object",
		`"parley-event"`: "not a JSON object",
	} {
		if err := ValidateParley([]byte(raw)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", raw, err, want)
		}
	}
}

func deepCopy(m map[string]any) map[string]any {
	b, _ := json.Marshal(m)
	var out map[string]any
	json.Unmarshal(b, &out)
	return out
}

func FuzzValidateParley(f *testing.F) {
	f.Add([]byte(`{"type":"parley-request"}`))
	f.Add([]byte(`{"type":"report","extensions":{"` + ParleyExtensionID + `":{"severity":"x"}}}`))
	f.Add([]byte(`{"type":"parley-meeting","participants":[{"name":1}],"agenda":{}}`))
	f.Add([]byte(`{"type":"parley-statement","texts":{"~/":""}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		err := ValidateParley(raw)
		var es Errors
		if err != nil && !errors.As(err, &es) {
			t.Fatalf("error of type %T: %v", err, err)
		}
	})
}

// A transition written before extension version 1.1.0 names its move
// "action" (a name STIX 2.1 section 3.8 reserves): what this node writes
// must use request_action, what it receives or reads back may be in
// either form, checked whole against the form it is in.
func TestValidateParleyReceivedLegacyTransition(t *testing.T) {
	m := parleyExamples(t)[TypeTransition]
	legacy := deepCopy(m)
	legacy["action"] = legacy["request_action"]
	delete(legacy, "request_action")
	raw, _ := json.Marshal(legacy)
	if err := ValidateParley(raw); err == nil {
		t.Errorf("ValidateParley accepts a transition naming its move action:\n%s", raw)
	}
	if err := ValidateParleyReceived(raw); err != nil {
		t.Errorf("ValidateParleyReceived refuses a legacy transition: %v\n%s", err, raw)
	}
	current, _ := json.Marshal(m)
	if err := ValidateParleyReceived(current); err != nil {
		t.Errorf("ValidateParleyReceived refuses a current transition: %v", err)
	}
	for name, edit := range map[string]func(map[string]any){
		"legacy with a wrong move":        func(m map[string]any) { m["action"] = "reopen" },
		"legacy answer without a kind":    func(m map[string]any) { delete(m, "response_kind") },
		"legacy decline without reason":   func(m map[string]any) { m["action"] = "decline"; delete(m, "response_kind") },
		"both names":                      func(m map[string]any) { m["request_action"] = "answer" },
		"legacy with an unknown property": func(m map[string]any) { m["colour"] = "red" },
	} {
		bad := deepCopy(legacy)
		edit(bad)
		raw, _ := json.Marshal(bad)
		if err := ValidateParleyReceived(raw); err == nil {
			t.Errorf("%s: accepted\n%s", name, raw)
		}
	}
}

// No Parley type or property-extension uses a top-level property name
// that STIX 2.1 section 3.8 reserves (the OASIS schemas' core.json and
// the OASIS validator refuse them), and no type is a reserved type name.
func TestParleySchemaReservedNames(t *testing.T) {
	reserved := []string{"severity", "action", "username", "phone_numbers"}
	var s struct {
		Defs map[string]struct {
			Properties map[string]json.RawMessage `json:"properties"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(ParleySchema(), &s); err != nil {
		t.Fatal(err)
	}
	for _, def := range append([]string{"common", "report"}, ParleyTypes...) {
		d, ok := s.Defs[def]
		if !ok {
			t.Fatalf("no definition %s", def)
		}
		for _, r := range reserved {
			if _, ok := d.Properties[r]; ok {
				t.Errorf("%s has the reserved top-level property %q", def, r)
			}
		}
	}
	for _, typ := range ParleyTypes {
		if typ == "action" {
			t.Errorf("the reserved type name %q", typ)
		}
	}
}
