package feeds

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mmcdole/gofeed"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding/charmap"
)

// userAgent identifies townhall to the sites it polls.
const userAgent = "townhall-feeds/1.0 (+https://github.com/townhall/townhall)"

// errNotFeed is returned (wrapped) when a URL answers with something that
// is not a feed, such as a web page.
var errNotFeed = errors.New("not an RSS, Atom or JSON feed")

// fetchError is a failed fetch with the HTTP status, when there was one.
type fetchError struct {
	URL    string
	Status int // 0 for a transport failure
	Err    error
	// RetryAfter is when a 429 or 503 answer's Retry-After header asked
	// us to come back; zero without one.
	RetryAfter time.Time
	// Unreachable says no answer came: the name did not resolve, the
	// connection failed or was refused, or the address is internal. Its
	// text is the same whatever the cause (Err, for the logs), so it
	// cannot tell an open port from a closed one.
	Unreachable bool
}

func (e *fetchError) Error() string {
	switch {
	case e.Status != 0:
		return fmt.Sprintf("fetch %s: HTTP %d %s", e.URL, e.Status, http.StatusText(e.Status))
	case e.Unreachable:
		return fmt.Sprintf("fetch %s: %s", e.URL, unreachable)
	}
	return fmt.Sprintf("fetch %s: %v", e.URL, e.Err)
}

// unreachable is what users see of any failure to connect.
const unreachable = "the address could not be reached"

func (e *fetchError) Unwrap() error { return e.Err }

// fetched is the outcome of a conditional GET.
type fetched struct {
	notModified  bool
	body         []byte
	etag         string
	lastModified string
	finalURL     string // after redirects
}

// fetcher gets feed documents: a conditional GET (If-None-Match,
// If-Modified-Since), a bounded body, a timeout per request.
type fetcher struct {
	hc       *http.Client
	maxBytes int64
	now      func() time.Time // for Retry-After in seconds
}

// get fetches u. etag and lastModified are the validators of the copy we
// have ("" for none).
func (f *fetcher) get(ctx context.Context, u, etag, lastModified string) (fetched, error) {
	shown := redactURL(u) // errors never carry the address's credentials
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fetched{}, &fetchError{URL: shown, Err: errors.New("not a usable URL")}
	}
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("Accept", "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5")
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	if lastModified != "" {
		req.Header.Set("If-Modified-Since", lastModified)
	}
	resp, err := f.hc.Do(req)
	if err != nil {
		// *url.Error repeats the address (a redirect's too), query and
		// all: keep only its cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fetched{}, &fetchError{URL: shown, Err: err, Unreachable: ctx.Err() == nil}
	}
	defer resp.Body.Close()
	out := fetched{etag: resp.Header.Get("ETag"), lastModified: resp.Header.Get("Last-Modified"), finalURL: resp.Request.URL.String()}
	switch {
	case resp.StatusCode == http.StatusNotModified:
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // reuse the connection
		out.notModified = true
		if out.etag == "" {
			out.etag = etag
		}
		if out.lastModified == "" {
			out.lastModified = lastModified
		}
		return out, nil
	case resp.StatusCode != http.StatusOK:
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		fe := &fetchError{URL: shown, Status: resp.StatusCode, Err: fmt.Errorf("HTTP %d", resp.StatusCode)}
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
			fe.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), f.now())
		}
		return fetched{}, fe
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, f.maxBytes+1))
	if err != nil {
		return fetched{}, &fetchError{URL: shown, Err: fmt.Errorf("read body: %w", err)}
	}
	if int64(len(body)) > f.maxBytes {
		return fetched{}, &fetchError{URL: shown, Err: fmt.Errorf("the feed is larger than %d bytes", f.maxBytes)}
	}
	out.body = utf8Body(body, resp.Header.Get("Content-Type"))
	return out, nil
}

// xmlEncoding matches an XML declaration that names its encoding, which
// the parser honours itself.
var xmlEncoding = regexp.MustCompile(`^\s*<\?xml[^>]*\sencoding\s*=`)

