package slacktest

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
)

// Render returns a post as plain text, for the shell and for readable test
// failures. The first line says where it went and who sees it:
//
//	#general (in channel)
//	#general, thread 1700000000.000100 (in channel)
//	#general (only visible to @member)
//	#general (updated 1700000000.000100)
//	DM @admin (in channel)
//
// The rest is the blocks as text if there are any, else the text: section,
// header and context text, fields one per line, a divider as a line of
// dashes, buttons as "[Join] https://…", images as "[image: alt]". Mrkdwn
// stays as it is, except that <@U123> becomes @name, <#C123|name> #name,
// <url|text> "text (url)", <!here> @here, and &lt; &gt; &amp; turn back
// into < > &.
func Render(p Post) string {
	var b strings.Builder
	b.WriteString(renderHeader(p))
	var body string
	if len(p.Blocks) > 0 {
		body = renderBlocks(p.Blocks, p.dir)
	}
	if body == "" {
		body = plain(p.Text, p.dir)
	}
	if body != "" {
		b.WriteByte('\n')
		b.WriteString(body)
	}
	return b.String()
}

func renderHeader(p Post) string {
	where := p.dir.where(p.Channel)
	if p.ThreadTS != "" && p.ThreadTS != p.TS {
		where += ", thread " + p.ThreadTS
	}
	visibility := "in channel"
	if p.Ephemeral() {
		visibility = "only visible to @" + p.dir.userName(p.User)
	}
	switch {
	case p.Method == MethodUpdate:
		return where + " (updated " + p.TS + ")"
	case p.DeleteOriginal:
		return where + " (deleted original " + p.TS + ")"
	case p.ReplaceOriginal && p.TS != "":
		return where + " (replaced original " + p.TS + ", " + visibility + ")"
	}
	return where + " (" + visibility + ")"
}

// textObject is a Block Kit text object.
type textObject struct {
	Type string `json:"type"` // plain_text or mrkdwn
	Text string `json:"text"`
}

func (t *textObject) render(d *directory) string {
	if t == nil {
		return ""
	}
	if t.Type == "mrkdwn" {
		return plain(t.Text, d)
	}
	return t.Text
}

// blockJSON holds the fields of every block type Render understands.
type blockJSON struct {
	Type        string            `json:"type"`
	Text        json.RawMessage   `json:"text"` // an object, or a string in a markdown block
	Fields      []textObject      `json:"fields"`
	Accessory   *elementJSON      `json:"accessory"`
	Elements    []json.RawMessage `json:"elements"`
	AltText     string            `json:"alt_text"`
	Label       *textObject       `json:"label"`
	Element     *elementJSON      `json:"element"`
	Title       *textObject       `json:"title"`
	Placeholder *textObject       `json:"placeholder"`
}

// elementJSON is a block element (or a context element, or a text object).
type elementJSON struct {
	Type        string          `json:"type"`
	Text        json.RawMessage `json:"text"`
	URL         string          `json:"url"`
	AltText     string          `json:"alt_text"`
	Placeholder *textObject     `json:"placeholder"`
	ActionID    string          `json:"action_id"`
}

func renderBlocks(raw json.RawMessage, d *directory) string {
	var blocks []blockJSON
	if json.Unmarshal(raw, &blocks) != nil {
		return ""
	}
	var lines []string
	for _, b := range blocks {
		if s := renderBlock(b, d); s != "" {
			lines = append(lines, s)
		}
	}
	return strings.Join(lines, "\n")
}

func renderBlock(b blockJSON, d *directory) string {
	var lines []string
	add := func(s string) {
		if s != "" {
			lines = append(lines, s)
		}
	}
	switch b.Type {
	case "section":
		add(textOf(b.Text, d))
		for _, f := range b.Fields {
			add(f.render(d))
		}
		if b.Accessory != nil {
			add(renderElement(*b.Accessory, d))
		}
	case "header":
		add(textOf(b.Text, d))
	case "markdown":
		var s string
		_ = json.Unmarshal(b.Text, &s) // not a string: nothing to show
		add(s)
	case "divider":
		add("----------")
	case "context":
		var parts []string
		for _, raw := range b.Elements {
			var el elementJSON
			if json.Unmarshal(raw, &el) != nil {
				continue
			}
			if s := renderElement(el, d); s != "" {
				parts = append(parts, s)
			}
		}
		add(strings.Join(parts, " "))
	case "actions":
		var parts []string
		for _, raw := range b.Elements {
			var el elementJSON
			if json.Unmarshal(raw, &el) == nil {
				parts = append(parts, renderElement(el, d))
			}
		}
		add(strings.Join(parts, "  "))
	case "image":
		add("[image: " + b.AltText + "]")
	case "input":
		label := b.Label.render(d)
		if b.Element != nil {
			label += ": " + renderElement(*b.Element, d)
		}
		add(label)
	case "rich_text":
		var sb strings.Builder
		for _, raw := range b.Elements {
			renderRichText(&sb, raw, d)
		}
		add(strings.TrimRight(sb.String(), "\n"))
	default:
		add("[" + b.Type + " block]")
	}
	return strings.Join(lines, "\n")
}

