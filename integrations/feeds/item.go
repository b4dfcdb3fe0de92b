package feeds

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mmcdole/gofeed"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/townhall/townhall/integrations/feeds/xapi"
)

// Item is one post or article, from any kind of source, as it is shown.
// Every string is plain text, not yet escaped for mrkdwn.
type Item struct {
	ID        string // stable per source: a GUID, an Atom id, a post ID
	Link      string // http(s) only, "" if the source gave none usable
	Title     string // articles have one; social posts do not
	Text      string
	Author    Author
	Published time.Time // zero if the source did not say
	Image     *Image
	Quote     *Quote // a quoted post
	Reply     bool   // a reply to another post
	Repost    bool   // a repost of someone else's post
}

// Author is who wrote an item.
type Author struct {
	Name      string
	Handle    string // "@user" where the source has handles
	AvatarURL string
	URL       string // the profile or site, for "N more items"
}

// Image is a picture to show with an item.
type Image struct {
	URL string
	Alt string
}

// Quote is a post quoted by an item.
type Quote struct {
	Author string
	Text   string
	Link   string
}

// envID names an environment subscription by its source, so it keeps its
// cursors when entries are reordered or channels change.
func envID(s Subscription) string {
	sum := sha256.Sum256([]byte(s.Kind + " " + strings.ToLower(s.Source)))
	return "env-" + hex.EncodeToString(sum[:3])
}

// itemKey shortens an item ID for claim keys.
func itemKey(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:12])
}

// maxURL is Slack's limit on an image's or a button's url; a longer one
// gets the whole message refused.
const maxURL = 3000

// httpLink returns s if it is an absolute http(s) URL of at most maxURL
// characters, else "".
func httpLink(s string) string {
	s = strings.TrimSpace(s)
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(u.String()) > maxURL {
		return ""
	}
	return u.String()
}

// feedItems turns a parsed feed into items, oldest first. base is the
// address the document was fetched from: relative links (as Jekyll writes
// them) are resolved against the feed's own link, or else against base.
// Entries with neither an ID nor a usable link are malformed: they are
// skipped and counted.
func feedItems(f *gofeed.Feed, base string) (items []Item, malformed int) {
	bu, _ := url.Parse(base)
	if site, err := url.Parse(strings.TrimSpace(f.Link)); err == nil && bu != nil {
		bu = bu.ResolveReference(site)
	}
	abs := func(s string) string {
		s = strings.TrimSpace(s)
		if u, err := url.Parse(s); err == nil && bu != nil && s != "" {
			s = bu.ResolveReference(u).String()
		}
		return httpLink(s)
	}
	// The feed's title is read as its items' are: Atom's type="html"
	// titles (Jekyll's "Attack &amp;amp; Defense") are HTML, and RSS
	// titles are too in practice.
	site := Author{Name: htmlText(f.Title, 300), URL: abs(f.Link)}
	if f.Image != nil {
		site.AvatarURL = abs(f.Image.URL)
	}
	site.Name, site.Handle = splitFeedTitle(site.Name)
	for _, e := range f.Items {
		if e == nil {
			malformed++
			continue
		}
		it := Item{
			ID:     strings.TrimSpace(e.GUID),
			Link:   abs(e.Link),
			Title:  htmlText(e.Title, 300),
			Author: site,
		}
		if it.Link == "" {
			it.Link = mediaLink(e, abs) // a podcast episode without a page
		}
		if it.Title == pixelfedNoCaption && strings.HasSuffix(site.Name, " on Pixelfed") {
			it.Title = ""
		}
		if it.ID == "" {
			it.ID = it.Link
		}
		if it.ID == "" {
			malformed++
			continue
		}
		body := e.Description
		if body == "" || (len(e.Content) > 0 && it.Title == "") {
			body = e.Content
		}
		if body == "" {
			body = mediaGroup(e, "description") // YouTube's and PeerTube's
		}
		it.Text = htmlText(body, 1200)
		if it.Title != "" && strings.HasPrefix(it.Text, it.Title) {
			// A summary that only repeats the title says nothing; an
			// article that opens with its title (Medium's) says it twice.
			if rest := it.Text[len(it.Title):]; len(rest) <= 3 {
				it.Text = ""
			} else if strings.HasPrefix(rest, "\n") {
				it.Text = strings.TrimSpace(rest)
			}
		}
		if it.Title == "" && it.Text == "" && it.Link == "" {
			malformed++
			continue
		}
		if len(e.Authors) > 0 && e.Authors[0] != nil && strings.TrimSpace(e.Authors[0].Name) != "" && site.Name == "" {
			it.Author.Name = strings.TrimSpace(e.Authors[0].Name)
		}
		it.Published = itemDate(e)
		it.Image = itemImage(e, abs)
		items = append(items, it)
	}
	// Feeds list newest first by convention, so reversing the document is
	// the best guess at the order items were written in. Where every item
	// has a date, the dates decide, and the document order (reversed)
	// breaks ties: Bluesky's dates stop at the minute.
	slices.Reverse(items)
	if !slices.ContainsFunc(items, func(it Item) bool { return it.Published.IsZero() }) {
		slices.SortStableFunc(items, func(a, b Item) int { return a.Published.Compare(b.Published) })
	}
	return items, malformed
}

