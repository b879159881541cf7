package stix

import (
	"bytes"
	"encoding/base64"
	"strings"
)

// propKind says how a property's value is checked.
type propKind uint8

const (
	pSkip       propKind = iota // checked elsewhere (type, id)
	pAny                        // any JSON value
	pString                     // a string
	pStrings                    // a non-empty list of strings
	pTimestamp                  // a timestamp
	pBool                       // a boolean
	pInt                        // an integer in [min, max]
	pFloat                      // a number in [min, max]
	pRef                        // an identifier of refs' types
	pRefs                       // a non-empty list of identifiers of refs' types
	pOV                         // a string, from an open vocabulary (warning otherwise)
	pOVs                        // a list of such strings
	pEnum                       // a string from a closed vocabulary (error otherwise)
	pEnums                      // a list of such strings
	pHashes                     // a hashes dictionary
	pDict                       // a dictionary (keys checked)
	pObject                     // any JSON object
	pExtRefs                    // a list of external references
	pKillChain                  // a list of kill chain phases
	pGranular                   // a list of granular markings
	pExtensions                 // an extensions dictionary
	pBinary                     // base64
	pHex                        // hex digits
	pFunc                       // checked by fn
)

type prop struct {
	kind     propKind
	role     propRole // how Parse's main loop treats it
	req      int8     // index in typeDef.required, -1 when optional
	ptr      string   // "/name"
	vocab    *vocab
	refs     *refTypes
	min, max float64
	fn       func(c *checker, ptr string, v *value)
}

// propRole marks the properties that Parse's loop over an object's
// members handles itself.
type propRole uint8

const (
	roleCheck       propRole = iota // checked by checkProp
	roleSkip                        // type and id: checked before the loop
	roleSpecVersion                 // checked by checkProp, then compared to "2.1"
	roleCreated                     // a timestamp kept as Object.Created
	roleModified                    // a timestamp kept as Object.Modified
)

// refTypes is the set of object types a reference may point at.
type refTypes struct {
	names  []string
	sdo    bool // any SDO (and custom objects)
	sco    bool // any SCO (and custom objects)
	sro    bool // any SRO
	custom bool // custom (non-specification) types
	desc   string
}

func (r *refTypes) allows(t []byte) bool {
	for _, n := range r.names {
		if n == string(t) {
			return true
		}
	}
	def := types[string(t)]
	if def == nil {
		return r.custom
	}
	switch def.cat {
	case catSDO:
		return r.sdo
	case catSCO:
		return r.sco
	case catSRO:
		return r.sro
	}
	return false
}

