package integrationtest

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// module is the import path prefix of townhall's packages.
const module = "github.com/townhall/townhall/"

// ImportRule says which of townhall's packages the Go files of one
// directory may import. Packages are named by their path in the module
// ("slackapp", "integrations/calls/zoom"); a name ending in "/" stands for
// that package and every package below it ("integrations/calls/").
// Imports from outside the module are not checked.
type ImportRule struct {
	// Dir is the directory, relative to the package under test: "." for
	// the package itself, "zoom" for a subpackage. Each subdirectory needs
	// a rule of its own.
	Dir string
	// Allow is what every Go file in Dir may import.
	Allow []string
	// TestAllow is what Dir's _test.go files may import besides Allow
	// (the package itself from an external test package, its fake,
	// integrationtest).
	TestAllow []string
}

// CheckImports keeps the promises an integration's package docs make
// about what they import (never another integration, never cmd/townhall,
// a client that stands alone). It reads the imports of every Go file in
// each rule's directory, tests included and whatever their build
// constraints, and reports as errors on t each import of a townhall
// package the rule does not allow, each rule whose directory holds no Go
// files, and each directory below the current one (the package under
// test's) that holds Go files but has no rule, so that a new subpackage
// cannot slip past. Directories named testdata, or starting with "." or
// "_", are ignored, as the go command ignores them.
//
// Call it from a test in the integration's root package:
//
//	func TestImports(t *testing.T) {
//		t.Parallel()
//		integrationtest.CheckImports(t,
//			integrationtest.ImportRule{Dir: ".", Allow: []string{"integrations", "integrations/calls/", "slackapp"}},
//			integrationtest.ImportRule{Dir: "zoom", Allow: []string{"slackapp"}},
//		)
//	}
func CheckImports(t testing.TB, rules ...ImportRule) {
	t.Helper()
	ruled := make(map[string]bool, len(rules))
	for _, r := range rules {
		ruled[filepath.Clean(r.Dir)] = true
		checkImports(t, r)
	}
	var unruled []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && path != "." && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") || strings.HasPrefix(d.Name(), "_")):
			return filepath.SkipDir
		case d.IsDir() || !strings.HasSuffix(path, ".go"):
			return nil
		}
		if dir := filepath.Dir(path); !ruled[dir] && !slices.Contains(unruled, dir) {
			unruled = append(unruled, dir)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("check imports: %v", err)
	}
	for _, dir := range unruled {
		t.Errorf("%s holds Go files but has no ImportRule", dir)
	}
}

// checkImports checks the Go files of one directory against its rule.
func checkImports(t testing.TB, r ImportRule) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(r.Dir, "*.go"))
	if err != nil {
		t.Fatalf("check imports of %s: %v", r.Dir, err)
	}
	if len(files) == 0 {
		t.Errorf("ImportRule for %s: no Go files there", r.Dir)
	}
	testAllow := slices.Concat(r.Allow, r.TestAllow)
	fset := token.NewFileSet()
	for _, file := range files {
		f, err := parser.ParseFile(fset, file, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatalf("check imports: %v", err)
		}
		allow := r.Allow
		if strings.HasSuffix(file, "_test.go") {
			allow = testAllow
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			rel, ours := strings.CutPrefix(path, module)
			if ours && !slices.ContainsFunc(allow, func(a string) bool { return allows(a, rel) }) {
				t.Errorf("%s: imports %s", fset.Position(imp.Path.Pos()), path)
			}
		}
	}
}

// allows reports whether the allow-list entry a covers the package at rel,
// a path in the module.
func allows(a, rel string) bool {
	pkg, below := strings.CutSuffix(a, "/")
	return rel == pkg || below && strings.HasPrefix(rel, a)
}
