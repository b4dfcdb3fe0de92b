package archive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/townhall/townhall/slackapp"
)

// keeper fetches the files shared in public channels, and members'
// avatars, into the blob store (TOWNHALL_ARCHIVE_FILES), recording each
// outcome in the FileIndex so that nothing is fetched twice, across
// restarts too. It is safe for concurrent use: one file is fetched at a
// time, which keeps the quota check exact.
type keeper struct {
	api    *slack.Client
	a      Archive
	idx    FileIndex
	blobs  Blobs
	pace   *slackapp.Pacer
	max    int64
	quota  int64
	log    *slog.Logger
	now    func() time.Time
	client *http.Client // avatars: public URLs, fetched without the token
	queue  chan keepJob // live capture's work, for work

	mu sync.Mutex // held while one file is fetched

	pendingMu sync.Mutex
	pending   int           // jobs enqueued and not yet done
	idle      chan struct{} // closed when pending drops to 0, then replaced
}

// keepJob is a message whose files to keep, or a member whose avatar to keep.
type keepJob struct {
	msg  *Message
	user *slack.User
}

// keepQueue bounds live capture's backlog; past it a file waits for the
// next catch-up or fetch-files.
const keepQueue = 1024

// defaultFilesQuota and defaultMaxFile apply when the configuration's are 0.
const (
	defaultFilesQuota = 10_000_000_000
	defaultMaxFile    = 100_000_000
)

func newKeeper(cfg Config, a Archive, api *slack.Client, pace *slackapp.Pacer, log *slog.Logger, now func() time.Time) (*keeper, error) {
	idx, ok := a.(FileIndex)
	if !ok {
		return nil, fmt.Errorf("%sARCHIVE_FILES: this archive (%T) cannot record files", envPrefix, a)
	}
	if cfg.FilesDir == "" {
		return nil, fmt.Errorf("%sARCHIVE_FILES_DIR: required when TOWNHALL_ARCHIVE_FILES is on", envPrefix)
	}
	k := &keeper{api: api, a: a, idx: idx, blobs: Blobs{Dir: cfg.FilesDir}, pace: pace,
		max: int64(cfg.MaxFileBytes), quota: int64(cfg.FilesQuota), log: log, now: now,
		client: &http.Client{Timeout: 2 * time.Minute}, queue: make(chan keepJob, keepQueue)}
	if k.max <= 0 {
		k.max = defaultMaxFile
	}
	if k.quota <= 0 {
		k.quota = defaultFilesQuota
	}
	return k, nil
}

// enqueue hands live capture's work to work without blocking the event
// handler; when the backlog is full the job is dropped (catch-up and
// fetch-files find it later).
func (k *keeper) enqueue(j keepJob) {
	k.pendingMu.Lock()
	defer k.pendingMu.Unlock()
	select {
	case k.queue <- j:
		k.pending++
	default:
		k.log.Warn("archive files: backlog full; a file waits for the next catch-up")
	}
}

// work keeps what enqueue was given until ctx is done.
func (k *keeper) work(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-k.queue:
			var err error
			if j.msg != nil {
				err = k.keepMessage(ctx, *j.msg)
			} else if j.user != nil {
				err = k.keepAvatar(ctx, *j.user)
			}
			if err != nil && ctx.Err() == nil && !errors.Is(err, ErrFilesQuota) {
				k.log.Warn("archive files: not kept", "error", err)
			}
			k.done()
		}
	}
}

// done counts one job done, waking WaitFiles when none is left.
func (k *keeper) done() {
	k.pendingMu.Lock()
	defer k.pendingMu.Unlock()
	k.pending--
	if k.pending == 0 && k.idle != nil {
		close(k.idle)
		k.idle = nil
	}
}

