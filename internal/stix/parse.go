package stix

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Rule names carried in Error.Rule. They are stable: callers and tests
// may branch on them.
const (
	RuleJSON          = "json"          // not well-formed JSON
	RuleObject        = "object"        // the value is not a JSON object
	RuleRequired      = "required"      // a required property is missing
	RuleValueType     = "value-type"    // a property has the wrong JSON type
	RuleTypeName      = "type-name"     // a type name breaks the naming rule
	RuleID            = "id"            // an id is not type--UUID, or its prefix is not the object's type
	RuleSpecVersion   = "spec-version"  // spec_version missing or not "2.1"
	RuleTimestamp     = "timestamp"     // not an RFC 3339 UTC timestamp with Z
	RuleTimeOrder     = "time-order"    // modified < created, valid_until <= valid_from, …
	RuleRef           = "ref"           // a reference is not a well-formed identifier
	RuleRefType       = "ref-type"      // a reference points at an object of the wrong type
	RuleEmptyList     = "empty-list"    // a list property is empty
	RuleRange         = "range"         // a number is out of its allowed range
	RuleEnum          = "enum"          // a value is not in a closed vocabulary (enumeration)
	RulePropertyName  = "property-name" // a custom property name breaks the naming rule
	RuleExtRef        = "external-reference"
	RuleKillChain     = "kill-chain-phase"
	RuleGranular      = "granular-marking"
	RuleHashes        = "hashes"
	RuleDictionary    = "dictionary" // a dictionary key breaks the key rule
	RuleExtension     = "extension"
	RuleExclusive     = "exclusive"    // properties that must not appear together (or exactly one of them must)
	RuleAtLeastOne    = "at-least-one" // at least one of some properties must be present
	RuleMarking       = "marking-definition"
	RulePattern       = "pattern"
	RuleEncoding      = "encoding" // binary (base64) or hex property is malformed
	RuleBundle        = "bundle"
	RuleDependency    = "dependency" // a property is only allowed when another is present / has some value
	RuleNotEmpty      = "not-empty"  // a string property is empty where it must not be
	RuleLanguageCode  = "language-content"
	RuleRelationType  = "relationship-type"
	RuleExtensionDef  = "extension-definition"
	RuleTLP           = "tlp"
	RuleObservedCount = "number-observed"
	RuleDuplicate     = "duplicate-member" // a member name appears twice in one JSON object
	RuleNumber        = "number"           // a number no JSON reader can be trusted to read alike (see numberProblem)
)

// checker collects every broken rule and warning of one object.
type checker struct {
	id    string
	errs  Errors
	warns []Warning
}

func (c *checker) errf(ptr, rule, format string, args ...any) {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	c.errs = append(c.errs, &Error{ObjectID: c.id, Pointer: ptr, Rule: rule, Message: msg})
}

func (c *checker) warnf(ptr, format string, args ...any) {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	c.warns = append(c.warns, Warning{ObjectID: c.id, Pointer: ptr, Message: msg})
}

var pointerEscaper = strings.NewReplacer("~", "~0", "/", "~1")

// jp builds a JSON pointer from a base pointer and further segments
// (strings are escaped as RFC 6901 asks, ints are list indexes). It is
// only called on the error path.
func jp(base string, segs ...any) string {
	var b strings.Builder
	b.WriteString(base)
	for _, s := range segs {
		b.WriteByte('/')
		switch s := s.(type) {
		case int:
			b.WriteString(strconv.Itoa(s))
		case string:
			b.WriteString(pointerEscaper.Replace(s))
		case []byte:
			b.WriteString(pointerEscaper.Replace(string(s)))
		}
	}
	return b.String()
}

