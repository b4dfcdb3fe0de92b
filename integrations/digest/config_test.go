package digest_test

import (
	"strings"
	"testing"

	"github.com/townhall/townhall/integrations/digest"
	"github.com/townhall/townhall/integrations/integrationtest"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	if err := (digest.Config{}).Validate(); err != nil {
		t.Errorf("a disabled digest is not checked: %v", err)
	}
	good := digest.Config{Enabled: true, Schedule: "0 9 * * MON", Days: 7, MinMessages: 3, Threads: 5, Channels: []string{"#general", "C0123ABCD"}}
	if err := good.Validate(); err != nil {
		t.Errorf("good config: %v", err)
	}
	bad := digest.Config{Enabled: true, Schedule: "every monday", Days: 0, MinMessages: 0, Threads: 11, Channels: []string{"not a channel!"}}
	err := bad.Validate()
	if err == nil {
		t.Fatal("bad config accepted")
	}
	for _, v := range []string{"TOWNHALL_DIGEST_SCHEDULE", "TOWNHALL_DIGEST_DAYS", "TOWNHALL_DIGEST_MIN_MESSAGES", "TOWNHALL_DIGEST_THREADS", "TOWNHALL_DIGEST_CHANNELS"} {
		if !strings.Contains(err.Error(), v+":") {
			t.Errorf("the error does not name %s:\n%v", v, err)
		}
	}
	if n := strings.Count(err.Error(), "\n") + 1; n != 5 {
		t.Errorf("%d lines, want one per problem:\n%v", n, err)
	}
}

// TestImports keeps the package doc's promise: no other integration and
// no main package here.
func TestImports(t *testing.T) {
	t.Parallel()
	integrationtest.CheckImports(t,
		integrationtest.ImportRule{Dir: ".", Allow: []string{"integrations", "slackapp", "scheduler", "store"},
			TestAllow: []string{"integrations/digest", "integrations/integrationtest", "slackapp/slacktest"}},
	)
}
