// Package xapi is a small typed client for the two X API v2 endpoints the
// feeds integration reads: user lookup by username
// (GET /2/users/by/username/:username) and a user's posts
// (GET /2/users/:id/tweets), authenticated with an app-only bearer token.
//
// It exists because the library named in the design, dghubble/go-twitter,
// is archived and speaks only the retired v1.1 API. The client is plain
// net/http and encoding/json: it sends what the v2 reference documents,
// decodes the fields townhall shows, and turns X's problem responses into
// typed errors: [ErrNotFound] for an unknown account, [*RateLimitError]
// for a 429 (with the reset time from the x-rate-limit-* headers), and
// [*APIError] for the rest. [Retryable] says which are worth trying again.
//
// References: https://docs.x.com/x-api/users/user-lookup-by-username,
// https://docs.x.com/x-api/posts/user-posts-timeline-by-user-id,
// https://docs.x.com/x-api/fundamentals/rate-limits.
//
// It imports slackapp for its Secret type only; it must never import an
// integration, the store or cmd/townhall.
package xapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/townhall/townhall/slackapp"
)

// DefaultBaseURL is the X API v2 base; paths such as /users/:id/tweets are
// appended to it.
const DefaultBaseURL = "https://api.x.com/2"

// Limits of GET /2/users/:id/tweets' max_results.
const (
	MinMaxResults = 5
	MaxMaxResults = 100
)

// maxResponseBytes bounds what the client reads of one response: a page of
// 100 posts with their expansions is well under a megabyte.
const maxResponseBytes = 8 << 20

// The fields and expansions the client asks for: enough to show a post
// with its author, its media and the post it quotes.
const (
	tweetFields = "created_at,entities,attachments,referenced_tweets,author_id"
	expansions  = "attachments.media_keys,referenced_tweets.id,referenced_tweets.id.author_id,author_id"
	mediaFields = "url,preview_image_url,type,alt_text,width,height"
	userFields  = "name,username,profile_image_url"
)

// usernamePattern is what X accepts as a username
// (https://help.x.com/en/managing-your-account/x-username-rules).
var usernamePattern = regexp.MustCompile(`^[A-Za-z0-9_]{1,15}$`)

// ValidUsername reports whether s (without "@") can be an X username.
func ValidUsername(s string) bool { return usernamePattern.MatchString(s) }

// Config configures a Client.
type Config struct {
	// BaseURL is the API base, DefaultBaseURL unless testing.
	BaseURL string
	// BearerToken is the app-only token from the X developer portal.
	BearerToken slackapp.Secret
}

// Client calls the X API v2. It is safe for concurrent use.
type Client struct {
	base  string
	token slackapp.Secret
	hc    *http.Client
	now   func() time.Time
}

// New returns a client. hc nil means a client with a 20-second timeout;
// now nil means time.Now (it only dates rate-limit errors that lack a
// reset header).
func New(cfg Config, hc *http.Client, now func() time.Time) (*Client, error) {
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("xapi: base URL must be an absolute http(s) URL, got %q", cfg.BaseURL)
	}
	if !cfg.BearerToken.IsSet() {
		return nil, errors.New("xapi: a bearer token is required")
	}
	if hc == nil {
		hc = &http.Client{Timeout: 20 * time.Second}
	}
	if now == nil {
		now = time.Now
	}
	return &Client{base: strings.TrimSuffix(cfg.BaseURL, "/"), token: cfg.BearerToken, hc: hc, now: now}, nil
}

// User is an X account.
type User struct {
	ID              string `json:"id"`
	Name            string `json:"name"`
	Username        string `json:"username"`
	ProfileImageURL string `json:"profile_image_url,omitempty"`
}

// Tweet is a post, with the fields the client asks for.
type Tweet struct {
	ID               string            `json:"id"`
	Text             string            `json:"text"`
	AuthorID         string            `json:"author_id,omitempty"`
	CreatedAt        time.Time         `json:"created_at"`
	Attachments      *Attachments      `json:"attachments,omitempty"`
	ReferencedTweets []ReferencedTweet `json:"referenced_tweets,omitempty"`
	Entities         *Entities         `json:"entities,omitempty"`
}

// Attachments are a post's media.
type Attachments struct {
	MediaKeys []string `json:"media_keys,omitempty"`
}

// The types of ReferencedTweet.
const (
	RefRetweeted = "retweeted"
	RefQuoted    = "quoted"
	RefRepliedTo = "replied_to"
)

// ReferencedTweet is a post this one reposts, quotes or replies to.
type ReferencedTweet struct {
	Type string `json:"type"` // RefRetweeted, RefQuoted or RefRepliedTo
	ID   string `json:"id"`
}

