package slackapp

import "log/slog"

// Secret is a token, key or password read from the environment. Its String,
// GoString, LogValue and MarshalText redact it, so it cannot reach a log line,
// an error message or `townhall check` output by accident; only Reveal gives
// the value, at the one place that sends it upstream.
type Secret string

const redacted = "[redacted]"

// Reveal returns the secret's value. Call it only where the value leaves the
// process for the service it belongs to.
func (s Secret) Reveal() string { return string(s) }

// IsSet reports whether a value was configured.
func (s Secret) IsSet() bool { return s != "" }

// String redacts the secret ("" stays "", so an unset value reads as unset).
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString redacts the secret for %#v.
func (s Secret) GoString() string { return `slackapp.Secret("` + s.String() + `")` }

// LogValue redacts the secret in log/slog output.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText redacts the secret in JSON, YAML and text encodings.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
