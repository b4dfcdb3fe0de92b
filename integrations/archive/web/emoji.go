package web

import "strings"

//go:generate go run gen_emoji.go -in emoji-data/emoji.json -out emoji_table.go

// slackOwn are codes of Slack's own that emoji-data leaves out, shown as
// the emoji Slack draws them like. simple_smile is Slack's oldest smiley,
// the commonest code of real 2016 exports that emoji-data lacks.
var slackOwn = map[string]string{"simple_smile": "🙂"}

// emojiFor returns the emoji of one of Slack's emoji codes, as Slack
// writes them in text (between colons) and in reaction names: "wave",
// "+1", "flag-fr" or "fr", and with a skin tone "wave::skin-tone-3". ok is
// false for codes Slack's table does not have (a workspace's custom emoji).
// A tone on an emoji that takes none is dropped, as Slack does.
func emojiFor(code string) (e string, ok bool) {
	name, tone, toned := strings.Cut(code, "::skin-tone-")
	if e, ok = emojiNames[name]; !ok {
		e, ok = slackOwn[name]
	}
	if !ok || !toned {
		return e, ok
	}
	t, ok := emojiToned[name]
	if !ok || len(tone) != 1 || tone[0] < '2' || tone[0] > '6' {
		return e, true
	}
	return strings.ReplaceAll(t, "\U0001F3FB", string(rune(0x1F3FB+int(tone[0]-'2')))), true
}

// Emoji returns the emoji for a Slack emoji code (without colons, as in
// reaction names), or the code in colons when Slack's table has no such
// emoji.
func Emoji(code string) string {
	if e, ok := emojiFor(code); ok {
		return e
	}
	return ":" + code + ":"
}
