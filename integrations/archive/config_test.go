package archive

import (
	"strings"
	"testing"
	"time"
)

func TestConfigWebLimits(t *testing.T) {
	t.Parallel()
	c := Config{Enabled: true, BackupKeep: 1, ReadTimeout: -time.Second, WriteTimeout: -1, IdleTimeout: -1, MaxConns: -1}
	err := c.Validate()
	for _, name := range []string{"TOWNHALL_ARCHIVE_READ_TIMEOUT", "TOWNHALL_ARCHIVE_WRITE_TIMEOUT", "TOWNHALL_ARCHIVE_IDLE_TIMEOUT", "TOWNHALL_ARCHIVE_MAX_CONNS"} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("Validate() = %v; want it to name %s", err, name)
		}
	}
	c = Config{Enabled: true, BackupKeep: 1, ReadTimeout: time.Second, MaxConns: 10}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate() = %v", err)
	}
}

func TestConfigIndexedChannelsNeedABaseURL(t *testing.T) {
	t.Parallel()
	c := Config{Enabled: true, BackupKeep: 1, ReadTimeout: time.Second, MaxConns: 10, IndexedChannels: []string{"general"}}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "TOWNHALL_ARCHIVE_INDEXED_CHANNELS: needs TOWNHALL_ARCHIVE_BASE_URL") {
		t.Errorf("Validate() = %v", err)
	}
	c.BaseURL = "https://archive.example.org"
	if err := c.Validate(); err != nil {
		t.Errorf("Validate() = %v", err)
	}
}
