package feeds_test

import (
	"context"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/townhall/townhall/integrations"
	"github.com/townhall/townhall/integrations/feeds"
	"github.com/townhall/townhall/integrations/feeds/xapi"
	"github.com/townhall/townhall/integrations/feeds/xapitest"
	"github.com/townhall/townhall/integrations/integrationtest"
	"github.com/townhall/townhall/slackapp"
	"github.com/townhall/townhall/slackapp/slacktest"
)

type testBundle struct {
	env   *integrationtest.Env
	feeds *feedServer
	x     *xapitest.Server
	clock *integrationtest.Clock
	in    *feeds.Integration
	cfg   feeds.Config
	db    string
	// translate is handed to the integration as Deps.Translate.
	translate func(ctx context.Context, text string, languages []string) (slackapp.Message, bool, error)
}

type setupOpts struct {
	sources   string // "{feeds}" is replaced by the feed server's URL, "{feeds-host}" by its host:port
	noXToken  bool
	tweak     func(*feeds.Config)
	translate func(ctx context.Context, text string, languages []string) (slackapp.Message, bool, error)
}

func baseConfig() feeds.Config {
	return feeds.Config{
		Enabled: true, XAPIURL: xapi.DefaultBaseURL, XInterval: 15 * time.Minute, XPageSize: 100,
		Interval: 10 * time.Minute, Backfill: 1, MaxItems: 5, MaxConcurrent: 4,
		FetchTimeout: 5 * time.Second, MaxFeedBytes: 1 << 20,
		AllowPrivate: true, // the fakes listen on loopback; TestPrivateAddressesAreRefused turns it off
	}
}

func setup(t *testing.T, o setupOpts) *testBundle {
	t.Helper()
	b := &testBundle{
		feeds:     newFeedServer(t),
		clock:     integrationtest.NewClock(time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)),
		db:        filepath.Join(t.TempDir(), "townhall.db"),
		translate: o.translate,
	}
	b.x = xapitest.New(t, xapitest.WithClock(b.clock.Now))
	b.cfg = baseConfig()
	b.cfg.Sources = feeds.SourceList(strings.NewReplacer("{feeds}", b.feeds.URL, "{feeds-host}", strings.TrimPrefix(b.feeds.URL, "http://")).Replace(o.sources))
	if !o.noXToken {
		b.cfg.XAPIURL, b.cfg.XBearerToken = b.x.URL, b.x.Token
	}
	if o.tweak != nil {
		o.tweak(&b.cfg)
	}
	b.start(t, nil)
	return b
}

// start (re)starts the app on the bundle's database, reusing ws if given.
func (b *testBundle) start(t *testing.T, ws *slacktest.Server) {
	t.Helper()
	b.env = integrationtest.Start(t, integrationtest.Options{Now: b.clock.Now, DatabasePath: b.db, Workspace: ws},
		func(e *integrationtest.Env) (integrations.Integration, error) {
			in, err := feeds.New(b.cfg, feeds.Deps{
				Poster: e.Runtime.Poster(), Claims: e.Store, Cursors: e.Store, Settings: e.Store,
				IsStaff: e.Runtime.IsStaff, ResolveChannel: e.Runtime.ResolveChannel, Now: b.clock.Now, Location: e.Location,
				Logger: slog.New(slog.NewTextHandler(e.Logs, nil)), Translate: b.translate,
			})
			b.in = in
			return in, err
		})
}

// restart stops the app and starts it again on the same database and
// workspace, as after a deploy.
func (b *testBundle) restart(t *testing.T) {
	t.Helper()
	ws := b.env.WS
	b.env.Stop(t)
	b.start(t, ws)
}

func (b *testBundle) run(t *testing.T, job string) ([]slacktest.Post, error) {
	t.Helper()
	return b.env.RunJob(t, job)
}

func texts(posts []slacktest.Post) []string {
	var out []string
	for _, p := range posts {
		out = append(out, p.Text)
	}
	return out
}

