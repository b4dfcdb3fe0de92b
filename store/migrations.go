package store

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
)

// A driver's schema is versioned, embedded migrations: one file per
// version, named NNNN_description.sql and numbered from 0001 without gaps.
// A released migration is never edited: a schema change is a new file.

// Migration is one schema version of a driver's database.
type Migration struct {
	Version int
	Name    string // the file name, recorded for operators
	SQL     string
}

// LoadMigrations reads the migrations in dir of fsys, in version order, and
// checks that they are numbered 1, 2, 3… without gaps or duplicates.
func LoadMigrations(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var ms []Migration
	for _, e := range entries {
		name := e.Name()
		prefix, _, ok := strings.Cut(name, "_")
		if e.IsDir() || !ok || !strings.HasSuffix(name, ".sql") {
			return nil, fmt.Errorf("migration %s: want a file named NNNN_description.sql", name)
		}
		v, err := strconv.Atoi(prefix)
		if err != nil || v < 1 {
			return nil, fmt.Errorf("migration %s: version %q is not a positive number", name, prefix)
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("migration %s: %w", name, err)
		}
		ms = append(ms, Migration{Version: v, Name: name, SQL: string(b)})
	}
	slices.SortFunc(ms, func(a, b Migration) int { return a.Version - b.Version })
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migration %s: want version %d (versions run from 1 without gaps)", m.Name, i+1)
		}
	}
	return ms, nil
}
