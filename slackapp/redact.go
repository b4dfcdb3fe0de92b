package slackapp

import (
	"net/url"
	"strings"
)

// RedactURL returns the address raw with whatever may be a credential in
// it replaced by [redacted]: the user info (user:password@), every query
// value (?apikey=…; a parameter without a value is replaced whole) and the
// fragment. The scheme, host, path and query keys stay, so that an
// operator still recognises the address. A string that does not parse as
// an absolute URL is returned unchanged unless it has an @, ? or #, when
// it is redacted whole. Paths are kept: where a path itself may be the
// secret (an ICS feed's "secret address"), show the host alone.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		if strings.ContainsAny(raw, "@?#") {
			return redacted
		}
		return raw
	}
	var b strings.Builder
	b.WriteString(u.Scheme + "://")
	if u.User != nil {
		b.WriteString(redacted + "@")
	}
	b.WriteString(u.Host)
	b.WriteString(u.EscapedPath())
	if u.RawQuery != "" || u.ForceQuery {
		b.WriteByte('?')
		for i, param := range strings.Split(u.RawQuery, "&") {
			if i > 0 {
				b.WriteByte('&')
			}
			key, _, hasValue := strings.Cut(param, "=")
			if !hasValue {
				b.WriteString(redacted)
				continue
			}
			b.WriteString(key + "=" + redacted)
		}
	}
	if u.Fragment != "" || u.RawFragment != "" {
		b.WriteString("#" + redacted)
	}
	return b.String()
}
