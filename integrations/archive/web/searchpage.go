package web

import (
	"context"
	"fmt"
	"html"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/townhall/townhall/integrations/archive"
)

type searchPage struct {
	Query    string
	Newest   bool
	Hits     []hitView
	Page     int
	Count    string // "1 result", "240 results", "more than 1,000 results"
	Range    string // "21–40", on pages after the first
	PrevHref string
	NextHref string
	Error    string
	Searched bool
}

type hitView struct {
	view
	ChannelName string
	Snippet     template.HTML
}

// searchPageSize is how many results a search page shows.
const searchPageSize = 20

func (h *Handler) search(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	raw := strings.TrimSpace(r.URL.Query().Get("q"))
	pageNum, _ := strconv.Atoi(r.URL.Query().Get("page"))
	pageNum = max(pageNum, 1)
	sp := searchPage{Query: raw, Page: pageNum, Newest: r.URL.Query().Get("sort") == "newest"}
	zone := h.zone(time.Time{})
	if raw == "" {
		h.render(w, r, http.StatusOK, "search", page{Title: "Search", Body: sp, Zone: zone}, time.Minute)
		return
	}
	sp.Searched = true
	q, err := archive.ParseQuery(raw, h.loc)
	if err != nil {
		sp.Error = err.Error()
	}
	sp.Error = strings.TrimSpace(sp.Error + " " + strings.Join(q.Notes, " ")) // how the search was bounded
	q.Newest, q.Limit, q.Offset = sp.Newest, searchPageSize, (pageNum-1)*searchPageSize
	res, err := h.searchPublished(ctx, q)
	if err != nil {
		h.searchFailed(w, r, sp, err) // limit.go
		return
	}
	rc := h.newRenderCtx(ctx)
	for _, hit := range res.Hits {
		c := archive.Channel{ID: hit.Channel, Name: hit.ChannelName}
		hv := hitView{view: rc.view(c, hit.Message, time.Time{}), ChannelName: hit.ChannelName}
		hv.Snippet = hv.HTML
		if !hit.Hidden {
			hv.Snippet = rc.snippet(hit.Text, q.Terms)
		}
		sp.Hits = append(sp.Hits, hv)
	}
	sp.Count, sp.Range = resultCount(res, q.Offset)
	link := func(n int) string {
		v := url.Values{"q": {raw}}
		if sp.Newest {
			v.Set("sort", "newest")
		}
		if n > 1 {
			v.Set("page", strconv.Itoa(n))
		}
		return "/search?" + v.Encode()
	}
	if pageNum > 1 {
		sp.PrevHref = link(pageNum - 1)
	}
	if res.More {
		sp.NextHref = link(pageNum + 1)
	}
	h.render(w, r, http.StatusOK, "search", page{Title: "Search: " + raw, Query: raw, Body: sp, Zone: zone}, time.Minute)
}

// resultCount says how many results a search has ("240 results", "more
// than 1,000 results") and, past the first page, which of them a page
// shows ("21–40"). When the archive does not count (Count is zero), what
// the pages show is all that is known: the count is exact on the last
// page, "more than" the results so far on others.
func resultCount(res archive.Results, offset int) (total, shown string) {
	seen := offset + len(res.Hits)
	if offset > 0 && len(res.Hits) > 0 {
		shown = fmt.Sprintf("%s–%s", thousands(offset+1), thousands(seen))
	}
	switch {
	case res.Count > 0 && res.CountMore:
		return "more than " + countResults(res.Count), shown
	case res.Count > 0:
		return countResults(res.Count), shown
	case res.More:
		return "more than " + countResults(seen), shown
	}
	return countResults(seen), shown
}

func countResults(n int) string { return count(n, "result", "results") }

