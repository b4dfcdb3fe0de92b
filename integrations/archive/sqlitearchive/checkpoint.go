package sqlitearchive

import (
	"database/sql"
	"net/url"
	"sync"
)

const (
	// checkpointMessages is how many messages stored since the last
	// checkpoint start the next one.
	checkpointMessages = 2000
	// writerCheckpointPages is the log's size, in pages, beyond which the
	// writer checkpoints at commit as SQLite does by default (at 1,000
	// pages): only when the checkpointer falls behind.
	writerCheckpointPages = 10000
)

// checkpointer copies the write-ahead log into the database file
// (PRAGMA wal_checkpoint(PASSIVE)) on a connection and a goroutine of its
// own, so that the writer does not do it, with its fsyncs, at commit: an
// import's writer then only writes. A passive checkpoint waits for no
// reader or writer; what it cannot copy yet the next one does, and the
// writer's own automatic checkpoint (writerCheckpointPages) bounds the
// log if it falls behind. Its errors are those of the next checkpoint's
// too, so they are dropped: a checkpoint is only ever an early copy.
type checkpointer struct {
	db   *sql.DB
	kick chan struct{} // a checkpoint is due
	stop chan struct{}
	wg   sync.WaitGroup

	mu      sync.Mutex
	pending int // messages stored since the last kick

	ran func() // for tests: called after each checkpoint, before the next
}

// startCheckpointer starts the checkpointer of the database at abs,
// opened with params; ran, if not nil, is called after each checkpoint.
func startCheckpointer(abs string, params url.Values, ran func()) (*checkpointer, error) {
	db, err := openDB(abs, params)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	c := &checkpointer{db: db, kick: make(chan struct{}, 1), stop: make(chan struct{}), ran: ran}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		for {
			select {
			case <-c.stop:
				return
			case <-c.kick:
				_, _ = c.db.Exec(`PRAGMA wal_checkpoint(PASSIVE)`)
				if c.ran != nil {
					c.ran()
				}
			}
		}
	}()
	return c, nil
}

// wrote records that n messages were stored, starting a checkpoint once
// checkpointMessages have been since the last. It never blocks.
func (c *checkpointer) wrote(n int) {
	if c == nil || n == 0 {
		return
	}
	c.mu.Lock()
	c.pending += n
	due := c.pending >= checkpointMessages
	if due {
		c.pending = 0
	}
	c.mu.Unlock()
	if due {
		select {
		case c.kick <- struct{}{}:
		default: // one is running or due already
		}
	}
}

// close waits for a running checkpoint and closes the connection.
func (c *checkpointer) close() error {
	close(c.stop)
	c.wg.Wait()
	return c.db.Close()
}
