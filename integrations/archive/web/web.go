// Package web serves the public web archive: plain server-rendered pages
// (html/template, a small stylesheet, no JavaScript) listing the published
// channels, each channel's days, one day, one message with its thread (at
// Slack's own permalink shape, /c/<channel>/p<ts digits>), search, and a
// page explaining what is archived and how to opt out. Pages say noindex
// unless their channel is in TOWNHALL_ARCHIVE_INDEXED_CHANNELS.
//
// It reads an archive.Archive and imports nothing else of townhall; it
// must never import slackapp, another integration or cmd/townhall.
package web

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/townhall/townhall/integrations/archive"
)

//go:embed templates.html
var templatesText string

//go:embed style.css
var styleCSS []byte

// Options are the handler's optional dependencies.
type Options struct {
	Location *time.Location // days and times; nil: UTC
	Now      func() time.Time
	Logger   *slog.Logger
}

// Handler serves the web archive.
type Handler struct {
	cfg  archive.Config
	a    archive.Archive
	loc  *time.Location
	now  func() time.Time
	log  *slog.Logger
	tmpl *template.Template
	mux  *http.ServeMux
}

// New returns the web archive over a for cfg's published channels. Mount
// it at the root of its own listener (TOWNHALL_ARCHIVE_ADDR), never next
// to /metrics.
func New(cfg archive.Config, a archive.Archive, o Options) (*Handler, error) {
	h := &Handler{cfg: cfg, a: a, loc: o.Location, now: o.Now, log: o.Logger}
	if h.loc == nil {
		h.loc = time.UTC
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.cfg.Title == "" {
		h.cfg.Title = "Community archive"
	}
	t, err := template.New("").Funcs(template.FuncMap{
		"digits": archive.TSDigits,
		"emoji":  Emoji,
	}).Parse(templatesText)
	if err != nil {
		return nil, fmt.Errorf("web: templates: %w", err)
	}
	h.tmpl = t
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", h.index)
	mux.HandleFunc("GET /about", h.about)
	mux.HandleFunc("GET /search", h.limitSearch(h.search)) // limit.go
	mux.HandleFunc("GET /robots.txt", h.robots)
	mux.HandleFunc("GET /style.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		w.Header().Set("Cache-Control", "public, max-age=86400")
		w.Write(styleCSS)
	})
	mux.HandleFunc("GET /c/{channel}/{$}", h.channel)
	mux.HandleFunc("GET /c/{channel}/{page}", h.channelPage)
	h.mux = mux
	return h, nil
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "same-origin")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src https: data:; form-action 'self'")
	h.mux.ServeHTTP(w, r)
}

// page is what every template gets.
type page struct {
	Site    string
	Title   string
	Index   bool // search engines may index it
	Query   string
	Body    any
	Channel *archive.Channel
}

func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, p page, maxAge time.Duration) {
	p.Site = h.cfg.Title
	var buf bytes.Buffer
	if err := h.tmpl.ExecuteTemplate(&buf, name, p); err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if !p.Index {
		w.Header().Set("X-Robots-Tag", "noindex")
	}
	if status == http.StatusOK {
		w.Header().Set("Cache-Control", fmt.Sprintf("public, max-age=%d", int(maxAge.Seconds())))
	} else {
		w.Header().Set("Cache-Control", "no-store")
	}
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	h.log.Error("web archive page failed", "path", r.URL.Path, "error", err)
	http.Error(w, "Something went wrong on our side; please try again in a minute.", http.StatusInternalServerError)
}

func (h *Handler) notFound(w http.ResponseWriter, r *http.Request, what string) {
	h.render(w, r, http.StatusNotFound, "notfound", page{Title: "Not found", Body: what}, 0)
}

func (h *Handler) robots(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	var b strings.Builder
	b.WriteString("User-agent: *\n")
	for _, c := range h.cfg.IndexedChannels {
		if h.cfg.Published(c) {
			fmt.Fprintf(&b, "Allow: /c/%s/\n", url.PathEscape(c))
		}
	}
	b.WriteString("Disallow: /\n")
	w.Write([]byte(b.String()))
}

type channelRow struct {
	archive.Channel
	LastDay string
}