// ParseBundle parses a STIX bundle without validating its objects: it
// checks the bundle's own type, id and objects list and returns each
// object's JSON exactly as it appears in data (the slices alias data).
// A bundle-level spec_version, a STIX 2.0 leftover, gives a warning.
// Errors are of type Errors.
//
// The whole document is checked to be JSON (syntax and UTF-8), but the
// objects are only scanned, not decoded: duplicate member names inside
// an object are found by Parse, which every object must go through.
func ParseBundle(data []byte) (*Bundle, error) {
	if !utf8.Valid(data) {
		return nil, jsonErrors(&jsonError{off: invalidUTF8At(data), rule: RuleJSON, msg: "not valid UTF-8"})
	}
	d := getDecoder(data)
	defer d.release()
	d.skipSpace()
	if d.pos < len(data) && data[d.pos] != '{' {
		k, err := d.skip()
		if err == nil {
			err = d.end()
		}
		if err != nil {
			return nil, jsonErrors(err)
		}
		return nil, Errors{{Rule: RuleObject, Message: "a bundle must be a JSON object, not " + kindName[k]}}
	}
	s, err := d.scanBundle()
	if err == nil {
		err = d.end()
	}
	if err != nil {
		return nil, jsonErrors(err)
	}
	c := &checker{}
	if s.id != nil && s.id.kind == kString {
		c.id = s.id.str()
	}
	b := &Bundle{ID: c.id}
	switch t := s.typ; {
	case t == nil:
		c.errf("/type", RuleRequired, `property "type" is required`)
	case t.kind != kString || string(t.raw()) != "bundle":
		c.errf("/type", RuleBundle, `type must be "bundle"`)
	}
	switch idv := s.id; {
	case idv == nil:
		c.errf("/id", RuleRequired, `property "id" is required`)
	case idv.kind != kString:
		c.errf("/id", RuleValueType, "id must be a string, not %s", kindName[idv.kind])
	default:
		c.checkOwnID("/id", idv.raw(), "bundle")
	}
	if s.specVersion {
		c.warnf("/spec_version", "a bundle-level spec_version is a STIX 2.0 leftover; STIX 2.1 bundles carry none (ignored)")
	}
	if s.hasObjects {
		if s.objectsKind != kArray {
			c.errf("/objects", RuleValueType, "objects must be a list, not %s", kindName[s.objectsKind])
		} else {
			if s.n == 0 {
				c.warnf("/objects", "the objects list is empty")
			}
			for _, bad := range s.notObjects {
				c.errf(jp("/objects", bad.i), RuleObject, "every element of objects must be a JSON object, not %s", kindName[bad.k])
			}
			b.Objects = s.objects
		}
	}
	if len(c.errs) > 0 {
		return nil, c.errs
	}
	b.Warnings = c.warns
	return b, nil
}

// jsonErrors turns an error of the JSON reader into Errors, with the
// pointer and the rule it names.
func jsonErrors(err error) Errors {
	if je, ok := err.(*jsonError); ok {
		return Errors{{Pointer: je.ptr, Rule: je.rule, Message: je.text()}}
	}
	return Errors{{Rule: RuleJSON, Message: err.Error()}}
}

// bundleScan is what ParseBundle reads of a bundle. typ and id point into
// the decoder's arena.
type bundleScan struct {
	typ, id     *value
	specVersion bool
	hasObjects  bool
	objectsKind kind
	n           int // elements in objects
	objects     []json.RawMessage
	notObjects  []struct {
		i int
		k kind
	}
}

// scanBundle reads the object at d.pos: type and id are decoded, objects
// is split into its elements' raw JSON, everything else only checked.
func (d *decoder) scanBundle() (*bundleScan, error) {
	s := &bundleScan{}
	open := d.pos
	d.pos++ // {
	d.depth++
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		d.depth--
		return s, nil
	}
	d.push(false)
	base := len(d.mstack)
	var dc dupCheck
	for n := 1; ; n++ {
		key, err := d.memberName(d.mstack[base:], open, &dc)
		if err != nil {
			return nil, err
		}
		d.mstack = append(grow(d.mstack), member{key: key})
		if err := d.scanBundleMember(s, key); err != nil {
			// the value's own members are left above ours
			return nil, d.dupFirst(&dc, d.mstack[base:base+n], nil, err)
		}
		end, err := d.next()
		if err != nil {
			return nil, d.dupFirst(&dc, d.mstack[base:], nil, err)
		}
		if end {
			break
		}
	}
	if err := d.dupFirst(&dc, d.mstack[base:], nil, nil); err != nil {
		return nil, err
	}
	clear(d.mstack[base:])
	d.mstack = d.mstack[:base]
	d.pop()
	d.depth--
	return s, nil
}

