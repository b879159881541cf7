package workflow

import (
	"errors"

	"github.com/parleyhq/parley/internal/dialogue"
)

// checkSector checks a sector code (dialogue.ParseSector) and returns it
// in its canonical form. The error names the code and lists the codes.
func checkSector(code string) (string, error) {
	s, err := dialogue.ParseSector(code)
	if err != nil {
		return "", errors.New(dialogue.Message(err))
	}
	return s.Code, nil
}
