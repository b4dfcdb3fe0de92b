package archive_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/slack-go/slack"

	"github.com/townhall/townhall/integrations/archive"
)

const filesToken = "xoxb-files-secret-token"

// fakeFiles stands in for Slack's files.info and for files.slack.com on
// one loopback server: files.info answers as Slack does
// (https://api.slack.com/methods/files.info), the files are served at
// their url_private_download to a request bearing the bot token.
type fakeFiles struct {
	srv       *httptest.Server
	evil      *httptest.Server // a host that must never see the token
	mu        sync.Mutex
	downloads map[string]int
	evilSeen  []string // Authorization headers the evil host received
}

func newFakeFiles(t *testing.T) *fakeFiles {
	f := &fakeFiles{downloads: map[string]int{}}
	f.evil = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.evilSeen = append(f.evilSeen, r.Header.Get("Authorization"))
		f.mu.Unlock()
		w.Write([]byte("stolen"))
	}))
	t.Cleanup(f.evil.Close)
	content := map[string]string{"/files-pri/T1-F1/download/minutes.pdf": "%PDF minutes", "/files-pri/T1-F4/download/photo.png": "PNG photo"}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/files.info" {
			r.ParseForm()
			if r.Form.Get("token") != filesToken && r.Header.Get("Authorization") != "Bearer "+filesToken {
				json.NewEncoder(w).Encode(map[string]any{"ok": false, "error": "invalid_auth"})
				return
			}
			id := r.Form.Get("file")
			file := map[string]any{"id": id, "name": "x", "mode": "hosted", "size": 12}
			switch id {
			case "F1":
				file["name"], file["url_private_download"] = "minutes.pdf", f.srv.URL+"/files-pri/T1-F1/download/minutes.pdf"
			case "F4":
				file["name"], file["url_private_download"] = "photo.png", f.srv.URL+"/files-pri/T1-F4/download/photo.png"
			case "F2":
				json.NewEncoder(w).Encode(map[string]any{"ok": false, "error": "file_not_found"})
				return
			case "F3":
				file["url_private_download"] = f.srv.URL + "/files-pri/T1-F3/download/gone.txt" // 404 below
			case "F5":
				file["url_private_download"] = f.evil.URL + "/files-pri/T1-F5/steal" // not Slack: no token sent
			case "F6":
				file["size"] = 200 << 20
				file["url_private_download"] = f.srv.URL + "/files-pri/T1-F6/download/huge.mov"
			}
			json.NewEncoder(w).Encode(map[string]any{"ok": true, "file": file, "comments": []any{}, "paging": map[string]any{}})
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+filesToken {
			http.Redirect(w, r, "/signin?redir="+r.URL.Path, http.StatusFound)
			return
		}
		f.mu.Lock()
		f.downloads[r.URL.Path]++
		f.mu.Unlock()
		body, ok := content[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(body))
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func TestExportMattermostAttachments(t *testing.T) {
	t.Parallel()
	ff := newFakeFiles(t)
	a := openArchive(t)
	ctx := t.Context()
	if err := a.PutChannel(ctx, archive.Channel{ID: "C1", Name: "general"}); err != nil {
		t.Fatal(err)
	}
	if err := a.PutUser(ctx, archive.User{ID: "U1", Name: "ada"}); err != nil {
		t.Fatal(err)
	}
	file := func(id, name string) archive.File {
		return archive.File{ID: id, Name: name, Title: strings.ToUpper(name), Permalink: "https://team.slack.com/files/U1/" + id + "/" + name}
	}
	if _, err := a.PutMessages(ctx, []archive.Message{
		{Channel: "C1", TS: "1700000000.000100", User: "U1", Subtype: "file_share", Text: "the minutes",
			Files: []archive.File{file("F1", "minutes.pdf"), file("F2", "deleted.doc"), file("F3", "gone.txt")}},
		{Channel: "C1", TS: "1700000001.000100", User: "U1", Text: "photo", ThreadTS: "1700000001.000100"},
		{Channel: "C1", TS: "1700000002.000100", User: "U1", Text: "in a reply", ThreadTS: "1700000001.000100",
			Files: []archive.File{file("F4", "photo.png"), file("F5", "steal.txt"), file("F6", "huge.mov")}},
	}); err != nil {
		t.Fatal(err)
	}
	api := slack.New(filesToken, slack.OptionAPIURL(ff.srv.URL+"/api/"))
	dir := t.TempDir()
	export := func() (*mmImport, archive.MattermostStats) {
		return exportMM(t, a, archive.MattermostOptions{Files: &archive.MattermostFiles{API: api, Dir: dir}})
	}
	im, st := export()

	if got := string(im.Files["data/attachments/f1_minutes.pdf"]); got != "%PDF minutes" {
		t.Errorf("data/attachments/f1_minutes.pdf = %q; zip holds %v", got, keys(im.Files))
	}
	p := im.post(t, "the minutes")
	if p.Attachments == nil || len(*p.Attachments) != 1 || *(*p.Attachments)[0].Path != "attachments/f1_minutes.pdf" {
		t.Errorf("attachments = %+v", p.Attachments)
	}
	// What Slack no longer has stays a link, and is listed.
	if !strings.Contains(*p.Message, "[DELETED.DOC](https://team.slack.com/files/U1/F2/deleted.doc)") ||
		!strings.Contains(*p.Message, "[GONE.TXT]") || strings.Contains(*p.Message, "MINUTES.PDF") {
		t.Errorf("message = %q", *p.Message)
	}
	reply := (*im.post(t, "photo").Replies)[0]
	if reply.Attachments == nil || len(*reply.Attachments) != 1 || *(*reply.Attachments)[0].Path != "attachments/f4_photo.png" {
		t.Errorf("reply attachments = %+v", reply.Attachments)
	}
	if st.Files != 2 || len(st.Missing) != 4 {
		t.Errorf("files %d, missing %q; want 2 and 4", st.Files, st.Missing)
	}
	for _, m := range st.Missing {
		if strings.Contains(m, filesToken) {
			t.Errorf("the token leaked into %q", m)
		}
	}
	if !strings.Contains(strings.Join(st.Missing, "\n"), "F2 (deleted.doc): Slack no longer has it (file_not_found)") ||
		!strings.Contains(strings.Join(st.Missing, "\n"), "HTTP 404") {
		t.Errorf("missing = %q", st.Missing)
	}
	if len(ff.evilSeen) != 0 {
		t.Errorf("a host that is not Slack's was asked, with Authorization %q", ff.evilSeen)
	}

	// Again: what was fetched is not fetched again.
	im, st = export()
	if st.Files != 2 || len(im.Files) != 2 {
		t.Errorf("second run: %d files", st.Files)
	}
	ff.mu.Lock()
	defer ff.mu.Unlock()
	for path, n := range ff.downloads {
		if n != 1 && !strings.Contains(path, "F3") {
			t.Errorf("%s downloaded %d times", path, n)
		}
	}
}

func TestExportMattermostAttachmentsBadToken(t *testing.T) {
	t.Parallel()
	ff := newFakeFiles(t)
	a := openArchive(t)
	ctx := t.Context()
	a.PutChannel(ctx, archive.Channel{ID: "C1", Name: "general"})
	a.PutMessages(ctx, []archive.Message{{Channel: "C1", TS: "1700000000.000100", User: "U1", Text: "f",
		Files: []archive.File{{ID: "F1", Name: "minutes.pdf"}}}})
	api := slack.New("xoxb-wrong", slack.OptionAPIURL(ff.srv.URL+"/api/"))
	var buf bytes.Buffer
	_, err := archive.ExportMattermost(ctx, a, &buf, archive.MattermostOptions{Team: "community", TempDir: t.TempDir(),
		Files: &archive.MattermostFiles{API: api, Dir: t.TempDir()}})
	if err == nil || !strings.Contains(err.Error(), "files:read") || strings.Contains(err.Error(), "xoxb") {
		t.Errorf("export with a token that cannot read files: %v", err)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
