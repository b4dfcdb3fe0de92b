package integrations_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/townhall/townhall/integrations"
	"github.com/townhall/townhall/scheduler"
	"github.com/townhall/townhall/slackapp"
	"github.com/townhall/townhall/store/sqlite"
)

// fakeRuntime stands in for slackapp.Runtime: it keeps what is registered
// and reports what the test sets.
type fakeRuntime struct {
	handlers []slackapp.Handlers
	staff    map[string]bool
	staffErr error
	errs     []slackapp.HandlerError
}

func (f *fakeRuntime) Register(h slackapp.Handlers) error {
	f.handlers = append(f.handlers, h)
	return nil
}

func (f *fakeRuntime) Commands() []slackapp.Command {
	var out []slackapp.Command
	for _, h := range f.handlers {
		out = append(out, h.Commands...)
	}
	return out
}

func (f *fakeRuntime) Shortcuts() []slackapp.Shortcut {
	var out []slackapp.Shortcut
	for _, h := range f.handlers {
		out = append(out, h.Shortcuts...)
	}
	return out
}

func (f *fakeRuntime) IsStaff(_ context.Context, user string) (bool, error) {
	return f.staff[user], f.staffErr
}
func (f *fakeRuntime) Connected() bool                       { return true }
func (f *fakeRuntime) RecentErrors() []slackapp.HandlerError { return f.errs }

// fakeIntegration is an integration made of values.
type fakeIntegration struct {
	name string
	h    slackapp.Handlers
	jobs []scheduler.Job
}

func (f fakeIntegration) Name() string                { return f.name }
func (f fakeIntegration) Handlers() slackapp.Handlers { return f.h }
func (f fakeIntegration) Jobs() []scheduler.Job       { return f.jobs }

// recorder is a Responder that keeps what it was asked to send.
type recorder struct{ replies, ephemerals []slackapp.Message }

func (r *recorder) Reply(_ context.Context, m slackapp.Message) error {
	r.replies = append(r.replies, m)
	return nil
}

func (r *recorder) Ephemeral(_ context.Context, m slackapp.Message) error {
	r.ephemerals = append(r.ephemerals, m)
	return nil
}

