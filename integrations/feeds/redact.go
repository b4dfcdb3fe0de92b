package feeds

import (
	"log/slog"
	"net/url"
	"strings"
)

// redacted stands in for a secret part of a feed's address.
const redacted = "REDACTED"

// redactURL is a feed address as it may be shown to anyone, in Slack, in
// logs and in errors: a user name and password become REDACTED, and so
// does every query value (the key stays, so "?apikey=REDACTED" still says
// what was there). An address without either is returned as it is. Text
// that is not a URL loses everything after "?" and between "://" and "@".
func redactURL(s string) string {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || u.Host == "" {
		return redactText(s)
	}
	if u.User == nil && u.RawQuery == "" && u.Fragment == "" {
		return u.String()
	}
	user := ""
	if u.User != nil {
		user = redacted + "@"
	}
	u.User, u.Fragment = nil, ""
	q := u.RawQuery
	u.RawQuery = ""
	out := strings.Replace(u.String(), "://", "://"+user, 1)
	if q != "" {
		var parts []string
		for part := range strings.SplitSeq(q, "&") {
			key, _, hasValue := strings.Cut(part, "=")
			if hasValue {
				part = key + "=" + redacted
			} else if part != "" {
				part = redacted // "?token" alone is a value too
			}
			parts = append(parts, part)
		}
		out += "?" + strings.Join(parts, "&")
	}
	return out
}

// redactText redacts what looks like credentials in text that does not
// parse as a URL.
func redactText(s string) string {
	if k := strings.IndexByte(s, '?'); k >= 0 {
		s = s[:k+1] + redacted
	}
	if k := strings.Index(s, "://"); k >= 0 {
		rest := s[k+3:]
		if at := strings.IndexByte(rest, '@'); at >= 0 && !strings.ContainsAny(rest[:at], "/") {
			s = s[:k+3] + redacted + rest[at:]
		}
	}
	return s
}

// hasSecrets reports whether a feed address carries credentials: a user
// name or password, or a query (which may hold a key).
func hasSecrets(s string) bool {
	return redactURL(s) != strings.TrimSpace(s)
}

// secretsOf lists the credential values in a feed address, so that a link
// the feed gives back carrying one of them (a private feed's item links
// often repeat its key) is never posted. Values shorter than 4 characters
// (such as "?page=1") are not secrets worth hunting for.
func secretsOf(s string) []string {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return nil
	}
	var out []string
	add := func(v string) {
		if len(v) >= 4 {
			out = append(out, v)
		}
	}
	if u.User != nil {
		add(u.User.Username())
		p, _ := u.User.Password()
		add(p)
	}
	for _, vs := range u.Query() {
		for _, v := range vs {
			add(v)
			add(url.QueryEscape(v))
		}
	}
	return out
}

// scrubLink returns link, or "" if it carries one of secrets.
func scrubLink(link string, secrets []string) string {
	for _, s := range secrets {
		if strings.Contains(link, s) {
			return ""
		}
	}
	return link
}

// redactEntry redacts every URL in a TOWNHALL_FEEDS_SOURCES entry.
func redactEntry(entry string) string {
	fields := strings.Fields(entry)
	for k, f := range fields {
		if strings.Contains(f, "://") {
			// "https://host/feed->#news": the arrow and channel are not
			// part of the address.
			u, rest, _ := strings.Cut(f, "->")
			if rest != "" || strings.HasSuffix(f, "->") {
				rest = "->" + rest
			}
			fields[k] = redactURL(u) + rest
		}
	}
	return strings.Join(fields, " ")
}

// SourceList is the value of TOWNHALL_FEEDS_SOURCES, in the syntax
// ParseSources reads. Feed addresses may carry credentials (a user name
// and password, or an API key in the query), so String and LogValue
// redact them: `townhall check` and a logged Config show no secret.
type SourceList string

// String is the list with every URL's credentials redacted.
func (l SourceList) String() string {
	lines := strings.Split(string(l), "\n")
	for k, line := range lines {
		entries := strings.Split(line, ";")
		for j, e := range entries {
			entries[j] = redactEntry(e)
		}
		lines[k] = strings.Join(entries, "; ")
	}
	return strings.Join(lines, "\n")
}

// LogValue implements slog.LogValuer with the redacted list.
func (l SourceList) LogValue() slog.Value { return slog.StringValue(l.String()) }
