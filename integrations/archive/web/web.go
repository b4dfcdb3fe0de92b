// Package web serves the public web archive: plain server-rendered pages
// (html/template, a small stylesheet, no JavaScript) listing the published
// channels, each channel's days, one day, one message with its thread (at
// Slack's own permalink shape, /c/<channel>/p<ts digits>), each thread's
// own page for search engines (/c/<channel>/t/<ts digits>-<slug>, with
// canonical link, OpenGraph and schema.org data), numbered pages of a
// channel's threads, search, and a page explaining what is archived and
// how to opt out. Pages say noindex unless their channel is in
// TOWNHALL_ARCHIVE_INDEXED_CHANNELS, the only channels robots.txt and
// sitemap.xml name.
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
	next http.Handler // the pages, gzipped

	pages    pageIndex    // listpages.go
	sitemaps sitemapCache // sitemap.go
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
		"count":  count,
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
	mux.HandleFunc("GET /c/{channel}/t/{thread}", h.thread) // thread.go
	mux.HandleFunc("GET /c/{channel}/page/{n}", h.listPage) // listpages.go
	mux.HandleFunc("GET /sitemap.xml", h.sitemap)           // sitemap.go
	mux.HandleFunc("GET /{file}", h.sitemapChunk)           // /sitemap-N.xml
	h.handleFiles(mux)                                      // files.go: /files/<sha256>/<name>, /avatars/<user>
	h.next = gzipped(mux)
	return h, nil
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "same-origin")
	w.Header().Set("Content-Security-Policy", csp)
	w.Header().Set("X-Frame-Options", "DENY") // frame-ancestors for browsers before CSP 2
	h.next.ServeHTTP(w, r)
}

// avatarHosts are where Slack serves members' avatars (image_48 of
// users.info and of exports' users.json): the only images pages show
// besides their own.
var avatarHosts = []string{"avatars.slack-edge.com", "secure.gravatar.com", "a.slack-edge.com", "ca.slack-edge.com"}

// csp is the pages' Content-Security-Policy: no script, no plugin, styles
// and forms of the archive only, images from the archive and Slack's
// avatar hosts, and no framing (so no clickjacking).
var csp = "default-src 'none'; style-src 'self'; img-src 'self' data: https://" + strings.Join(avatarHosts, " https://") +
	"; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// avatarURL returns u if it is an https address on one of avatarHosts,
// "" otherwise (the page then shows a blank square).
func avatarURL(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.Scheme != "https" || p.User != nil || p.Port() != "" {
		return ""
	}
	for _, h := range avatarHosts {
		if strings.EqualFold(p.Hostname(), h) {
			return p.String()
		}
	}
	return ""
}

// page is what every template gets.
type page struct {
	Site    string
	Title   string
	Index   bool // search engines may index it
	Query   string
	Body    any
	Channel *archive.Channel
	Zone    string // the time zone of the page's days and times
	Head    *head  // canonical address, OpenGraph and schema.org data
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
	any := false
	for _, c := range h.cfg.IndexedChannels {
		if h.cfg.Published(c) {
			fmt.Fprintf(&b, "Allow: /c/%s/\n", url.PathEscape(c))
			any = true
		}
	}
	if any {
		b.WriteString("Allow: /style.css\n") // so a crawler sees the pages as people do
		if h.cfg.BaseURL != "" {
			b.WriteString("Allow: /sitemap.xml\nAllow: /sitemap-\n")
		}
	}
	b.WriteString("Disallow: /\n")
	if any && h.cfg.BaseURL != "" {
		fmt.Fprintf(&b, "Sitemap: %s\n", h.abs("/sitemap.xml"))
	}
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
	Kept    map[string]*keptImage // file ID → its kept image, shown inline (files.go)
	Focus   bool
	// ThreadLink and ThreadFrom are set on a reply shown apart from its
	// thread: the thread's page (at this reply) and the day it started.
	ThreadLink, ThreadFrom string
	// Thread is the thread's page, on a day's message that has replies.
	Thread string
}

// count says n things in English, with thousands separated: "1 message",
// "12,400 messages".
func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return thousands(n) + " " + many
}

// thousands writes n with commas between its thousands.
func thousands(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// renderCtx renders messages of one request, looking each user and
// channel up once.
type renderCtx struct {
	h        *Handler
	ctx      context.Context
	users    map[string]archive.User
	channels map[string]archive.Channel
	markup   Markup
	titles   map[string]string // of threads, by channel/ts (thread.go)
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

// prefetch looks up, in one query, the authors of ms not yet known to
// rc, so a page of many authors does not ask for each. A failed look-up
// is left to user, one at a time.
func (rc *renderCtx) prefetch(ms ...[]archive.Message) {
	var ids []string
	seen := map[string]bool{}
	for _, list := range ms {
		for _, m := range list {
			if _, known := rc.users[m.User]; m.User != "" && !known && !seen[m.User] {
				seen[m.User] = true
				ids = append(ids, m.User)
			}
		}
	}
	if len(ids) == 0 {
		return
	}
	us, err := rc.h.a.UsersByID(rc.ctx, ids)
	if err != nil {
		return
	}
	for _, u := range us {
		rc.users[u.ID] = u
	}
	for _, id := range ids {
		if _, ok := rc.users[id]; !ok {
			rc.users[id] = archive.User{ID: id} // not in the archive: as user does
		}
	}
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

// view prepares m, shown on the page of day (zero: on no day's page, so
// with its full date).
func (rc *renderCtx) view(c archive.Channel, m archive.Message, day time.Time) view {
	t := m.Time().In(rc.h.loc)
	v := view{Message: m, Time: rc.h.stamp(t, day), When: t.Format(time.RFC3339),
		Link: "/c/" + url.PathEscape(c.Name) + "/p" + archive.TSDigits(m.TS)}
	u := rc.user(m.User)
	v.Author, v.Avatar = u.Label(), avatarURL(u.Avatar)
	if m.User == "" {
		v.Author = firstNonEmpty(m.Username, "An app")
	}
	if m.Hidden {
		v.Text, v.Files, v.Reactions = "", nil, nil
		v.HTML = template.HTML(`<em class="hidden">` + hiddenText + `</em>`)
		// Nor who wrote it: an opted-out member is not named (nor their
		// user ID shown, when the archive no longer holds their name).
		v.Author, v.Avatar = "A member", ""
		return v
	}
	v.HTML = rc.markup.HTML(m.Text)
	rc.keptLinks(&v) // files.go
	return v
}
