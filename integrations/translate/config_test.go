package translate_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kelseyhightower/envconfig"

	"github.com/townhall/townhall/integrations/translate"
)

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	var cfg translate.Config
	if err := envconfig.Process("TOWNHALL_TRANSLATE_TEST_UNSET", &cfg); err != nil {
		t.Fatal(err)
	}
	want := testConfig()
	want.Enabled, want.Provider, want.ProgressAfter = false, translate.ProviderGoogle, cfg.ProgressAfter
	if cfg != want || cfg.ProgressAfter.String() != "1.5s" {
		t.Errorf("defaults = %+v\nwant       %+v", cfg, want)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("a disabled integration failed validation: %v", err)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		modify func(*translate.Config)
		want   []string // lines, each starting with the variable
	}{
		{name: "google with ADC", modify: func(c *translate.Config) { c.Provider = "google" }},
		{name: "deepl without key", modify: func(c *translate.Config) { c.DeepLKey = "" },
			want: []string{"TOWNHALL_TRANSLATE_DEEPL_KEY: required when TOWNHALL_TRANSLATE_PROVIDER is deepl"}},
		{name: "libre without URL", modify: func(c *translate.Config) { c.Provider = "libretranslate" },
			want: []string{"TOWNHALL_TRANSLATE_LIBRE_URL: required when TOWNHALL_TRANSLATE_PROVIDER is libretranslate"}},
		{name: "everything wrong", modify: func(c *translate.Config) {
			c.Provider, c.DefaultLanguage, c.MaxCharacters, c.Timeout = "bing", "klingon", 0, 0
		}, want: []string{
			"TOWNHALL_TRANSLATE_PROVIDER: must be google, libretranslate or deepl",
			"TOWNHALL_TRANSLATE_DEFAULT_LANGUAGE: unknown language",
			"TOWNHALL_TRANSLATE_MAX_CHARACTERS: must be between 1 and 40000",
			"TOWNHALL_TRANSLATE_TIMEOUT: must be positive",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig()
			cfg.DeepLKey = "secret-deepl-key"
			tt.modify(&cfg)
			err := cfg.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Errorf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate passed")
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tt.want) {
				t.Errorf("got %d problems, want %d:\n%v", len(lines), len(tt.want), err)
			}
			for i, w := range tt.want {
				if i < len(lines) && !strings.HasPrefix(lines[i], w) {
					t.Errorf("line %d = %q, want it to start %q", i, lines[i], w)
				}
			}
		})
	}
}

func TestConfigNeverShowsSecrets(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.GoogleAPIKey, cfg.LibreKey, cfg.DeepLKey = "AIza-secret", "libre-secret", "deepl-secret:fx"
	for _, verb := range []string{"%v", "%+v", "%#v"} {
		if s := fmt.Sprintf(verb, cfg); strings.Contains(s, "secret") {
			t.Errorf("%s shows a secret: %s", verb, s)
		}
	}
	if d := cfg.Describe(); d != "DeepL API Free (https://api-free.deepl.com)" {
		t.Errorf("Describe = %q", d)
	}
}