func wantPosts(t *testing.T, posts []slacktest.Post, channel string, want ...string) {
	t.Helper()
	if len(posts) != len(want) {
		t.Fatalf("got %d posts %q, want %d containing %q", len(posts), texts(posts), len(want), want)
	}
	for k, p := range posts {
		if p.Method != slacktest.MethodPostMessage || p.Channel != channel || !strings.Contains(p.Text, want[k]) {
			t.Errorf("post %d = %s %s %q, want chat.postMessage in %s containing %q", k, p.Method, p.Channel, p.Text, channel, want[k])
		}
	}
}

func TestFirstPollBackfillsThenPostsNewItemsOldestFirst(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{sources: "{feeds}/blog.xml -> " + slacktest.GeneralID})
	b.feeds.set("/blog.xml", rssDoc([2]string{"3", "Third"}, [2]string{"2", "Second"}, [2]string{"1", "First"}), "application/rss+xml")

	posts, err := b.run(t, feeds.JobFeed)
	if err != nil {
		t.Fatal(err)
	}
	wantPosts(t, posts, slacktest.GeneralID, "Third") // backfill 1: the newest only

	b.feeds.set("/blog.xml", rssDoc([2]string{"5", "Fifth"}, [2]string{"4", "Fourth"}, [2]string{"3", "Third"}, [2]string{"2", "Second"}), "application/rss+xml")
	posts, err = b.run(t, feeds.JobFeed)
	if err != nil {
		t.Fatal(err)
	}
	wantPosts(t, posts, slacktest.GeneralID, "Fourth", "Fifth")

	posts, err = b.run(t, feeds.JobFeed)
	if err != nil || len(posts) != 0 {
		t.Fatalf("unchanged feed: posts %q, err %v", texts(posts), err)
	}
	if req, cond := b.feeds.count("/blog.xml"); req != 3 || cond != 2 {
		t.Errorf("requests %d (conditional %d), want 3 (2)", req, cond)
	}
}

func TestNoDuplicatesAcrossRestart(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{sources: "{feeds}/blog.xml -> " + slacktest.GeneralID})
	b.feeds.set("/blog.xml", rssDoc([2]string{"2", "Second"}, [2]string{"1", "First"}), "application/rss+xml")
	if posts, err := b.run(t, feeds.JobFeed); err != nil || len(posts) != 1 {
		t.Fatalf("first poll: %q, %v", texts(posts), err)
	}
	b.feeds.set("/blog.xml", rssDoc([2]string{"3", "Third"}, [2]string{"2", "Second"}, [2]string{"1", "First"}), "application/rss+xml")

	b.restart(t)
	posts, err := b.run(t, feeds.JobFeed)
	if err != nil {
		t.Fatal(err)
	}
	wantPosts(t, posts, slacktest.GeneralID, "Third")

	// A lost cursor (here: a document served again without validators)
	// still posts nothing twice: the claims remember.
	b.restart(t)
	b.feeds.set("/blog.xml", rssDoc([2]string{"3", "Third"}, [2]string{"2", "Second"}, [2]string{"1", "First"}), "application/rss+xml")
	if posts, err := b.run(t, feeds.JobFeed); err != nil || len(posts) != 0 {
		t.Fatalf("after restart: posts %q, err %v", texts(posts), err)
	}
}

func TestOutagePostsAtMostMaxItemsThenMore(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{sources: "{feeds}/blog.xml -> " + slacktest.GeneralID, tweak: func(c *feeds.Config) { c.MaxItems = 2 }})
	b.feeds.set("/blog.xml", rssDoc([2]string{"0", "Zero"}), "application/rss+xml")
	if _, err := b.run(t, feeds.JobFeed); err != nil {
		t.Fatal(err)
	}
	var items [][2]string
	for _, n := range []string{"6", "5", "4", "3", "2", "1", "0"} {
		items = append(items, [2]string{n, "Item " + n})
	}
	b.feeds.set("/blog.xml", rssDoc(items...), "application/rss+xml")
	posts, err := b.run(t, feeds.JobFeed)
	if err != nil {
		t.Fatal(err)
	}
	wantPosts(t, posts, slacktest.GeneralID, "Item 5", "Item 6", "4 more new items from *Test Blog*")
	if !strings.Contains(posts[2].Text, "<https://blog.test/|See them all>") {
		t.Errorf("more post lacks the link: %q", posts[2].Text)
	}
}

