// Package libretest is a fake LibreTranslate server, served by
// net/http/httptest and speaking its JSON API
// (https://docs.libretranslate.com/guides/api_usage): POST /translate with
// q as a string or an array, source ("auto" to detect), target, format
// ("text" or "html") and api_key, answering translatedText (and
// detectedLanguage when detecting) in the same shape as q; POST /detect;
// GET /languages. Errors are {"error": "…"} with LibreTranslate's statuses:
// 400 for bad input, an unsupported language or a request over the
// character limit, 403 for a missing or wrong API key, 429 when slowed
// down, 500 when translation fails.
//
// It translates with fakemt (honouring translate="no" in HTML), counts the
// characters it was sent, and injects faults (FailNext) and latency
// (Hold).
//
// It is for tests only, and must never import an integration.
package libretest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/townhall/townhall/integrations/translate/internal/fakemt"
	"github.com/townhall/townhall/integrations/translate/internal/fakeserver"
	"github.com/townhall/townhall/slackapp"
)

// CurrentLanguages are the codes a current server lists; LegacyLanguages
// those of servers before Chinese became zh-Hans and zh-Hant.
var (
	CurrentLanguages = []string{"ar", "de", "en", "es", "fr", "it", "ja", "pt", "pt-BR", "ru", "zh-Hans", "zh-Hant"}
	LegacyLanguages  = []string{"ar", "de", "en", "es", "fr", "it", "ja", "pb", "pt", "ru", "zh", "zt"}
)

// Option configures a Server.
type Option func(*Server)

// WithAPIKey makes the server require an API key (as one started with
// --api-keys does); the key is random.
func WithAPIKey() Option {
	return func(s *Server) { s.APIKey = slackapp.Secret(fmt.Sprintf("libre-%p", s)) }
}

// WithLanguages sets the codes /languages lists.
func WithLanguages(codes ...string) Option { return func(s *Server) { s.languages = codes } }

// WithCharLimit refuses requests whose text is longer, as --char-limit does.
func WithCharLimit(n int) Option { return func(s *Server) { s.charLimit = n } }

// Request is one translation request the fake received.
type Request struct {
	Source, Target, Format string
	Segments               []string
}

// Server is a running fake. Besides FailNext, tests call the methods of
// its Controls: Close, Hold, Held, Release, Requests, Detections (the
// texts sent to /detect) and Characters. Hold and faults apply to
// /translate and /detect, not /languages; the characters billed are all
// those sent to translate or detect.
type Server struct {
	fakeserver.Controls[Request]

	URL    string
	APIKey slackapp.Secret // empty unless WithAPIKey

	fake      *fakeserver.Server[Request]
	languages []string
	charLimit int
}

// New starts a fake; it is closed at cleanup.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{languages: CurrentLanguages}
	for _, o := range opts {
		o(s)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /translate", s.serveTranslate)
	mux.HandleFunc("POST /detect", s.serveDetect)
	mux.HandleFunc("GET /languages", s.serveLanguages)
	s.fake = fakeserver.Start[Request](t, mux)
	s.Controls, s.URL = s.fake.Controls(), s.fake.URL
	return s
}

// FailNext makes the next /translate or /detect request fail with status
// and an {"error": message} body. Calls queue.
func (s *Server) FailNext(status int, message string) {
	s.fake.FailNext(func(w http.ResponseWriter) { writeError(w, status, message) })
}

// request is the body of /translate and /detect.
type request struct {
	Q      json.RawMessage `json:"q"`
	Source string          `json:"source"`
	Target string          `json:"target"`
	Format string          `json:"format"`
	APIKey string          `json:"api_key"`
}

// begin decodes the body, waits while held, checks the key and pops a
// fault; it reports whether the handler should go on.
func (s *Server) begin(w http.ResponseWriter, r *http.Request) (request, []string, bool, bool) {
	var req request
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "Invalid request: "+err.Error())
		return req, nil, false, false
	}
	var q []string
	array := true
	if json.Unmarshal(req.Q, &q) != nil {
		var one string
		if json.Unmarshal(req.Q, &one) != nil || one == "" {
			writeError(w, http.StatusBadRequest, "Invalid request: missing q parameter")
			return req, nil, false, false
		}
		q, array = []string{one}, false
	}
	if !s.fake.Wait(r.Context()) {
		return req, nil, false, false
	}
	if s.APIKey.IsSet() && req.APIKey != s.APIKey.Reveal() {
		if req.APIKey == "" {
			writeError(w, http.StatusForbidden, "Please contact the server operator to get an API key")
		} else {
			writeError(w, http.StatusForbidden, "Invalid API key")
		}
		return req, nil, false, false
	}
	if s.fake.Fault(w) {
		return req, nil, false, false
	}
	return req, q, array, true
}

func (s *Server) serveTranslate(w http.ResponseWriter, r *http.Request) {
	req, q, array, ok := s.begin(w, r)
	if !ok {
		return
	}
	chars := 0
	for _, text := range q {
		chars += utf8.RuneCountInString(text)
	}
	switch {
	case req.Target == "":
		writeError(w, http.StatusBadRequest, "Invalid request: missing target parameter")
		return
	case !slices.Contains(s.languages, req.Target):
		writeError(w, http.StatusBadRequest, req.Target+" is not supported")
		return
	case req.Source != "auto" && !slices.Contains(s.languages, req.Source):
		writeError(w, http.StatusBadRequest, req.Source+" is not supported")
		return
	case s.charLimit > 0 && chars > s.charLimit:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("Invalid request: request (%d) exceeds text limit (%d)", chars, s.charLimit))
		return
	}
	out := make([]string, len(q))
	det := make([]map[string]any, len(q))
	for i, text := range q {
		if req.Format == "html" {
			out[i] = fakemt.HTML(text, req.Target, nil)
		} else {
			out[i] = fakemt.Text(text, req.Target)
		}
		det[i] = map[string]any{"confidence": 90.0, "language": s.code(fakemt.Detect(text))}
	}
	s.fake.Record(Request{Source: req.Source, Target: req.Target, Format: req.Format, Segments: q}, chars)
	resp := map[string]any{}
	if array {
		resp["translatedText"] = out
		if req.Source == "auto" {
			resp["detectedLanguage"] = det
		}
	} else {
		resp["translatedText"] = out[0]
		if req.Source == "auto" {
			resp["detectedLanguage"] = det[0]
		}
	}
	writeJSON(w, http.StatusOK, resp)
}

// code names a language as this server does.
func (s *Server) code(lang string) string {
	if lang == "zh" && slices.Contains(s.languages, "zh-Hans") {
		return "zh-Hans"
	}
	return lang
}

func (s *Server) serveDetect(w http.ResponseWriter, r *http.Request) {
	_, q, _, ok := s.begin(w, r)
	if !ok {
		return
	}
	s.fake.RecordDetection(q, utf8.RuneCountInString(strings.Join(q, "")))
	writeJSON(w, http.StatusOK, []map[string]any{{"confidence": 90.0, "language": s.code(fakemt.Detect(q[0]))}})
}

func (s *Server) serveLanguages(w http.ResponseWriter, _ *http.Request) {
	out := make([]map[string]any, len(s.languages))
	for i, code := range s.languages {
		out[i] = map[string]any{"code": code, "name": code, "targets": s.languages}
	}
	writeJSON(w, http.StatusOK, out)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, message string) {
	writeJSON(w, status, map[string]string{"error": message})
}
