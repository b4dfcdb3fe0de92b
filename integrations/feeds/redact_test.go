package feeds_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/townhall/townhall/integrations/feeds"
	"github.com/townhall/townhall/slackapp/slacktest"
)

// A private feed's address carries credentials (user:password@, ?apikey=).
// No surface shows them: /feed list, the posts and their "➕ N more" link,
// /townhall status, /feed add's answers, the logs, config errors and the
// configuration as `townhall check` prints it.
func TestFeedCredentialsAreNeverShown(t *testing.T) {
	t.Parallel()
	secrets := []string{"s3cretpw", "k3ykey123", "hunter22", "t0k3nvalue"}
	noSecret := func(t *testing.T, surface, text string) {
		t.Helper()
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("%s shows the secret %q:\n%s", surface, s, text)
			}
		}
	}
	private := "/private.xml?apikey=k3ykey123&lang=en"
	b := setup(t, setupOpts{sources: "http://alice:s3cretpw@{feeds-host}" + private + " -> " + slacktest.GeneralID,
		tweak: func(c *feeds.Config) { c.MaxItems = 1 }})
	// The feed repeats its key in its own links, as private feeds do.
	doc := func(ids ...string) string {
		var items strings.Builder
		for _, id := range ids {
			fmt.Fprintf(&items, `<item><guid>%s</guid><title>Episode %s</title><link>https://private.example/ep/%s?apikey=k3ykey123</link>`+
				`<enclosure url="https://cdn.example/ep%s.mp3?key=k3ykey123" type="audio/mpeg" length="1"/></item>`, id, id, id, id)
		}
		return `<rss version="2.0"><channel><title>Members' podcast</title><link>https://private.example/?apikey=k3ykey123</link>` + items.String() + `</channel></rss>`
	}
	b.feeds.set("/private.xml", doc("1"), "application/rss+xml")
	posts, err := b.run(t, feeds.JobFeed)
	if err != nil {
		t.Fatal(err)
	}
	b.feeds.set("/private.xml", doc("4", "3", "2", "1"), "application/rss+xml")
	more, err := b.run(t, feeds.JobFeed)
	if err != nil {
		t.Fatal(err)
	}
	posts = append(posts, more...)
	wantPosts(t, posts, slacktest.GeneralID, "Episode 1", "Episode 4", "2 more new items")
	for _, p := range posts {
		noSecret(t, "a post", p.Text+string(p.Blocks))
	}

	list := ephemeral(t, b.env.Command(t, slacktest.AdminID, slacktest.GeneralID, "/feed", "list all"))
	noSecret(t, "/feed list", list)
	if !strings.Contains(list, "`http://REDACTED@127.0.0.1") || !strings.Contains(list, "/private.xml?apikey=REDACTED&amp;lang=REDACTED`") {
		t.Errorf("/feed list does not show the redacted address:\n%s", list)
	}

	b.feeds.fail("/private.xml", http.StatusServiceUnavailable)
	b.clock.Add(b.cfg.Interval)
	if _, err := b.run(t, feeds.JobFeed); err == nil {
		t.Fatal("a failing poll reported no error")
	}
	status := b.env.Command(t, slacktest.AdminID, slacktest.GeneralID, "/townhall", "status")[0].Text
	noSecret(t, "/townhall status", status)
	if !strings.Contains(status, "HTTP 503") || !strings.Contains(status, "apikey=REDACTED") {
		t.Errorf("status does not show the failure with the redacted address:\n%s", status)
	}

	for _, add := range []string{
		strings.Replace(b.feeds.URL, "://", "://bob:hunter22@", 1) + "/missing.xml?token=t0k3nvalue", // 404
		"ftp://bob:hunter22@files.example/feed?token=t0k3nvalue",                                     // not http
	} {
		answer := ephemeral(t, b.env.Command(t, slacktest.AdminID, slacktest.GeneralID, "/feed", "add "+add))
		noSecret(t, "/feed add", answer)
		if !strings.Contains(answer, "REDACTED") {
			t.Errorf("/feed add %s answered %q, want the address redacted", add, answer)
		}
	}
	noSecret(t, "the logs", b.env.Logs.String())
	if !strings.Contains(b.env.Logs.String(), "feed poll failed") {
		t.Errorf("the failure was not logged:\n%s", b.env.Logs.String())
	}

	bad := feeds.Config{Enabled: true, Sources: "http://alice:s3cretpw@a.example/f?apikey=k3ykey123 #news; @x -> #news"}
	err = bad.Validate()
	if err == nil {
		t.Fatal("a bad entry was accepted")
	}
	noSecret(t, "a config error", err.Error())
	noSecret(t, "the printed configuration", fmt.Sprint(bad.Sources)+fmt.Sprintf("%v", bad))
	if got := bad.Sources.String(); !strings.Contains(got, "http://REDACTED@a.example/f?apikey=REDACTED #news") {
		t.Errorf("printed sources = %q", got)
	}
}
