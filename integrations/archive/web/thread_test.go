package web_test

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/townhall/townhall/integrations/archive"
	"github.com/townhall/townhall/integrations/archive/web"
)

const base = "https://archive.example.org"

// The threads seedThreads adds to seed's #general, and a channel that is
// published but not indexed.
const (
	reunionPath = "/c/general/t/1709283600000000-the-reunion-is-on-friday-bob-quiet"
	russianPath = "/c/general/t/1709456400000000-%D1%81%D0%BE%D0%B1%D1%80%D0%B0%D0%BD%D0%B8%D0%B5-%D0%B2-%D0%BF%D1%8F%D1%82%D0%BD%D0%B8%D1%86%D1%83"
	chinesePath = "/c/general/t/1709460000000000-%E6%98%8E%E5%A4%A9%E4%B8%8B%E5%8D%88%E4%BC%9A%E8%AE%AE"
	emojiPath   = "/c/general/t/1709463600000000"
	hiddenRoot  = "/c/general/t/1709467200000000"
)

// seedThreads is seed with, on 3 March 2024, a Russian, a Chinese and an
// emoji-only thread, a thread started by the opted-out U3, a reply by U3
// in the réunion thread, and a thread in #random, published, not indexed.
func seedThreads(t testing.TB, a archive.Archive) {
	seed(t, a)
	ctx := t.Context()
	at := func(h, m int) string { return archive.FormatTS(time.Date(2024, 3, 3, h, m, 0, 0, time.UTC)) }
	if err := a.PutChannel(ctx, archive.Channel{ID: "C3", Name: "random"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.PutMessages(ctx, []archive.Message{
		{Channel: "C1", TS: at(9, 0), ThreadTS: at(9, 0), User: "U4", Text: "Собрание в пятницу"},
		{Channel: "C1", TS: at(9, 1), ThreadTS: at(9, 0), User: "U1", Text: "Да, в шесть"},
		{Channel: "C1", TS: at(10, 0), ThreadTS: at(10, 0), User: "U4", Text: "明天下午会议"},
		{Channel: "C1", TS: at(10, 1), ThreadTS: at(10, 0), User: "U1", Text: "好的"},
		{Channel: "C1", TS: at(11, 0), ThreadTS: at(11, 0), User: "U1", Text: ":tada: :tada:"},
		{Channel: "C1", TS: at(11, 1), ThreadTS: at(11, 0), User: "U2", Text: ":+1:"},
		{Channel: "C1", TS: at(12, 0), ThreadTS: at(12, 0), User: "U3", Text: "my secret question"},
		{Channel: "C1", TS: at(12, 1), ThreadTS: at(12, 0), User: "U1", Text: "an answer to it"},
		{Channel: "C1", TS: at(13, 0), ThreadTS: archive.FormatTS(time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)), User: "U3", Text: "my private reply"},
		{Channel: "C3", TS: at(9, 0), ThreadTS: at(9, 0), User: "U1", Text: "random question"},
		{Channel: "C3", TS: at(9, 5), ThreadTS: at(9, 0), User: "U2", Text: "random answer"},
	}); err != nil {
		t.Fatal(err)
	}
}

func threadServer(t testing.TB, cfg archive.Config) *httptest.Server {
	t.Helper()
	if cfg.BaseURL == "" {
		cfg.BaseURL = base
	}
	return serveFilled(t, cfg, web.Options{}, seedThreads)
}

// getNoRedirect gets path and returns the response as it came, redirects
// not followed.
func getNoRedirect(t testing.TB, srv *httptest.Server, path string) (*http.Response, string) {
	t.Helper()
	c := *srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func TestThreadPages(t *testing.T) {
	t.Parallel()
	srv := threadServer(t, archive.Config{Title: "Townhall archive", IndexedChannels: []string{"general"}, Exclude: []string{"hidden-channel"}})
	tests := []struct {
		path    string
		status  int
		want    []string
		notWant []string
	}{
		{reunionPath, 200, []string{
			`<title>The réunion is on Friday, @Bob Quiet · #general · Townhall archive</title>`,
			`<link rel="canonical" href="` + base + reunionPath + `">`,
			`<meta property="og:title" content="The réunion is on Friday, @Bob Quiet">`,
			`<meta property="og:url" content="` + base + reunionPath + `">`,
			`<meta property="og:type" content="article">`,
			`<meta name="description" content="The réunion is on Friday, @Bob Quiet">`,
			`<script type="application/ld+json">`, `"@type":"DiscussionForumPosting"`,
			`<h1 dir="auto">The réunion is on Friday, @Bob Quiet</h1>`,
			`The <strong>réunion</strong> is on Friday`, "I&#39;ll bring the agenda", "Thanks!", "The minutes are up",
			"<h2>3 replies</h2>", `href="/c/general/p1709283600000000"`,
		}, []string{"noindex", "my private reply", "hidden at the author", "*réunion*"}},
		{russianPath, 200, []string{`<h1 dir="auto">Собрание в пятницу</h1>`, "Да, в шесть", `<link rel="canonical" href="` + base + russianPath + `">`}, []string{"noindex"}},
		{chinesePath, 200, []string{`<h1 dir="auto">明天下午会议</h1>`, "好的"}, nil},
		{emojiPath, 200, []string{`<h1 dir="auto">🎉 🎉</h1>`, `<link rel="canonical" href="` + base + emojiPath + `">`}, nil},
		// A message nobody answered has a page, kept out of search engines.
		{"/c/general/t/1709287200000000-%D8%A7%D8%AC%D8%AA%D9%85%D8%A7%D8%B9-%D8%A7%D9%84%D9%84%D8%AC%D9%86%D8%A9-%D8%BA%D8%AF%D8%A7", 200,
			[]string{`<h1 dir="auto">اجتماع اللجنة غداً</h1>`, "No replies yet", `<meta name="robots" content="noindex">`}, nil},
		{hiddenRoot, 410, []string{"hidden at its author&#39;s request"}, []string{"my secret question", "an answer to it"}},
		{"/c/general/t/17092836", 404, []string{"not in the archive"}, nil},
		{"/c/general/t/nope", 404, []string{"not a thread"}, nil},
		{"/c/hidden-channel/t/1709283600000000", 404, nil, []string{"not published"}},
		// The permalink and the day point to the thread's page.
		{"/c/general/p1709284200000000", 200, []string{`<link rel="canonical" href="` + base + reunionPath + `">`, `<a href="` + reunionPath + `">the thread's page</a>`, `class="msg focus"`}, nil},
		{"/c/general/2024-03-01", 200, []string{`<a href="` + reunionPath + `">Open the thread's page</a>`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			resp, body := getNoRedirect(t, srv, tt.path)
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d\n%s", resp.StatusCode, tt.status, body)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %q:\n%s", w, body)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(body, w) {
					t.Errorf("page has %q", w)
				}
			}
		})
	}
}

