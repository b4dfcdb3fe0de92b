package digest_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/townhall/townhall/integrations"
	"github.com/townhall/townhall/integrations/digest"
	"github.com/townhall/townhall/integrations/integrationtest"
	"github.com/townhall/townhall/slackapp/slacktest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// The digest's period ends on Monday 30 November 2026 at nine.
var end = time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)

const (
	ana    = "U0ANA"
	bo     = "U0BO"
	chen   = "U0CHEN"
	nadia  = "U0NADIA"
	leaver = "U0LEAVER"
	feeder = "U0FEEDBOT"
	quiet  = "C0QUIET"
)

// ts is the Slack timestamp of a moment of the seeded week.
func ts(day, hour, minute int) string {
	return fmt.Sprintf("%d.000100", time.Date(2026, 11, day, hour, minute, 0, 0, time.UTC).Unix())
}

func workspace(t *testing.T) *slacktest.Server {
	t.Helper()
	ws := slacktest.New(t,
		slacktest.WithUser(slacktest.User{ID: ana, Name: "ana", DisplayName: "Ana"}),
		slacktest.WithUser(slacktest.User{ID: bo, Name: "bo", RealName: "Bo Berg"}),
		slacktest.WithUser(slacktest.User{ID: chen, Name: "chen"}),
		slacktest.WithUser(slacktest.User{ID: nadia, Name: "nadia", DisplayName: "Nadia <3"}),
		slacktest.WithUser(slacktest.User{ID: leaver, Name: "leaver"}),
		slacktest.WithUser(slacktest.User{ID: feeder, Name: "feedbot", IsBot: true}),
		slacktest.WithChannel(slacktest.Channel{ID: quiet, Name: "quiet", IsMember: true}),
	)
	seed(t, ws)
	return ws
}

