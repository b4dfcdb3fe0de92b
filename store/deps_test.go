package store_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportBoundaries keeps the arrows of DESIGN.md honest: the store and its
// drivers never depend on the runtime, the scheduler or any integration, and
// the conformance suite never depends on a driver.
func TestImportBoundaries(t *testing.T) {
	t.Parallel()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to list dependencies with")
	}
	const module = "github.com/townhall/townhall/"
	tests := []struct {
		pkg       string
		forbidden []string // import path prefixes
	}{
		{module + "store", []string{module + "integrations", module + "slackapp", module + "scheduler", module + "cmd", "modernc.org/", "github.com/jackc/"}},
		{module + "store/sqlite", []string{module + "integrations", module + "slackapp", module + "scheduler", module + "cmd"}},
		{module + "store/postgres", []string{module + "integrations", module + "slackapp", module + "scheduler", module + "cmd", module + "store/sqlite", "modernc.org/"}},
		{module + "store/storetest", []string{module + "integrations", module + "slackapp", module + "scheduler", module + "cmd", module + "store/sqlite", module + "store/postgres", "modernc.org/", "github.com/jackc/"}},
	}
	for _, tt := range tests {
		t.Run(strings.TrimPrefix(tt.pkg, module), func(t *testing.T) {
			t.Parallel()
			out, err := exec.CommandContext(t.Context(), goTool, "list", "-deps", "-f", "{{.ImportPath}}", tt.pkg).Output()
			if err != nil {
				t.Fatalf("go list -deps %s: %v", tt.pkg, err)
			}
			for dep := range strings.FieldsSeq(string(out)) {
				for _, f := range tt.forbidden {
					if strings.HasPrefix(dep, f) {
						t.Errorf("%s depends on %s", tt.pkg, dep)
					}
				}
			}
		})
	}
}
