package feeds_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/townhall/townhall/integrations/feeds"
	"github.com/townhall/townhall/slackapp"
	"github.com/townhall/townhall/slackapp/slacktest"
)

// TestFeedItemsCarryTheirTranslations: a source with translate:es,fr gets
// each item's translations in its thread, from what cmd/townhall hands
// over (the translate integration's TranslationReply); a source without
// gets none; a translation that fails costs the translation, never the
// item; and without translation on, such a source is refused at start-up.
func TestFeedItemsCarryTheirTranslations(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var asked []string
	fail := false
	translate := func(_ context.Context, text string, langs []string) (slackapp.Message, bool, error) {
		mu.Lock()
		defer mu.Unlock()
		asked = append(asked, strings.Join(langs, ",")+": "+text)
		if fail {
			return slackapp.Message{}, false, context.DeadlineExceeded
		}
		return slackapp.Message{Text: "🌐 es: " + text}, true, nil
	}
	b := setup(t, setupOpts{sources: "{feeds}/news.xml -> " + slacktest.GeneralID + " | translate:es,fr; {feeds}/plain.xml -> " + slacktest.GeneralID,
		translate: translate})
	b.feeds.set("/news.xml", rssDoc([2]string{"1", "Call for volunteers <!here>"}), "application/rss+xml")
	b.feeds.set("/plain.xml", rssDoc([2]string{"1", "Plain news"}), "application/rss+xml")
	posts, err := b.run(t, feeds.JobFeed)
	if err != nil {
		t.Fatal(err)
	}
	var item, reply slacktest.Post
	for _, p := range posts {
		switch {
		case p.ThreadTS != "":
			reply = p
		case strings.Contains(p.Text, "Call for volunteers"):
			item = p
		}
	}
	if len(posts) != 3 || item.TS == "" || reply.ThreadTS != item.TS || !strings.HasPrefix(reply.Text, "🌐 es: Call for volunteers") {
		t.Fatalf("posts: %q (item %s, reply in %s)", texts(posts), item.TS, reply.ThreadTS)
	}
	if len(asked) != 1 || !strings.HasPrefix(asked[0], "es,fr: ") {
		t.Errorf("asked to translate %q", asked)
	}

	fail = true
	b.feeds.set("/news.xml", rssDoc([2]string{"2", "Second call"}, [2]string{"1", "Call for volunteers <!here>"}), "application/rss+xml")
	b.clock.Add(b.cfg.Interval)
	posts, err = b.run(t, feeds.JobFeed)
	if err != nil || len(posts) != 1 || !strings.Contains(posts[0].Text, "Second call") {
		t.Fatalf("with translation failing: %v, %q", err, texts(posts))
	}

	_, err = feeds.New(b.cfg, feeds.Deps{Poster: b.env.Runtime.Poster(), Claims: b.env.Store, Cursors: b.env.Store, Settings: b.env.Store})
	if err == nil || !strings.Contains(err.Error(), "asks for translate:es,fr, but translation is off (set TOWNHALL_TRANSLATE_ENABLED=true") {
		t.Errorf("without translation: %v", err)
	}
}
