package dialogue

import (
	"strings"
)

// Sector is a critical-infrastructure sector an incident report, an
// assistance request, a threat assessment or the off-limits list names,
// by its code. The codes are those of the MISP taxonomies
// dhs-ciip-sectors (the 16 US critical-infrastructure sectors) and nis2
// (impact-sectors-impacted: the EU NIS2 sectors); three codes (chemical,
// energy, transport) are in both lists.
type Sector struct {
	// Code is the sector's code, e.g. "energy", "healthcare-public".
	Code string
	// US is the sector's name in the US list, "" when it is not in it.
	US string
	// EU is the sector's name in the EU NIS2 list, "" when it is not in it.
	EU string
}

// Name returns the sector's name: its US name, else its NIS2 name.
func (s Sector) Name() string {
	if s.US != "" {
		return s.US
	}
	return s.EU
}

// The sector lists a sector belongs to.
const (
	SectorListUS = "us-ciip" // the 16 US critical-infrastructure sectors (PPD-21)
	SectorListEU = "eu-nis2" // the sectors of the EU NIS2 directive (annexes I and II)
)

// Lists returns the lists the sector belongs to: SectorListUS,
// SectorListEU or both.
func (s Sector) Lists() []string {
	var out []string
	if s.US != "" {
		out = append(out, SectorListUS)
	}
	if s.EU != "" {
		out = append(out, SectorListEU)
	}
	return out
}

// Sectors lists the sectors Parley knows: the 16 US sectors, then the
// NIS2 sectors that are not among them. The list is public fact, kept
// here; Parley's extension schema enumerates the same codes.
var Sectors = []Sector{
	{Code: "chemical", US: "Chemical", EU: "Manufacture, production and distribution of chemicals"},
	{Code: "commercial-facilities", US: "Commercial Facilities"},
	{Code: "communications", US: "Communications"},
	{Code: "critical-manufacturing", US: "Critical Manufacturing"},
	{Code: "dams", US: "Dams"},
	{Code: "dib", US: "Defense Industrial Base"},
	{Code: "emergency-services", US: "Emergency Services"},
	{Code: "energy", US: "Energy", EU: "Energy"},
	{Code: "financial-services", US: "Financial Services"},
	{Code: "food-agriculture", US: "Food and Agriculture"},
	{Code: "government-facilities", US: "Government Facilities"},
	{Code: "healthcare-public", US: "Healthcare and Public Health"},
	{Code: "it", US: "Information Technology"},
	{Code: "nuclear", US: "Nuclear"},
	{Code: "transport", US: "Transportation Systems", EU: "Transport"},
	{Code: "water", US: "Water and Water Systems"},
	{Code: "banking", EU: "Banking"},
	{Code: "financial", EU: "Financial market infrastructures"},
	{Code: "health", EU: "Health"},
	{Code: "drinking-water", EU: "Drinking water"},
	{Code: "waste-water", EU: "Waste water"},
	{Code: "digital-infrastructure", EU: "Digital infrastructure"},
	{Code: "ict-services", EU: "ICT service management (business-to-business)"},
	{Code: "public-administration", EU: "Public administration"},
	{Code: "space", EU: "Space"},
	{Code: "courier", EU: "Postal and courier services"},
	{Code: "waste-management", EU: "Waste management"},
	{Code: "food", EU: "Production, processing and distribution of food"},
	{Code: "manufacturing", EU: "Manufacturing"},
	{Code: "digital-providers", EU: "Digital providers"},
	{Code: "research", EU: "Research"},
}

// SectorCodes returns the codes of Sectors, in order.
func SectorCodes() []string {
	out := make([]string, len(Sectors))
	for i, s := range Sectors {
		out[i] = s.Code
	}
	return out
}

// ParseSector finds a sector by its code (case and surrounding space do
// not matter). An unknown code is KindInvalid, listing the codes.
func ParseSector(code string) (Sector, error) {
	c := strings.ToLower(strings.TrimSpace(code))
	for _, s := range Sectors {
		if s.Code == c {
			return s, nil
		}
	}
	return Sector{}, Errorf("dialogue.ParseSector", KindInvalid, "sector %q: not a sector code; want one of %s", code, strings.Join(SectorCodes(), ", "))
}
