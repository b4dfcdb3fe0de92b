package archive_test

import (
	"bytes"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/townhall/townhall/integrations/archive"
)

var mmNow = time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)

// exportMM exports a to Mattermost and validates the result.
func exportMM(t *testing.T, a archive.Archive, o archive.MattermostOptions) (*mmImport, archive.MattermostStats) {
	t.Helper()
	if o.Team == "" {
		o.Team = "community"
	}
	o.Now = func() time.Time { return mmNow }
	o.TempDir = t.TempDir()
	var buf bytes.Buffer
	st, err := archive.ExportMattermost(t.Context(), a, &buf, o)
	if err != nil {
		t.Fatal(err)
	}
	return validateMattermost(t, buf.Bytes()), st
}

func replyTexts(p vPost) []string {
	var out []string
	if p.Replies != nil {
		for _, r := range *p.Replies {
			out = append(out, *r.Message)
		}
	}
	return out
}

func TestExportMattermost(t *testing.T) {
	t.Parallel()
	a := openArchive(t)
	ctx := t.Context()
	r := sampleExport(t)
	if _, err := archive.Import(ctx, a, r, r.Size(), archive.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	// A broadcast reply, a mention, a channel link, a link, and a message
	// by a member who opts out, with a reply of someone else's under it.
	err := errors.Join(
		a.PutUser(ctx, archive.User{ID: "U3", Name: "Carol", RealName: "Carol Quiet"}),
		a.PutUser(ctx, archive.User{ID: "U4", Name: "dan", RealName: "Dan Gone", Deleted: true}),
	)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.PutMessages(ctx, []archive.Message{
		{Channel: "C1", TS: "1700060000.000100", ThreadTS: "1699990100.000200", User: "U2", Subtype: "thread_broadcast",
			Text: "Also for everyone: see <#C2|dev> and <https://example.org/plan|the plan>, <@U1>"},
		{Channel: "C1", TS: "1700070000.000100", ThreadTS: "1700070000.000100", User: "U3", Text: "private thoughts",
			Reactions: []archive.Reaction{{Name: "+1::skin-tone-3", Count: 2, Users: []string{"U1", "U3"}}}},
		{Channel: "C1", TS: "1700070100.000100", ThreadTS: "1700070000.000100", User: "U1", Text: "answering Carol"},
		{Channel: "C1", TS: "1700080000.000100", ThreadTS: "1700080000.000100", User: "U4", Text: "soon removed"},
		{Channel: "C1", TS: "1700080100.000100", ThreadTS: "1700080000.000100", User: "U2", Text: "left behind"},
		{Channel: "C1", TS: "1700090000.000100", ThreadTS: "1600000000.000100", User: "U1", Text: "reply to a root never archived"},
		{Channel: "C1", TS: "1700090100.000100", ThreadTS: "1600000000.000100", User: "U2", Text: "me too"},
		{Channel: "C1", TS: "1700095000.000100", User: "U1", Text: "gone on request"},
	}); err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(a.SetOptOut(ctx, "U3", true), a.Remove(ctx, "C1", "1700080000.000100"), a.Remove(ctx, "C1", "1700095000.000100")); err != nil {
		t.Fatal(err)
	}

	im, st := exportMM(t, a, archive.MattermostOptions{})
	t.Logf("stats: %+v", st)

	// Channels, with their display names, headers, purposes; archived
	// ones archived.
	if g := im.Channels["general"]; *g.DisplayName != "general" || *g.Header != "All things" || *g.Purpose != "Chat" || g.DeletedAt != nil {
		t.Errorf("general = %+v", g)
	}
	if d := im.Channels["dev"]; d.DeletedAt == nil || *d.DeletedAt != mmNow.UnixMilli() {
		t.Errorf("archived #dev not archived: %+v", d)
	}

	// Members, with placeholder addresses; the opted-out member is not
	// there, a deleted one is deactivated, the bot has a user.
	if u, ok := im.Users["ada"]; !ok || *u.Email != "u1@slack.invalid" || *u.FirstName != "Ada" || *u.LastName != "Lovelace" {
		t.Errorf("ada = %+v", u)
	}
	if _, ok := im.Users["carol"]; ok {
		t.Error("an opted-out member was exported")
	}
	if u := im.Users["dan"]; u.DeleteAt == nil {
		t.Errorf("deleted member not deactivated: %+v", u)
	}
	if _, ok := im.Users["feedbot"]; !ok {
		t.Errorf("no user for the bot: %v", im.Users)
	}

	// The thread: its replies under it in order, the edit kept, the
	// broadcast among them with its mention, channel link and link
	// converted, the reaction by its member.
	root := im.post(t, "Plans for the **réunion**?")
	if got := replyTexts(root); !slices.Equal(got, []string{"Friday works", "Late reply",
		"Also for everyone: see ~dev and [the plan](https://example.org/plan), @ada"}) {
		t.Errorf("thread replies = %q", got)
	}
	if (*root.Replies)[0].EditAt == nil || *(*root.Replies)[0].EditAt != 1699990250000 {
		t.Errorf("edited reply has no edit_at: %+v", (*root.Replies)[0])
	}
	if root.Reactions == nil || len(*root.Reactions) != 1 || *(*root.Reactions)[0].User != "bob" || *(*root.Reactions)[0].EmojiName != "tada" {
		t.Errorf("reactions = %+v", root.Reactions)
	}
	if *root.CreateAt != 1699990100000 {
		t.Errorf("root create_at = %d", *root.CreateAt)
	}

	// The opted-out member's thread: their message is not there, the
	// reply of someone else leads it, marked; their reaction is gone.
	led := im.post(t, "answering Carol")
	if !strings.HasPrefix(*led.Message, "*(A reply in a thread whose first message is not in the archive.)*") || *led.User != "ada" {
		t.Errorf("reply under a hidden first message = %q by %s", *led.Message, *led.User)
	}
	for _, p := range im.Posts {
		if strings.Contains(*p.Message, "private thoughts") || strings.Contains(*p.Message, "gone on request") ||
			strings.Contains(*p.Message, "soon removed") {
			t.Errorf("a hidden or removed message was exported: %q", *p.Message)
		}
	}
	// A removed first message and a never archived one: replies kept.
	if p := im.post(t, "left behind"); replyTexts(p) != nil {
		t.Errorf("left behind: %+v", p)
	}
	if p := im.post(t, "reply to a root never archived"); !slices.Equal(replyTexts(p), []string{"me too"}) {
		t.Errorf("orphan thread = %q, replies %q", *p.Message, replyTexts(p))
	}
	if st.Orphans != 3 || st.Hidden != 1 {
		t.Errorf("stats = %+v, want 3 orphan threads and 1 hidden message", st)
	}

	// Bot message and file.
	if p := im.post(t, "New post: hello"); *p.User != "feedbot" {
		t.Errorf("bot post by %s", *p.User)
	}
	if p := im.post(t, "minutes"); !strings.Contains(*p.Message, "📎 [Minutes](https://slack/files/F1)") {
		t.Errorf("file link missing: %q", *p.Message)
	}
	// Memberships: ada wrote in #general, bob too and in #dev.
	if u := im.Users["bob"]; u.Teams == nil || len(*(*u.Teams)[0].Channels) != 2 {
		t.Errorf("bob's channels = %+v", (*u.Teams)[0].Channels)
	}

	// Every archived message not hidden is there once.
	want := 0
	for _, m := range dump(t, a) {
		if !m.Hidden {
			want++
		}
	}
	if got := len(im.Posts) + im.replies(); got != want || st.Messages != want {
		t.Errorf("exported %d posts and replies (stats %d), the archive holds %d to export", got, st.Messages, want)
	}
}

func TestExportMattermostOptions(t *testing.T) {
	t.Parallel()
	a := openArchive(t)
	ctx := t.Context()
	r := sampleExport(t)
	if _, err := archive.Import(ctx, a, r, r.Size(), archive.ImportOptions{}); err != nil {
		t.Fatal(err)
	}

	t.Run("since keeps whole threads", func(t *testing.T) {
		im, _ := exportMM(t, a, archive.MattermostOptions{Since: time.Date(2023, 11, 15, 0, 0, 0, 0, time.UTC)})
		root := im.post(t, "Plans for the **réunion**?")
		if got := replyTexts(root); !slices.Equal(got, []string{"Friday works", "Late reply"}) {
			t.Errorf("thread with a reply since then = %q", got)
		}
		for _, p := range im.Posts {
			if strings.Contains(*p.Message, "会议") {
				t.Errorf("a message from before since: %q", *p.Message)
			}
		}
	})
	t.Run("channels", func(t *testing.T) {
		im, _ := exportMM(t, a, archive.MattermostOptions{Channels: []string{"#dev"}})
		if len(im.Channels) != 1 || len(im.Posts) != 1 || *im.Posts[0].Channel != "dev" {
			t.Errorf("channels %v, %d posts", im.Channels, len(im.Posts))
		}
		var buf bytes.Buffer
		if _, err := archive.ExportMattermost(ctx, a, &buf, archive.MattermostOptions{Team: "community", Channels: []string{"nope"}}); !errors.Is(err, archive.ErrNoSuchChannel) {
			t.Errorf("unknown channel: %v", err)
		}
	})
	t.Run("bad team", func(t *testing.T) {
		for _, team := range []string{"", "Community!", "admins", "a", strings.Repeat("x", 65)} {
			var buf bytes.Buffer
			if _, err := archive.ExportMattermost(ctx, a, &buf, archive.MattermostOptions{Team: team}); !errors.Is(err, archive.ErrBadTeam) {
				t.Errorf("team %q: %v", team, err)
			}
		}
	})
}

// TestExportMattermostNames: names Mattermost would refuse become names it
// takes, distinct, and long messages are continued, not cut.
func TestExportMattermostNames(t *testing.T) {
	t.Parallel()
	a := openArchive(t)
	ctx := t.Context()
	err := errors.Join(
		a.PutChannel(ctx, archive.Channel{ID: "C1", Name: "日本語"}),
		a.PutChannel(ctx, archive.Channel{ID: "C2", Name: "Dev.Team"}),
		a.PutChannel(ctx, archive.Channel{ID: "C3", Name: "dev-team", Topic: strings.Repeat("t", 2000), Purpose: strings.Repeat("p", 400)}),
		a.PutUser(ctx, archive.User{ID: "U1", Name: "Ada Lovelace"}),
		a.PutUser(ctx, archive.User{ID: "U2", Name: "ada-lovelace"}),
		a.PutUser(ctx, archive.User{ID: "U3", Name: "channel"}),
		a.PutUser(ctx, archive.User{ID: "U4", Name: "ユーザー", DisplayName: strings.Repeat("名", 100)}),
		a.PutUser(ctx, archive.User{ID: "U5", Name: "42"}),
	)
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("word ", 8000) // 40,000 characters
	if _, err := a.PutMessages(ctx, []archive.Message{
		{Channel: "C1", TS: "1700000000.000100", User: "U1", Text: "hi"},
		{Channel: "C1", TS: "1700000000.000200", User: "U2", Text: "hi"}, // the same millisecond
		{Channel: "C1", TS: "1700000000.000300", User: "U9", Text: "by someone the archive does not know",
			Reactions: []archive.Reaction{{Name: "smile", Count: 1, Users: []string{"U8"}}}},
		{Channel: "C2", TS: "1700000001.000100", User: "U3", Text: long},
		{Channel: "C3", TS: "1700000002.000100", User: "U4", Text: "hello", ThreadTS: "1700000002.000100"},
		{Channel: "C3", TS: "1700000003.000100", User: "U5", Text: long, ThreadTS: "1700000002.000100"},
		{Channel: "C3", TS: "1700000004.000100", Text: "", Subtype: "bot_message"},
	}); err != nil {
		t.Fatal(err)
	}
	im, st := exportMM(t, a, archive.MattermostOptions{})
	var names []string
	for n := range im.Channels {
		names = append(names, n)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"c1", "dev-team", "dev-team-c3"}) {
		t.Errorf("channel names = %q", names)
	}
	if d := im.Channels["c1"]; *d.DisplayName != "日本語" {
		t.Errorf("display name = %q", *d.DisplayName)
	}
	var users []string
	for n := range im.Users {
		users = append(users, n)
	}
	slices.Sort(users)
	if !slices.Equal(users, []string{"ada-lovelace", "ada-lovelace-2", "slack-42", "slack-channel", "slack-u4", "slack-u8", "slack-u9", "slack-unknown"}) {
		t.Errorf("usernames = %q", users)
	}
	if st.Split != 2 {
		t.Errorf("split %d messages, want 2", st.Split)
	}
	p := im.post(t, "word word")
	var text strings.Builder
	text.WriteString(*p.Message)
	for _, r := range replyTexts(p) {
		text.WriteString(r)
	}
	if text.String() != long {
		t.Errorf("a long message lost text: %d characters of %d", len(text.String()), len(long))
	}
	thread := im.post(t, "hello")
	if n := len(replyTexts(thread)); n != 3 {
		t.Errorf("a long reply continued in %d replies, want 3", n)
	}
}