func (c *checker) checkProp(p *prop, ptr string, v *value) {
	switch p.kind {
	case pAny, pSkip:
	case pString:
		c.wantKind(ptr, v, kString)
	case pStrings:
		if c.list(ptr, v) {
			for i := range v.elems() {
				if v.elems()[i].kind != kString {
					c.errf(jp(ptr, i), RuleValueType, "must be a string, not %s", kindName[v.elems()[i].kind])
				}
			}
		}
	case pTimestamp:
		c.timestamp(ptr, v)
	case pBool:
		c.wantKind(ptr, v, kBool)
	case pInt:
		if !c.wantKind(ptr, v, kNumber) {
			return
		}
		n, ok := v.int()
		if !ok {
			c.errf(ptr, RuleValueType, "must be an integer, not %s", v.raw())
			return
		}
		if float64(n) < p.min || float64(n) > p.max {
			c.errf(ptr, RuleRange, "%d is out of range [%.0f, %.0f]", n, p.min, p.max)
		}
	case pFloat:
		if !c.wantKind(ptr, v, kNumber) {
			return
		}
		f, ok := v.float()
		if !ok || f < p.min || f > p.max {
			c.errf(ptr, RuleRange, "%s is out of range [%g, %g]", v.raw(), p.min, p.max)
		}
	case pRef:
		if c.wantKind(ptr, v, kString) {
			c.checkRef(ptr, v.raw(), p.refs)
		}
	case pRefs:
		if c.list(ptr, v) {
			for i := range v.elems() {
				e := &v.elems()[i]
				if e.kind != kString {
					c.errf(jp(ptr, i), RuleValueType, "must be an identifier string, not %s", kindName[e.kind])
					continue
				}
				if rule, msg := refProblem(e.raw(), p.refs); rule != "" {
					c.errf(jp(ptr, i), rule, "%s", msg)
				}
			}
		}
	case pOV:
		if c.wantKind(ptr, v, kString) && !p.vocab.has(v.raw()) {
			c.warnf(ptr, "%q is not in the %s vocabulary", v.raw(), p.vocab.name)
		}
	case pOVs:
		if c.list(ptr, v) {
			for i := range v.elems() {
				e := &v.elems()[i]
				if e.kind != kString {
					c.errf(jp(ptr, i), RuleValueType, "must be a string, not %s", kindName[e.kind])
				} else if !p.vocab.has(e.raw()) {
					c.warnf(jp(ptr, i), "%q is not in the %s vocabulary", e.raw(), p.vocab.name)
				}
			}
		}
	case pEnum:
		if c.wantKind(ptr, v, kString) && !p.vocab.has(v.raw()) {
			c.errf(ptr, RuleEnum, "%q is not one of %s (%s)", v.raw(), p.vocab.name, p.vocab.list())
		}
	case pEnums:
		if c.list(ptr, v) {
			for i := range v.elems() {
				e := &v.elems()[i]
				if e.kind != kString {
					c.errf(jp(ptr, i), RuleValueType, "must be a string, not %s", kindName[e.kind])
				} else if !p.vocab.has(e.raw()) {
					c.errf(jp(ptr, i), RuleEnum, "%q is not one of %s (%s)", e.raw(), p.vocab.name, p.vocab.list())
				}
			}
		}
	case pHashes:
		c.hashes(ptr, v)
	case pDict:
		c.dict(ptr, v)
	case pObject:
		c.wantKind(ptr, v, kObject)
	case pExtRefs:
		if c.list(ptr, v) {
			for i := range v.elems() {
				c.externalReference(ptr, i, &v.elems()[i])
			}
		}
	case pKillChain:
		if c.list(ptr, v) {
			for i := range v.elems() {
				c.killChainPhase(ptr, i, &v.elems()[i])
			}
		}
	case pGranular:
		if c.list(ptr, v) {
			for i := range v.elems() {
				c.granularMarking(ptr, i, &v.elems()[i])
			}
		}
	case pExtensions:
		c.extensions(ptr, v)
	case pBinary:
		if c.wantKind(ptr, v, kString) {
			if _, err := base64.StdEncoding.DecodeString(string(v.raw())); err != nil {
				c.errf(ptr, RuleEncoding, "not valid base64: %v", err)
			}
		}
	case pHex:
		if c.wantKind(ptr, v, kString) {
			for _, ch := range v.raw() {
				if !isHex(ch) {
					c.errf(ptr, RuleEncoding, "not a hex string: %q", v.raw())
					break
				}
			}
			if len(v.raw())%2 != 0 {
				c.errf(ptr, RuleEncoding, "a hex string must have an even number of digits")
			}
		}
	case pFunc:
		p.fn(c, ptr, v)
	}
}

func (c *checker) wantKind(ptr string, v *value, k kind) bool {
	if v.kind != k {
		c.errf(ptr, RuleValueType, "must be %s, not %s", kindName[k], kindName[v.kind])
		return false
	}
	return true
}

// list checks that v is a non-empty list.
func (c *checker) list(ptr string, v *value) bool {
	if !c.wantKind(ptr, v, kArray) {
		return false
	}
	if len(v.elems()) == 0 {
		c.errf(ptr, RuleEmptyList, "a list must not be empty")
		return false
	}
	return true
}

