package archive

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/robfig/cron/v3"
)

// Name is the integration's name in configuration, logs and status.
const Name = "archive"

const envPrefix = "TOWNHALL_"

// Config is the archive's configuration, read by the main package with
// envconfig.Process("TOWNHALL", &cfg): each tag is the variable's name
// without the TOWNHALL_ prefix.
type Config struct {
	// Enabled switches capture, commands and backups on.
	Enabled bool `envconfig:"ARCHIVE_ENABLED" default:"false"`
	// Addr is where the public web archive listens (":8080"); "" serves
	// no web archive. It must differ from TOWNHALL_HTTP_ADDR (/metrics).
	Addr string `envconfig:"ARCHIVE_ADDR"`
	// BaseURL is the web archive's public address, for links in search
	// output and status ("https://archive.example.org").
	BaseURL string `envconfig:"ARCHIVE_BASE_URL"`
	// Title names the web archive on its pages.
	Title string `envconfig:"ARCHIVE_TITLE" default:"Community archive"`
	// AutoJoin joins every new public channel when it is created.
	AutoJoin bool `envconfig:"ARCHIVE_AUTOJOIN" default:"true"`
	// Channels, when set, are the only channels published on the web
	// (names without #); Exclude are never published. Capture is not
	// affected: every public channel the app is in is archived.
	Channels []string `envconfig:"ARCHIVE_CHANNELS"`
	Exclude  []string `envconfig:"ARCHIVE_EXCLUDE"`
	// IndexedChannels may be indexed by search engines; every other page
	// says noindex.
	IndexedChannels []string `envconfig:"ARCHIVE_INDEXED_CHANNELS"`
	// CatchUpSchedule is a cron spec for a catch-up besides the ones at
	// start and after every reconnect.
	CatchUpSchedule string `envconfig:"ARCHIVE_CATCHUP_SCHEDULE" default:"@every 30m"`
	// CatchUpLookback is how far behind the newest archived message
	// catch-up reads again, to find threads that got new replies.
	CatchUpLookback time.Duration `envconfig:"ARCHIVE_CATCHUP_LOOKBACK" default:"72h"`
	// APIPace is the least time between two conversations.history or
	// conversations.replies calls (Slack's Tier 3: about 50 a minute).
	APIPace time.Duration `envconfig:"ARCHIVE_API_PACE" default:"1200ms"`
	// BackupSchedule is a cron spec for backups in Slack's export format;
	// "" makes none. BackupDir receives them; BackupKeep are kept.
	BackupSchedule string `envconfig:"ARCHIVE_BACKUP_SCHEDULE"`
	BackupDir      string `envconfig:"ARCHIVE_BACKUP_DIR"`
	BackupKeep     int    `envconfig:"ARCHIVE_BACKUP_KEEP" default:"7"`
	// ExportDir receives the exports staff ask for with /townhall archive
	// export; "" is BackupDir, or ./exports when that is unset too.
	ExportDir string `envconfig:"ARCHIVE_EXPORT_DIR"`
	// SearchTimeout bounds one web search; a search still running then
	// is stopped and the visitor asked to add words or filters. Zero is
	// the default.
	SearchTimeout time.Duration `envconfig:"ARCHIVE_SEARCH_TIMEOUT" default:"2s"`
	// SearchPerClient is how many web searches one client (IP address)
	// may have running at once; more are answered 429. Zero is the
	// default.
	SearchPerClient int `envconfig:"ARCHIVE_SEARCH_PER_CLIENT" default:"2"`
	// ClientIPHeader names the header a reverse proxy puts the visitor's
	// address in (X-Forwarded-For, X-Real-IP), for SearchPerClient; ""
	// uses the connection's address. Set it only behind a proxy that
	// sets the header, or anyone can pick their address.
	ClientIPHeader string `envconfig:"ARCHIVE_CLIENT_IP_HEADER"`

	// The web archive's server limits, so slow or idle clients cannot
	// hold it: the time to read a request (its headers within 5 s at
	// most), to write a response, to keep an idle connection, and the
	// connections open at once (more wait to be accepted).
	ReadTimeout  time.Duration `envconfig:"ARCHIVE_READ_TIMEOUT" default:"10s"`
	WriteTimeout time.Duration `envconfig:"ARCHIVE_WRITE_TIMEOUT" default:"30s"`
	IdleTimeout  time.Duration `envconfig:"ARCHIVE_IDLE_TIMEOUT" default:"60s"`
	MaxConns     int           `envconfig:"ARCHIVE_MAX_CONNS" default:"256"`
	// ImportMax… bound what "townhall archive import" reads of one export:
	// in all, per file and per entry (one message, channel or user).
	ImportMaxBytes Bytes `envconfig:"ARCHIVE_IMPORT_MAX_BYTES" default:"50GB"`
	ImportMaxFile  Bytes `envconfig:"ARCHIVE_IMPORT_MAX_FILE" default:"1GB"`
	ImportMaxEntry Bytes `envconfig:"ARCHIVE_IMPORT_MAX_ENTRY" default:"8MB"`

	// Files keeps a copy of each file shared in a public channel, and of
	// members' avatars, under FilesDir ("" is "files" beside the
	// database, set by the main package): fetched with the bot token
	// (files:read) as messages are captured, during catch-up and by
	// "townhall archive fetch-files", one blob per content (SHA-256).
	// Files larger than MaxFileBytes are left as links; once the blobs
	// reach FilesQuota, fetching stops and status says so.
	Files        bool   `envconfig:"ARCHIVE_FILES" default:"false"`
	FilesDir     string `envconfig:"ARCHIVE_FILES_DIR"`
	MaxFileBytes Bytes  `envconfig:"ARCHIVE_MAX_FILE_BYTES" default:"100MB"`
	FilesQuota   Bytes  `envconfig:"ARCHIVE_FILES_QUOTA" default:"10GB"`
}

