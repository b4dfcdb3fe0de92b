package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/townhall/townhall/integrations/digest"
	"github.com/townhall/townhall/slackapp/slacktest"
)

// TestDigestReadsTheArchive: with the archive on, the digest reads what
// the archive captured (a thread from before the week that woke up in it
// included, new members from its channel_join messages) and links each
// thread to its page in the web archive.
func TestDigestReadsTheArchive(t *testing.T) {
	t.Parallel()
	e := startApp(t, func(c *config) {
		c.Archive.Enabled = true
		c.Archive.CatchUpSchedule = "@every 30m"
		c.Archive.CatchUpLookback = 72 * time.Hour
		c.Archive.APIPace = time.Millisecond
		c.Archive.Title = "Community archive"
		c.Archive.BackupKeep = 7
		c.Archive.BaseURL = "https://archive.example.org/"
		c.Digest = digest.Config{Enabled: true, Schedule: "0 9 * * MON", Days: 7, MinMessages: 3, Threads: 5}
	})
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	now := time.Now()
	g := slacktest.GeneralID
	// say posts a message as its author would: the archive captures it
	// live, before say returns.
	say := func(m slacktest.Message, ago time.Duration) string {
		t.Helper()
		m.Channel, m.TS = g, fmt.Sprintf("%d.000200", now.Add(-ago).Unix())
		msg, env, err := e.ws.PostUserMessage(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.ws.WaitAck(ctx, env.ID); err != nil {
			t.Fatal(err)
		}
		if err := e.app.rt.WaitIdle(ctx); err != nil {
			t.Fatal(err)
		}
		return msg.TS
	}
	old := say(slacktest.Message{User: slacktest.MemberID, Text: "Is the <https://wiki.example.org|wiki> down?"}, 10*24*time.Hour)
	say(slacktest.Message{User: slacktest.AdminID, ThreadTS: old, Text: "it was, it's back"}, 2*24*time.Hour)
	say(slacktest.Message{User: slacktest.AdminID, Subtype: "channel_join", Text: "<@U0ADMIN> has joined the channel"}, 26*time.Hour)
	plan := say(slacktest.Message{User: slacktest.AdminID, Text: "Plans for the summer fair"}, 25*time.Hour)
	say(slacktest.Message{User: slacktest.MemberID, ThreadTS: plan, Text: "count me in"}, 24*time.Hour)
	say(slacktest.Message{User: slacktest.AdminID, ThreadTS: plan, Text: "great"}, 23*time.Hour)

	posts := e.command(t, slacktest.AdminID, g, "/townhall", "digest post")
	var digests []slacktest.Post
	for _, p := range posts {
		if p.Method == slacktest.MethodPostMessage && p.Channel == g {
			digests = append(digests, p)
		}
	}
	if len(digests) != 1 {
		t.Fatalf("want one digest in #general, got %d posts: %+v", len(posts), posts)
	}
	seen := slacktest.Render(digests[0])
	for _, want := range []string{
		"This week in #general", "4 messages from 2 people, 1 new member",
		"*1.* Plans for the summer fair\n💬 2 replies · Open thread (https://archive.example.org/c/general/p" + strings.Replace(plan, ".", "", 1) + ")",
		"*2.* Is the wiki down?\n💬 1 reply · Open thread (https://archive.example.org/c/general/p" + strings.Replace(old, ".", "", 1) + ")",
		"*New members* 👋\nWelcome, admin!",
	} {
		if !strings.Contains(seen, want) {
			t.Errorf("the digest lacks %q:\n%s", want, seen)
		}
	}

	// Status says where digests come from.
	posts = e.command(t, slacktest.AdminID, g, "/townhall", "status")
	if len(posts) != 1 || !strings.Contains(slacktest.Render(posts[0]), "read from the archive") {
		t.Errorf("status does not say the digest reads the archive:\n%v", posts)
	}
}