// TestThreadRedirects checks that a thread reached by a wrong slug, no
// slug, or a reply's ts is sent (301) to its one address.
func TestThreadRedirects(t *testing.T) {
	t.Parallel()
	srv := threadServer(t, archive.Config{IndexedChannels: []string{"general"}})
	for _, tt := range []struct{ path, to string }{
		{"/c/general/t/1709283600000000", reunionPath},
		{"/c/general/t/1709283600000000-old-title", reunionPath},
		{"/c/general/t/1709283600000000-the-reunion-is-on-friday-bob-quiet-", reunionPath},
		{"/c/general/t/1709283600-the-reunion-is-on-friday-bob-quiet", ""}, // not a ts of this archive: 404 below
		{"/c/general/t/1709283900000000", reunionPath + "#m1709283900000000"},
		{"/c/general/t/1709456400000000-sobranie", russianPath},
		{"/c/general/t/1709463600000000-tada", emojiPath},
	} {
		resp, _ := getNoRedirect(t, srv, tt.path)
		if tt.to == "" {
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s: %d, want 404", tt.path, resp.StatusCode)
			}
			continue
		}
		if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != tt.to {
			t.Errorf("%s: %d to %q, want 301 to %q", tt.path, resp.StatusCode, resp.Header.Get("Location"), tt.to)
			continue
		}
		if resp, _ := getNoRedirect(t, srv, strings.Split(tt.to, "#")[0]); resp.StatusCode != 200 {
			t.Errorf("%s redirects to %s, which is %d", tt.path, tt.to, resp.StatusCode)
		}
	}
}

