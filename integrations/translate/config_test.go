package translate_test

import (
	"fmt"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
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

// TestImports keeps the package doc's promise: no other integration and
// no main package, here or in the subpackages.
func TestImports(t *testing.T) {
	t.Parallel()
	const module = "github.com/townhall/townhall/"
	allowed := []string{"integrations", "integrations/translate/", "integrations/integrationtest", "slackapp", "scheduler", "store"}
	dirs := []string{".", "google", "googletest", "libre", "libretest", "deepl", "deepltest", "internal/fakemt"}
	for _, dir := range dirs {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, file := range files {
			f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range f.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				rel, ours := strings.CutPrefix(path, module)
				if !ours {
					continue
				}
				ok := false
				for _, a := range allowed {
					if rel == strings.TrimSuffix(a, "/") || strings.HasSuffix(a, "/") && strings.HasPrefix(rel, a) || strings.HasPrefix(rel, a+"/") {
						ok = true
					}
				}
				if rel == "integrations/integrationtest" && !strings.HasSuffix(file, "_test.go") {
					ok = false
				}
				if dir != "." && (rel == "integrations" || strings.HasPrefix(rel, "store") || rel == "scheduler" || rel == "integrations/integrationtest") {
					ok = false // clients and fakes stand alone
				}
				if !ok {
					t.Errorf("%s imports %s", file, path)
				}
			}
		}
	}
}
