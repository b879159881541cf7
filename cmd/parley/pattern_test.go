package main

import (
	"errors"
	"testing"
)

// TestPatternExitCodes checks the exit status each outcome asks for:
// 'pattern match' errors ask for 2 (an answer, match or nomatch, is 0),
// an invalid pattern under 'pattern check' is an ordinary error (1).
func TestPatternExitCodes(t *testing.T) {
	var ec interface{ ExitCode() int }

	_, err := runMain(t, "", "pattern", "match", "[a:b = 1]", t.TempDir()+"/missing.json")
	if !errors.As(err, &ec) || ec.ExitCode() != 2 {
		t.Errorf("pattern match with a missing bundle: %v; want an error asking for exit status 2", err)
	}
	_, err = runMain(t, "", "pattern", "match", "[a:b = ", t.TempDir()+"/missing.json")
	if !errors.As(err, &ec) || ec.ExitCode() != 2 {
		t.Errorf("pattern match with an invalid pattern: %v; want an error asking for exit status 2", err)
	}
	_, err = runMain(t, "", "pattern", "check", "[a:b = ")
	if err == nil || errors.As(err, &ec) {
		t.Errorf("pattern check of an invalid pattern: %v; want an ordinary error (exit status 1)", err)
	}
	out, err := runMain(t, "", "pattern", "check", "[a:b = 1]")
	if err != nil || out != "valid\n" {
		t.Errorf("pattern check of a valid pattern = %q, %v; want \"valid\\n\", nil", out, err)
	}
}