func TestFilters(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{sources: "{feeds}/blog.xml -> " + slacktest.GeneralID + " | include:release,meetup exclude:sponsored"})
	b.feeds.set("/blog.xml", rssDoc([2]string{"1", "Hello"}), "application/rss+xml")
	if _, err := b.run(t, feeds.JobFeed); err != nil {
		t.Fatal(err)
	}
	b.feeds.set("/blog.xml", rssDoc(
		[2]string{"5", "Sponsored release party"}, [2]string{"4", "Spring Meetup"},
		[2]string{"3", "Unrelated"}, [2]string{"2", "Release 2.0"}, [2]string{"1", "Hello"}), "application/rss+xml")
	posts, err := b.run(t, feeds.JobFeed)
	if err != nil {
		t.Fatal(err)
	}
	wantPosts(t, posts, slacktest.GeneralID, "Release 2.0", "Spring Meetup")
}

func TestFixturesOfEveryKind(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{sources: strings.Join([]string{
		"{feeds}/rss.xml -> " + slacktest.GeneralID,
		"{feeds}/atom.xml -> " + slacktest.GeneralID,
		"{feeds}/@example.rss -> " + slacktest.GeneralID,
		"{feeds}/profile/example.bsky.social/rss -> " + slacktest.GeneralID,
		"{feeds}/feed.json -> " + slacktest.GeneralID,
		"{feeds}/malformed.xml -> " + slacktest.GeneralID,
	}, "\n"), tweak: func(c *feeds.Config) { c.Backfill = 2 }})
	for path, name := range map[string]string{"/rss.xml": "rss.xml", "/atom.xml": "atom.xml", "/@example.rss": "mastodon.rss",
		"/profile/example.bsky.social/rss": "bluesky.rss", "/feed.json": "feed.json", "/malformed.xml": "malformed.xml"} {
		b.feeds.fixture(t, path, name)
	}
	posts, err := b.run(t, feeds.JobFeed)
	if err != nil {
		t.Fatal(err)
	}
	if len(posts) != 12 {
		t.Fatalf("got %d posts, want 2 per feed: %q", len(posts), texts(posts))
	}
	all := strings.Join(texts(posts), "\n")
	for _, want := range []string{"Spring meetup", "Notes from the February call", "Photos from Saturday", "Registration for the autumn hackathon", "Episode 12", "Another good entry"} {
		if !strings.Contains(all, want) {
			t.Errorf("no post contains %q", want)
		}
	}
	status := b.env.Command(t, slacktest.AdminID, slacktest.GeneralID, "/townhall", "status")
	if len(status) != 1 || !strings.Contains(status[0].Text, "3 malformed entries skipped") {
		t.Errorf("status = %q, want the malformed entries counted", texts(status))
	}
}

func TestXAccount(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{sources: "@TownhallHQ -> " + slacktest.GeneralID, tweak: func(c *feeds.Config) { c.XPageSize = 5; c.MaxItems = 20 }})
	hq := b.x.AddUser(xapi.User{Username: "TownhallHQ", Name: "Townhall HQ", ProfileImageURL: "https://pbs.twimg.com/hq_normal.jpg"})
	b.x.Publish(hq.ID, xapitest.Post{Text: "old news"})
	b.x.Publish(hq.ID, xapitest.Post{Text: "latest news"})

	posts, err := b.run(t, feeds.JobX)
	if err != nil {
		t.Fatal(err)
	}
	wantPosts(t, posts, slacktest.GeneralID, "latest news")

	// Nothing new: one request per account per poll.
	before := b.x.Requests(xapitest.EndpointUserTweets)
	if posts, err := b.run(t, feeds.JobX); err != nil || len(posts) != 0 {
		t.Fatalf("nothing new: %q, %v", texts(posts), err)
	}
	if n := b.x.Requests(xapitest.EndpointUserTweets) - before; n != 1 {
		t.Errorf("%d requests when nothing was new, want 1", n)
	}
	if n := b.x.Requests(xapitest.EndpointUserByUsername); n != 1 {
		t.Errorf("looked the account up %d times, want once", n)
	}

	// Eight new posts, a reply and a repost among them: pages of 5, since_id.
	var want []string
	for k := range 8 {
		p := xapitest.Post{Text: "news " + string(rune('a'+k))}
		switch k {
		case 2:
			p.ReplyTo = "1"
		case 3:
			p.Retweet = "1"
		default:
			want = append(want, p.Text)
		}
		b.x.Publish(hq.ID, p)
	}
	posts, err = b.run(t, feeds.JobX)
	if err != nil {
		t.Fatal(err)
	}
	wantPosts(t, posts, slacktest.GeneralID, want...)
	qs := b.x.Queries(xapitest.EndpointUserTweets)
	last := qs[len(qs)-1]
	if last.Get("since_id") == "" || last.Get("pagination_token") == "" || last.Get("exclude") != "replies,retweets" {
		t.Errorf("last request %v: want since_id, a page token and exclude", last)
	}
	if strings.Contains(b.env.Logs.String(), b.x.Token.Reveal()) {
		t.Error("the X bearer token appears in the logs")
	}
	blocks := string(posts[0].Blocks)
	if !strings.Contains(blocks, "hq_normal.jpg") || !strings.Contains(blocks, "View on X") {
		t.Errorf("post blocks lack the avatar or link: %s", blocks)
	}
}

