package web

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/townhall/townhall/integrations/archive"
)

// maxSitemapURLs is how many addresses one sitemap file may list
// (https://www.sitemaps.org/protocol.html#index): past it, /sitemap.xml
// is a sitemap index of /sitemap-1.xml, /sitemap-2.xml…
const maxSitemapURLs = 50_000

// sitemapTTL is how long a built sitemap is served before it is built
// again: building it reads every thread of the indexed channels.
const sitemapTTL = 15 * time.Minute

// sitemapCache keeps the sitemap's addresses, built by one request at a
// time.
type sitemapCache struct {
	mu    sync.Mutex
	built time.Time
	urls  []sitemapURL
	max   int // addresses per file; 0: maxSitemapURLs (tests set less)
}

type sitemapURL struct {
	Loc     string `xml:"loc"`
	LastMod string `xml:"lastmod,omitempty"`
}

// sitemapURLs lists the pages search engines are asked to index: each
// indexed channel's page and the page of each of its threads that has a
// reply and whose first message is not hidden. No other channel appears.
func (h *Handler) sitemapURLs(ctx context.Context) ([]sitemapURL, error) {
	h.sitemaps.mu.Lock()
	defer h.sitemaps.mu.Unlock()
	if !h.sitemaps.built.IsZero() && h.now().Sub(h.sitemaps.built) < sitemapTTL {
		return h.sitemaps.urls, nil
	}
	var urls []sitemapURL
	rc := h.newRenderCtx(ctx)
	for _, name := range h.cfg.IndexedChannels {
		c, ok, err := h.published(ctx, name)
		if err != nil {
			return nil, err
		}
		if !ok || !h.cfg.Indexed(c.Name) {
			continue
		}
		ch := sitemapURL{Loc: h.abs("/c/" + url.PathEscape(c.Name) + "/")}
		if c.Last != "" {
			ch.LastMod = h.ldTime(c.Last)
		}
		urls = append(urls, ch)
		since := ""
		for {
			ms, err := h.a.Messages(ctx, archive.MessageQuery{Channel: c.ID, TopLevel: true, Since: since, Limit: chunkRead})
			if err != nil {
				return nil, err
			}
			for _, m := range ms {
				if m.IsReply() || m.Hidden || m.ReplyCount == 0 {
					continue
				}
				u := sitemapURL{Loc: h.abs(rc.threadPath(c, m)), LastMod: h.ldTime(firstNonEmpty(max(m.LastReply, m.Edited), m.TS))}
				urls = append(urls, u)
			}
			if len(ms) < chunkRead {
				break
			}
			since = nextTS(ms[len(ms)-1].TS)
		}
	}
	h.sitemaps.urls, h.sitemaps.built = urls, h.now()
	return urls, nil
}

func (h *Handler) sitemapMax() int {
	if h.sitemaps.max > 0 {
		return h.sitemaps.max
	}
	return maxSitemapURLs
}

// sitemap serves /sitemap.xml: the sitemap itself, or a sitemap index
// when there are more than maxSitemapURLs addresses. It needs
// TOWNHALL_ARCHIVE_BASE_URL, since a sitemap lists absolute addresses.
func (h *Handler) sitemap(w http.ResponseWriter, r *http.Request) {
	if h.cfg.BaseURL == "" {
		h.notFound(w, r, "This archive has no sitemap: it needs TOWNHALL_ARCHIVE_BASE_URL.")
		return
	}
	urls, err := h.sitemapURLs(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	per := h.sitemapMax()
	if len(urls) <= per {
		h.writeXML(w, r, urlset{XMLNS: sitemapNS, URLs: urls})
		return
	}
	idx := sitemapIndex{XMLNS: sitemapNS}
	for i := 0; i*per < len(urls); i++ {
		idx.Sitemaps = append(idx.Sitemaps, sitemapURL{Loc: h.abs("/sitemap-" + strconv.Itoa(i+1) + ".xml")})
	}
	h.writeXML(w, r, idx)
}

// sitemapChunk serves /sitemap-N.xml, the Nth file of a sitemap index,
// and is the 404 of any other address of one segment.
func (h *Handler) sitemapChunk(w http.ResponseWriter, r *http.Request) {
	file := r.PathValue("file")
	num, ok := strings.CutPrefix(file, "sitemap-")
	num, ok2 := strings.CutSuffix(num, ".xml")
	n, err := strconv.Atoi(num)
	if !ok || !ok2 || err != nil || n < 1 || strconv.Itoa(n) != num || h.cfg.BaseURL == "" {
		h.notFound(w, r, "There is no such page.")
		return
	}
	urls, err := h.sitemapURLs(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	per := h.sitemapMax()
	if len(urls) <= per || (n-1)*per >= len(urls) {
		h.notFound(w, r, "There is no such sitemap.")
		return
	}
	h.writeXML(w, r, urlset{XMLNS: sitemapNS, URLs: urls[(n-1)*per : min(n*per, len(urls))]})
}

const sitemapNS = "http://www.sitemaps.org/schemas/sitemap/0.9"

type urlset struct {
	XMLName xml.Name     `xml:"urlset"`
	XMLNS   string       `xml:"xmlns,attr"`
	URLs    []sitemapURL `xml:"url"`
}

type sitemapIndex struct {
	XMLName  xml.Name     `xml:"sitemapindex"`
	XMLNS    string       `xml:"xmlns,attr"`
	Sitemaps []sitemapURL `xml:"sitemap"`
}

func (h *Handler) writeXML(w http.ResponseWriter, r *http.Request, v any) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	if err := xml.NewEncoder(&buf).Encode(v); err != nil {
		h.fail(w, r, fmt.Errorf("web: sitemap: %w", err))
		return
	}
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(buf.Bytes())
}
