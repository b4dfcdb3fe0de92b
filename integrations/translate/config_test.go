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

func TestChannelsVariable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		value string
		want  string // the one line of the error, "" for none
	}{
		{value: ""},
		{value: "#general=es,fr;#annonces=en,ar"},
		{value: " #général = es, fr ; C0123ABCD=zh-TW+ar ;"},
		{value: "general=français,español"},
		{value: "#general", want: `TOWNHALL_TRANSLATE_CHANNELS: entry 1 "#general": want <channel>=<languages>, as in "#general=es,fr"`},
		{value: "#general=es;#random=xx", want: `TOWNHALL_TRANSLATE_CHANNELS: entry 2 "#random=xx": unknown language "xx" (use codes such as es, fr, ar, zh, ru)`},
		{value: "#Gen eral=es", want: `TOWNHALL_TRANSLATE_CHANNELS: entry 1 "#Gen eral=es": "#Gen eral" is not a channel: write #name or an ID such as C0123ABCD`},
		{value: "#general=", want: `TOWNHALL_TRANSLATE_CHANNELS: entry 1 "#general=": no languages given (for example es,fr)`},
		{value: "#general=es;#General=fr", want: `TOWNHALL_TRANSLATE_CHANNELS: entry 2 "#General=fr": #General is listed twice`},
		{value: "#a=es;#b", want: `TOWNHALL_TRANSLATE_CHANNELS: entry 2 "#b": want <channel>=<languages>, as in "#general=es,fr"`},
		{value: "#a=x;#b=y", want: `TOWNHALL_TRANSLATE_CHANNELS: entry 1 "#a=x": unknown language "x" (use codes such as es, fr, ar, zh, ru); entry 2 "#b=y": unknown language "y" (use codes such as es, fr, ar, zh, ru)`},
		{value: "#general=en,fr,es,ar,zh,ru,de,it,ja", want: `TOWNHALL_TRANSLATE_CHANNELS: entry 1 "#general=en,fr,es,ar,zh,ru,de,it,ja": 9 languages; at most 8 fit in one reply`},
	}
	for _, tt := range tests {
		cfg := testConfig()
		cfg.DeepLKey, cfg.Channels = "key", tt.value
		err := cfg.Validate()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%q: %v", tt.value, err)
		case tt.want != "" && (err == nil || err.Error() != tt.want):
			t.Errorf("%q: error = %v\nwant        %s", tt.value, err, tt.want)
		}
	}
	cfg := testConfig()
	cfg.DeepLKey, cfg.MonthlyCharacters, cfg.ChannelMinWords = "key", -1, 101
	err := cfg.Validate()
	if err == nil || !strings.Contains(err.Error(), "TOWNHALL_TRANSLATE_MONTHLY_CHARACTERS: must be 0 (no cap)") ||
		!strings.Contains(err.Error(), "TOWNHALL_TRANSLATE_CHANNEL_MIN_WORDS: must be between 1 and 100, got 101") {
		t.Errorf("Validate = %v", err)
	}
}