func TestXRateLimitPausesPolling(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{sources: "@hq -> " + slacktest.GeneralID + "; @other -> " + slacktest.GeneralID})
	hq := b.x.AddUser(xapi.User{Username: "hq"})
	b.x.AddUser(xapi.User{Username: "other"})
	b.x.Publish(hq.ID, xapitest.Post{Text: "hello"})
	reset := b.clock.Now().Add(10 * time.Minute)
	b.x.SetRateLimit(xapitest.EndpointUserTweets, 0, reset)
	if _, err := b.run(t, feeds.JobX); err == nil {
		t.Fatal("a rate-limited poll reported no error")
	}
	status := b.env.Command(t, slacktest.AdminID, slacktest.GeneralID, "/townhall", "status")
	if !strings.Contains(status[0].Text, "X rate limit reached") {
		t.Errorf("status = %q", status[0].Text)
	}
	before := b.x.Requests(xapitest.EndpointUserTweets)
	b.run(t, feeds.JobX) //nolint:errcheck // paused: nothing to report
	if n := b.x.Requests(xapitest.EndpointUserTweets) - before; n != 0 {
		t.Errorf("%d requests while paused, want 0", n)
	}
	b.clock.Add(11 * time.Minute)
	b.x.SetRateLimit(xapitest.EndpointUserTweets, 100, b.clock.Now().Add(15*time.Minute))
	posts, err := b.run(t, feeds.JobX)
	if err != nil {
		t.Fatal(err)
	}
	wantPosts(t, posts, slacktest.GeneralID, "hello")
}

func TestFailingSourceIsRetriedWithBackoffAndReported(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{sources: "{feeds}/down.xml -> " + slacktest.GeneralID + "\n{feeds}/page.html -> " + slacktest.GeneralID +
		"\n{feeds}/cut.xml -> " + slacktest.GeneralID + "\n{feeds}/ok.xml -> " + slacktest.GeneralID})
	b.feeds.set("/down.xml", rssDoc([2]string{"1", "Down item"}), "application/rss+xml")
	b.feeds.fail("/down.xml", http.StatusServiceUnavailable)
	b.feeds.fixture(t, "/page.html", "page.html")
	b.feeds.fixture(t, "/cut.xml", "truncated.xml")
	b.feeds.set("/ok.xml", rssDoc([2]string{"1", "Healthy item"}), "application/rss+xml")

	posts, err := b.run(t, feeds.JobFeed)
	if err == nil || !strings.Contains(err.Error(), "3 of 4") {
		t.Errorf("err = %v, want 3 of 4 failed", err)
	}
	wantPosts(t, posts, slacktest.GeneralID, "Healthy item") // not held up

	status := b.env.Command(t, slacktest.AdminID, slacktest.GeneralID, "/townhall", "status")[0].Text
	for _, want := range []string{"HTTP 503", "not an RSS, Atom or JSON feed", "parse feed", "3 failing", "next try 09:01"} {
		if !strings.Contains(status, want) {
			t.Errorf("status lacks %q:\n%s", want, status)
		}
	}

	// Within the backoff, the failing sources are not asked again.
	b.run(t, feeds.JobFeed) //nolint:errcheck
	if n, _ := b.feeds.count("/down.xml"); n != 1 {
		t.Errorf("down.xml asked %d times within its backoff, want 1", n)
	}
	b.feeds.set("/down.xml", rssDoc([2]string{"1", "Down item"}), "application/rss+xml")
	b.clock.Add(2 * time.Minute)
	posts, _ = b.run(t, feeds.JobFeed)
	wantPosts(t, posts, slacktest.GeneralID, "Down item")
}

