package archive

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // image.DecodeConfig reads their dimensions
	_ "image/jpeg"
	_ "image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/townhall/townhall/slackapp"
)

// StoredFile is what the archive knows of one file it kept, or tried to:
// a file shared in a message, or a member's avatar (ID AvatarID(user)).
type StoredFile struct {
	ID       string // Slack's file ID ("F…"), or AvatarID(user)
	SHA256   string // lower-case hex of the content; "" unless Status is FileStored
	Name     string // the file's name, for downloads
	Mimetype string
	Size     int64
	Width    int // an image's pixels; 0 when not an image or unknown
	Height   int
	Status   string // FileStored, FileGone or FileSkipped
	Reason   string // why it is not stored, for status and exports
	Source   string // the URL it came from (an avatar's changes with the picture)
	User     string // who uploaded it (Slack's file.user), or the avatar's member: opting out removes it
	Fetched  time.Time
}

// The outcomes of a fetch (StoredFile.Status).
const (
	FileStored  = "stored"  // its content is in the blob store
	FileGone    = "gone"    // Slack no longer has it: it stays a link
	FileSkipped = "skipped" // too large, or stored outside Slack: it stays a link
)

// AvatarID is the StoredFile ID of a member's avatar.
func AvatarID(user string) string { return "avatar:" + user }

// FileRef says that a message (Channel, TS) by User shares File. An
// avatar's reference has no channel and no ts.
type FileRef struct {
	File    string
	Channel string
	TS      string
	User    string
}

// FileUsage counts what the blob store holds.
type FileUsage struct {
	Files   int   // records with Status FileStored
	Blobs   int   // distinct contents
	Bytes   int64 // their size, each content once
	Gone    int
	Skipped int
}

// FileIndex records the files the archive keeps (TOWNHALL_ARCHIVE_FILES):
// what was fetched (so a restart does not fetch it again), from which
// messages, and under which content hash its blob lies. sqlitearchive and
// pgarchive implement it beside Archive. Every method honours ctx and is
// safe for concurrent use.
type FileIndex interface {
	// PutStoredFile records a fetch's outcome and the references to it,
	// replacing any earlier record of f.ID; it returns the content
	// hashes that no record uses any more (an avatar's old picture),
	// whose blobs the caller deletes.
	PutStoredFile(ctx context.Context, f StoredFile, refs []FileRef) (orphans []string, err error)
	// PutFileRefs adds references to recorded files (a file shared again).
	PutFileRefs(ctx context.Context, refs []FileRef) error
	// StoredFile returns the record of a file ID.
	StoredFile(ctx context.Context, id string) (StoredFile, bool, error)
	// StoredBlob returns a stored file whose content has hash sha256,
	// one named name if there is one (files of one content may have
	// several names).
	StoredBlob(ctx context.Context, sha256, name string) (StoredFile, bool, error)
	// FileRefs lists the references to a file, by channel and ts.
	FileRefs(ctx context.Context, id string) ([]FileRef, error)
	// ForgetMessageFiles drops a message's references, and the records
	// of files no message references any more; it returns the content
	// hashes no record uses any more.
	ForgetMessageFiles(ctx context.Context, channel, ts string) (orphans []string, err error)
	// ForgetUserFiles does the same for every reference by user and
	// every reference to a file user uploaded (StoredFile.User), their
	// avatar included.
	ForgetUserFiles(ctx context.Context, user string) (orphans []string, err error)
	// FileUsage counts what is stored.
	FileUsage(ctx context.Context) (FileUsage, error)
}

// Blobs is the directory where kept files lie, one file per content,
// named by its SHA-256 (dir/ab/abcdef…).
type Blobs struct{ Dir string }

// Path is where the blob of content hash sum lies; "" for a sum that is
// not 64 hex digits.
func (b Blobs) Path(sum string) string {
	if len(sum) != 64 || strings.Trim(sum, "0123456789abcdef") != "" {
		return ""
	}
	return filepath.Join(b.Dir, sum[:2], sum)
}

// Open opens the blob of content hash sum.
func (b Blobs) Open(sum string) (*os.File, error) {
	p := b.Path(sum)
	if p == "" {
		return nil, fmt.Errorf("archive: blob %q: %w", sum, os.ErrNotExist)
	}
	return os.Open(p)
}

// Has reports whether the blob of sum exists.
func (b Blobs) Has(sum string) bool {
	p := b.Path(sum)
	if p == "" {
		return false
	}
	_, err := os.Stat(p)
	return err == nil
}

