package calendar_test

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImports keeps the package docs' promises: no other integration and
// no main package here; the API clients and fakes import no townhall
// package (gcal only slackapp, for Secret).
func TestImports(t *testing.T) {
	t.Parallel()
	const module = "github.com/townhall/townhall/"
	allowed := map[string][]string{
		".":        {"integrations", "integrations/calendar/", "slackapp", "scheduler", "store"},
		"ics":      {},
		"icstest":  {},
		"gcal":     {"slackapp"},
		"gcaltest": {},
	}
	for dir, ok := range allowed {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, file := range files {
			if strings.HasSuffix(file, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range f.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				rel, ours := strings.CutPrefix(path, module)
				if !ours {
					continue
				}
				allowedHere := false
				for _, a := range ok {
					if rel == strings.TrimSuffix(a, "/") || strings.HasSuffix(a, "/") && strings.HasPrefix(rel, a) {
						allowedHere = true
					}
				}
				if !allowedHere {
					t.Errorf("%s imports %s", file, path)
				}
			}
		}
	}
}