// Entities are the parts of a post's text X recognised.
type Entities struct {
	URLs []URLEntity `json:"urls,omitempty"`
}

// URLEntity is a t.co link in a post's text and where it leads. MediaKey
// is set when the link is the post's own attached media.
type URLEntity struct {
	Start       int    `json:"start"`
	End         int    `json:"end"`
	URL         string `json:"url"`
	ExpandedURL string `json:"expanded_url,omitempty"`
	DisplayURL  string `json:"display_url,omitempty"`
	MediaKey    string `json:"media_key,omitempty"`
}

// Media is an attached photo, video or GIF.
type Media struct {
	MediaKey        string `json:"media_key"`
	Type            string `json:"type"` // "photo", "video", "animated_gif"
	URL             string `json:"url,omitempty"`
	PreviewImageURL string `json:"preview_image_url,omitempty"`
	AltText         string `json:"alt_text,omitempty"`
	Width           int    `json:"width,omitempty"`
	Height          int    `json:"height,omitempty"`
}

// Includes are the objects the expansions brought along.
type Includes struct {
	Media  []Media `json:"media,omitempty"`
	Users  []User  `json:"users,omitempty"`
	Tweets []Tweet `json:"tweets,omitempty"`
}

// Meta describes a page of results.
type Meta struct {
	ResultCount int    `json:"result_count"`
	NewestID    string `json:"newest_id,omitempty"`
	OldestID    string `json:"oldest_id,omitempty"`
	NextToken   string `json:"next_token,omitempty"`
}

// TweetsRequest are the parameters of UserTweets.
type TweetsRequest struct {
	// SinceID asks for posts newer than this one; "" for the latest.
	SinceID string
	// MaxResults is the page size, MinMaxResults to MaxMaxResults; 0 means
	// X's default (10).
	MaxResults int
	// ExcludeReplies and ExcludeRetweets leave those out, server-side.
	ExcludeReplies  bool
	ExcludeRetweets bool
	// PaginationToken asks for the page after the one whose Meta.NextToken
	// it is (older posts).
	PaginationToken string
}

// TweetsPage is one page of a user's posts, newest first.
type TweetsPage struct {
	Tweets   []Tweet  `json:"data,omitempty"`
	Includes Includes `json:"includes"`
	Meta     Meta     `json:"meta"`
	// RateLimit is what the response's x-rate-limit-* headers said.
	RateLimit RateLimit `json:"-"`
}

// RateLimit is an endpoint's rate-limit window as X reported it.
type RateLimit struct {
	Limit     int       // requests allowed in the window; 0 if not reported
	Remaining int       // requests left in the window
	Reset     time.Time // when the window resets; zero if not reported
}

// Known reports whether the headers were present.
func (r RateLimit) Known() bool { return !r.Reset.IsZero() }

// ErrNotFound is returned (wrapped) when the account does not exist or is
// suspended.
var ErrNotFound = errors.New("not found")

// APIError is a response X refused, with its problem details
// (https://docs.x.com/x-api/fundamentals/response-codes-and-errors).
type APIError struct {
	Status int    // the HTTP status
	Title  string // "Unauthorized", "Invalid Request", …
	Detail string
	Type   string // a problem URI
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("x api: %d", e.Status)
	if e.Title != "" {
		msg += " " + e.Title
	}
	if e.Detail != "" && e.Detail != e.Title {
		msg += ": " + e.Detail
	}
	return msg
}

// RateLimitError is a 429: the app used its requests for the window.
type RateLimitError struct {
	RateLimit
}

func (e *RateLimitError) Error() string {
	return "x api: 429 Too Many Requests: rate limit reached until " + e.Reset.UTC().Format(time.RFC3339)
}

// Retryable reports whether a later retry of the call that returned err
// could succeed: rate limits, X's server errors and transport failures are;
// an unknown account, a bad token or a bad request are not.
func Retryable(err error) bool {
	var rl *RateLimitError
	if errors.As(err, &rl) {
		return true
	}
	if errors.Is(err, ErrNotFound) {
		return false
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status >= 500
	}
	return err != nil && !errors.Is(err, context.Canceled)
}

