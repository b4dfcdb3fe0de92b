package feeds

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/townhall/townhall/integrations/feeds/xapi"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func parseFixture(t testing.TB, name string) []Item {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	f, _, err := parseFeed(b, "https://example.org/")
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	items, _ := feedItems(f, "https://example.org/")
	return items
}

func TestFeedItems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file       string
		wantIDs    []string // oldest first
		wantAuthor Author
		check      func(t *testing.T, items []Item)
	}{
		{
			file:       "rss.xml",
			wantIDs:    []string{"blog-1", "blog-2", "blog-3"},
			wantAuthor: Author{Name: "Example Community Blog", URL: "https://blog.example.org/", AvatarURL: "https://blog.example.org/logo.png"},
			check: func(t *testing.T, items []Item) {
				it := items[2]
				if it.Title != "Spring meetup: call for talks" || it.Image == nil || it.Image.URL != "https://blog.example.org/img/meetup.jpg" {
					t.Errorf("item = %+v", it)
				}
				if want := "Our spring meetup is on April 18. Send a talk & bring a friend!\n\nPing <!channel> <@here> <https://evil.example|click>."; it.Text != want {
					t.Errorf("text = %q, want %q", it.Text, want)
				}
			},
		},
		{
			file:       "atom.xml",
			wantIDs:    []string{"urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6b", "urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a"},
			wantAuthor: Author{Name: "Volunteer Notes", URL: "https://notes.example.net/"},
			check: func(t *testing.T, items []Item) {
				if want := "• Budget approved\n• New moderators"; items[1].Text != want {
					t.Errorf("text = %q, want %q", items[1].Text, want)
				}
			},
		},
		{
			file:    "mastodon.rss",
			wantIDs: []string{"https://mastodon.social/@example/113000000000000001", "https://mastodon.social/@example/113000000000000002"},
			wantAuthor: Author{Name: "Example Community", URL: "https://mastodon.social/@example",
				AvatarURL: "https://files.mastodon.social/accounts/avatars/000/000/001/original/avatar.png"},
			check: func(t *testing.T, items []Item) {
				it := items[1]
				if it.Image == nil || it.Image.Alt != "Volunteers holding bags of litter on a beach" {
					t.Errorf("image = %+v", it.Image)
				}
				if it.Text != "Photos from Saturday's cleanup! Thank you all #community" || it.Title != "" {
					t.Errorf("title %q, text %q", it.Title, it.Text)
				}
			},
		},
		{
			file: "bluesky.rss",
			wantIDs: []string{"at://did:plc:abcdefghijklmnop/app.bsky.feed.post/3lbx1abcde11j",
				"at://did:plc:abcdefghijklmnop/app.bsky.feed.post/3lbx2abcde22k"},
			wantAuthor: Author{Name: "Example Community", Handle: "@example.bsky.social", URL: "https://bsky.app/profile/example.bsky.social"},
		},
		{
			file:       "feed.json",
			wantIDs:    []string{"ep-11", "ep-12"},
			wantAuthor: Author{Name: "Example Podcast", URL: "https://podcast.example.com/", AvatarURL: "https://podcast.example.com/icon.png"},
			check: func(t *testing.T, items []Item) {
				if items[1].Image == nil || items[1].Text != "How to welcome new volunteers." {
					t.Errorf("item = %+v", items[1])
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			items := parseFixture(t, tt.file)
			var ids []string
			for _, it := range items {
				ids = append(ids, it.ID)
				if it.Author != tt.wantAuthor {
					t.Errorf("author = %+v, want %+v", it.Author, tt.wantAuthor)
				}
				if it.Link == "" {
					t.Errorf("%s has no link", it.ID)
				}
			}
			if strings.Join(ids, " ") != strings.Join(tt.wantIDs, " ") {
				t.Errorf("ids = %q, want %q", ids, tt.wantIDs)
			}
			if tt.check != nil {
				tt.check(t, items)
			}
		})
	}
}

