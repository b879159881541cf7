package stix

import (
	"encoding/json"
	"fmt"
	"time"
)

// Parley's own objects: the dialogue's items that STIX has no type for
// (assistance requests and their state changes, hotline messages,
// communication checks, threat assessments, meetings, statements and
// their signatures, reminder and escalation events) are new STIX Domain
// Objects that one extension-definition declares, with a fixed id; the
// properties Parley adds to standard objects (a report's sectors and
// severity) are a property-extension of the same definition. Its JSON
// Schema is kept in the repository and checked on every such object,
// written or received.

// ParleyExtensionID is the fixed id of Parley's extension-definition.
const ParleyExtensionID = "extension-definition--6c1f5e3a-2b7d-4e0f-9a8c-1d3e5f7a9b2c"

// ParleyIdentityID is the identity that created the extension-definition:
// the Parley project.
const ParleyIdentityID = "identity--0d4f6a2c-8e1b-4f3d-a5c7-9b2e4d6f8a1c"

// The types of Parley's new SDOs.
const (
	TypeRequest    = "parley-request"    // an assistance request
	TypeTransition = "parley-transition" // a request's acknowledgement, answer, decline or close
	TypeHotline    = "parley-hotline"    // a hotline message
	TypeReceipt    = "parley-receipt"    // a hotline message's delivery receipt (by the node) or acknowledgement (by a person)
	TypeCheck      = "parley-check"      // a communication check, or its answer
	TypeAssessment = "parley-assessment" // a party's threat level for a sector
	TypeMeeting    = "parley-meeting"    // an expert round: agenda, minutes, action items
	TypeStatement  = "parley-statement"  // a text to be agreed: joint statement, minutes, off-limits sectors
	TypeSignature  = "parley-signature"  // a party's signature of a statement's text (by its hash)
	TypeEvent      = "parley-event"      // a reminder or an escalation
)

// ParleyTypes lists the new SDO types the extension declares.
var ParleyTypes = []string{TypeRequest, TypeTransition, TypeHotline, TypeReceipt, TypeCheck, TypeAssessment,
	TypeMeeting, TypeStatement, TypeSignature, TypeEvent}

// IsParleyType reports whether typ is one of Parley's new SDO types.
func IsParleyType(typ string) bool {
	for _, t := range ParleyTypes {
		if t == typ {
			return true
		}
	}
	return false
}

// parleyExtensionCreated and parleyExtensionModified are the
// extension-definition's fixed timestamps: every node emits the same
// bytes, so the copy a peer sends of it is the same version, unchanged.
// Version 1.1.0 (modified) renamed a transition's move from "action",
// which STIX 2.1 section 3.8 reserves, to request_action.
var (
	parleyExtensionCreated  = time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	parleyExtensionModified = time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC)
)

// ParleyExtension returns Parley's extension-definition object. Every node
// emits the same bytes.
func ParleyExtension() json.RawMessage {
	b, _ := json.Marshal(map[string]any{
		"type": "extension-definition", "spec_version": "2.1", "id": ParleyExtensionID,
		"created_by_ref": ParleyIdentityID, "created": FormatTime(parleyExtensionCreated), "modified": FormatTime(parleyExtensionModified),
		"name":            "Parley dialogue",
		"description":     "The objects of Parley's expert dialogue on cybersecurity between states: assistance requests and their state changes, hotline messages and receipts, communication checks, threat assessments, meetings, statements and signatures, events; and the sectors and severity of incident reports.",
		"schema":          "The JSON Schema parley-extension-v1.json in Parley's source (internal/stix/schema), which every Parley node checks each such object against.",
		"version":         "1.1.0",
		"extension_types": []string{"new-sdo", "property-extension"},
	})
	return b
}

// NewParleyObject builds one of Parley's objects: type typ, a new id,
// created and modified at now, created_by_ref createdBy (a party's
// identity; omitted when empty), the extension marker, and props (which
// must not set the common properties). It returns the object's bytes once
// they pass Parse.
func NewParleyObject(typ string, now time.Time, createdBy string, props map[string]any) (json.RawMessage, error) {
	if !IsParleyType(typ) {
		return nil, fmt.Errorf("stix.NewParleyObject: %q is not a Parley type", typ)
	}
	ts := FormatTime(now.UTC().Truncate(time.Millisecond))
	o := map[string]any{
		"type": typ, "spec_version": "2.1", "id": NewID(typ), "created": ts, "modified": ts,
		"extensions": map[string]any{ParleyExtensionID: map[string]any{"extension_type": "new-sdo"}},
	}
	if createdBy != "" {
		o["created_by_ref"] = createdBy
	}
	for k, v := range props {
		if _, common := o[k]; common {
			return nil, fmt.Errorf("stix.NewParleyObject: %s: a common property, set by the builder", k)
		}
		o[k] = v
	}
	b, err := json.Marshal(o)
	if err != nil {
		return nil, fmt.Errorf("stix.NewParleyObject: %w", err)
	}
	if _, _, err := Parse(b); err != nil {
		return nil, fmt.Errorf("stix.NewParleyObject: generated an invalid %s: %w", typ, err)
	}
	return b, nil
}
