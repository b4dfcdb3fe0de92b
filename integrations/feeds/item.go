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

// feedItems turns a parsed feed into items, oldest first. Entries with
// neither an ID nor a usable link are malformed: they are skipped and
// counted.
func feedItems(f *gofeed.Feed) (items []Item, malformed int) {
	site := Author{Name: strings.TrimSpace(f.Title), URL: httpLink(f.Link)}
	if f.Image != nil {
		site.AvatarURL = httpLink(f.Image.URL)
	}
	site.Name, site.Handle = splitFeedTitle(site.Name)
	for _, e := range f.Items {
		if e == nil {
			malformed++
			continue
		}
		it := Item{
			ID:     strings.TrimSpace(e.GUID),
			Link:   httpLink(e.Link),
			Title:  htmlText(e.Title, 300),
			Author: site,
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
		it.Text = htmlText(body, 1200)
		if it.Title != "" && strings.HasPrefix(it.Text, it.Title) && len(it.Text) <= len(it.Title)+3 {
			it.Text = "" // a feed that repeats the title as its summary
		}
		if it.Title == "" && it.Text == "" && it.Link == "" {
			malformed++
			continue
		}
		if len(e.Authors) > 0 && e.Authors[0] != nil && strings.TrimSpace(e.Authors[0].Name) != "" && site.Name == "" {
			it.Author.Name = strings.TrimSpace(e.Authors[0].Name)
		}
		if e.PublishedParsed != nil {
			it.Published = *e.PublishedParsed
		} else if e.UpdatedParsed != nil {
			it.Published = *e.UpdatedParsed
		}
		it.Image = itemImage(e)
		items = append(items, it)
	}
	// Feeds list newest first by convention, but not all do: order by date
	// where every item has one, else reverse the document order.
	dated := !slices.ContainsFunc(items, func(it Item) bool { return it.Published.IsZero() })
	if dated {
		slices.SortStableFunc(items, func(a, b Item) int { return a.Published.Compare(b.Published) })
	} else {
		slices.Reverse(items)
	}
	return items, malformed
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
// attachments, with their descriptions), the item's image, or an image
// enclosure.
func itemImage(e *gofeed.Item) *Image {
	for _, c := range e.Extensions["media"]["content"] {
		typ, medium := c.Attrs["type"], c.Attrs["medium"]
		if (medium == "image" || strings.HasPrefix(typ, "image/")) && httpLink(c.Attrs["url"]) != "" {
			img := &Image{URL: httpLink(c.Attrs["url"])}
			for _, d := range c.Children["description"] {
				img.Alt = strings.TrimSpace(d.Value)
			}
			return img
		}
	}
	if e.Image != nil && httpLink(e.Image.URL) != "" {
		return &Image{URL: httpLink(e.Image.URL), Alt: e.Image.Title}
	}
	for _, enc := range e.Enclosures {
		if enc != nil && strings.HasPrefix(enc.Type, "image/") && httpLink(enc.URL) != "" {
			return &Image{URL: httpLink(enc.URL)}
		}
	}
	return nil
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