// searchPublished searches only the published channels.
func (h *Handler) searchPublished(ctx context.Context, q archive.Query) (archive.Results, error) {
	if len(h.cfg.Channels) == 0 && len(h.cfg.Exclude) == 0 {
		return h.a.Search(ctx, q)
	}
	if len(q.Channels) == 0 {
		chans, err := h.a.Channels(ctx)
		if err != nil {
			return archive.Results{}, err
		}
		for _, c := range chans {
			if h.cfg.Published(c.Name) {
				q.Channels = append(q.Channels, c.ID)
			}
		}
		if len(q.Channels) == 0 {
			return archive.Results{}, nil
		}
		return h.a.Search(ctx, q)
	}
	var keep []string
	for _, name := range q.Channels {
		if c, ok, err := h.a.Channel(ctx, name); err != nil {
			return archive.Results{}, err
		} else if ok && h.cfg.Published(c.Name) {
			keep = append(keep, c.ID)
		}
	}
	if len(keep) == 0 {
		return archive.Results{}, nil
	}
	q.Channels = keep
	return h.a.Search(ctx, q)
}

// maxSnippet bounds the text of a search result, in bytes of Slack
// mrkdwn: a longer message is cut, around its first match, at spaces
// outside Slack's <…> references.
const maxSnippet = 600

// snippet renders a search result's text as pages render messages
// (escaped, with mentions, emoji and formatting), cut to maxSnippet around
// its first match, the query's terms marked.
func (rc *renderCtx) snippet(text string, terms []archive.Term) template.HTML {
	cut, before, after := window(text, terms, maxSnippet)
	out := markTerms(string(rc.markup.HTML(cut)), terms)
	if before {
		out = "…" + out
	}
	if after {
		out += "…"
	}
	return template.HTML(out)
}

// window returns at most about max bytes of the mrkdwn text around its
// first match of terms, and whether text was cut before and after it.
// Cuts fall on spaces outside <…> references; a cut inside a ``` block
// reopens or closes it.
func window(text string, terms []archive.Term, max int) (cut string, before, after bool) {
	if len(text) <= max {
		return text, false, false
	}
	start := 0
	if spans := archive.Highlights(text, terms); len(spans) > 0 && spans[0].Start > max/2 {
		start = spans[0].Start - max/4
	}
	end := min(len(text), start+max)
	if start > 0 {
		start = cutPoint(text, start, 1)
	}
	if end < len(text) {
		end = cutPoint(text, end, -1)
	}
	if end <= start { // one long word: cut it anywhere at a character
		start, end = 0, max
		for end > 0 && !utf8.RuneStart(text[end]) {
			end--
		}
	}
	cut = text[start:end]
	if strings.Count(text[:start], "```")%2 == 1 {
		cut = "```" + cut
	}
	if strings.Count(cut, "```")%2 == 1 {
		cut += "```"
	}
	return cut, start > 0, end < len(text)
}

// cutPoint moves i (by step, 1 or -1) to a space outside any <…>
// reference, or to the text's end it moved towards.
func cutPoint(text string, i, step int) int {
	for ; i > 0 && i < len(text); i += step {
		if text[i] != ' ' && text[i] != '\n' {
			continue
		}
		open, shut := strings.LastIndexByte(text[:i], '<'), strings.LastIndexByte(text[:i], '>')
		if open <= shut {
			return i
		}
	}
	return i
}

// markTerms marks the query's terms in the text of rendered HTML (never in
// its tags or attributes). The HTML is the renderer's own, whose text and
// attribute values have < and > escaped, so tags are found by < and >.
func markTerms(h string, terms []archive.Term) string {
	if len(terms) == 0 {
		return h
	}
	var b strings.Builder
	for h != "" {
		lt := strings.IndexByte(h, '<')
		if lt < 0 {
			lt = len(h)
		}
		markText(&b, h[:lt], terms)
		h = h[lt:]
		if gt := strings.IndexByte(h, '>'); gt >= 0 {
			b.WriteString(h[:gt+1])
			h = h[gt+1:]
		} else {
			b.WriteString(h)
			h = ""
		}
	}
	return b.String()
}

// markText writes escaped text with the query's terms in <mark>.
func markText(b *strings.Builder, escaped string, terms []archive.Term) {
	text := html.UnescapeString(escaped)
	spans := archive.Highlights(text, terms)
	if len(spans) == 0 {
		b.WriteString(escaped)
		return
	}
	pos := 0
	for _, sp := range spans {
		b.WriteString(html.EscapeString(text[pos:sp.Start]))
		b.WriteString("<mark>" + html.EscapeString(text[sp.Start:sp.End]) + "</mark>")
		pos = sp.End
	}
	b.WriteString(html.EscapeString(text[pos:]))
}
