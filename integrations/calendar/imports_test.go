package calendar_test

import (
	"testing"

	"github.com/townhall/townhall/integrations/integrationtest"
)

// TestImports keeps the package docs' promises: no other integration and
// no main package here; the API clients, the fakes and the examples
// import no townhall package (gcal only slackapp, for Secret). Tests may
// use integrationtest, the fakes, slacktest and store/sqlite.
func TestImports(t *testing.T) {
	t.Parallel()
	integrationtest.CheckImports(t,
		integrationtest.ImportRule{Dir: ".", Allow: []string{"integrations", "integrations/calendar/", "slackapp", "scheduler", "store"}, TestAllow: []string{"integrations/integrationtest", "slackapp/slacktest", "store/sqlite"}},
		integrationtest.ImportRule{Dir: "examples"},
		integrationtest.ImportRule{Dir: "ics", TestAllow: []string{"integrations/calendar/ics", "integrations/calendar/icstest"}},
		integrationtest.ImportRule{Dir: "icstest"},
		integrationtest.ImportRule{Dir: "gcal", Allow: []string{"slackapp"}, TestAllow: []string{"integrations/calendar/gcal", "integrations/calendar/gcaltest"}},
		integrationtest.ImportRule{Dir: "gcaltest"},
	)
}
