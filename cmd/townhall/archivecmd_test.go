package main

import (
	"archive/zip"
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/townhall/townhall/integrations/archive"
	"github.com/townhall/townhall/integrations/integrationtest"
)

// zipFolder zips dir as Slack's export does, into a file of the test's.
func zipFolder(t *testing.T, dir string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), filepath.Base(dir)+".zip")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		w, err := zw.Create(filepath.ToSlash(rel))
		if err == nil {
			_, err = w.Write(b)
		}
		return err
	})
	if err == nil {
		err = zw.Close()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestArchiveImportAndExportOfARealExport runs `townhall archive import`
// on a real 2016 export (numbers written as strings) and prints its
// report; `export --channels` of a channel the archive lacks fails and
// leaves no file.
func TestArchiveImportAndExportOfARealExport(t *testing.T) {
	t.Setenv("TOWNHALL_DATABASE_PATH", filepath.Join(t.TempDir(), "townhall.db"))
	zipPath := zipFolder(t, filepath.Join(integrationtest.Corpus(t, "archive"), "houstondatavis-2016"))
	var out, progress bytes.Buffer
	ctx := t.Context()
	if err := run(ctx, []string{"archive", "import", zipPath}, nil, &out, &progress); err != nil {
		t.Fatalf("import: %v\n%s", err, out.String())
	}
	if want := ": 16 channels, 71 users, 375 day files, 1382 messages read, 1382 new\n"; !strings.Contains(out.String(), want) {
		t.Errorf("import said %q; want %q", out.String(), want)
	}
	if !strings.Contains(progress.String(), "imported 1382 messages in") {
		t.Errorf("progress = %q", progress.String())
	}
	out.Reset()
	if err := run(ctx, []string{"archive", "import", zipPath}, nil, &out, &progress); err != nil || !strings.Contains(out.String(), "1382 messages read, 0 new") {
		t.Errorf("second import: %v, said %q; want nothing new", err, out.String())
	}

	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.zip")
	err := run(ctx, []string{"archive", "export", missing, "--channels", "general,nosuch"}, nil, &out, &out)
	if !errors.Is(err, archive.ErrNoSuchChannel) || !strings.Contains(err.Error(), "nosuch") {
		t.Errorf("export of a missing channel: %v; want it named", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a failed export left %v behind", entries)
	}
	out.Reset()
	general := filepath.Join(dir, "general.zip")
	if err := run(ctx, []string{"archive", "export", general, "--channels", "#general"}, nil, &out, &out); err != nil {
		t.Fatalf("export: %v", err)
	}
	if !strings.Contains(out.String(), "1 channels") {
		t.Errorf("export said %q", out.String())
	}
}

// TestArchiveImportPrintsTheReport: values that cannot be read are
// counted and named, a file cut short is named, and the rest imported.
func TestArchiveImportPrintsTheReport(t *testing.T) {
	t.Setenv("TOWNHALL_DATABASE_PATH", filepath.Join(t.TempDir(), "townhall.db"))
	dir := t.TempDir()
	files := map[string]string{
		"channels.json": `[{"id": "C1", "name": "general", "created": "yesterday"}]`,
		"users.json":    `[{"id": "U1", "name": "ana", "is_bot": "maybe"}]`,
		"general/2016-03-01.json": `[{"type": "message", "user": "U1", "text": 7, "ts": "1456790400.000002"},
			{"type": "message", "user": "U1", "text": "fine", "ts": "1456790500.000003"}]`,
		"general/2016-03-02.json": `[{"type": "message", "user": "U1", "text": "kept", "ts": "1456876800.000001"}, {"ty`,
	}
	for name, body := range files {
		p := filepath.Join(dir, "export", filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	if err := run(t.Context(), []string{"archive", "import", zipFolder(t, filepath.Join(dir, "export"))}, nil, &out, &out); err != nil {
		t.Fatalf("import: %v\n%s", err, out.String())
	}
	for _, want := range []string{
		"1 channels, 1 users, 1 day files, 3 messages read, 3 new",
		"file not read to its end (what came before it is imported): general/2016-03-02.json: ",
		"values left out, unreadable (the rest of each message is imported): 3",
		`  channels.json: channel general: created: "yesterday" where a number was expected (left out)`,
		`  users.json: user ana: is_bot: "maybe" where true or false was expected (left out)`,
		`  general/2016-03-01.json: message 1456790400.000002: text: number where text was expected (left out)`,
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}