// TestThreadPageLight checks a thread page's weight: under 30 kB of HTML
// and CSS together.
func TestThreadPageLight(t *testing.T) {
	t.Parallel()
	srv := threadServer(t, archive.Config{IndexedChannels: []string{"general"}})
	_, page := get(t, srv, reunionPath)
	_, css := get(t, srv, "/style.css")
	if n := len(page) + len(css); n > 30_000 {
		t.Errorf("a thread page and its stylesheet weigh %d bytes, more than 30 kB", n)
	}
	t.Logf("thread page %d bytes, stylesheet %d bytes", len(page), len(css))
}

var ldScript = regexp.MustCompile(`(?s)<script type="application/ld\+json">(.*?)</script>`)

// TestStructuredData checks the schema.org data of thread pages against
// the properties schema.org and Google document for DiscussionForumPosting
// (checkPosting).
func TestStructuredData(t *testing.T) {
	t.Parallel()
	srv := threadServer(t, archive.Config{IndexedChannels: []string{"general"}})
	for _, path := range []string{reunionPath, russianPath, chinesePath, emojiPath} {
		_, body := get(t, srv, path)
		m := ldScript.FindAllStringSubmatch(body, -1)
		if len(m) != 1 {
			t.Errorf("%s: %d JSON-LD scripts, want 1", path, len(m))
			continue
		}
		var ld map[string]any
		if err := json.Unmarshal([]byte(m[0][1]), &ld); err != nil {
			t.Errorf("%s: JSON-LD does not parse: %v\n%s", path, err, m[0][1])
			continue
		}
		for _, p := range checkPosting(ld, base+path) {
			t.Errorf("%s: %s", path, p)
		}
	}
	_, body := get(t, srv, reunionPath)
	var ld map[string]any
	json.Unmarshal([]byte(ldScript.FindStringSubmatch(body)[1]), &ld)
	comments, _ := ld["comment"].([]any)
	if len(comments) != 3 {
		t.Fatalf("%d comments, want the 3 shown replies (not the opted-out member's)", len(comments))
	}
	if c := comments[0].(map[string]any); c["text"] != "I'll bring the agenda and coffee ☕" || c["author"].(map[string]any)["name"] != "Bob Quiet" {
		t.Errorf("first comment = %v", c)
	}
	if ld["text"] != "The réunion is on Friday, @Bob Quiet" || ld["headline"] != "The réunion is on Friday, @Bob Quiet" {
		t.Errorf("text %q, headline %q", ld["text"], ld["headline"])
	}
	stat := ld["interactionStatistic"].([]any)[0].(map[string]any)
	if stat["userInteractionCount"] != 3.0 {
		t.Errorf("interactionStatistic = %v, want 3 replies", stat)
	}
}

