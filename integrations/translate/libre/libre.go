// Package libre is a client of LibreTranslate (https://libretranslate.com),
// the open-source translation server a community can host itself so its
// text never leaves its own machines. It speaks the JSON API documented at
// https://docs.libretranslate.com/guides/api_usage: POST /translate (q,
// source, target, format, api_key), POST /detect and GET /languages.
//
// Servers name some languages differently by version (Simplified Chinese
// is "zh-Hans" on current servers and "zh" on older ones), so the client
// reads /languages once and maps the codes it is given to the server's.
//
// It imports nothing from townhall but slackapp (for Secret); never an
// integration.
package libre

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/townhall/townhall/slackapp"
)

// Config says how to reach a server.
type Config struct {
	URL    string          // the server's base URL: "https://translate.example.org"
	APIKey slackapp.Secret // optional: only servers started with --api-keys need one
}

// Client calls one server. It is safe for concurrent use.
type Client struct {
	base *url.URL
	key  slackapp.Secret
	http *http.Client

	mu    sync.Mutex
	codes []string // the server's language codes, once read
}

// New builds a client; httpClient nil means one with a 30-second timeout.
func New(cfg Config, httpClient *http.Client) (*Client, error) {
	u, err := url.Parse(strings.TrimSuffix(cfg.URL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("libretranslate: URL must be an absolute http(s) URL, got %q", cfg.URL)
	}
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 30 * time.Second}
	}
	return &Client{base: u, key: cfg.APIKey, http: httpClient}, nil
}

// Error is an error answer from the server: its HTTP status and the
// "error" field of its JSON body.
type Error struct {
	Status  int
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("HTTP %d: %s", e.Status, e.Message) }

// Translation is one translated segment.
type Translation struct {
	Text   string
	Source string // the detected language when source was "", in the server's code
}

// detected is LibreTranslate's detectedLanguage object.
type detected struct {
	Confidence float64 `json:"confidence"`
	Language   string  `json:"language"`
}

// Translate translates HTML segments from source ("" to detect) into
// target, in one request. Codes are ours ("zh", "zh-TW", "pt-BR") or the
// server's; see ServerCode.
func (c *Client) Translate(ctx context.Context, segments []string, source, target string) ([]Translation, error) {
	tgt, err := c.ServerCode(ctx, target)
	if err != nil {
		return nil, err
	}
	src := "auto"
	if source != "" {
		if src, err = c.ServerCode(ctx, source); err != nil {
			return nil, err
		}
	}
	body := map[string]any{"q": segments, "source": src, "target": tgt, "format": "html"}
	var out struct {
		TranslatedText   json.RawMessage `json:"translatedText"`
		DetectedLanguage json.RawMessage `json:"detectedLanguage"`
	}
	if err := c.call(ctx, http.MethodPost, "/translate", body, &out); err != nil {
		return nil, fmt.Errorf("libretranslate: translate %d segments into %s: %w", len(segments), target, err)
	}
	var texts []string
	if err := json.Unmarshal(out.TranslatedText, &texts); err != nil {
		var one string
		if json.Unmarshal(out.TranslatedText, &one) != nil {
			return nil, fmt.Errorf("libretranslate: translate: unexpected translatedText %.100s", out.TranslatedText)
		}
		texts = []string{one}
	}
	if len(texts) != len(segments) {
		return nil, fmt.Errorf("libretranslate: asked for %d segments, got %d", len(segments), len(texts))
	}
	var sources []detected
	if len(out.DetectedLanguage) > 0 && json.Unmarshal(out.DetectedLanguage, &sources) != nil {
		var one detected
		if json.Unmarshal(out.DetectedLanguage, &one) == nil {
			sources = []detected{one}
		}
	}
	res := make([]Translation, len(texts))
	for i, t := range texts {
		res[i].Text = t
		if source == "" && i < len(sources) {
			res[i].Source = sources[i].Language
		}
	}
	return res, nil
}

// Detect returns the most likely language of text, in the server's code.
func (c *Client) Detect(ctx context.Context, text string) (string, error) {
	var out []detected
	if err := c.call(ctx, http.MethodPost, "/detect", map[string]any{"q": text}, &out); err != nil {
		return "", fmt.Errorf("libretranslate: detect: %w", err)
	}
	if len(out) == 0 {
		return "", errors.New("libretranslate: detect: no detection returned")
	}
	return slices.MaxFunc(out, func(a, b detected) int {
		switch {
		case a.Confidence < b.Confidence:
			return -1
		case a.Confidence > b.Confidence:
			return 1
		}
		return 0
	}).Language, nil
}

// Languages returns the server's language codes.
func (c *Client) Languages(ctx context.Context) ([]string, error) {
	c.mu.Lock()
	codes := c.codes
	c.mu.Unlock()
	if codes != nil {
		return codes, nil
	}
	var out []struct {
		Code string `json:"code"`
		Name string `json:"name"`
	}
	if err := c.call(ctx, http.MethodGet, "/languages", nil, &out); err != nil {
		return nil, fmt.Errorf("libretranslate: languages: %w", err)
	}
	codes = make([]string, len(out))
	for i, l := range out {
		codes[i] = l.Code
	}
	c.mu.Lock()
	c.codes = codes
	c.mu.Unlock()
	return codes, nil
}

// aliases are the codes servers of different versions use for a language.
var aliases = map[string][]string{
	"zh":    {"zh-Hans", "zh", "zh-CN"},
	"zh-TW": {"zh-Hant", "zt", "zh-TW"},
	"pt-BR": {"pt-BR", "pb", "pt"},
	"nb":    {"nb", "no"},
}

// ServerCode maps one of our codes to the server's, reading /languages
// the first time. A language the server does not list is returned as
// given, so the server itself refuses it with its own message.
func (c *Client) ServerCode(ctx context.Context, code string) (string, error) {
	codes, err := c.Languages(ctx)
	if err != nil {
		return "", err
	}
	candidates := aliases[code]
	if candidates == nil {
		candidates = []string{code}
	}
	for _, cand := range candidates {
		for _, have := range codes {
			if strings.EqualFold(have, cand) {
				return have, nil
			}
		}
	}
	return code, nil
}

// OurCode maps a server's code back to ours ("zh-Hans" → "zh").
func OurCode(code string) string {
	for ours, cands := range aliases {
		for _, cand := range cands {
			if strings.EqualFold(cand, code) && cand != "pt" && cand != "no" {
				return ours
			}
		}
	}
	return code
}

// call sends one request and decodes its JSON answer into out.
func (c *Client) call(ctx context.Context, method, path string, body map[string]any, out any) error {
	u := c.base.JoinPath(path)
	var rd io.Reader
	if body != nil {
		if c.key.IsSet() {
			body["api_key"] = c.key.Reveal()
		}
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		rd = bytes.NewReader(b)
	} else if c.key.IsSet() {
		u.RawQuery = url.Values{"api_key": {c.key.Reveal()}}.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		// The URL in a transport error carries the key for GETs.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			return fmt.Errorf("%s %s: %w", method, path, uerr.Err)
		}
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error string `json:"error"`
		}
		msg := strings.TrimSpace(string(raw))
		if json.Unmarshal(raw, &e) == nil && e.Error != "" {
			msg = e.Error
		}
		if len(msg) > 200 {
			msg = msg[:200]
		}
		return &Error{Status: resp.StatusCode, Message: msg}
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
	}
	return nil
}
