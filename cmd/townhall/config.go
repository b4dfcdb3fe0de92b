package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kelseyhightower/envconfig"
	"github.com/townhall/townhall/integrations"
	"github.com/townhall/townhall/integrations/archive"
	"github.com/townhall/townhall/integrations/calendar"
	"github.com/townhall/townhall/integrations/calls"
	"github.com/townhall/townhall/integrations/digest"
	"github.com/townhall/townhall/integrations/feeds"
	"github.com/townhall/townhall/integrations/translate"
	"github.com/townhall/townhall/integrations/translate/google"
	"github.com/townhall/townhall/scheduler"
	"github.com/townhall/townhall/slackapp"
	"github.com/townhall/townhall/store"
)

// opsConfig is the binary's own configuration: logging and the optional
// HTTP listener for health checks and metrics.
type opsConfig struct {
	LogFormat string `envconfig:"LOG_FORMAT" default:"text"`
	LogLevel  string `envconfig:"LOG_LEVEL" default:"info"`
	HTTPAddr  string `envconfig:"HTTP_ADDR"`
}

func (c opsConfig) Validate() error {
	var errs []error
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("TOWNHALL_LOG_FORMAT: must be text or json, got %q", c.LogFormat))
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(c.LogLevel)); err != nil {
		errs = append(errs, fmt.Errorf("TOWNHALL_LOG_LEVEL: must be debug, info, warn or error, got %q", c.LogLevel))
	}
	return errors.Join(errs...)
}

// config is every package's configuration, composed. Slack's variables
// have no prefix; every other section is read under TOWNHALL_.
type config struct {
	Slack     slackapp.Config
	Ops       opsConfig
	Store     store.Config
	Scheduler scheduler.Config
	Calls     calls.Config
	Calendar  calendar.Config
	Feeds     feeds.Config
	Translate translate.Config
	Archive   archive.Config
	Alerts    integrations.AlertConfig
	Digest    digest.Config
}

// sections lists the config's parts with their envconfig prefixes, in the
// order `townhall check` prints them.
func (c *config) sections() []section {
	return []section{
		{"Slack", "", &c.Slack},
		{"Operations", "TOWNHALL", &c.Ops},
		{"Store", "TOWNHALL", &c.Store},
		{"Scheduler", "TOWNHALL", &c.Scheduler},
		{"Calls", "TOWNHALL", &c.Calls},
		{"Calendar", "TOWNHALL", &c.Calendar},
		{"Feeds", "TOWNHALL", &c.Feeds},
		{"Translate", "TOWNHALL", &c.Translate},
		{"Archive", "TOWNHALL", &c.Archive},
		{"Staff alerts", "TOWNHALL", &c.Alerts},
		{"Digest", "TOWNHALL", &c.Digest},
	}
}

type section struct {
	title  string
	prefix string
	spec   any // pointer to a struct with envconfig tags and Validate() error
}

type validator interface{ Validate() error }

