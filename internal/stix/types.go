package stix

import (
	"math"
	"strings"
)

type category uint8

const (
	catSDO category = iota + 1
	catSRO
	catSCO
	catMeta   // marking-definition, language-content, extension-definition
	catCustom // a type the specification does not define
)

type reqProp struct{ name, ptr string }

// typeDef is the rule table of one object type.
type typeDef struct {
	name        string
	cat         category
	props       map[string]*prop
	required    []reqProp
	allRequired uint64                     // bit i set for each required[i]
	check       func(c *checker, o *value) // rules across properties
}

func (d *typeDef) what() string {
	if d.cat == catCustom {
		return "a custom object"
	}
	return d.name
}

// IsSDO, IsSRO and IsSCO report the category of a type name of the
// specification; custom types are none of these.
func IsSDO(typ string) bool { d := types[typ]; return d != nil && d.cat == catSDO }

// IsSRO reports whether typ is relationship or sighting.
func IsSRO(typ string) bool { d := types[typ]; return d != nil && d.cat == catSRO }

// IsSCO reports whether typ is one of the 18 cyber-observable types.
func IsSCO(typ string) bool { d := types[typ]; return d != nil && d.cat == catSCO }

// property constructors for the tables below

type pdef struct {
	name string
	p    prop
}

func str(n string) pdef                     { return pdef{n, prop{kind: pString}} }
func strs(n string) pdef                    { return pdef{n, prop{kind: pStrings}} }
func ts(n string) pdef                      { return pdef{n, prop{kind: pTimestamp}} }
func boolean(n string) pdef                 { return pdef{n, prop{kind: pBool}} }
func integer(n string, lo, hi float64) pdef { return pdef{n, prop{kind: pInt, min: lo, max: hi}} }
func number(n string, lo, hi float64) pdef  { return pdef{n, prop{kind: pFloat, min: lo, max: hi}} }
func ref(n string, r *refTypes) pdef        { return pdef{n, prop{kind: pRef, refs: r}} }
func refs(n string, r *refTypes) pdef       { return pdef{n, prop{kind: pRefs, refs: r}} }
func ov(n string, v *vocab) pdef            { return pdef{n, prop{kind: pOV, vocab: v}} }
func ovs(n string, v *vocab) pdef           { return pdef{n, prop{kind: pOVs, vocab: v}} }
func enum(n string, v *vocab) pdef          { return pdef{n, prop{kind: pEnum, vocab: v}} }
func of(n string, k propKind) pdef          { return pdef{n, prop{kind: k}} }
func fn(n string, f func(c *checker, ptr string, v *value)) pdef {
	return pdef{n, prop{kind: pFunc, fn: f}}
}

const maxInt = 1<<53 - 1

func rt(desc string, names ...string) *refTypes { return &refTypes{names: names, desc: desc} }

var (
	refIdentity     = rt("an identity", "identity")
	refMarking      = markingRefs
	refSoftware     = rt("a software", "software")
	refFileArtifact = rt("a file or an artifact", "file", "artifact")
	refArtifact     = rt("an artifact", "artifact")
	refAny          = &refTypes{sdo: true, sco: true, sro: true, custom: true, names: []string{"marking-definition", "language-content", "extension-definition"}, desc: "any object"}
	refSDOorSCO     = &refTypes{sdo: true, sco: true, custom: true, desc: "an SDO or SCO"}
	refSDO          = &refTypes{sdo: true, custom: true, desc: "an SDO"}
	refSCO          = &refTypes{sco: true, custom: true, desc: "an SCO"}
	refSCOorSRO     = &refTypes{sco: true, sro: true, custom: true, desc: "an SCO or SRO"}
	refObservedData = rt("an observed-data", "observed-data")
	refWhereSighted = rt("an identity or a location", "identity", "location")
	refUserAccount  = rt("a user-account", "user-account")
	refEmailAddr    = rt("an email-addr", "email-addr")
	refFileDir      = rt("a file or a directory", "file", "directory")
	refDirectory    = rt("a directory", "directory")
	refIPDomain     = rt("an ipv4-addr, ipv6-addr or domain-name", "ipv4-addr", "ipv6-addr", "domain-name")
	refMAC          = rt("a mac-addr", "mac-addr")
	refAS           = rt("an autonomous-system", "autonomous-system")
	refNetAddr      = rt("an ipv4-addr, ipv6-addr, mac-addr or domain-name", "ipv4-addr", "ipv6-addr", "mac-addr", "domain-name")
	refNetworkTraff = rt("a network-traffic", "network-traffic")
	refFile         = rt("a file", "file")
	refProcess      = rt("a process", "process")
	refSampleMA     = rt("a file, an artifact or a network-traffic", "file", "artifact", "network-traffic")
)

