package stix

import "encoding/json"

// TLP2ExtensionID is the id of the extension-definition that the TLP 2.0
// marking definitions use.
const TLP2ExtensionID = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"

// A TLPMarking is one of the fixed, published TLP marking definitions.
type TLPMarking struct {
	ID      string // marking-definition--…
	Name    string // "TLP:AMBER"
	Level   string // "amber", "amber+strict", …
	Version int    // 1 for TLP 1.0 (STIX 2.1 §7.2.1.4), 2 for TLP 2.0
	// JSON is the official marking-definition object, byte for byte as
	// Parley emits it.
	JSON json.RawMessage
}

// The TLP 2.0 marking definitions, with their official ids and JSON as
// published by OASIS (cti-stix-common-objects, extension-definition
// specification tlp-2.0).
var (
	TLPClear       = tlp2("94868c89-83c2-464b-929b-a1a8aa3c8487", "TLP:CLEAR", "clear")
	TLPGreen       = tlp2("bab4a63c-aed9-4cf5-a766-dfca5abac2bb", "TLP:GREEN", "green")
	TLPAmber       = tlp2("55d920b0-5e8b-4f79-9ee9-91f868d9b421", "TLP:AMBER", "amber")
	TLPAmberStrict = tlp2("939a9414-2ddd-4d32-a0cd-375ea402b003", "TLP:AMBER+STRICT", "amber+strict")
	TLPRed         = tlp2("e828b379-4e03-4974-9ac4-e53a884c97c1", "TLP:RED", "red")
)

// The TLP 1.0 marking definitions that STIX 2.1 itself predefines.
var (
	TLP1White = tlp1("613f2e26-407d-48c7-9eca-b8e91df99dc9", "white")
	TLP1Green = tlp1("34098fce-860f-48ae-8e50-ebd3cc5e41da", "green")
	TLP1Amber = tlp1("f88d31f6-486f-44da-b317-01333bde0b82", "amber")
	TLP1Red   = tlp1("5e57c739-391a-4eb3-b6be-7d15ca92d5ed", "red")
)

// TLP2Markings lists the TLP 2.0 marking definitions from the least to
// the most restrictive.
var TLP2Markings = []*TLPMarking{TLPClear, TLPGreen, TLPAmber, TLPAmberStrict, TLPRed}

var (
	tlp2ByLevel = map[string]*TLPMarking{}
	tlpByID     = map[string]*TLPMarking{}
	tlp1IDs     = map[string]string{}
)

func init() {
	for _, m := range TLP2Markings {
		tlp2ByLevel[m.Level] = m
		tlpByID[m.ID] = m
	}
	for _, m := range []*TLPMarking{TLP1White, TLP1Green, TLP1Amber, TLP1Red} {
		tlpByID[m.ID] = m
		tlp1IDs[m.Level] = m.ID
	}
}

func tlp2(uuid, name, level string) *TLPMarking {
	id := "marking-definition--" + uuid
	js := `{"type":"marking-definition","spec_version":"2.1","id":"` + id + `","created":"2022-10-01T00:00:00.000Z","name":"` + name +
		`","extensions":{"` + TLP2ExtensionID + `":{"extension_type":"property-extension","tlp_2_0":"` + level + `"}}}`
	return &TLPMarking{ID: id, Name: name, Level: level, Version: 2, JSON: json.RawMessage(js)}
}

func tlp1(uuid, level string) *TLPMarking {
	id := "marking-definition--" + uuid
	name := map[string]string{"white": "TLP:WHITE", "green": "TLP:GREEN", "amber": "TLP:AMBER", "red": "TLP:RED"}[level]
	js := `{"type":"marking-definition","spec_version":"2.1","id":"` + id + `","created":"2017-01-20T00:00:00.000Z","definition_type":"tlp","name":"` +
		name + `","definition":{"tlp":"` + level + `"}}`
	return &TLPMarking{ID: id, Name: name, Level: level, Version: 1, JSON: json.RawMessage(js)}
}

// TLP tells whether id is one of the published TLP marking definitions
// (1.0 or 2.0) and, if so, which.
func TLP(id string) (*TLPMarking, bool) {
	m, ok := tlpByID[id]
	return m, ok
}