// checkPosting returns what is wrong with a DiscussionForumPosting, by
// Google's documented properties
// (https://developers.google.com/search/docs/appearance/structured-data/discussion-forum)
// and schema.org's types (https://schema.org/DiscussionForumPosting):
//   - required: author (a Person or Organization with a name), datePublished
//     (ISO 8601), and one of text, image or video;
//   - recommended, which the archive always has: headline, url (the page's
//     canonical address), comment (each a Comment with the same required
//     properties, and a url), interactionStatistic (InteractionCounter items
//     with an interactionType and a whole userInteractionCount), and
//     mainEntityOfPage; dateModified when present is ISO 8601;
//   - JSON-LD's @context is schema.org.
func checkPosting(ld map[string]any, url string) []string {
	var probs []string
	bad := func(format string, args ...any) { probs = append(probs, fmt.Sprintf(format, args...)) }
	if ld["@context"] != "https://schema.org" && ld["@context"] != "http://schema.org" {
		bad("@context = %v, want https://schema.org", ld["@context"])
	}
	if ld["@type"] != "DiscussionForumPosting" {
		bad("@type = %v", ld["@type"])
	}
	checkWork := func(what string, w map[string]any) {
		a, ok := w["author"].(map[string]any)
		if !ok {
			bad("%s: no author", what)
		} else {
			if a["@type"] != "Person" && a["@type"] != "Organization" {
				bad("%s: author @type = %v, want Person or Organization", what, a["@type"])
			}
			if n, _ := a["name"].(string); strings.TrimSpace(n) == "" {
				bad("%s: author has no name", what)
			}
		}
		for _, k := range []string{"datePublished", "dateModified"} {
			v, ok := w[k]
			if !ok && k == "dateModified" {
				continue
			}
			s, _ := v.(string)
			if _, err := time.Parse(time.RFC3339, s); err != nil {
				bad("%s: %s %q is not an ISO 8601 date and time", what, k, s)
			}
		}
		text, _ := w["text"].(string)
		if strings.TrimSpace(text) == "" && w["image"] == nil && w["video"] == nil {
			bad("%s: none of text, image or video", what)
		}
		if u, _ := w["url"].(string); !strings.HasPrefix(u, "https://") {
			bad("%s: url %q is not absolute", what, u)
		}
	}
	checkWork("posting", ld)
	if h, _ := ld["headline"].(string); strings.TrimSpace(h) == "" || len([]rune(h)) > 110 {
		bad("headline %q: want one of 1 to 110 characters", h)
	}
	if ld["url"] != url || ld["mainEntityOfPage"] != url {
		bad("url %v, mainEntityOfPage %v, want the canonical %s", ld["url"], ld["mainEntityOfPage"], url)
	}
	stats, _ := ld["interactionStatistic"].([]any)
	if len(stats) == 0 {
		bad("no interactionStatistic")
	}
	for _, s := range stats {
		st, _ := s.(map[string]any)
		n, isNum := st["userInteractionCount"].(float64)
		if st["@type"] != "InteractionCounter" || !strings.HasPrefix(fmt.Sprint(st["interactionType"]), "https://schema.org/") || !isNum || n != float64(int(n)) || n < 0 {
			bad("interactionStatistic %v: want an InteractionCounter with a schema.org interactionType and a whole userInteractionCount", st)
		}
	}
	comments, ok := ld["comment"].([]any)
	if _, has := ld["comment"]; has && !ok {
		bad("comment is not a list")
	}
	for i, c := range comments {
		cm, _ := c.(map[string]any)
		if cm["@type"] != "Comment" {
			bad("comment %d: @type = %v", i, cm["@type"])
		}
		checkWork(fmt.Sprintf("comment %d", i), cm)
	}
	return probs
}

// TestSitemap is issue #14's "done when": the sitemap of an indexed
// channel lists its thread pages, and a channel that is not indexed
// appears nowhere in it (nor in robots.txt).
func TestSitemap(t *testing.T) {
	t.Parallel()
	srv := threadServer(t, archive.Config{IndexedChannels: []string{"general", "hidden-channel"}, Exclude: []string{"hidden-channel"}})
	resp, body := get(t, srv, "/sitemap.xml")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/xml") {
		t.Fatalf("sitemap.xml: %d %s\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	var set struct {
		XMLName xml.Name
		URLs    []struct {
			Loc     string `xml:"loc"`
			LastMod string `xml:"lastmod"`
		} `xml:"url"`
	}
	if err := xml.Unmarshal([]byte(body), &set); err != nil {
		t.Fatal(err)
	}
	if set.XMLName.Space != "http://www.sitemaps.org/schemas/sitemap/0.9" || set.XMLName.Local != "urlset" {
		t.Errorf("root element %v", set.XMLName)
	}
	var locs []string
	for _, u := range set.URLs {
		locs = append(locs, u.Loc)
		if _, err := time.Parse(time.RFC3339, u.LastMod); err != nil {
			t.Errorf("%s: lastmod %q", u.Loc, u.LastMod)
		}
	}
	want := []string{base + "/c/general/", base + reunionPath, base + russianPath, base + chinesePath, base + emojiPath}
	if strings.Join(locs, "\n") != strings.Join(want, "\n") {
		t.Errorf("sitemap lists\n%s\nwant\n%s", strings.Join(locs, "\n"), strings.Join(want, "\n"))
	}
	for _, nowhere := range []string{"random", "hidden-channel", "1709467200000000", "اجتماع"} {
		if strings.Contains(body, nowhere) || strings.Contains(body, url.PathEscape(nowhere)) {
			t.Errorf("sitemap mentions %q:\n%s", nowhere, body)
		}
	}
	// Every page it lists is indexable.
	for _, l := range locs {
		resp, page := get(t, srv, strings.TrimPrefix(l, base))
		if resp.StatusCode != 200 || strings.Contains(page, "noindex") || resp.Header.Get("X-Robots-Tag") != "" {
			t.Errorf("%s, in the sitemap: %d, noindex %v", l, resp.StatusCode, strings.Contains(page, "noindex"))
		}
	}
	// A thread of #random, published but not indexed, says noindex.
	resp, page := get(t, srv, "/c/random/t/1709456400000000-random-question")
	if resp.StatusCode != 200 || resp.Header.Get("X-Robots-Tag") != "noindex" || !strings.Contains(page, `<meta name="robots" content="noindex">`) {
		t.Errorf("a thread of a channel not indexed: %d, X-Robots-Tag %q", resp.StatusCode, resp.Header.Get("X-Robots-Tag"))
	}
	_, robots := get(t, srv, "/robots.txt")
	wantRobots := "User-agent: *\nAllow: /c/general/\nAllow: /style.css\nAllow: /sitemap.xml\nAllow: /sitemap-\nDisallow: /\nSitemap: " + base + "/sitemap.xml\n"
	if robots != wantRobots {
		t.Errorf("robots.txt = %q, want %q", robots, wantRobots)
	}
	if resp, _ := get(t, srv, "/sitemap-1.xml"); resp.StatusCode != 404 {
		t.Errorf("sitemap-1.xml of a sitemap of one file: %d, want 404", resp.StatusCode)
	}
}

