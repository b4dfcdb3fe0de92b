package feeds_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/townhall/townhall/integrations"
	"github.com/townhall/townhall/integrations/feeds"
	"github.com/townhall/townhall/slackapp/slacktest"
)

// alerter watches the bundle's app as cmd/townhall wires it, telling the
// admin by DM.
func alerter(t *testing.T, b *testBundle) *integrations.Alerter {
	t.Helper()
	a, err := integrations.NewAlerter(integrations.AlertConfig{After: time.Hour}, integrations.AlertDeps{
		Health: b.env.Host.Health, Poster: b.env.Runtime.Poster(), Claims: b.env.Store, Settings: b.env.Store,
		Staff: func(context.Context) ([]string, error) { return []string{slacktest.AdminID}, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// check runs the alerts at the clock's time and returns what they posted.
func check(t *testing.T, b *testBundle) []slacktest.Post {
	t.Helper()
	before := len(b.env.WS.Posts())
	if err := alerter(t, b).Check(t.Context(), b.clock.Now()); err != nil {
		t.Fatal(err)
	}
	return b.env.WS.Posts()[before:]
}

// TestStaffAlertedWhenAFeedIsDownForAnHour: a feed server down for an hour
// gets one DM to staff naming it, its error and what to do; a restart
// changes nothing; its recovery one more; failing again the same day, none.
func TestStaffAlertedWhenAFeedIsDownForAnHour(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{sources: "{feeds}/blog.xml -> " + slacktest.GeneralID})
	b.feeds.set("/blog.xml", rssDoc([2]string{"1", "First"}), "application/rss+xml")
	if _, err := b.run(t, feeds.JobFeed); err != nil {
		t.Fatal(err)
	}
	start := b.clock.Now()
	b.feeds.fail("/blog.xml", http.StatusInternalServerError)
	poll := func(at time.Duration) {
		t.Helper()
		b.clock.Set(start.Add(at))
		b.run(t, feeds.JobFeed) // fails, as it should
	}
	poll(time.Minute)
	for _, at := range []time.Duration{30 * time.Minute, 60 * time.Minute} {
		poll(at)
		if posts := check(t, b); len(posts) != 0 {
			t.Fatalf("alerted %s after the first failure: %q", at-time.Minute, texts(posts))
		}
	}
	poll(61 * time.Minute)
	posts := check(t, b)
	if len(posts) != 1 || posts[0].Channel != "D0ADMIN" {
		t.Fatalf("after an hour: %+v", posts)
	}
	body := strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(string(posts[0].Blocks))
	for _, want := range []string{"🔴 The feed *", "/blog.xml", "has been failing since <!date^", "(1 h)", "*Last error:* ", "500", "*What to do:* Open the feed's address in a browser: if it moved, put its new address in `TOWNHALL_FEEDS_SOURCES`"} {
		if !strings.Contains(body, want) {
			t.Errorf("alert lacks %q: %s", want, body)
		}
	}
	if !strings.HasPrefix(posts[0].Text, "townhall: The feed ") {
		t.Errorf("notification text = %q", posts[0].Text)
	}
	poll(75 * time.Minute)
	if posts := check(t, b); len(posts) != 0 {
		t.Fatalf("alerted twice: %q", texts(posts))
	}

	b.restart(t)
	poll(80 * time.Minute) // still failing, after the restart
	if posts := check(t, b); len(posts) != 0 {
		t.Fatalf("alerted again after a restart: %q", texts(posts))
	}

	b.feeds.set("/blog.xml", rssDoc([2]string{"2", "Second"}, [2]string{"1", "First"}), "application/rss+xml")
	b.clock.Set(start.Add(3 * time.Hour)) // past its backoff
	if _, err := b.run(t, feeds.JobFeed); err != nil {
		t.Fatal(err)
	}
	posts = check(t, b)
	if len(posts) != 1 || posts[0].Channel != "D0ADMIN" || !strings.Contains(string(posts[0].Blocks), "works again, after 2 h 59 min") {
		t.Fatalf("recovery: %+v", posts)
	}
	if posts := check(t, b); len(posts) != 0 {
		t.Fatalf("recovery told twice: %q", texts(posts))
	}

	// Down again for two hours the same day: no second alert today.
	b.feeds.fail("/blog.xml", http.StatusServiceUnavailable)
	poll(3*time.Hour + time.Minute)
	poll(5 * time.Hour)
	if posts := check(t, b); len(posts) != 0 {
		t.Fatalf("a second alert the same day: %q", texts(posts))
	}
}
