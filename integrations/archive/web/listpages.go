package web

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/townhall/townhall/integrations/archive"
)

// threadsPerPage is how many threads a channel's numbered page lists.
const threadsPerPage = 50

// pageIndex keeps, per channel, where each of its numbered pages starts:
// page N lists the channel's threads (messages that are not replies)
// threadsPerPage*(N-1) to threadsPerPage*N, counted from the oldest, so a
// new message only ever adds to the last page and no page's number
// shifts. (Messages of opted-out members are counted and not shown, so
// opting out shifts nothing either; a message deleted or removed does
// shift the pages after it by one.) Page starts are worked out once by
// reading the channel's threads and kept while the channel's message
// count and newest message stay as they were; when the channel only grew,
// only its last page is read again.
type pageIndex struct {
	mu    sync.Mutex
	chans map[string]*channelPages // by channel ID
}

type channelPages struct {
	messages int      // the channel's message count when built
	last     string   // and its newest ts
	starts   []string // the ts of each page's first thread
	inLast   int      // threads on the last page
}

// chunkRead is how many messages one read of a channel's threads returns.
const chunkRead = 2000

// starts returns where each of c's numbered pages starts (none when the
// channel has no threads).
func (h *Handler) pageStarts(ctx context.Context, c archive.Channel) ([]string, error) {
	h.pages.mu.Lock()
	defer h.pages.mu.Unlock()
	if h.pages.chans == nil {
		h.pages.chans = map[string]*channelPages{}
	}
	cp := h.pages.chans[c.ID]
	if cp != nil && cp.messages == c.Messages && cp.last == c.Last {
		return cp.starts, nil
	}
	next := &channelPages{messages: c.Messages, last: c.Last}
	since := ""
	if cp != nil && c.Messages > cp.messages && c.Last > cp.last && len(cp.starts) > 0 {
		// Only new messages: read again from the last page's start.
		next.starts = append([]string(nil), cp.starts[:len(cp.starts)-1]...)
		since = cp.starts[len(cp.starts)-1]
	}
	for {
		ms, err := h.a.Messages(ctx, archive.MessageQuery{Channel: c.ID, TopLevel: true, Since: since, Limit: chunkRead})
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			if m.IsReply() { // a reply also sent to the channel: on its thread's page
				continue
			}
			if next.inLast == 0 || next.inLast == threadsPerPage {
				next.starts = append(next.starts, m.TS)
				next.inLast = 0
			}
			next.inLast++
		}
		if len(ms) < chunkRead {
			break
		}
		since = nextTS(ms[len(ms)-1].TS)
	}
	h.pages.chans[c.ID] = next
	return next.starts, nil
}

// nextTS is the least ts after ts (a microsecond later).
func nextTS(ts string) string {
	t, err := archive.ParseTS(ts)
	if err != nil {
		return ts
	}
	return archive.FormatTS(t.Add(time.Microsecond))
}

type listPage struct {
	N, Of, Prev, Next int
	Threads           []threadLink
}

type threadLink struct {
	Href, Title, Author, When, Time string
	Replies                         int
}

// listPage serves /c/<channel>/page/N, the channel's threads
// threadsPerPage at a time, page 1 the oldest.
func (h *Handler) listPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	c, ok := h.channelOf(w, r)
	if !ok {
		return
	}
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 1 || strconv.Itoa(n) != r.PathValue("n") {
		h.notFound(w, r, "Pages of a channel's threads are numbered from 1.")
		return
	}
	starts, err := h.pageStarts(ctx, c)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if n > len(starts) {
		h.render(w, r, http.StatusNotFound, "notfound", page{Title: "Not found", Body: "This channel has " + count(len(starts), "page", "pages") + " of threads."}, 0)
		return
	}
	q := archive.MessageQuery{Channel: c.ID, TopLevel: true, Since: starts[n-1]}
	if n < len(starts) {
		q.Before = starts[n]
	}
	ms, err := h.a.Messages(ctx, q)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rc := h.newRenderCtx(ctx)
	lp := listPage{N: n, Of: len(starts)}
	if n > 1 {
		lp.Prev = n - 1
	}
	if n < len(starts) {
		lp.Next = n + 1
	}
	for _, m := range ms {
		if m.IsReply() || m.Hidden {
			continue
		}
		v := rc.view(c, m, time.Time{})
		title := rc.title(m)
		if title == "" {
			title = "A message from " + v.Author
		}
		lp.Threads = append(lp.Threads, threadLink{Href: rc.threadPath(c, m), Title: title, Author: v.Author, When: v.When, Time: v.Time, Replies: m.ReplyCount})
	}
	maxAge := time.Hour
	if n == len(starts) { // the last page still grows
		maxAge = time.Minute
	}
	h.render(w, r, http.StatusOK, "listpage", page{Title: "#" + c.Name + ", page " + strconv.Itoa(n), Channel: &c, Index: h.cfg.Indexed(c.Name), Body: lp, Zone: h.zone(time.Time{})}, maxAge)
}
