// Command townhall is a self-hosted Slack app: video-call links, calendar
// reminders, feeds, translation and a public archive, served over Socket
// Mode from one binary.
//
//	townhall [run]   connect to Slack and serve (the default)
//	townhall shell   try every command against an in-process fake workspace
//	townhall check   validate the configuration and print it, secrets redacted
//	townhall healthcheck   exit 0 if the running townhall's /healthz answers (for Docker)
//	townhall archive …     import, export, search and serve the archive (see townhall archive)
//	townhall migrate --to postgres://…   copy the SQLite database into PostgreSQL
//
// main only wires things together; it owns no behaviour of its own.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/kelseyhightower/envconfig"
	"github.com/townhall/townhall/slackapp"

	_ "time/tzdata" // TOWNHALL_TIMEZONE works in a scratch image with no zoneinfo
)

// errUsage marks errors that exit with status 2: bad configuration or a
// bad command line.
type errUsage struct{ err error }

func (e errUsage) Error() string { return e.err.Error() }
func (e errUsage) Unwrap() error { return e.err }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "townhall:", err)
		var u errUsage
		if errors.As(err, &u) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

const usage = `usage: townhall [run | shell | check | healthcheck | archive | migrate | help]

  run     connect to Slack by Socket Mode and serve (default)
  shell   run townhall against an in-process fake Slack workspace; no credentials needed
  check   validate the configuration and print it with secrets redacted
  healthcheck  ask a running townhall's TOWNHALL_HTTP_ADDR /healthz (for Docker's HEALTHCHECK)
  archive import|export|search|serve   the archive's offline tools (townhall archive for details)
  migrate --to postgres://…   copy the SQLite database (store and archive) into PostgreSQL

Configuration is read from environment variables; see README.md.`

// run is the whole program: it reads the environment (envconfig reads the
// process environment), runs the subcommand, and returns when ctx is
// cancelled or the subcommand ends.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd := "run"
	if len(args) > 0 {
		cmd = args[0]
	}
	switch cmd {
	case "archive":
		return archiveCommand(ctx, args[1:], stdout, stderr)
	case "migrate":
		return migrateCommand(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 1 {
		return errUsage{fmt.Errorf("%s takes no arguments\n%s", cmd, usage)}
	}
	switch cmd {
	case "run":
		return serve(ctx, stderr)
	case "shell":
		return shell(ctx, stdin, stdout, stderr)
	case "check":
		return check(ctx, stdout)
	case "healthcheck":
		return healthcheck(ctx)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	default:
		return errUsage{fmt.Errorf("unknown command %q\n%s", cmd, usage)}
	}
}

func serve(ctx context.Context, stderr io.Writer) error {
	cfg, err := loadConfig(true)
	if err == nil {
		err = checkCredentials(ctx, &cfg)
	}
	if err != nil {
		return errUsage{err}
	}
	log := newLogger(cfg.Ops, stderr)
	a, err := newApp(ctx, cfg, deps{Logger: log})
	if err != nil {
		return err
	}
	log.Info("townhall starting", "api_url", slackapp.RedactURL(cfg.Slack.APIURL), "database", cfg.Store.String(),
		"timezone", cfg.Scheduler.Timezone)
	return a.run(ctx)
}

func check(ctx context.Context, stdout io.Writer) error {
	cfg, err := loadConfig(true)
	printConfig(stdout, &cfg)
	if err = errors.Join(err, checkCredentials(ctx, &cfg)); err != nil {
		return errUsage{err}
	}
	if cfg.Translate.Enabled {
		fmt.Fprintln(stdout, "# translation provider:", redactURLs(cfg.Translate.Describe()))
	}
	fmt.Fprintln(stdout, "# database:", cfg.Store.String())
	if cfg.Archive.Enabled {
		fmt.Fprintln(stdout, "# archive:", archiveBackend(cfg.Store))
	}
	fmt.Fprintln(stdout, "# configuration OK")
	return nil
}

// healthcheck asks the running process's /healthz on TOWNHALL_HTTP_ADDR.
// The Docker image has no shell or curl, so the binary checks itself.
func healthcheck(ctx context.Context) error {
	var ops opsConfig
	if err := envconfig.Process("TOWNHALL", &ops); err != nil {
		return errUsage{parseError(err)}
	}
	if ops.HTTPAddr == "" {
		return errUsage{fmt.Errorf("TOWNHALL_HTTP_ADDR: not set; the health check needs the HTTP listener")}
	}
	host, port, err := net.SplitHostPort(ops.HTTPAddr)
	if err != nil {
		return errUsage{fmt.Errorf("TOWNHALL_HTTP_ADDR: %w", err)}
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("health check: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("health check: %s", resp.Status)
	}
	return nil
}
