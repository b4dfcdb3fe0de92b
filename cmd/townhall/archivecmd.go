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
	"strings"
	"time"

	"github.com/townhall/townhall/integrations/archive"
	"github.com/townhall/townhall/integrations/archive/sqlitearchive"
	"github.com/townhall/townhall/integrations/archive/web"
)

const archiveUsage = `usage: townhall archive <command>

  import EXPORT.zip                                  import a Slack export (idempotent; private data skipped)
  export OUT.zip [--since YYYY-MM-DD] [--channels a,b]  write the archive as a Slack export
  search 'QUERY' [--json]                            search the archive (in:#channel from:@user before: after: on:)
  serve                                              serve the web archive read-only on TOWNHALL_ARCHIVE_ADDR, no Slack tokens needed

The archive is read from TOWNHALL_DATABASE_PATH.`

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
	if err := fs.Parse(interleaved(args[1:])); err != nil {
		return errUsage{fmt.Errorf("%w\n%s", err, archiveUsage)}
	}
	operand := func() (string, error) {
		if fs.NArg() != 1 {
			return "", errUsage{fmt.Errorf("%s needs one argument\n%s", args[0], archiveUsage)}
		}
		return fs.Arg(0), nil
	}
	path := cfg.Store.DatabasePath
	loc := cfg.Scheduler.Location()

	switch args[0] {
	case "import":
		zipPath, err := operand()
		if err != nil {
			return err
		}
		return archiveImport(ctx, path, zipPath, archive.ImportOptions{Progress: stderr, Limits: cfg.Archive.ImportLimits()}, stdout)
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
		return archiveExport(ctx, path, out, o, stdout)
	case "search":
		q, err := operand()
		if err != nil {
			return err
		}
		return archiveSearch(ctx, path, cfg.Archive.BaseURL, q, *asJSON, loc, stdout)
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
		case a == "--json" || a == "-json":
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

func archiveImport(ctx context.Context, dbPath, zipPath string, o archive.ImportOptions, stdout io.Writer) error {
	f, err := os.Open(zipPath)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	a, err := sqlitearchive.Open(ctx, dbPath)
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

func archiveExport(ctx context.Context, dbPath, out string, o archive.ExportOptions, stdout io.Writer) (err error) {
	a, err := sqlitearchive.OpenReadOnly(ctx, dbPath)
	if err != nil {
		return err
	}
	defer a.Close()
	// The export is written beside out and renamed into place when it is
	// complete: a failed export leaves no file (and no empty zip) behind.
	f, err := os.CreateTemp(filepath.Dir(out), ".export-*.zip")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // a no-op once renamed
	st, err := archive.Export(ctx, a, f, o)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), out)
	}
	if err != nil {
		return fmt.Errorf("export %s: %w", out, err)
	}
	fmt.Fprintf(stdout, "exported %s: %d channels, %d days, %d messages (%d hidden at their authors' request, left out)\n",
		out, st.Channels, st.Days, st.Messages, st.Hidden)
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

func archiveSearch(ctx context.Context, dbPath, baseURL, query string, asJSON bool, loc *time.Location, stdout io.Writer) error {
	q, err := archive.ParseQuery(query, loc)
	if err != nil {
		return errUsage{err}
	}
	a, err := sqlitearchive.OpenReadOnly(ctx, dbPath)
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
	a, err := sqlitearchive.OpenReadOnly(ctx, cfg.Store.DatabasePath)
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