var (
	sdoCommon = []pdef{
		of("type", pSkip), of("id", pSkip), str("spec_version"), ref("created_by_ref", refIdentity),
		ts("created"), ts("modified"), boolean("revoked"), strs("labels"), integer("confidence", 0, 100),
		str("lang"), of("external_references", pExtRefs), refs("object_marking_refs", refMarking),
		of("granular_markings", pGranular), of("extensions", pExtensions),
	}
	sdoRequired = []string{"type", "spec_version", "id", "created", "modified"}
	scoCommon   = []pdef{
		of("type", pSkip), of("id", pSkip), str("spec_version"), refs("object_marking_refs", refMarking),
		of("granular_markings", pGranular), boolean("defanged"), of("extensions", pExtensions),
	}
)

// types holds every type of the specification; filled by init.
var types = map[string]*typeDef{}

// customDef checks objects of types the specification does not define:
// the common properties are checked where present, only type and id are
// required.
var customDef *typeDef

func define(name string, cat category, common []pdef, required []string, props []pdef, check func(*checker, *value)) {
	d := &typeDef{name: name, cat: cat, props: map[string]*prop{}, check: check}
	for _, list := range [][]pdef{common, props} {
		for _, pd := range list {
			p := pd.p
			p.ptr = "/" + pd.name
			p.req = -1
			switch {
			case p.kind == pSkip:
				p.role = roleSkip
			case pd.name == "spec_version":
				p.role = roleSpecVersion
			case pd.name == "created" && p.kind == pTimestamp:
				p.role = roleCreated
			case pd.name == "modified" && p.kind == pTimestamp:
				p.role = roleModified
			}
			d.props[pd.name] = &p
		}
	}
	if len(required) > 64 {
		panic("stix: more than 64 required properties on " + name)
	}
	for i, r := range required {
		p := d.props[r]
		if p == nil || p.req >= 0 {
			panic("stix: required property " + r + " of " + name + " has no rule or is listed twice")
		}
		p.req = int8(i)
		d.required = append(d.required, reqProp{r, "/" + r})
		d.allRequired |= 1 << i
	}
	if name != "" {
		types[name] = d
	} else {
		customDef = d
	}
}

func sdo(name string, required []string, props []pdef, check func(*checker, *value)) {
	define(name, catSDO, sdoCommon, append(append([]string{}, sdoRequired...), required...), props, check)
}

func sco(name string, required []string, props []pdef, check func(*checker, *value)) {
	define(name, catSCO, scoCommon, append([]string{"type", "id"}, required...), props, check)
}

