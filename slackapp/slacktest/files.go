package slacktest

import (
	"context"
	"crypto/hmac"
	"net/http"
	"strings"
)

// hostedFile is a file the workspace hosts: what files.info describes and
// url_private_download serves. Guarded by Server.mu.
type hostedFile struct {
	File
	user      string
	content   []byte
	deleted   bool
	downloads int
}

// hostedFiles are the workspace's files and members' avatars. Guarded by
// Server.mu; its maps are made on first use.
type hostedFiles struct {
	byID      map[string]*hostedFile
	avatars   map[string][]byte // user ID → image
	avatarGot map[string]int    // user ID → avatar downloads
	downloads int               // url_private_download and avatar requests served, in all
}

// AddFile uploads a file to the workspace, as if user (MemberID when
// empty) had shared it: files.info describes it and its
// url_private_download serves content to the bot token. Put the returned
// File (ID and Size set) in a Message's Files to share it in a message.
func (s *Server) AddFile(user string, f File, content []byte) File {
	if f.ID == "" {
		f.ID = newID("F")
	}
	if f.Name == "" {
		f.Name = f.ID
	}
	if user == "" {
		user = MemberID
	}
	f.Size = len(content)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.files.byID == nil {
		s.files.byID = map[string]*hostedFile{}
	}
	s.files.byID[f.ID] = &hostedFile{File: f, user: user, content: append([]byte(nil), content...)}
	return f
}

// DeleteFile deletes a file, as its owner or Slack's retention would:
// files.info then answers file_not_found and its URL 404. Messages that
// shared it keep their file objects, as Slack's do until edited.
func (s *Server) DeleteFile(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f := s.files.byID[id]; f != nil {
		f.deleted = true
	}
}

// SetAvatar gives a member a profile picture: users.info and users.list
// then carry image_192 and image_512 URLs on this server, which serve it
// to anyone (Slack's avatars are public).
func (s *Server) SetAvatar(user string, image []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.files.avatars == nil {
		s.files.avatars = map[string][]byte{}
	}
	s.files.avatars[user] = append([]byte(nil), image...)
}

// FileDownloads returns how many times a file's content was served
// (avatars: "avatar:" + user ID).
func (s *Server) FileDownloads(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f := s.files.byID[id]; f != nil {
		return f.downloads
	}
	return s.files.avatarGot[strings.TrimPrefix(id, "avatar:")]
}

// WaitFileDownloads blocks until n file or avatar downloads in all were
// served, or ctx is done.
func (s *Server) WaitFileDownloads(ctx context.Context, n int) error {
	return s.waitFor(ctx, func() (bool, error) { return s.files.downloads >= n, nil })
}

// fileURL is where the file's content is served, as Slack's
// url_private_download (https://files.slack.com/files-pri/T-F/download/name).
func (s *Server) fileURL(f *hostedFile) string {
	return s.base + "/files-pri/" + s.cfg.team.ID + "-" + f.ID + "/download/" + f.Name
}

// filesInfo serves files.info (https://api.slack.com/methods/files.info).
func (s *Server) filesInfo(p params) (map[string]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.files.byID[p.get("file")]
	if f == nil || f.deleted {
		return nil, apiError("file_not_found")
	}
	j := map[string]any{
		"id":                   f.ID,
		"name":                 f.Name,
		"title":                f.Title,
		"mimetype":             f.Mimetype,
		"filetype":             f.Filetype,
		"pretty_type":          f.Filetype,
		"user":                 f.user,
		"user_team":            s.cfg.team.ID,
		"size":                 len(f.content),
		"mode":                 "hosted",
		"is_external":          false,
		"external_type":        "",
		"is_public":            true,
		"url_private":          s.fileURL(f),
		"url_private_download": s.fileURL(f),
		"permalink":            "https://" + s.cfg.team.Domain + ".slack.com/files/" + f.user + "/" + f.ID + "/" + f.Name,
	}
	return map[string]any{"file": j, "comments": []any{}, "response_metadata": map[string]any{"next_cursor": ""}}, nil
}

// serveFile serves a file's url_private_download: only to a request
// bearing the bot token (Slack redirects others to its sign-in page; the
// fake answers 403), 404 once the file is deleted.
func (s *Server) serveFile(w http.ResponseWriter, r *http.Request) {
	// /files-pri/T-F/download/name
	rest := strings.TrimPrefix(r.URL.Path, "/files-pri/")
	teamFile, _, _ := strings.Cut(rest, "/")
	id := strings.TrimPrefix(teamFile, s.cfg.team.ID+"-")
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !hmac.Equal([]byte(tok), []byte(s.cfg.botToken)) {
		http.Error(w, "sign in to read this file", http.StatusForbidden)
		return
	}
	s.mu.Lock()
	f := s.files.byID[id]
	if f == nil || f.deleted || r.URL.Path != strings.TrimPrefix(s.fileURL(f), s.base) {
		s.mu.Unlock()
		http.NotFound(w, r)
		return
	}
	f.downloads++
	s.files.downloads++
	s.notifyLocked()
	content, mimetype := f.content, f.Mimetype
	s.mu.Unlock()
	if mimetype != "" {
		w.Header().Set("Content-Type", mimetype)
	}
	_, _ = w.Write(content) // the client went away
}

// avatarURL is a member's avatar of size px, or "" when they have none.
// s.mu must be held.
func (s *Server) avatarURLLocked(user string, px string) string {
	if _, ok := s.files.avatars[user]; !ok {
		return ""
	}
	return s.base + "/avatars/" + user + "_" + px + ".png"
}

// withAvatarLocked adds the image_192 and image_512 of a member who has an
// avatar. s.mu must be held.
func (s *Server) withAvatarLocked(j *userJSON) {
	j.Profile.Image192 = s.avatarURLLocked(j.ID, "192")
	j.Profile.Image512 = s.avatarURLLocked(j.ID, "512")
}

// serveAvatar serves /avatars/U_512.png to anyone.
func (s *Server) serveAvatar(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/avatars/"), ".png")
	user, _, _ := strings.Cut(name, "_")
	s.mu.Lock()
	img, ok := s.files.avatars[user]
	if ok {
		if s.files.avatarGot == nil {
			s.files.avatarGot = map[string]int{}
		}
		s.files.avatarGot[user]++
		s.files.downloads++
		s.notifyLocked()
	}
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	_, _ = w.Write(img)
}