// WaitFiles blocks until the files and avatars captured live so far are
// kept (or found gone), or ctx is done. Without TOWNHALL_ARCHIVE_FILES it
// returns at once.
func (i *Integration) WaitFiles(ctx context.Context) error {
	k := i.keep
	if k == nil {
		return nil
	}
	k.pendingMu.Lock()
	if k.pending == 0 {
		k.pendingMu.Unlock()
		return nil
	}
	if k.idle == nil {
		k.idle = make(chan struct{})
	}
	idle := k.idle
	k.pendingMu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// keepMessage keeps the files of a message that is in the archive and
// whose author has not opted out. ErrFilesQuota, a token that cannot read
// files and ctx's end stop it; a file Slack no longer has is recorded.
func (k *keeper) keepMessage(ctx context.Context, m Message) error {
	if len(m.Files) == 0 {
		return nil
	}
	if m.User != "" {
		u, ok, err := k.a.User(ctx, m.User)
		if err != nil {
			return err
		}
		if ok && u.OptedOut {
			return nil
		}
	}
	// Only what the archive holds: a public channel's message, not removed.
	if _, ok, err := k.a.Message(ctx, m.Channel, m.TS); err != nil || !ok {
		return err
	}
	for _, f := range m.Files {
		if f.ID == "" {
			continue
		}
		if err := k.keepFile(ctx, f, FileRef{File: f.ID, Channel: m.Channel, TS: m.TS, User: m.User}); err != nil {
			return fmt.Errorf("file %s: %w", f.ID, err)
		}
	}
	return nil
}

// keepFile fetches one file unless it was recorded, and records it.
func (k *keeper) keepFile(ctx context.Context, f File, ref FileRef) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok, err := k.idx.StoredFile(ctx, f.ID); err != nil {
		return err
	} else if ok {
		return k.idx.PutFileRefs(ctx, []FileRef{ref})
	}
	if err := k.roomFor(ctx, 0); err != nil {
		return err
	}
	info, why, status, err := slackFileInfo(ctx, k.pace, k.api, f.ID, k.max, "TOWNHALL_ARCHIVE_MAX_FILE_BYTES")
	if err != nil {
		return err
	}
	rec := StoredFile{ID: f.ID, Name: firstOf(f.Name, f.Title, f.ID), Mimetype: f.Mimetype, Fetched: k.now().UTC()}
	if info != nil {
		rec.Name, rec.Mimetype, rec.Size, rec.User = firstOf(info.Name, rec.Name), firstOf(info.Mimetype, rec.Mimetype), int64(info.Size), info.User
		if u, ok, err := k.a.User(ctx, info.User); err != nil {
			return err
		} else if ok && u.OptedOut { // shared by someone else: still theirs
			return nil
		}
	}
	if why == "" {
		if err := k.roomFor(ctx, rec.Size); err != nil {
			return err
		}
		url := firstOf(info.URLPrivateDownload, info.URLPrivate)
		rec.Source = url
		why, status, err = k.store(ctx, &rec, func(w io.Writer) error { return k.api.GetFileContext(ctx, url, w) })
		if err != nil {
			return err
		}
	}
	if why != "" {
		if status == "" { // a passing failure: try again next time
			k.log.Warn("archive files: not fetched; tried again later", "file", f.ID, "reason", why)
			return nil
		}
		rec.Status, rec.Reason = status, why
	}
	orphans, err := k.idx.PutStoredFile(ctx, rec, []FileRef{ref})
	if err != nil {
		return err
	}
	return k.blobs.Delete(orphans)
}

// store downloads into the blob store and fills rec's hash, size and
// dimensions; why and status as download's.
func (k *keeper) store(ctx context.Context, rec *StoredFile, get func(io.Writer) error) (why, status string, err error) {
	tmp, sum, size, why, status, err := download(ctx, k.pace, k.blobs.Dir, k.max, get)
	if err != nil || why != "" {
		return why, status, err
	}
	if !k.blobs.Has(sum) {
		if err := k.roomFor(ctx, size); err != nil {
			os.Remove(tmp)
			return "", "", err
		}
	}
	var format string
	rec.Width, rec.Height, format = imageSize(tmp)
	if strings.HasPrefix(rec.ID, AvatarID("")) {
		rec.Mimetype = "application/octet-stream" // not an image we can show
		if format != "" {
			rec.Mimetype = "image/" + format
		}
	}
	if err := k.blobs.adopt(tmp, sum); err != nil {
		os.Remove(tmp)
		return "", "", err
	}
	rec.SHA256, rec.Size, rec.Status = sum, size, FileStored
	return "", "", nil
}

