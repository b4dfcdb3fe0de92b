package translate

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/townhall/townhall/slackapp"
)

// Command is the slash command the integration answers.
const Command = "/translate"

// ShortcutCallbackID is the "Translate message" shortcut's callback ID, as
// manifest.yaml declares it.
const ShortcutCallbackID = "translate_message"

// PostActionID is the action ID of the "Post to channel" button.
const PostActionID = "translate_post"

// Slack's limits (https://api.slack.com/reference/block-kit/blocks#section,
// https://api.slack.com/reference/block-kit/blocks): a section's text is at
// most 3000 characters, a message at most 50 blocks. Notification text is
// kept short: it is a preview.
const (
	maxSectionText = 3000
	maxBlocks      = 50
	previewLength  = 300
)

// userID is the shape of a Slack user ID.
var userID = regexp.MustCompile(`^[UW][A-Z0-9]{2,}$`)

// mention returns a mention of the user, or "Someone" if id is not a user
// ID, so nothing unexpected can enter the markup.
func mention(id string) string {
	if !userID.MatchString(id) {
		return "Someone"
	}
	return "<@" + id + ">"
}

// sourceName names a translation's source language for messages.
func sourceName(code string) string {
	if l, ok := LookupLanguage(code); ok && code != "" {
		return l.English
	}
	return "another language"
}

// sections lays translated mrkdwn out in section blocks of at most
// maxSectionText characters, cut at line breaks where it can, then at
// spaces. verbatim keeps Slack from linking bare words a second time.
func sections(text string, room int) []slack.Block {
	var blocks []slack.Block
	for _, part := range splitText(text, maxSectionText) {
		if len(blocks) == room {
			last := blocks[len(blocks)-1].(*slack.SectionBlock)
			last.Text.Text = shortenText(last.Text.Text, maxSectionText-40) + "\n_(The rest is too long for one message.)_"
			break
		}
		blocks = append(blocks, slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, part, false, true), nil, nil))
	}
	return blocks
}

// splitText cuts s into pieces of at most max runes, at line breaks, then
// spaces, never inside an escape (&amp;) or Slack markup (<…>).
func splitText(s string, max int) []string {
	var out []string
	for utf8.RuneCountInString(s) > max {
		cut := byteIndexOfRune(s, max)
		window := s[:cut]
		at := strings.LastIndex(window, "\n")
		if at < len(window)/2 {
			at = strings.LastIndex(window, " ")
		}
		if at < len(window)/2 {
			at = cut
		}
		// Do not cut inside <…> or &…;.
		if open := strings.LastIndexAny(s[:at], "<&"); open >= 0 && !strings.ContainsAny(s[open:at], ">;") && open > 0 {
			at = open
		}
		out = append(out, strings.TrimRight(s[:at], " \n"))
		s = strings.TrimLeft(s[at:], " \n")
	}
	if s != "" || len(out) == 0 {
		out = append(out, s)
	}
	return out
}

func byteIndexOfRune(s string, n int) int {
	i := 0
	for k := range s {
		if i == n {
			return k
		}
		i++
	}
	return len(s)
}

// shortenText cuts mrkdwn to at most n runes for a preview, with "…".
func shortenText(s string, n int) string {
	parts := splitText(s, n)
	if len(parts) == 1 {
		return parts[0]
	}
	return parts[0] + "…"
}

// preview is the notification text of a translation.
func preview(s string) string {
	return shortenText(strings.Join(strings.Fields(s), " "), previewLength)
}

// postValue is what the Post button carries: enough to find the
// translation in the cache again and post it where it belongs.
type postValue struct {
	Target string // our code
	Hash   string // of the normalised source text
	Thread string // post in this thread ("" for the channel)
	Author string // who wrote the original, when it was not the user
}

func (v postValue) String() string {
	return strings.Join([]string{"v1", v.Target, v.Hash, v.Thread, v.Author}, "|")
}

func parsePostValue(s string) (postValue, bool) {
	f := strings.Split(s, "|")
	if len(f) != 5 || f[0] != "v1" || len(f[2]) != 64 {
		return postValue{}, false
	}
	return postValue{Target: f[1], Hash: f[2], Thread: f[3], Author: f[4]}, true
}

// translationMessage is the private answer: the translation, where it came
// from, and a button to share it.
func translationMessage(r result, target Language, provider string, v postValue) slackapp.Message {
	label := "Post to channel"
	if v.Thread != "" {
		label = "Post in thread"
	}
	about := fmt.Sprintf("🌐 Translated from %s into %s by %s · only you can see this", sourceName(r.Source), target.Name(), provider)
	blocks := sections(r.Text, maxBlocks-2)
	blocks = append(blocks,
		slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, slackapp.Escape(about), false, true)),
		slack.NewActionBlock("", slack.NewButtonBlockElement(PostActionID, v.String(),
			slack.NewTextBlockObject(slack.PlainTextType, label, false, false))),
	)
	return slackapp.Message{
		Text:   target.English + " translation: " + preview(r.Text),
		Blocks: blocks,
	}
}

