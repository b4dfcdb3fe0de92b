package ics

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// MaxFeedSize bounds how much of a feed is read: a year of a busy
// community's calendar is well under a megabyte.
const MaxFeedSize = 20 << 20

// Client fetches one feed, from an http(s) URL or a local file, and keeps
// the last calendar it parsed: an HTTP feed is asked for with If-None-Match
// and If-Modified-Since, so an unchanged feed costs one 304 and is not
// parsed again; a file is re-read only when its size or modification time
// changes. It is safe for concurrent use; fetches are serialised.
type Client struct {
	src      string
	isFile   bool
	http     *http.Client
	floating *time.Location

	mu       sync.Mutex
	etag     string
	modified string // Last-Modified as sent
	fileSize int64
	fileMod  time.Time
	cal      *Calendar
}

// NewClient returns a client for src: an http(s) URL, a webcal(s) URL
// (fetched over https), a file path, or a file: URL. hc nil means a client with a 30-second timeout. floating is
// the zone of floating times (see Parse).
func NewClient(src string, hc *http.Client, floating *time.Location) (*Client, error) {
	c := &Client{src: src, http: hc, floating: floating}
	if c.http == nil {
		c.http = &http.Client{Timeout: 30 * time.Second}
	}
	u, err := url.Parse(src)
	switch {
	case err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "":
	case err == nil && u.Scheme == "file":
		c.src, c.isFile = u.Path, true
	case err == nil && (u.Scheme == "webcal" || u.Scheme == "webcals") && u.Host != "":
		u.Scheme = "https" // webcal(s):// is Apple's name for a feed to subscribe to, served over https
		c.src = u.String()
	case src != "" && !strings.Contains(src, "://"):
		c.isFile = true
	default:
		// Not quoted: a feed's address may be a secret.
		return nil, errors.New("ics: the feed is neither an http(s) or webcal(s) URL nor a file path")
	}
	return c, nil
}

// StatusError is an HTTP status other than 200 or 304.
type StatusError struct {
	Code int
	// RetryAfter and RetryAt are what a 429 or 503 answer's Retry-After
	// asked for (RFC 9110, section 10.2.3): a delay in seconds, or a date.
	// Both are zero when it gave none, or none that could be read.
	RetryAfter time.Duration
	RetryAt    time.Time
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("HTTP %d %s", e.Code, http.StatusText(e.Code))
	switch {
	case e.RetryAfter > 0:
		msg += fmt.Sprintf(" (Retry-After: %s)", e.RetryAfter)
	case !e.RetryAt.IsZero():
		msg += " (Retry-After: " + e.RetryAt.UTC().Format(http.TimeFormat) + ")"
	}
	return msg
}

// Wait returns how long after now the server asked not to be asked again;
// zero if it did not ask.
func (e *StatusError) Wait(now time.Time) time.Duration {
	if !e.RetryAt.IsZero() {
		return max(e.RetryAt.Sub(now), 0)
	}
	return e.RetryAfter
}

// statusError reads resp's status, and its Retry-After on 429 and 503.
func statusError(resp *http.Response) *StatusError {
	e := &StatusError{Code: resp.StatusCode}
	if e.Code != http.StatusTooManyRequests && e.Code != http.StatusServiceUnavailable {
		return e
	}
	v := strings.TrimSpace(resp.Header.Get("Retry-After"))
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs > 0 {
			e.RetryAfter = time.Duration(min(secs, maxRetryAfter)) * time.Second
		}
	} else if at, err := http.ParseTime(v); err == nil {
		e.RetryAt = at
	}
	return e
}

// maxRetryAfter bounds a Retry-After in seconds (a year), so that a huge
// one cannot overflow a Duration; callers cap it far lower.
const maxRetryAfter = 366 * 24 * 3600

// Temporary reports whether retrying later may help: server errors,
// 408 and 429.
func (e *StatusError) Temporary() bool {
	return e.Code >= 500 || e.Code == http.StatusRequestTimeout || e.Code == http.StatusTooManyRequests
}

// Fetch returns the feed's calendar and whether it changed since the last
// successful fetch. On any error the last good calendar stays in the
// client (see Last) and is not returned.
func (c *Client) Fetch(ctx context.Context) (cal *Calendar, changed bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.isFile {
		return c.fetchFile()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.src, nil)
	if err != nil {
		return nil, false, fmt.Errorf("ics: fetch: %w", withoutURL(err))
	}
	req.Header.Set("Accept", "text/calendar, */*;q=0.5")
	if c.cal != nil {
		if c.etag != "" {
			req.Header.Set("If-None-Match", c.etag)
		}
		if c.modified != "" {
			req.Header.Set("If-Modified-Since", c.modified)
		}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, false, fmt.Errorf("ics: fetch: %w", withoutURL(err))
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified && c.cal != nil:
		return c.cal, false, nil
	case resp.StatusCode != http.StatusOK:
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil, false, fmt.Errorf("ics: fetch: %w", statusError(resp))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxFeedSize+1))
	if err != nil {
		return nil, false, fmt.Errorf("ics: fetch: read body: %w", err)
	}
	if len(body) > MaxFeedSize {
		return nil, false, fmt.Errorf("ics: fetch: feed is larger than %d bytes", MaxFeedSize)
	}
	cal, err = Parse(bytes.NewReader(body), c.floating)
	if err != nil {
		return nil, false, err
	}
	c.cal, c.etag, c.modified = cal, resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	return cal, true, nil
}

func (c *Client) fetchFile() (*Calendar, bool, error) {
	fi, err := os.Stat(c.src)
	if err != nil {
		return nil, false, fmt.Errorf("ics: read file: %w", err)
	}
	if c.cal != nil && fi.Size() == c.fileSize && fi.ModTime().Equal(c.fileMod) {
		return c.cal, false, nil
	}
	f, err := os.Open(c.src)
	if err != nil {
		return nil, false, fmt.Errorf("ics: read file: %w", err)
	}
	defer f.Close()
	cal, err := Parse(io.LimitReader(f, MaxFeedSize), c.floating)
	if err != nil {
		return nil, false, err
	}
	c.cal, c.fileSize, c.fileMod = cal, fi.Size(), fi.ModTime()
	return cal, true, nil
}

// withoutURL returns the cause of err without the url.Errors around it:
// they quote the URL (the one asked for, or a redirect's), which for a
// "secret address" is a credential.
func withoutURL(err error) error {
	for {
		var ue *url.Error
		if !errors.As(err, &ue) || ue.Err == nil {
			return err
		}
		err = ue.Err
	}
}

// Last returns the last calendar fetched successfully, or nil.
func (c *Client) Last() *Calendar {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cal
}
