package integrations

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/slack-go/slack"
	"github.com/townhall/townhall/scheduler"
	"github.com/townhall/townhall/slackapp"
)

// Reporter is implemented by integrations that have more to say in
// `/townhall status` than their jobs' runs: a provider in use, a source
// failing. Lines are mrkdwn, already escaped.
type Reporter interface {
	Status(ctx context.Context) []string
}

// Runtime is what the host needs of slackapp.Runtime.
type Runtime interface {
	Register(slackapp.Handlers) error
	Commands() []slackapp.Command
	Shortcuts() []slackapp.Shortcut
	IsStaff(ctx context.Context, user string) (bool, error)
	Connected() bool
	RecentErrors() []slackapp.HandlerError
}

// Scheduler is what the host needs of scheduler.Scheduler.
type Scheduler interface {
	Add(scheduler.Job) error
	Status() []scheduler.JobStatus
}

// Host serves the enabled integrations: it registers their handlers with
// the runtime and their jobs with the scheduler, and answers the app's own
// command, /townhall (help and status), and mentions of the app.
type Host struct {
	subs   []Subcommand
	rt     Runtime
	sched  Scheduler
	log    *slog.Logger
	now    func() time.Time
	loc    *time.Location
	states []state

	replicas func(ctx context.Context, when func(time.Time) string) []string
}

type state struct {
	name   string
	in     Integration // nil when disabled
	jobs   []string
	routes map[string]bool // what its handlers are routed by, to attribute errors
}

// HostOptions are the host's optional dependencies.
type HostOptions struct {
	Logger   *slog.Logger
	Now      func() time.Time
	Location *time.Location // the community's time zone, for status times
	// Replicas lists the running replicas for status, one mrkdwn line
	// each, formatting times with when; nil: status has no replicas
	// section.
	Replicas func(ctx context.Context, when func(time.Time) string) []string
}

// NewHost builds a host over a runtime and a scheduler.
func NewHost(rt Runtime, sched Scheduler, o HostOptions) *Host {
	h := &Host{rt: rt, sched: sched, log: o.Logger, now: o.Now, loc: o.Location, replicas: o.Replicas}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.loc == nil {
		h.loc = time.UTC
	}
	return h
}

// Add serves an enabled integration: its handlers are registered and its
// jobs scheduled. A name clash with another integration is an error.
func (h *Host) Add(in Integration) error {
	if err := h.rt.Register(in.Handlers()); err != nil {
		return fmt.Errorf("integration %s: %w", in.Name(), err)
	}
	st := state{name: in.Name(), in: in, routes: routesOf(in.Handlers())}
	for _, j := range in.Jobs() {
		if err := h.sched.Add(j); err != nil {
			return fmt.Errorf("integration %s: %w", in.Name(), err)
		}
		st.jobs = append(st.jobs, j.Name)
	}
	if sc, ok := in.(Subcommander); ok {
		for _, sub := range sc.Subcommands() {
			if sub.Name == "" || sub.Handler == nil || sub.Name == "help" || sub.Name == "status" {
				return fmt.Errorf("integration %s: subcommand %q needs a handler and a name other than help or status", in.Name(), sub.Name)
			}
			for _, have := range h.subs {
				if have.Name == sub.Name {
					return fmt.Errorf("integration %s: /townhall %s registered twice", in.Name(), sub.Name)
				}
			}
			h.subs = append(h.subs, sub)
			st.routes["/townhall "+sub.Name] = true
		}
	}
	h.states = append(h.states, st)
	return nil
}

// subcommand finds the subcommand text starts with (the longest name wins)
// and returns it with the rest of the text.
func (h *Host) subcommand(text string) (Subcommand, string, bool) {
	words := strings.Fields(text)
	var best Subcommand
	var rest string
	found := false
	for _, sub := range h.subs {
		name := strings.Fields(sub.Name)
		if len(name) > len(words) || (found && len(name) <= len(strings.Fields(best.Name))) {
			continue
		}
		match := true
		for i, w := range name {
			if !strings.EqualFold(w, words[i]) {
				match = false
				break
			}
		}
		if match {
			best, rest, found = sub, strings.Join(words[len(name):], " "), true
		}
	}
	return best, rest, found
}

func routesOf(h slackapp.Handlers) map[string]bool {
	routes := make(map[string]bool)
	for _, c := range h.Commands {
		routes[c.Name] = true
	}
	for _, s := range h.Shortcuts {
		routes[s.CallbackID] = true
	}
	for _, e := range h.Events {
		routes[e.Type] = true
	}
	for _, a := range h.Actions {
		routes[a.ActionID] = true
	}
	return routes
}

// Disabled records an integration that is switched off, so status can say
// so and how to switch it on.
func (h *Host) Disabled(name string) {
	h.states = append(h.states, state{name: name})
}

