package archive

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/townhall/townhall/slackapp"
)

// MattermostFiles fetches the files of the exported messages from Slack
// (files.info for the file's private URL, then the file with the bot
// token, which slack-go sends to Slack's hosts and the API URL's only),
// paced, into Dir, where they stay: an export run again, after a failure
// or with more channels, fetches only what it lacks. A file Slack no
// longer has (deleted, or past the free plan's limit) is listed in the
// stats, and its link stays in the message.
type MattermostFiles struct {
	// API is a Web API client with the bot token, which needs the
	// files:read scope.
	API *slack.Client
	// Dir keeps the fetched files between runs (required).
	Dir string
	// Pace is the least time between two files.info calls (Slack's Tier
	// 4: about 100 a minute); 0 does not wait.
	Pace time.Duration
	// MaxBytes skips larger files (Mattermost's default
	// FileSettings.MaxFileSize, 100 MiB, when 0).
	MaxBytes int64
	// Now is the clock for pacing; nil means time.Now.
	Now func() time.Time
	// Progress receives a line per file fetched; nil says nothing.
	Progress io.Writer
	// Blobs, when set, are the archive's kept files
	// (TOWNHALL_ARCHIVE_FILES_DIR), recorded in Stored (nil: the exported
	// archive, when it is a FileIndex): a file kept there is copied from
	// its blob instead of fetched from Slack, which may no longer have it.
	Stored FileIndex
	Blobs  Blobs
}

const mmDefaultMaxFile = 100 << 20

// Errors of the Web API that mean a file is gone, not that the export
// should stop (https://api.slack.com/methods/files.info#errors).
var goneFileErrors = []string{"file_not_found", "file_deleted", "file_not_shared", "free_team_not_allowed"}

// Errors that mean no file can be fetched with this token: the export
// stops and says so.
var tokenErrors = []string{"not_authed", "invalid_auth", "account_inactive", "token_revoked", "token_expired",
	"missing_scope", "no_permission", "not_allowed_token_type"}

