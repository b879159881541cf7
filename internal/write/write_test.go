package write

import (
	"os/exec"
	"strings"
	"testing"
)

// The write rules are domain code: no transport, no database driver.
func TestImportsNoTransport(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		switch {
		case dep == "net/http", dep == "database/sql", strings.HasPrefix(dep, "modernc.org/"),
			strings.HasSuffix(dep, "/internal/httpapi"), strings.HasSuffix(dep, "/internal/sqlite"), strings.HasSuffix(dep, "/internal/peer"):
			t.Errorf("internal/write depends on %s", dep)
		}
	}
}