// roomFor returns ErrFilesQuota, and records when, if adding size bytes
// would take the blobs past the quota (or they already reached it).
func (k *keeper) roomFor(ctx context.Context, size int64) error {
	u, err := k.idx.FileUsage(ctx)
	if err != nil {
		return err
	}
	v, err := k.a.State(ctx, StateFilesQuota)
	if err != nil {
		return err
	}
	if u.Bytes+size <= k.quota && u.Bytes < k.quota {
		if v != "" { // the quota was raised, or files were deleted
			return k.a.SetState(ctx, StateFilesQuota, "")
		}
		return nil
	}
	if v == "" {
		k.log.Warn("archive files: quota reached; no more files are fetched", "bytes", u.Bytes, "quota", k.quota)
		if err := k.a.SetState(ctx, StateFilesQuota, k.now().UTC().Format(time.RFC3339)); err != nil {
			return err
		}
	}
	return ErrFilesQuota
}

// avatarURL is the largest picture of a member's profile.
func avatarURL(u slack.User) string {
	return firstOf(u.Profile.Image512, u.Profile.Image192, u.Profile.ImageOriginal)
}

// keepAvatar keeps a member's avatar, again when it changed.
func (k *keeper) keepAvatar(ctx context.Context, su slack.User) error {
	url := avatarURL(su)
	if url == "" || su.IsBot {
		return nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if u, ok, err := k.a.User(ctx, su.ID); err != nil {
		return err
	} else if ok && u.OptedOut {
		return nil
	}
	id := AvatarID(su.ID)
	if rec, ok, err := k.idx.StoredFile(ctx, id); err != nil {
		return err
	} else if ok && rec.Source == url {
		return nil
	}
	if err := k.roomFor(ctx, 0); err != nil {
		return err
	}
	rec := StoredFile{ID: id, Name: su.ID, User: su.ID, Source: url, Fetched: k.now().UTC()}
	why, status, err := k.store(ctx, &rec, func(w io.Writer) error { return k.get(ctx, url, w) })
	if err != nil {
		return err
	}
	if why != "" {
		if status == "" {
			k.log.Warn("archive files: avatar not fetched; tried again later", "user", su.ID, "reason", why)
			return nil
		}
		rec.Status, rec.Reason = status, why
	}
	orphans, err := k.idx.PutStoredFile(ctx, rec, []FileRef{{File: id, User: su.ID}})
	if err != nil {
		return err
	}
	return k.blobs.Delete(orphans)
}

// get fetches a public URL (an avatar) without credentials.
func (k *keeper) get(ctx context.Context, url string, w io.Writer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := k.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return slack.StatusCodeError{Code: resp.StatusCode, Status: resp.Status}
	}
	_, err = io.Copy(w, resp.Body)
	return err
}

// keepAvatars keeps the avatars of every member (users.list).
func (k *keeper) keepAvatars(ctx context.Context) (int, error) {
	var users []slack.User
	err := k.pace.Call(ctx, func() (err error) {
		users, err = k.api.GetUsersContext(ctx)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("users.list: %w", err)
	}
	for _, u := range users {
		if err := k.keepAvatar(ctx, u); err != nil {
			return 0, fmt.Errorf("avatar of %s: %w", u.ID, err)
		}
	}
	return len(users), nil
}

// forget deletes the blobs of what orphans names.
func (k *keeper) forget(orphans []string, err error) error {
	if err != nil {
		return err
	}
	return k.blobs.Delete(orphans)
}

// FetchFilesStats count what FetchFiles did.
type FetchFilesStats struct {
	Messages int // messages with files looked at
	Users    int // members whose avatars were looked at
	Usage    FileUsage
	Quota    bool // stopped at TOWNHALL_ARCHIVE_FILES_QUOTA
}

// FetchFiles keeps the files of every archived message (imported ones
// included) and every member's avatar, as `townhall archive fetch-files`
// does: what was recorded is not fetched again, so a run that stopped
// resumes where it was. It stops at the quota (Quota set, err nil), at a
// token that cannot read files, and when ctx is done.
func FetchFiles(ctx context.Context, cfg Config, a Archive, api *slack.Client, log *slog.Logger, progress io.Writer) (FetchFilesStats, error) {
	var st FetchFilesStats
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	k, err := newKeeper(cfg, a, api, &slackapp.Pacer{Every: cfg.APIPace, Now: time.Now}, log, time.Now)
	if err != nil {
		return st, err
	}
	channels, err := a.Channels(ctx)
	if err != nil {
		return st, err
	}
	for _, c := range channels {
		err := a.Each(ctx, c.ID, "", func(m Message) error {
			if m.Hidden || len(m.Files) == 0 {
				return nil
			}
			st.Messages++
			return k.keepMessage(ctx, m)
		})
		if errors.Is(err, ErrFilesQuota) {
			st.Quota = true
			break
		}
		if err != nil {
			return st, fmt.Errorf("archive: fetch files #%s: %w", c.Name, err)
		}
		if progress != nil {
			fmt.Fprintf(progress, "#%s: files kept\n", c.Name)
		}
	}
	if !st.Quota {
		st.Users, err = k.keepAvatars(ctx)
		if errors.Is(err, ErrFilesQuota) {
			st.Quota = true
		} else if err != nil {
			return st, fmt.Errorf("archive: fetch files: %w", err)
		}
	}
	st.Usage, err = k.idx.FileUsage(ctx)
	return st, err
}

// keepLive hands a captured message's files to the keeper's worker.
func (i *Integration) keepLive(m Message) {
	if i.keep != nil && len(m.Files) > 0 {
		i.keep.enqueue(keepJob{msg: &m})
	}
}

// keepAvatarLive hands a member's avatar to the keeper's worker.
func (i *Integration) keepAvatarLive(u slack.User) {
	if i.keep != nil && avatarURL(u) != "" {
		i.keep.enqueue(keepJob{user: &u})
	}
}

// keepCaughtUp keeps the files of messages catch-up stored; a failure is
// logged, not returned: catch-up goes on, and fetch-files can finish it.
func (i *Integration) keepCaughtUp(ctx context.Context, ms []Message) error {
	if i.keep == nil {
		return nil
	}
	for _, m := range ms {
		if err := i.keep.keepMessage(ctx, m); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if !errors.Is(err, ErrFilesQuota) {
				i.log.Warn("archive files: not kept during catch-up", "channel", m.Channel, "ts", m.TS, "error", err)
			}
			return nil
		}
	}
	return nil
}

