package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	calexamples "github.com/townhall/townhall/integrations/calendar/examples"
	"github.com/townhall/townhall/integrations/feeds"
	feedexamples "github.com/townhall/townhall/integrations/feeds/examples"
	"github.com/townhall/townhall/scheduler"
	"github.com/townhall/townhall/slackapp"
	"github.com/townhall/townhall/slackapp/slacktest"
)

const shellHelp = `Type what you would type in Slack:
  /call budget review        a slash command (try /townhall help)
  @townhall help             mention the app
Shell commands:
  !jobs                      list scheduled jobs
  !run <job>                 run a scheduled job now
  !as admin | member         act as a workspace admin (default) or a member
  !in general | random       type in #general (the bot is a member) or #random (it is not)
  !help                      this help
  !quit                      leave (end of input works too)`

// shellWait bounds how long the shell waits for one line's answers.
const shellWait = 30 * time.Second

// shell runs the real app, wired as in run, against an in-process fake
// Slack workspace, and lets the user type commands at it.
func shell(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer) error {
	cfg, err := loadConfig(false)
	if err != nil {
		return errUsage{err}
	}
	if _, set := os.LookupEnv("TOWNHALL_LOG_LEVEL"); !set {
		cfg.Ops.LogLevel = "warn" // keep the conversation readable
	}
	log := newLogger(cfg.Ops, stderr)

	ws, err := slacktest.Start(slacktest.WithLogger(log.With("component", "slacktest")))
	if err != nil {
		return fmt.Errorf("start fake workspace: %w", err)
	}
	defer ws.Close()
	dir, err := os.MkdirTemp("", "townhall-shell-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	cfg.Slack.AppToken = slackapp.Secret(ws.AppToken())
	cfg.Slack.BotToken = slackapp.Secret(ws.BotToken())
	cfg.Slack.APIURL = ws.APIURL()
	cfg.Store.DatabasePath = filepath.Join(dir, "townhall.db")
	cfg.Ops.HTTPAddr = ""
	demos, stopDemos, err := shellDemos(&cfg, dir)
	if err != nil {
		return err
	}
	defer stopDemos()

	a, err := newApp(ctx, cfg, deps{Logger: log})
	if err != nil {
		return err
	}
	appCtx, stopApp := context.WithCancel(ctx)
	defer stopApp()
	appErr := make(chan error, 1)
	go func() { appErr <- a.run(appCtx) }()

	waitCtx, cancel := context.WithTimeout(ctx, shellWait)
	err = a.rt.WaitConnected(waitCtx)
	cancel()
	if err != nil {
		stopApp()
		return errors.Join(fmt.Errorf("townhall did not connect to the fake workspace: %w", err), <-appErr)
	}

	sh := &shellSession{ws: ws, app: a, out: stdout, user: slacktest.AdminID, channel: slacktest.GeneralID}
	interactive := isTerminal(stdin)
	if interactive {
		fmt.Fprintln(stdout, "townhall shell: a fake Slack workspace with you as @admin in #general.")
		for _, d := range demos {
			fmt.Fprintln(stdout, d)
		}
		fmt.Fprintln(stdout, shellHelp)
	}
	sc := bufio.NewScanner(stdin)
	for {
		if interactive {
			fmt.Fprint(stdout, "> ")
		}
		if !sc.Scan() {
			break
		}
		line := strings.TrimSpace(sc.Text())
		if line == "!quit" || line == "exit" {
			break
		}
		if err := sh.line(ctx, line); err != nil {
			fmt.Fprintln(stdout, "!", err)
		}
		if ctx.Err() != nil {
			break
		}
	}
	stopApp()
	if err := <-appErr; err != nil {
		return err
	}
	return sc.Err()
}

// shellDemos switches on, with sample data, the integrations that need no
// credentials and that the environment does not configure, so every
// command can be tried at once. It returns a line about each, and a stop
// function for what it started.
func shellDemos(cfg *config, dir string) ([]string, func(), error) {
	var lines []string
	stop := func() {}
	if _, set := os.LookupEnv("TOWNHALL_CALENDAR_ENABLED"); !set {
		path := filepath.Join(dir, "community.ics")
		if err := os.WriteFile(path, calexamples.CommunityICS, 0o600); err != nil {
			return nil, stop, err
		}
		cfg.Calendar.Enabled = true
		cfg.Calendar.Sources = "ics:" + path + "=" + slacktest.GeneralID
		lines = append(lines, "calendar: a sample community calendar feeds #general; try /events week, or !run calendar.reminders")
	}
	if _, set := os.LookupEnv("TOWNHALL_FEEDS_ENABLED"); !set {
		// A sample feed served on loopback, as a website would serve it.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, stop, err
		}
		mux := http.NewServeMux()
		mux.HandleFunc("GET /community.rss", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
			http.ServeContent(w, r, "community.rss", time.Time{}, bytes.NewReader(feedexamples.CommunityRSS))
		})
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = srv.Serve(ln) }() // returns ErrServerClosed at stop
		stop = func() { srv.Close() }
		feed := "http://" + ln.Addr().String() + "/community.rss"
		cfg.Feeds.Enabled = true
		cfg.Feeds.Sources = feeds.SourceList(feed + " -> " + slacktest.GeneralID)
		cfg.Feeds.AllowPrivate = true // the sample feed is served on loopback
		lines = append(lines, "feeds: #general follows a sample feed at "+feed+"; try /feed list, or !run feeds.rss")
	}
	return lines, stop, nil
}

