package stix

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	jskind "github.com/santhosh-tekuri/jsonschema/v6/kind"
)

// parleySchemaJSON is the JSON Schema (draft 2020-12) of Parley's
// extension: one definition ($defs) per new SDO type, named as the type,
// and "report" for a report carrying the property-extension (its
// sectors and severity, and exactly one TLP 2.0 marking).
//
//go:embed schema/parley-extension-v1.json
var parleySchemaJSON []byte

// parleySchemaID is the schema's $id.
const parleySchemaID = "urn:parley:schema:parley-extension-v1"

// ParleySchema returns the bytes of Parley's extension JSON Schema, as
// kept in the repository (internal/stix/schema/parley-extension-v1.json).
func ParleySchema() []byte { return bytes.Clone(parleySchemaJSON) }

var parleySchemas = sync.OnceValues(func() (map[string]*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(parleySchemaJSON))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource(parleySchemaID, doc); err != nil {
		return nil, err
	}
	out := map[string]*jsonschema.Schema{}
	for _, name := range append([]string{"report", legacyTransition}, ParleyTypes...) {
		s, err := c.Compile(parleySchemaID + "#/$defs/" + name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out[name] = s
	}
	return out, nil
})

// legacyTransition is the schema's definition of a parley-transition as
// Parley wrote it before extension version 1.1.0: its move in "action", a
// top-level name that STIX 2.1 (section 3.8) reserves. Such objects are in
// stores and logs already and may still come from a peer running older
// code: ValidateParleyReceived accepts them, ValidateParley does not.
const legacyTransition = "parley-transition-legacy"

// ValidateParley checks an object this node writes against Parley's
// extension schema: one of Parley's new SDO types against its definition,
// and a report that carries Parley's property-extension against the report
// definition (its sectors and severity, and exactly one TLP 2.0 marking).
// Any other object is not Parley's concern and passes. A parley-transition
// must name its move request_action; the legacy "action" is refused.
//
// The error is Errors, one *Error per broken rule, each naming the
// property as a JSON pointer ("/request_action", "/participants/0/name") and the
// reason. Callers across a package boundary wrap it with the dialogue's
// KindInvalid (this package must not import the dialogue package).
func ValidateParley(raw []byte) error { return validateParley(raw, false) }

// ValidateParleyReceived is ValidateParley for an object received from a
// peer or read back from a store: it also accepts a parley-transition in
// the legacy form (its move in "action" and no request_action), checked
// against the legacy definition, so that a peer running older code and a
// record written before the rename stay valid. Either form must be whole:
// an object with both names, or with "action" and a broken rule, fails.
func ValidateParleyReceived(raw []byte) error { return validateParley(raw, true) }

func validateParley(raw []byte, legacy bool) error {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return Errors{{Rule: "json", Message: "not a JSON object: " + jsonMessage(err)}}
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return Errors{{Rule: "json", Message: "not a JSON object"}}
	}
	typ, _ := obj["type"].(string)
	id, _ := obj["id"].(string)
	name := typ
	if !IsParleyType(typ) {
		exts, _ := obj["extensions"].(map[string]any)
		if _, ok := exts[ParleyExtensionID]; !ok {
			return nil
		}
		if typ != "report" {
			return Errors{{ObjectID: id, Pointer: "/extensions/" + escapePointer(ParleyExtensionID), Rule: "parley-schema",
				Message: fmt.Sprintf("Parley's property-extension applies to reports only, not to a %q", typ)}}
		}
	}
	schemas, err := parleySchemas()
	if err != nil {
		// The embedded schema is checked by the tests; this cannot happen
		// in a released build.
		return fmt.Errorf("stix.ValidateParley: the embedded schema does not compile: %w", err)
	}
	if legacy && typ == TypeTransition {
		_, old := obj["action"]
		_, renamed := obj["request_action"]
		if old && !renamed {
			name = legacyTransition
		}
	}
	err = schemas[name].Validate(doc)
	if err == nil {
		return nil
	}
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return Errors{{ObjectID: id, Rule: "parley-schema", Message: err.Error()}}
	}
	var es Errors
	seen := map[string]bool{}
	for _, e := range schemaLeaves(ve) {
		e.ObjectID = id
		if k := e.Pointer + "\x00" + e.Message; !seen[k] {
			seen[k] = true
			es = append(es, e)
		}
	}
	sort.SliceStable(es, func(i, j int) bool { return es[i].Pointer < es[j].Pointer })
	return es
}