type testBundle struct {
	rt    *fakeRuntime
	sched *scheduler.Scheduler
	host  *integrations.Host
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	st, err := sqlite.OpenStore(t.Context(), filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	sched, err := scheduler.New(scheduler.Config{Timezone: "UTC"}, st, scheduler.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rt := &fakeRuntime{staff: map[string]bool{"U0ADMIN": true}}
	host := integrations.NewHost(rt, sched, integrations.HostOptions{})
	noop := slackapp.HandlerFunc(func(context.Context, *slackapp.Request) error { return nil })
	err = host.Add(fakeIntegration{
		name: "calendar",
		h: slackapp.Handlers{
			Commands:  []slackapp.Command{{Name: "/events", Usage: "[today | week]", Summary: "Upcoming events", Handler: noop}},
			Shortcuts: []slackapp.Shortcut{{CallbackID: "cal_share", Summary: "Share to calendar", Handler: noop}},
		},
		jobs: []scheduler.Job{{Name: "calendar.poll", Spec: "@every 5m", Run: func(context.Context, time.Time) error {
			return errors.New("calendar unreachable: <!channel>")
		}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	host.Disabled("feeds")
	if err := sched.Add(scheduler.Job{Name: "store.purge", Spec: "@daily", Run: func(context.Context, time.Time) error { return nil }}); err != nil {
		t.Fatal(err)
	}
	if err := host.Start(); err != nil {
		t.Fatal(err)
	}
	return &testBundle{rt: rt, sched: sched, host: host}
}

// townhall runs "/townhall <text>" as user and returns what was answered.
func (b *testBundle) townhall(t *testing.T, user, text string) *recorder {
	t.Helper()
	var h slackapp.Handler
	for _, hs := range b.rt.handlers {
		for _, c := range hs.Commands {
			if c.Name == "/townhall" {
				h = c.Handler
			}
		}
	}
	rec := &recorder{}
	req := &slackapp.Request{Kind: slackapp.KindCommand, UserID: user, ChannelID: "C1",
		Command: &slack.SlashCommand{Command: "/townhall", Text: text, UserID: user}, Responder: rec}
	if err := h.Handle(t.Context(), req); err != nil && b.rt.staffErr == nil {
		t.Fatal(err)
	}
	return rec
}

func TestHelpIsGeneratedFromRegistrations(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, arg := range []string{"", "help", "HELP"} {
		rec := b.townhall(t, "U0MEMBER", arg)
		if len(rec.ephemerals) != 1 || len(rec.replies) != 0 {
			t.Fatalf("%q: want one ephemeral answer, got %+v", arg, rec)
		}
		text := rec.ephemerals[0].Text
		for _, want := range []string{"`/events [today | week]` — Upcoming events", "/townhall help | status", "Share to calendar"} {
			if !strings.Contains(text, want) {
				t.Errorf("%q: help lacks %q:\n%s", arg, want, text)
			}
		}
	}
}

func TestStatus(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if err := b.sched.RunNow(t.Context(), "calendar.poll"); err == nil {
		t.Fatal("the job should fail")
	}
	b.rt.errs = []slackapp.HandlerError{{Kind: slackapp.KindCommand, Route: "/events", Err: "google said 500", At: time.Now()}}

	rec := b.townhall(t, "U0ADMIN", "status")
	if len(rec.ephemerals) != 1 {
		t.Fatalf("want one ephemeral answer, got %+v", rec)
	}
	text := rec.ephemerals[0].Text
	for _, want := range []string{
		"connected to Slack",
		"*calendar* — on", "`calendar.poll` (@every 5m)", "calendar unreachable: &lt;!channel&gt;",
		"`/events` failed", "google said 500",
		"*feeds* — off", "TOWNHALL_FEEDS_ENABLED=true",
		"*townhall*", "`store.purge`",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("status lacks %q:\n%s", want, text)
		}
	}
}

func TestStatusIsForStaff(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rec := b.townhall(t, "U0MEMBER", "status")
	if len(rec.ephemerals) != 1 || !strings.HasPrefix(rec.ephemerals[0].Text, "Sorry") {
		t.Fatalf("want a polite refusal, got %+v", rec)
	}

	b.rt.staffErr = errors.New("users.info: ratelimited")
	rec = b.townhall(t, "U0ADMIN", "status")
	if len(rec.ephemerals) != 1 || !strings.Contains(rec.ephemerals[0].Text, "try again") {
		t.Fatalf("want a friendly error, got %+v", rec)
	}
}

func TestUnknownSubcommandShowsHelp(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rec := b.townhall(t, "U0MEMBER", "<!here> frob")
	text := rec.ephemerals[0].Text
	if !strings.Contains(text, "I don't know `/townhall &lt;!here&gt; frob`") || !strings.Contains(text, "/events") {
		t.Errorf("got %q", text)
	}
}

func TestSubcommandOfADisabledIntegration(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.host.Disabled("archive")
	for _, text := range []string{"archive status", "Archive join now", "feeds"} {
		rec := b.townhall(t, "U0ADMIN", text)
		word := strings.ToLower(strings.Fields(text)[0])
		want := "`/townhall " + word + "` is not switched on in this workspace."
		if len(rec.ephemerals) != 1 || !strings.HasPrefix(rec.ephemerals[0].Text, want) {
			t.Errorf("%q: want %q, got %+v", text, want, rec.ephemerals)
		}
	}
}

func TestUnrouted(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rec := &recorder{}
	req := &slackapp.Request{Kind: slackapp.KindCommand, Command: &slack.SlashCommand{Command: "/feed"}, Responder: rec}
	if err := b.host.Unrouted(t.Context(), req); err != nil {
		t.Fatal(err)
	}
	if len(rec.ephemerals) != 1 || !strings.Contains(rec.ephemerals[0].Text, "`/feed` is not switched on") {
		t.Errorf("got %+v", rec)
	}
}

// subIntegration adds /townhall subcommands.
type subIntegration struct {
	fakeIntegration
	subs []integrations.Subcommand
}

func (s subIntegration) Subcommands() []integrations.Subcommand { return s.subs }

func TestSubcommands(t *testing.T) {
	t.Parallel()
	b := setup(t)
	answer := func(prefix string) slackapp.Handler {
		return slackapp.HandlerFunc(func(ctx context.Context, r *slackapp.Request) error {
			return r.Ephemeral(ctx, slackapp.Message{Text: prefix + "[" + r.Command.Text + "]"})
		})
	}
	err := b.host.Add(subIntegration{fakeIntegration: fakeIntegration{name: "archive"}, subs: []integrations.Subcommand{
		{Name: "archive", Usage: "…", Summary: "About the archive", Handler: answer("archive")},
		{Name: "archive join", Summary: "Join every public channel", Staff: true, Handler: answer("join")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ user, text, want string }{
		{"U0MEMBER", "archive optout", "archive[optout]"},
		{"U0MEMBER", "Archive", "archive[]"},
		{"U0ADMIN", "archive join  now", "join[now]"},
		{"U0MEMBER", "archive join", "Sorry, `/townhall archive join` is for workspace staff"},
	} {
		rec := b.townhall(t, tc.user, tc.text)
		if len(rec.ephemerals) != 1 || !strings.HasPrefix(rec.ephemerals[0].Text, tc.want) {
			t.Errorf("%s %q: want %q, got %+v", tc.user, tc.text, tc.want, rec.ephemerals)
		}
	}
	help := b.townhall(t, "U0MEMBER", "help").ephemerals[0].Text
	if !strings.Contains(help, "`/townhall archive join` — Join every public channel (staff)") {
		t.Errorf("help lacks the subcommand:\n%s", help)
	}
	dup := subIntegration{fakeIntegration: fakeIntegration{name: "other"}, subs: []integrations.Subcommand{{Name: "archive", Handler: answer("")}}}
	if err := b.host.Add(dup); err == nil {
		t.Error("a subcommand registered twice must be refused")
	}
}
