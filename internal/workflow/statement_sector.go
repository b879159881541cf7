package workflow

import (
	"fmt"
	"slices"
	"strings"
)

// statementSectorCodes are the sector codes statements and assessments
// accept: the 16 US critical-infrastructure sectors (MISP dhs-ciip-sectors)
// and the EU NIS2 sectors (MISP nis2), as docs/design/workflow.md and
// Parley's extension schema list them. It stands in for the dialogue
// package's sector list until that exists.
var statementSectorCodes = []string{
	"chemical", "commercial-facilities", "communications", "critical-manufacturing", "dams", "dib",
	"emergency-services", "energy", "financial-services", "food-agriculture", "government-facilities",
	"healthcare-public", "it", "nuclear", "transport", "water",
	"banking", "financial", "health", "drinking-water", "waste-water", "digital-infrastructure",
	"ict-services", "public-administration", "space", "courier", "waste-management", "food",
	"manufacturing", "digital-providers", "research",
}

// checkSector checks a sector code.
func checkSector(code string) (string, error) {
	c := strings.TrimSpace(code)
	if slices.Contains(statementSectorCodes, c) {
		return c, nil
	}
	return "", fmt.Errorf("sector %q: not a sector code; want one of %s", code, strings.Join(statementSectorCodes, ", "))
}
