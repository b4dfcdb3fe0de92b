package scheduler

import (
	"fmt"
	"time"
)

// Config is the scheduler's configuration. The main package processes it
// with envconfig.Process("TOWNHALL", &cfg), so Timezone is read from
// TOWNHALL_TIMEZONE.
type Config struct {
	// Timezone is the IANA name of the zone job specs are evaluated in
	// ("Europe/Paris"): "0 7 * * MON" means 07:00 there. The binary embeds
	// the zone database (time/tzdata), so any IANA name works without one
	// installed.
	Timezone string `envconfig:"TIMEZONE" default:"UTC"`
}

// Validate reports whether Timezone names a time zone, naming the variable
// in its error.
func (c Config) Validate() error {
	if _, err := time.LoadLocation(c.Timezone); err != nil {
		return fmt.Errorf("TOWNHALL_TIMEZONE: must be an IANA time zone name such as Europe/Paris, got %q: %w", c.Timezone, err)
	}
	return nil
}

// Location returns the zone Timezone names. Call it once Validate has
// passed: for a name that does not load it returns UTC.
func (c Config) Location() *time.Location {
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}