func init() {
	killChain := of("kill_chain_phases", pKillChain)
	aliases := strs("aliases")
	sdo("attack-pattern", []string{"name"}, []pdef{str("name"), str("description"), aliases, killChain}, nil)
	sdo("campaign", []string{"name"}, []pdef{str("name"), str("description"), aliases, ts("first_seen"), ts("last_seen"), str("objective")},
		order("first_seen", "last_seen", false))
	sdo("course-of-action", []string{"name"}, []pdef{str("name"), str("description"), of("action", pAny)}, nil)
	sdo("grouping", []string{"context", "object_refs"}, []pdef{str("name"), str("description"), ov("context", vocGroupingContext), refs("object_refs", refAny)}, nil)
	sdo("identity", []string{"name"}, []pdef{str("name"), str("description"), strs("roles"), ov("identity_class", vocIdentityClass),
		ovs("sectors", vocIndustrySector), str("contact_information")}, nil)
	sdo("incident", []string{"name"}, []pdef{str("name"), str("description"), killChain}, nil)
	sdo("indicator", []string{"pattern", "pattern_type", "valid_from"}, []pdef{str("name"), str("description"),
		ovs("indicator_types", vocIndicatorType), fn("pattern", checkPattern), ov("pattern_type", vocPatternType), str("pattern_version"),
		ts("valid_from"), ts("valid_until"), killChain}, checkIndicator)
	sdo("infrastructure", []string{"name"}, []pdef{str("name"), str("description"), ovs("infrastructure_types", vocInfrastructureType),
		aliases, killChain, ts("first_seen"), ts("last_seen")}, order("first_seen", "last_seen", false))
	sdo("intrusion-set", []string{"name"}, []pdef{str("name"), str("description"), aliases, ts("first_seen"), ts("last_seen"),
		strs("goals"), ov("resource_level", vocAttackResource), ov("primary_motivation", vocAttackMotivation),
		ovs("secondary_motivations", vocAttackMotivation)}, order("first_seen", "last_seen", false))
	sdo("location", nil, []pdef{str("name"), str("description"), number("latitude", -90, 90), number("longitude", -180, 180),
		number("precision", 0, math.MaxFloat64), ov("region", vocRegion), str("country"), str("administrative_area"), str("city"),
		str("street_address"), str("postal_code")}, checkLocation)
	sdo("malware", []string{"is_family"}, []pdef{str("name"), str("description"), ovs("malware_types", vocMalwareType), boolean("is_family"),
		aliases, killChain, ts("first_seen"), ts("last_seen"), refs("operating_system_refs", refSoftware),
		ovs("architecture_execution_envs", vocProcessorArch), ovs("implementation_languages", vocImplLanguage),
		ovs("capabilities", vocMalwareCapability), refs("sample_refs", refFileArtifact)}, checkMalware)
	sdo("malware-analysis", []string{"product"}, []pdef{str("product"), str("version"), ref("host_vm_ref", refSoftware),
		ref("operating_system_ref", refSoftware), refs("installed_software_refs", refSoftware), str("configuration_version"),
		strs("modules"), str("analysis_engine_version"), str("analysis_definition_version"), ts("submitted"),
		ts("analysis_started"), ts("analysis_ended"), str("result_name"), ov("result", vocMalwareResult),
		refs("analysis_sco_refs", refSCO), ref("sample_ref", refSampleMA)}, checkMalwareAnalysis)
	sdo("note", []string{"content", "object_refs"}, []pdef{str("abstract"), str("content"), strs("authors"), refs("object_refs", refAny)}, nil)
	sdo("observed-data", []string{"first_observed", "last_observed", "number_observed"}, []pdef{ts("first_observed"), ts("last_observed"),
		integer("number_observed", 1, 999999999), of("objects", pObject), refs("object_refs", refSCOorSRO)}, checkObservedData)
	sdo("opinion", []string{"opinion", "object_refs"}, []pdef{str("explanation"), strs("authors"), enum("opinion", vocOpinion), refs("object_refs", refAny)}, nil)
	sdo("report", []string{"name", "published", "object_refs"}, []pdef{str("name"), str("description"), ovs("report_types", vocReportType),
		ts("published"), refs("object_refs", refAny)}, nil)
	sdo("threat-actor", []string{"name"}, []pdef{str("name"), str("description"), ovs("threat_actor_types", vocThreatActorType), aliases,
		ts("first_seen"), ts("last_seen"), ovs("roles", vocThreatActorRole), strs("goals"), ov("sophistication", vocThreatActorSoph),
		ov("resource_level", vocAttackResource), ov("primary_motivation", vocAttackMotivation),
		ovs("secondary_motivations", vocAttackMotivation), ovs("personal_motivations", vocAttackMotivation)}, order("first_seen", "last_seen", false))
	sdo("tool", []string{"name"}, []pdef{str("name"), str("description"), ovs("tool_types", vocToolType), aliases, killChain, str("tool_version")}, nil)
	sdo("vulnerability", []string{"name"}, []pdef{str("name"), str("description")}, nil)

	define("relationship", catSRO, sdoCommon, append(append([]string{}, sdoRequired...), "relationship_type", "source_ref", "target_ref"),
		[]pdef{fn("relationship_type", checkRelationshipType), str("description"), ref("source_ref", refSDOorSCO), ref("target_ref", refSDOorSCO),
			ts("start_time"), ts("stop_time")}, order("start_time", "stop_time", true))
	define("sighting", catSRO, sdoCommon, append(append([]string{}, sdoRequired...), "sighting_of_ref"),
		[]pdef{str("description"), ts("first_seen"), ts("last_seen"), integer("count", 0, 999999999), ref("sighting_of_ref", refSDO),
			refs("observed_data_refs", refObservedData), refs("where_sighted_refs", refWhereSighted), boolean("summary")},
		order("first_seen", "last_seen", false))

	// meta objects
	define("marking-definition", catMeta, []pdef{of("type", pSkip), of("id", pSkip), str("spec_version"), ref("created_by_ref", refIdentity),
		ts("created"), of("external_references", pExtRefs), refs("object_marking_refs", refMarking), of("granular_markings", pGranular),
		of("extensions", pExtensions)}, []string{"type", "spec_version", "id", "created"},
		[]pdef{str("name"), enum("definition_type", vocDefinitionType), of("definition", pObject)}, checkMarkingDefinition)
	define("language-content", catMeta, sdoCommon, append(append([]string{}, sdoRequired...), "object_ref", "contents"),
		[]pdef{ref("object_ref", refAny), ts("object_modified"), fn("contents", checkContents)}, nil)
	define("extension-definition", catMeta, sdoCommon, append(append([]string{}, sdoRequired...), "created_by_ref", "name", "schema", "version", "extension_types"),
		[]pdef{str("name"), str("description"), str("schema"), str("version"), pdef{"extension_types", prop{kind: pEnums, vocab: vocExtensionType}},
			strs("extension_properties")}, checkExtensionDefinition)

	// cyber-observable objects
	sco("artifact", nil, []pdef{str("mime_type"), of("payload_bin", pBinary), str("url"), of("hashes", pHashes),
		enum("encryption_algorithm", vocEncryptionAlgo), str("decryption_key")}, checkArtifact)
	sco("autonomous-system", []string{"number"}, []pdef{integer("number", 0, maxInt), str("name"), str("rir")}, nil)
	sco("directory", []string{"path"}, []pdef{str("path"), str("path_enc"), ts("ctime"), ts("mtime"), ts("atime"), refs("contains_refs", refFileDir)}, nil)
	sco("domain-name", []string{"value"}, []pdef{str("value"), refs("resolves_to_refs", refIPDomain)}, nil)
	sco("email-addr", []string{"value"}, []pdef{str("value"), str("display_name"), ref("belongs_to_ref", refUserAccount)}, nil)
	sco("email-message", []string{"is_multipart"}, []pdef{boolean("is_multipart"), ts("date"), str("content_type"), ref("from_ref", refEmailAddr),
		ref("sender_ref", refEmailAddr), refs("to_refs", refEmailAddr), refs("cc_refs", refEmailAddr), refs("bcc_refs", refEmailAddr),
		str("message_id"), str("subject"), strs("received_lines"), of("additional_header_fields", pDict), str("body"),
		fn("body_multipart", checkBodyMultipart), ref("raw_email_ref", refArtifact)}, checkEmailMessage)
	sco("file", nil, []pdef{of("hashes", pHashes), integer("size", 0, maxInt), str("name"), str("name_enc"), of("magic_number_hex", pHex),
		str("mime_type"), ts("ctime"), ts("mtime"), ts("atime"), ref("parent_directory_ref", refDirectory), refs("contains_refs", refSCO),
		ref("content_ref", refArtifact)}, atLeastOne("hashes", "name"))
	sco("ipv4-addr", []string{"value"}, []pdef{str("value"), refs("resolves_to_refs", refMAC), refs("belongs_to_refs", refAS)}, nil)
	sco("ipv6-addr", []string{"value"}, []pdef{str("value"), refs("resolves_to_refs", refMAC), refs("belongs_to_refs", refAS)}, nil)
	sco("mac-addr", []string{"value"}, []pdef{str("value")}, nil)
	sco("mutex", []string{"name"}, []pdef{str("name")}, nil)
	sco("network-traffic", []string{"protocols"}, []pdef{ts("start"), ts("end"), boolean("is_active"), ref("src_ref", refNetAddr),
		ref("dst_ref", refNetAddr), integer("src_port", 0, 65535), integer("dst_port", 0, 65535), strs("protocols"),
		integer("src_byte_count", 0, maxInt), integer("dst_byte_count", 0, maxInt), integer("src_packets", 0, maxInt),
		integer("dst_packets", 0, maxInt), of("ipfix", pDict), ref("src_payload_ref", refArtifact), ref("dst_payload_ref", refArtifact),
		refs("encapsulates_refs", refNetworkTraff), ref("encapsulated_by_ref", refNetworkTraff)}, checkNetworkTraffic)
	sco("process", nil, []pdef{boolean("is_hidden"), integer("pid", math.MinInt32, maxInt), ts("created_time"), str("cwd"), str("command_line"),
		of("environment_variables", pDict), refs("opened_connection_refs", refNetworkTraff), ref("creator_user_ref", refUserAccount),
		ref("image_ref", refFile), ref("parent_ref", refProcess), refs("child_refs", refProcess)}, atLeastOneProperty)
	sco("software", []string{"name"}, []pdef{str("name"), str("cpe"), str("swid"), strs("languages"), str("vendor"), str("version")}, nil)
	sco("url", []string{"value"}, []pdef{str("value")}, nil)
	sco("user-account", nil, []pdef{str("user_id"), str("credential"), str("account_login"), ov("account_type", vocAccountType),
		str("display_name"), boolean("is_service_account"), boolean("is_privileged"), boolean("can_escalate_privs"),
		boolean("is_disabled"), ts("account_created"), ts("account_expires"), ts("credential_last_changed"),
		ts("account_first_login"), ts("account_last_login")}, atLeastOneProperty)
	sco("windows-registry-key", nil, []pdef{str("key"), fn("values", checkRegistryValues), ts("modified_time"),
		ref("creator_user_ref", refUserAccount), integer("number_of_subkeys", 0, maxInt)}, atLeastOneProperty)
	sco("x509-certificate", nil, []pdef{boolean("is_self_signed"), of("hashes", pHashes), str("version"), str("serial_number"),
		str("signature_algorithm"), str("issuer"), ts("validity_not_before"), ts("validity_not_after"), str("subject"),
		str("subject_public_key_algorithm"), str("subject_public_key_modulus"), integer("subject_public_key_exponent", 0, maxInt),
		of("x509_v3_extensions", pObject)}, checkX509)

	// custom objects: every common property is checked where present
	var all []pdef
	seen := map[string]bool{}
	for _, pd := range append(append([]pdef{}, sdoCommon...), scoCommon...) {
		if !seen[pd.name] {
			seen[pd.name] = true
			all = append(all, pd)
		}
	}
	define("", catCustom, all, []string{"type", "id"}, nil, nil)
}

