package sqlitearchive

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/townhall/townhall/integrations/archive"
)

// TestCheckpointerCopiesTheLog: the writer leaves what it wrote in the
// log, and the checkpointer, once enough messages were stored, copies it
// into the database file.
func TestCheckpointerCopiesTheLog(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "townhall.db")
	a, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	var ms []archive.Message
	for i := range 500 {
		ms = append(ms, archive.Message{Channel: "C1", TS: fmt.Sprintf("17000%05d.000000", i), User: "U1", Text: fmt.Sprintf("message %d about the garden", i)})
	}
	if _, err := a.PutMessages(t.Context(), ms); err != nil {
		t.Fatal(err)
	}
	size := func() int64 {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	before := size()

	ran := make(chan struct{})
	params := url.Values{"_journal_mode": {"WAL"}, "_busy_timeout": {"10000"}}
	c, err := startCheckpointer(path, params, func() { close(ran) })
	if err != nil {
		t.Fatal(err)
	}
	c.wrote(checkpointMessages - 1)
	c.wrote(1)
	<-ran
	if err := c.close(); err != nil {
		t.Fatal(err)
	}
	if after := size(); after <= before {
		t.Errorf("database file %d bytes after the checkpoint, %d before: the log was not copied", after, before)
	}
}