// A server's Retry-After (seconds or an HTTP date) on 429 and 503 is
// honoured: the feed is not asked again before then, however often the
// job runs, up to the backoff's maximum of 6 hours.
func TestRetryAfterIsHonoured(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name   string
		status int
		header string
		wait   time.Duration // when the feed may be asked again
		paused string        // what status shows meanwhile
	}{
		{"429 in seconds", http.StatusTooManyRequests, "120", 120 * time.Second, "paused until 09:02"},
		{"503 as an HTTP date", http.StatusServiceUnavailable, start.Add(90 * time.Minute).Format(http.TimeFormat), 90 * time.Minute, "paused until 10:30"},
		{"capped at the backoff maximum", http.StatusTooManyRequests, "604800", 6 * time.Hour, "paused until 15:00"},
		{"shorter than the backoff", http.StatusTooManyRequests, "5", time.Minute, "next try 09:01"},
		{"unreadable", http.StatusServiceUnavailable, "soon", time.Minute, "next try 09:01"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, setupOpts{sources: "{feeds}/busy.xml -> " + slacktest.GeneralID})
			b.feeds.set("/busy.xml", rssDoc([2]string{"1", "Finally"}), "application/rss+xml")
			b.feeds.failRetryAfter("/busy.xml", tt.status, tt.header)
			if _, err := b.run(t, feeds.JobFeed); err == nil {
				t.Fatal("a refused poll reported no error")
			}
			status := b.env.Command(t, slacktest.AdminID, slacktest.GeneralID, "/townhall", "status")[0].Text
			if !strings.Contains(status, tt.paused) {
				t.Errorf("status lacks %q:\n%s", tt.paused, status)
			}
			b.feeds.set("/busy.xml", rssDoc([2]string{"1", "Finally"}), "application/rss+xml")
			for _, at := range []time.Duration{time.Minute - time.Second, tt.wait / 2, tt.wait - time.Second} {
				b.clock.Set(start.Add(at))
				if posts, err := b.run(t, feeds.JobFeed); err != nil || len(posts) != 0 {
					t.Fatalf("at +%s: posts %q, err %v", at, texts(posts), err)
				}
				if n, _ := b.feeds.count("/busy.xml"); n != 1 {
					t.Fatalf("asked %d times by +%s, want once: the server said to wait %s", n, at, tt.wait)
				}
			}
			b.clock.Set(start.Add(tt.wait))
			posts, err := b.run(t, feeds.JobFeed)
			if err != nil {
				t.Fatal(err)
			}
			wantPosts(t, posts, slacktest.GeneralID, "Finally")
		})
	}
}

func ephemeral(t *testing.T, posts []slacktest.Post) string {
	t.Helper()
	for _, p := range posts {
		if p.Ephemeral() {
			return p.Text
		}
	}
	t.Fatalf("no ephemeral answer in %q", texts(posts))
	return ""
}

