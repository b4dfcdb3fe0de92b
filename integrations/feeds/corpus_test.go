package feeds_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/townhall/townhall/integrations/feeds"
	"github.com/townhall/townhall/integrations/integrationtest"
	"github.com/townhall/townhall/slackapp/slacktest"
)

// A post as a member sees it: the title (or the post's text), the link
// and the date, in the community's zone (UTC here).
type seen struct {
	what, link, date string
	image            string // part of the picture's URL, "" for none
}

// Each document of testdata/corpus is written the way a publisher's
// software writes its feeds (see SOURCES): served as a website serves it,
// it is posted oldest first, each item once, with its title, link and
// date right, and a second poll posts nothing.
func TestCorpusFeedsPostAsPublished(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		file string
		want []seen // oldest first; "{feeds}" is the server's URL
	}{
		{"wordpress.rss", []seen{
			{"Volunteer rota for spring", "https://riversidegarden.example.org/2026/02/20/volunteer-rota/", "Feb 20, 08:15", ""},
			{"The first crocuses are out by the south gate.", "https://riversidegarden.example.org/2026/02/27/1180/", "Feb 27, 17:02", ""},
			{"Seed swap – Saturday’s the day", "https://riversidegarden.example.org/2026/03/03/seed-swap/", "Mar 3, 09:30", ""},
		}},
		{"ghost.rss", []seen{
			{"Why we ask for 20 mph", "https://journal.openstreets.example/why-20-mph/", "Feb 20, 12:00", ""},
			{"Car-free Sunday: the numbers", "https://journal.openstreets.example/car-free-sunday-numbers/", "Mar 9, 18:30", "river-road.jpg"},
		}},
		{"hugo.rss", []seen{
			{"Soldering night &amp; pizza", "https://log.hackspace.example/posts/soldering-night/", "Feb 26, 18:00", ""},
			{"Laser cutter is back", "https://log.hackspace.example/posts/laser-cutter-back/", "Mar 8, 20:10", ""},
		}},
		{"jekyll.atom", []seen{ // relative links, resolved against the feed's address
			{"Annual meeting &amp; elections", "{feeds}/2026/01/15/annual-meeting/", "Jan 15, 09:00", ""},
			{"Rent clinic moves to Thursdays", "{feeds}/2026/03/05/rent-clinic/", "Mar 5, 11:20", ""},
		}},
		{"substack.rss", []seen{
			{"Thread: your favourite corner shop", "https://neighbourhoodletter.substack.com/p/thread-your-favourite-corner-shop", "Feb 27, 07:00", ""},
			{"The bus route we nearly lost", "https://neighbourhoodletter.substack.com/p/the-bus-route-we-nearly-lost", "Mar 6, 07:00", "bus47_1024x768.jpeg"},
		}},
		{"medium.rss", []seen{
			{"Notes from our first repair café", "https://medium.com/@adaokafor/notes-from-our-first-repair-cafe-1a2b3c4d5e6f?source=rss-3f2a9c1d7e4b------2", "Feb 15, 10:01", ""},
			{"What running a food bank taught me about software", "https://medium.com/@adaokafor/what-running-a-food-bank-taught-me-9b1e2c3d4f5a?source=rss-3f2a9c1d7e4b------2", "Mar 4, 16:12", ""},
		}},
		{"youtube.atom", []seen{
			{"Story time #112", "https://www.youtube.com/watch?v=AbCdEf67890", "Feb 28, 09:30", "AbCdEf67890/hqdefault.jpg"},
			{"Local history: the canal in 1900", "https://www.youtube.com/watch?v=Qw3rTy12345", "Mar 7, 15:00", "Qw3rTy12345/hqdefault.jpg"},
		}},
		{"mastodon.rss", []seen{
			{"We need spare inner tubes (700c). @repaircafe do you have any?", "https://social.example/@bikekitchen/112050987654321098", "Mar 6, 17:45", ""},
			{"Open workshop today until 5! Bring a flat, leave with a fixed one. #bikes", "https://social.example/@bikekitchen/112061234567890123", "Mar 8, 13:05", "9a8b7c6d5e4f3a2b.jpg"},
		}},
		{"bluesky.rss", []seen{ // two posts in one minute: document order, reversed
			{"East End Mutual Aid: ", "https://bsky.app/profile/eastendaid.bsky.social/post/3lkhb3mq4de2p", "Mar 4, 18:47", ""},
			{"Volunteers: we start setting up at 9:30.", "https://bsky.app/profile/eastendaid.bsky.social/post/3lkq7wv5xyz2k", "Mar 7, 10:02", ""},
			{"Pantry is open! Fresh bread today thanks to the bakery on Mill St. [contains quote post or other embedded content]", "https://bsky.app/profile/eastendaid.bsky.social/post/3lkq7xw2abc2s", "Mar 7, 10:02", ""},
		}},
		{"pixelfed.atom", []seen{ // "No caption" is not shown
			{"parkfriends on Pixelfed: ", "https://pixel.example/p/parkfriends/680998877665544332", "Mar 1, 09:12", "pond.jpg"},
			{"Snowdrops under the old oak", "https://pixel.example/p/parkfriends/681234567890123456", "Mar 8, 16:21", "snowdrops.jpg"},
		}},
		{"peertube.rss", []seen{
			{"Council meeting, 23 February 2026", "https://tube.example.net/w/aB3cD4eF5gH6iJ7kL8mN9o", "Feb 23, 21:05", "9e8d7c6b-thumb.jpg"},
			{"Council meeting, 9 March 2026", "https://tube.example.net/w/kR7vT2pQx9mN4bW1sY6zHc", "Mar 9, 20:30", "3f1c9a2e-thumb.jpg"},
		}},
		{"podcast.rss", []seen{ // an episode without a page links to its audio
			{"Bonus: the seed catalogue", "https://anchor.fm/s/abc12345/podcast/play/86000001/https%3A%2F%2Fd3ctxlq1ktw2nl.cloudfront.net%2Fstaging%2F2026-1-21%2Fbonus.m4a", "Feb 21, 12:30", ""},
			{"Ep. 31: Potatoes, chitted", "https://podcasters.spotify.com/pod/show/allotment-hour/episodes/Ep--31-Potatoes--chitted-e2h4k6m", "Mar 5, 06:00", "1709600000000-0123456789abc.jpg"},
		}},
	} {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			b := setup(t, setupOpts{sources: "{feeds}/feed -> " + slacktest.GeneralID, tweak: func(c *feeds.Config) { c.Backfill = 20 }})
			b.feeds.fixture(t, "/feed", filepath.Join("corpus", tt.file))
			posts, err := b.run(t, feeds.JobFeed)
			if err != nil {
				t.Fatal(err)
			}
			if len(posts) != len(tt.want) {
				t.Fatalf("%d posts, want %d: %q", len(posts), len(tt.want), texts(posts))
			}
			for k, w := range tt.want {
				p, link := posts[k], strings.ReplaceAll(w.link, "{feeds}", b.feeds.URL)
				blocks := string(p.Blocks)
				if !strings.Contains(p.Text, w.what) || !strings.Contains(p.Text, "<"+link+">") {
					t.Errorf("post %d = %q, want %q and <%s>", k, p.Text, w.what, link)
				}
				// The date shows in each reader's zone (a Slack date token);
				// its fallback, in the community's, is "20 Feb 2024 12:00 UTC".
				d, err := time.Parse("Jan 2, 15:04", w.date)
				if err != nil {
					t.Fatal(err)
				}
				if fallback := d.Format("|2 Jan 2006 15:04"); !strings.Contains(blocks, "{date_short_pretty} {time}") ||
					!regexp.MustCompile(regexp.QuoteMeta(d.Format("|2 Jan "))+`\d{4}`+regexp.QuoteMeta(d.Format(" 15:04 UTC"))).MatchString(blocks) {
					t.Errorf("post %d (%s) does not show the date %q (fallback like %q): %s", k, w.what, w.date, fallback, blocks)
				}
				var bs []struct {
					Type     string `json:"type"`
					ImageURL string `json:"image_url"`
				}
				if err := json.Unmarshal(p.Blocks, &bs); err != nil {
					t.Fatal(err)
				}
				image := ""
				for _, b := range bs {
					if b.Type == "image" {
						image = b.ImageURL
					}
				}
				if (image == "") != (w.image == "") || !strings.Contains(image, w.image) {
					t.Errorf("post %d (%s) shows the picture %q, want one showing %q", k, w.what, image, w.image)
				}
			}
			if posts, err := b.run(t, feeds.JobFeed); err != nil || len(posts) != 0 {
				t.Errorf("second poll: posts %q, err %v; want nothing", texts(posts), err)
			}
		})
	}
}