// order returns a check that the timestamp property b is later than a
// (strictly when strict), when both are present and valid.
func order(a, b string, strict bool) func(*checker, *value) {
	return func(c *checker, o *value) { c.order(o, a, b, strict) }
}

func (c *checker) order(o *value, a, b string, strict bool) {
	av, bv := o.get(a), o.get(b)
	if av == nil || bv == nil || av.kind != kString || bv.kind != kString {
		return
	}
	at, err1 := parseTimeBytes(av.raw())
	bt, err2 := parseTimeBytes(bv.raw())
	if err1 != nil || err2 != nil {
		return
	}
	if strict && !bt.After(at) {
		c.errf("/"+b, RuleTimeOrder, "%s (%s) must be later than %s (%s)", b, bv.raw(), a, av.raw())
	} else if !strict && bt.Before(at) {
		c.errf("/"+b, RuleTimeOrder, "%s (%s) must not be earlier than %s (%s)", b, bv.raw(), a, av.raw())
	}
}

func atLeastOne(names ...string) func(*checker, *value) {
	return func(c *checker, o *value) {
		for _, n := range names {
			if o.get(n) != nil {
				return
			}
		}
		c.errf("", RuleAtLeastOne, "at least one of %s must be present", strings.Join(names, ", "))
	}
}