// fetchFiles fetches the files of the messages to export into o.Files.Dir
// and notes where each lies in the zip; what cannot be fetched is listed
// in the stats.
func (x *mmExport) fetchFiles(ctx context.Context, channels []Channel, since string) error {
	f := x.o.Files
	if f.API == nil || f.Dir == "" {
		return errors.New("archive: mattermost export: MattermostFiles needs API and Dir")
	}
	if err := os.MkdirAll(f.Dir, 0o750); err != nil {
		return fmt.Errorf("archive: mattermost export: files: %w", err)
	}
	now := f.Now
	if now == nil {
		now = time.Now
	}
	p := &slackapp.Pacer{Every: f.Pace, Now: now}
	seen := map[string]bool{}
	var want []File
	for _, c := range channels {
		err := x.a.Each(ctx, c.ID, since, func(m Message) error {
			if m.Hidden {
				return nil
			}
			for _, file := range m.Files {
				if file.ID != "" && !seen[file.ID] {
					seen[file.ID] = true
					want = append(want, file)
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("archive: mattermost export #%s: %w", c.Name, err)
		}
	}
	// Thread replies from before since come with their threads, but their
	// files are fetched only once a later export reaches them: they stay
	// links this time.
	for k, file := range want {
		if err := ctx.Err(); err != nil {
			return err
		}
		name := mmFileName(file)
		local := filepath.Join(f.Dir, name)
		if _, err := os.Stat(local); err == nil {
			x.fileFetched(file.ID, name)
			continue
		}
		if ok, err := f.fromArchive(ctx, x.a, file, local); err != nil {
			return fmt.Errorf("archive: mattermost export: file %s: %w", file.ID, err)
		} else if ok {
			x.fileFetched(file.ID, name)
			continue
		}
		why, err := f.fetch(ctx, p, file, local)
		if err != nil {
			return fmt.Errorf("archive: mattermost export: file %s: %w", file.ID, err)
		}
		if why != "" {
			x.st.Missing = append(x.st.Missing, fmt.Sprintf("%s (%s): %s", file.ID, firstOf(file.Name, file.Title), why))
			continue
		}
		x.fileFetched(file.ID, name)
		if f.Progress != nil {
			fmt.Fprintf(f.Progress, "fetched file %d/%d: %s\n", k+1, len(want), name)
		}
	}
	return nil
}

func (x *mmExport) fileFetched(id, name string) {
	x.files[id] = mmAttachmentDir + name
	x.fileOrder = append(x.fileOrder, id)
}

// mmFileName is where a file lies under data/attachments/: its ID and its
// name, kept to letters, digits and . - _ (as mmetl names them).
func mmFileName(f File) string {
	var b strings.Builder
	for _, r := range firstOf(f.Name, f.Title, "file") {
		if r < utf8.RuneSelf && (isASCIIAlnum(byte(r)) || r == '.' || r == '-' || r == '_') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	name := strings.TrimLeft(b.String(), ".")
	if len(name) > 100 {
		name = name[len(name)-100:]
	}
	return mmEmailLocal(f.ID) + "_" + cmpNonEmpty(name, "file")
}

// fetch fetches file into local. why is set, and err nil, when Slack
// does not have it (any more) or will not give it; err is what stops the
// export: the token cannot read files, or ctx is done.
func (f *MattermostFiles) fetch(ctx context.Context, p *slackapp.Pacer, file File, local string) (why string, err error) {
	maxBytes := f.MaxBytes
	if maxBytes <= 0 {
		maxBytes = mmDefaultMaxFile
	}
	info, why, _, err := slackFileInfo(ctx, p, f.API, file.ID, maxBytes, "Mattermost")
	if err != nil || why != "" {
		return why, err
	}
	url := firstOf(info.URLPrivateDownload, info.URLPrivate)
	tmp, _, _, why, _, err := download(ctx, p, filepath.Dir(local), maxBytes, func(w io.Writer) error {
		return f.API.GetFileContext(ctx, url, w)
	})
	if err != nil || why != "" {
		return why, err
	}
	if err := os.Rename(tmp, local); err != nil {
		os.Remove(tmp)
		return "", err
	}
	return "", nil
}

// fromArchive copies the archive's stored copy of file (TOWNHALL_ARCHIVE_FILES)
// into local, reporting whether there was one.
func (f *MattermostFiles) fromArchive(ctx context.Context, a Archive, file File, local string) (bool, error) {
	stored := f.Stored
	if stored == nil {
		stored, _ = a.(FileIndex)
	}
	if stored == nil || f.Blobs.Dir == "" {
		return false, nil
	}
	rec, ok, err := stored.StoredFile(ctx, file.ID)
	if err != nil || !ok || rec.Status != FileStored {
		return false, err
	}
	src, err := f.Blobs.Open(rec.SHA256)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer src.Close()
	_, err = WriteFile(local, func(w io.Writer) error {
		_, err := io.Copy(w, src)
		return err
	})
	return err == nil, err
}

// limitedWriter fails a write past left bytes.
type limitedWriter struct {
	w    io.Writer
	left int64
}

var errTooLarge = errors.New("larger than the limit")

func (l *limitedWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > l.left {
		return 0, errTooLarge
	}
	l.left -= int64(len(p))
	return l.w.Write(p)
}

// writeFiles copies the fetched files into the zip's data/ folder.
func (x *mmExport) writeFiles(ctx context.Context, zw *zip.Writer) error {
	for _, id := range x.fileOrder {
		if err := ctx.Err(); err != nil {
			return err
		}
		rel := x.files[id]
		src, err := os.Open(filepath.Join(x.o.Files.Dir, strings.TrimPrefix(rel, mmAttachmentDir)))
		if err != nil {
			return fmt.Errorf("archive: mattermost export: file %s: %w", id, err)
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: mmDataDir + rel, Method: zip.Store})
		if err == nil {
			_, err = io.Copy(w, src)
		}
		src.Close()
		if err != nil {
			return fmt.Errorf("archive: mattermost export: file %s: %w", id, err)
		}
		x.st.Files++
	}
	return nil
}
