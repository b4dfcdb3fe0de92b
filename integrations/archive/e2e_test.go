package archive_test

import (
	"context"
	"io"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/townhall/townhall/integrations"
	"github.com/townhall/townhall/integrations/archive"
	"github.com/townhall/townhall/integrations/archive/sqlitearchive"
	"github.com/townhall/townhall/integrations/archive/web"
	"github.com/townhall/townhall/integrations/integrationtest"
	"github.com/townhall/townhall/slackapp/slacktest"
)

const privateID = "C0PRIVATE"

// testBundle is one running app with the archive, on a database that
// survives restarts.
type testBundle struct {
	env  *integrationtest.Env
	a    *sqlitearchive.Archive
	path string
	ws   *slacktest.Server
}

func start(t *testing.T, ws *slacktest.Server, path string) *testBundle {
	t.Helper()
	return startWith(t, ws, path, func(*archive.Config) {})
}

// startWith starts the app as start does, with configure's changes to the
// archive's configuration.
func startWith(t *testing.T, ws *slacktest.Server, path string, configure func(*archive.Config)) *testBundle {
	t.Helper()
	tb := &testBundle{path: path, ws: ws}
	tb.env = integrationtest.Start(t, integrationtest.Options{Workspace: ws, DatabasePath: path},
		func(e *integrationtest.Env) (integrations.Integration, error) {
			a, err := sqlitearchive.Open(context.Background(), path)
			if err != nil {
				return nil, err
			}
			t.Cleanup(func() { a.Close() })
			tb.a = a
			cfg := archive.Config{Enabled: true, AutoJoin: true, CatchUpSchedule: "@every 30m",
				CatchUpLookback: time.Hour, BackupKeep: 7, BaseURL: "https://archive.example.org"}
			configure(&cfg)
			return archive.New(cfg,
				archive.Deps{Archive: a, API: e.Runtime.API(), IsStaff: e.Runtime.IsStaff, Now: e.Now})
		})
	return tb
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	ws := slacktest.New(t, slacktest.WithChannel(slacktest.Channel{ID: privateID, Name: "staff-only", IsPrivate: true, IsMember: true}))
	return start(t, ws, filepath.Join(t.TempDir(), "townhall.db"))
}

