package translate_test

import (
	"testing"

	"github.com/townhall/townhall/integrations/integrationtest"
)

// TestImports keeps the package docs' promises: no other integration and
// no main package here; the clients and the fakes stand alone, importing
// no townhall package but slackapp (for Secret) and, for the fakes, the
// internal machine translation and server.
func TestImports(t *testing.T) {
	t.Parallel()
	const fakes = "integrations/translate/internal/"
	integrationtest.CheckImports(t,
		integrationtest.ImportRule{Dir: ".", Allow: []string{"integrations", "integrations/translate/", "slackapp", "scheduler", "store"}, TestAllow: []string{"integrations/integrationtest", "slackapp/slacktest", "store/sqlite"}},
		integrationtest.ImportRule{Dir: "deepl", Allow: []string{"slackapp"}, TestAllow: []string{"integrations/translate/deepl", "integrations/translate/deepltest"}},
		integrationtest.ImportRule{Dir: "deepltest", Allow: []string{"slackapp", fakes}},
		integrationtest.ImportRule{Dir: "google", Allow: []string{"slackapp"}, TestAllow: []string{"integrations/translate/google", "integrations/translate/googletest"}},
		integrationtest.ImportRule{Dir: "googletest", Allow: []string{"slackapp", fakes}},
		integrationtest.ImportRule{Dir: "libre", Allow: []string{"slackapp"}, TestAllow: []string{"integrations/translate/libre", "integrations/translate/libretest"}},
		integrationtest.ImportRule{Dir: "libretest", Allow: []string{"slackapp", fakes}},
		integrationtest.ImportRule{Dir: "internal/fakemt"},
		integrationtest.ImportRule{Dir: "internal/fakeserver"},
	)
}
