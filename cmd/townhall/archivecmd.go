package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/townhall/townhall/integrations/archive"
	"github.com/townhall/townhall/integrations/archive/web"
	"github.com/townhall/townhall/store"
)

const archiveUsage = `usage: townhall archive <command>

  import EXPORT.zip                                  import a Slack export (idempotent; private data skipped)
  export OUT.zip [--since YYYY-MM-DD] [--channels a,b]  write the archive as a Slack export
  export --format mattermost --team NAME OUT.zip [--since YYYY-MM-DD] [--channels a,b] [--attachments]
                                                     write it as a Mattermost bulk import, for mmctl import upload;
                                                     --attachments fetches the files Slack still has (needs
                                                     SLACK_BOT_TOKEN with files:read; kept in --files-dir between runs)
  fetch-files                                        keep the files and avatars of what is archived (imported too) while Slack
                                                     still has them, into TOWNHALL_ARCHIVE_FILES_DIR (needs SLACK_BOT_TOKEN with
                                                     files:read; resumable: what was fetched is not fetched again)
  search 'QUERY' [--json]                            search the archive (in:#channel from:@user before: after: on:)
  serve                                              serve the web archive read-only on TOWNHALL_ARCHIVE_ADDR, no Slack tokens needed

The archive is read from TOWNHALL_DATABASE_URL (PostgreSQL) when it is set, else TOWNHALL_DATABASE_PATH (SQLite).`

// archiveCommand runs "townhall archive …": the archive's offline tools,
// which need the database but no Slack tokens.
func archiveCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errUsage{errors.New(archiveUsage)}
	}
	cfg, err := loadConfig(false)
	if err != nil {
		return errUsage{err}
	}
	fs := flag.NewFlagSet("townhall archive "+args[0], flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	since := fs.String("since", "", "only messages from this day on (YYYY-MM-DD)")
	channels := fs.String("channels", "", "only these channels (names, comma-separated)")
	asJSON := fs.Bool("json", false, "one JSON object per line")
	format := fs.String("format", "slack", "export format: slack or mattermost")
	team := fs.String("team", "", "the Mattermost team the channels go into")
	attachments := fs.Bool("attachments", false, "fetch the files Slack still has into the Mattermost export")
	filesDir := fs.String("files-dir", "", "where --attachments keeps the files between runs")
	if err := fs.Parse(interleaved(args[1:])); err != nil {
		return errUsage{fmt.Errorf("%w\n%s", err, archiveUsage)}
	}
	operand := func() (string, error) {
		if fs.NArg() != 1 {
			return "", errUsage{fmt.Errorf("%s needs one argument\n%s", args[0], archiveUsage)}
		}
		return fs.Arg(0), nil
	}
	db := cfg.Store
	loc := cfg.Scheduler.Location()

	switch args[0] {
	case "import":
		zipPath, err := operand()
		if err != nil {
			return err
		}
		return archiveImport(ctx, db, zipPath, archive.ImportOptions{Progress: stderr, Limits: cfg.Archive.ImportLimits()}, stdout)
	case "export":
		out, err := operand()
		if err != nil {
			return err
		}
		o := archive.ExportOptions{}
		if *since != "" {
			if o.Since, err = time.ParseInLocation(archive.DateLayout, *since, loc); err != nil {
				return errUsage{fmt.Errorf("--since: want YYYY-MM-DD, got %q", *since)}
			}
		}
		if *channels != "" {
			for _, c := range strings.Split(*channels, ",") {
				o.Channels = append(o.Channels, strings.TrimPrefix(strings.TrimSpace(c), "#"))
			}
		}
		switch *format {
		case "slack":
			if *team != "" || *attachments || *filesDir != "" {
				return errUsage{errors.New("--team, --attachments and --files-dir go with --format mattermost")}
			}
			o.Files = archive.Blobs{Dir: cfg.Archive.FilesDir} // kept files go in, under __uploads/
			return archiveExport(ctx, db, out, o, stdout)
		case "mattermost":
			mo := archive.MattermostOptions{Team: *team, Since: o.Since, Channels: o.Channels, TempDir: filepath.Dir(out)}
			if *team == "" {
				return errUsage{errors.New("--team: say which Mattermost team the channels go into: its name as in its URL, such as community")}
			}
			if err := archive.CheckMattermostTeam(mo.Team); err != nil {
				return errUsage{fmt.Errorf("--team: %w", err)}
			}
			if *attachments {
				if err := cfg.Slack.BotTokenOnly(); err != nil {
					return errUsage{fmt.Errorf("--attachments: %w", err)}
				}
				dir := *filesDir
				if dir == "" {
					dir = strings.TrimSuffix(out, filepath.Ext(out)) + "-files"
				}
				mo.Files = &archive.MattermostFiles{API: cfg.Slack.BotClient(nil), Dir: dir, Pace: cfg.Archive.APIPace, Progress: stderr,
					Blobs: archive.Blobs{Dir: cfg.Archive.FilesDir}} // kept files are copied, not fetched
			} else if *filesDir != "" {
				return errUsage{errors.New("--files-dir goes with --attachments")}
			}
			return archiveExportMattermost(ctx, db, out, mo, stdout)
		default:
			return errUsage{fmt.Errorf("--format: want slack or mattermost, got %q", *format)}
		}
	case "fetch-files":
		if fs.NArg() != 0 {
			return errUsage{errors.New(archiveUsage)}
		}
		if err := cfg.Slack.BotTokenOnly(); err != nil {
			return errUsage{fmt.Errorf("fetch-files: %w", err)}
		}
		return archiveFetchFiles(ctx, cfg, stdout, stderr)
	case "search":
		q, err := operand()
		if err != nil {
			return err
		}
		return archiveSearch(ctx, db, cfg.Archive.BaseURL, q, *asJSON, loc, stdout)
	case "serve":
		if fs.NArg() != 0 {
			return errUsage{errors.New(archiveUsage)}
		}
		return archiveServe(ctx, cfg, stderr)
	default:
		return errUsage{fmt.Errorf("unknown archive command %q\n%s", args[0], archiveUsage)}
	}
}

