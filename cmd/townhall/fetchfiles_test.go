package main

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/townhall/townhall/slackapp/slacktest"
)

// TestArchiveFetchFiles runs `townhall archive fetch-files` on an imported
// export against the fake Slack: the files are kept once, a second run
// fetches nothing, and `archive export` includes them.
func TestArchiveFetchFiles(t *testing.T) {
	ws := slacktest.New(t)
	ws.AddFile(slacktest.MemberID, slacktest.File{ID: "F0MINUTES", Name: "minutes.pdf", Mimetype: "application/pdf"}, []byte("%PDF minutes"))
	db := filepath.Join(t.TempDir(), "townhall.db")
	t.Setenv("TOWNHALL_DATABASE_PATH", db)
	t.Setenv("SLACK_BOT_TOKEN", ws.BotToken())
	t.Setenv("SLACK_API_URL", ws.APIURL())
	t.Setenv("TOWNHALL_ARCHIVE_API_PACE", "0s")
	src := t.TempDir()
	for name, body := range map[string]string{
		"channels.json": `[{"id": "C1", "name": "general", "created": 1456790000}]`,
		"users.json":    `[{"id": "U1", "name": "ana"}]`,
		"general/2016-03-01.json": `[{"type": "message", "subtype": "file_share", "user": "U1", "text": "the minutes", "ts": "1456790400.000002",
			"files": [{"id": "F0MINUTES", "name": "minutes.pdf", "mimetype": "application/pdf"}]}]`,
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
	for range 2 {
		out.Reset()
		if err := run(ctx, []string{"archive", "fetch-files"}, nil, &out, &out); err != nil {
			t.Fatalf("fetch-files: %v\n%s", err, out.String())
		}
		if want := "files: 1 kept (12B in 1 blobs in " + filepath.Join(filepath.Dir(db), "files"); !strings.Contains(out.String(), want) {
			t.Errorf("fetch-files said %q; want %q", out.String(), want)
		}
	}
	if n := ws.FileDownloads("F0MINUTES"); n != 1 {
		t.Errorf("downloaded %d times, want once", n)
	}
	ws.DeleteFile("F0MINUTES")
	zipPath := filepath.Join(t.TempDir(), "export.zip")
	out.Reset()
	if err := run(ctx, []string{"archive", "export", zipPath}, nil, &out, &out); err != nil {
		t.Fatalf("export: %v\n%s", err, out.String())
	}
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	if _, err := zr.Open("__uploads/F0MINUTES/minutes.pdf"); err != nil || !strings.Contains(out.String(), "included under __uploads/: 1") {
		t.Errorf("the export lacks the kept file: %v\n%s", err, out.String())
	}
}
