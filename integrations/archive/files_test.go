package archive_test

import (
	"archive/zip"
	"bytes"
	"context"
	"image"
	"image/png"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/townhall/townhall/integrations"
	"github.com/townhall/townhall/integrations/archive"
	"github.com/townhall/townhall/integrations/archive/sqlitearchive"
	"github.com/townhall/townhall/integrations/archive/web"
	"github.com/townhall/townhall/integrations/integrationtest"
	"github.com/townhall/townhall/slackapp/slacktest"
)

// filesBundle is a running app keeping files, with its integration's Run
// (the live capture's worker) going until the test ends.
type filesBundle struct {
	*testBundle
	i   *archive.Integration
	dir string
	cfg archive.Config
}

func startFiles(t *testing.T, ws *slacktest.Server, path, dir string, configure func(*archive.Config)) *filesBundle {
	t.Helper()
	fb := &filesBundle{testBundle: &testBundle{path: path, ws: ws}, dir: dir}
	fb.env = integrationtest.Start(t, integrationtest.Options{Workspace: ws, DatabasePath: path},
		func(e *integrationtest.Env) (integrations.Integration, error) {
			a, err := sqlitearchive.Open(context.Background(), path)
			if err != nil {
				return nil, err
			}
			t.Cleanup(func() { a.Close() })
			fb.a = a
			fb.cfg = archive.Config{Enabled: true, AutoJoin: true, CatchUpSchedule: "@every 30m",
				CatchUpLookback: time.Hour, BackupKeep: 7, Files: true, FilesDir: dir,
				MaxFileBytes: 100 << 20, FilesQuota: 10 << 30}
			configure(&fb.cfg)
			fb.i, err = archive.New(fb.cfg, archive.Deps{Archive: a, API: e.Runtime.API(), IsStaff: e.Runtime.IsStaff, Now: e.Now})
			return fb.i, err
		})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { fb.i.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	return fb
}

func pngOf(t *testing.T, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// blobsIn lists the blobs under dir (temporary files left out).
func blobsIn(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.HasPrefix(d.Name(), ".") {
			out = append(out, d.Name())
		}
		return nil
	})
	return out
}

type fetched struct {
	status int
	header http.Header
	body   string
}

func get(t *testing.T, srv *httptest.Server, path string) fetched {
	t.Helper()
	resp, err := srv.Client().Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return fetched{resp.StatusCode, resp.Header, string(b)}
}