func TestMalformedEntriesAreSkipped(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("testdata/malformed.xml")
	if err != nil {
		t.Fatal(err)
	}
	f, _, err := parseFeed(b, "https://broken.example.org/")
	if err != nil {
		t.Fatal(err)
	}
	items, malformed := feedItems(f, "https://example.org/")
	if malformed != 3 || len(items) != 2 || items[0].ID != "good-2" || items[1].ID != "good-1" {
		t.Errorf("items %+v, malformed %d; want good-2, good-1 and 3 malformed", items, malformed)
	}
}

func TestNotFeeds(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		file     string
		notFeed  bool
		discover []string
	}{
		{"page.html", true, nil},
		{"page_with_feed.html", true, []string{"https://blog.example.org/feed.xml"}},
		{"truncated.xml", false, nil},
	} {
		b, err := os.ReadFile(filepath.Join("testdata", tt.file))
		if err != nil {
			t.Fatal(err)
		}
		_, alts, err := parseFeed(b, "https://blog.example.org/")
		if err == nil {
			t.Errorf("%s parsed as a feed", tt.file)
			continue
		}
		if isNot := strings.Contains(err.Error(), errNotFeed.Error()); isNot != tt.notFeed {
			t.Errorf("%s: err = %v, not-a-feed %v", tt.file, err, tt.notFeed)
		}
		if strings.Join(alts, " ") != strings.Join(tt.discover, " ") {
			t.Errorf("%s: discovered %q, want %q", tt.file, alts, tt.discover)
		}
	}
}

func TestTweetItems(t *testing.T) {
	t.Parallel()
	user := xapi.User{ID: "1", Name: "Town & Hall", Username: "hq", ProfileImageURL: "https://pbs.twimg.com/hq_normal.jpg"}
	page := xapi.TweetsPage{
		Tweets: []xapi.Tweet{
			{ID: "20", Text: "Look &amp; see https://t.co/abc https://t.co/pic", AuthorID: "1",
				Attachments: &xapi.Attachments{MediaKeys: []string{"3_1"}},
				Entities: &xapi.Entities{URLs: []xapi.URLEntity{
					{URL: "https://t.co/abc", ExpandedURL: "https://example.org/x"},
					{URL: "https://t.co/pic", ExpandedURL: "https://x.com/hq/status/20/photo/1", MediaKey: "3_1"}}},
				ReferencedTweets: []xapi.ReferencedTweet{{Type: xapi.RefQuoted, ID: "5"}}},
			{ID: "9", Text: "older", AuthorID: "1"},
		},
		Includes: xapi.Includes{
			Media:  []xapi.Media{{MediaKey: "3_1", Type: "photo", URL: "https://pbs.twimg.com/media/p.jpg", AltText: "a map"}},
			Users:  []xapi.User{user, {ID: "2", Name: "Other", Username: "other"}},
			Tweets: []xapi.Tweet{{ID: "5", Text: "quoted text", AuthorID: "2"}},
		},
	}
	items := tweetItems(user, []xapi.TweetsPage{page})
	if len(items) != 2 || items[0].ID != "9" {
		t.Fatalf("items = %+v", items)
	}
	it := items[1]
	if it.Text != "Look & see https://example.org/x" {
		t.Errorf("text = %q", it.Text)
	}
	if it.Image == nil || it.Image.Alt != "a map" || it.Quote == nil || it.Quote.Author != "Other @other" || it.Link != "https://x.com/hq/status/20" {
		t.Errorf("item = %+v, quote %+v", it, it.Quote)
	}
}

