package slackapp

import "strings"

// mrkdwnEscaper escapes the three characters Slack's mrkdwn gives meaning to
// (https://api.slack.com/reference/surfaces/formatting#escaping).
var mrkdwnEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// Escape makes text from users, feeds or calendars safe to put in a mrkdwn
// or plain_text field: with &, < and > escaped it cannot ping @channel or
// @here, mention a user, or forge a link (<https://evil|innocent text>).
// Formatting characters (*bold*, _italic_) are left alone.
func Escape(text string) string { return mrkdwnEscaper.Replace(text) }