// atLeastOneProperty: "MUST contain at least one property (other than
// type) from this object" — and other than the common ones.
func atLeastOneProperty(c *checker, o *value) {
	def := types[string(o.get("type").raw())]
	for i := range o.members() {
		k := o.members()[i].key
		if p := def.props[string(k)]; p != nil {
			if _, common := scoCommonNames[string(k)]; !common {
				return
			}
		}
	}
	c.errf("", RuleAtLeastOne, "a %s must have at least one property of its own besides the common ones", def.name)
}

var scoCommonNames = func() map[string]struct{} {
	m := map[string]struct{}{}
	for _, pd := range scoCommon {
		m[pd.name] = struct{}{}
	}
	return m
}()

func checkPattern(c *checker, ptr string, v *value) {
	if !c.wantKind(ptr, v, kString) {
		return
	}
	if len(strings.TrimSpace(string(v.raw()))) == 0 {
		c.errf(ptr, RulePattern, "pattern must not be empty")
	}
}

func checkIndicator(c *checker, o *value) {
	checkIndicatorPattern(c, o)
	c.order(o, "valid_from", "valid_until", true)
}

// checkIndicatorPattern checks a STIX pattern's brackets and quotes;
// the full grammar is the pattern package's business.
func checkIndicatorPattern(c *checker, o *value) {
	p, pt := o.get("pattern"), o.get("pattern_type")
	if p == nil || pt == nil || p.kind != kString || pt.kind != kString || pt.str() != "stix" {
		return
	}
	depth, inQuote, opened := 0, false, false
	for i := 0; i < len(p.raw()); i++ {
		ch := p.raw()[i]
		switch {
		case inQuote && ch == '\\':
			i++
		case ch == '\'':
			inQuote = !inQuote
		case inQuote:
		case ch == '[':
			depth++
			opened = true
		case ch == ']':
			depth--
			if depth < 0 {
				c.errf("/pattern", RulePattern, "unbalanced ']' in STIX pattern")
				return
			}
		}
	}
	if inQuote {
		c.errf("/pattern", RulePattern, "unterminated string literal in STIX pattern")
	} else if depth != 0 || !opened {
		c.errf("/pattern", RulePattern, "a STIX pattern needs balanced [ ] around each observation expression")
	}
}

