package feeds_test

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImports keeps the package doc's promise: no other integration and
// no main package, in this package or its subpackages; xapi and xapitest
// stay free of the store and the scheduler too.
func TestImports(t *testing.T) {
	t.Parallel()
	const module = "github.com/townhall/townhall/"
	allowed := map[string][]string{
		".":        {"integrations", "integrations/feeds/", "slackapp", "scheduler", "store"},
		"xapi":     {"slackapp"},
		"xapitest": {"slackapp", "integrations/feeds/xapi"},
	}
	for dir, allow := range allowed {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, file := range files {
			if strings.HasSuffix(file, "_test.go") {
				continue // tests may use integrationtest, the fakes and store/sqlite
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
				ok := false
				for _, a := range allow {
					if rel == strings.TrimSuffix(a, "/") || strings.HasSuffix(a, "/") && strings.HasPrefix(rel, a) {
						ok = true
					}
				}
				if !ok {
					t.Errorf("%s imports %s", file, path)
				}
			}
		}
	}
}