// seed writes a week of #general (and two messages of #quiet) into the
// fake workspace's history.
func seed(t *testing.T, ws *slacktest.Server) {
	t.Helper()
	g := slacktest.GeneralID
	add := func(m slacktest.Message) string {
		if m.Channel == "" {
			m.Channel = g
		}
		return ws.AddMessage(m).TS
	}
	react := func(ts string, users ...string) {
		for _, u := range users {
			if err := ws.AddReaction(g, ts, u, "tada"); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Before the week: a question that woke up this week, and chatter.
	wiki := add(slacktest.Message{User: slacktest.MemberID, TS: ts(20, 12, 0), Text: "Where is the wiki page about onboarding?"})
	add(slacktest.Message{User: bo, TS: ts(21, 8, 0), Text: "last week's news"})

	// The week.
	add(slacktest.Message{User: chen, Subtype: "channel_join", TS: ts(23, 10, 0), Text: "<@U0CHEN> has joined the channel"})
	meetup := add(slacktest.Message{User: ana, TS: ts(24, 10, 0),
		Text: "Who's coming to the *meetup* on Friday? <!here> &amp; friends, <https://example.org/meetup|details here> — ask <@U0BO>\nsecond line"})
	for n, u := range []string{bo, chen, slacktest.MemberID} {
		add(slacktest.Message{User: u, TS: ts(24, 11, n), ThreadTS: meetup, Text: "me!"})
	}
	react(meetup, slacktest.AdminID, bo)
	release := add(slacktest.Message{User: chen, TS: ts(25, 9, 0), Text: "Release notes for v2 are up: <https://example.org/v2>"})
	add(slacktest.Message{User: ana, TS: ts(25, 9, 30), ThreadTS: release, Text: "thanks"})
	react(release, ana, bo)
	add(slacktest.Message{User: ana, TS: ts(25, 12, 0), ThreadTS: wiki, Text: "it moved"})
	add(slacktest.Message{User: bo, TS: ts(25, 12, 5), ThreadTS: wiki, Text: "here"})
	add(slacktest.Message{User: nadia, Subtype: "channel_join", TS: ts(26, 7, 0), Text: "<@U0NADIA> has joined the channel"})
	add(slacktest.Message{User: leaver, Subtype: "channel_join", TS: ts(26, 8, 0), Text: "<@U0LEAVER> has joined the channel"})
	add(slacktest.Message{User: leaver, Subtype: "channel_leave", TS: ts(26, 9, 0), Text: "<@U0LEAVER> has left the channel"})
	add(slacktest.Message{User: feeder, Subtype: "channel_join", TS: ts(26, 9, 30), Text: "<@U0FEEDBOT> has joined the channel"})
	add(slacktest.Message{User: slacktest.MemberID, TS: ts(27, 8, 0), Text: "good morning"})
	feed := add(slacktest.Message{Subtype: "bot_message", BotID: "B0FEED", TS: ts(27, 9, 0), Text: "New post on the blog"})
	react(feed, ana)
	// Last week's digest, which people liked: not news.
	digestTS := add(slacktest.Message{User: slacktest.DefaultBotUserID, BotID: slacktest.DefaultBotID, TS: ts(23, 9, 0), Text: "This week in #general"})
	react(digestTS, ana, bo, chen, slacktest.MemberID, slacktest.AdminID)

	// #quiet: two messages.
	add(slacktest.Message{Channel: quiet, User: ana, TS: ts(24, 9, 0), Text: "anyone?"})
	add(slacktest.Message{Channel: quiet, User: bo, TS: ts(24, 9, 5), Text: "no"})
}

type bundle struct {
	env   *integrationtest.Env
	ws    *slacktest.Server
	db    string
	clock *integrationtest.Clock
}

func config() digest.Config {
	return digest.Config{Enabled: true, Schedule: "0 9 * * MON", Days: 7, MinMessages: 3, Threads: 5}
}

// start runs the digest against ws with the store at db, as cmd/townhall
// wires it without the archive: the Web API source.
func start(t *testing.T, ws *slacktest.Server, db string, clock *integrationtest.Clock, cfg digest.Config) *integrationtest.Env {
	t.Helper()
	return integrationtest.Start(t, integrationtest.Options{Workspace: ws, DatabasePath: db, Now: clock.Now},
		func(e *integrationtest.Env) (integrations.Integration, error) {
			return digest.New(cfg, digest.Deps{
				Poster: e.Runtime.Poster(), Claims: e.Store, API: e.Runtime.API(), ResolveChannel: e.Runtime.ResolveChannel,
				APIPace: time.Millisecond, BotUserID: e.Runtime.BotUserID, Now: e.Now, Location: e.Location,
			})
		})
}

func setup(t *testing.T) *bundle {
	t.Helper()
	b := &bundle{ws: workspace(t), db: filepath.Join(t.TempDir(), "townhall.db"), clock: integrationtest.NewClock(end)}
	b.env = start(t, b.ws, b.db, b.clock, config())
	return b
}

func posted(posts []slacktest.Post, channel string) []slacktest.Post {
	var out []slacktest.Post
	for _, p := range posts {
		if p.Method == slacktest.MethodPostMessage && p.Channel == channel {
			out = append(out, p)
		}
	}
	return out
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run with -update to accept):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// TestWeeklyDigest runs the scheduled job over a seeded week: #general
// gets one digest that lists its busiest threads with their first lines,
// counts and permalinks, and its new members; #quiet, with two messages,
// gets none; #random, which the app is not in, gets none. A 429 on
// conversations.history is waited out.
func TestWeeklyDigest(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.ws.FailNext("conversations.history", 429, time.Second)
	posts, err := b.env.RunJob(t, digest.JobName)
	if err != nil {
		t.Fatal(err)
	}
	if len(posts) != 1 {
		for _, p := range posts {
			t.Log(slacktest.Render(p))
		}
		t.Fatalf("%d posts, want one, to #general", len(posts))
	}
	p := posts[0]
	if p.Method != slacktest.MethodPostMessage || p.Channel != slacktest.GeneralID {
		t.Fatalf("posted %s to %s, want chat.postMessage to #general", p.Method, p.Channel)
	}
	seen := slacktest.Render(p)
	golden(t, "week.golden", seen)
	for _, want := range []string{
		"This week in #general",
		"9 messages from 4 people, 2 new members",
		"*1.* Who's coming to the *meetup* on Friday? @here & friends, details here — ask @bo\n💬 3 replies · 2 reactions",
		"*2.* Release notes for v2 are up: https://example.org/v2\n💬 1 reply · 2 reactions",
		"*3.* Where is the wiki page about onboarding?\n💬 2 replies",
		"Welcome, chen and Nadia <3!",
	} {
		if !strings.Contains(seen, want) {
			t.Errorf("the digest lacks %q:\n%s", want, seen)
		}
	}
	raw := strings.NewReplacer(`\u0026`, "&", `\u003c`, "<", `\u003e`, ">").Replace(string(p.Blocks))
	if !strings.Contains(raw, "Nadia &lt;3") || !strings.Contains(raw, "@here &amp; friends") {
		t.Errorf("names and first lines are not escaped for mrkdwn:\n%s", p.Blocks)
	}
	for _, not := range []string{"<!here>", "<@U0BO>", "leaver", "feedbot", "New post on the blog", "good morning"} {
		if strings.Contains(seen, not) || strings.Contains(string(p.Blocks), not) {
			t.Errorf("the digest shows %q:\n%s", not, seen)
		}
	}
	if !strings.Contains(string(p.Blocks), "/archives/C0GENERAL/p"+strings.Replace(ts(24, 10, 0), ".", "", 1)+"|Open thread") {
		t.Errorf("the busiest thread does not link to its permalink:\n%s", p.Blocks)
	}
}

// TestRestartDoesNotPostTwice runs the job, restarts the app on the same
// database, and runs it again for the same occurrence: nothing more is
// posted. The next week's run posts again.
func TestRestartDoesNotPostTwice(t *testing.T) {
	t.Parallel()
	b := setup(t)
	posts, err := b.env.RunJob(t, digest.JobName)
	if err != nil || len(posted(posts, slacktest.GeneralID)) != 1 {
		t.Fatalf("first run: %d posts, %v", len(posts), err)
	}
	b.env.Stop(t)

	again := start(t, b.ws, b.db, b.clock, config())
	posts, err = again.RunJob(t, digest.JobName)
	if err != nil {
		t.Fatal(err)
	}
	if len(posts) != 0 {
		t.Errorf("after a restart the same digest was posted again: %d posts", len(posts))
	}
	// A week later there is news in #general again.
	b.ws.AddMessage(slacktest.Message{User: ana, Text: "one"})
	b.ws.AddMessage(slacktest.Message{User: bo, Text: "two"})
	b.ws.AddMessage(slacktest.Message{User: chen, Text: "three"})
	b.clock.Set(time.Now().Add(time.Hour))
	posts, err = again.RunJob(t, digest.JobName)
	if err != nil {
		t.Fatal(err)
	}
	if got := posted(posts, slacktest.GeneralID); len(got) != 1 || !strings.Contains(got[0].Text, "4 messages from 4 people") {
		t.Errorf("the next period: %d posts to #general, want one of 4 messages (3 new, good morning): %+v", len(got), got)
	}
}

// TestCommand: staff preview a digest (only they see it), then post it;
// a quiet channel's preview says why there is nothing; a member is
// refused.
func TestCommand(t *testing.T) {
	t.Parallel()
	b := setup(t)
	admin := slacktest.AdminID

	posts := b.env.Command(t, admin, slacktest.GeneralID, "/townhall", "digest #general")
	if len(posts) != 1 || posts[0].Method == slacktest.MethodPostMessage || posts[0].ResponseType == "in_channel" {
		t.Fatalf("preview: want one ephemeral answer, got %+v", posts)
	}
	seen := slacktest.Render(posts[0])
	for _, want := range []string{"Preview: only you can see this", "/townhall digest #general post", "This week in #general", "9 messages from 4 people"} {
		if !strings.Contains(seen, want) {
			t.Errorf("preview lacks %q:\n%s", want, seen)
		}
	}

	posts = b.env.Command(t, admin, slacktest.GeneralID, "/townhall", "digest <#C0GENERAL|general> post")
	if got := posted(posts, slacktest.GeneralID); len(got) != 1 || !strings.Contains(got[0].Text, "This week in #general") {
		t.Fatalf("post: want the digest in #general, got %+v", posts)
	}
	if last := posts[len(posts)-1]; !strings.Contains(last.Text, "Posted the digest in <#C0GENERAL>") {
		t.Errorf("post: the staff member was told %q", last.Text)
	}

	posts = b.env.Command(t, admin, slacktest.GeneralID, "/townhall", "digest #quiet")
	if len(posts) != 1 || !strings.Contains(posts[0].Text, "was quiet: 2 messages by people in the last 7 days, and a digest needs at least 3") {
		t.Errorf("quiet: got %+v", posts)
	}

	posts = b.env.Command(t, admin, slacktest.GeneralID, "/townhall", "digest #nowhere")
	if len(posts) != 1 || !strings.Contains(posts[0].Text, "nowhere") {
		t.Errorf("unknown channel: got %+v", posts)
	}

	posts = b.env.Command(t, slacktest.MemberID, slacktest.GeneralID, "/townhall", "digest #general post")
	if len(posts) != 1 || posts[0].Method == slacktest.MethodPostMessage || !strings.Contains(posts[0].Text, "is for workspace staff") {
		t.Errorf("member: want a polite refusal, got %+v", posts)
	}
}

// TestQuietWeek: with nothing but joins and two messages, no channel gets
// a digest, and the claims are confirmed (a second run asks Slack nothing
// more).
func TestQuietWeek(t *testing.T) {
	t.Parallel()
	ws := slacktest.New(t, slacktest.WithChannel(slacktest.Channel{ID: quiet, Name: "quiet", IsMember: true}))
	ws.AddMessage(slacktest.Message{Channel: quiet, User: slacktest.AdminID, Subtype: "channel_join", TS: ts(24, 9, 0)})
	ws.AddMessage(slacktest.Message{Channel: quiet, User: slacktest.AdminID, TS: ts(24, 9, 1), Text: "hello"})
	ws.AddMessage(slacktest.Message{Channel: quiet, User: slacktest.MemberID, TS: ts(24, 9, 2), Text: "hi"})
	env := start(t, ws, filepath.Join(t.TempDir(), "townhall.db"), integrationtest.NewClock(end), config())
	posts, err := env.RunJob(t, digest.JobName)
	if err != nil || len(posts) != 0 {
		t.Fatalf("a quiet week: %d posts, %v", len(posts), err)
	}
	calls := ws.Calls("conversations.history")
	if posts, err := env.RunJob(t, digest.JobName); err != nil || len(posts) != 0 {
		t.Fatalf("again: %d posts, %v", len(posts), err)
	}
	if again := ws.Calls("conversations.history"); again != calls {
		t.Errorf("a quiet channel's claim was not kept: history read again (%d calls, then %d)", calls, again)
	}
}

// TestConfiguredChannels: TOWNHALL_DIGEST_CHANNELS names the channels; an
// unknown one is an error of the run that names it, and the others still
// get theirs.
func TestConfiguredChannels(t *testing.T) {
	t.Parallel()
	ws := workspace(t)
	cfg := config()
	cfg.Channels = []string{"#general", "#nosuch"}
	env := start(t, ws, filepath.Join(t.TempDir(), "townhall.db"), integrationtest.NewClock(end), cfg)
	posts, err := env.RunJob(t, digest.JobName)
	if err == nil || !strings.Contains(err.Error(), "TOWNHALL_DIGEST_CHANNELS #nosuch") {
		t.Errorf("error = %v, want one naming #nosuch", err)
	}
	if len(posted(posts, slacktest.GeneralID)) != 1 || len(posts) != 1 {
		t.Errorf("%d posts, want the one to #general", len(posts))
	}
}
