package feeds

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/townhall/townhall/integrations/feeds/xapi"
)

// bigRSS is a blog-sized feed: n items with HTML descriptions.
func bigRSS(n int) []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>Big Blog</title><link>https://big.example/</link>`)
	for k := n; k > 0; k-- {
		fmt.Fprintf(&b, `<item><title>Post %d</title><link>https://big.example/%d</link><guid>big-%d</guid><pubDate>%s</pubDate>`+
			`<description><![CDATA[<p>Paragraph <b>one</b> of post %d, with a <a href="https://x.example">link</a>.</p><p>And a second &amp; last one.</p>]]></description></item>`,
			k, k, k, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(k)*time.Hour).Format(time.RFC1123Z), k)
	}
	b.WriteString("</channel></rss>")
	return []byte(b.String())
}

// BenchmarkParseAndDiff parses realistic documents, turns them into items
// and finds the new ones against a cursor that has seen all but the newest,
// as a poll does. It reports items per second.
func BenchmarkParseAndDiff(b *testing.B) {
	docs := map[string][]byte{"blog_100_items.rss": bigRSS(100)}
	for _, name := range []string{"rss.xml", "atom.xml", "mastodon.rss", "bluesky.rss", "feed.json"} {
		d, err := os.ReadFile("testdata/" + name)
		if err != nil {
			b.Fatal(err)
		}
		docs[name] = d
	}
	for name, d := range docs {
		b.Run(name, func(b *testing.B) {
			f, _, err := parseFeed(d, "https://example.org/")
			if err != nil {
				b.Fatal(err)
			}
			first, _ := feedItems(f, "https://example.org/")
			seen := map[string]bool{}
			for _, it := range first[:len(first)-1] {
				seen[it.ID] = true
			}
			b.ReportAllocs()
			items := 0
			for b.Loop() {
				f, _, err := parseFeed(d, "https://example.org/")
				if err != nil {
					b.Fatal(err)
				}
				all, _ := feedItems(f, "https://example.org/")
				fresh := 0
				for _, it := range all {
					if !seen[it.ID] {
						fresh++
					}
				}
				if fresh != 1 {
					b.Fatalf("%d new items, want 1", fresh)
				}
				items += len(all)
			}
			b.ReportMetric(float64(items)/b.Elapsed().Seconds(), "items/s")
		})
	}
	b.Run("x_api_page.json", func(b *testing.B) {
		d, err := os.ReadFile("testdata/x_tweets.json")
		if err != nil {
			b.Fatal(err)
		}
		user := xapi.User{ID: "2244994945", Name: "Townhall HQ", Username: "TownhallHQ"}
		b.ReportAllocs()
		items := 0
		for b.Loop() {
			var page xapi.TweetsPage
			if err := json.Unmarshal(d, &page); err != nil {
				b.Fatal(err)
			}
			all := tweetItems(user, []xapi.TweetsPage{page})
			if len(all) != 3 || all[2].Image == nil || all[1].Quote == nil {
				b.Fatalf("items = %+v", all)
			}
			items += len(all)
		}
		b.ReportMetric(float64(items)/b.Elapsed().Seconds(), "items/s")
	})
}
