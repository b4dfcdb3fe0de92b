package feeds_test

import (
	"testing"

	"github.com/townhall/townhall/integrations/integrationtest"
)

// TestImports keeps the package docs' promises: no other integration and
// no main package, in this package or its subpackages; xapi and xapitest
// stay free of the store and the scheduler too, and examples imports nothing. Tests may use
// integrationtest, the fakes, slacktest and store/sqlite.
func TestImports(t *testing.T) {
	t.Parallel()
	integrationtest.CheckImports(t,
		integrationtest.ImportRule{Dir: ".", Allow: []string{"integrations", "integrations/feeds/", "slackapp", "scheduler", "store"}, TestAllow: []string{"integrations/integrationtest", "slackapp/slacktest", "store/sqlite"}},
		integrationtest.ImportRule{Dir: "xapi", Allow: []string{"slackapp"}, TestAllow: []string{"integrations/feeds/xapi", "integrations/feeds/xapitest"}},
		integrationtest.ImportRule{Dir: "xapitest", Allow: []string{"slackapp", "integrations/feeds/xapi"}},
		integrationtest.ImportRule{Dir: "examples"},
	)
}