// scanBundleMember reads the value of the bundle's member key into s.
func (d *decoder) scanBundleMember(s *bundleScan, key []byte) error {
	switch string(key) {
	case "type", "id":
		v, err := d.value()
		if err != nil {
			return err
		}
		vp := &v
		if string(key) == "type" {
			s.typ = vp
		} else {
			s.id = vp
		}
	case "objects":
		s.hasObjects = true
		if d.pos < len(d.data) && d.data[d.pos] == '[' {
			s.objectsKind = kArray
			return d.scanObjects(s)
		}
		v, err := d.value()
		if err != nil {
			return err
		}
		s.objectsKind = v.kind
	default:
		if string(key) == "spec_version" {
			s.specVersion = true
		}
		// decoded, not skipped, for the duplicate check at every level
		if _, err := d.value(); err != nil {
			return err
		}
	}
	return nil
}

// scanObjects splits the list at d.pos into its elements.
func (d *decoder) scanObjects(s *bundleScan) error {
	d.pos++ // [
	d.depth++
	s.objects = s.objects[:0]
	s.n = 0
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		d.depth--
		return nil
	}
	d.push(true)
	defer d.pop()
	for {
		d.setIndex(s.n)
		d.skipSpace()
		start := d.pos
		k, err := d.skip()
		if err != nil {
			return err
		}
		if k == kObject {
			s.objects = append(s.objects, json.RawMessage(d.data[start:d.pos:d.pos]))
		} else {
			s.notObjects = append(s.notObjects, struct {
				i int
				k kind
			}{s.n, k})
		}
		s.n++
		if done, err := d.listNext(); done || err != nil {
			if err != nil {
				return err
			}
			break
		}
	}
	d.depth--
	return nil
}

// Parse validates one STIX object against every MUST rule of the STIX 2.1
// specification that can be checked on the object alone. On failure the
// error is of type Errors and lists every broken rule, each with the
// object's id, the property as a JSON pointer and the rule's name (the
// Rule* constants). Broken SHOULD rules and values outside open
// vocabularies come back as warnings. The returned Object's Raw is raw
// itself (not copied).
func Parse(raw []byte) (*Object, []Warning, error) {
	d := getDecoder(raw)
	defer d.release()
	v, err := d.decode()
	if err != nil {
		return nil, nil, jsonErrors(err)
	}
	if v.kind != kObject {
		return nil, nil, Errors{{Rule: RuleObject, Message: "a STIX object must be a JSON object, not " + kindName[v.kind]}}
	}
	d.root = v
	c := &d.c
	obj := c.object(&d.root)
	errs, warns := c.errs, c.warns
	if len(errs) > 0 {
		return nil, warns, errs
	}
	obj.Raw = raw
	return obj, warns, nil
}

