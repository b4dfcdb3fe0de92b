// Package googletest is a fake of Google Cloud Translation - Basic (v2),
// served by net/http/httptest and speaking its REST JSON
// (https://cloud.google.com/translate/docs/reference/rest/v2/translate):
// GET or POST /language/translate/v2 (q repeated, target, source, format,
// key), /language/translate/v2/detect and /language/translate/v2/languages,
// every answer wrapped in {"data": …} and every error in Google's
// {"error": {"code", "message", "errors": [{"reason"}], "status"}}.
//
// It checks the API key as Google does (400 keyInvalid), refuses languages
// it does not know (400 invalid), translates with fakemt (honouring
// translate="no" in HTML), counts the characters it was sent, and injects
// faults (FailNext) and latency (Hold). Point the real client at it with
// google.Config{APIKey: s.APIKey, Endpoint: s.Endpoint()}.
//
// It is for tests only, and must never import an integration.
package googletest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/townhall/townhall/integrations/translate/internal/fakemt"
	"github.com/townhall/townhall/integrations/translate/internal/fakeserver"
	"github.com/townhall/townhall/slackapp"
)

// BasePath is where the fake serves the API, as Google does.
const BasePath = "/language/translate/"

// DefaultLanguages are the codes the fake translates.
var DefaultLanguages = []string{"ar", "de", "en", "es", "fr", "it", "ja", "pt", "ru", "zh-CN", "zh-TW"}

// Request is one translation request the fake received.
type Request struct {
	Method    string
	Target    string
	Source    string
	Format    string
	Segments  []string
	URLLength int // the length of the request's URL
}

// Server is a running fake. Besides FailNext and SetLanguages, tests call
// the methods of its Controls: Close, Hold, Held, Release, Requests,
// Detections (the texts sent to /v2/detect, which Google bills at the
// translation rate) and Characters, which counts the characters of text
// sent to translate or detect: what Google would bill.
type Server struct {
	fakeserver.Controls[Request]

	APIKey slackapp.Secret

	fake *fakeserver.Server[Request]

	mu        sync.Mutex // guards languages
	languages []string
}

// New starts a fake with a random API key; it is closed at cleanup.
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{
		APIKey:    slackapp.Secret("AIzaFake" + strings.ReplaceAll(t.Name(), "/", "_")),
		languages: slices.Clone(DefaultLanguages),
	}
	mux := http.NewServeMux()
	mux.HandleFunc(BasePath+"v2", s.serveTranslate)
	mux.HandleFunc(BasePath+"v2/detect", s.serveDetect)
	mux.HandleFunc(BasePath+"v2/languages", s.serveLanguages)
	s.fake = fakeserver.Start[Request](t, mux)
	s.Controls = s.fake.Controls()
	return s
}

// Endpoint is the base URL to give option.WithEndpoint.
func (s *Server) Endpoint() string { return s.fake.URL + BasePath }

// SetLanguages replaces the languages the fake translates.
func (s *Server) SetLanguages(codes ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.languages = codes
}

// FailNext makes the next request fail with status, reason and message,
// as Google reports errors (for example 403 "userRateLimitExceeded" "User
// Rate Limit Exceeded", or 500 "backendError" "Backend Error"). Calls queue.
func (s *Server) FailNext(status int, reason, message string) {
	s.fake.FailNext(func(w http.ResponseWriter) { writeError(w, status, reason, message) })
}

// begin checks the key, waits while held and pops a fault; it reports
// whether the handler should go on.
func (s *Server) begin(w http.ResponseWriter, r *http.Request) (url.Values, bool) {
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, "parseError", "Parse Error")
		return nil, false
	}
	if !s.fake.Wait(r.Context()) {
		return nil, false
	}
	if r.Form.Get("key") != s.APIKey.Reveal() {
		writeError(w, http.StatusBadRequest, "badRequest", "API key not valid. Please pass a valid API key.")
		return nil, false
	}
	if s.fake.Fault(w) {
		return nil, false
	}
	return r.Form, true
}

func (s *Server) known(code string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if code == "zh" {
		code = "zh-CN"
	}
	return slices.Contains(s.languages, code)
}

func (s *Server) serveTranslate(w http.ResponseWriter, r *http.Request) {
	form, ok := s.begin(w, r)
	if !ok {
		return
	}
	q, target, source := form["q"], form.Get("target"), form.Get("source")
	format := form.Get("format")
	if format == "" {
		format = "html"
	}
	switch {
	case len(q) == 0:
		writeError(w, http.StatusBadRequest, "required", "Required Text")
		return
	case target == "":
		writeError(w, http.StatusBadRequest, "required", "Required Target language")
		return
	case len(q) > 128:
		writeError(w, http.StatusBadRequest, "badRequest", "Too many text segments")
		return
	case !s.known(target) || source != "" && !s.known(source):
		writeError(w, http.StatusBadRequest, "invalid", "Invalid Value")
		return
	}
	type translation struct {
		TranslatedText         string `json:"translatedText"`
		DetectedSourceLanguage string `json:"detectedSourceLanguage,omitempty"`
	}
	out := make([]translation, len(q))
	chars := 0
	for i, text := range q {
		chars += utf8.RuneCountInString(text)
		if format == "html" {
			out[i].TranslatedText = fakemt.HTML(text, target, nil)
		} else {
			out[i].TranslatedText = fakemt.Text(text, target)
		}
		if source == "" {
			out[i].DetectedSourceLanguage = googleCode(fakemt.Detect(text))
		}
	}
	s.fake.Record(Request{
		Method: r.Method, Target: target, Source: source, Format: format,
		Segments: slices.Clone(q), URLLength: len(r.URL.String()),
	}, chars)
	writeData(w, map[string]any{"translations": out})
}

func googleCode(lang string) string {
	if lang == "zh" {
		return "zh-CN"
	}
	return lang
}

func (s *Server) serveDetect(w http.ResponseWriter, r *http.Request) {
	form, ok := s.begin(w, r)
	if !ok {
		return
	}
	q := form["q"]
	if len(q) == 0 {
		writeError(w, http.StatusBadRequest, "required", "Required Text")
		return
	}
	type detection struct {
		Language   string  `json:"language"`
		IsReliable bool    `json:"isReliable"`
		Confidence float64 `json:"confidence"`
	}
	out := make([][]detection, len(q))
	chars := 0
	for i, text := range q {
		chars += utf8.RuneCountInString(text)
		out[i] = []detection{{Language: googleCode(fakemt.Detect(text)), Confidence: 0.9}}
	}
	s.fake.RecordDetection(q, chars)
	writeData(w, map[string]any{"detections": out})
}

func (s *Server) serveLanguages(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.begin(w, r); !ok {
		return
	}
	type lang struct {
		Language string `json:"language"`
		Name     string `json:"name,omitempty"`
	}
	s.mu.Lock()
	out := make([]lang, len(s.languages))
	for i, code := range s.languages {
		out[i] = lang{Language: code, Name: code}
	}
	s.mu.Unlock()
	writeData(w, map[string]any{"languages": out})
}

func writeData(w http.ResponseWriter, data any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	_ = json.NewEncoder(w).Encode(map[string]any{"data": data})
}

// writeError writes Google's error shape.
func writeError(w http.ResponseWriter, status int, reason, message string) {
	statusName := map[int]string{
		400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
		429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE",
	}[status]
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
		"code":    status,
		"message": message,
		"errors":  []map[string]any{{"message": message, "domain": "global", "reason": reason}},
		"status":  statusName,
	}})
}
