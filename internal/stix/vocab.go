package stix

import "strings"

// vocab is a named set of allowed values: an open vocabulary (a value
// outside it is a warning) or a closed one (an error).
type vocab struct {
	name   string
	values []string
	set    map[string]struct{}
}

func newVocab(name, values string) *vocab {
	v := &vocab{name: name, values: strings.Fields(values), set: map[string]struct{}{}}
	for _, s := range v.values {
		v.set[s] = struct{}{}
	}
	return v
}

func (v *vocab) has(s []byte) bool {
	_, ok := v.set[string(s)]
	return ok
}

func (v *vocab) list() string { return strings.Join(v.values, ", ") }

// The vocabularies of STIX 2.1 section 10 (open, "-ov") and the
// enumerations (closed, "-enum").
var (
	vocAccountType        = newVocab("account-type-ov", "facebook ldap nis openid radius skype tacacs twitter unix windows-local windows-domain")
	vocAttackMotivation   = newVocab("attack-motivation-ov", "accidental coercion dominance ideology notoriety organizational-gain personal-gain personal-satisfaction revenge unpredictable")
	vocAttackResource     = newVocab("attack-resource-level-ov", "individual club contest team organization government")
	vocGroupingContext    = newVocab("grouping-context-ov", "suspicious-activity malware-analysis unspecified")
	vocHashAlgo           = newVocab("hashing-algorithm-ov", "MD5 SHA-1 SHA-256 SHA-512 SHA3-256 SHA3-512 SSDEEP TLSH")
	vocIdentityClass      = newVocab("identity-class-ov", "individual group system organization class unknown")
	vocImplLanguage       = newVocab("implementation-language-ov", "applescript bash c c++ c# go java javascript lua objective-c perl php powershell python ruby scala swift typescript visual-basic x86-32 x86-64")
	vocIndicatorType      = newVocab("indicator-type-ov", "anomalous-activity anonymization benign compromised malicious-activity attribution unknown")
	vocIndustrySector     = newVocab("industry-sector-ov", "agriculture aerospace automotive chemical commercial communications construction defense education energy entertainment financial-services government government-emergency-services government-local government-national government-public-services government-regional healthcare hospitality-leisure infrastructure infrastructure-dams infrastructure-nuclear infrastructure-water insurance manufacturing mining non-profit pharmaceuticals retail technology telecommunications transportation utilities")
	vocInfrastructureType = newVocab("infrastructure-type-ov", "amplification anonymization botnet command-and-control control-system exfiltration firewall hosting-malware hosting-target-lists phishing reconnaissance routers-switches staging workstation unknown")
	vocMalwareResult      = newVocab("malware-result-ov", "malicious suspicious benign unknown")
	vocMalwareCapability  = newVocab("malware-capabilities-ov", "accesses-remote-machines anti-debugging anti-disassembly anti-emulation anti-memory-forensics anti-sandbox anti-vm captures-input captures-output captures-system-state-data cleans-traces-of-infection commits-fraud communicates-with-c2 compromises-data-availability compromises-data-integrity compromises-system-availability controls-local-machine degrades-security-software degrades-system-updates determines-c2-server emails-spam escalates-privileges evades-av exfiltrates-data fingerprints-host hides-artifacts hides-executing-code infects-files infects-remote-machines installs-other-components persists-after-system-reboot prevents-artifact-access prevents-artifact-deletion probes-network-environment self-modifies steals-authentication-credentials violates-system-operational-integrity")
	vocMalwareType        = newVocab("malware-type-ov", "adware backdoor bot bootkit ddos downloader dropper exploit-kit keylogger ransomware remote-access-trojan resource-exploitation rogue-security-software rootkit screen-capture spyware trojan unknown virus webshell wiper worm")
	vocPatternType        = newVocab("pattern-type-ov", "stix pcre sigma snort suricata yara")
	vocProcessorArch      = newVocab("processor-architecture-ov", "alpha arm ia-64 mips powerpc sparc x86 x86-64")
	vocRegion             = newVocab("region-ov", "africa eastern-africa middle-africa northern-africa southern-africa western-africa americas latin-america-caribbean south-america caribbean central-america northern-america asia central-asia eastern-asia southern-asia south-eastern-asia western-asia europe eastern-europe northern-europe southern-europe western-europe oceania antarctica australia-new-zealand melanesia micronesia polynesia")
	vocReportType         = newVocab("report-type-ov", "attack-pattern campaign identity indicator intrusion-set malware observed-data threat-actor threat-report tool vulnerability")
	vocThreatActorType    = newVocab("threat-actor-type-ov", "activist competitor crime-syndicate criminal hacker insider-accidental insider-disgruntled nation-state sensationalist spy terrorist unknown")
	vocThreatActorRole    = newVocab("threat-actor-role-ov", "agent director independent infrastructure-architect infrastructure-operator malware-author sponsor")
	vocThreatActorSoph    = newVocab("threat-actor-sophistication-ov", "none minimal intermediate advanced expert innovator strategic")
	vocToolType           = newVocab("tool-type-ov", "denial-of-service exploitation information-gathering network-capture credential-exploitation remote-access vulnerability-scanning unknown")

	vocEncryptionAlgo = newVocab("encryption-algorithm-enum", "AES-256-GCM ChaCha20-Poly1305 mime-type-indicated")
	vocExtensionType  = newVocab("extension-type-enum", "new-sdo new-sco new-sro property-extension toplevel-property-extension")
	vocOpinion        = newVocab("opinion-enum", "strongly-disagree disagree neutral agree strongly-agree")
	vocRegistryType   = newVocab("windows-registry-datatype-enum", "REG_NONE REG_SZ REG_EXPAND_SZ REG_BINARY REG_DWORD REG_DWORD_BIG_ENDIAN REG_DWORD_LITTLE_ENDIAN REG_LINK REG_MULTI_SZ REG_RESOURCE_LIST REG_FULL_RESOURCE_DESCRIPTION REG_RESOURCE_REQUIREMENTS_LIST REG_QWORD REG_INVALID_TYPE")
	vocDefinitionType = newVocab("marking definition_type", "statement tlp")
	vocTLP1           = newVocab("TLP 1.0 level", "white green amber red")
)
