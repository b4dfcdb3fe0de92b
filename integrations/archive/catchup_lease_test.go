package archive_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/townhall/townhall/integrations/archive"
	"github.com/townhall/townhall/slackapp/slacktest"
	"github.com/townhall/townhall/store/sqlite"
)

// TestCatchUpTakesTheLease: with replicas sharing the database, one
// catches up at a time. While another replica holds the lease, CatchUp
// does nothing; once it is free, CatchUp runs and gives it back.
func TestCatchUpTakesTheLease(t *testing.T) {
	t.Parallel()
	ws := slacktest.New(t)
	st, err := sqlite.OpenStore(t.Context(), filepath.Join(t.TempDir(), "store.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	i, err := archive.New(archive.Config{Enabled: true, BackupKeep: 1},
		archive.Deps{Archive: openArchive(t), API: slack.New(ws.BotToken(), slack.OptionAPIURL(ws.APIURL())), Lease: st})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()

	// Another replica is catching up.
	if ok, err := st.Claim(ctx, archive.CatchUpLeaseKey, time.Hour); err != nil || !ok {
		t.Fatalf("Claim = %t, %v", ok, err)
	}
	if err := i.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if n := ws.Calls("conversations.list"); n != 0 {
		t.Fatalf("caught up %d times while another replica held the lease; want 0", n)
	}

	// It finished.
	if err := st.Release(ctx, archive.CatchUpLeaseKey); err != nil {
		t.Fatal(err)
	}
	if err := i.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if n := ws.Calls("conversations.list"); n != 1 {
		t.Fatalf("caught up %d times with the lease free; want 1", n)
	}
	// And the lease is free again for the next one.
	if ok, err := st.Claim(ctx, archive.CatchUpLeaseKey, time.Hour); err != nil || !ok {
		t.Fatalf("after a catch-up, Claim = %t, %v; want the lease released", ok, err)
	}
}