// utf8Body returns a feed document as UTF-8 when it says its encoding
// only in the HTTP Content-Type (charset=ISO-8859-1, as servers of older
// feeds send it) or nowhere at all while not being UTF-8: such a document
// is read as Windows-1252, as browsers and feed readers read it, rather
// than failing as invalid UTF-8. A document whose XML declaration names
// an encoding is left to the parser, and so is anything that is not
// transcodable.
func utf8Body(body []byte, contentType string) []byte {
	if xmlEncoding.Match(body) {
		return body
	}
	label := ""
	if _, params, err := mime.ParseMediaType(contentType); err == nil {
		label = params["charset"]
	}
	if e, name := charset.Lookup(label); e != nil && name != "utf-8" {
		if out, err := e.NewDecoder().Bytes(body); err == nil {
			return out
		}
		return body
	}
	if utf8.Valid(body) {
		return body
	}
	if mostlyUTF8(body) {
		// A UTF-8 document with a stray byte (a truncated character, one
		// pasted Latin-1 quote) loses that byte, not every accent it has.
		return bytes.ToValidUTF8(body, []byte("\uFFFD"))
	}
	if out, err := charmap.Windows1252.NewDecoder().Bytes(body); err == nil {
		return out
	}
	return body
}

// mostlyUTF8 reports whether body's bytes above ASCII are more often valid
// UTF-8 sequences than not: Latin-1 text seldom forms one (an accented
// letter followed by the continuation byte UTF-8 would need).
func mostlyUTF8(body []byte) bool {
	valid, invalid := 0, 0
	for len(body) > 0 {
		r, n := utf8.DecodeRune(body)
		switch {
		case r == utf8.RuneError && n == 1:
			invalid++
		case n > 1:
			valid++
		}
		body = body[n:]
	}
	return valid > invalid
}

// retryAfter reads a Retry-After header, in seconds or as an HTTP date
// (RFC 9110, section 10.2.3), into a time after now; zero if it is absent,
// unreadable or not in the future.
func retryAfter(h string, now time.Time) time.Time {
	h = strings.TrimSpace(h)
	if h == "" {
		return time.Time{}
	}
	if n, err := strconv.ParseInt(h, 10, 64); err == nil {
		if n <= 0 {
			return time.Time{}
		}
		return now.Add(time.Duration(min(n, int64(backoffMax/time.Second))) * time.Second)
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t
	}
	return time.Time{}
}

// parseFeed parses a feed document. A web page is errNotFeed, with the
// feed URLs the page advertises (RSS autodiscovery), if any.
func parseFeed(body []byte, base string) (*gofeed.Feed, []string, error) {
	f, err := gofeed.NewParser().Parse(bytes.NewReader(body))
	if err == nil {
		return f, nil, nil
	}
	if errors.Is(err, gofeed.ErrFeedTypeNotDetected) {
		return nil, discover(body, base), errNotFeed
	}
	return nil, nil, fmt.Errorf("parse feed: %w", err)
}

// discover lists the feeds an HTML page links to with
// <link rel="alternate" type="application/rss+xml" href="…"> (and Atom
// and JSON Feed), resolved against base.
func discover(body []byte, base string) []string {
	bu, err := url.Parse(base)
	if err != nil {
		return nil
	}
	var found []string
	z := html.NewTokenizer(bytes.NewReader(body))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return found
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		name, hasAttr := z.TagName()
		if a := atom.Lookup(name); a == atom.Body {
			return found
		} else if a != atom.Link || !hasAttr {
			continue
		}
		var rel, typ, href string
		for {
			k, v, more := z.TagAttr()
			switch string(k) {
			case "rel":
				rel = strings.ToLower(string(v))
			case "type":
				typ = strings.ToLower(string(v))
			case "href":
				href = string(v)
			}
			if !more {
				break
			}
		}
		if !strings.Contains(rel, "alternate") {
			continue
		}
		switch typ {
		case "application/rss+xml", "application/atom+xml", "application/feed+json", "application/json":
		default:
			continue
		}
		if u, err := bu.Parse(href); err == nil && httpLink(u.String()) != "" {
			found = append(found, u.String())
		}
	}
}
