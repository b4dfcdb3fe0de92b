package google_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/townhall/townhall/integrations/translate/google"
	"github.com/townhall/townhall/integrations/translate/googletest"
)

func newClient(t *testing.T, fake *googletest.Server) *google.Client {
	t.Helper()
	c, err := google.New(t.Context(), google.Config{APIKey: fake.APIKey, Endpoint: fake.Endpoint()})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestTranslate(t *testing.T) {
	t.Parallel()
	fake := googletest.New(t)
	c := newClient(t, fake)
	got, err := c.Translate(t.Context(), []string{`Hello everyone`, `<span translate="no" id="1">@ana</span> see you tomorrow`}, "", "fr")
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Text != "Bonjour à tous" || got[0].Source != "en" {
		t.Errorf("segment 0 = %+v", got[0])
	}
	if got[1].Text != `<span translate="no" id="1">@ana</span> À demain` {
		t.Errorf("segment 1 = %q", got[1].Text)
	}
	reqs := fake.Requests()
	if len(reqs) != 1 || reqs[0].Format != "html" || reqs[0].Target != "fr" || len(reqs[0].Segments) != 2 {
		t.Errorf("requests = %+v", reqs)
	}
	if fake.Characters() != len([]rune("Hello everyone"))+len([]rune(`<span translate="no" id="1">@ana</span> see you tomorrow`)) {
		t.Errorf("characters = %d", fake.Characters())
	}
}

func TestTranslateWithSource(t *testing.T) {
	t.Parallel()
	fake := googletest.New(t)
	c := newClient(t, fake)
	got, err := c.Translate(t.Context(), []string{"Hola a todos"}, "es", "zh-TW")
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Source != "" || got[0].Text != "[zh-tw] Hola a todos" {
		t.Errorf("got %+v", got[0])
	}
	if r := fake.Requests()[0]; r.Source != "es" || r.Target != "zh-TW" {
		t.Errorf("request = %+v", r)
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		setup      func(*googletest.Server)
		key        string
		target     string
		wantStatus int
		wantReason string
	}{
		{name: "bad key", key: "AIzaWrong", target: "fr", wantStatus: 400, wantReason: "badRequest"},
		{name: "unknown language", target: "tlh", wantStatus: 400, wantReason: "invalid"},
		{name: "quota", target: "fr", setup: func(s *googletest.Server) {
			s.FailNext(http.StatusForbidden, "userRateLimitExceeded", "User Rate Limit Exceeded")
		}, wantStatus: 403, wantReason: "userRateLimitExceeded"},
		{name: "backend", target: "fr", setup: func(s *googletest.Server) {
			s.FailNext(http.StatusInternalServerError, "backendError", "Backend Error")
		}, wantStatus: 500, wantReason: "backendError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := googletest.New(t)
			if tt.setup != nil {
				tt.setup(fake)
			}
			cfg := google.Config{APIKey: fake.APIKey, Endpoint: fake.Endpoint()}
			if tt.key != "" {
				cfg.APIKey = "AIzaWrong"
			}
			c, err := google.New(t.Context(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Translate(t.Context(), []string{"Hello"}, "", tt.target)
			var gerr *google.Error
			if !errors.As(err, &gerr) {
				t.Fatalf("error %v is not a *google.Error", err)
			}
			if gerr.Status != tt.wantStatus || gerr.Reason != tt.wantReason {
				t.Errorf("error = %+v, want status %d reason %s", gerr, tt.wantStatus, tt.wantReason)
			}
			if strings.Contains(err.Error(), cfg.APIKey.Reveal()) {
				t.Errorf("error shows the key: %v", err)
			}
		})
	}
}

func TestDetectAndLanguages(t *testing.T) {
	t.Parallel()
	fake := googletest.New(t)
	c := newClient(t, fake)
	lang, err := c.Detect(t.Context(), "Всем привет")
	if err != nil || lang != "ru" {
		t.Errorf("Detect = %q, %v", lang, err)
	}
	langs, err := c.Languages(t.Context())
	if err != nil || len(langs) != len(googletest.DefaultLanguages) {
		t.Errorf("Languages = %v, %v", langs, err)
	}
}

func TestCost(t *testing.T) {
	t.Parallel()
	if got := google.Cost("a&b c"); got != 7 {
		t.Errorf("Cost(a&b c) = %d", got)
	}
	if got := google.Cost("مرحبا"); got != 30 {
		t.Errorf("Cost(arabic) = %d", got)
	}
}
