package translate

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/townhall/townhall/integrations/translate/deepl"
	"github.com/townhall/townhall/integrations/translate/google"
	"github.com/townhall/townhall/integrations/translate/libre"
)

// provider is one translation service, as the translator needs it.
type provider interface {
	// name is how users and logs see it: "Google Translate".
	name() string
	// limits bound one request: cost of all its segments together, and
	// how many segments.
	limits() (cost func(string) int, maxCost, maxSegments int)
	// translate translates HTML segments from source ("" to detect) into
	// target (our code). Detected sources are in the provider's code.
	translate(ctx context.Context, segments []string, source, target string) ([]translated, error)
	// detect returns the language of plain text, in the provider's code.
	// Google and LibreTranslate ask their detect endpoints; DeepL has
	// none, so it translates text into hint (our code) and reads the
	// source DeepL detected, billing text as a translation. It returns
	// what it sent, which is what is billed.
	detect(ctx context.Context, text, hint string) (lang string, sent int, err error)
}

type translated struct {
	html   string
	source string
}

func runeCost(s string) int { return utf8.RuneCountInString(s) }

// googleProvider is Google Cloud Translation - Basic.
type googleProvider struct{ c *google.Client }

func (googleProvider) name() string { return "Google Translate" }

func (googleProvider) limits() (func(string) int, int, int) {
	return google.Cost, google.MaxQueryBytes, google.MaxSegments
}

func (p googleProvider) translate(ctx context.Context, segs []string, source, target string) ([]translated, error) {
	ts, err := p.c.Translate(ctx, segs, source, target)
	if err != nil {
		return nil, err
	}
	out := make([]translated, len(ts))
	for i, t := range ts {
		out[i] = translated{html: t.Text, source: t.Source}
	}
	return out, nil
}

func (p googleProvider) detect(ctx context.Context, text, _ string) (string, int, error) {
	lang, err := p.c.Detect(ctx, text)
	return lang, utf8.RuneCountInString(text), err
}

// libreProvider is a LibreTranslate server.
type libreProvider struct {
	c        *libre.Client
	maxChars int
}

func (libreProvider) name() string { return "LibreTranslate" }

func (p libreProvider) limits() (func(string) int, int, int) {
	return runeCost, p.maxChars, 50
}

func (p libreProvider) translate(ctx context.Context, segs []string, source, target string) ([]translated, error) {
	ts, err := p.c.Translate(ctx, segs, source, target)
	if err != nil {
		return nil, err
	}
	out := make([]translated, len(ts))
	for i, t := range ts {
		out[i] = translated{html: t.Text, source: libre.OurCode(t.Source)}
	}
	return out, nil
}

func (p libreProvider) detect(ctx context.Context, text, _ string) (string, int, error) {
	lang, err := p.c.Detect(ctx, text)
	return libre.OurCode(lang), utf8.RuneCountInString(text), err
}

// deeplProvider is DeepL.
type deeplProvider struct{ c *deepl.Client }

func (deeplProvider) name() string { return "DeepL" }

// DeepL's limit is on bytes of the whole JSON body; counting each
// segment's bytes twice leaves room for JSON escaping of any text.
func (deeplProvider) limits() (func(string) int, int, int) {
	return func(s string) int { return 2*len(s) + 8 }, deepl.MaxRequestBytes - 1024, deepl.MaxTexts
}

func (p deeplProvider) translate(ctx context.Context, segs []string, source, target string) ([]translated, error) {
	ts, err := p.c.Translate(ctx, segs, source, target)
	if err != nil {
		return nil, err
	}
	out := make([]translated, len(ts))
	for i, t := range ts {
		out[i] = translated{html: t.Text, source: t.Source}
	}
	return out, nil
}

// failure is what went wrong with a translation, as users are told.
type failure string

const (
	failTimeout     failure = "timeout"     // the provider did not answer in time
	failUnavailable failure = "unavailable" // 5xx or no connection
	failAuth        failure = "auth"        // the key was refused
	failQuota       failure = "quota"       // the plan's characters are used up
	failRateLimited failure = "ratelimited" // too many requests right now
	failUnsupported failure = "unsupported" // the language pair is not offered
	failTooLong     failure = "toolong"     // the provider refused the size
	failOther       failure = "other"       // anything else (a 4xx we did not expect)
)

// classify says what a provider error means for the user. It knows each
// provider's way of saying it: Google's reasons, DeepL's 456, LibreTranslate's
// messages.
func classify(err error) failure {
	var (
		gerr *google.Error
		derr *deepl.Error
		lerr *libre.Error
		nerr net.Error
	)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return failTimeout
	case errors.As(err, &nerr) && nerr.Timeout():
		return failTimeout
	case errors.As(err, &gerr):
		reason := strings.ToLower(gerr.Reason + " " + gerr.Message)
		switch {
		case strings.Contains(reason, "ratelimit") || strings.Contains(reason, "rate limit"):
			return failRateLimited
		case strings.Contains(reason, "limit") || strings.Contains(reason, "quota") || strings.Contains(reason, "billing"):
			return failQuota
		case strings.Contains(reason, "key") || gerr.Status == http.StatusUnauthorized || gerr.Status == http.StatusForbidden:
			return failAuth
		case gerr.Status == http.StatusBadRequest && (gerr.Reason == "invalid" || strings.Contains(reason, "language")):
			return failUnsupported
		}
		return byStatus(gerr.Status)
	case errors.As(err, &derr):
		switch {
		case derr.Status == 456:
			return failQuota
		case derr.Status == http.StatusBadRequest && strings.Contains(strings.ToLower(derr.Message), "not supported"):
			return failUnsupported
		case derr.Status == 529:
			return failRateLimited
		}
		return byStatus(derr.Status)
	case errors.As(err, &lerr):
		msg := strings.ToLower(lerr.Message)
		switch {
		case lerr.Status == http.StatusBadRequest && strings.Contains(msg, "not supported"):
			return failUnsupported
		case lerr.Status == http.StatusBadRequest && strings.Contains(msg, "limit"):
			return failTooLong
		}
		return byStatus(lerr.Status)
	case errors.Is(err, context.Canceled):
		return failOther
	}
	return failUnavailable // a connection that failed before any answer
}

func byStatus(status int) failure {
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return failAuth
	case status == http.StatusTooManyRequests:
		return failRateLimited
	case status == http.StatusRequestEntityTooLarge || status == http.StatusRequestURITooLong:
		return failTooLong
	case status >= 500:
		return failUnavailable
	}
	return failOther
}

// detect translates text into hint: DeepL has no detect endpoint
// (https://developers.deepl.com/docs/api-reference/translate: the source
// it detected comes back with each translation as detected_source_language).
// text is plain, so it is escaped for tag_handling=html.
func (p deeplProvider) detect(ctx context.Context, text, hint string) (string, int, error) {
	seg := htmlEscaper.Replace(text)
	ts, err := p.c.Translate(ctx, []string{seg}, "", hint)
	if err != nil {
		return "", utf8.RuneCountInString(seg), err
	}
	return ts[0].Source, utf8.RuneCountInString(seg), nil
}