func TestFeedCommands(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{sources: "{feeds}/env.xml -> " + slacktest.GeneralID})
	b.feeds.set("/env.xml", rssDoc([2]string{"1", "Env item"}), "application/rss+xml")
	b.feeds.fixture(t, "/blog/feed.xml", "rss.xml")
	b.feeds.fixture(t, "/blog/", "page_with_feed.html", `href="/feed.xml"`, `href="/blog/feed.xml"`)
	b.feeds.fixture(t, "/page.html", "page.html")
	hq := b.x.AddUser(xapi.User{Username: "hq", Name: "HQ"})
	b.x.Publish(hq.ID, xapitest.Post{Text: "hq says hi"})
	admin, member, general, random := slacktest.AdminID, slacktest.MemberID, slacktest.GeneralID, slacktest.RandomID
	cmd := func(user, channel, text string) []slacktest.Post {
		t.Helper()
		return b.env.Command(t, user, channel, "/feed", text)
	}

	if got := ephemeral(t, cmd(member, general, "add "+b.feeds.URL+"/blog/feed.xml")); !strings.Contains(got, "is for workspace staff") {
		t.Errorf("member add: %q", got)
	}
	for _, tt := range []struct{ text, want string }{
		{"add", "Tell me what to follow"},
		{"add ftp://x", "neither an @username nor an http(s) URL"},
		{"add " + b.feeds.URL + "/page.html", "is a web page or another document, not an RSS"},
		{"add " + b.feeds.URL + "/missing.xml", "HTTP 404"},
		{"add @nobody_here", "couldn't find the X account @nobody_here"},
		{"add @hq #no-such-channel", "I can't find #no-such-channel"},
		{"add @hq with:filter", "unknown filter"},
		{"remove env-000000", "no subscription"},
	} {
		if got := ephemeral(t, cmd(admin, general, tt.text)); !strings.Contains(got, tt.want) {
			t.Errorf("/feed %s: %q, want %q", tt.text, got, tt.want)
		}
	}
	if got := ephemeral(t, cmd(admin, general, "list all")); strings.Count(got, "• ") != 1 {
		t.Errorf("refused adds stored something: %q", got)
	}

	// A web page that advertises its feed is followed to it; the latest
	// item is posted at once, in the channel named the way Slack escapes it.
	posts := cmd(admin, general, "add "+b.feeds.URL+"/blog/ <#"+random+"|random> exclude:nothing")
	if got := ephemeral(t, posts); !strings.Contains(got, "Added `1`") || !strings.Contains(got, "/blog/feed.xml") {
		t.Errorf("add: %q", got)
	}
	var inRandom []slacktest.Post
	for _, p := range posts {
		if !p.Ephemeral() {
			inRandom = append(inRandom, p)
		}
	}
	wantPosts(t, inRandom, random, "Spring meetup")
	if got := ephemeral(t, cmd(admin, random, "add "+b.feeds.URL+"/blog/feed.xml")); !strings.Contains(got, "already follows") {
		t.Errorf("duplicate add: %q", got)
	}
	// X, in the channel the command is typed in.
	lookups := b.x.Requests(xapitest.EndpointUserByUsername)
	posts = cmd(admin, general, "add @HQ")
	if got := ephemeral(t, posts); !strings.Contains(got, "Added `2`") || !strings.Contains(got, "@hq") {
		t.Errorf("add @HQ: %q", got)
	}
	if !strings.Contains(strings.Join(texts(posts), "\n"), "hq says hi") {
		t.Errorf("add @HQ did not post the latest post: %q", texts(posts))
	}
	if n := b.x.Requests(xapitest.EndpointUserByUsername) - lookups; n != 1 {
		t.Errorf("add @HQ looked the account up %d times, want once", n)
	}

	list := ephemeral(t, cmd(member, random, "list"))
	if !strings.Contains(list, "`1`") || strings.Contains(list, "`2`") || strings.Contains(list, "env-") {
		t.Errorf("list in #random: %q", list)
	}
	all := ephemeral(t, cmd(member, random, "list all"))
	if !strings.Contains(all, "_from configuration_") || !strings.Contains(all, "`2` @hq") || !strings.Contains(all, "added by <@"+admin+">") {
		t.Errorf("list all: %q", all)
	}
	envID := all[strings.Index(all, "`env-")+1:]
	envID = envID[:strings.Index(envID, "`")]
	if got := ephemeral(t, cmd(admin, general, "remove "+envID)); !strings.Contains(got, "comes from the server's configuration") {
		t.Errorf("remove env: %q", got)
	}
	if got := ephemeral(t, cmd(member, general, "remove 1")); !strings.Contains(got, "is for workspace staff") {
		t.Errorf("member remove: %q", got)
	}
	if got := ephemeral(t, cmd(admin, general, "remove 1")); !strings.Contains(got, "Removed `1`") {
		t.Errorf("remove: %q", got)
	}

	// Subscriptions survive a restart; the removed one stays removed.
	b.restart(t)
	all = ephemeral(t, b.env.Command(t, member, general, "/feed", "list all"))
	if strings.Contains(all, "`1`") || !strings.Contains(all, "`2`") {
		t.Errorf("after restart: %q", all)
	}
	if got := ephemeral(t, b.env.Command(t, member, general, "/feed", "help")); !strings.Contains(got, "Bluesky") {
		t.Errorf("help: %q", got)
	}
}

