package sqlitearchive

import (
	"context"
	"errors"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/townhall/townhall/integrations/archive"
)

// TestSearchOutOfTime: a search whose deadline passes is stopped and says
// it was too broad; pages (the other pool) still answer.
func TestSearchOutOfTime(t *testing.T) {
	t.Parallel()
	a := openTest(t)
	if _, err := a.PutMessages(t.Context(), []archive.Message{{Channel: "C1", TS: "1700000000.000100", User: "U1", Text: "hello world"}}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
	defer cancel()
	_, err := a.Search(ctx, archive.Query{Terms: []archive.Term{{Text: "hello"}}})
	if !errors.Is(err, archive.ErrTooBroad) {
		t.Fatalf("search past its deadline: %v, want ErrTooBroad", err)
	}
	if _, ok, err := a.Message(t.Context(), "C1", "1700000000.000100"); !ok || err != nil {
		t.Fatalf("page read after a stopped search: %v %v", ok, err)
	}
	if got := searchTexts(t, a, "hello", false); len(got) != 1 {
		t.Fatalf("the next search found %q", got)
	}
}

// TestSearchBusy: with every search slot taken, a search waits (half its
// time), then says the archive is busy; a search without a deadline waits
// for its turn.
func TestSearchBusy(t *testing.T) {
	t.Parallel()
	a := openTest(t)
	for range cap(a.searchSlots) {
		a.searchSlots <- struct{}{}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 40*time.Millisecond)
	defer cancel()
	_, err := a.Search(ctx, archive.Query{Terms: []archive.Term{{Text: "hello"}}})
	if !errors.Is(err, archive.ErrBusy) {
		t.Fatalf("search with every slot taken: %v, want ErrBusy", err)
	}
	done := make(chan error)
	go func() {
		_, err := a.Search(t.Context(), archive.Query{Terms: []archive.Term{{Text: "hello"}}})
		done <- err
	}()
	<-a.searchSlots // a running search ends: the waiting one starts
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestMigrationToStems: an archive indexed before stemming (version 2) is
// reindexed, so its old messages are found by their words' other forms.
func TestMigrationToStems(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "townhall.db")
	db, err := openDB(path, url.Values{"_journal_mode": {"WAL"}, "_txlock": {"immediate"}})
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	if err := migrateTo(ctx, db, 2); err != nil {
		t.Fatal(err)
	}
	id := baseID("1700000000.000000")
	for _, q := range []string{
		`INSERT INTO archive_channels (id, name) VALUES ('C1', 'general')`,
		`INSERT INTO archive_messages (channel, ts, id, user, text) VALUES ('C1', '1700000000.000000', ` + strconv.FormatInt(id, 10) + `, 'U1', 'We need volunteers')`,
		// As version 2 indexed it: the words alone.
		`INSERT INTO archive_fts (rowid, body, meta) VALUES (` + strconv.FormatInt(id, 10) + `, 'we need volunteers', 'chc1 usu1')`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	a, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if got := searchTexts(t, a, "volunteer", false); !slices.Equal(got, []string{"We need volunteers"}) {
		t.Errorf("after migration, volunteer found %q", got)
	}
	if got := searchTexts(t, a, "volunteers in:#general", false); len(got) != 1 {
		t.Errorf("after migration, volunteers in:#general found %q", got)
	}
}