// TestSitemapNeedsBaseURL: a sitemap lists absolute addresses, so without
// TOWNHALL_ARCHIVE_BASE_URL there is none, and robots.txt names none.
func TestSitemapNeedsBaseURL(t *testing.T) {
	t.Parallel()
	srv := serveFilled(t, archive.Config{IndexedChannels: []string{"general"}}, web.Options{}, seedThreads)
	if resp, body := get(t, srv, "/sitemap.xml"); resp.StatusCode != 404 || !strings.Contains(body, "TOWNHALL_ARCHIVE_BASE_URL") {
		t.Errorf("sitemap.xml without a base URL: %d\n%s", resp.StatusCode, body)
	}
	if _, robots := get(t, srv, "/robots.txt"); strings.Contains(robots, "Sitemap") {
		t.Errorf("robots.txt = %q", robots)
	}
	_, page := get(t, srv, reunionPath)
	if !strings.Contains(page, `<link rel="canonical" href="`+reunionPath+`">`) || strings.Contains(page, "og:url") {
		t.Errorf("without a base URL a thread page should have a relative canonical link and no og:url")
	}
}

// TestNoIndexedChannels: with none indexed, robots.txt allows nothing and
// the sitemap lists nothing.
func TestNoIndexedChannels(t *testing.T) {
	t.Parallel()
	srv := threadServer(t, archive.Config{})
	if _, robots := get(t, srv, "/robots.txt"); robots != "User-agent: *\nDisallow: /\n" {
		t.Errorf("robots.txt = %q", robots)
	}
	_, body := get(t, srv, "/sitemap.xml")
	if strings.Contains(body, "<url>") {
		t.Errorf("sitemap lists pages of channels not indexed:\n%s", body)
	}
}

// TestCheckPosting checks the checker: it finds each missing required
// property.
func TestCheckPosting(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		ld   string
		want string
	}{
		{`{"@context":"https://schema.org","@type":"DiscussionForumPosting","headline":"h","text":"t","url":"https://x/","mainEntityOfPage":"https://x/","datePublished":"2024-03-01T09:00:00Z","interactionStatistic":[{"@type":"InteractionCounter","interactionType":"https://schema.org/CommentAction","userInteractionCount":0}]}`, "posting: no author"},
		{`{"@context":"https://schema.org","@type":"DiscussionForumPosting","headline":"h","text":"t","url":"https://x/","mainEntityOfPage":"https://x/","author":{"@type":"Person","name":"a"},"datePublished":"1 March","interactionStatistic":[{"@type":"InteractionCounter","interactionType":"https://schema.org/CommentAction","userInteractionCount":0}]}`, "not an ISO 8601"},
		{`{"@context":"https://schema.org","@type":"DiscussionForumPosting","headline":"h","url":"https://x/","mainEntityOfPage":"https://x/","author":{"@type":"Person","name":"a"},"datePublished":"2024-03-01T09:00:00Z","interactionStatistic":[{"@type":"InteractionCounter","interactionType":"https://schema.org/CommentAction","userInteractionCount":0}],"comment":[{"@type":"Comment","text":"c","url":"https://x/#m1","datePublished":"2024-03-01T09:00:00Z","author":{"@type":"Person","name":""}}]}`, "none of text"},
		{`{"@context":"https://schema.org","@type":"DiscussionForumPosting","headline":"h","text":"t","url":"https://x/","mainEntityOfPage":"https://x/","author":{"@type":"Person","name":"a"},"datePublished":"2024-03-01T09:00:00Z","interactionStatistic":[{"@type":"InteractionCounter","interactionType":"https://schema.org/CommentAction","userInteractionCount":0}],"comment":[{"@type":"Comment","text":"c","url":"https://x/#m1","datePublished":"2024-03-01T09:00:00Z","author":{"@type":"Person","name":""}}]}`, "comment 0: author has no name"},
	} {
		var ld map[string]any
		if err := json.Unmarshal([]byte(tt.ld), &ld); err != nil {
			t.Fatal(err)
		}
		if probs := strings.Join(checkPosting(ld, "https://x/"), "; "); !strings.Contains(probs, tt.want) {
			t.Errorf("checkPosting found %q, want %q", probs, tt.want)
		}
	}
}