// pixelfedNoCaption is the title Pixelfed's Atom feeds give a post
// without a caption; it is not shown.
const pixelfedNoCaption = "No caption"

// mediaLink is the URL of an item's audio or video enclosure, for items
// that link to no page (some podcast hosts' episodes); "" if none.
func mediaLink(e *gofeed.Item, abs func(string) string) string {
	for _, enc := range e.Enclosures {
		if enc != nil && (strings.HasPrefix(enc.Type, "audio/") || strings.HasPrefix(enc.Type, "video/")) {
			if u := abs(enc.URL); u != "" {
				return u
			}
		}
	}
	return ""
}

// itemDate is when an item was published: gofeed's parsed date, else the
// raw string read with the layouts gofeed lacks; then the same for the
// date it was updated. Zero if none is usable.
func itemDate(e *gofeed.Item) time.Time {
	if e.PublishedParsed != nil {
		return *e.PublishedParsed
	}
	if t := parseDate(e.Published); !t.IsZero() {
		return t
	}
	if e.UpdatedParsed != nil {
		return *e.UpdatedParsed
	}
	return parseDate(e.Updated)
}

// dateLayouts are date forms seen in real feeds that gofeed does not read
// (or might stop reading): Bluesky's pubDate has no weekday and no
// seconds; feeds written by JavaScript carry Date.toString(); some write
// ISO 8601's basic form or a zone name in parentheses after the offset
// (removed before these are tried).
var dateLayouts = []string{
	"02 Jan 2006 15:04 -0700",                   // Bluesky
	"2 Jan 2006 15:04 -0700",                    // Bluesky, day unpadded
	"Mon, 02 Jan 2006 15:04:05 -0700",           // RFC 1123 with "(CET)" removed
	"Mon Jan 02 2006 15:04:05 GMT-0700",         // JavaScript, "(…)" removed
	"20060102T150405Z0700",                      // ISO 8601 basic
	"20060102T150405Z",                          // ISO 8601 basic, UTC
	"2006-01-02T15:04:05.999999999Z07:00",       // RFC 3339, for completeness
	"Monday, 02 Jan 2006 15:04:05 -0700",        // a full weekday
	"Mon, 02 Jan 2006 15:04:05.999999999 -0700", // fractional seconds
}

// parseDate reads s with dateLayouts; zero if none fits. Times without a
// zone are never guessed at: every layout carries one.
func parseDate(s string) time.Time {
	s = strings.Join(strings.Fields(s), " ")
	if k := strings.LastIndex(s, " ("); k > 0 && strings.HasSuffix(s, ")") {
		s = s[:k]
	}
	if s == "" {
		return time.Time{}
	}
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t
		}
	}
	return localisedDate(s)
}

// localMonths are the month abbreviations of RFC 822 dates that feeds
// write in their own language (UOL's "Seg, 24 Set 2018 19:42:40 -0300"):
// Portuguese, Spanish, Italian, German and French, by their English ones.
var localMonths = map[string]string{
	"jan": "Jan", "fev": "Feb", "abr": "Apr", "mai": "May", "ago": "Aug", "set": "Sep", "out": "Oct", "dez": "Dec", // pt
	"ene": "Jan", "may": "May", "dic": "Dec", "sep": "Sep", "oct": "Oct", // es
	"gen": "Jan", "mag": "May", "giu": "Jun", "lug": "Jul", "ott": "Oct", // it
	"mär": "Mar", "mrz": "Mar", "okt": "Oct", // de
	"janv": "Jan", "févr": "Feb", "fevr": "Feb", "mars": "Mar", "avr": "Apr", "juin": "Jun", "juil": "Jul", "août": "Aug", "aout": "Aug", "sept": "Sep", "déc": "Dec", // fr
}