// UserByUsername looks an account up by its username (without "@").
func (c *Client) UserByUsername(ctx context.Context, username string) (User, error) {
	if !ValidUsername(username) {
		return User{}, fmt.Errorf("x api: look up @%s: %w (not a valid username)", username, ErrNotFound)
	}
	q := url.Values{"user.fields": {userFields}}
	var body struct {
		Data   *User     `json:"data"`
		Errors []problem `json:"errors"`
	}
	if _, err := c.get(ctx, "/users/by/username/"+url.PathEscape(username), q, &body); err != nil {
		return User{}, fmt.Errorf("x api: look up @%s: %w", username, err)
	}
	if body.Data == nil {
		// X answers 200 with only "errors" for an unknown or suspended account.
		return User{}, fmt.Errorf("x api: look up @%s: %w", username, ErrNotFound)
	}
	return *body.Data, nil
}

// UserTweets returns a page of the user's posts, newest first.
func (c *Client) UserTweets(ctx context.Context, userID string, r TweetsRequest) (TweetsPage, error) {
	q := url.Values{
		"tweet.fields": {tweetFields},
		"expansions":   {expansions},
		"media.fields": {mediaFields},
		"user.fields":  {userFields},
	}
	if r.SinceID != "" {
		q.Set("since_id", r.SinceID)
	}
	if r.MaxResults != 0 {
		if r.MaxResults < MinMaxResults || r.MaxResults > MaxMaxResults {
			return TweetsPage{}, fmt.Errorf("x api: posts of %s: max_results must be %d to %d, got %d", userID, MinMaxResults, MaxMaxResults, r.MaxResults)
		}
		q.Set("max_results", strconv.Itoa(r.MaxResults))
	}
	var exclude []string
	if r.ExcludeReplies {
		exclude = append(exclude, "replies")
	}
	if r.ExcludeRetweets {
		exclude = append(exclude, "retweets")
	}
	if len(exclude) > 0 {
		q.Set("exclude", strings.Join(exclude, ","))
	}
	if r.PaginationToken != "" {
		q.Set("pagination_token", r.PaginationToken)
	}
	var page TweetsPage
	rl, err := c.get(ctx, "/users/"+url.PathEscape(userID)+"/tweets", q, &page)
	if err != nil {
		return TweetsPage{}, fmt.Errorf("x api: posts of %s: %w", userID, err)
	}
	page.RateLimit = rl
	return page, nil
}

// problem is an entry of a response's "errors" array, or a whole problem
// response body.
type problem struct {
	Title   string `json:"title"`
	Detail  string `json:"detail"`
	Type    string `json:"type"`
	Message string `json:"message"`
}

func (c *Client) get(ctx context.Context, path string, q url.Values, into any) (RateLimit, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path+"?"+q.Encode(), nil)
	if err != nil {
		return RateLimit{}, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token.Reveal())
	req.Header.Set("Accept", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return RateLimit{}, err
	}
	defer resp.Body.Close()
	rl := rateLimit(resp.Header)
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return rl, fmt.Errorf("read response: %w", err)
	}
	if len(body) > maxResponseBytes {
		return rl, fmt.Errorf("response larger than %d bytes", maxResponseBytes)
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		if rl.Reset.IsZero() {
			rl.Reset = c.now().Add(15 * time.Minute) // X's windows are 15 minutes
		}
		return rl, &RateLimitError{RateLimit: rl}
	}
	if resp.StatusCode != http.StatusOK {
		var p struct {
			problem
			Errors []problem `json:"errors"`
		}
		_ = json.Unmarshal(body, &p) // a non-JSON error page still has a status
		ae := &APIError{Status: resp.StatusCode, Title: p.Title, Detail: p.Detail, Type: p.Type}
		if ae.Title == "" {
			ae.Title = http.StatusText(resp.StatusCode)
		}
		if ae.Detail == "" && len(p.Errors) > 0 {
			ae.Detail = p.Errors[0].Message
		}
		if resp.StatusCode == http.StatusNotFound {
			return rl, fmt.Errorf("%w: %w", ErrNotFound, ae)
		}
		return rl, ae
	}
	if err := json.Unmarshal(body, into); err != nil {
		return rl, fmt.Errorf("decode response: %w", err)
	}
	return rl, nil
}

// rateLimit reads the x-rate-limit-* headers.
func rateLimit(h http.Header) RateLimit {
	var rl RateLimit
	rl.Limit, _ = strconv.Atoi(h.Get("x-rate-limit-limit"))
	rl.Remaining, _ = strconv.Atoi(h.Get("x-rate-limit-remaining"))
	if s, err := strconv.ParseInt(h.Get("x-rate-limit-reset"), 10, 64); err == nil {
		rl.Reset = time.Unix(s, 0)
	}
	return rl
}

// CompareIDs orders two post IDs (decimal snowflakes, too large for
// float64 in JSON and so sent as strings): -1, 0 or +1.
func CompareIDs(a, b string) int {
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}
