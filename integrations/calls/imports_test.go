package calls_test

import (
	"testing"

	"github.com/townhall/townhall/integrations/integrationtest"
)

// TestImports keeps the package docs' promises: calls imports no other
// integration, no store and no main package; the zoom client imports no
// townhall package but slackapp, and its fake only the client besides.
func TestImports(t *testing.T) {
	t.Parallel()
	integrationtest.CheckImports(t,
		integrationtest.ImportRule{Dir: ".", Allow: []string{"integrations", "integrations/calls/", "slackapp", "scheduler"}, TestAllow: []string{"integrations/integrationtest"}},
		integrationtest.ImportRule{Dir: "zoom", Allow: []string{"slackapp"}, TestAllow: []string{"integrations/calls/zoom", "integrations/calls/zoomtest"}},
		integrationtest.ImportRule{Dir: "zoomtest", Allow: []string{"slackapp", "integrations/calls/zoom"}, TestAllow: []string{"integrations/calls/zoomtest"}},
	)
}