func (c *checker) externalReference(base string, i int, v *value) {
	if v.kind != kObject {
		c.errf(jp(base, i), RuleValueType, "an external reference must be an object, not %s", kindName[v.kind])
		return
	}
	sn := v.get("source_name")
	if sn == nil {
		c.errf(jp(base, i, "source_name"), RuleRequired, "an external reference needs a source_name")
	} else if sn.kind != kString {
		c.errf(jp(base, i, "source_name"), RuleValueType, "must be a string, not %s", kindName[sn.kind])
	}
	found := false
	for _, k := range [...]string{"description", "url", "external_id"} {
		if f := v.get(k); f != nil {
			found = true
			if f.kind != kString {
				c.errf(jp(base, i, k), RuleValueType, "must be a string, not %s", kindName[f.kind])
			}
		}
	}
	if !found {
		c.errf(jp(base, i), RuleExtRef, "an external reference needs at least one of description, url or external_id")
	}
	if h := v.get("hashes"); h != nil {
		c.hashes(jp(base, i, "hashes"), h)
	}
	if sn != nil && sn.kind == kString {
		// the specification fixes the form of CVE and CAPEC ids
		eid := v.get("external_id")
		switch string(sn.raw()) {
		case "cve":
			if eid == nil || eid.kind != kString || !bytes.HasPrefix(eid.raw(), []byte("CVE-")) {
				c.errf(jp(base, i, "external_id"), RuleExtRef, `an external reference with source_name "cve" must have an external_id of the form CVE-YYYY-NNNN`)
			}
		case "capec":
			if eid == nil || eid.kind != kString || !bytes.HasPrefix(eid.raw(), []byte("CAPEC-")) {
				c.errf(jp(base, i, "external_id"), RuleExtRef, `an external reference with source_name "capec" must have an external_id of the form CAPEC-N`)
			}
		}
	}
}

func (c *checker) killChainPhase(base string, i int, v *value) {
	if v.kind != kObject {
		c.errf(jp(base, i), RuleValueType, "a kill chain phase must be an object, not %s", kindName[v.kind])
		return
	}
	for _, k := range [...]string{"kill_chain_name", "phase_name"} {
		f := v.get(k)
		switch {
		case f == nil:
			c.errf(jp(base, i, k), RuleRequired, "a kill chain phase needs %s", k)
		case f.kind != kString:
			c.errf(jp(base, i, k), RuleValueType, "must be a string, not %s", kindName[f.kind])
		case !lowerHyphen(f.raw()):
			c.warnf(jp(base, i, k), "%q should be lowercase with hyphens", f.raw())
		}
	}
}

func lowerHyphen(s []byte) bool {
	if len(s) == 0 {
		return false
	}
	for _, ch := range s {
		if !(ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '-') {
			return false
		}
	}
	return true
}

var markingRefs = &refTypes{names: []string{"marking-definition"}, desc: "a marking-definition"}

func (c *checker) granularMarking(base string, i int, v *value) {
	if v.kind != kObject {
		c.errf(jp(base, i), RuleValueType, "a granular marking must be an object, not %s", kindName[v.kind])
		return
	}
	sel := v.get("selectors")
	switch {
	case sel == nil:
		c.errf(jp(base, i, "selectors"), RuleRequired, "a granular marking needs selectors")
	case sel.kind != kArray:
		c.errf(jp(base, i, "selectors"), RuleValueType, "selectors must be a list, not %s", kindName[sel.kind])
	case len(sel.elems()) == 0:
		c.errf(jp(base, i, "selectors"), RuleEmptyList, "selectors must not be empty")
	default:
		for j := range sel.elems() {
			s := &sel.elems()[j]
			if s.kind != kString {
				c.errf(jp(base, i, "selectors", j), RuleValueType, "a selector must be a string, not %s", kindName[s.kind])
			} else if !validSelector(s.raw()) {
				c.errf(jp(base, i, "selectors", j), RuleGranular, "selector %q is not a property path of the form name(.name|.[n])*", s.raw())
			}
		}
	}
	mr, lang := v.get("marking_ref"), v.get("lang")
	switch {
	case mr == nil && lang == nil:
		c.errf(jp(base, i), RuleGranular, "a granular marking needs exactly one of marking_ref or lang")
	case mr != nil && lang != nil:
		c.errf(jp(base, i), RuleGranular, "a granular marking must not have both marking_ref and lang")
	case mr != nil:
		if mr.kind != kString {
			c.errf(jp(base, i, "marking_ref"), RuleValueType, "must be an identifier string, not %s", kindName[mr.kind])
		} else {
			c.checkRef(jp(base, i, "marking_ref"), mr.raw(), markingRefs)
		}
	default:
		c.wantKind(jp(base, i, "lang"), lang, kString)
	}
}