func checkRelationshipType(c *checker, ptr string, v *value) {
	if !c.wantKind(ptr, v, kString) {
		return
	}
	if msg := typeNameProblem(v.raw()); msg != "" {
		c.errf(ptr, RuleRelationType, "relationship_type %q: %s", v.raw(), msg)
	}
}

func checkLocation(c *checker, o *value) {
	lat, lon := o.get("latitude"), o.get("longitude")
	if (lat == nil) != (lon == nil) {
		c.errf("/latitude", RuleDependency, "latitude and longitude must be given together")
	}
	if o.get("precision") != nil && (lat == nil || lon == nil) {
		c.errf("/precision", RuleDependency, "precision needs latitude and longitude")
	}
	if o.get("region") == nil && o.get("country") == nil && (lat == nil || lon == nil) {
		c.errf("", RuleAtLeastOne, "a location needs region, country, or latitude and longitude")
	}
}

func checkMalware(c *checker, o *value) {
	if f := o.get("is_family"); f != nil && f.kind == kBool && f.b && o.get("name") == nil {
		c.errf("/name", RuleRequired, "name is required when is_family is true")
	}
	c.order(o, "first_seen", "last_seen", false)
}

func checkMalwareAnalysis(c *checker, o *value) {
	if o.get("result") == nil && o.get("analysis_sco_refs") == nil {
		c.errf("", RuleAtLeastOne, "a malware-analysis needs result or analysis_sco_refs")
	}
	c.order(o, "analysis_started", "analysis_ended", false)
}

