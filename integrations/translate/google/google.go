// Package google translates text with Google Cloud Translation - Basic (v2)
// through its official Go client, cloud.google.com/go/translate, which
// speaks the REST API at https://translation.googleapis.com/language/translate/v2
// (https://cloud.google.com/translate/docs/reference/rest/v2/translate).
//
// It authenticates with an API key or, without one, Application Default
// Credentials. Its endpoint can be pointed at googletest, the fake that
// tests use.
//
// It imports nothing from townhall but slackapp (for Secret); in particular
// never the translate integration that uses it, nor another integration.
package google

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	translate "cloud.google.com/go/translate"
	"golang.org/x/text/language"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"

	"github.com/townhall/townhall/slackapp"
)

// Limits of one request. The client sends translations as a GET with every
// segment in the query string (language.translations.list), so a request
// is bounded by the length of its URL rather than by the 5,000 code points
// Google recommends for a POST body
// (https://cloud.google.com/translate/quotas#content). MaxQueryBytes keeps
// the percent-encoded text of one request well inside the 16 KB request
// line that Google's front ends accept, whatever the script (an Arabic or
// Chinese character takes six to nine bytes once encoded). MaxSegments is
// the documented cap of 128 text segments per request.
const (
	MaxQueryBytes = 8000
	MaxSegments   = 128
)

// Cost is the share of MaxQueryBytes that text takes in a request.
func Cost(text string) int { return len(url.QueryEscape(text)) }

// Config says how to reach the API.
type Config struct {
	// APIKey authenticates requests; empty means Application Default
	// Credentials (GOOGLE_APPLICATION_CREDENTIALS, or the metadata server
	// on Google Cloud).
	APIKey slackapp.Secret
	// Endpoint replaces the production base URL
	// (https://translation.googleapis.com/language/translate/), for tests.
	Endpoint string
}

// Client calls the API. It is safe for concurrent use.
type Client struct {
	c   *translate.Client
	key slackapp.Secret
}

// New builds a client. With no API key it looks up Application Default
// Credentials now, and fails if there are none.
func New(ctx context.Context, cfg Config) (*Client, error) {
	var opts []option.ClientOption
	if cfg.Endpoint != "" {
		opts = append(opts, option.WithEndpoint(cfg.Endpoint))
	}
	if cfg.APIKey.IsSet() {
		opts = append(opts, option.WithAPIKey(cfg.APIKey.Reveal()))
	}
	c, err := translate.NewClient(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("google translate: new client: %w", scrub(err, cfg.APIKey))
	}
	return &Client{c: c, key: cfg.APIKey}, nil
}

// Translation is one translated segment.
type Translation struct {
	Text string
	// Source is the language Google detected, as it names it ("en",
	// "zh-CN"); empty when the caller gave the source.
	Source string
}

// Translate translates HTML segments into target ("fr", "zh-TW"). source
// is the segments' language, or "" to have Google detect it. Segments
// should respect MaxQueryBytes and MaxSegments. Errors from the API are
// *Error.
func (c *Client) Translate(ctx context.Context, segments []string, source, target string) ([]Translation, error) {
	tgt, err := language.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("google translate: target %q: %w", target, err)
	}
	opts := &translate.Options{Format: translate.HTML}
	if source != "" {
		if opts.Source, err = language.Parse(source); err != nil {
			return nil, fmt.Errorf("google translate: source %q: %w", source, err)
		}
	}
	ts, err := c.c.Translate(ctx, segments, tgt, opts)
	if err != nil {
		return nil, fmt.Errorf("google translate: translate %d segments into %s: %w", len(segments), target, c.wrap(err))
	}
	if len(ts) != len(segments) {
		return nil, fmt.Errorf("google translate: asked for %d segments, got %d", len(segments), len(ts))
	}
	out := make([]Translation, len(ts))
	for i, t := range ts {
		out[i] = Translation{Text: t.Text}
		if t.Source != language.Und {
			out[i].Source = t.Source.String()
		}
	}
	return out, nil
}

// Detect returns the most likely language of text, as Google names it.
func (c *Client) Detect(ctx context.Context, text string) (string, error) {
	ds, err := c.c.DetectLanguage(ctx, []string{text})
	if err != nil {
		return "", fmt.Errorf("google translate: detect: %w", c.wrap(err))
	}
	if len(ds) == 0 || len(ds[0]) == 0 {
		return "", errors.New("google translate: detect: no detection returned")
	}
	best := ds[0][0]
	for _, d := range ds[0][1:] {
		if d.Confidence > best.Confidence {
			best = d
		}
	}
	return best.Language.String(), nil
}

// Languages returns the codes of the languages Google translates.
func (c *Client) Languages(ctx context.Context) ([]string, error) {
	ls, err := c.c.SupportedLanguages(ctx, language.English)
	if err != nil {
		return nil, fmt.Errorf("google translate: languages: %w", c.wrap(err))
	}
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.Tag.String()
	}
	return out, nil
}

// Close releases the client.
func (c *Client) Close() error { return c.c.Close() }

// Error is an error response from the API.
type Error struct {
	Status  int    // the HTTP status
	Reason  string // the first error item's reason: "keyInvalid", "rateLimitExceeded", "badRequest"…
	Message string
}

func (e *Error) Error() string {
	if e.Reason != "" {
		return fmt.Sprintf("HTTP %d (%s): %s", e.Status, e.Reason, e.Message)
	}
	return fmt.Sprintf("HTTP %d: %s", e.Status, e.Message)
}

// wrap turns the client's errors into *Error, and makes sure no error
// carries the API key (a failed request's URL would).
func (c *Client) wrap(err error) error {
	var gerr *googleapi.Error
	if errors.As(err, &gerr) {
		e := &Error{Status: gerr.Code, Message: gerr.Message}
		if len(gerr.Errors) > 0 {
			e.Reason = gerr.Errors[0].Reason
			if e.Message == "" {
				e.Message = gerr.Errors[0].Message
			}
		}
		if e.Message == "" {
			e.Message = strings.TrimSpace(firstLine(gerr.Body))
		}
		return scrub(e, c.key)
	}
	return scrub(err, c.key)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	if len(line) > 200 {
		line = line[:200]
	}
	return line
}

// scrub returns err, or if its message contains the key, an error with the
// same chain whose message shows the key redacted.
func scrub(err error, key slackapp.Secret) error {
	if err == nil || !key.IsSet() || !strings.Contains(err.Error(), key.Reveal()) {
		return err
	}
	return &scrubbed{err: err, msg: strings.ReplaceAll(err.Error(), key.Reveal(), key.String())}
}

type scrubbed struct {
	err error
	msg string
}

func (s *scrubbed) Error() string { return s.msg }
func (s *scrubbed) Unwrap() error { return s.err }