// validSelector checks the selector syntax: property names and list
// indexes separated by dots, e.g. "description", "labels.[1]",
// "external_references.[0].url".
func validSelector(s []byte) bool {
	for _, part := range strings.Split(string(s), ".") {
		if part == "" {
			return false
		}
		if part[0] == '[' {
			if len(part) < 3 || part[len(part)-1] != ']' {
				return false
			}
			for _, ch := range []byte(part[1 : len(part)-1]) {
				if !isDigit(ch) {
					return false
				}
			}
		}
	}
	return true
}

// hash value lengths for the algorithms of hashing-algorithm-ov that
// have a fixed-size hex digest.
var hashLens = map[string]int{"MD5": 32, "SHA-1": 40, "SHA-256": 64, "SHA-512": 128, "SHA3-256": 64, "SHA3-512": 128}

func (c *checker) hashes(ptr string, v *value) {
	if !c.wantKind(ptr, v, kObject) {
		return
	}
	if len(v.members()) == 0 {
		c.errf(ptr, RuleHashes, "hashes must not be empty")
		return
	}
	for i := range v.members() {
		m := &v.members()[i]
		if len(m.key) > 250 {
			c.errf(jp(ptr, m.key), RuleHashes, "a hash algorithm name must be at most 250 characters")
			continue
		}
		if m.val.kind != kString {
			c.errf(jp(ptr, m.key), RuleValueType, "a hash value must be a string, not %s", kindName[m.val.kind])
			continue
		}
		if n, ok := hashLens[string(m.key)]; ok {
			good := len(m.val.raw()) == n
			for _, ch := range m.val.raw() {
				if !isHex(ch) {
					good = false
				}
			}
			if !good {
				c.errf(jp(ptr, m.key), RuleHashes, "a %s hash must be %d hex digits, not %q", m.key, n, m.val.raw())
			}
		} else if !vocHashAlgo.has(m.key) {
			c.warnf(jp(ptr, m.key), "%q is not in the hashing-algorithm-ov vocabulary", m.key)
		}
	}
}

func (c *checker) dict(ptr string, v *value) {
	if !c.wantKind(ptr, v, kObject) {
		return
	}
	for i := range v.members() {
		k := v.members()[i].key
		if len(k) == 0 || len(k) > 250 {
			c.errf(jp(ptr, k), RuleDictionary, "a dictionary key must be 1 to 250 characters long")
			continue
		}
		for _, ch := range k {
			if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_') {
				c.warnf(jp(ptr, k), "dictionary key %q should only contain a-z, A-Z, 0-9, '-' and '_'", k)
				break
			}
		}
	}
}

var predefinedExtensions = newVocab("predefined-extension", "archive-ext ntfs-ext pdf-ext raster-image-ext windows-pebinary-ext http-request-ext icmp-ext socket-ext tcp-ext unix-account-ext windows-process-ext windows-service-ext")

func (c *checker) extensions(ptr string, v *value) {
	if !c.wantKind(ptr, v, kObject) {
		return
	}
	if len(v.members()) == 0 {
		c.errf(ptr, RuleExtension, "extensions must not be empty")
		return
	}
	for i := range v.members() {
		m := &v.members()[i]
		kp := jp(ptr, m.key)
		if strings.HasPrefix(string(m.key), "extension-definition--") {
			c.checkRef(kp, m.key, &refTypes{names: []string{"extension-definition"}, desc: "an extension-definition"})
		} else if msg := typeNameProblem(m.key); msg != "" {
			c.errf(kp, RuleExtension, "extension name %q must be an extension-definition id or a predefined extension name: %s", m.key, msg)
			continue
		} else if !predefinedExtensions.has(m.key) {
			c.warnf(kp, "%q is neither an extension-definition id nor a predefined extension; custom extensions of this form are deprecated", m.key)
		}
		if m.val.kind != kObject {
			c.errf(kp, RuleValueType, "an extension must be an object, not %s", kindName[m.val.kind])
			continue
		}
		if et := m.val.get("extension_type"); et != nil {
			if et.kind != kString || !vocExtensionType.has(et.raw()) {
				c.errf(jp(kp, "extension_type"), RuleEnum, "extension_type must be one of %s", vocExtensionType.list())
			}
		}
	}
}
