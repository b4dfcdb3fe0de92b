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
	p := &pacer{every: f.Pace, now: now}
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
func (f *MattermostFiles) fetch(ctx context.Context, p *pacer, file File, local string) (why string, err error) {
	var info *slack.File
	err = p.call(ctx, func() (err error) {
		info, _, _, err = f.API.GetFileInfoContext(ctx, file.ID, 0, 0)
		return err
	})
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		var se slack.SlackErrorResponse
		if errors.As(err, &se) {
			for _, e := range tokenErrors {
				if se.Err == e {
					return "", fmt.Errorf("files.info: %s: SLACK_BOT_TOKEN cannot read files (it needs the files:read scope)", se.Err)
				}
			}
			for _, e := range goneFileErrors {
				if se.Err == e {
					return "Slack no longer has it (" + se.Err + ")", nil
				}
			}
		}
		return "files.info failed: " + err.Error(), nil
	}
	if info.IsExternal || info.Mode == "external" {
		return "stored outside Slack (" + firstOf(info.ExternalType, "external") + "), left as a link", nil
	}
	if info.Mode == "tombstone" || info.Mode == "hidden_by_limit" {
		return "Slack no longer has it (" + info.Mode + ")", nil
	}
	maxBytes := f.MaxBytes
	if maxBytes <= 0 {
		maxBytes = mmDefaultMaxFile
	}
	if int64(info.Size) > maxBytes {
		return fmt.Sprintf("%d bytes, more than Mattermost takes (%d)", info.Size, maxBytes), nil
	}
	url := firstOf(info.URLPrivateDownload, info.URLPrivate)
	if url == "" {
		return "Slack gave no URL to fetch it from", nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(local), ".fetch-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	w := &limitedWriter{w: tmp, left: maxBytes}
	err = p.call(ctx, func() error {
		if _, err := tmp.Seek(0, io.SeekStart); err != nil {
			return err
		}
		if err := tmp.Truncate(0); err != nil {
			return err
		}
		w.left = maxBytes
		return f.API.GetFileContext(ctx, url, w)
	})
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		var sc slack.StatusCodeError
		if errors.As(err, &sc) && (sc.Code == 404 || sc.Code == 410) {
			return fmt.Sprintf("Slack no longer has it (HTTP %d)", sc.Code), nil
		}
		return "download failed: " + err.Error(), nil
	}
	if err := os.Rename(tmp.Name(), local); err != nil {
		return "", err
	}
	return "", nil
}

// limitedWriter fails a write past left bytes.
type limitedWriter struct {
	w    io.Writer
	left int64
}

var errTooLarge = errors.New("larger than Mattermost takes")

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