func TestAddXWithoutToken(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noXToken: true})
	got := ephemeral(t, b.env.Command(t, slacktest.AdminID, slacktest.GeneralID, "/feed", "add @hq"))
	if !strings.Contains(got, "TOWNHALL_FEEDS_X_BEARER_TOKEN") {
		t.Errorf("add without token: %q", got)
	}
	for _, j := range b.in.Jobs() {
		if j.Name == feeds.JobX {
			t.Error("the X job is scheduled without a token")
		}
	}
}

func TestChannelNamesAreResolved(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{sources: "{feeds}/blog.xml -> #random"})
	b.feeds.set("/blog.xml", rssDoc([2]string{"1", "Into random"}), "application/rss+xml")
	b.feeds.set("/other.xml", rssDoc([2]string{"1", "Into general"}), "application/rss+xml")
	posts, err := b.run(t, feeds.JobFeed)
	if err != nil {
		t.Fatal(err)
	}
	wantPosts(t, posts, slacktest.RandomID, "Into random") // joined: #random is public

	posts = b.env.Command(t, slacktest.AdminID, slacktest.RandomID, "/feed", "add "+b.feeds.URL+"/other.xml #general")
	if got := ephemeral(t, posts); !strings.Contains(got, "<#"+slacktest.GeneralID+">") {
		t.Errorf("add #general: %q", got)
	}
	if list := ephemeral(t, b.env.Command(t, slacktest.MemberID, slacktest.RandomID, "/feed", "list")); !strings.Contains(list, "blog.xml") {
		t.Errorf("list in #random misses the #random subscription: %q", list)
	}
}

// TestPrivateChannelNames: a private channel the app is in is found by
// name too (once the directory is read again: it was read above).
func TestPrivateChannelNames(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	staff := b.env.WS.AddChannel(slacktest.Channel{ID: "C0STAFF", Name: "staff-room", IsPrivate: true, IsMember: true})
	b.env.WS.AddChannel(slacktest.Channel{ID: "C0HIDDEN", Name: "hidden", IsPrivate: true})
	b.feeds.set("/blog.xml", rssDoc([2]string{"1", "For staff"}), "application/rss+xml")
	posts := b.env.Command(t, slacktest.AdminID, slacktest.GeneralID, "/feed", "add "+b.feeds.URL+"/blog.xml #Staff-Room")
	if got := ephemeral(t, posts); !strings.Contains(got, "<#"+staff.ID+">") {
		t.Errorf("add #staff-room: %q", got)
	}
	posts = b.env.Command(t, slacktest.AdminID, slacktest.GeneralID, "/feed", "add "+b.feeds.URL+"/blog.xml #hidden")
	if got := ephemeral(t, posts); !strings.Contains(got, "I can't find #hidden: check the name (for a private channel, invite me first)") {
		t.Errorf("add #hidden: %q", got)
	}
}

// TestChannelLookupFailure: when Slack cannot say which channel a name
// is, nothing is posted or added, and the poll fails (to be retried)
// rather than dropping the channel.
func TestChannelLookupFailure(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{sources: "{feeds}/blog.xml -> #general"})
	b.feeds.set("/blog.xml", rssDoc([2]string{"1", "First"}), "application/rss+xml")
	b.env.WS.FailNext("conversations.list", http.StatusInternalServerError, 0)
	posts, err := b.run(t, feeds.JobFeed)
	if err == nil || len(posts) != 0 {
		t.Fatalf("poll = %q, %v; want no posts and an error", texts(posts), err)
	}
	status := b.env.Command(t, slacktest.AdminID, slacktest.GeneralID, "/townhall", "status")[0].Text
	if !strings.Contains(status, "look up channel #general: slack conversations.list") {
		t.Errorf("status does not say why:\n%s", status)
	}
	// The directory remembers the failure for a minute.
	posts = b.env.Command(t, slacktest.AdminID, slacktest.GeneralID, "/feed", "add "+b.feeds.URL+"/blog.xml #random")
	if got := ephemeral(t, posts); !strings.Contains(got, "I couldn't look up #random in Slack just now; nothing was added") {
		t.Errorf("add #random: %q", got)
	}
}

