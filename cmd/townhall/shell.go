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
	"strconv"
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
  bonjour à tous             any other line is a message, posted as you in the channel
Shell commands:
  !press <n>                 press button <n> of the messages shown last
  !shortcut [<n>]            list the message shortcuts, or run one on the last message typed
  !react <emoji>             react to the last message typed (try !react fr)
  !jobs                      list scheduled jobs
  !run <job>                 run a scheduled job now and show what it posted
  !as admin | member         act as a workspace admin (default) or a member
  !in general | random       type in #general (the bot is a member) or #random (it is not)
  !help                      this help
  !quit                      leave (end of input and Ctrl-C work too)`

// shellWait bounds how long the shell waits for one line's answers.
const shellWait = 30 * time.Second

// shell runs the real app, wired as in run, against an in-process fake
// Slack workspace, and lets the user type at it.
func shell(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer) error {
	cfg, err := loadConfig(false)
	if err == nil {
		err = checkCredentials(ctx, &cfg)
	}
	if err != nil {
		if cfg.Translate.Enabled && strings.Contains(err.Error(), "TOWNHALL_TRANSLATE_") {
			err = fmt.Errorf("%w\n%s", err, translateHint)
		}
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
	if addr := a.boundAddr("TOWNHALL_ARCHIVE_ADDR"); addr != "" && cfg.Archive.Enabled {
		demos = append(demos, "archive: the web archive of what is said in #general is at http://"+addr+"/")
	}

	sh := &shellSession{ws: ws, app: a, out: stdout, user: slacktest.AdminID, channel: slacktest.GeneralID}
	interactive := isTerminal(stdin)
	if interactive {
		fmt.Fprintln(stdout, "townhall shell: a fake Slack workspace with you as @admin in #general.")
		for _, d := range demos {
			fmt.Fprintln(stdout, d)
		}
		if !cfg.Translate.Enabled {
			fmt.Fprintln(stdout, "translate: off; it needs a provider (see README, \"Trying it\")")
		}
		fmt.Fprintln(stdout, shellHelp)
	}

	// Lines are read in their own goroutine so that Ctrl-C (ctx) ends the
	// shell at once, not at the next Enter. At Ctrl-C the reader may stay
	// blocked reading stdin; it returns after its next line or at end of
	// input, which for the terminal is when the process exits.
	lines := make(chan string)
	readErr := make(chan error, 1)
	quit := make(chan struct{})
	defer close(quit)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdin)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-quit:
				return
			}
		}
		readErr <- sc.Err()
	}()

loop:
	for {
		if interactive {
			fmt.Fprint(stdout, "> ")
		}
		var line string
		var ok bool
		select {
		case <-ctx.Done():
			if interactive {
				fmt.Fprintln(stdout)
			}
			break loop
		case line, ok = <-lines:
		}
		if !ok {
			break
		}
		line = strings.TrimSpace(line)
		if !interactive && line != "" {
			fmt.Fprintln(stdout, "> "+line) // so a piped transcript reads like a session
		}
		if line == "!quit" || line == "exit" {
			break
		}
		err := sh.line(ctx, line)
		if ctx.Err() != nil {
			break
		}
		if err != nil {
			fmt.Fprintln(stdout, "!", err)
		}
	}
	stopApp()
	if err := <-appErr; err != nil {
		return err
	}
	select {
	case err := <-readErr:
		return err
	default:
		return nil
	}
}

// translateHint is what the shell adds when translation is switched on but
// cannot run.
const translateHint = `townhall shell: translation needs a provider. Give it one of:
  TOWNHALL_TRANSLATE_PROVIDER=deepl TOWNHALL_TRANSLATE_DEEPL_KEY=<key>   (DeepL's free API plan)
  TOWNHALL_TRANSLATE_PROVIDER=libretranslate TOWNHALL_TRANSLATE_LIBRE_URL=http://localhost:5000
                                            (docker run -p 5000:5000 libretranslate/libretranslate)
  TOWNHALL_TRANSLATE_GOOGLE_API_KEY=<key>   (or Google Application Default Credentials)
or leave TOWNHALL_TRANSLATE_ENABLED unset to try the shell without translation.`

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
	if _, set := os.LookupEnv("TOWNHALL_ARCHIVE_ENABLED"); !set {
		// The archive keeps #general (it does not join #random, so that
		// #random stays a channel the bot is not in) and serves it on
		// loopback; the shell prints the address once it is bound.
		cfg.Archive.Enabled = true
		cfg.Archive.AutoJoin = false
		cfg.Archive.Addr = "127.0.0.1:0"
		lines = append(lines, "archive: every message typed in #general is archived; try /townhall archive status")
	}
	if _, set := os.LookupEnv("TOWNHALL_DIGEST_ENABLED"); !set && cfg.Archive.Enabled {
		cfg.Digest.Enabled = true
		cfg.Digest.MinMessages = 1
		lines = append(lines, "digest: say a few things in #general, then try /townhall digest (a preview only you see)")
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
	seen    int           // posts already printed
	buttons []shownButton // the buttons of the posts printed last, numbered from 1
	last    slacktest.Message
}

// shownButton is a button the shell printed, with the post it is on.
type shownButton struct {
	post slacktest.Post
	slacktest.Button
}

func (s *shellSession) line(ctx context.Context, line string) error {
	ctx, cancel := context.WithTimeout(ctx, shellWait)
	defer cancel()
	word, arg, _ := strings.Cut(line, " ")
	arg = strings.TrimSpace(arg)
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
	case word == "!run":
		return s.run(ctx, arg)
	case word == "!press":
		return s.press(ctx, arg)
	case word == "!shortcut":
		return s.shortcut(ctx, arg)
	case word == "!react":
		return s.react(ctx, arg)
	case word == "!as":
		switch arg {
		case "admin":
			s.user = slacktest.AdminID
		case "member":
			s.user = slacktest.MemberID
		default:
			return errors.New("usage: !as admin | member")
		}
		return nil
	case word == "!in":
		switch strings.TrimPrefix(arg, "#") {
		case "general":
			s.channel = slacktest.GeneralID
		case "random":
			s.channel = slacktest.RandomID
		default:
			return errors.New("usage: !in general | random")
		}
		return nil
	case strings.HasPrefix(line, "!"):
		return fmt.Errorf("%s is not a shell command; !help lists them", word)
	case strings.HasPrefix(line, "/"):
		env, err := s.ws.SlashCommand(ctx, slacktest.SlashCommand{
			Command: word, Text: arg, UserID: s.user, ChannelID: s.channel,
		})
		if err != nil {
			return err
		}
		return s.answer(ctx, word, env)
	case word == "@townhall":
		return s.mention(ctx, strings.TrimPrefix(line, "@townhall"))
	default:
		return s.say(ctx, line)
	}
}

// say posts text as the user's message, through the message event Slack
// sends, so the archive captures it and the app reacts as it would in
// Slack.
func (s *shellSession) say(ctx context.Context, text string) error {
	msg, env, err := s.ws.PostUserMessage(ctx, slacktest.Message{Channel: s.channel, User: s.user, Text: text})
	if err != nil {
		return err
	}
	s.last = msg
	if env.ID == "" {
		fmt.Fprintf(s.out, "(townhall is not in %s, so it did not see that)\n", s.where())
		return nil
	}
	return s.answer(ctx, "the message", env)
}

// mention posts a message mentioning the app: Slack sends it as a message
// event (which the archive keeps) and as an app_mention.
func (s *shellSession) mention(ctx context.Context, rest string) error {
	text := "<@" + s.app.rt.BotUserID() + ">" + rest
	msg, env, err := s.ws.PostUserMessage(ctx, slacktest.Message{Channel: s.channel, User: s.user, Text: text})
	if err != nil {
		return err
	}
	s.last = msg
	if env.ID == "" {
		fmt.Fprintf(s.out, "(townhall is not in %s, so it did not see that; /invite it, or !in general)\n", s.where())
		return nil
	}
	if _, err := s.ws.WaitAck(ctx, env.ID); err != nil {
		return fmt.Errorf("townhall did not acknowledge the message: %w", err)
	}
	env, err = s.ws.Event(ctx, map[string]any{
		"type": "app_mention", "user": s.user, "channel": s.channel, "text": text, "ts": msg.TS,
	})
	if err != nil {
		return err
	}
	return s.answer(ctx, "the mention", env)
}

// run runs a scheduled job now and says what it posted.
func (s *shellSession) run(ctx context.Context, name string) error {
	if name == "" {
		return errors.New("usage: !run <job> (!jobs lists them)")
	}
	before := len(s.ws.Posts())
	// The scheduler may be running the job on its own schedule right now;
	// wait for that run, then run it again as asked.
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var runErr error
	for {
		runErr = s.app.sched.RunNow(ctx, name)
		if !errors.Is(runErr, scheduler.ErrRunning) {
			break
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err := s.flush(ctx); err != nil {
		return err
	}
	if runErr != nil {
		return runErr
	}
	switch n := len(s.ws.Posts()) - before; n {
	case 0:
		fmt.Fprintf(s.out, "(ran %s: it posted nothing)\n", name)
	case 1:
		fmt.Fprintf(s.out, "(ran %s: it posted 1 message)\n", name)
	default:
		fmt.Fprintf(s.out, "(ran %s: it posted %d messages)\n", name, n)
	}
	return nil
}

// press clicks button n of the posts printed last, as whoever sees it.
func (s *shellSession) press(ctx context.Context, arg string) error {
	n, err := strconv.Atoi(arg)
	switch {
	case len(s.buttons) == 0:
		return errors.New("no button to press: none of the messages shown has one")
	case err != nil || n < 1 || n > len(s.buttons):
		return fmt.Errorf("usage: !press <n>, n from 1 to %d (the numbers after the messages shown last)", len(s.buttons))
	}
	b := s.buttons[n-1]
	user := s.user
	if b.post.Ephemeral() {
		user = b.post.User // only they see the button
	}
	env, err := s.ws.BlockAction(ctx, slacktest.BlockAction{
		ActionID: b.ActionID, BlockID: b.BlockID, Value: b.Value,
		UserID: user, ChannelID: b.post.Channel, MessageTS: b.post.TS,
	})
	if err != nil {
		return err
	}
	if b.URL != "" {
		fmt.Fprintf(s.out, "(in Slack, [%s] would also open %s)\n", b.Text, b.URL)
	}
	return s.answer(ctx, "["+b.Text+"]", env)
}

// shortcut lists the message shortcuts, or runs one on the last message
// typed, chosen by number or callback ID.
func (s *shellSession) shortcut(ctx context.Context, arg string) error {
	shortcuts := s.app.rt.Shortcuts()
	if arg == "" {
		if len(shortcuts) == 0 {
			fmt.Fprintln(s.out, "(no message shortcuts: no enabled integration has one)")
			return nil
		}
		for i, sc := range shortcuts {
			fmt.Fprintf(s.out, "%d  %-20s %s\n", i+1, sc.CallbackID, sc.Summary)
		}
		fmt.Fprintln(s.out, "(!shortcut <n> runs one on the last message typed)")
		return nil
	}
	var callback string
	if n, err := strconv.Atoi(arg); err == nil && n >= 1 && n <= len(shortcuts) {
		callback = shortcuts[n-1].CallbackID
	}
	for _, sc := range shortcuts {
		if sc.CallbackID == arg {
			callback = arg
		}
	}
	if callback == "" {
		return fmt.Errorf("no shortcut %q; !shortcut lists them", arg)
	}
	if s.last.TS == "" {
		return errors.New("type a message first: a message shortcut acts on the last message typed")
	}
	env, err := s.ws.MessageShortcut(ctx, slacktest.MessageShortcut{
		CallbackID: callback, UserID: s.user, ChannelID: s.last.Channel, MessageTS: s.last.TS,
	})
	if err != nil {
		return err
	}
	return s.answer(ctx, "the shortcut", env)
}

// react adds the user's reaction to the last message typed.
func (s *shellSession) react(ctx context.Context, arg string) error {
	name := strings.Trim(arg, ":")
	if name == "" {
		return errors.New("usage: !react <emoji>, such as !react fr or !react :thumbsup:")
	}
	if s.last.TS == "" {
		return errors.New("type a message first: !react reacts to the last message typed")
	}
	env, err := s.ws.AddUserReaction(ctx, s.last.Channel, s.last.TS, s.user, name)
	if err != nil {
		return err
	}
	if env.ID == "" {
		fmt.Fprintln(s.out, "(townhall is not in that channel, so it did not see that)")
		return nil
	}
	return s.answer(ctx, "the reaction", env)
}

// answer waits for the app to acknowledge env and finish what it started,
// and prints what it posted.
func (s *shellSession) answer(ctx context.Context, what string, env slacktest.Envelope) error {
	if _, err := s.ws.WaitAck(ctx, env.ID); err != nil {
		return fmt.Errorf("townhall did not acknowledge %s: %w", what, err)
	}
	return s.flush(ctx)
}

func (s *shellSession) where() string {
	if ch, ok := s.ws.Channel(s.channel); ok {
		return "#" + ch.Name
	}
	return s.channel
}

// flush waits for the app to finish what the line started and prints every
// post it made, numbering their buttons for !press.
func (s *shellSession) flush(ctx context.Context) error {
	if err := s.app.rt.WaitIdle(ctx); err != nil {
		return fmt.Errorf("still working after %s: %w", shellWait, err)
	}
	posts := s.ws.Posts()
	var shown []shownButton
	for _, p := range posts[s.seen:] {
		fmt.Fprintln(s.out, slacktest.Render(p))
		var presses []string
		for _, b := range p.Buttons() {
			shown = append(shown, shownButton{post: p, Button: b})
			presses = append(presses, fmt.Sprintf("!press %d for [%s]", len(shown), b.Text))
		}
		if len(presses) > 0 {
			fmt.Fprintln(s.out, "("+strings.Join(presses, ", ")+")")
		}
		fmt.Fprintln(s.out)
	}
	s.seen = len(posts)
	if len(shown) > 0 {
		s.buttons = shown
	}
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