// Delete deletes the blobs of sums; a missing one is not an error.
func (b Blobs) Delete(sums []string) error {
	var errs []error
	for _, s := range sums {
		if p := b.Path(s); p != "" {
			if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// adopt moves the temporary file tmp to the blob of sum, or removes it
// when that blob already exists (the same content fetched before).
func (b Blobs) adopt(tmp, sum string) error {
	p := b.Path(sum)
	if b.Has(sum) {
		return os.Remove(tmp)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}

// ErrFilesQuota is returned once the kept files reach
// TOWNHALL_ARCHIVE_FILES_QUOTA: nothing more is fetched.
var ErrFilesQuota = errors.New("the archive's files reached TOWNHALL_ARCHIVE_FILES_QUOTA")

// StateFilesQuota records when fetching stopped at the quota.
const StateFilesQuota = "files_quota"

// slackFileInfo asks files.info about a file. It returns the file when it
// can be fetched; otherwise why not and the outcome (FileGone, or
// FileSkipped for one stored outside Slack or larger than maxBytes, which
// limit names). err is what stops fetching: the token cannot read files,
// or ctx is done.
func slackFileInfo(ctx context.Context, p *slackapp.Pacer, api *slack.Client, id string, maxBytes int64, limit string) (info *slack.File, why, status string, err error) {
	err = p.Call(ctx, func() (err error) {
		info, _, _, err = api.GetFileInfoContext(ctx, id, 0, 0)
		return err
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil, "", "", ctx.Err()
		}
		var se slack.SlackErrorResponse
		if errors.As(err, &se) {
			for _, e := range tokenErrors {
				if se.Err == e {
					return nil, "", "", fmt.Errorf("files.info: %s: SLACK_BOT_TOKEN cannot read files (it needs the files:read scope)", se.Err)
				}
			}
			for _, e := range goneFileErrors {
				if se.Err == e {
					return nil, "Slack no longer has it (" + se.Err + ")", FileGone, nil
				}
			}
		}
		return nil, "files.info failed: " + err.Error(), "", nil
	}
	if info.IsExternal || info.Mode == "external" {
		return nil, "stored outside Slack (" + firstOf(info.ExternalType, "external") + "), left as a link", FileSkipped, nil
	}
	if info.Mode == "tombstone" || info.Mode == "hidden_by_limit" {
		return nil, "Slack no longer has it (" + info.Mode + ")", FileGone, nil
	}
	if int64(info.Size) > maxBytes {
		return nil, fmt.Sprintf("%d bytes, more than %s takes (%d)", info.Size, limit, maxBytes), FileSkipped, nil
	}
	if firstOf(info.URLPrivateDownload, info.URLPrivate) == "" {
		return nil, "Slack gave no URL to fetch it from", FileGone, nil
	}
	return info, "", "", nil
}

// download fetches url into a new temporary file in dir, at most maxBytes,
// with get (the bot token's client for a file, which slack-go sends only to
// Slack's hosts and the API URL's; a plain GET for an avatar). It returns
// the temporary file's path (the caller renames or removes it), the
// content's SHA-256 and size; why (with err nil) when Slack no longer has
// it or the download failed, the outcome FileGone when that is final.
func download(ctx context.Context, p *slackapp.Pacer, dir string, maxBytes int64, get func(io.Writer) error) (tmpPath, sum string, size int64, why, status string, err error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", "", 0, "", "", err
	}
	tmp, err := os.CreateTemp(dir, ".fetch-*")
	if err != nil {
		return "", "", 0, "", "", err
	}
	h := sha256.New()
	w := &limitedWriter{w: io.MultiWriter(tmp, h), left: maxBytes}
	err = p.Call(ctx, func() error {
		if _, err := tmp.Seek(0, io.SeekStart); err != nil {
			return err
		}
		if err := tmp.Truncate(0); err != nil {
			return err
		}
		h.Reset()
		w.left = maxBytes
		return get(w)
	})
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp.Name())
		if ctx.Err() != nil {
			return "", "", 0, "", "", ctx.Err()
		}
		var sc slack.StatusCodeError
		if errors.As(err, &sc) && (sc.Code == 404 || sc.Code == 410) {
			return "", "", 0, fmt.Sprintf("Slack no longer has it (HTTP %d)", sc.Code), FileGone, nil
		}
		if errors.Is(err, errTooLarge) {
			return "", "", 0, fmt.Sprintf("more than %d bytes", maxBytes), FileSkipped, nil
		}
		return "", "", 0, "download failed: " + err.Error(), "", nil
	}
	return tmp.Name(), hex.EncodeToString(h.Sum(nil)), maxBytes - w.left, "", "", nil
}

// imageSize reads an image's dimensions and format ("png", "jpeg",
// "gif"); 0, 0, "" for anything else.
func imageSize(path string) (int, int, string) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, ""
	}
	defer f.Close()
	c, format, err := image.DecodeConfig(f)
	if err != nil {
		return 0, 0, ""
	}
	return c.Width, c.Height, format
}