// shellSession is one user typing into the fake workspace.
type shellSession struct {
	ws      *slacktest.Server
	app     *app
	out     io.Writer
	user    string
	channel string
	seen    int // posts already printed
}

func (s *shellSession) line(ctx context.Context, line string) error {
	ctx, cancel := context.WithTimeout(ctx, shellWait)
	defer cancel()
	switch {
	case line == "":
		return nil
	case line == "!help":
		fmt.Fprintln(s.out, shellHelp)
		return nil
	case line == "!jobs":
		st := s.app.sched.Status()
		if len(st) == 0 {
			fmt.Fprintln(s.out, "(no scheduled jobs: no enabled integration has any yet)")
		}
		for _, j := range st {
			fmt.Fprintf(s.out, "%-28s %-16s next %s\n", j.Name, j.Spec, j.NextRun.Format(time.RFC3339))
		}
		return nil
	case strings.HasPrefix(line, "!run"):
		name := strings.TrimSpace(strings.TrimPrefix(line, "!run"))
		// The scheduler may be running the job on its own schedule right
		// now; wait for that run, then run it again as asked.
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			err := s.app.sched.RunNow(ctx, name)
			if !errors.Is(err, scheduler.ErrRunning) {
				if err != nil {
					return err
				}
				break
			}
			select {
			case <-tick.C:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return s.flush(ctx)
	case strings.HasPrefix(line, "!as"):
		switch strings.TrimSpace(strings.TrimPrefix(line, "!as")) {
		case "admin":
			s.user = slacktest.AdminID
		case "member":
			s.user = slacktest.MemberID
		default:
			return errors.New("usage: !as admin | member")
		}
		return nil
	case strings.HasPrefix(line, "!in"):
		switch strings.TrimPrefix(strings.TrimSpace(strings.TrimPrefix(line, "!in")), "#") {
		case "general":
			s.channel = slacktest.GeneralID
		case "random":
			s.channel = slacktest.RandomID
		default:
			return errors.New("usage: !in general | random")
		}
		return nil
	case strings.HasPrefix(line, "/"):
		name, text, _ := strings.Cut(line, " ")
		env, err := s.ws.SlashCommand(ctx, slacktest.SlashCommand{
			Command: name, Text: strings.TrimSpace(text), UserID: s.user, ChannelID: s.channel,
		})
		if err != nil {
			return err
		}
		if _, err := s.ws.WaitAck(ctx, env.ID); err != nil {
			return fmt.Errorf("townhall did not acknowledge %s: %w", name, err)
		}
		return s.flush(ctx)
	case strings.HasPrefix(line, "@townhall"):
		text := "<@" + s.app.rt.BotUserID() + ">" + strings.TrimPrefix(line, "@townhall")
		env, err := s.ws.Event(ctx, map[string]any{
			"type": "app_mention", "user": s.user, "channel": s.channel, "text": text,
			"ts": fmt.Sprintf("%d.000100", time.Now().Unix()),
		})
		if err != nil {
			return err
		}
		if _, err := s.ws.WaitAck(ctx, env.ID); err != nil {
			return fmt.Errorf("townhall did not acknowledge the mention: %w", err)
		}
		return s.flush(ctx)
	default:
		return errors.New("type a /command, @townhall …, or !help")
	}
}

// flush waits for the app to finish what the line started and prints every
// post it made.
func (s *shellSession) flush(ctx context.Context) error {
	if err := s.app.rt.WaitIdle(ctx); err != nil {
		return fmt.Errorf("still working after %s: %w", shellWait, err)
	}
	posts := s.ws.Posts()
	for _, p := range posts[s.seen:] {
		fmt.Fprintln(s.out, slacktest.Render(p))
		fmt.Fprintln(s.out)
	}
	s.seen = len(posts)
	return nil
}

// isTerminal reports whether r is an interactive terminal, so prompts are
// printed only to a person and piped runs stay clean.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
