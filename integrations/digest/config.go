package digest

import (
	"errors"
	"fmt"

	"github.com/robfig/cron/v3"

	"github.com/townhall/townhall/slackapp"
)

// Name is the integration's name in configuration, logs and status.
const Name = "digest"

const envPrefix = "TOWNHALL_"

// Config is the digest's configuration, read by the main package with
// envconfig.Process("TOWNHALL", &cfg): each tag is the variable's name
// without the TOWNHALL_ prefix.
type Config struct {
	// Enabled switches digests and /townhall digest on.
	Enabled bool `envconfig:"DIGEST_ENABLED" default:"false"`
	// Schedule is a cron spec, in TOWNHALL_TIMEZONE, for the digests
	// ("0 9 * * MON": Mondays at nine); "" posts none on a schedule
	// (staff can still post one with /townhall digest).
	Schedule string `envconfig:"DIGEST_SCHEDULE" default:"0 9 * * MON"`
	// Channels get a digest on the schedule (#name or ID); empty: every
	// public channel the app is a member of (in the archive when it is
	// on), not archived.
	Channels []string `envconfig:"DIGEST_CHANNELS"`
	// Days is how far back a digest looks, in days.
	Days int `envconfig:"DIGEST_DAYS" default:"7"`
	// MinMessages is how many messages by people (not bots, joins or
	// leaves) a channel needs in the period to get a digest: a channel
	// with fewer was quiet and gets none.
	MinMessages int `envconfig:"DIGEST_MIN_MESSAGES" default:"3"`
	// Threads is how many of the busiest threads a digest lists.
	Threads int `envconfig:"DIGEST_THREADS" default:"5"`
}

// Limits of the configuration.
const (
	maxDays    = 31
	maxThreads = 10 // each thread is one block; a message holds 50
)

// Validate reports every problem with an enabled digest's configuration at
// once, each naming its variable. A disabled digest is not checked.
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
	if c.Schedule != "" {
		if _, err := cron.ParseStandard(c.Schedule); err != nil {
			bad("DIGEST_SCHEDULE", "not a cron spec (such as \"0 9 * * MON\"): %v", err)
		}
	}
	for _, ch := range c.Channels {
		if _, _, err := slackapp.ParseChannelRef(ch); err != nil {
			bad("DIGEST_CHANNELS", "%v", err)
		}
	}
	if c.Days < 1 || c.Days > maxDays {
		bad("DIGEST_DAYS", "must be from 1 to %d, got %d", maxDays, c.Days)
	}
	if c.MinMessages < 1 {
		bad("DIGEST_MIN_MESSAGES", "must be at least 1, got %d", c.MinMessages)
	}
	if c.Threads < 1 || c.Threads > maxThreads {
		bad("DIGEST_THREADS", "must be from 1 to %d, got %d", maxThreads, c.Threads)
	}
	return errors.Join(errs...)
}