// TestMessages checks the Block Kit of posted items against golden files.
func TestMessages(t *testing.T) {
	t.Parallel()
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	pub := time.Date(2026, 3, 4, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		item Item
	}{
		{"rss_article", parseFixture(t, "rss.xml")[2]},
		{"mastodon_post", parseFixture(t, "mastodon.rss")[1]},
		{"bluesky_post", parseFixture(t, "bluesky.rss")[1]},
		{"x_post_with_quote", Item{ID: "20", Link: "https://x.com/hq/status/20", Text: "Big news <!here> & more",
			Author:    Author{Name: "Town *Hall*", Handle: "@hq", AvatarURL: "https://pbs.twimg.com/hq_normal.jpg"},
			Published: pub, Image: &Image{URL: "https://pbs.twimg.com/media/p.jpg", Alt: "a map"},
			Quote: &Quote{Author: "Other @other", Text: "first line\nsecond <@U123>", Link: "https://x.com/other/status/5"}}},
		{"forged_link", Item{ID: "x", Link: "javascript:alert(1)", Title: "<https://evil.example|Click me>", Text: "@channel"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := itemMessage(tt.item, loc)
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(map[string]any{"text": m.Text, "blocks": m.Blocks}); err != nil {
				t.Fatal(err)
			}
			got := bytes.TrimSpace(buf.Bytes())
			for _, bad := range []string{"<!here>", "<!channel>", "<@U123>", "<https://evil", "javascript:"} {
				if strings.Contains(string(got), bad) {
					t.Errorf("message carries %q unescaped", bad)
				}
			}
			golden := filepath.Join("testdata", "messages", tt.name+".json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if strings.TrimSpace(string(want)) != string(got) {
				t.Errorf("message differs from %s (run with -update after checking):\n%s", golden, got)
			}
		})
	}
}