func TestMissingChannelDoesNotHoldOthersBack(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{sources: "{feeds}/blog.xml -> #gone, " + slacktest.GeneralID})
	b.feeds.set("/blog.xml", rssDoc([2]string{"1", "First"}), "application/rss+xml")
	posts, err := b.run(t, feeds.JobFeed)
	if err == nil {
		t.Error("a missing channel was not reported")
	}
	wantPosts(t, posts, slacktest.GeneralID, "First")
	status := b.env.Command(t, slacktest.AdminID, slacktest.GeneralID, "/townhall", "status")[0].Text
	if !strings.Contains(status, "no channel named #gone") {
		t.Errorf("status does not name the missing channel:\n%s", status)
	}
	// The cursor moved on: the next poll is a conditional GET, answered 304.
	b.clock.Add(time.Hour)
	if posts, _ := b.run(t, feeds.JobFeed); len(posts) != 0 {
		t.Errorf("re-posted: %q", texts(posts))
	}
	if _, cond := b.feeds.count("/blog.xml"); cond != 1 {
		t.Errorf("%d conditional requests, want 1", cond)
	}
}

// TestLatin1Feeds: a feed in ISO-8859-1 (older Brazilian and European news
// sites) posts its accents whether the server says the charset in
// Content-Type, the document says it in its XML declaration, or nobody
// says it and the bytes are not UTF-8 (read as Windows-1252, as browsers
// read them).
func TestLatin1Feeds(t *testing.T) {
	t.Parallel()
	latin1 := func(s string) string { // the test's text, in ISO-8859-1 bytes
		var b []byte
		for _, r := range s {
			b = append(b, byte(r))
		}
		return string(b)
	}
	doc := func(decl string) string {
		return latin1(decl + "<rss version=\"2.0\"><channel><title>Notícias da Vila</title><link>https://vila.example.br/</link>" +
			"<item><title>Inscrições abertas para a horta comunitária</title><link>https://vila.example.br/horta</link>" +
			"<guid>horta-1</guid><pubDate>Mon, 09 Mar 2026 10:00:00 -0300</pubDate></item></channel></rss>")
	}
	for _, tt := range []struct{ name, body, ctype string }{
		{"charset in Content-Type", doc(""), "text/xml; charset=ISO-8859-1"},
		{"encoding in the XML declaration", doc(`<?xml version="1.0" encoding="ISO-8859-1"?>`), "application/rss+xml"},
		{"said nowhere", doc(""), "application/xml"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, setupOpts{sources: "{feeds}/noticias.xml -> " + slacktest.GeneralID})
			b.feeds.set("/noticias.xml", tt.body, tt.ctype)
			posts, err := b.run(t, feeds.JobFeed)
			if err != nil {
				t.Fatal(err)
			}
			wantPosts(t, posts, slacktest.GeneralID, "Notícias da Vila: Inscrições abertas para a horta comunitária")
		})
	}
}

// TestUTF8FeedWithAStrayByte: a UTF-8 feed with one byte that is not UTF-8
// (a character cut in two, a Latin-1 quote pasted in) keeps every other
// accent; only the stray byte is lost.
func TestUTF8FeedWithAStrayByte(t *testing.T) {
	t.Parallel()
	body := "<rss version=\"2.0\"><channel><title>Café des bénévoles</title><link>https://cafe.example.fr/</link>" +
		"<item><title>Réunion de l’été \x92 à Montréal</title><link>https://cafe.example.fr/reunion</link>" +
		"<guid>reunion-1</guid><pubDate>Mon, 09 Mar 2026 10:00:00 +0100</pubDate></item></channel></rss>"
	b := setup(t, setupOpts{sources: "{feeds}/cafe.xml -> " + slacktest.GeneralID})
	b.feeds.set("/cafe.xml", body, "application/xml")
	posts, err := b.run(t, feeds.JobFeed)
	if err != nil {
		t.Fatal(err)
	}
	wantPosts(t, posts, slacktest.GeneralID, "Café des bénévoles: Réunion de l’été \uFFFD à Montréal")
}
