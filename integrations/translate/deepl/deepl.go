// Package deepl is a client of the DeepL API (https://developers.deepl.com/docs):
// POST /v2/translate with a JSON body, and GET /v2/languages. It
// authenticates with the "Authorization: DeepL-Auth-Key" header (DeepL no
// longer accepts the key as a parameter), and picks the endpoint from the
// key as DeepL documents: keys of the free plan end in ":fx" and are only
// valid on api-free.deepl.com; other keys are Pro keys for api.deepl.com.
//
// Text is sent with tag_handling=html, so markup inside an element with
// translate="no" (or class="notranslate") is left as it is.
//
// It imports nothing from townhall but slackapp (for Secret); never an
// integration.
package deepl

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/townhall/townhall/slackapp"
)

// The two endpoints (https://developers.deepl.com/docs/getting-started/auth).
const (
	FreeURL = "https://api-free.deepl.com"
	ProURL  = "https://api.deepl.com"
)

// Request limits (https://developers.deepl.com/docs/resources/usage-limits):
// a request body may not exceed 128 KiB, and carries at most 50 texts.
const (
	MaxRequestBytes = 128 * 1024
	MaxTexts        = 50
)

// IsFreeKey reports whether key belongs to the free plan.
func IsFreeKey(key slackapp.Secret) bool { return strings.HasSuffix(key.Reveal(), ":fx") }

// Config says how to reach the API.
type Config struct {
	Key slackapp.Secret
	// URL replaces the endpoint chosen from the key, for tests.
	URL string
}

// Client calls the API. It is safe for concurrent use.
type Client struct {
	base *url.URL
	key  slackapp.Secret
	http *http.Client
}

// New builds a client; httpClient nil means one with a 30-second timeout.
func New(cfg Config, httpClient *http.Client) (*Client, error) {
	if !cfg.Key.IsSet() {
		return nil, errors.New("deepl: an API key is required")
	}
	raw := cfg.URL
	if raw == "" {
		raw = ProURL
		if IsFreeKey(cfg.Key) {
			raw = FreeURL
		}
	}
	u, err := url.Parse(strings.TrimSuffix(raw, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("deepl: URL must be an absolute http(s) URL, got %q", raw)
	}
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 30 * time.Second}
	}
	return &Client{base: u, key: cfg.Key, http: httpClient}, nil
}

// URL returns the endpoint the client calls.
func (c *Client) URL() string { return c.base.String() }

// Error is an error answer from DeepL: its HTTP status (403 bad key, 456
// quota exceeded, 429 too many requests, 413 too large, 5xx trouble) and
// the body's message.
type Error struct {
	Status  int
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("HTTP %d: %s", e.Status, e.Message) }

// Translation is one translated text.
type Translation struct {
	Text   string
	Source string // the detected source language, in our code ("en", "zh")
}

// TargetCode is DeepL's target_lang for one of our codes: English is
// American English, Portuguese European, Chinese Simplified unless
// "zh-TW" asks for Traditional.
func TargetCode(lang string) string {
	switch strings.ToLower(lang) {
	case "en":
		return "EN-US"
	case "pt":
		return "PT-PT"
	case "pt-br":
		return "PT-BR"
	case "zh":
		return "ZH-HANS"
	case "zh-tw":
		return "ZH-HANT"
	}
	return strings.ToUpper(lang)
}

// SourceCode is DeepL's source_lang for one of our codes: the language
// without its variant.
func SourceCode(lang string) string {
	base, _, _ := strings.Cut(lang, "-")
	return strings.ToUpper(base)
}

// Translate translates HTML texts from source ("" to detect) into target,
// in one request. Keep within MaxTexts and MaxRequestBytes.
func (c *Client) Translate(ctx context.Context, texts []string, source, target string) ([]Translation, error) {
	body := map[string]any{
		"text":         texts,
		"target_lang":  TargetCode(target),
		"tag_handling": "html",
	}
	if source != "" {
		body["source_lang"] = SourceCode(source)
	}
	var out struct {
		Translations []struct {
			DetectedSourceLanguage string `json:"detected_source_language"`
			Text                   string `json:"text"`
		} `json:"translations"`
	}
	if err := c.call(ctx, http.MethodPost, "/v2/translate", body, &out); err != nil {
		return nil, fmt.Errorf("deepl: translate %d texts into %s: %w", len(texts), target, err)
	}
	if len(out.Translations) != len(texts) {
		return nil, fmt.Errorf("deepl: asked for %d texts, got %d", len(texts), len(out.Translations))
	}
	res := make([]Translation, len(texts))
	for i, t := range out.Translations {
		res[i] = Translation{Text: t.Text, Source: strings.ToLower(t.DetectedSourceLanguage)}
	}
	return res, nil
}

// Languages returns DeepL's target language codes ("DE", "EN-GB", "ZH-HANS").
func (c *Client) Languages(ctx context.Context) ([]string, error) {
	var out []struct {
		Language string `json:"language"`
		Name     string `json:"name"`
	}
	if err := c.call(ctx, http.MethodGet, "/v2/languages?type=target", nil, &out); err != nil {
		return nil, fmt.Errorf("deepl: languages: %w", err)
	}
	codes := make([]string, len(out))
	for i, l := range out {
		codes[i] = l.Language
	}
	return codes, nil
}

// call sends one request and decodes its JSON answer into out.
func (c *Client) call(ctx context.Context, method, pathAndQuery string, body any, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		if len(b) > MaxRequestBytes {
			return &Error{Status: http.StatusRequestEntityTooLarge, Message: fmt.Sprintf("request of %d bytes exceeds DeepL's %d", len(b), MaxRequestBytes)}
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base.String()+pathAndQuery, rd)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Authorization", "DeepL-Auth-Key "+c.key.Reveal())
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Message string `json:"message"`
		}
		msg := strings.TrimSpace(string(raw))
		if json.Unmarshal(raw, &e) == nil && e.Message != "" {
			msg = e.Message
		}
		if len(msg) > 200 {
			msg = msg[:200]
		}
		if msg == "" {
			msg = http.StatusText(resp.StatusCode)
		}
		return &Error{Status: resp.StatusCode, Message: msg}
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	return nil
}