func TestHTMLText(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, want string }{
		{"plain", "plain"},
		{"<p>a</p><p>b<br>c</p><script>x()</script>", "a\n\nb\nc"},
		{"x &lt;y&gt; &amp;", "x <y> &"},
		{strings.Repeat("é", 20), strings.Repeat("é", 9) + "…"},
	} {
		if got := htmlText(tt.in, 10); got != tt.want {
			t.Errorf("htmlText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// slackLimits reports what in blocks Slack would refuse with invalid_blocks:
// a text over 3000 characters (sections and context elements), an image
// url over 3000 or alt text over 2000, more than 50 blocks.
func slackLimits(t *testing.T, blocks any) []string {
	t.Helper()
	b, err := json.Marshal(blocks)
	if err != nil {
		t.Fatal(err)
	}
	var list []map[string]any
	if err := json.Unmarshal(b, &list); err != nil {
		t.Fatal(err)
	}
	var bad []string
	if len(list) > 50 {
		bad = append(bad, "more than 50 blocks")
	}
	check := func(where string, v any, limit int) {
		if s, ok := v.(string); ok && utf8.RuneCountInString(s) > limit {
			bad = append(bad, fmt.Sprintf("%s: %d characters (limit %d)", where, utf8.RuneCountInString(s), limit))
		}
	}
	var walk func(where string, m map[string]any)
	walk = func(where string, m map[string]any) {
		if txt, ok := m["text"].(map[string]any); ok {
			check(where+".text", txt["text"], 3000)
		} else if m["type"] == "mrkdwn" || m["type"] == "plain_text" {
			check(where+".text", m["text"], 3000)
		}
		check(where+".image_url", m["image_url"], 3000)
		check(where+".alt_text", m["alt_text"], 2000)
		check(where+".url", m["url"], 3000)
		if els, ok := m["elements"].([]any); ok {
			for n, e := range els {
				if em, ok := e.(map[string]any); ok {
					walk(fmt.Sprintf("%s.elements[%d]", where, n), em)
				}
			}
		}
	}
	for n, blk := range list {
		walk(fmt.Sprintf("blocks[%d](%v)", n, blk["type"]), blk)
	}
	return bad
}

// Everything in an item comes from the source, unbounded: a long link, a
// text of & and < (each escaped to 4 or 5 characters), a feed whose title
// (the author's name) is a paragraph. Slack refuses the whole message when
// a field is over its limit, and the item is never posted.
func TestItemMessageWithinSlackLimits(t *testing.T) {
	t.Parallel()
	longURL := "https://blog.example.org/post?utm=" + strings.Repeat("a", 2600)
	tests := []struct {
		name string
		item Item
	}{
		{"long link and escaped text", Item{ID: "1", Link: longURL, Title: strings.Repeat("&", 300), Text: strings.Repeat("<", 1200)}},
		{"escaped text alone", Item{ID: "2", Text: strings.Repeat("&", 1200), Quote: &Quote{Author: strings.Repeat("&", 1000), Text: strings.Repeat("<", 500), Link: longURL}}},
		{"long author", Item{ID: "3", Text: "hi", Author: Author{Name: strings.Repeat("Town Hall ", 400), Handle: "@" + strings.Repeat("h", 3000), AvatarURL: "https://example.org/a.png"}}},
		{"long image url", Item{ID: "4", Text: "hi", Image: &Image{URL: "https://example.org/i.png?" + strings.Repeat("b", 3100)}, Author: Author{AvatarURL: "https://example.org/a.png?" + strings.Repeat("c", 3100), Name: "x"}}},
		{"long footer link", Item{ID: "5", Title: "t", Link: "https://example.org/p?" + strings.Repeat("%26", 1000), Published: time.Unix(0, 0)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := itemMessage(tt.item, time.UTC)
			for _, bad := range slackLimits(t, m.Blocks) {
				t.Error(bad)
			}
		})
	}
	m := moreMessage(batch{more: 3, moreName: strings.Repeat("&", 1000), moreLink: longURL})
	for _, bad := range slackLimits(t, m.Blocks) {
		t.Error("more: " + bad)
	}
}

func TestEscapeWithin(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   string
		max  int
		want string
	}{
		{"a&b", 7, "a&amp;b"},
		{"a&b", 6, "a…"}, // never "a&am…"
		{"<<<", 9, "&lt;&lt;…"},
		{"", 0, ""},
	} {
		if got := escapeWithin(tt.in, tt.max); got != tt.want {
			t.Errorf("escapeWithin(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}

// Dates are gofeed's where it reads them, else read with the layouts it
// lacks; items are posted oldest first: by date where every item has one
// (ties, as Bluesky's minute-only dates make, in reverse document order),
// else in reverse document order, since feeds list newest first.
func TestItemDatesAndOrder(t *testing.T) {
	t.Parallel()
	rss := func(items ...[2]string) []byte { // guid, pubDate; newest first
		var b strings.Builder
		b.WriteString(`<rss version="2.0"><channel><title>T</title><link>https://t.example/</link>`)
		for _, it := range items {
			b.WriteString("<item><guid>" + it[0] + "</guid><title>" + it[0] + "</title>")
			if it[1] != "" {
				b.WriteString("<pubDate>" + it[1] + "</pubDate>")
			}
			b.WriteString("</item>")
		}
		return []byte(b.String() + "</channel></rss>")
	}
	utc := func(s string) time.Time {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			panic(err)
		}
		return t
	}
	for _, tt := range []struct {
		name      string
		doc       []byte
		wantIDs   []string
		wantDates []time.Time
	}{
		{"Bluesky, no weekday, same minute", rss(
			[2]string{"c", "05 Mar 2026 14:20 +0000"}, [2]string{"b", "05 Mar 2026 14:20 +0000"}, [2]string{"a", "01 Mar 2026 09:00 +0100"}),
			[]string{"a", "b", "c"}, []time.Time{utc("2026-03-01T08:00:00Z"), utc("2026-03-05T14:20:00Z"), utc("2026-03-05T14:20:00Z")}},
		{"no dates: reverse document order", rss([2]string{"3", ""}, [2]string{"2", ""}, [2]string{"1", ""}),
			[]string{"1", "2", "3"}, []time.Time{{}, {}, {}}},
		{"one unusable date: reverse document order", rss([2]string{"2", "Tue, 10 Mar 2026 10:00:00 +0000"}, [2]string{"1", "yesterday"}),
			[]string{"1", "2"}, []time.Time{{}, utc("2026-03-10T10:00:00Z")}},
		{"dated but listed oldest first", rss([2]string{"1", "Mon, 02 Mar 2026 10:00:00 GMT"}, [2]string{"2", "Tue, 03 Mar 2026 10:00:00 GMT"}),
			[]string{"1", "2"}, []time.Time{utc("2026-03-02T10:00:00Z"), utc("2026-03-03T10:00:00Z")}},
		{"forms gofeed does not read", rss(
			[2]string{"js", "Tue Mar 10 2026 09:05:00 GMT+0100 (Central European Standard Time)"},
			[2]string{"zone-name", "Mon, 09 Mar 2026 12:00:00 +0100 (CET)"},
			[2]string{"basic", "20260308T090500Z"}),
			[]string{"basic", "zone-name", "js"}, []time.Time{utc("2026-03-08T09:05:00Z"), utc("2026-03-09T11:00:00Z"), utc("2026-03-10T08:05:00Z")}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, _, err := parseFeed(tt.doc, "https://t.example/feed")
			if err != nil {
				t.Fatal(err)
			}
			items, _ := feedItems(f, "https://t.example/feed")
			var ids []string
			for k, it := range items {
				ids = append(ids, it.ID)
				if k < len(tt.wantDates) && !it.Published.Equal(tt.wantDates[k]) {
					t.Errorf("%s: date %v, want %v", it.ID, it.Published, tt.wantDates[k])
				}
			}
			if strings.Join(ids, " ") != strings.Join(tt.wantIDs, " ") {
				t.Errorf("order %q, want %q", ids, tt.wantIDs)
			}
		})
	}
}

// TestFeedTitleIsHTML: a feed title written as HTML (Jekyll's jekyll-feed
// writes type="html" titles, their & escaped twice) names the site as a
// reader shows it, "&" once, as its items' titles already did.
func TestFeedTitleIsHTML(t *testing.T) {
	t.Parallel()
	const doc = `<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">` +
		`<generator uri="https://jekyllrb.com/" version="3.10.0">Jekyll</generator>` +
		`<link href="https://tenants.example.org/" rel="alternate" type="text/html" />` +
		`<id>https://tenants.example.org/feed.xml</id><title type="html">Tenants &amp;amp; Neighbours</title>` +
		`<entry><title type="html">Rent &amp;amp; repairs clinic</title>` +
		`<link href="https://tenants.example.org/clinic/" rel="alternate" type="text/html" />` +
		`<published>2026-03-05T11:20:00+00:00</published><id>https://tenants.example.org/clinic</id></entry></feed>`
	f, _, err := parseFeed([]byte(doc), "https://tenants.example.org/feed.xml")
	if err != nil {
		t.Fatal(err)
	}
	items, malformed := feedItems(f, "https://tenants.example.org/feed.xml")
	if malformed != 0 || len(items) != 1 {
		t.Fatalf("items %+v, malformed %d", items, malformed)
	}
	if it := items[0]; it.Author.Name != "Tenants & Neighbours" || it.Title != "Rent & repairs clinic" {
		t.Errorf("site %q, title %q; want %q and %q", it.Author.Name, it.Title, "Tenants & Neighbours", "Rent & repairs clinic")
	}
}

// TestLocalisedDates: RFC 822 dates written in the feed's own language
// (Portuguese news sites write "Seg, 24 Set 2018") are read, not dropped.
func TestLocalisedDates(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Seg, 24 Set 2018 19:42:40 -0300":  "2018-09-24T19:42:40-03:00", // pt
		"Sáb, 03 Fev 2024 08:00:00 -0300":  "2024-02-03T08:00:00-03:00",
		"Mié, 12 Dic 2018 10:00:00 +0100":  "2018-12-12T10:00:00+01:00", // es
		"Do, 01 Okt 2020 07:30:00 +0200":   "2020-10-01T07:30:00+02:00", // de
		"mer., 05 févr. 2025 18:00:00 GMT": "2025-02-05T18:00:00Z",      // fr
		"Mon, 09 Mar 2026 10:00:00 +0000":  "2026-03-09T10:00:00Z",      // English, as before
	} {
		if got := parseDate(in); got.Format(time.RFC3339) != want {
			t.Errorf("parseDate(%q) = %s, want %s", in, got.Format(time.RFC3339), want)
		}
	}
	for _, bad := range []string{"Seg, 24 Xyz 2018 19:42:40 -0300", "24 Set 2018", "sometime"} {
		if got := parseDate(bad); !got.IsZero() {
			t.Errorf("parseDate(%q) = %s, want zero", bad, got)
		}
	}
}