// localisedDate reads an RFC 822 date whose weekday and month are not
// English: the weekday (which says nothing the date does not) is dropped
// and the month translated; zero if it still does not read.
func localisedDate(s string) time.Time {
	f := strings.Fields(s)
	if len(f) > 0 && strings.HasSuffix(f[0], ",") {
		f = f[1:]
	}
	if len(f) != 5 {
		return time.Time{}
	}
	m := strings.ToLower(strings.TrimSuffix(f[1], "."))
	if en, ok := localMonths[m]; ok {
		f[1] = en
	}
	for _, l := range []string{"2 Jan 2006 15:04:05 -0700", "2 Jan 2006 15:04:05 MST", "2 Jan 2006 15:04 -0700"} {
		if t, err := time.Parse(l, strings.Join(f, " ")); err == nil {
			return t
		}
	}
	return time.Time{}
}

// splitFeedTitle reads Bluesky's feed titles, "@handle - Name", into name
// and handle.
func splitFeedTitle(title string) (name, handle string) {
	if h, n, ok := strings.Cut(title, " - "); ok && strings.HasPrefix(h, "@") && !strings.Contains(h, " ") {
		return strings.TrimSpace(n), h
	}
	return title, ""
}

// itemImage finds a picture: Media RSS content (as Mastodon sends
// attachments, with their descriptions), the item's image, an image
// enclosure, or a Media RSS thumbnail (YouTube's and PeerTube's, in a
// media:group or not). abs resolves and checks a URL.
func itemImage(e *gofeed.Item, abs func(string) string) *Image {
	for _, c := range e.Extensions["media"]["content"] {
		typ, medium := c.Attrs["type"], c.Attrs["medium"]
		if (medium == "image" || strings.HasPrefix(typ, "image/")) && abs(c.Attrs["url"]) != "" {
			img := &Image{URL: abs(c.Attrs["url"])}
			for _, d := range c.Children["description"] {
				img.Alt = strings.TrimSpace(d.Value)
			}
			return img
		}
	}
	if e.Image != nil && abs(e.Image.URL) != "" && !trackingPixel(e.Content+e.Description, e.Image.URL) {
		return &Image{URL: abs(e.Image.URL), Alt: e.Image.Title}
	}
	for _, enc := range e.Enclosures {
		if enc != nil && strings.HasPrefix(enc.Type, "image/") && abs(enc.URL) != "" {
			return &Image{URL: abs(enc.URL)}
		}
	}
	thumbs := e.Extensions["media"]["thumbnail"]
	for _, g := range e.Extensions["media"]["group"] {
		thumbs = append(thumbs, g.Children["thumbnail"]...)
	}
	for _, t := range thumbs {
		if u := abs(t.Attrs["url"]); u != "" {
			return &Image{URL: u, Alt: strings.TrimSpace(mediaGroup(e, "title"))}
		}
	}
	return nil
}

// trackingPixel reports whether the HTML doc shows src as an image of at
// most 1×1 pixel, as Medium counts its readers: gofeed takes the first
// image of an item's content for its picture, and that one is no picture.
func trackingPixel(doc, src string) bool {
	z := html.NewTokenizer(strings.NewReader(doc))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return false
		case html.StartTagToken, html.SelfClosingTagToken:
			name, more := z.TagName()
			if atom.Lookup(name) != atom.Img {
				continue
			}
			var u, w, h string
			for more {
				var k, v []byte
				k, v, more = z.TagAttr()
				switch string(k) {
				case "src":
					u = string(v)
				case "width":
					w = string(v)
				case "height":
					h = string(v)
				}
			}
			if u == src {
				return (w == "0" || w == "1") && (h == "0" || h == "1")
			}
		}
	}
}

// mediaGroup is the text of a Media RSS element (such as "description")
// of the item or of its media:group, "" if it has none.
func mediaGroup(e *gofeed.Item, name string) string {
	exts := e.Extensions["media"][name]
	for _, g := range e.Extensions["media"]["group"] {
		exts = append(exts, g.Children[name]...)
	}
	for _, x := range exts {
		if v := strings.TrimSpace(x.Value); v != "" {
			return v
		}
	}
	return ""
}