// TestNumberedPages checks that a channel's numbered pages count from its
// oldest thread, threadsPerPage (50) to a page, and that new messages
// never change what an earlier page shows.
func TestNumberedPages(t *testing.T) {
	t.Parallel()
	var a archive.Archive
	start := time.Date(2023, 1, 1, 9, 0, 0, 0, time.UTC)
	put := func(t testing.TB, from, to int) {
		var ms []archive.Message
		for i := from; i < to; i++ {
			ts := archive.FormatTS(start.Add(time.Duration(i) * time.Hour))
			ms = append(ms, archive.Message{Channel: "C9", TS: ts, ThreadTS: ts, User: "U1", Text: fmt.Sprintf("Question number %d", i)},
				archive.Message{Channel: "C9", TS: archive.FormatTS(start.Add(time.Duration(i)*time.Hour + time.Minute)), ThreadTS: ts, User: "U2", Text: "an answer"})
		}
		if _, err := a.PutMessages(t.Context(), ms); err != nil {
			t.Fatal(err)
		}
	}
	srv := serveFilled(t, archive.Config{}, web.Options{}, func(t testing.TB, got archive.Archive) {
		a = got
		if err := a.PutChannel(t.Context(), archive.Channel{ID: "C9", Name: "history"}); err != nil {
			t.Fatal(err)
		}
		for _, u := range []archive.User{{ID: "U1", Name: "ada"}, {ID: "U2", Name: "bob"}} {
			a.PutUser(t.Context(), u)
		}
		put(t, 0, 120)
	})
	_, page2 := get(t, srv, "/c/history/page/2")
	for _, w := range []string{"page 2 of 3", "Question number 50<", "Question number 99<", `href="/c/history/page/1" rel="prev"`, `href="/c/history/page/3" rel="next"`, "1 reply"} {
		if !strings.Contains(page2, w) {
			t.Errorf("page 2 lacks %q:\n%s", w, page2)
		}
	}
	if strings.Contains(page2, "Question number 49<") || strings.Contains(page2, "Question number 100<") {
		t.Errorf("page 2 shows another page's threads")
	}
	if _, ch := get(t, srv, "/c/history/"); !strings.Contains(ch, `href="/c/history/page/3">the newest (page 3)</a>`) {
		t.Errorf("the channel page does not link its newest numbered page:\n%s", ch)
	}
	put(t, 120, 200) // new threads: pages 3 and 4 fill, page 2 stays
	if _, again := get(t, srv, "/c/history/page/2"); strings.ReplaceAll(again, "page 2 of 4", "page 2 of 3") != page2 {
		t.Errorf("page 2 changed when new messages came")
	}
	_, page4 := get(t, srv, "/c/history/page/4")
	if !strings.Contains(page4, "Question number 150<") || !strings.Contains(page4, "Question number 199<") || strings.Contains(page4, "rel=\"next\"") {
		t.Errorf("page 4:\n%s", page4)
	}
	for _, p := range []string{"/c/history/page/5", "/c/history/page/0", "/c/history/page/02", "/c/history/page/x"} {
		if resp, _ := get(t, srv, p); resp.StatusCode != 404 {
			t.Errorf("%s: %d, want 404", p, resp.StatusCode)
		}
	}
}
