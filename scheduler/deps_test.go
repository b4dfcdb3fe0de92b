package scheduler

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImports keeps the package's doors honest: it depends on nothing else
// in townhall, integrations above all.
func TestImports(t *testing.T) {
	t.Parallel()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not found")
	}
	out, err := exec.CommandContext(t.Context(), goTool, "list", "-deps", "-f", "{{.ImportPath}}", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const module = "github.com/townhall/townhall"
	for dep := range strings.Lines(string(out)) {
		dep = strings.TrimSpace(dep)
		if dep == module+"/scheduler" {
			continue
		}
		if dep == module || strings.HasPrefix(dep, module+"/") {
			t.Errorf("scheduler depends on %s; it must import nothing else from townhall", dep)
		}
	}
}