// interleaved moves flags before operands, so "search 'q' --json" works as
// well as "search --json 'q'" (the flag package stops at the first operand).
func interleaved(args []string) []string {
	var flags, operands []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case slices.Contains([]string{"json", "attachments"}, strings.TrimLeft(a, "-")):
			flags = append(flags, a)
		case strings.HasPrefix(a, "-") && !strings.Contains(a, "=") && i+1 < len(args):
			flags = append(flags, a, args[i+1])
			i++
		case strings.HasPrefix(a, "-"):
			flags = append(flags, a)
		default:
			operands = append(operands, a)
		}
	}
	return append(flags, operands...)
}

func archiveImport(ctx context.Context, db store.Config, zipPath string, o archive.ImportOptions, stdout io.Writer) error {
	f, err := os.Open(zipPath)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	a, err := openArchive(ctx, db)
	if err != nil {
		return err
	}
	defer a.Close()
	st, err := archive.Import(ctx, a, f, fi.Size(), o)
	if err != nil {
		return fmt.Errorf("import %s: %w", zipPath, err)
	}
	fmt.Fprintf(stdout, "imported %s: %d channels, %d users, %d day files, %d messages read, %d new\n",
		zipPath, st.Channels, st.Users, st.DayFiles, st.Messages, st.Added)
	if st.Private > 0 || st.PrivateFiles > 0 {
		fmt.Fprintf(stdout, "skipped private data: %d conversations, %d files (never imported)\n", st.Private, st.PrivateFiles)
	}
	for _, m := range st.Malformed {
		fmt.Fprintf(stdout, "file not read to its end (what came before it is imported): %s\n", m)
	}
	if st.BadValues > 0 {
		fmt.Fprintf(stdout, "values left out, unreadable (the rest of each message is imported): %d\n", st.BadValues)
		for _, p := range st.Problems {
			fmt.Fprintf(stdout, "  %s\n", p)
		}
		if more := st.BadValues - len(st.Problems); more > 0 {
			fmt.Fprintf(stdout, "  … and %d more\n", more)
		}
	}
	return nil
}

func archiveExport(ctx context.Context, db store.Config, out string, o archive.ExportOptions, stdout io.Writer) error {
	a, err := openArchiveReadOnly(ctx, db)
	if err != nil {
		return err
	}
	defer a.Close()
	var st archive.ExportStats
	if _, err := archive.WriteFile(out, func(w io.Writer) (err error) {
		st, err = archive.Export(ctx, a, w, o)
		return err
	}); err != nil {
		return fmt.Errorf("export %w", err)
	}
	fmt.Fprintf(stdout, "exported %s: %d channels, %d days, %d messages (%d hidden at their authors' request, left out)\n",
		out, st.Channels, st.Days, st.Messages, st.Hidden)
	if st.Files > 0 {
		fmt.Fprintf(stdout, "files kept by the archive, included under __uploads/: %d\n", st.Files)
	}
	return nil
}

