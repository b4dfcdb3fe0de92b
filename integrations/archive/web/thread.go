package web

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/townhall/townhall/integrations/archive"
)

// threadPath is the path of the page of the thread started by root (or of
// root alone, when nobody replied): /c/<channel>/t/<ts digits>-<slug>, or
// /c/<channel>/t/<ts digits> when the title has no letters for a slug.
// The slug is percent-encoded.
func (rc *renderCtx) threadPath(c archive.Channel, root archive.Message) string {
	p := "/c/" + url.PathEscape(c.Name) + "/t/" + archive.TSDigits(root.TS)
	if s := slugOf(rc.title(root)); s != "" {
		p += "-" + url.PathEscape(s)
	}
	return p
}

// title is the title of the thread root starts: the first line of its
// text, or, for a message with no words (a file, say), the name of its
// first file.
func (rc *renderCtx) title(root archive.Message) string {
	if root.Hidden {
		return ""
	}
	key := root.Channel + "/" + root.TS
	if t, ok := rc.titles[key]; ok {
		return t
	}
	t := titleOf(rc.markup.Plain(root.Text))
	for _, f := range root.Files {
		if t != "" {
			break
		}
		t = titleOf(firstNonEmpty(f.Title, f.Name))
	}
	if rc.titles == nil {
		rc.titles = map[string]string{}
	}
	rc.titles[key] = t
	return t
}

// abs is the absolute address of path at TOWNHALL_ARCHIVE_BASE_URL, or
// path itself when no base URL is set.
func (h *Handler) abs(path string) string {
	if h.cfg.BaseURL == "" {
		return path
	}
	return strings.TrimRight(h.cfg.BaseURL, "/") + path
}

// threadView is the page of one thread.
type threadView struct {
	Title       string
	Root        view
	Replies     []view
	Day, Date   string // the root's day, YYYY-MM-DD, and as words
	Permalink   string // the root's Slack-shaped permalink
	Description string
}

// head is what a page tells search engines and link previews besides its
// title: its canonical address, OpenGraph tags and schema.org data.
type head struct {
	Canonical   string
	Description string
	OG          []ogTag
	JSONLD      any
}

type ogTag struct{ Property, Content string }

// maxDescription bounds a page's description (meta and og:description), in
// runes: search engines show about 160 characters.
const maxDescription = 200

// thread serves /c/<channel>/t/<ts digits>-<slug>: the thread's first
// message and its replies. A wrong or missing slug is redirected (301) to
// the right one. A root hidden at its author's request has no page (410),
// and the replies of opted-out members are left out.
func (h *Handler) thread(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	c, ok := h.channelOf(w, r)
	if !ok {
		return
	}
	digits, slug, _ := strings.Cut(r.PathValue("thread"), "-")
	ts, err := archive.TSFromDigits(digits)
	if err != nil {
		h.notFound(w, r, "That is not a thread's link.")
		return
	}
	root, ok, err := h.a.Message(ctx, c.ID, ts)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if ok && root.IsReply() { // a reply's ts: its thread, at the reply
		rep := root
		if root, ok, err = h.a.Message(ctx, c.ID, rep.ThreadTS); err != nil {
			h.fail(w, r, err)
			return
		}
		if ok && !root.Hidden {
			rc := h.newRenderCtx(ctx)
			http.Redirect(w, r, rc.threadPath(c, root)+"#m"+archive.TSDigits(rep.TS), http.StatusMovedPermanently)
			return
		}
	}
	if !ok {
		h.notFound(w, r, "That thread is not in the archive: it may have been deleted or removed at its author's request.")
		return
	}
	if root.Hidden {
		h.render(w, r, http.StatusGone, "notfound", page{Title: "Removed", Body: "That thread's first message is hidden at its author's request."}, 0)
		return
	}
	rc := h.newRenderCtx(ctx)
	canonical := rc.threadPath(c, root)
	wantSlug := slugOf(rc.title(root))
	if slug != wantSlug || digits != archive.TSDigits(root.TS) || wantSlug == "" && strings.Contains(r.PathValue("thread"), "-") {
		http.Redirect(w, r, canonical, http.StatusMovedPermanently)
		return
	}
	pt := root.Time().In(h.loc)
	tv := threadView{Title: rc.title(root), Root: rc.view(c, root, pt), Day: pt.Format(archive.DateLayout),
		Date: pt.Format("Monday 2 January 2006"), Permalink: "/c/" + url.PathEscape(c.Name) + "/p" + archive.TSDigits(root.TS)}
	if tv.Title == "" {
		tv.Title = "A message from " + tv.Root.Author + " on " + pt.Format("2 January 2006")
	}
	var replies []archive.Message
	if root.ReplyCount > 0 {
		all, err := h.a.Messages(ctx, archive.MessageQuery{Channel: c.ID, ThreadTS: root.TS})
		if err != nil {
			h.fail(w, r, err)
			return
		}
		rc.prefetch(all)
		for _, rep := range all {
			if rep.TS != root.TS && !rep.Hidden {
				replies = append(replies, rep)
				tv.Replies = append(tv.Replies, rc.view(c, rep, pt))
			}
		}
	}
	plain := cleanText(rc.markup.Plain(root.Text))
	tv.Description = cutRunes(strings.Join(strings.Fields(plain), " "), maxDescription)
	addr := h.abs(canonical)
	hd := head{Canonical: addr, Description: tv.Description, JSONLD: rc.posting(c, root, replies, tv.Title, addr)}
	hd.OG = []ogTag{{"og:type", "article"}, {"og:site_name", h.cfg.Title}, {"og:title", tv.Title}, {"og:description", tv.Description}}
	if h.cfg.BaseURL != "" { // og:url must be absolute
		hd.OG = append(hd.OG, ogTag{"og:url", addr})
	}
	hd.OG = append(hd.OG, ogTag{"article:published_time", pt.Format(time.RFC3339)}, ogTag{"article:section", "#" + c.Name})
	maxAge := 10 * time.Minute
	// A message nobody answered is thin: such pages stay out of search
	// engines and the sitemap until someone replies.
	index := h.cfg.Indexed(c.Name) && root.ReplyCount > 0
	h.render(w, r, http.StatusOK, "threadpage", page{Title: tv.Title + " · #" + c.Name, Channel: &c, Index: index, Body: tv, Zone: h.zone(pt), Head: &hd}, maxAge)
}

// cutRunes cuts s to at most n runes, at a space when one is near, with
// an ellipsis when it cut.
func cutRunes(s string, n int) string {
	rs := []rune(s)
	if len(rs) <= n {
		return s
	}
	cut := string(rs[:n])
	if i := strings.LastIndexByte(cut, ' '); i > len(cut)/2 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " ,.;:") + "…"
}