// object validates a decoded object and returns its index properties.
func (c *checker) object(o *value) *Object {
	obj := &Object{}
	var idv, tv *value
	for i := range o.members() {
		switch m := &o.members()[i]; string(m.key) {
		case "id":
			idv = &m.val
		case "type":
			tv = &m.val
		}
	}
	if idv != nil && idv.kind == kString {
		c.id = idv.str()
		obj.ID = c.id
	}
	// type
	var def *typeDef
	switch t := tv; {
	case t == nil:
		c.errf("/type", RuleRequired, `property "type" is required`)
	case t.kind != kString:
		c.errf("/type", RuleValueType, "type must be a string, not %s", kindName[t.kind])
	default:
		def = types[string(t.raw())]
		switch {
		case def != nil:
			obj.Type = def.name
		case len(obj.ID) >= len(t.raw()) && obj.ID[:len(t.raw())] == string(t.raw()):
			obj.Type = obj.ID[:len(t.raw())] // shares the id's memory
		default:
			obj.Type = t.str()
		}
		if def == nil {
			if obj.Type == "bundle" {
				c.errf("/type", RuleTypeName, "a bundle is not an object; it cannot appear here")
			} else if msg := typeNameProblem(t.raw()); msg != "" {
				c.errf("/type", RuleTypeName, "type %q: %s", obj.Type, msg)
			} else {
				def = customDef
			}
		}
	}
	// id
	switch {
	case idv == nil:
		c.errf("/id", RuleRequired, `property "id" is required`)
	case idv.kind != kString:
		c.errf("/id", RuleValueType, "id must be a string, not %s", kindName[idv.kind])
	case obj.Type != "":
		c.checkOwnID("/id", idv.raw(), obj.Type)
	}
	if def == nil {
		def = customDef // check the rest as far as possible
	}
	// properties
	var created, modified, sv *value
	var seen uint64 // bit i: def.required[i] is present
	for i := range o.members() {
		m := &o.members()[i]
		p := def.props[string(m.key)]
		if p == nil {
			c.customProperty(m)
			continue
		}
		if p.req >= 0 {
			seen |= 1 << p.req
		}
		switch p.role {
		case roleSkip:
			continue
		case roleSpecVersion:
			sv = &m.val
		case roleCreated:
			created = &m.val
			if t, ok := c.timestamp(p.ptr, &m.val); ok {
				obj.Created = t
			}
			continue
		case roleModified:
			modified = &m.val
			if t, ok := c.timestamp(p.ptr, &m.val); ok {
				obj.Modified = t
			}
			continue
		}
		c.checkProp(p, p.ptr, &m.val)
	}
	if missing := def.allRequired &^ seen; missing != 0 {
		for i, r := range def.required {
			if missing&(1<<i) != 0 {
				c.errf(r.ptr, RuleRequired, "property %q is required on %s", r.name, def.what())
			}
		}
	}
	// spec_version
	obj.SpecVersion = "2.1"
	if sv != nil && sv.kind == kString {
		if string(sv.raw()) != "2.1" {
			c.errf("/spec_version", RuleSpecVersion, `spec_version must be "2.1", not %q`, sv.raw())
		}
	} else if sv == nil && def.cat != catSCO && def != customDef {
		c.errf("/spec_version", RuleSpecVersion, `property "spec_version" is required on %s and must be "2.1"`, def.what())
	}
	// created <= modified
	if !obj.Created.IsZero() && !obj.Modified.IsZero() && obj.Modified.Before(obj.Created) {
		c.errf("/modified", RuleTimeOrder, "modified (%s) must not be earlier than created (%s)", modified.str(), created.str())
	}
	if def.check != nil {
		def.check(c, o)
	}
	return obj
}

// customProperty checks a property the type does not define.
func (c *checker) customProperty(m *member) {
	if msg := propertyNameProblem(m.key); msg != "" {
		c.errf(jp("", m.key), RulePropertyName, "custom property %q: %s", m.key, msg)
		return
	}
	c.customValue(m.key, &m.val)
}

func (c *checker) customValue(key []byte, v *value) {
	k := string(key)
	ptr := func() string { return jp("", key) }
	switch {
	case strings.HasSuffix(k, "_ref"):
		if _, msg := splitID(v.raw()); v.kind != kString || msg != "" {
			c.warnf(ptr(), "a property whose name ends in _ref should hold an identifier")
		}
	case strings.HasSuffix(k, "_refs"):
		if v.kind != kArray {
			c.warnf(ptr(), "a property whose name ends in _refs should hold a list of identifiers")
		}
	case v.kind == kArray && len(v.elems()) == 0:
		c.warnf(ptr(), "an empty list; STIX lists should not be empty")
	}
}