func archiveExportMattermost(ctx context.Context, db store.Config, out string, o archive.MattermostOptions, stdout io.Writer) error {
	a, err := openArchiveReadOnly(ctx, db)
	if err != nil {
		return err
	}
	defer a.Close()
	var st archive.MattermostStats
	size, err := archive.WriteFile(out, func(w io.Writer) (err error) {
		st, err = archive.ExportMattermost(ctx, a, w, o)
		return err
	})
	if err != nil {
		return fmt.Errorf("export %w", err)
	}
	fmt.Fprintf(stdout, "exported %s (%s) for Mattermost team %s: %d channels, %d users, %d posts, %d replies (%d messages; %d hidden at their authors' request, left out)\n",
		out, archive.Bytes(size), o.Team, st.Channels, st.Users, st.Posts, st.Replies, st.Messages, st.Hidden)
	if st.Orphans > 0 {
		fmt.Fprintf(stdout, "threads whose first message is not in the archive, led by their first reply (marked): %d\n", st.Orphans)
	}
	if st.Split > 0 {
		fmt.Fprintf(stdout, "messages longer than Mattermost's 16,383 characters, continued in replies: %d\n", st.Split)
	}
	if o.Files != nil {
		fmt.Fprintf(stdout, "files: %d in the zip (kept in %s for the next run)\n", st.Files, o.Files.Dir)
		for _, m := range st.Missing {
			fmt.Fprintf(stdout, "  not fetched (its link stays in the message): %s\n", m)
		}
	}
	fmt.Fprintf(stdout, "next, on the Mattermost server: mmctl import upload %s; mmctl import list available; mmctl import process <the name listed>\n", filepath.Base(out))
	return nil
}

// searchLine is one result of `townhall archive search --json`.
type searchLine struct {
	Channel   string `json:"channel"`
	TS        string `json:"ts"`
	User      string `json:"user"`
	Text      string `json:"text"`
	Permalink string `json:"permalink"`
}

func archiveSearch(ctx context.Context, db store.Config, baseURL, query string, asJSON bool, loc *time.Location, stdout io.Writer) error {
	q, err := archive.ParseQuery(query, loc)
	if err != nil {
		return errUsage{err}
	}
	a, err := openArchiveReadOnly(ctx, db)
	if err != nil {
		return err
	}
	defer a.Close()
	res, err := a.Search(ctx, q)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	for _, h := range res.Hits {
		link := strings.TrimSuffix(baseURL, "/") + "/c/" + h.ChannelName + "/p" + archive.TSDigits(h.TS)
		if asJSON {
			if err := enc.Encode(searchLine{Channel: h.ChannelName, TS: h.TS, User: h.User, Text: h.Text, Permalink: link}); err != nil {
				return err
			}
			continue
		}
		fmt.Fprintf(stdout, "#%s  %s  %s\n    %s\n", h.ChannelName, h.Time().In(loc).Format("2006-01-02 15:04"), h.User,
			strings.ReplaceAll(h.Text, "\n", "\n    "))
	}
	if !asJSON && len(res.Hits) == 0 {
		fmt.Fprintln(stdout, "no messages found")
	}
	return nil
}

// archiveServe serves the web archive read-only until ctx is done.
func archiveServe(ctx context.Context, cfg config, stderr io.Writer) error {
	if cfg.Archive.Addr == "" {
		return errUsage{errors.New("TOWNHALL_ARCHIVE_ADDR: not set; say where to serve the archive, e.g. :8080")}
	}
	log := newLogger(cfg.Ops, stderr)
	a, err := openArchiveReadOnly(ctx, cfg.Store)
	if err != nil {
		return err
	}
	defer a.Close()
	h, err := web.New(cfg.Archive, a, web.Options{Location: cfg.Scheduler.Location(), Logger: log})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Archive.Addr)
	if err != nil {
		return fmt.Errorf("TOWNHALL_ARCHIVE_ADDR: %w", err)
	}
	srv := web.NewServer(cfg.Archive, h)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(web.LimitListener(cfg.Archive, ln)) }()
	log.Info("serving the web archive read-only", "addr", cfg.Archive.Addr)
	select {
	case err := <-errc:
		return fmt.Errorf("TOWNHALL_ARCHIVE_ADDR: %w", err)
	case <-ctx.Done():
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		return srv.Shutdown(stopCtx)
	}
}

// archiveFetchFiles keeps the files and avatars of the archive, as
// `townhall archive fetch-files` does.
func archiveFetchFiles(ctx context.Context, cfg config, stdout, stderr io.Writer) error {
	a, err := openArchive(ctx, cfg.Store)
	if err != nil {
		return err
	}
	defer a.Close()
	st, err := archive.FetchFiles(ctx, cfg.Archive, a, cfg.Slack.BotClient(nil), newLogger(cfg.Ops, stderr), stderr)
	fmt.Fprintf(stdout, "files: %d kept (%s in %d blobs in %s), %d gone from Slack, %d left as links; %d messages with files, %d members' avatars looked at\n",
		st.Usage.Files, archive.Bytes(st.Usage.Bytes), st.Usage.Blobs, cfg.Archive.FilesDir, st.Usage.Gone, st.Usage.Skipped, st.Messages, st.Users)
	if st.Quota {
		fmt.Fprintf(stdout, "stopped: the kept files reached TOWNHALL_ARCHIVE_FILES_QUOTA (%s); raise it and run fetch-files again to go on\n", cfg.Archive.FilesQuota)
	}
	if err != nil {
		return fmt.Errorf("fetch-files (run it again to resume): %w", err)
	}
	return nil
}