// TestFilesKeptOnceAndServedSafely: the files of a seeded workspace are
// fetched once each (by catch-up), never those of a private channel;
// they survive their deletion in Slack and are served with safe headers.
func TestFilesKeptOnceAndServedSafely(t *testing.T) {
	t.Parallel()
	ws := slacktest.New(t, slacktest.WithChannel(slacktest.Channel{ID: privateID, Name: "staff-only", IsPrivate: true, IsMember: true}))
	pdfBody := []byte("%PDF-1.4 the minutes")
	pdf := ws.AddFile(slacktest.MemberID, slacktest.File{Name: "minutes.pdf", Mimetype: "application/pdf", Filetype: "pdf"}, pdfBody)
	photo := ws.AddFile(slacktest.AdminID, slacktest.File{Name: "photo.png", Mimetype: "image/png", Filetype: "png"}, pngOf(t, 3, 2))
	again := ws.AddFile(slacktest.MemberID, slacktest.File{Name: "agenda.pdf", Mimetype: "application/pdf"}, pdfBody)
	svg := ws.AddFile(slacktest.MemberID, slacktest.File{Name: "logo.svg", Mimetype: "image/svg+xml"}, []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`))
	page := ws.AddFile(slacktest.MemberID, slacktest.File{Name: "réunion page.html", Mimetype: "text/html"}, []byte("<script>alert(1)</script>"))
	secret := ws.AddFile(slacktest.MemberID, slacktest.File{Name: "secret.pdf", Mimetype: "application/pdf"}, []byte("staff only"))
	ws.SetAvatar(slacktest.MemberID, pngOf(t, 4, 4))
	m1 := ws.AddMessage(slacktest.Message{Channel: slacktest.GeneralID, User: slacktest.MemberID, Subtype: "file_share", Text: "minutes and a photo", Files: []slacktest.File{pdf, photo}})
	ws.AddMessage(slacktest.Message{Channel: slacktest.GeneralID, User: slacktest.MemberID, Subtype: "file_share", Text: "more", Files: []slacktest.File{again, svg, page}})
	ws.AddMessage(slacktest.Message{Channel: slacktest.GeneralID, User: slacktest.AdminID, Text: "the minutes again", ThreadTS: m1.TS, Files: []slacktest.File{pdf}})
	ws.AddMessage(slacktest.Message{Channel: privateID, User: slacktest.MemberID, Subtype: "file_share", Text: "secret", Files: []slacktest.File{secret}})

	dir := filepath.Join(t.TempDir(), "files")
	fb := startFiles(t, ws, filepath.Join(t.TempDir(), "townhall.db"), dir, func(*archive.Config) {})
	ctx := t.Context()
	if _, err := fb.env.RunJob(t, "archive.catchup"); err != nil {
		t.Fatal(err)
	}
	kept := []slacktest.File{pdf, photo, again, svg, page}
	check := func(when string) {
		t.Helper()
		for _, f := range kept {
			if n := ws.FileDownloads(f.ID); n != 1 {
				t.Errorf("%s: %s downloaded %d times, want once", when, f.Name, n)
			}
		}
		if n := ws.FileDownloads(secret.ID); n != 0 {
			t.Errorf("%s: a private channel's file was downloaded %d times", when, n)
		}
		if n := ws.Calls("files.info"); n != len(kept) {
			t.Errorf("%s: files.info called %d times, want %d (once per public file)", when, n, len(kept))
		}
		if n := ws.FileDownloads(archive.AvatarID(slacktest.MemberID)); n != 1 {
			t.Errorf("%s: avatar downloaded %d times, want once", when, n)
		}
		// minutes.pdf and agenda.pdf have one content: one blob.
		if b := blobsIn(t, dir); len(b) != 5 {
			t.Errorf("%s: %d blobs %q, want 5", when, len(b), b)
		}
	}
	check("after catch-up")

	// Again, by catch-up and by fetch-files: nothing is fetched twice.
	if _, err := fb.env.RunJob(t, "archive.catchup"); err != nil {
		t.Fatal(err)
	}
	api := slack.New(ws.BotToken(), slack.OptionAPIURL(ws.APIURL()))
	st, err := archive.FetchFiles(ctx, fb.cfg, fb.a, api, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Messages != 3 || st.Usage.Files != 6 || st.Usage.Blobs != 5 || st.Quota {
		t.Errorf("FetchFiles = %+v", st)
	}
	check("after a second catch-up and fetch-files")

	if status := strings.Join(fb.i.Status(ctx), "\n"); !strings.Contains(status, "Files: 6 kept (") {
		t.Errorf("status = %q", status)
	}
	rec, ok, err := fb.a.StoredFile(ctx, photo.ID)
	if err != nil || !ok || rec.Width != 3 || rec.Height != 2 || rec.Status != archive.FileStored {
		t.Errorf("photo = %+v, %v, %v; want 3×2, stored", rec, ok, err)
	}

	// Slack deletes them all; the archive still serves them.
	for _, f := range append(kept, secret) {
		ws.DeleteFile(f.ID)
	}
	h, err := web.New(fb.cfg, fb.a, web.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	day := get(t, srv, "/c/general/"+archive.Message{TS: m1.TS}.Time().Format(archive.DateLayout))
	links := regexp.MustCompile(`href="(/files/[0-9a-f]{64}/[^"]+)"`).FindAllStringSubmatch(day.body, -1)
	if len(links) < 5 {
		t.Fatalf("the day page links %d kept files, want 5 or more:\n%s", len(links), day.body)
	}
	if !regexp.MustCompile(`<img src="/files/[0-9a-f]{64}/photo.png" alt="photo.png" width="3" height="2"`).MatchString(day.body) {
		t.Error("the day page does not show the kept photo inline, at its size")
	}
	if strings.Contains(day.body, `<img src="/files/`) && strings.Contains(day.body, `logo.svg" width`) {
		t.Error("the day page shows an SVG inline")
	}
	if !strings.Contains(day.body, `src="/avatars/`+slacktest.MemberID+`"`) {
		t.Error("the day page does not show the kept avatar")
	}
	byName := map[string]fetched{}
	for _, l := range links {
		path := strings.ReplaceAll(l[1], "&amp;", "&")
		byName[path[strings.LastIndex(path, "/")+1:]] = get(t, srv, path)
	}
	for name, want := range map[string]struct{ ctype, disposition, body string }{
		"minutes.pdf":              {"application/pdf", `attachment; filename="minutes.pdf"; filename*=UTF-8''minutes.pdf`, string(pdfBody)},
		"photo.png":                {"image/png", `inline; filename="photo.png"`, ""},
		"logo.svg":                 {"application/octet-stream", "attachment;", ""},
		"r%C3%A9union%20page.html": {"application/octet-stream", `attachment; filename="r_union page.html"; filename*=UTF-8''r%C3%A9union%20page.html`, "<script>alert(1)</script>"},
	} {
		got, ok := byName[name]
		if !ok {
			t.Errorf("no link to %s in %q", name, links)
			continue
		}
		if got.status != 200 || got.header.Get("Content-Type") != want.ctype || !strings.HasPrefix(got.header.Get("Content-Disposition"), want.disposition) ||
			got.header.Get("X-Content-Type-Options") != "nosniff" || (want.body != "" && got.body != want.body) {
			t.Errorf("%s: %d %q %q nosniff=%q body %q", name, got.status, got.header.Get("Content-Type"),
				got.header.Get("Content-Disposition"), got.header.Get("X-Content-Type-Options"), got.body)
		}
	}
	// Exports include them: the Slack format under __uploads/, Mattermost
	// from the kept blobs (Slack has none of them now).
	var zbuf bytes.Buffer
	xst, err := archive.Export(ctx, fb.a, &zbuf, archive.ExportOptions{Files: archive.Blobs{Dir: dir}})
	if err != nil || xst.Files != len(kept) {
		t.Errorf("Slack export: %+v, %v; want %d files", xst, err, len(kept))
	}
	zr, err := zip.NewReader(bytes.NewReader(zbuf.Bytes()), int64(zbuf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if f, err := zr.Open("__uploads/" + pdf.ID + "/minutes.pdf"); err != nil {
		t.Errorf("the Slack export lacks minutes.pdf: %v", err)
	} else {
		b, _ := io.ReadAll(f)
		if !bytes.Equal(b, pdfBody) {
			t.Errorf("minutes.pdf in the export = %q", b)
		}
	}
	calls := ws.Calls("files.info")
	mst, err := archive.ExportMattermost(ctx, fb.a, io.Discard, archive.MattermostOptions{Team: "community", TempDir: t.TempDir(),
		Files: &archive.MattermostFiles{API: api, Dir: t.TempDir(), Blobs: archive.Blobs{Dir: dir}}})
	if err != nil || mst.Files != len(kept) || len(mst.Missing) != 0 {
		t.Errorf("Mattermost export: %d files, missing %q, %v; want %d, none", mst.Files, mst.Missing, err, len(kept))
	}
	if n := ws.Calls("files.info"); n != calls {
		t.Errorf("the Mattermost export asked Slack %d times for files the archive keeps", n-calls)
	}

	if av := get(t, srv, "/avatars/"+slacktest.MemberID); av.status != 200 || av.header.Get("Content-Type") != "image/png" {
		t.Errorf("avatar: %d %q", av.status, av.header.Get("Content-Type"))
	}
	// A channel not published on the web (TOWNHALL_ARCHIVE_EXCLUDE) serves none of its files.
	hidden := fb.cfg
	hidden.Exclude = []string{"general"}
	hx, err := web.New(hidden, fb.a, web.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srvx := httptest.NewServer(hx)
	defer srvx.Close()
	if got := get(t, srvx, links[0][1]); got.status != 404 {
		t.Errorf("a file of an unpublished channel answered %d", got.status)
	}
	if got := get(t, srv, "/files/"+strings.Repeat("0", 64)+"/x.pdf"); got.status != 404 {
		t.Errorf("an unknown blob answered %d", got.status)
	}
	if got := get(t, srv, "/files/..%2f..%2fetc/passwd"); got.status != 404 {
		t.Errorf("a path outside the blobs answered %d", got.status)
	}
}

// TestFetchFilesResumes: fetch-files over an imported archive stops
// (killed, or a passing failure) and, run again, fetches only what it
// had not; with the quota reached it stops and says so.
func TestFetchFilesResumes(t *testing.T) {
	t.Parallel()
	ws := slacktest.New(t, slacktest.WithChannel(slacktest.Channel{ID: "C0RANDOM", Name: "random", IsMember: true}))
	ctx := t.Context()
	a, err := sqlitearchive.Open(ctx, filepath.Join(t.TempDir(), "townhall.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	var files []slacktest.File
	var msgs []archive.Message
	for k, ch := range []string{slacktest.GeneralID, slacktest.GeneralID, "C0RANDOM", "C0RANDOM"} {
		name := string(rune('a'+k)) + ".txt"
		f := ws.AddFile(slacktest.MemberID, slacktest.File{Name: name, Mimetype: "text/plain"}, bytes.Repeat([]byte{byte('a' + k)}, 10))
		files = append(files, f)
		msgs = append(msgs, archive.Message{Channel: ch, TS: archive.FormatTS(time.Unix(int64(1700000000+k), 0)), User: slacktest.MemberID,
			Text: "file " + name, Files: []archive.File{{ID: f.ID, Name: f.Name, Mimetype: f.Mimetype}}})
	}
	for _, c := range []archive.Channel{{ID: slacktest.GeneralID, Name: "general"}, {ID: "C0RANDOM", Name: "random"}} {
		if err := a.PutChannel(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.PutMessages(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	api := slack.New(ws.BotToken(), slack.OptionAPIURL(ws.APIURL()))
	dir := t.TempDir()
	cfg := archive.Config{Files: true, FilesDir: dir, MaxFileBytes: 1 << 20, FilesQuota: 1 << 30}

	// The first run is killed once #general is done (the progress line),
	// and the second file's files.info fails once (a 500).
	ws.FailNext("files.info", http.StatusInternalServerError, 0)
	runCtx, kill := context.WithCancel(ctx)
	_, err = archive.FetchFiles(runCtx, cfg, a, api, nil, writerFunc(func(p []byte) (int, error) { kill(); return len(p), nil }))
	if err == nil {
		t.Fatal("a killed fetch-files reported no error")
	}
	want := []int{0, 1, 0, 0} // a's files.info failed; b fetched; random not reached
	for k, f := range files {
		if n := ws.FileDownloads(f.ID); n != want[k] {
			t.Errorf("after the killed run: %s downloaded %d times, want %d", f.Name, n, want[k])
		}
	}
	st, err := archive.FetchFiles(ctx, cfg, a, api, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if n := ws.FileDownloads(f.ID); n != 1 {
			t.Errorf("after resuming: %s downloaded %d times, want once", f.Name, n)
		}
	}
	if st.Usage.Files != 4 || st.Usage.Bytes != 40 {
		t.Errorf("usage = %+v", st.Usage)
	}

	// Quota and size: a new archive of files allows 25 bytes and files of 10.
	big := ws.AddFile(slacktest.MemberID, slacktest.File{Name: "big.bin"}, make([]byte, 11))
	if _, err := a.PutMessages(ctx, []archive.Message{{Channel: slacktest.GeneralID, TS: archive.FormatTS(time.Unix(1700000100, 0)),
		User: slacktest.MemberID, Files: []archive.File{{ID: big.ID, Name: big.Name}}}}); err != nil {
		t.Fatal(err)
	}
	a2, err := sqlitearchive.Open(ctx, filepath.Join(t.TempDir(), "second.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a2.Close() })
	for _, c := range []archive.Channel{{ID: slacktest.GeneralID, Name: "general"}, {ID: "C0RANDOM", Name: "random"}} {
		a2.PutChannel(ctx, c)
	}
	all := append(msgs, archive.Message{Channel: slacktest.GeneralID, TS: archive.FormatTS(time.Unix(1700000100, 0)),
		User: slacktest.MemberID, Files: []archive.File{{ID: big.ID, Name: big.Name}}})
	if _, err := a2.PutMessages(ctx, all); err != nil {
		t.Fatal(err)
	}
	small := archive.Config{Files: true, FilesDir: t.TempDir(), MaxFileBytes: 10, FilesQuota: 25}
	st, err = archive.FetchFiles(ctx, small, a2, api, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Quota || st.Usage.Files != 2 || st.Usage.Bytes != 20 || st.Usage.Skipped != 1 {
		t.Errorf("with a 25-byte quota and 10-byte files: %+v; want the quota reached at 2 files, big.bin skipped", st)
	}
	if n := ws.FileDownloads(big.ID); n != 0 {
		t.Errorf("a file over TOWNHALL_ARCHIVE_MAX_FILE_BYTES was downloaded %d times", n)
	}
	if rec, _, _ := a2.StoredFile(ctx, big.ID); rec.Status != archive.FileSkipped || !strings.Contains(rec.Reason, "TOWNHALL_ARCHIVE_MAX_FILE_BYTES") {
		t.Errorf("big.bin = %+v", rec)
	}
	if v, _ := a2.State(ctx, archive.StateFilesQuota); v == "" {
		t.Error("the quota's stop is not recorded")
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestFilesLiveRemovalAndOptOut: files shared live are fetched by the
// worker (never a private channel's), and removal and opt-out delete
// them, avatar included, while a file another message shares stays.
func TestFilesLiveRemovalAndOptOut(t *testing.T) {
	t.Parallel()
	ws := slacktest.New(t, slacktest.WithChannel(slacktest.Channel{ID: privateID, Name: "staff-only", IsPrivate: true, IsMember: true}))
	ws.SetAvatar(slacktest.MemberID, pngOf(t, 2, 2))
	secret := ws.AddFile(slacktest.MemberID, slacktest.File{Name: "secret.txt", Mimetype: "text/plain"}, []byte("staff only"))
	mine := ws.AddFile(slacktest.MemberID, slacktest.File{Name: "mine.txt", Mimetype: "text/plain"}, []byte("my notes"))
	theirs := ws.AddFile(slacktest.AdminID, slacktest.File{Name: "theirs.txt", Mimetype: "text/plain"}, []byte("their notes"))
	dir := filepath.Join(t.TempDir(), "files")
	fb := startFiles(t, ws, filepath.Join(t.TempDir(), "townhall.db"), dir, func(*archive.Config) {})
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()

	fb.post(t, slacktest.Message{Channel: privateID, User: slacktest.MemberID, Subtype: "file_share", Files: []slacktest.File{secret}})
	fb.post(t, slacktest.Message{Channel: slacktest.GeneralID, User: slacktest.MemberID, Subtype: "file_share", Files: []slacktest.File{mine}})
	m2 := fb.post(t, slacktest.Message{Channel: slacktest.GeneralID, User: slacktest.AdminID, Subtype: "file_share", Files: []slacktest.File{theirs}})
	// The admin shares the member's file again.
	fb.post(t, slacktest.Message{Channel: slacktest.GeneralID, User: slacktest.AdminID, Text: "see this", Files: []slacktest.File{mine}})
	if err := fb.i.WaitFiles(ctx); err != nil {
		t.Fatal(err)
	}
	if n := ws.FileDownloads(secret.ID); n != 0 {
		t.Errorf("a private channel's file was downloaded %d times", n)
	}
	if n := ws.FileDownloads(mine.ID); n != 1 {
		t.Errorf("a file shared twice was downloaded %d times", n)
	}
	if n := ws.Calls("files.info"); n != 2 {
		t.Errorf("files.info called %d times, want 2 (never for the private file)", n)
	}
	if b := blobsIn(t, dir); len(b) != 3 {
		t.Fatalf("blobs %q, want 3", b)
	}
	recMine, _, _ := fb.a.StoredFile(ctx, mine.ID)
	recTheirs, _, _ := fb.a.StoredFile(ctx, theirs.ID)
	exists := func(sum string) bool {
		_, err := os.Stat(archive.Blobs{Dir: dir}.Path(sum))
		return err == nil
	}

	// The admin removes their message: its file goes.
	fb.env.Shortcut(t, slacktest.MessageShortcut{CallbackID: archive.RemoveCallbackID, UserID: slacktest.AdminID,
		ChannelID: slacktest.GeneralID, MessageTS: m2.TS, MessageUser: slacktest.AdminID})
	if exists(recTheirs.SHA256) || !exists(recMine.SHA256) {
		t.Errorf("after removal: theirs kept %v, mine kept %v; want false, true", exists(recTheirs.SHA256), exists(recMine.SHA256))
	}
	// The member opts out: their file and avatar go, though the admin's
	// message shares the file (it is still the member's).
	fb.env.Command(t, slacktest.MemberID, slacktest.GeneralID, "/townhall", "archive optout")
	if b := blobsIn(t, dir); len(b) != 0 {
		t.Errorf("after opt-out: blobs %q, want none", b)
	}
	if rec, ok, _ := fb.a.StoredFile(ctx, archive.AvatarID(slacktest.MemberID)); ok {
		t.Errorf("avatar still recorded after opt-out: %+v", rec)
	}
	h, err := web.New(fb.cfg, fb.a, web.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	if got := get(t, srv, "/avatars/"+slacktest.MemberID); got.status != 404 {
		t.Errorf("an opted-out member's avatar answered %d", got.status)
	}
	if got := get(t, srv, "/files/"+recTheirs.SHA256+"/theirs.txt"); got.status != 404 {
		t.Errorf("a removed message's file answered %d", got.status)
	}
}

// TestFilesQuotaInStatus: once the kept files reach the quota, catch-up
// fetches no more and status says so.
func TestFilesQuotaInStatus(t *testing.T) {
	t.Parallel()
	ws := slacktest.New(t)
	a := ws.AddFile(slacktest.MemberID, slacktest.File{Name: "a.txt", Mimetype: "text/plain"}, bytes.Repeat([]byte("a"), 8))
	b := ws.AddFile(slacktest.MemberID, slacktest.File{Name: "b.txt", Mimetype: "text/plain"}, bytes.Repeat([]byte("b"), 8))
	ws.AddMessage(slacktest.Message{Channel: slacktest.GeneralID, Subtype: "file_share", Files: []slacktest.File{a}})
	ws.AddMessage(slacktest.Message{Channel: slacktest.GeneralID, Subtype: "file_share", Files: []slacktest.File{b}})
	fb := startFiles(t, ws, filepath.Join(t.TempDir(), "townhall.db"), t.TempDir(), func(c *archive.Config) { c.FilesQuota = 10 })
	if _, err := fb.env.RunJob(t, "archive.catchup"); err != nil {
		t.Fatal(err)
	}
	if got := ws.FileDownloads(a.ID) + ws.FileDownloads(b.ID); got != 1 {
		t.Errorf("%d files downloaded with room for one", got)
	}
	status := strings.Join(fb.i.Status(t.Context()), "\n")
	if !strings.Contains(status, "Files: 1 kept (8B of 10B)") || !strings.Contains(status, "the quota (TOWNHALL_ARCHIVE_FILES_QUOTA) is reached") {
		t.Errorf("status = %q", status)
	}
}
