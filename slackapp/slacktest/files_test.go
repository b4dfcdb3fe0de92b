package slacktest_test

import (
	"bytes"
	"errors"
	"net/http"
	"testing"

	"github.com/slack-go/slack"

	"github.com/townhall/townhall/slackapp/slacktest"
)

func TestFilesInfoAndDownload(t *testing.T) {
	t.Parallel()
	s := slacktest.New(t)
	f := s.AddFile(slacktest.MemberID, slacktest.File{Name: "minutes.pdf", Title: "Minutes", Mimetype: "application/pdf", Filetype: "pdf"}, []byte("%PDF minutes"))
	if f.ID == "" || f.Size != 12 {
		t.Fatalf("AddFile = %+v", f)
	}
	api := slack.New(s.BotToken(), slack.OptionAPIURL(s.APIURL()))
	info, _, _, err := api.GetFileInfo(f.ID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != "minutes.pdf" || info.Title != "Minutes" || info.Size != 12 || info.User != slacktest.MemberID || info.Mode != "hosted" || info.URLPrivateDownload == "" {
		t.Fatalf("files.info = %+v", info)
	}
	var b bytes.Buffer
	if err := api.GetFile(info.URLPrivateDownload, &b); err != nil || b.String() != "%PDF minutes" {
		t.Fatalf("download = %q, %v", b.String(), err)
	}
	if n := s.FileDownloads(f.ID); n != 1 {
		t.Errorf("FileDownloads = %d", n)
	}

	// Without the bot token, no file.
	resp, err := http.Get(info.URLPrivateDownload)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("download without a token: %d", resp.StatusCode)
	}
	other := slack.New("xoxb-not-the-token", slack.OptionAPIURL(s.APIURL()))
	if err := other.GetFile(info.URLPrivateDownload, &b); err == nil {
		t.Error("download with another token succeeded")
	}

	// Deleted: file_not_found, and 404.
	s.DeleteFile(f.ID)
	_, _, _, err = api.GetFileInfo(f.ID, 0, 0)
	var se slack.SlackErrorResponse
	if !errors.As(err, &se) || se.Err != "file_not_found" {
		t.Errorf("files.info of a deleted file: %v", err)
	}
	err = api.GetFile(info.URLPrivateDownload, &b)
	var sc slack.StatusCodeError
	if !errors.As(err, &sc) || sc.Code != http.StatusNotFound {
		t.Errorf("download of a deleted file: %v", err)
	}
}

func TestAvatars(t *testing.T) {
	t.Parallel()
	s := slacktest.New(t)
	api := slack.New(s.BotToken(), slack.OptionAPIURL(s.APIURL()))
	u, err := api.GetUserInfo(slacktest.AdminID)
	if err != nil || u.Profile.Image512 != "" {
		t.Fatalf("a member without an avatar: %q, %v", u.Profile.Image512, err)
	}
	s.SetAvatar(slacktest.AdminID, []byte("PNG"))
	u, err = api.GetUserInfo(slacktest.AdminID)
	if err != nil || u.Profile.Image512 == "" || u.Profile.Image192 == "" {
		t.Fatalf("users.info = %+v, %v", u.Profile, err)
	}
	users, err := api.GetUsers()
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range users {
		if x.ID == slacktest.AdminID && x.Profile.Image512 != u.Profile.Image512 {
			t.Errorf("users.list image_512 = %q", x.Profile.Image512)
		}
	}
	resp, err := http.Get(u.Profile.Image512)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || s.FileDownloads("avatar:"+slacktest.AdminID) != 1 {
		t.Errorf("avatar: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}
