package web

import (
	"context"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/townhall/townhall/integrations/archive"
)

type searchPage struct {
	Query    string
	Newest   bool
	Hits     []hitView
	Page     int
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
	if raw == "" {
		h.render(w, r, http.StatusOK, "search", page{Title: "Search", Body: sp}, time.Minute)
		return
	}
	sp.Searched = true
	q, err := archive.ParseQuery(raw, h.loc)
	if err != nil {
		sp.Error = err.Error()
	}
	q.Newest, q.Limit, q.Offset = sp.Newest, searchPageSize, (pageNum-1)*searchPageSize
	res, err := h.searchPublished(ctx, q)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rc := h.newRenderCtx(ctx)
	for _, hit := range res.Hits {
		c := archive.Channel{ID: hit.Channel, Name: hit.ChannelName}
		hv := hitView{view: rc.view(c, hit.Message, time.Time{}), ChannelName: hit.ChannelName}
		hv.Snippet = highlight(rc.markup.Plain(hit.Text), q.Terms)
		sp.Hits = append(sp.Hits, hv)
	}
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
	h.render(w, r, http.StatusOK, "search", page{Title: "Search: " + raw, Query: raw, Body: sp}, time.Minute)
}

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

// maxSnippet bounds a search result's text, in bytes.
const maxSnippet = 600

// highlight escapes plain text and marks the query's terms in it.
func highlight(text string, terms []archive.Term) template.HTML {
	spans := archive.Highlights(text, terms)
	start := 0
	if len(spans) > 0 && spans[0].Start > maxSnippet/2 {
		start = spans[0].Start - maxSnippet/4
		for start < len(text) && !utf8Start(text[start]) {
			start++
		}
	}
	var b strings.Builder
	if start > 0 {
		b.WriteString("…")
	}
	pos := start
	for _, sp := range spans {
		if sp.Start < pos {
			continue
		}
		if sp.Start-start > maxSnippet {
			break
		}
		b.WriteString(template.HTMLEscapeString(text[pos:sp.Start]))
		b.WriteString("<mark>" + template.HTMLEscapeString(text[sp.Start:sp.End]) + "</mark>")
		pos = sp.End
	}
	end := min(len(text), max(pos, start+maxSnippet))
	for end < len(text) && !utf8Start(text[end]) {
		end++
	}
	b.WriteString(template.HTMLEscapeString(text[pos:end]))
	if end < len(text) {
		b.WriteString("…")
	}
	return template.HTML(b.String())
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }
