package archtest

import (
	"bytes"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/parleyhq/parley"

// domain are the packages that hold the dialogue's rules: they import no
// transport and no store driver (STYLE.md rule 11).
var domain = []string{
	module + "/internal/dialogue",
	module + "/internal/workflow",
	module + "/internal/write",
}

// forbidden says why the domain may not depend on package p, "" when it
// may.
func forbidden(p string) string {
	switch {
	case p == "net/http", strings.HasPrefix(p, "net/http/"):
		return "a transport"
	case p == "database/sql", strings.HasPrefix(p, "modernc.org/"):
		return "a store driver"
	}
	switch strings.TrimPrefix(p, module+"/internal/") {
	case "httpapi", "taxii", "logapi", "peer", "server", "api", "webui", "blob":
		return "a transport of this project"
	case "sqlite", "node", "enrich/enrichnode":
		return "a store of this project"
	}
	return ""
}

// importGraph is what `go list -deps` says the packages pkgs import,
// directly and not: each package's direct imports.
func importGraph(t *testing.T, pkgs ...string) map[string][]string {
	t.Helper()
	args := append([]string{"list", "-deps", "-f", "{{.ImportPath}} {{join .Imports \" \"}}"}, pkgs...)
	cmd := exec.Command("go", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.Bytes())
	}
	g := make(map[string][]string)
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line)
		if len(f) > 0 {
			g[f[0]] = f[1:]
		}
	}
	return g
}

// TestDomainImportsNoTransport: the domain packages depend, directly or
// not, on no transport and no store driver. A failure names the first
// forbidden package on each path and the chain of imports that brings it
// in (what lies beyond it is its own business: cut the chain there).
func TestDomainImportsNoTransport(t *testing.T) {
	g := importGraph(t, domain...)
	for _, root := range domain {
		prev := map[string]string{root: ""}
		queue := []string{root}
		var bad []string
		for len(queue) > 0 {
			p := queue[0]
			queue = queue[1:]
			if forbidden(p) != "" {
				bad = append(bad, p)
				continue
			}
			for _, d := range g[p] {
				if _, seen := prev[d]; !seen {
					prev[d] = p
					queue = append(queue, d)
				}
			}
		}
		slices.Sort(bad)
		for _, p := range bad {
			var c []string
			for q := p; q != ""; q = prev[q] {
				c = append(c, short(q))
			}
			slices.Reverse(c)
			t.Errorf("%s imports %s, %s: %s", short(root), short(p), forbidden(p), strings.Join(c, " → "))
		}
	}
}

// TestCommandImportsNoDriver: the command reaches the SQLite driver only
// through the store (internal/sqlite, opened by internal/node), never by
// importing it itself.
func TestCommandImportsNoDriver(t *testing.T) {
	cmd := module + "/cmd/parley"
	g := importGraph(t, cmd)
	for _, p := range g[cmd] {
		if p == "database/sql" || strings.HasPrefix(p, "modernc.org/") {
			t.Errorf("cmd/parley imports %s itself; ask internal/sqlite instead", p)
		}
	}
}

func short(p string) string { return strings.TrimPrefix(p, module+"/") }
