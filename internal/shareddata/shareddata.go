// Package shareddata finds the external test data (OASIS STIX examples
// and schemas, MITRE ATT&CK bundles, MaxMind test databases, …) that lives
// in ../shared/data beside the project's root. Tests read it in place;
// nothing from there is ever copied into the project.
//
// It is for tests only.
package shareddata

import (
	"os"
	"path/filepath"
	"testing"
)

// Dir returns the absolute path of ../shared/data/<sub...> from the
// module root, or fails the test with a message naming the path when it
// is missing. It never skips: a test that needs the data must not pass
// without it.
func Dir(tb testing.TB, sub ...string) string {
	tb.Helper()
	root, err := moduleRoot()
	if err != nil {
		tb.Fatalf("shared test data: %v", err)
	}
	p := filepath.Join(append([]string{root, "..", "shared", "data"}, sub...)...)
	p = filepath.Clean(p)
	if _, err := os.Stat(p); err != nil {
		tb.Fatalf("shared test data missing: %s (%v); the tests need ../shared/data beside the project", p, err)
	}
	return p
}

// File is Dir for a file: it returns the file's contents.
func File(tb testing.TB, sub ...string) []byte {
	tb.Helper()
	b, err := os.ReadFile(Dir(tb, sub...))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}