func checkObservedData(c *checker, o *value) {
	objs, refs := o.get("objects"), o.get("object_refs")
	switch {
	case objs == nil && refs == nil:
		c.errf("/object_refs", RuleExclusive, "observed-data needs exactly one of object_refs or objects (deprecated)")
	case objs != nil && refs != nil:
		c.errf("/objects", RuleExclusive, "observed-data must not have both objects and object_refs")
	case objs != nil:
		c.warnf("/objects", "objects is deprecated in STIX 2.1; use object_refs")
	}
	c.order(o, "first_observed", "last_observed", false)
}

func checkMarkingDefinition(c *checker, o *value) {
	// a TLP 2.0 marking definition must carry its official id
	if ext := o.get("extensions"); ext != nil && ext.kind == kObject {
		if e := ext.get(TLP2ExtensionID); e != nil && e.kind == kObject {
			checkTLP2(c, o, e)
		}
	}
	dt, def := o.get("definition_type"), o.get("definition")
	switch {
	case dt == nil && def == nil:
		if o.get("extensions") == nil {
			c.errf("/definition_type", RuleMarking, "a marking-definition needs definition_type and definition, or an extension that defines it")
		}
		return
	case dt == nil:
		c.errf("/definition_type", RuleDependency, "definition needs definition_type")
		return
	case def == nil:
		c.errf("/definition", RuleDependency, "definition_type needs definition")
		return
	}
	if dt.kind != kString || def.kind != kObject {
		return // reported by the property checks
	}
	switch dt.str() {
	case "statement":
		s := def.get("statement")
		if s == nil {
			c.errf("/definition/statement", RuleRequired, "a statement marking needs definition.statement")
		} else if s.kind != kString {
			c.errf("/definition/statement", RuleValueType, "must be a string, not %s", kindName[s.kind])
		}
	case "tlp":
		t := def.get("tlp")
		if t == nil {
			c.errf("/definition/tlp", RuleRequired, "a TLP marking needs definition.tlp")
			return
		}
		if t.kind != kString || !vocTLP1.has(t.raw()) {
			c.errf("/definition/tlp", RuleEnum, "definition.tlp must be one of %s", vocTLP1.list())
			return
		}
		// the four TLP 1.0 markings have fixed ids
		want := tlp1IDs[t.str()]
		if id := o.get("id"); id != nil && id.kind == kString && id.str() != want {
			c.errf("/id", RuleTLP, "the TLP:%s marking-definition must have id %s", strings.ToUpper(t.str()), want)
		}
	}
}

func checkTLP2(c *checker, o, e *value) {
	lv := e.get("tlp_2_0")
	if lv == nil || lv.kind != kString {
		c.errf(jp("/extensions", TLP2ExtensionID, "tlp_2_0"), RuleRequired, "the TLP 2.0 extension needs tlp_2_0")
		return
	}
	m := tlp2ByLevel[lv.str()]
	if m == nil {
		c.errf(jp("/extensions", TLP2ExtensionID, "tlp_2_0"), RuleEnum, "tlp_2_0 must be one of clear, green, amber, amber+strict, red")
		return
	}
	if id := o.get("id"); id != nil && id.kind == kString && id.str() != m.ID {
		c.errf("/id", RuleTLP, "the %s marking-definition must have id %s", m.Name, m.ID)
	}
}

func checkContents(c *checker, ptr string, v *value) {
	if !c.wantKind(ptr, v, kObject) {
		return
	}
	if len(v.members()) == 0 {
		c.errf(ptr, RuleLanguageCode, "contents must not be empty")
	}
	for i := range v.members() {
		m := &v.members()[i]
		if m.val.kind != kObject {
			c.errf(jp(ptr, m.key), RuleValueType, "the contents of a language must be an object, not %s", kindName[m.val.kind])
		}
	}
}