// Start registers the host's own command and events. Call it after every
// Add, before the runtime runs.
func (h *Host) Start() error {
	return h.rt.Register(slackapp.Handlers{
		Commands: []slackapp.Command{{
			Name:    "/townhall",
			Usage:   "help | status",
			Summary: "List what townhall can do here; staff: show each integration's health",
			Handler: slackapp.HandlerFunc(h.command),
		}},
		Events: []slackapp.Event{{Type: "app_mention", Handler: slackapp.HandlerFunc(h.mention)}},
	})
}

// Unrouted answers a command, shortcut or action no enabled integration
// handles: the manifest declares every command of the product, so this is
// usually a disabled integration.
func (h *Host) Unrouted(ctx context.Context, r *slackapp.Request) error {
	if r.Kind == slackapp.KindEvent {
		return nil
	}
	what := "That"
	if r.Command != nil {
		what = "`" + slackapp.Escape(r.Command.Command) + "`"
	}
	return r.Ephemeral(ctx, notSwitchedOn(what))
}

// notSwitchedOn is the answer to a request for something whose
// integration is off; what names it, already escaped mrkdwn.
func notSwitchedOn(what string) slackapp.Message {
	return slackapp.Message{Text: what +
		" is not switched on in this workspace. Ask your workspace staff to enable it, or try `/townhall help` to see what is."}
}

// disabled reports whether name is an integration that is switched off.
func (h *Host) disabled(name string) bool {
	for _, st := range h.states {
		if st.in == nil && strings.EqualFold(st.name, name) {
			return true
		}
	}
	return false
}

func (h *Host) command(ctx context.Context, r *slackapp.Request) error {
	switch strings.ToLower(strings.TrimSpace(r.Command.Text)) {
	case "", "help", "-h", "--help", "?":
		return r.Ephemeral(ctx, h.Help())
	case "status":
		if ok, err := h.staffOnly(ctx, r, "status"); !ok {
			return err
		}
		return r.Ephemeral(ctx, h.Status(ctx))
	}
	if sub, rest, ok := h.subcommand(r.Command.Text); ok {
		if sub.Staff {
			if ok, err := h.staffOnly(ctx, r, sub.Name); !ok {
				return err
			}
		}
		cmd := *r.Command
		cmd.Text = rest
		sr := *r
		sr.Command = &cmd
		return sub.Handler.Handle(ctx, &sr)
	}
	// "/townhall archive status" while the archive is off: the
	// subcommands of a disabled integration are not registered.
	if words := strings.Fields(r.Command.Text); len(words) > 0 && h.disabled(words[0]) {
		return r.Ephemeral(ctx, notSwitchedOn("`/townhall "+slackapp.Escape(strings.ToLower(words[0]))+"`"))
	}
	intro := fmt.Sprintf("I don't know `/townhall %s`.", slackapp.Escape(r.Command.Text))
	m := h.Help()
	m.Text = intro + " " + m.Text
	m.Blocks = append([]slack.Block{slack.NewSectionBlock(
		slack.NewTextBlockObject(slack.MarkdownType, intro+" Here is what I can do:", false, false), nil, nil)}, m.Blocks...)
	return r.Ephemeral(ctx, m)
}

// staffOnly reports whether r's user is staff, answering them politely
// when they are not or when Slack could not say.
func (h *Host) staffOnly(ctx context.Context, r *slackapp.Request, sub string) (bool, error) {
	staff, err := h.rt.IsStaff(ctx, r.UserID)
	if err != nil {
		_ = r.Ephemeral(ctx, slackapp.Message{Text: "I couldn't check whether you are staff just now; please try again in a minute."})
		return false, err
	}
	if !staff {
		return false, r.Ephemeral(ctx, slackapp.Message{Text: "Sorry, `/townhall " + sub +
			"` is for workspace staff (admins, owners, and the people listed in TOWNHALL_STAFF_USERS)."})
	}
	return true, nil
}

// mention answers a mention of the app in its thread. Every mention gets
// the help for now: "@townhall help" asks for it, and a mention the app does
// not understand deserves it.
func (h *Host) mention(ctx context.Context, r *slackapp.Request) error {
	return r.Reply(ctx, h.Help())
}