// forgetMessageFiles deletes the kept files of a message removed or
// deleted, unless another message shares them.
func (i *Integration) forgetMessageFiles(ctx context.Context, channel, ts string) {
	idx, ok := i.a.(FileIndex)
	if !ok || i.cfg.FilesDir == "" {
		return
	}
	b := Blobs{Dir: i.cfg.FilesDir}
	orphans, err := idx.ForgetMessageFiles(ctx, channel, ts)
	if err == nil {
		err = b.Delete(orphans)
	}
	if err != nil {
		i.log.Warn("archive files: a removed message's files not deleted", "channel", channel, "ts", ts, "error", err)
	}
}

// forgetUserFiles deletes the kept files and the avatar of a member who
// opted out.
func (i *Integration) forgetUserFiles(ctx context.Context, user string) error {
	idx, ok := i.a.(FileIndex)
	if !ok || i.cfg.FilesDir == "" {
		return nil
	}
	orphans, err := idx.ForgetUserFiles(ctx, user)
	if err != nil {
		return err
	}
	return Blobs{Dir: i.cfg.FilesDir}.Delete(orphans)
}

// filesStatus is status's line about kept files.
func (i *Integration) filesStatus(ctx context.Context) []string {
	if i.keep == nil {
		return nil
	}
	u, err := i.keep.idx.FileUsage(ctx)
	if err != nil {
		return []string{"Files: I couldn't count them just now."}
	}
	line := fmt.Sprintf("Files: %d kept (%s of %s), %d gone from Slack before they were fetched, %d left as links",
		u.Files, Bytes(u.Bytes), Bytes(i.keep.quota), u.Gone, u.Skipped)
	if v, _ := i.a.State(ctx, StateFilesQuota); v != "" {
		line += "\nFiles: *the quota (TOWNHALL_ARCHIVE_FILES_QUOTA) is reached: no more files are fetched* (since " + i.when(v) + ")"
	}
	return []string{line}
}

// keepAvatarsCaughtUp keeps members' avatars (new or changed) at the end
// of a catch-up; a failure is logged.
func (i *Integration) keepAvatarsCaughtUp(ctx context.Context) {
	if i.keep == nil {
		return
	}
	if _, err := i.keep.keepAvatars(ctx); err != nil && ctx.Err() == nil && !errors.Is(err, ErrFilesQuota) {
		i.log.Warn("archive files: avatars not kept during catch-up", "error", err)
	}
}

// keptBlobs is where kept files lie, for exports; zero when none are kept.
func (i *Integration) keptBlobs() Blobs {
	if _, ok := i.a.(FileIndex); !ok || i.cfg.FilesDir == "" {
		return Blobs{}
	}
	return Blobs{Dir: i.cfg.FilesDir}
}