// schemaLeaves turns a validation error's leaves into Errors: the
// instance location as a JSON pointer, one per missing or unknown
// property, and a reason a person can act on.
func schemaLeaves(ve *jsonschema.ValidationError) []*Error {
	at := jsonPointer(ve.InstanceLocation)
	switch k := ve.ErrorKind.(type) {
	case *jskind.Contains, *jskind.MinContains:
		return []*Error{{Pointer: at, Rule: "tlp", Message: "exactly one TLP 2.0 marking is required (clear, green, amber, amber+strict or red); found none"}}
	case *jskind.MaxContains:
		return []*Error{{Pointer: at, Rule: "tlp", Message: "exactly one TLP 2.0 marking is required; found more than one"}}
	case *jskind.AdditionalProperties:
		out := make([]*Error, len(k.Properties))
		for i, p := range k.Properties {
			out[i] = &Error{Pointer: at + "/" + escapePointer(p), Rule: "parley-schema", Message: "property not allowed here"}
		}
		return out
	}
	if len(ve.Causes) > 0 {
		var out []*Error
		for _, c := range ve.Causes {
			out = append(out, schemaLeaves(c)...)
		}
		return out
	}
	def := schemaDef(ve.SchemaURL)
	switch k := ve.ErrorKind.(type) {
	case *jskind.Required:
		out := make([]*Error, len(k.Missing))
		for i, p := range k.Missing {
			out[i] = &Error{Pointer: at + "/" + escapePointer(p), Rule: "required", Message: "required property missing"}
		}
		return out
	case *jskind.FalseSchema, *jskind.Not:
		// unevaluatedProperties: false, or a property another one's value
		// excludes (a response_kind on anything but an answer)
		return []*Error{{Pointer: at, Rule: "parley-schema", Message: "property not allowed: not in Parley's schema for this type, or not with these values"}}
	case *jskind.Pattern:
		what := "the expected form"
		if def != "" {
			what = "a valid " + def
		}
		return []*Error{{Pointer: at, Rule: "format", Message: fmt.Sprintf("%q is not %s", truncate(k.Got, 80), what)}}
	case *jskind.Enum:
		return []*Error{{Pointer: at, Rule: "vocabulary", Message: fmt.Sprintf("%s is not one of %s", shortJSON(k.Got), enumList(k.Want))}}
	case *jskind.Const:
		return []*Error{{Pointer: at, Rule: "value", Message: fmt.Sprintf("%s: want %s", shortJSON(k.Got), shortJSON(k.Want))}}
	case *jskind.Type:
		return []*Error{{Pointer: at, Rule: "type", Message: fmt.Sprintf("a %s, want a %s", k.Got, strings.Join(k.Want, " or "))}}
	case *jskind.Minimum:
		return []*Error{{Pointer: at, Rule: "range", Message: fmt.Sprintf("%s is below the minimum %s", k.Got.RatString(), k.Want.RatString()) + rangeHint(def)}}
	case *jskind.Maximum:
		return []*Error{{Pointer: at, Rule: "range", Message: fmt.Sprintf("%s is above the maximum %s", k.Got.RatString(), k.Want.RatString()) + rangeHint(def)}}
	case *jskind.UniqueItems:
		return []*Error{{Pointer: at, Rule: "unique", Message: fmt.Sprintf("items %d and %d are the same; each must be unique", k.Duplicates[0], k.Duplicates[1])}}
	}
	msg := ve.Error()
	if _, after, ok := strings.Cut(msg, "': "); ok {
		msg = after
	}
	return []*Error{{Pointer: at, Rule: "parley-schema", Message: msg}}
}

func rangeHint(def string) string {
	if def == "level" {
		return " (1 low … 5 severe)"
	}
	return ""
}

// schemaDef returns the name of the $defs entry a schema location lies
// in: "timestamp" for "urn:…#/$defs/timestamp/pattern".
func schemaDef(url string) string {
	_, frag, _ := strings.Cut(url, "#")
	parts := strings.Split(frag, "/")
	def := ""
	for i := 0; i+1 < len(parts); i++ {
		if parts[i] == "$defs" {
			def = parts[i+1]
		}
	}
	switch def {
	case "timestamp":
		return "STIX timestamp (RFC 3339, UTC, ending in Z)"
	case "identifier", "identifiers":
		return "STIX id (type--UUID)"
	case "identity-ref":
		return "identity id (identity--UUID)"
	case "sha256":
		return "hex SHA-256 (64 lower-case hex digits)"
	case "level":
		return "level"
	}
	if def != "" && IsParleyType(def) || def == "report" || def == legacyTransition || def == "" {
		return "value"
	}
	return def
}

func jsonPointer(toks []string) string {
	var b strings.Builder
	for _, t := range toks {
		b.WriteByte('/')
		b.WriteString(escapePointer(t))
	}
	return b.String()
}

func escapePointer(s string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func shortJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return truncate(string(b), 80)
}

func enumList(want []any) string {
	parts := make([]string, len(want))
	for i, w := range want {
		parts[i] = fmt.Sprint(w)
	}
	return strings.Join(parts, ", ")
}

func jsonMessage(err error) string {
	return truncate(err.Error(), 200)
}