// Help lists every command and shortcut the enabled integrations
// registered, generated from the runtime's routes.
func (h *Host) Help() slackapp.Message {
	var lines []string
	for _, c := range h.rt.Commands() {
		// Usage is written like "<url | @handle>": escaped, so Slack does
		// not read it as a link.
		line := "`" + c.Name
		if c.Usage != "" {
			line += " " + slackapp.Escape(c.Usage)
		}
		line += "`"
		if c.Summary != "" {
			line += " — " + slackapp.Escape(c.Summary)
		}
		lines = append(lines, "• "+line)
		if c.Name == "/townhall" {
			for _, sub := range h.subs {
				line := "• `/townhall " + sub.Name
				if sub.Usage != "" {
					line += " " + slackapp.Escape(sub.Usage)
				}
				line += "` — " + slackapp.Escape(sub.Summary)
				if sub.Staff {
					line += " (staff)"
				}
				lines = append(lines, line)
			}
		}
	}
	var shortcuts []string
	for _, s := range h.rt.Shortcuts() {
		shortcuts = append(shortcuts, "• *"+slackapp.Escape(s.Summary)+"* (message menu ⋮ → More message shortcuts)")
	}
	text := "*What townhall can do here*\n" + strings.Join(lines, "\n")
	blocks := []slack.Block{
		slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, "What townhall can do here", true, false)),
		slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, strings.Join(lines, "\n"), false, false), nil, nil),
	}
	if len(shortcuts) > 0 {
		text += "\n*Shortcuts*\n" + strings.Join(shortcuts, "\n")
		blocks = append(blocks, slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType,
			"*Shortcuts*\n"+strings.Join(shortcuts, "\n"), false, false), nil, nil))
	}
	blocks = append(blocks, slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType,
		"Add `help` after any command for details.", false, false)))
	return slackapp.Message{Text: text, Blocks: blocks}
}

// Status describes each integration, enabled or not, its jobs' last and
// next runs and recent errors, and the Slack connection.
func (h *Host) Status(ctx context.Context) slackapp.Message {
	jobs := make(map[string]scheduler.JobStatus)
	for _, js := range h.sched.Status() {
		jobs[js.Name] = js
	}
	conn := "🟢 connected to Slack"
	if !h.rt.Connected() {
		conn = "🔴 not connected to Slack (reconnecting)"
	}
	blocks := []slack.Block{
		slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, "townhall status", false, false)),
		slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, conn, false, false)),
	}
	text := "townhall status: " + conn
	section := func(body string) {
		text += "\n" + body
		blocks = append(blocks, slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, body, false, false), nil, nil))
	}
	errs := h.rt.RecentErrors()
	owned := make(map[string]bool)
	for _, st := range h.states {
		var b strings.Builder
		if st.in == nil {
			fmt.Fprintf(&b, "⚪ *%s* — off (set `TOWNHALL_%s_ENABLED=true` to switch it on)", st.name, strings.ToUpper(st.name))
			section(b.String())
			continue
		}
		fmt.Fprintf(&b, "🟢 *%s* — on", st.name)
		for _, name := range st.jobs {
			owned[name] = true
			b.WriteString("\n" + h.jobLine(jobs[name]))
		}
		if rep, ok := st.in.(Reporter); ok {
			for _, line := range rep.Status(ctx) {
				for _, l := range strings.Split(line, "\n") {
					b.WriteString("\n    " + strings.TrimLeft(l, " "))
				}
			}
		}
		shown := 0
		for _, e := range errs {
			if st.routes[e.Route] && shown < maxErrorsShown {
				shown++
				fmt.Fprintf(&b, "\n    ⚠️ `%s` failed %s: %s", slackapp.Escape(e.Route), h.when(e.At), slackapp.Escape(truncate(e.Err, 200)))
			}
		}
		section(b.String())
	}
	// The app's own jobs (store maintenance) belong to no integration.
	var core []string
	for _, js := range h.sched.Status() {
		if !owned[js.Name] {
			core = append(core, h.jobLine(js))
		}
	}
	if len(core) > 0 {
		section("⚙️ *townhall*\n" + strings.Join(core, "\n"))
	}
	if h.replicas != nil {
		section("🖥 *replicas*\n" + strings.Join(h.replicas(ctx, h.when), "\n"))
	}
	return slackapp.Message{Text: text, Blocks: blocks}
}

// maxErrorsShown bounds the handler errors status lists per integration.
const maxErrorsShown = 3

func (h *Host) jobLine(js scheduler.JobStatus) string {
	line := fmt.Sprintf("    ⏱ `%s` (%s): ", js.Name, slackapp.Escape(js.Spec))
	switch {
	case js.Running:
		line += "running now"
	case js.LastRun.IsZero():
		line += "not run yet"
	default:
		line += "last run " + h.when(js.LastRun)
	}
	if !js.NextRun.IsZero() {
		line += ", next " + h.when(js.NextRun)
	}
	if js.LastError != "" {
		line += fmt.Sprintf("\n    ⚠️ last error %s: %s", h.when(js.LastErrorAt), slackapp.Escape(truncate(js.LastError, 200)))
	}
	return line
}

// when formats t in Slack's date syntax so each reader sees their own zone,
// with the community's zone in the fallback.
func (h *Host) when(t time.Time) string {
	return fmt.Sprintf("<!date^%d^{date_short_pretty} {time}|%s>", t.Unix(), t.In(h.loc).Format("2006-01-02 15:04 MST"))
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
