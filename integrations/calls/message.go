package calls

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"github.com/slack-go/slack"

	"github.com/townhall/townhall/slackapp"
)

// Command is the slash command the integration answers.
const Command = "/call"

// JoinActionID is the action ID of the Join button.
const JoinActionID = "calls_join"

// Provider names as shown to users.
const (
	jitsiName = "Jitsi Meet"
	zoomName  = "Zoom"
)

// call is a started call, as the message shows it.
type call struct {
	userID   string // who started it
	topic    string // plain text, unescaped; "" for none
	url      string
	provider string // jitsiName or zoomName
	passcode string // shown when the link does not carry it
	fellBack bool   // Zoom failed, so this is a Jitsi room
}

// callMessage is the in-channel announcement of c: a section saying who
// started a call about what, a primary Join button, and a context line
// with the plain link and the provider (Block Kit reference:
// https://api.slack.com/reference/block-kit/blocks). Its text, the
// notification and screen-reader fallback, carries the link too.
func callMessage(c call) slackapp.Message {
	headline := "📞 " + mention(c.userID) + " started a call"
	text := headline
	if c.topic != "" {
		t := safeText(c.topic)
		headline += ": *" + t + "*"
		text += ": " + t
	}
	link := "<" + slackapp.Escape(c.url) + ">"

	details := []string{link, c.provider}
	if c.passcode != "" {
		details = append(details, "passcode "+slackapp.Escape(c.passcode))
	}
	if c.fellBack {
		details[1] = "Zoom was unavailable, so this is a Jitsi room."
	}

	join := slack.NewButtonBlockElement(JoinActionID, "",
		slack.NewTextBlockObject(slack.PlainTextType, "Join", false, false)).
		WithURL(c.url).
		WithStyle(slack.StylePrimary)
	return slackapp.Message{
		Text: text + ". Join: " + link,
		Blocks: []slack.Block{
			// verbatim: Slack must not turn words of the topic into
			// mentions or links; our own markup still works.
			slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, headline, false, true), nil, nil),
			slack.NewActionBlock("", join),
			slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, strings.Join(details, " · "), false, true)),
		},
	}
}

// userIDPattern is the shape of a Slack user ID.
var userIDPattern = regexp.MustCompile(`^[UW][A-Z0-9]{2,}$`)

// mention returns a mention of the user, or "Someone" if id is not a user
// ID (so nothing unexpected can be injected into the markup).
func mention(id string) string {
	if !userIDPattern.MatchString(id) {
		return "Someone"
	}
	return "<@" + id + ">"
}

// safeText escapes text from a user for mrkdwn (no mention, no link) and
// puts a word joiner (U+2060, invisible) after each "@", so that a bare
// "@channel" or "@here" is not turned into a broadcast by any surface that
// parses plain words (the notification text, or a client with parse=full).
func safeText(s string) string {
	return strings.ReplaceAll(slackapp.Escape(s), "@", "@\u2060")
}

// helpMessage is the ephemeral usage of /call.
func helpMessage(cfg Config) slackapp.Message {
	provider := "Calls are on " + jitsiName + "."
	if cfg.Provider == ProviderZoom {
		provider = "Calls are on Zoom (or " + jitsiName + " when Zoom is unavailable)."
	}
	return slackapp.Message{Text: fmt.Sprintf(
		"*%s [topic]* posts a video call link here, with a *Join* button, for everyone in this conversation.\n"+
			"• `%s` starts a call without a topic\n"+
			"• `%s budget review` starts a call about “budget review”\n"+
			"Topics can be up to %d characters. %s",
		Command, Command, Command, cfg.MaxTopic, provider)}
}

// tooLongMessage is the ephemeral refusal of a topic over the limit.
func tooLongMessage(length, limit int) slackapp.Message {
	return slackapp.Message{Text: fmt.Sprintf(
		"That topic is %d characters long; the limit is %d. Nothing was posted: please try again with a shorter topic.",
		length, limit)}
}

// slackMarkup matches Slack's own markup in command text: mentions
// (<@U123|name>, <#C123|general>, <!here>) and links (<https://x|label>).
var slackMarkup = regexp.MustCompile(`<[^<>]*>`)

// entityUnescaper undoes Slack's escaping of user-typed &, < and >.
var entityUnescaper = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&")

// topicFromCommand turns a slash command's text into the plain topic the
// user meant. Slack sends user-typed &, < and > as entities and its own
// markup as <...>; markup becomes its plain label ("@name", "#general",
// "@here", the link's text), entities become characters again, control and
// bidirectional-override characters are dropped, and runs of whitespace
// (newlines included) become one space. The result is for display after
// safeText, for a room slug, or for Zoom; never for mrkdwn as it is.
func topicFromCommand(text string) string {
	text = slackMarkup.ReplaceAllStringFunc(text, func(m string) string {
		target, label, labelled := strings.Cut(m[1:len(m)-1], "|")
		switch {
		case strings.HasPrefix(target, "@"), strings.HasPrefix(target, "#"):
			if labelled {
				return target[:1] + strings.TrimPrefix(label, target[:1])
			}
			return target
		case strings.HasPrefix(target, "!"):
			if labelled {
				return label
			}
			name, _, _ := strings.Cut(target[1:], "^")
			return "@" + name
		case labelled:
			return label
		default:
			return target
		}
	})
	text = entityUnescaper.Replace(text)
	text = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) && !unicode.IsSpace(r) || isBidiControl(r) {
			return -1
		}
		return r
	}, text)
	return strings.Join(strings.Fields(text), " ")
}

// isBidiControl reports the explicit bidirectional formatting characters,
// which could make a topic display as something else.
func isBidiControl(r rune) bool {
	return r == '\u200e' || r == '\u200f' || r == '\u061c' ||
		('\u202a' <= r && r <= '\u202e') || ('\u2066' <= r && r <= '\u2069')
}