// TestExportMattermostCorpus: the real exports of the corpus import, then
// export to Mattermost with no message or reply lost, and pass the
// validator.
func TestExportMattermostCorpus(t *testing.T) {
	t.Parallel()
	for _, dir := range corpusExports(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			t.Parallel()
			a := openArchive(t)
			r := zipDir(t, dir)
			if _, err := archive.Import(t.Context(), a, r, r.Size(), archive.ImportOptions{}); err != nil {
				t.Fatal(err)
			}
			im, st := exportMM(t, a, archive.MattermostOptions{})
			t.Logf("stats: %+v", st)

			// The archive's threads, as reply counts, against the export's.
			msgs := dump(t, a)
			roots := map[string]bool{}
			for _, m := range msgs {
				if m.ThreadTS == m.TS {
					roots[m.Channel+m.TS] = true
				}
			}
			var want, got []int
			threads := map[string]int{}
			for _, m := range msgs {
				if m.IsReply() {
					threads[m.Channel+m.ThreadTS]++
				}
			}
			for _, n := range threads {
				want = append(want, n)
			}
			for _, p := range im.Posts {
				if n := len(replyTexts(p)); n > 0 {
					got = append(got, n)
				}
			}
			slices.Sort(want)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("threads' reply counts: exported %v, archived %v", got, want)
			}
			if n := len(im.Posts) + im.replies(); n != len(msgs) || st.Split != 0 {
				t.Errorf("exported %d posts and replies, the archive holds %d messages", n, len(msgs))
			}
			if len(im.Channels) == 0 || len(im.Users) == 0 {
				t.Errorf("%d channels, %d users", len(im.Channels), len(im.Users))
			}
		})
	}
}