// typeNameProblem reports why s is not a valid STIX type name, or "".
func typeNameProblem(s []byte) string {
	if len(s) < 3 || len(s) > 250 {
		return "must be 3 to 250 characters long"
	}
	for _, ch := range s {
		if !(ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '-') {
			return "may only contain a-z, 0-9 and '-'"
		}
	}
	if s[0] == '-' || s[len(s)-1] == '-' || strings.Contains(string(s), "--") {
		return "must not start or end with '-' nor contain \"--\""
	}
	return ""
}

// propertyNameProblem reports why s is not a valid custom property name.
func propertyNameProblem(s []byte) string {
	if len(s) < 3 || len(s) > 250 {
		return "must be 3 to 250 characters long"
	}
	for _, ch := range s {
		if !(ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '_') {
			return "may only contain a-z, 0-9 and '_'"
		}
	}
	return ""
}

// splitID splits type--UUID and checks the UUID. It returns the type
// and a problem description ("" when the id is well-formed).
func splitID(id []byte) ([]byte, string) {
	// the UUID is the last 36 bytes, preceded by "--"
	i := len(id) - 38
	if i < 3 || id[i] != '-' || id[i+1] != '-' {
		return nil, "must have the form type--UUID"
	}
	typ := id[:i]
	if msg := typeNameProblem(typ); msg != "" {
		return nil, "type part " + msg
	}
	if !validUUID(id[i+2:]) {
		return typ, "the part after -- must be an RFC 4122 UUID (version 1-5, variant 10xx)"
	}
	return typ, ""
}

// hexDigit marks 0-9, a-f and A-F.
var hexDigit = func() (t [256]bool) {
	for _, c := range []byte("0123456789abcdefABCDEF") {
		t[c] = true
	}
	return t
}()

func validUUID(u []byte) bool {
	if len(u) != 36 || u[8] != '-' || u[13] != '-' || u[18] != '-' || u[23] != '-' {
		return false
	}
	for i, ch := range u {
		if !hexDigit[ch] && i != 8 && i != 13 && i != 18 && i != 23 {
			return false
		}
	}
	if u[14] < '1' || u[14] > '5' {
		return false
	}
	switch u[19] {
	case '8', '9', 'a', 'b', 'A', 'B':
	default:
		return false
	}
	return true
}

func isHex(ch byte) bool { return hexDigit[ch] }

// ValidID reports whether id is a well-formed STIX identifier
// (type--UUID with a valid type name and an RFC 4122 UUID).
func ValidID(id string) bool {
	_, msg := splitID([]byte(id))
	return msg == ""
}

// IDType returns the type part of a well-formed identifier, or "".
func IDType(id string) string {
	typ, msg := splitID([]byte(id))
	if msg != "" {
		return ""
	}
	return string(typ)
}

func (c *checker) checkOwnID(ptr string, id []byte, typ string) {
	t, msg := splitID(id)
	if msg != "" {
		c.errf(ptr, RuleID, "id %q %s", id, msg)
		return
	}
	if string(t) != typ {
		c.errf(ptr, RuleID, "id %q must start with the object's type %q", id, typ+"--")
	}
}

// checkRef checks that id is an identifier of a type rt allows (any
// type when rt is nil).
func (c *checker) checkRef(ptr string, id []byte, rt *refTypes) {
	if rule, msg := refProblem(id, rt); rule != "" {
		c.errf(ptr, rule, "%s", msg)
	}
}

func refProblem(id []byte, rt *refTypes) (rule, msg string) {
	t, msg := splitID(id)
	if msg != "" {
		return RuleRef, fmt.Sprintf("reference %q %s", id, msg)
	}
	if rt != nil && !rt.allows(t) {
		return RuleRefType, fmt.Sprintf("reference %q must point at %s, not %s", id, rt.desc, t)
	}
	return "", ""
}

func (c *checker) timestamp(ptr string, v *value) (time.Time, bool) {
	if v.kind != kString {
		c.errf(ptr, RuleValueType, "must be a timestamp string, not %s", kindName[v.kind])
		return time.Time{}, false
	}
	t, err := parseTimeBytes(v.raw())
	if err != nil {
		c.errf(ptr, RuleTimestamp, "%q: %v", v.raw(), err)
		return time.Time{}, false
	}
	return t, true
}