// The corpus holds a SOURCES line for every document in it.
func TestCorpusHasSources(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("testdata/corpus/SOURCES")
	if err != nil {
		t.Fatal(err)
	}
	names, err := filepath.Glob("testdata/corpus/*.*")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if !strings.Contains(string(src), filepath.Base(n)+" ") {
			t.Errorf("SOURCES says nothing of %s", filepath.Base(n))
		}
	}
}

// TestOutsideCorpus runs the same checks on every document in the folder
// TOWNHALL_FEEDS_CORPUS names, or else in the real-sample corpus's feeds/
// (integrationtest.Corpus: real feeds kept outside the repository, with a
// SOURCES entry each): each is read, posted once, and a second poll posts
// nothing. Without either it is skipped.
func TestOutsideCorpus(t *testing.T) {
	t.Parallel()
	dir := os.Getenv("TOWNHALL_FEEDS_CORPUS")
	if dir == "" {
		dir = integrationtest.Corpus(t, "feeds")
	}
	names, err := filepath.Glob(filepath.Join(dir, "*.*"))
	if err != nil {
		t.Fatal(err)
	}
	if src, err := os.ReadFile(filepath.Join(dir, "SOURCES")); err == nil {
		for _, n := range names {
			if !strings.Contains(string(src), filepath.Base(n)) {
				t.Errorf("SOURCES says nothing of %s", filepath.Base(n))
			}
		}
	}
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(filepath.Base(name), func(t *testing.T) {
			t.Parallel()
			bd := setup(t, setupOpts{sources: "{feeds}/feed -> " + slacktest.GeneralID, tweak: func(c *feeds.Config) { c.Backfill = 20 }})
			bd.feeds.set("/feed", string(b), "application/xml")
			posts, err := bd.run(t, feeds.JobFeed)
			if err != nil {
				t.Fatal(err)
			}
			if len(posts) == 0 {
				t.Fatal("nothing posted")
			}
			for _, p := range posts {
				if !strings.Contains(p.Text, "<http") {
					t.Errorf("post without a link: %q", p.Text)
				}
				t.Log(p.Text)
			}
			if posts, err := bd.run(t, feeds.JobFeed); err != nil || len(posts) != 0 {
				t.Errorf("second poll: posts %q, err %v; want nothing", texts(posts), err)
			}
		})
	}
}