// htmlText renders an HTML fragment as plain text: paragraphs and line
// breaks become new lines, scripts and styles vanish, entities are decoded,
// runs of spaces shrink to one, and the result is cut at max runes with an
// ellipsis.
func htmlText(s string, max int) string {
	if !strings.ContainsAny(s, "<&") {
		return truncate(collapse(s), max)
	}
	var b strings.Builder
	z := html.NewTokenizer(strings.NewReader(s))
	skip := 0
	for {
		switch z.Next() {
		case html.ErrorToken:
			return truncate(collapse(b.String()), max)
		case html.TextToken:
			if skip == 0 {
				b.Write(z.Text())
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			switch atom.Lookup(name) {
			case atom.Script, atom.Style:
				skip++
			case atom.Br:
				b.WriteByte('\n')
			case atom.Li:
				b.WriteString("\n• ")
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			switch atom.Lookup(name) {
			case atom.Script, atom.Style:
				if skip > 0 {
					skip--
				}
			case atom.P, atom.Div, atom.Blockquote, atom.H1, atom.H2, atom.H3, atom.H4, atom.Ul, atom.Ol:
				b.WriteString("\n\n")
			}
		}
	}
}

// collapse trims each line, shrinks runs of spaces and keeps at most one
// blank line in a row.
func collapse(s string) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r", ""), "\n")
	out := lines[:0]
	blank := true
	for _, l := range lines {
		l = strings.Join(strings.Fields(l), " ")
		if l == "" {
			if !blank {
				out = append(out, "")
			}
			blank = true
			continue
		}
		out = append(out, l)
		blank = false
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}

// truncate cuts s to at most max runes, ending with "…" when it cut.
func truncate(s string, max int) string {
	if max <= 0 || utf8.RuneCountInString(s) <= max {
		return s
	}
	return strings.TrimRight(string([]rune(s)[:max-1]), " \n") + "…"
}

// tweetItems turns pages of posts (newest first) into items, oldest first.
func tweetItems(user xapi.User, pages []xapi.TweetsPage) []Item {
	var items []Item
	for _, p := range pages {
		media := map[string]xapi.Media{}
		for _, m := range p.Includes.Media {
			media[m.MediaKey] = m
		}
		users := map[string]xapi.User{}
		for _, u := range p.Includes.Users {
			users[u.ID] = u
		}
		quoted := map[string]xapi.Tweet{}
		for _, t := range p.Includes.Tweets {
			quoted[t.ID] = t
		}
		for _, t := range p.Tweets {
			author := user
			if u, ok := users[t.AuthorID]; ok {
				author = u
			}
			it := Item{
				ID:        t.ID,
				Link:      "https://x.com/" + author.Username + "/status/" + t.ID,
				Text:      tweetText(t),
				Published: t.CreatedAt,
				Author: Author{Name: author.Name, Handle: "@" + author.Username,
					AvatarURL: httpLink(author.ProfileImageURL), URL: "https://x.com/" + author.Username},
			}
			for _, r := range t.ReferencedTweets {
				switch r.Type {
				case xapi.RefRepliedTo:
					it.Reply = true
				case xapi.RefRetweeted:
					it.Repost = true
				case xapi.RefQuoted:
					if q, ok := quoted[r.ID]; ok {
						qa := users[q.AuthorID]
						it.Quote = &Quote{Text: tweetText(q), Author: qa.Name}
						if qa.Username != "" {
							it.Quote.Author = qa.Name + " @" + qa.Username
							it.Quote.Link = "https://x.com/" + qa.Username + "/status/" + q.ID
						}
					}
				}
			}
			if t.Attachments != nil {
				for _, k := range t.Attachments.MediaKeys {
					m, ok := media[k]
					if !ok {
						continue
					}
					u := m.URL
					if u == "" {
						u = m.PreviewImageURL // videos and GIFs show their poster
					}
					if httpLink(u) != "" {
						it.Image = &Image{URL: httpLink(u), Alt: m.AltText}
						break
					}
				}
			}
			items = append(items, it)
		}
	}
	slices.SortFunc(items, func(a, b Item) int { return xapi.CompareIDs(a.ID, b.ID) })
	return slices.CompactFunc(items, func(a, b Item) bool { return a.ID == b.ID })
}

// tweetText is a post's text with its t.co links expanded and the links
// to its own media dropped (the media is shown as an image). X escapes
// &, < and > in text as HTML entities; they are decoded here and escaped
// again, for mrkdwn, when the item is shown.
func tweetText(t xapi.Tweet) string {
	text := t.Text
	if t.Entities != nil {
		for _, u := range t.Entities.URLs {
			repl := u.ExpandedURL
			if u.MediaKey != "" || strings.Contains(u.ExpandedURL, "/photo/") || strings.Contains(u.ExpandedURL, "/video/") {
				repl = ""
			}
			if u.URL != "" {
				text = strings.Replace(text, u.URL, repl, 1)
			}
		}
	}
	return collapse(html.UnescapeString(text))
}