// loadConfig reads the environment into every section and validates them,
// reporting every problem at once, one line each, naming the variable.
// withSlack false skips the Slack section's validation (townhall shell
// supplies its own fake workspace).
func loadConfig(withSlack bool) (config, error) {
	var c config
	var errs []error
	for _, s := range c.sections() {
		if err := envconfig.Process(s.prefix, s.spec); err != nil {
			errs = append(errs, parseError(err))
			continue
		}
		if s.spec == &c.Slack && !withSlack {
			continue
		}
		if err := s.spec.(validator).Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	if c.Archive.FilesDir == "" { // kept files lie beside the database (archivecmd.go)
		c.Archive.FilesDir = filepath.Join(filepath.Dir(c.Store.DatabasePath), "files")
	}
	if c.Archive.Addr != "" && c.Archive.Addr == c.Ops.HTTPAddr {
		errs = append(errs, errors.New("TOWNHALL_ARCHIVE_ADDR: must differ from TOWNHALL_HTTP_ADDR: the public archive never shares a listener with /metrics"))
	}
	return c, errors.Join(errs...)
}

// parseError turns envconfig's error into one line naming the variable,
// saying what kind of value it takes with an example.
func parseError(err error) error {
	var pe *envconfig.ParseError
	if !errors.As(err, &pe) {
		return err
	}
	var want string
	switch pe.TypeName {
	case "bool":
		want = "is not a boolean (use true or false)"
	case "time.Duration":
		want = "is not a duration (use a number and a unit, such as 90s, 5m or 1h30m)"
	case "int", "int64", "int32", "uint", "uint64", "uint32":
		want = "is not a whole number (such as 10)"
	case "float64", "float32":
		want = "is not a number (such as 2.5)"
	default:
		want = "cannot be read as " + pe.TypeName
	}
	return fmt.Errorf("%s: %s %s", pe.KeyName, shownValue(pe.Value), want)
}

// maxShownValue is the longest value an error quotes. Tokens and API keys
// are longer (a Slack token has 50 characters or more, a Google API key
// 39), so one typed into the wrong variable is not repeated.
const maxShownValue = 32

// shownValue quotes a bad value for an error, unless it is long enough to
// be a secret typed into the wrong variable or holds control characters.
func shownValue(v string) string {
	n := utf8.RuneCountInString(v)
	if n > maxShownValue || strings.IndexFunc(v, unicode.IsControl) >= 0 {
		return fmt.Sprintf("the value (%d characters)", n)
	}
	return strconv.Quote(v)
}

// checkCredentials checks what the sections' Validate cannot without
// looking outside the configuration: that the credentials a provider
// looks up at start-up exist. Today that is Google translation without an
// API key, which uses Application Default Credentials.
func checkCredentials(ctx context.Context, c *config) error {
	t := c.Translate
	if !t.Enabled || t.Provider != translate.ProviderGoogle || t.GoogleAPIKey.IsSet() {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, credentialsTimeout)
	defer cancel()
	client, err := google.New(ctx, google.Config{Endpoint: t.GoogleEndpoint})
	if err == nil {
		return client.Close()
	}
	if file := os.Getenv("GOOGLE_APPLICATION_CREDENTIALS"); file != "" {
		return fmt.Errorf("TOWNHALL_TRANSLATE_GOOGLE_API_KEY: not set, and GOOGLE_APPLICATION_CREDENTIALS=%s holds no usable Google credentials", file)
	}
	return errors.New("TOWNHALL_TRANSLATE_GOOGLE_API_KEY: not set, and no Google Application Default Credentials were found " +
		"(set the API key, or GOOGLE_APPLICATION_CREDENTIALS to a service account's JSON key file)")
}

// credentialsTimeout bounds the credential lookup (on Google Cloud it asks
// the metadata server).
const credentialsTimeout = 10 * time.Second

// printConfig writes the effective configuration, secrets redacted, one
// variable a line, grouped by section. Secrets print as [redacted]; URLs
// lose their user info and query values (see slackapp.RedactURL), and
// calendar feeds, whose path may be the secret, show only their host.
func printConfig(w io.Writer, c *config) {
	for _, s := range c.sections() {
		fmt.Fprintf(w, "# %s\n", s.title)
		v := reflect.ValueOf(s.spec).Elem()
		t := v.Type()
		for i := range t.NumField() {
			name := t.Field(i).Tag.Get("envconfig")
			if name == "" {
				continue
			}
			if s.prefix != "" {
				name = s.prefix + "_" + name
			}
			value := formatValue(v.Field(i))
			if name == "TOWNHALL_CALENDAR_SOURCES" {
				value = redactCalendarSources(value)
			} else {
				value = redactURLs(value)
			}
			fmt.Fprintf(w, "%s=%s\n", name, value)
		}
	}
}

func formatValue(v reflect.Value) string {
	if s, ok := v.Interface().(fmt.Stringer); ok {
		return s.String()
	}
	if v.Kind() == reflect.Slice {
		parts := make([]string, v.Len())
		for i := range v.Len() {
			parts[i] = formatValue(v.Index(i))
		}
		return strings.Join(parts, ",")
	}
	return fmt.Sprint(v.Interface())
}

// urlPattern finds the URLs in a value: a scheme, "://", and everything up
// to a space or a separator of townhall's lists (; , | and feeds' ->).
var urlPattern = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^\s;,|<>"']+`)

// redactURLs redacts every URL in a configuration value.
func redactURLs(s string) string {
	var b strings.Builder
	last := 0
	for _, m := range urlPattern.FindAllStringIndex(s, -1) {
		start, end := m[0], m[1]
		if end < len(s) && s[end] == '>' && s[end-1] == '-' {
			end-- // "https://example.org/feed->#news"
		}
		b.WriteString(s[last:start])
		b.WriteString(slackapp.RedactURL(s[start:end]))
		last = end
	}
	b.WriteString(s[last:])
	return b.String()
}

// redactCalendarSources shows TOWNHALL_CALENDAR_SOURCES with each ICS
// feed's address reduced to its host: a calendar's "secret address"
// (Google's …/private-<key>/basic.ics, Outlook's and Nextcloud's share
// links) is a credential in its path.
func redactCalendarSources(s string) string {
	var entries []string
	for _, line := range strings.Split(s, "\n") {
		for _, entry := range strings.Split(line, ";") {
			if entry = strings.TrimSpace(entry); entry != "" {
				entries = append(entries, redactCalendarSource(entry))
			}
		}
	}
	return strings.Join(entries, "; ")
}

func redactCalendarSource(entry string) string {
	kind, rest, ok := strings.Cut(entry, ":")
	if !ok {
		return redactURLs(entry)
	}
	target, channels := rest, ""
	if i := strings.LastIndex(rest, "="); i >= 0 {
		target, channels = rest[:i], rest[i:]
	}
	if strings.Contains(target, "://") {
		u, err := url.Parse(strings.TrimSpace(target))
		switch {
		case err != nil || u.Host == "":
			target = "[redacted]"
		case u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "":
			target = u.Scheme + "://" + u.Host + "/…"
		}
	}
	return kind + ":" + target + channels
}

// newLogger builds the process logger from the ops config.
func newLogger(c opsConfig, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
