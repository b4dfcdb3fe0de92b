package libre_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/townhall/townhall/integrations/translate/libre"
	"github.com/townhall/townhall/integrations/translate/libretest"
)

func TestTranslate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		opts       []libretest.Option
		target     string
		wantTarget string
	}{
		{name: "current server", target: "zh", wantTarget: "zh-Hans"},
		{name: "legacy server", opts: []libretest.Option{libretest.WithLanguages(libretest.LegacyLanguages...)}, target: "zh", wantTarget: "zh"},
		{name: "legacy traditional", opts: []libretest.Option{libretest.WithLanguages(libretest.LegacyLanguages...)}, target: "zh-TW", wantTarget: "zt"},
		{name: "with key", opts: []libretest.Option{libretest.WithAPIKey()}, target: "fr", wantTarget: "fr"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := libretest.New(t, tt.opts...)
			c, err := libre.New(libre.Config{URL: fake.URL, APIKey: fake.APIKey}, nil)
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.Translate(t.Context(), []string{"Hello everyone", `<span translate="no" id="1">:tada:</span> done`}, "", tt.target)
			if err != nil {
				t.Fatal(err)
			}
			if got[0].Source != "en" || !strings.Contains(got[1].Text, `<span translate="no" id="1">:tada:</span>`) {
				t.Errorf("got %+v", got)
			}
			reqs := fake.Requests()
			if len(reqs) != 1 || reqs[0].Target != tt.wantTarget || reqs[0].Source != "auto" || reqs[0].Format != "html" {
				t.Errorf("requests = %+v", reqs)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		setup      func(*libretest.Server)
		key        string
		opts       []libretest.Option
		target     string
		wantStatus int
	}{
		{name: "missing key", opts: []libretest.Option{libretest.WithAPIKey()}, target: "fr", wantStatus: 403},
		{name: "unsupported", target: "tlh", wantStatus: 400},
		{name: "slow down", target: "fr", setup: func(s *libretest.Server) { s.FailNext(http.StatusTooManyRequests, "Slowdown: 10 per 1 minute") }, wantStatus: 429},
		{name: "char limit", opts: []libretest.Option{libretest.WithCharLimit(5)}, target: "fr", wantStatus: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := libretest.New(t, tt.opts...)
			if tt.setup != nil {
				tt.setup(fake)
			}
			c, err := libre.New(libre.Config{URL: fake.URL}, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Translate(t.Context(), []string{"Hello everyone"}, "", tt.target)
			var lerr *libre.Error
			if !errors.As(err, &lerr) || lerr.Status != tt.wantStatus {
				t.Fatalf("error = %v, want status %d", err, tt.wantStatus)
			}
		})
	}
}

func TestDetect(t *testing.T) {
	t.Parallel()
	fake := libretest.New(t)
	c, err := libre.New(libre.Config{URL: fake.URL}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Detect(t.Context(), "مرحبا بالجميع")
	if err != nil || got != "ar" {
		t.Errorf("Detect = %q, %v", got, err)
	}
	if libre.OurCode("zh-Hans") != "zh" || libre.OurCode("zt") != "zh-TW" || libre.OurCode("pt") != "pt" {
		t.Error("OurCode maps wrongly")
	}
}

func TestNewRejectsBadURL(t *testing.T) {
	t.Parallel()
	if _, err := libre.New(libre.Config{URL: "translate.example.org"}, nil); err == nil {
		t.Error("New accepted a URL without a scheme")
	}
}
