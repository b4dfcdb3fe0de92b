// Package deepltest is a fake DeepL API, served by net/http/httptest and
// speaking DeepL's JSON (https://developers.deepl.com/docs/api-reference/translate):
// POST /v2/translate with {"text": [...], "target_lang", "source_lang",
// "tag_handling", "ignore_tags"} answering {"translations":
// [{"detected_source_language", "text"}]}, and GET /v2/languages. Like
// DeepL it has no detect endpoint: a client learns a text's language from
// detected_source_language, and /v2/detect is not found. It
// authenticates as DeepL does, with "Authorization: DeepL-Auth-Key KEY"
// (403 otherwise), and refuses what DeepL refuses: a free key (":fx") on a
// Pro server and the reverse (403 "Wrong endpoint"), more than 50 texts or
// a body over 128 KiB (413), an unknown language (400). Errors are
// {"message": "…"}.
//
// With tag_handling=html it honours translate="no", class="notranslate"
// and ignore_tags (fakemt). It counts billed characters (tags excluded, as
// DeepL bills), and injects faults
// (FailNext: 456 quota exceeded, 429, 5xx) and latency (Hold).
//
// It is for tests only, and must never import an integration.
package deepltest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/townhall/townhall/integrations/translate/internal/fakemt"
	"github.com/townhall/townhall/integrations/translate/internal/fakeserver"
	"github.com/townhall/townhall/slackapp"
)

// Targets are the target_lang codes the fake accepts; the source codes
// are their bases.
var Targets = []string{"AR", "DE", "EN-GB", "EN-US", "ES", "FR", "IT", "JA", "PT-BR", "PT-PT", "RU", "ZH-HANS", "ZH-HANT"}

// Option configures a Server.
type Option func(*Server)

// Free makes the fake a free-plan endpoint (api-free.deepl.com): it
// accepts only keys ending in ":fx", and its Key ends so.
func Free() Option { return func(s *Server) { s.free = true } }

// Request is one translation request the fake received.
type Request struct {
	Target, Source, TagHandling string
	IgnoreTags                  []string
	Texts                       []string
}

// Server is a running fake. Besides FailNext, tests call the methods of
// its Controls: Close, Hold, Held, Release, Requests and Characters. The
// characters billed are those of the texts sent, not counting tags when
// tag_handling is html or xml, as DeepL bills
// (https://support.deepl.com/hc/en-us/articles/360020685720).
type Server struct {
	fakeserver.Controls[Request]

	URL string
	Key slackapp.Secret

	fake *fakeserver.Server[Request]
	free bool
}

// New starts a fake (a Pro endpoint unless Free); it is closed at cleanup.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{}
	for _, o := range opts {
		o(s)
	}
	s.Key = slackapp.Secret(fmt.Sprintf("deepl-%p", s))
	if s.free {
		s.Key += ":fx"
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v2/translate", s.serveTranslate)
	mux.HandleFunc("GET /v2/languages", s.serveLanguages)
	s.fake = fakeserver.Start[Request](t, mux)
	s.Controls, s.URL = s.fake.Controls(), s.fake.URL
	return s
}

// FailNext makes the next request fail with status and {"message":
// message}, such as 456 "Quota Exceeded". Calls queue.
func (s *Server) FailNext(status int, message string) {
	s.fake.FailNext(func(w http.ResponseWriter) { writeError(w, status, message) })
}

// authorize checks the header, waits while held and pops a fault.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) bool {
	if !s.fake.Wait(r.Context()) {
		return false
	}
	key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "DeepL-Auth-Key ")
	switch {
	case !ok || key == "":
		writeError(w, http.StatusForbidden, "Authorization failure, check auth_key")
		return false
	case strings.HasSuffix(key, ":fx") != s.free:
		writeError(w, http.StatusForbidden, "Wrong endpoint. Use "+map[bool]string{true: "https://api-free.deepl.com", false: "https://api.deepl.com"}[!s.free])
		return false
	case key != s.Key.Reveal():
		writeError(w, http.StatusForbidden, "Authorization failure, check auth_key")
		return false
	}
	return !s.fake.Fault(w)
}

func (s *Server) serveTranslate(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, 128*1024+1))
	if err != nil {
		writeError(w, http.StatusBadRequest, "Bad request")
		return
	}
	if len(raw) > 128*1024 {
		writeError(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
		return
	}
	if !s.authorize(w, r) {
		return
	}
	var req struct {
		Text        []string        `json:"text"`
		TargetLang  string          `json:"target_lang"`
		SourceLang  string          `json:"source_lang"`
		TagHandling string          `json:"tag_handling"`
		IgnoreTags  json.RawMessage `json:"ignore_tags"`
	}
	if err := json.Unmarshal(raw, &req); err != nil {
		writeError(w, http.StatusBadRequest, "Bad request. Reason: "+err.Error())
		return
	}
	var ignore []string
	if len(req.IgnoreTags) > 0 {
		if json.Unmarshal(req.IgnoreTags, &ignore) != nil {
			var csv string
			_ = json.Unmarshal(req.IgnoreTags, &csv)
			ignore = strings.Split(csv, ",")
		}
	}
	switch {
	case len(req.Text) == 0:
		writeError(w, http.StatusBadRequest, "Parameter 'text' not specified.")
		return
	case len(req.Text) > 50:
		writeError(w, http.StatusRequestEntityTooLarge, "Too many texts")
		return
	case !slices.Contains(Targets, req.TargetLang):
		writeError(w, http.StatusBadRequest, "Value for 'target_lang' not supported.")
		return
	case req.SourceLang != "" && !s.source(req.SourceLang):
		writeError(w, http.StatusBadRequest, "Value for 'source_lang' not supported.")
		return
	}
	type translation struct {
		DetectedSourceLanguage string `json:"detected_source_language"`
		Text                   string `json:"text"`
	}
	out := make([]translation, len(req.Text))
	chars := 0
	target := strings.ToLower(req.TargetLang)
	for i, text := range req.Text {
		if req.TagHandling == "html" || req.TagHandling == "xml" {
			// Tags and their attributes are not billed.
			chars += utf8.RuneCountInString(fakemt.StripTags(text))
		} else {
			chars += utf8.RuneCountInString(text)
		}
		if req.TagHandling == "html" || req.TagHandling == "xml" {
			out[i].Text = fakemt.HTML(text, target, ignore)
		} else {
			out[i].Text = fakemt.Text(text, target)
		}
		out[i].DetectedSourceLanguage = req.SourceLang
		if req.SourceLang == "" {
			out[i].DetectedSourceLanguage = strings.ToUpper(fakemt.Detect(text))
		}
	}
	s.fake.Record(Request{Target: req.TargetLang, Source: req.SourceLang, TagHandling: req.TagHandling, IgnoreTags: ignore, Texts: req.Text}, chars)
	writeJSON(w, http.StatusOK, map[string]any{"translations": out})
}

func (s *Server) source(code string) bool {
	for _, t := range Targets {
		if base, _, _ := strings.Cut(t, "-"); base == code {
			return true
		}
	}
	return false
}

func (s *Server) serveLanguages(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r) {
		return
	}
	out := make([]map[string]any, len(Targets))
	for i, code := range Targets {
		out[i] = map[string]any{"language": code, "name": code, "supports_formality": false}
	}
	writeJSON(w, http.StatusOK, out)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, message string) {
	writeJSON(w, status, map[string]string{"message": message})
}
