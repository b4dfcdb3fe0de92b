package store

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Config is the store's configuration, read by cmd/townhall with
// envconfig.Process("TOWNHALL", &cfg).
type Config struct {
	// DatabasePath is the SQLite database file, created if missing (its
	// directory must exist). Its -wal and -shm companions live beside it.
	// It is a plain path, never a SQLite URI: characters such as '?' are
	// part of the file name.
	DatabasePath string `envconfig:"DATABASE_PATH" default:"townhall.db"`
	// DatabaseURL, when set, is a PostgreSQL database
	// (postgres://user:password@host:5432/database?sslmode=…) used instead
	// of the SQLite file, so that several replicas can share it.
	DatabaseURL PostgresURL `envconfig:"DATABASE_URL"`
	// ReplicaTimeout is how long after a replica's last heartbeat the
	// others count it dead and replay the Slack requests it acknowledged
	// and did not finish (see Journal). Replicas beat every third of it,
	// at most every 15 s. It matters only with DatabaseURL (replicas).
	ReplicaTimeout time.Duration `envconfig:"REPLICA_TIMEOUT" default:"30s"`
}

// MinReplicaTimeout is the least ReplicaTimeout: a third of it must leave
// a heartbeat time to be written.
const MinReplicaTimeout = 3 * time.Second

// ReplicaDeadAfter is ReplicaTimeout, or its default (30 s) when unset.
func (c Config) ReplicaDeadAfter() time.Duration {
	if c.ReplicaTimeout == 0 {
		return 30 * time.Second
	}
	return c.ReplicaTimeout
}

// PostgresURL is a PostgreSQL URL that prints with its password redacted
// (postgres://townhall:xxxxx@db/townhall), so `townhall check`, logs and
// errors never show it; string(u) is the URL itself.
type PostgresURL string

func (u PostgresURL) String() string {
	if u == "" {
		return ""
	}
	p, err := url.Parse(string(u))
	if err != nil {
		return "(a URL that does not parse)"
	}
	if _, has := p.User.Password(); has {
		p.User = url.UserPassword(p.User.Username(), "xxxxx")
	}
	q := p.Query()
	for k := range q {
		if k == "password" || k == "sslpassword" {
			q.Set(k, "xxxxx")
		}
	}
	p.RawQuery = q.Encode()
	return p.String()
}

// Postgres reports whether the configuration selects PostgreSQL.
func (c Config) Postgres() bool { return c.DatabaseURL != "" }

// String says which database is used, its password redacted, for logs
// and `townhall check`: "PostgreSQL postgres://townhall:xxxxx@db/townhall"
// or "SQLite townhall.db".
func (c Config) String() string {
	if !c.Postgres() {
		return "SQLite " + c.DatabasePath
	}
	return "PostgreSQL " + c.DatabaseURL.String()
}

// Validate reports every problem with c at once, each naming its variable.
func (c Config) Validate() error {
	if c.Postgres() {
		var errs []error
		u, err := url.Parse(string(c.DatabaseURL))
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
			errs = append(errs, errors.New("TOWNHALL_DATABASE_URL: must be a PostgreSQL URL such as postgres://townhall:password@db.example.org:5432/townhall"))
		}
		if c.ReplicaTimeout != 0 && c.ReplicaTimeout < MinReplicaTimeout {
			errs = append(errs, fmt.Errorf("TOWNHALL_REPLICA_TIMEOUT: must be at least %v, got %v", MinReplicaTimeout, c.ReplicaTimeout))
		}
		return errors.Join(errs...)
	}
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
