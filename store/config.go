package store

import (
	"errors"
	"fmt"
	"strings"
)

// Config is the store's configuration, read by cmd/townhall with
// envconfig.Process("TOWNHALL", &cfg).
type Config struct {
	// DatabasePath is the SQLite database file, created if missing (its
	// directory must exist). Its -wal and -shm companions live beside it.
	// It is a plain path, never a SQLite URI: characters such as '?' are
	// part of the file name.
	DatabasePath string `envconfig:"DATABASE_PATH" default:"townhall.db"`
}

// Validate reports every problem with c at once, each naming its variable.
func (c Config) Validate() error {
	const name = "TOWNHALL_DATABASE_PATH"
	var errs []error
	p := c.DatabasePath
	switch {
	case strings.TrimSpace(p) == "":
		errs = append(errs, errors.New(name+": must be a file path, got an empty value"))
	case p == ":memory:":
		errs = append(errs, fmt.Errorf("%s: must be a file path, got %q (an in-memory database forgets every claim at restart)", name, p))
	case strings.HasPrefix(p, "file:"):
		errs = append(errs, fmt.Errorf("%s: must be a plain file path, not a SQLite URI, got %q", name, p))
	case strings.ContainsRune(p, 0):
		errs = append(errs, fmt.Errorf("%s: must not contain a NUL byte, got %q", name, p))
	}
	return errors.Join(errs...)
}
