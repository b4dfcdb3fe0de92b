package feeds_test

import (
	"strings"
	"testing"

	"github.com/townhall/townhall/integrations/feeds"
	"github.com/townhall/townhall/slackapp/slacktest"
)

// Without TOWNHALL_FEEDS_ALLOW_PRIVATE, neither /feed add nor polling
// fetches a loopback, private or link-local address, and the answer is
// the same whether anything listens there or not.
func TestPrivateAddressesAreRefused(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{sources: "{feeds}/env.xml -> " + slacktest.GeneralID, tweak: func(c *feeds.Config) { c.AllowPrivate = false }})
	b.feeds.set("/env.xml", rssDoc([2]string{"1", "Internal"}), "application/rss+xml")
	b.feeds.set("/blog.xml", rssDoc([2]string{"1", "Internal"}), "application/rss+xml")

	if posts, err := b.run(t, feeds.JobFeed); err == nil || len(posts) != 0 {
		t.Fatalf("poll of a loopback feed: posts %q, err %v; want refused", texts(posts), err)
	}
	status := b.env.Command(t, slacktest.AdminID, slacktest.GeneralID, "/townhall", "status")[0].Text
	if !strings.Contains(status, "the address could not be reached") {
		t.Errorf("status = %s", status)
	}

	port := b.feeds.URL[strings.LastIndex(b.feeds.URL, ":")+1:]
	const refused = "(the address could not be reached); nothing was added."
	for _, u := range []string{
		b.feeds.URL + "/blog.xml",                  // open port
		"http://127.0.0.1:1/blog.xml",              // closed port
		"http://localhost:" + port + "/blog.xml",   // by name
		"http://[::1]:" + port + "/blog.xml",       // IPv6 loopback
		"http://0.0.0.0:" + port + "/blog.xml",     // "this host"
		"http://169.254.169.254/latest/meta-data/", // cloud metadata
		"http://10.1.2.3/feed.xml",                 // private range
	} {
		answer := ephemeral(t, b.env.Command(t, slacktest.AdminID, slacktest.GeneralID, "/feed", "add "+u))
		if !strings.HasPrefix(answer, "⚠️ I couldn't fetch ") || !strings.HasSuffix(answer, refused) {
			t.Errorf("/feed add %s answered %q, want it refused like any unreachable address", u, answer)
		}
	}
	if n, _ := b.feeds.count("/blog.xml"); n != 0 {
		t.Errorf("the loopback server was asked %d times", n)
	}
	if n, _ := b.feeds.count("/env.xml"); n != 0 {
		t.Errorf("the loopback feed was polled %d times", n)
	}
	if list := ephemeral(t, b.env.Command(t, slacktest.AdminID, slacktest.GeneralID, "/feed", "list all")); strings.Count(list, "• ") != 1 {
		t.Errorf("a refused feed was added:\n%s", list)
	}
	if !strings.Contains(b.env.Logs.String(), "private network") {
		t.Errorf("the log does not say why:\n%s", b.env.Logs.String())
	}
}

// With TOWNHALL_FEEDS_ALLOW_PRIVATE=true the same loopback feed is added
// and posted.
func TestPrivateAddressesAllowedWithTheSetting(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{tweak: func(c *feeds.Config) { c.AllowPrivate = true }})
	b.feeds.set("/blog.xml", rssDoc([2]string{"1", "Intranet news"}), "application/rss+xml")
	posts := b.env.Command(t, slacktest.AdminID, slacktest.GeneralID, "/feed", "add "+b.feeds.URL+"/blog.xml")
	if answer := ephemeral(t, posts); !strings.Contains(answer, "✅ Added") {
		t.Fatalf("answer %q", answer)
	}
	var found bool
	for _, p := range posts {
		found = found || strings.Contains(p.Text, "Intranet news")
	}
	if !found {
		t.Errorf("the first item was not posted: %q", texts(posts))
	}
}