// textOf renders a "text" field holding a text object.
func textOf(raw json.RawMessage, d *directory) string {
	var t textObject
	if len(raw) == 0 || json.Unmarshal(raw, &t) != nil {
		return ""
	}
	return t.render(d)
}

func renderElement(el elementJSON, d *directory) string {
	switch el.Type {
	case "plain_text", "mrkdwn":
		var s string
		_ = json.Unmarshal(el.Text, &s) // a text object's text is a string
		return (&textObject{Type: el.Type, Text: s}).render(d)
	case "button":
		s := "[" + textOf(el.Text, d) + "]"
		if el.URL != "" {
			s += " " + el.URL
		}
		return s
	case "image":
		return "[image: " + el.AltText + "]"
	case "overflow":
		return "[…]"
	}
	if el.Placeholder != nil {
		return "[" + el.Placeholder.Text + " ▾]"
	}
	return "[" + el.Type + "]"
}

// renderRichText writes a rich_text element (section, list, quote,
// preformatted) as text.
func renderRichText(sb *strings.Builder, raw json.RawMessage, d *directory) {
	var el struct {
		Type     string            `json:"type"`
		Elements []json.RawMessage `json:"elements"`
		Style    string            `json:"style"`
		Text     string            `json:"text"`
		URL      string            `json:"url"`
		UserID   string            `json:"user_id"`
		Channel  string            `json:"channel_id"`
		Name     string            `json:"name"`
		Range    string            `json:"range"`
	}
	if json.Unmarshal(raw, &el) != nil {
		return
	}
	switch el.Type {
	case "rich_text_section", "rich_text_preformatted", "rich_text_quote":
		if el.Type == "rich_text_quote" {
			sb.WriteString("> ")
		}
		for _, c := range el.Elements {
			renderRichText(sb, c, d)
		}
		sb.WriteByte('\n')
	case "rich_text_list":
		for i, item := range el.Elements {
			if el.Style == "ordered" {
				sb.WriteString(strconv.Itoa(i+1) + ". ")
			} else {
				sb.WriteString("- ")
			}
			renderRichText(sb, item, d)
		}
	case "text":
		sb.WriteString(el.Text)
	case "link":
		if el.Text != "" {
			sb.WriteString(el.Text + " (" + el.URL + ")")
		} else {
			sb.WriteString(el.URL)
		}
	case "user":
		sb.WriteString("@" + d.userName(el.UserID))
	case "channel":
		sb.WriteString("#" + d.channelName(el.Channel))
	case "emoji":
		sb.WriteString(":" + el.Name + ":")
	case "broadcast":
		sb.WriteString("@" + el.Range)
	}
}

// mrkdwnSpecial matches Slack's special mrkdwn sequences: <@U…>, <#C…|name>,
// <!here>, <url|text> (https://api.slack.com/reference/surfaces/formatting).
var mrkdwnSpecial = regexp.MustCompile(`<([^<>]*)>`)

var unescaper = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&")

// plain turns Slack's special mrkdwn sequences into readable text and
// unescapes &lt; &gt; &amp;, leaving other formatting alone.
func plain(s string, d *directory) string {
	s = mrkdwnSpecial.ReplaceAllStringFunc(s, func(m string) string {
		target, label, hasLabel := strings.Cut(m[1:len(m)-1], "|")
		switch {
		case strings.HasPrefix(target, "@"):
			if hasLabel {
				return "@" + strings.TrimPrefix(label, "@")
			}
			return "@" + d.userName(target[1:])
		case strings.HasPrefix(target, "#"):
			if hasLabel {
				return "#" + strings.TrimPrefix(label, "#")
			}
			return "#" + d.channelName(target[1:])
		case strings.HasPrefix(target, "!"):
			if hasLabel {
				return label
			}
			cmd, _, _ := strings.Cut(target[1:], "^")
			switch cmd {
			case "here", "channel", "everyone":
				return "@" + cmd
			}
			return "@" + target[1:]
		case hasLabel:
			return label + " (" + target + ")"
		}
		return target
	})
	return unescaper.Replace(s)
}
