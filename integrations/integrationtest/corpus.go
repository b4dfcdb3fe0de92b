package integrationtest

import (
	"os"
	"path/filepath"
	"testing"
)

// Corpus returns the folder of real public samples of one kind
// ("archive" for Slack exports, "calendar" for ICS feeds): its SOURCES file
// says where each sample comes from and under which licence.
//
// Samples fetched from other repositories are not committed here (the
// workplace keeps fetched data files out of developers' commits, under the
// steering repository's shared/ only), so the corpus is read from
// $TOWNHALL_TEST_CORPUS/<kind>, by default shared/corpus/<kind> beside this
// repository. Without it the test is skipped, saying where to put it.
func Corpus(t testing.TB, kind string) string {
	t.Helper()
	root := os.Getenv("TOWNHALL_TEST_CORPUS")
	if root == "" {
		dir, err := os.Getwd()
		if err != nil {
			t.Fatal(err)
		}
		for { // up to the module's root, then beside it
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				break
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				t.Skip("no go.mod above the test, so no corpus beside the repository")
			}
			dir = parent
		}
		root = filepath.Join(dir, "..", "shared", "corpus")
	}
	dir := filepath.Join(root, kind)
	if _, err := os.Stat(filepath.Join(dir, "SOURCES")); err != nil {
		t.Skipf("no %s corpus at %s (set TOWNHALL_TEST_CORPUS to the folder holding %s/)", kind, dir, kind)
	}
	return dir
}