// sharedMessage is a translation posted for everyone, attributed: "<@user>
// (translated from English)", or for someone else's message "<@author>
// (translated from English, shared by <@user>)".
func sharedMessage(r result, target Language, user, author string) slackapp.Message {
	r.Text = quietMentions(r.Text)
	who := mention(user) + " (translated from " + sourceName(r.Source) + ")"
	if author != "" && author != user {
		who = mention(author) + " (translated from " + sourceName(r.Source) + " into " + target.English + ", shared by " + mention(user) + ")"
	}
	blocks := []slack.Block{slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, "🌐 "+who, false, true))}
	blocks = append(blocks, sections(r.Text, maxBlocks-1)...)
	return slackapp.Message{Text: who + ": " + preview(r.Text), Blocks: blocks}
}

// reactionMessage is the thread reply a flag reaction asks for.
func reactionMessage(r result, target Language, reaction, provider string) slackapp.Message {
	r.Text = quietMentions(r.Text)
	about := fmt.Sprintf("🌐 %s translation (from %s, by %s), for :%s:", target.Name(), sourceName(r.Source), provider, reaction)
	blocks := []slack.Block{slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, slackapp.Escape(about), false, true))}
	blocks = append(blocks, sections(r.Text, maxBlocks-1)...)
	return slackapp.Message{Text: target.English + " translation: " + preview(r.Text), Blocks: blocks}
}

// groupMention matches the original's mentions of many people at once:
// <!here>, <!channel>, <!everyone> and user groups (<!subteam^S123|@team>),
// with or without a label.
var groupMention = regexp.MustCompile(`<!(here|channel|everyone|subteam\^[A-Za-z0-9]+)(?:\|([^>]*))?>`)

// quietMentions turns the original's mentions of many people into plain
// words ("@channel", "@volunteers"), for a translation the app posts for
// everyone: the original notified them already, and the app must not do
// it again for whoever shared the translation or added a flag. Mentions of
// people and dates stay.
func quietMentions(s string) string {
	return groupMention.ReplaceAllStringFunc(s, func(m string) string {
		g := groupMention.FindStringSubmatch(m)
		name := "@" + g[1]
		if strings.HasPrefix(g[1], "subteam^") {
			name = "@group"
		}
		if label := strings.TrimSpace(slackUnescaper.Replace(g[2])); label != "" {
			name = "@" + strings.TrimPrefix(label, "@")
		}
		return mrkdwnText(name)
	})
}

// text is a plain ephemeral message.
func text(format string, args ...any) slackapp.Message {
	return slackapp.Message{Text: fmt.Sprintf(format, args...)}
}

func helpMessage(current Language, chosen bool) slackapp.Message {
	yours := fmt.Sprintf("Your language is *%s* (the community's default); change it with `/translate set &lt;language&gt;`.", current.Name())
	if chosen {
		yours = fmt.Sprintf("Your language is *%s*; change it with `/translate set &lt;language&gt;`.", current.Name())
	}
	return text("*%s* translates text for you alone, with a button to post the translation.\n"+
		"• `/translate fr Hello everyone` translates into French (codes, English or native names: `fr`, `french`, `français`)\n"+
		"• `/translate Bonjour à tous` translates into your language\n"+
		"• `/translate set es` makes Spanish your language\n"+
		"• `/translate languages` lists the languages\n"+
		"• *Translate message* in a message's ⋯ menu translates it for you\n"+
		"• React with a flag (:fr:, :flag-es:, :flag-sa:) to post a translation in the thread\n%s",
		Command, yours)
}

func languagesMessage() slackapp.Message {
	var b strings.Builder
	b.WriteString("I can translate into these languages (use the code or a name):\n")
	for _, l := range languages {
		fmt.Fprintf(&b, "• `%s` %s\n", l.Code, l.Name())
	}
	return slackapp.Message{Text: strings.TrimRight(b.String(), "\n")}
}

func unknownLanguageMessage(name string) slackapp.Message {
	codes := make([]string, len(languages))
	for i, l := range languages {
		codes[i] = "`" + l.Code + "`"
	}
	return text("I don't know the language “%s”. I can translate into: %s. `/translate languages` shows their names.",
		slackapp.Escape(name), strings.Join(codes, ", "))
}

func failureMessage(f failure, provider string, source string, target Language, timeout string) slackapp.Message {
	switch f {
	case failTimeout:
		return text("%s didn't answer within %s, so I stopped waiting. Please try again in a moment.", provider, timeout)
	case failUnavailable:
		return text("%s is having trouble right now. Please try again in a few minutes.", provider)
	case failAuth:
		return text("Translation is switched off for now: %s refused the app's credentials. Please let a staff member know.", provider)
	case failQuota:
		return text("The community has used up its %s allowance for now, so I can't translate. Please try again later, or let a staff member know.", provider)
	case failRateLimited:
		return text("%s asked us to slow down: lots of translations at once. Please try again in a minute.", provider)
	case failUnsupported:
		return text("%s can't translate from %s into %s. Try another language: `/translate languages` lists them.", provider, sourceName(source), target.English)
	case failTooLong:
		return text("That text is too long for %s in one go. Please translate a shorter part.", provider)
	}
	return text("Something went wrong translating that. Please try again; if it keeps happening, let a staff member know.")
}
