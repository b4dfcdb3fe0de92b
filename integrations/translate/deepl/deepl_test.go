package deepl_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/townhall/townhall/integrations/translate/deepl"
	"github.com/townhall/townhall/integrations/translate/deepltest"
	"github.com/townhall/townhall/slackapp"
)

func TestEndpointFromKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key  slackapp.Secret
		want string
	}{
		{"0123-abcd:fx", deepl.FreeURL},
		{"0123-abcd", deepl.ProURL},
	}
	for _, tt := range tests {
		c, err := deepl.New(deepl.Config{Key: tt.key}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if c.URL() != tt.want {
			t.Errorf("key %s: URL = %s, want %s", tt.key.Reveal(), c.URL(), tt.want)
		}
	}
	if _, err := deepl.New(deepl.Config{}, nil); err == nil {
		t.Error("New accepted no key")
	}
}

func TestTranslate(t *testing.T) {
	t.Parallel()
	for _, free := range []bool{false, true} {
		var opts []deepltest.Option
		if free {
			opts = append(opts, deepltest.Free())
		}
		fake := deepltest.New(t, opts...)
		c, err := deepl.New(deepl.Config{Key: fake.Key, URL: fake.URL}, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.Translate(t.Context(), []string{`Thank you <span translate="no" id="1">@ana</span>`}, "", "zh")
		if err != nil {
			t.Fatal(err)
		}
		if got[0].Source != "en" || !strings.Contains(got[0].Text, `<span translate="no" id="1">@ana</span>`) {
			t.Errorf("free=%v: got %+v", free, got)
		}
		r := fake.Requests()[0]
		if r.Target != "ZH-HANS" || r.TagHandling != "html" || r.Source != "" {
			t.Errorf("request = %+v", r)
		}
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		setup      func(*deepltest.Server)
		key        slackapp.Secret
		target     string
		wantStatus int
	}{
		{name: "wrong key", key: "nope", target: "fr", wantStatus: 403},
		{name: "free key on pro", key: "nope:fx", target: "fr", wantStatus: 403},
		{name: "quota", target: "fr", setup: func(s *deepltest.Server) { s.FailNext(456, "Quota Exceeded") }, wantStatus: 456},
		{name: "unsupported", target: "tlh", wantStatus: 400},
		{name: "server", target: "fr", setup: func(s *deepltest.Server) { s.FailNext(http.StatusServiceUnavailable, "") }, wantStatus: 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := deepltest.New(t)
			if tt.setup != nil {
				tt.setup(fake)
			}
			key := fake.Key
			if tt.key != "" {
				key = tt.key
			}
			c, err := deepl.New(deepl.Config{Key: key, URL: fake.URL}, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Translate(t.Context(), []string{"Hello"}, "", tt.target)
			var derr *deepl.Error
			if !errors.As(err, &derr) || derr.Status != tt.wantStatus {
				t.Fatalf("error = %v, want status %d", err, tt.wantStatus)
			}
			if strings.Contains(err.Error(), key.Reveal()) {
				t.Errorf("error shows the key: %v", err)
			}
		})
	}
}

func TestTooLarge(t *testing.T) {
	t.Parallel()
	fake := deepltest.New(t)
	c, err := deepl.New(deepl.Config{Key: fake.Key, URL: fake.URL}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Translate(t.Context(), []string{strings.Repeat("a", deepl.MaxRequestBytes)}, "", "fr")
	var derr *deepl.Error
	if !errors.As(err, &derr) || derr.Status != http.StatusRequestEntityTooLarge {
		t.Errorf("error = %v", err)
	}
	if len(fake.Requests()) != 0 {
		t.Error("an oversized request reached DeepL")
	}
}