// ImportLimits are the import's limits as configured.
func (c Config) ImportLimits() ImportLimits {
	return ImportLimits{Total: c.ImportMaxBytes, File: c.ImportMaxFile, Entry: c.ImportMaxEntry}
}

// Validate reports every problem with an enabled archive's configuration
// at once, each naming its variable. A disabled archive is not checked.
func (c Config) Validate() error {
	if !c.Enabled {
		return nil
	}
	return c.check()
}

func (c Config) check() error {
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s%s: %s", envPrefix, name, fmt.Sprintf(format, args...)))
	}
	if c.BaseURL != "" {
		if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("ARCHIVE_BASE_URL", "must be an absolute http(s) URL, got %q", c.BaseURL)
		}
	}
	if len(c.IndexedChannels) > 0 && c.BaseURL == "" {
		bad("ARCHIVE_INDEXED_CHANNELS", "needs TOWNHALL_ARCHIVE_BASE_URL: search engines need the archive's full address for the sitemap and canonical links")
	}
	if c.CatchUpSchedule != "" {
		if _, err := cron.ParseStandard(c.CatchUpSchedule); err != nil {
			bad("ARCHIVE_CATCHUP_SCHEDULE", "not a cron spec: %v", err)
		}
	}
	if c.CatchUpLookback < 0 {
		bad("ARCHIVE_CATCHUP_LOOKBACK", "must not be negative, got %s", c.CatchUpLookback)
	}
	if c.APIPace < 0 {
		bad("ARCHIVE_API_PACE", "must not be negative, got %s", c.APIPace)
	}
	if c.BackupSchedule != "" {
		if _, err := cron.ParseStandard(c.BackupSchedule); err != nil {
			bad("ARCHIVE_BACKUP_SCHEDULE", "not a cron spec: %v", err)
		}
		if c.BackupDir == "" {
			bad("ARCHIVE_BACKUP_DIR", "required when TOWNHALL_ARCHIVE_BACKUP_SCHEDULE is set")
		}
	}
	for _, l := range []struct {
		name string
		v    Bytes
	}{{"ARCHIVE_IMPORT_MAX_BYTES", c.ImportMaxBytes}, {"ARCHIVE_IMPORT_MAX_FILE", c.ImportMaxFile}, {"ARCHIVE_IMPORT_MAX_ENTRY", c.ImportMaxEntry},
		{"ARCHIVE_MAX_FILE_BYTES", c.MaxFileBytes}, {"ARCHIVE_FILES_QUOTA", c.FilesQuota}} {
		if l.v < 0 {
			bad(l.name, "must not be negative, got %d", l.v)
		}
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"ARCHIVE_READ_TIMEOUT", c.ReadTimeout}, {"ARCHIVE_WRITE_TIMEOUT", c.WriteTimeout}, {"ARCHIVE_IDLE_TIMEOUT", c.IdleTimeout}} {
		if d.v < 0 {
			bad(d.name, "must not be negative, got %s", d.v)
		}
	}
	if c.MaxConns < 0 {
		bad("ARCHIVE_MAX_CONNS", "must not be negative, got %d", c.MaxConns)
	}
	if c.SearchTimeout < 0 {
		bad("ARCHIVE_SEARCH_TIMEOUT", "must be positive (e.g. 2s), got %s", c.SearchTimeout)
	}
	if c.SearchPerClient < 0 {
		bad("ARCHIVE_SEARCH_PER_CLIENT", "must be at least 1, got %d", c.SearchPerClient)
	}
	if c.BackupKeep < 1 {
		bad("ARCHIVE_BACKUP_KEEP", "must be at least 1, got %d", c.BackupKeep)
	}
	return errors.Join(errs...)
}

// Published reports whether the channel named name appears on the web
// archive and in its search.
func (c Config) Published(name string) bool {
	for _, x := range c.Exclude {
		if x == name {
			return false
		}
	}
	if len(c.Channels) == 0 {
		return true
	}
	for _, x := range c.Channels {
		if x == name {
			return true
		}
	}
	return false
}

// Indexed reports whether search engines may index the channel's pages.
func (c Config) Indexed(name string) bool {
	for _, x := range c.IndexedChannels {
		if x == name {
			return c.Published(name)
		}
	}
	return false
}