// settle waits until env's envelope is acknowledged and handled.
func (tb *testBundle) settle(t *testing.T, env slacktest.Envelope, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if env.ID == "" {
		return // Slack sent nothing
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, err := tb.ws.WaitAck(ctx, env.ID); err != nil {
		t.Fatal(err)
	}
	if err := tb.env.Runtime.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
}

func (tb *testBundle) post(t *testing.T, m slacktest.Message) slacktest.Message {
	t.Helper()
	out, env, err := tb.ws.PostUserMessage(t.Context(), m)
	tb.settle(t, env, err)
	return out
}

func (tb *testBundle) texts(t *testing.T, channel string) []string {
	t.Helper()
	var out []string
	err := tb.a.Each(t.Context(), channel, "", func(m archive.Message) error {
		out = append(out, m.Text)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestCaptureEndToEnd(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	ctx := t.Context()

	parent := tb.post(t, slacktest.Message{Channel: slacktest.GeneralID, User: slacktest.MemberID, Text: "Who is coming to the *réunion*?"})
	reply := tb.post(t, slacktest.Message{Channel: slacktest.GeneralID, User: slacktest.AdminID, Text: "Me!", ThreadTS: parent.TS})
	gone := tb.post(t, slacktest.Message{Channel: slacktest.GeneralID, User: slacktest.MemberID, Text: "oops wrong channel"})
	tb.post(t, slacktest.Message{Channel: privateID, User: slacktest.MemberID, Text: "private staff talk"})

	_, env, err := tb.ws.EditUserMessage(ctx, slacktest.GeneralID, reply.TS, "Me! And a friend.")
	tb.settle(t, env, err)
	env, err = tb.ws.DeleteUserMessage(ctx, slacktest.GeneralID, gone.TS)
	tb.settle(t, env, err)

	if got, want := strings.Join(tb.texts(t, slacktest.GeneralID), "|"), "Who is coming to the *réunion*?|Me! And a friend."; got != want {
		t.Fatalf("archived %q, want %q", got, want)
	}
	if got := tb.texts(t, privateID); len(got) != 0 {
		t.Fatalf("a private channel's message was stored: %q", got)
	}
	m, _, _ := tb.a.Message(ctx, slacktest.GeneralID, reply.TS)
	if m.Edited == "" || m.ThreadTS != parent.TS {
		t.Errorf("reply = %+v, want edited, in the thread", m)
	}
	if u, ok, _ := tb.a.User(ctx, slacktest.MemberID); !ok || u.RealName != "Max Member" {
		t.Errorf("author not looked up: %+v", u)
	}
	if c, _, _ := tb.a.Channel(ctx, slacktest.GeneralID); c.Name != "general" {
		t.Errorf("channel = %+v", c)
	}

	// A redelivered event and a catch-up of the same messages store nothing twice.
	if _, err := tb.env.RunJob(t, "archive.catchup"); err != nil {
		t.Fatal(err)
	}
	if s, _ := tb.a.Stats(ctx); s.Messages != 2 {
		t.Errorf("after catch-up: %d messages, want 2", s.Messages)
	}
	if got := tb.texts(t, privateID); len(got) != 0 {
		t.Fatalf("catch-up stored a private channel's message: %q", got)
	}

	// The pages show it.
	h, err := web.New(archive.Config{}, tb.a, web.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	day := archive.Message{TS: parent.TS}.Time().Format(archive.DateLayout)
	resp, err := srv.Client().Get(srv.URL + "/c/general/" + day)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	member, _, _ := tb.a.User(ctx, slacktest.MemberID)
	for _, want := range []string{"<strong>réunion</strong>", "1 reply", "Me! And a friend.", "(edited)", member.Label()} {
		if !strings.Contains(string(body), want) {
			t.Errorf("day page lacks %q", want)
		}
	}
	if strings.Contains(string(body), "oops") || strings.Contains(string(body), "private staff") {
		t.Error("the day page shows a deleted or private message")
	}
}

func TestCatchUpAfterRestart(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	parent := tb.post(t, slacktest.Message{Channel: slacktest.GeneralID, Text: "before the outage"})
	tb.env.Stop(t)

	// Said while the app was down: a new message, a reply to an old thread,
	// and a private message.
	tb.ws.AddMessage(slacktest.Message{Channel: slacktest.GeneralID, Text: "during the outage"})
	tb.ws.AddMessage(slacktest.Message{Channel: slacktest.GeneralID, Text: "late reply", ThreadTS: parent.TS})
	tb.ws.AddMessage(slacktest.Message{Channel: privateID, Text: "private during the outage"})

	tb2 := start(t, tb.ws, tb.path)
	if _, err := tb2.env.RunJob(t, "archive.catchup"); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(tb2.texts(t, slacktest.GeneralID), "|")
	if want := "before the outage|during the outage|late reply"; got != want {
		t.Errorf("after catch-up: %q, want %q", got, want)
	}
	if got := tb2.texts(t, privateID); len(got) != 0 {
		t.Errorf("private messages stored: %q", got)
	}
	if v, _ := tb2.a.State(t.Context(), archive.StateLastCatchUp); v == "" {
		t.Error("last catch-up not recorded")
	}
}

func TestCatchUpHonours429(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	tb.ws.AddMessage(slacktest.Message{Channel: slacktest.GeneralID, Text: "while rate limited"})
	tb.ws.FailNext("conversations.history", 429, time.Second)
	if _, err := tb.env.RunJob(t, "archive.catchup"); err != nil {
		t.Fatal(err)
	}
	if got := tb.texts(t, slacktest.GeneralID); len(got) != 1 {
		t.Errorf("after a 429: %q", got)
	}
}

func TestCommandsAndRemoval(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	ctx := t.Context()
	mine := tb.post(t, slacktest.Message{Channel: slacktest.GeneralID, User: slacktest.MemberID, Text: "my own words"})
	theirs := tb.post(t, slacktest.Message{Channel: slacktest.GeneralID, User: slacktest.AdminID, Text: "the admin's words"})

	posts := tb.env.Command(t, slacktest.MemberID, slacktest.GeneralID, "/townhall", "archive optout")
	if len(posts) != 1 || !posts[0].Ephemeral() || !strings.Contains(posts[0].Text, "hidden at the author's request") {
		t.Fatalf("optout answered %v", posts)
	}
	if m, _, _ := tb.a.Message(ctx, slacktest.GeneralID, mine.TS); !m.Hidden {
		t.Error("opted-out message not hidden")
	}
	tb.env.Command(t, slacktest.MemberID, slacktest.GeneralID, "/townhall", "archive optin")
	if m, _, _ := tb.a.Message(ctx, slacktest.GeneralID, mine.TS); m.Hidden {
		t.Error("opted-in message still hidden")
	}

	posts = tb.env.Command(t, slacktest.MemberID, slacktest.GeneralID, "/townhall", "archive status")
	if len(posts) != 1 || strings.Contains(posts[0].Text, "messages removed") {
		t.Fatalf("a member saw status: %v", posts)
	}
	posts = tb.env.Command(t, slacktest.AdminID, slacktest.GeneralID, "/townhall", "archive status")
	if len(posts) != 1 || !strings.Contains(posts[0].Text, "2 messages") || !strings.Contains(posts[0].Text, "Last live capture") {
		t.Fatalf("status = %v", posts)
	}

	// A member cannot remove someone else's message; the author can remove theirs.
	posts = tb.env.Shortcut(t, slacktest.MessageShortcut{CallbackID: archive.RemoveCallbackID, UserID: slacktest.MemberID,
		ChannelID: slacktest.GeneralID, MessageTS: theirs.TS, MessageText: theirs.Text, MessageUser: slacktest.AdminID})
	if len(posts) != 1 || !strings.Contains(posts[0].Text, "Only the person who wrote") {
		t.Fatalf("removal by another member answered %v", posts)
	}
	posts = tb.env.Shortcut(t, slacktest.MessageShortcut{CallbackID: archive.RemoveCallbackID, UserID: slacktest.MemberID,
		ChannelID: slacktest.GeneralID, MessageTS: mine.TS, MessageText: mine.Text, MessageUser: slacktest.MemberID})
	if len(posts) != 1 || !strings.Contains(posts[0].Text, "Removed from the archive") {
		t.Fatalf("removal by the author answered %v", posts)
	}
	if got := strings.Join(tb.texts(t, slacktest.GeneralID), "|"); got != "the admin's words" {
		t.Errorf("after removal: %q", got)
	}
	if _, err := tb.env.RunJob(t, "archive.catchup"); err != nil { // Slack still has it
		t.Fatal(err)
	}
	if got := strings.Join(tb.texts(t, slacktest.GeneralID), "|"); got != "the admin's words" {
		t.Errorf("catch-up brought a removed message back: %q", got)
	}
	// Staff may remove anyone's message.
	tb.env.Shortcut(t, slacktest.MessageShortcut{CallbackID: archive.RemoveCallbackID, UserID: slacktest.AdminID,
		ChannelID: slacktest.GeneralID, MessageTS: theirs.TS, MessageText: theirs.Text, MessageUser: slacktest.AdminID})
	if got := tb.texts(t, slacktest.GeneralID); len(got) != 0 {
		t.Errorf("after staff removal: %q", got)
	}
}

func TestJoin(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	posts := tb.env.Command(t, slacktest.AdminID, slacktest.GeneralID, "/townhall", "archive join")
	if len(posts) != 1 || !strings.Contains(posts[0].Text, "Joined 1 channel: #random") {
		t.Fatalf("join answered %v", posts)
	}
	if ch, _ := tb.ws.Channel(slacktest.RandomID); !ch.IsMember {
		t.Error("the bot did not join #random")
	}
	posts = tb.env.Command(t, slacktest.AdminID, slacktest.GeneralID, "/townhall", "archive join")
	if len(posts) != 1 || !strings.Contains(posts[0].Text, "already in every public channel") {
		t.Fatalf("second join answered %v", posts)
	}
}