func checkExtensionDefinition(c *checker, o *value) {
	et := o.get("extension_types")
	if et == nil || et.kind != kArray {
		return
	}
	toplevel := false
	for i := range et.elems() {
		if et.elems()[i].kind == kString && et.elems()[i].str() == "toplevel-property-extension" {
			toplevel = true
		}
	}
	if o.get("extension_properties") != nil && !toplevel {
		c.errf("/extension_properties", RuleDependency, "extension_properties is only allowed with a toplevel-property-extension")
	}
}

func checkArtifact(c *checker, o *value) {
	pb, url := o.get("payload_bin"), o.get("url")
	if pb != nil && url != nil {
		c.errf("/url", RuleExclusive, "an artifact must not have both payload_bin and url")
	}
	if url != nil && o.get("hashes") == nil {
		c.errf("/hashes", RuleDependency, "an artifact with url needs hashes")
	}
	if pb == nil && url == nil {
		c.errf("", RuleAtLeastOne, "an artifact needs payload_bin or url (one of them)")
	}
	if o.get("decryption_key") != nil && o.get("encryption_algorithm") == nil {
		c.errf("/decryption_key", RuleDependency, "decryption_key needs encryption_algorithm")
	}
}

func checkEmailMessage(c *checker, o *value) {
	mp := o.get("is_multipart")
	if mp == nil || mp.kind != kBool {
		return
	}
	if mp.b && o.get("body") != nil {
		c.errf("/body", RuleDependency, "body must not be present when is_multipart is true (use body_multipart)")
	}
	if !mp.b && o.get("body_multipart") != nil {
		c.errf("/body_multipart", RuleDependency, "body_multipart must not be present when is_multipart is false")
	}
}

func checkBodyMultipart(c *checker, ptr string, v *value) {
	if !c.list(ptr, v) {
		return
	}
	for i := range v.elems() {
		e := &v.elems()[i]
		if e.kind != kObject {
			c.errf(jp(ptr, i), RuleValueType, "a MIME part must be an object, not %s", kindName[e.kind])
			continue
		}
		body, raw := e.get("body"), e.get("body_raw_ref")
		if body != nil && raw != nil {
			c.errf(jp(ptr, i), RuleExclusive, "a MIME part must not have both body and body_raw_ref")
		}
		if raw != nil {
			if raw.kind != kString {
				c.errf(jp(ptr, i, "body_raw_ref"), RuleValueType, "must be an identifier string")
			} else {
				c.checkRef(jp(ptr, i, "body_raw_ref"), raw.raw(), rt("an artifact or a file", "artifact", "file"))
			}
		}
	}
}

func checkNetworkTraffic(c *checker, o *value) {
	if o.get("src_ref") == nil && o.get("dst_ref") == nil {
		c.errf("", RuleAtLeastOne, "a network-traffic needs src_ref or dst_ref")
	}
	if a := o.get("is_active"); a != nil && a.kind == kBool && a.b && o.get("end") != nil {
		c.errf("/end", RuleDependency, "end must not be present when is_active is true")
	}
	c.order(o, "start", "end", false)
}

func checkRegistryValues(c *checker, ptr string, v *value) {
	if !c.list(ptr, v) {
		return
	}
	for i := range v.elems() {
		e := &v.elems()[i]
		if e.kind != kObject {
			c.errf(jp(ptr, i), RuleValueType, "a registry value must be an object, not %s", kindName[e.kind])
			continue
		}
		if dt := e.get("data_type"); dt != nil && (dt.kind != kString || !vocRegistryType.has(dt.raw())) {
			c.errf(jp(ptr, i, "data_type"), RuleEnum, "data_type must be one of %s", vocRegistryType.list())
		}
	}
}

func checkX509(c *checker, o *value) {
	atLeastOneProperty(c, o)
	c.order(o, "validity_not_before", "validity_not_after", false)
}
