package slacktest_test

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImports keeps the package usable outside tests and from slackapp's own
// tests: no "testing", no slackapp, nothing under integrations/.
func TestImports(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, err := strconv.Unquote(imp.Path.Value)
			if err != nil {
				t.Fatal(err)
			}
			if path == "testing" || path == "github.com/townhall/townhall/slackapp" || strings.HasPrefix(path, "github.com/townhall/townhall/integrations") {
				t.Errorf("%s imports %s", name, path)
			}
		}
	}
}
