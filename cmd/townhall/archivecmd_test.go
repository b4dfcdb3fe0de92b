package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"io"
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

// TestArchiveExportMattermost runs `townhall archive export --format
// mattermost` on an imported export: the zip holds Mattermost's import
// file with the thread whole, and bad flags get usage, not a file.
func TestArchiveExportMattermost(t *testing.T) {
	t.Setenv("TOWNHALL_DATABASE_PATH", filepath.Join(t.TempDir(), "townhall.db"))
	t.Setenv("SLACK_BOT_TOKEN", "")
	src := t.TempDir()
	for name, body := range map[string]string{
		"channels.json": `[{"id": "C1", "name": "general", "created": 1456790000, "topic": {"value": "Hello"}}]`,
		"users.json":    `[{"id": "U1", "name": "ana"}, {"id": "U2", "name": "bo"}]`,
		"general/2016-03-01.json": `[{"type": "message", "user": "U1", "text": "Agenda *today*? <!channel>", "ts": "1456790400.000002", "thread_ts": "1456790400.000002", "reply_count": 1},
			{"type": "message", "user": "U2", "text": "Budget first", "ts": "1456790500.000003", "thread_ts": "1456790400.000002"}]`,
	} {
		p := filepath.Join(src, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx := t.Context()
	var out bytes.Buffer
	if err := run(ctx, []string{"archive", "import", zipFolder(t, src)}, nil, &out, &out); err != nil {
		t.Fatalf("import: %v\n%s", err, out.String())
	}

	dir := t.TempDir()
	mm := filepath.Join(dir, "mattermost.zip")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--format", "mattermost"}, "--team: say which Mattermost team"},
		{[]string{"--format", "mattermost", "--team", "Admins"}, "--team: \"Admins\": not a Mattermost team name"},
		{[]string{"--format", "mattermost", "--team", "community", "--attachments"}, "--attachments: SLACK_BOT_TOKEN: not set"},
		{[]string{"--format", "mattermost", "--team", "community", "--files-dir", dir}, "--files-dir goes with --attachments"},
		{[]string{"--format", "slack", "--team", "community"}, "go with --format mattermost"},
		{[]string{"--format", "rocketchat"}, "--format: want slack or mattermost"},
	} {
		err := run(ctx, append([]string{"archive", "export", mm}, c.args...), nil, &out, &out)
		var u errUsage
		if !errors.As(err, &u) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("export %q: %v; want usage saying %q", c.args, err, c.want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("refused exports left %v", entries)
	}

	out.Reset()
	if err := run(ctx, []string{"archive", "export", "--format", "mattermost", mm, "--team", "community", "--since", "2016-01-01"}, nil, &out, &out); err != nil {
		t.Fatalf("export: %v\n%s", err, out.String())
	}
	for _, want := range []string{"for Mattermost team community: 1 channels, 2 users, 1 posts, 1 replies (2 messages;", "mmctl import upload mattermost.zip"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("export said %q; want %q", out.String(), want)
		}
	}
	zr, err := zip.OpenReader(mm)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	if len(zr.File) != 1 || zr.File[0].Name != "import.jsonl" {
		t.Fatalf("zip holds %v", zr.File)
	}
	rc, err := zr.File[0].Open()
	if err != nil {
		t.Fatal(err)
	}
	jsonl, _ := io.ReadAll(rc)
	rc.Close()
	var types []string
	for _, line := range strings.Split(strings.TrimSpace(string(jsonl)), "\n") {
		var l struct {
			Type string `json:"type"`
			Post *struct {
				Message string
				Replies []struct{ Message string }
			}
		}
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		types = append(types, l.Type)
		if l.Post != nil && (l.Post.Message != "Agenda **today**? `@channel`" || len(l.Post.Replies) != 1 || l.Post.Replies[0].Message != "Budget first") {
			t.Errorf("post = %+v", *l.Post)
		}
	}
	if got := strings.Join(types, ","); got != "version,team,channel,user,user,post" {
		t.Errorf("lines: %s", got)
	}
}