func (h *Handler) index(w http.ResponseWriter, r *http.Request) {
	chans, err := h.a.Channels(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var rows []channelRow
	for _, c := range chans {
		if !h.cfg.Published(c.Name) || c.Messages == 0 && c.Last == "" {
			continue
		}
		row := channelRow{Channel: c}
		if c.Last != "" {
			row.LastDay = c.Time().In(h.loc).Format(archive.DateLayout)
		}
		rows = append(rows, row)
	}
	h.render(w, r, http.StatusOK, "index", page{Title: "Channels", Body: rows}, time.Minute)
}

func (h *Handler) about(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusOK, "about", page{Title: "About this archive"}, time.Hour)
}

// published returns the named channel if it is published.
func (h *Handler) published(ctx context.Context, name string) (archive.Channel, bool, error) {
	if !h.cfg.Published(name) {
		return archive.Channel{}, false, nil
	}
	c, ok, err := h.a.Channel(ctx, name)
	if err != nil || !ok || c.Name != name {
		return archive.Channel{}, false, err
	}
	return c, true, nil
}

// maxDays is how many days a channel's page lists.
const maxDays = 60

type dayLink struct{ Day, Weekday string }

func (h *Handler) channel(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	c, ok, err := h.published(ctx, r.PathValue("channel"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if !ok {
		h.notFound(w, r, "There is no published channel of that name.")
		return
	}
	var days []dayLink
	before := ""
	for len(days) < maxDays {
		ms, err := h.a.Messages(ctx, archive.MessageQuery{Channel: c.ID, Before: before, Desc: true, Limit: 1})
		if err != nil {
			h.fail(w, r, err)
			return
		}
		if len(ms) == 0 {
			break
		}
		t := ms[0].Time().In(h.loc)
		start := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, h.loc)
		days = append(days, dayLink{Day: start.Format(archive.DateLayout), Weekday: start.Format("Monday 2 January 2006")})
		before = archive.FormatTS(start)
	}
	h.render(w, r, http.StatusOK, "channel", page{Title: "#" + c.Name, Channel: &c, Index: h.cfg.Indexed(c.Name), Body: days}, time.Minute)
}

// view is a message ready for a template.
type view struct {
	archive.Message
	Author  string
	Avatar  string
	Time    string // 15:04
	When    string // RFC 3339
	HTML    template.HTML
	Link    string
	Replies []view
	Focus   bool
}

type dayPage struct {
	Day, Heading string
	Prev, Next   string
	Messages     []view
}

type threadPage struct {
	Parent view
	Day    string
}

func (h *Handler) channelPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	c, ok, err := h.published(ctx, r.PathValue("channel"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if !ok {
		h.notFound(w, r, "There is no published channel of that name.")
		return
	}
	p := r.PathValue("page")
	if strings.HasPrefix(p, "p") {
		h.permalink(w, r, c, p[1:])
		return
	}
	day, err := time.ParseInLocation(archive.DateLayout, p, h.loc)
	if err != nil {
		h.notFound(w, r, "Pages of a channel are days, like 2024-03-01, or messages.")
		return
	}
	next := day.AddDate(0, 0, 1)
	ms, err := h.a.Messages(ctx, archive.MessageQuery{Channel: c.ID, Since: archive.FormatTS(day), Before: archive.FormatTS(next), TopLevel: true})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rc := h.newRenderCtx(ctx)
	dp := dayPage{Day: p, Heading: day.Format("Monday 2 January 2006")}
	for _, m := range ms {
		v := rc.view(c, m)
		if m.ReplyCount > 0 {
			replies, err := h.a.Messages(ctx, archive.MessageQuery{Channel: c.ID, ThreadTS: m.TS})
			if err != nil {
				h.fail(w, r, err)
				return
			}
			for _, rep := range replies {
				if rep.TS != m.TS {
					v.Replies = append(v.Replies, rc.view(c, rep))
				}
			}
		}
		dp.Messages = append(dp.Messages, v)
	}
	if prev, err := h.a.Messages(ctx, archive.MessageQuery{Channel: c.ID, Before: archive.FormatTS(day), Desc: true, Limit: 1}); err == nil && len(prev) > 0 {
		dp.Prev = prev[0].Time().In(h.loc).Format(archive.DateLayout)
	}
	if after, err := h.a.Messages(ctx, archive.MessageQuery{Channel: c.ID, Since: archive.FormatTS(next), Limit: 1}); err == nil && len(after) > 0 {
		dp.Next = after[0].Time().In(h.loc).Format(archive.DateLayout)
	}
	maxAge := time.Hour
	if !next.Before(h.now()) { // today's page still changes
		maxAge = time.Minute
	}
	if len(dp.Messages) == 0 {
		h.render(w, r, http.StatusNotFound, "day", page{Title: "#" + c.Name + " on " + p, Channel: &c, Body: dp}, 0)
		return
	}
	h.render(w, r, http.StatusOK, "day", page{Title: "#" + c.Name + " on " + p, Channel: &c, Index: h.cfg.Indexed(c.Name), Body: dp}, maxAge)
}

func (h *Handler) permalink(w http.ResponseWriter, r *http.Request, c archive.Channel, digits string) {
	ctx := r.Context()
	ts, err := archive.TSFromDigits(digits)
	if err != nil {
		h.notFound(w, r, "That is not a message link.")
		return
	}
	m, ok, err := h.a.Message(ctx, c.ID, ts)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if !ok {
		h.notFound(w, r, "That message is not in the archive: it may have been deleted or removed at its author's request.")
		return
	}
	parent := m
	if m.IsReply() {
		if p, ok, err := h.a.Message(ctx, c.ID, m.ThreadTS); err != nil {
			h.fail(w, r, err)
			return
		} else if ok {
			parent = p
		}
	}
	rc := h.newRenderCtx(ctx)
	tp := threadPage{Parent: rc.view(c, parent), Day: parent.Time().In(h.loc).Format(archive.DateLayout)}
	tp.Parent.Focus = parent.TS == m.TS
	if parent.ThreadTS == parent.TS {
		replies, err := h.a.Messages(ctx, archive.MessageQuery{Channel: c.ID, ThreadTS: parent.TS})
		if err != nil {
			h.fail(w, r, err)
			return
		}
		for _, rep := range replies {
			if rep.TS != parent.TS {
				v := rc.view(c, rep)
				v.Focus = rep.TS == m.TS
				tp.Parent.Replies = append(tp.Parent.Replies, v)
			}
		}
	}
	h.render(w, r, http.StatusOK, "thread", page{Title: "#" + c.Name + ": a message", Channel: &c, Index: h.cfg.Indexed(c.Name), Body: tp}, 10*time.Minute)
}

// renderCtx renders messages of one request, looking each user and
// channel up once.
type renderCtx struct {
	h        *Handler
	ctx      context.Context
	users    map[string]archive.User
	channels map[string]archive.Channel
	markup   Markup
}

func (h *Handler) newRenderCtx(ctx context.Context) *renderCtx {
	rc := &renderCtx{h: h, ctx: ctx, users: map[string]archive.User{}, channels: map[string]archive.Channel{}}
	rc.markup = Markup{
		UserName: func(id string) string { return rc.user(id).Label() },
		Channel: func(id string) (string, string) {
			c, ok := rc.channels[id]
			if !ok {
				c, _, _ = h.a.Channel(ctx, id)
				rc.channels[id] = c
			}
			if c.Name == "" || !h.cfg.Published(c.Name) {
				return c.Name, ""
			}
			return c.Name, "/c/" + url.PathEscape(c.Name) + "/"
		},
		Location: h.loc,
	}
	return rc
}

func (rc *renderCtx) user(id string) archive.User {
	if id == "" {
		return archive.User{}
	}
	u, ok := rc.users[id]
	if !ok {
		u, _, _ = rc.h.a.User(rc.ctx, id)
		if u.ID == "" {
			u.ID = id
		}
		rc.users[id] = u
	}
	return u
}

// hiddenText replaces the text of an opted-out member's message.
const hiddenText = "hidden at the author's request"

func (rc *renderCtx) view(c archive.Channel, m archive.Message) view {
	t := m.Time().In(rc.h.loc)
	v := view{Message: m, Time: t.Format("15:04"), When: t.Format(time.RFC3339),
		Link: "/c/" + url.PathEscape(c.Name) + "/p" + archive.TSDigits(m.TS)}
	u := rc.user(m.User)
	v.Author, v.Avatar = u.Label(), u.Avatar
	if m.User == "" {
		v.Author = firstNonEmpty(m.Username, "An app")
	}
	if m.Hidden {
		v.Text, v.Files, v.Reactions = "", nil, nil
		v.HTML = template.HTML(`<em class="hidden">` + hiddenText + `</em>`)
		v.Avatar = ""
		return v
	}
	v.HTML = rc.markup.HTML(m.Text)
	return v
}

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
		hv := hitView{view: rc.view(c, hit.Message), ChannelName: hit.ChannelName}
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
