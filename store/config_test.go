package store_test

import (
	"os"
	"strings"
	"testing"

	"github.com/kelseyhightower/envconfig"

	"github.com/townhall/townhall/store"
)

func TestConfigDefault(t *testing.T) {
	// Not parallel: t.Setenv. Set, then unset: t.Setenv restores the
	// original value at the end.
	t.Setenv("TOWNHALL_DATABASE_PATH", "")
	if err := os.Unsetenv("TOWNHALL_DATABASE_PATH"); err != nil {
		t.Fatal(err)
	}
	var c store.Config
	if err := envconfig.Process("TOWNHALL", &c); err != nil {
		t.Fatal(err)
	}
	if c.DatabasePath != "townhall.db" {
		t.Errorf("default DatabasePath = %q, want townhall.db", c.DatabasePath)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("default config: %v", err)
	}

	t.Setenv("TOWNHALL_DATABASE_PATH", "/var/lib/townhall/db.sqlite")
	if err := envconfig.Process("TOWNHALL", &c); err != nil {
		t.Fatal(err)
	}
	if c.DatabasePath != "/var/lib/townhall/db.sqlite" {
		t.Errorf("DatabasePath = %q from TOWNHALL_DATABASE_PATH", c.DatabasePath)
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path    string
		wantErr string // "" for valid
	}{
		{"townhall.db", ""},
		{"/data/townhall.db", ""},
		{"dir with spaces/a?b.db", ""},
		{"", "TOWNHALL_DATABASE_PATH: must be a file path, got an empty value"},
		{"   ", "TOWNHALL_DATABASE_PATH: must be a file path, got an empty value"},
		{":memory:", `TOWNHALL_DATABASE_PATH: must be a file path, got ":memory:"`},
		{"file:townhall.db?_pragma=x", `TOWNHALL_DATABASE_PATH: must be a plain file path, not a SQLite URI`},
		{"a\x00b", "TOWNHALL_DATABASE_PATH: must not contain a NUL byte"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			err := store.Config{DatabasePath: tt.path}.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Validate: %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.wantErr)):
				t.Errorf("Validate: %v, want %q…", err, tt.wantErr)
			}
		})
	}
}

func TestConfigDatabaseURL(t *testing.T) {
	t.Parallel()
	c := store.Config{DatabasePath: "townhall.db", DatabaseURL: "postgres://townhall:s3cret@db.example.org:5432/townhall?sslmode=require&password=s3cret"}
	if err := c.Validate(); err != nil || !c.Postgres() {
		t.Fatalf("Validate = %v, Postgres = %t", err, c.Postgres())
	}
	if got := c.String(); strings.Contains(got, "s3cret") || !strings.HasPrefix(got, "PostgreSQL postgres://townhall:xxxxx@db.example.org:5432/townhall?") {
		t.Errorf("String = %q; want the password redacted", got)
	}
	if got := (store.Config{DatabasePath: "townhall.db"}).String(); got != "SQLite townhall.db" {
		t.Errorf("String = %q", got)
	}
	for _, bad := range []string{"mysql://db/x", "postgres:///nohost", "host=db dbname=x", "postgres://u:p@[::1/x"} {
		err := store.Config{DatabaseURL: store.PostgresURL(bad)}.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), "TOWNHALL_DATABASE_URL: must be a PostgreSQL URL") || strings.Contains(err.Error(), bad) {
			t.Errorf("Validate(%q) = %v; want one line naming the variable, not echoing the value", bad, err)
		}
	}
}
