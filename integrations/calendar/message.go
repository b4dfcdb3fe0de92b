package calendar

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/townhall/townhall/slackapp"
)

// Action IDs of the integration's buttons.
const (
	JoinActionID    = "calendar_join"
	DetailsActionID = "calendar_details"
	MoreActionID    = "calendar_more"
)

// meetingHosts are the video services whose links become a Join button,
// matched as the host or a subdomain of it.
var meetingHosts = []string{
	"zoom.us", "zoom.com", "meet.google.com", "meet.jit.si", "8x8.vc", "teams.microsoft.com",
	"teams.live.com", "webex.com", "whereby.com", "bigbluebutton.org",
}

// maxButtonURL is Slack's limit on a button's url: a longer one gets the
// whole message refused (https://api.slack.com/reference/block-kit/block-elements#button).
const maxButtonURL = 3000

var urlPattern = regexp.MustCompile(`https://[^\s<>"'()\[\]{}]+`)

// joinURL returns e's meeting link: the one the calendar gave, or the
// first link to a known video service in the location or description
// (a host starting with "jitsi." or "meet." counts as a self-hosted Jitsi).
func joinURL(e Event) string {
	if e.JoinURL != "" {
		return e.JoinURL
	}
	for _, field := range []string{e.Location, e.Description} {
		for _, m := range urlPattern.FindAllString(field, -1) {
			m = strings.TrimRight(m, ".,;:!?")
			u, err := url.Parse(m)
			if err != nil || u.Host == "" || len(m) > maxButtonURL {
				continue
			}
			host := strings.ToLower(u.Hostname())
			if strings.HasPrefix(host, "jitsi.") || strings.HasPrefix(host, "meet.") {
				return m
			}
			for _, h := range meetingHosts {
				if host == h || strings.HasSuffix(host, "."+h) {
					return m
				}
			}
		}
	}
	return ""
}

// clock formats times for messages: Slack's date token, which each reader
// sees in their own zone, with the community's zone in the fallback.
type clock struct {
	loc *time.Location
}

// when renders a timed start, or an all-day event's date (as written: a
// date is the same day everywhere).
func (c clock) when(e Event) string {
	if e.AllDay {
		return e.Start.Format("Mon 2 Jan") + " (all day)"
	}
	return fmt.Sprintf("<!date^%d^{date_short_pretty} {time}|%s>", e.Start.Unix(), c.plain(e.Start))
}

// zoneNote explains lists: days follow the community's zone, times each
// reader's own.
func (c clock) zoneNote() string {
	return "Days are in " + c.loc.String() + " time; times are shown in your own time zone."
}

// plain is a time in the community's zone, for fallback text.
func (c clock) plain(t time.Time) string {
	return t.In(c.loc).Format("Mon 2 Jan 15:04 MST")
}

// duration renders an event's length: "1 h 30 min", "45 min", "2 days".
func duration(e Event) string {
	if e.AllDay {
		days := int(e.End.Sub(e.Start).Round(24*time.Hour) / (24 * time.Hour))
		if days <= 1 {
			return ""
		}
		return fmt.Sprintf("%d days", days)
	}
	d := e.End.Sub(e.Start).Round(time.Minute)
	switch {
	case d <= 0:
		return ""
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d%time.Hour == 0:
		return fmt.Sprintf("%d h", int(d.Hours()))
	}
	return fmt.Sprintf("%d h %d min", int(d.Hours()), int(d.Minutes())%60)
}

// until says how far off start is from now: "in 15 minutes", "in 2 hours",
// "tomorrow", "in 3 days".
func until(now, start time.Time) string {
	d := start.Sub(now).Round(time.Minute)
	switch {
	case d < time.Minute:
		return "now"
	case d < 2*time.Hour && d%time.Hour != 0:
		return plural(int(d.Minutes()), "minute")
	case d < 48*time.Hour:
		return plural(int(d.Round(time.Hour).Hours()), "hour")
	}
	return plural(int(d.Round(24*time.Hour).Hours()/24), "day")
}

// ago says how long before now a start was, to the minute: "just now",
// "1 minute ago", "3 minutes ago".
func ago(now, start time.Time) string {
	m := int(now.Sub(start).Round(time.Minute).Minutes())
	switch m {
	case 0:
		return "just now"
	case 1:
		return "1 minute ago"
	}
	return fmt.Sprintf("%d minutes ago", m)
}

func plural(n int, unit string) string {
	if n == 1 {
		return "in 1 " + unit
	}
	return fmt.Sprintf("in %d %ss", n, unit)
}

// safe escapes calendar text for mrkdwn and defuses "@channel"-like words
// with a word joiner after each "@".
func safe(s string) string {
	return strings.ReplaceAll(slackapp.Escape(s), "@", "@\u2060")
}

// oneLine collapses whitespace and shortens s to n characters.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

var htmlTag = regexp.MustCompile(`(?i)<br\s*/?>|</p>|<[^>]*>`)

// summary is a description as one short line: Google writes HTML into
// descriptions, so tags are dropped first.
func summary(desc string, n int) string {
	desc = htmlTag.ReplaceAllStringFunc(desc, func(string) string { return " " })
	desc = strings.NewReplacer("&nbsp;", " ", "&amp;", "&", "&lt;", "<", "&gt;", ">", "&quot;", `"`, "&#39;", "'").Replace(desc)
	return oneLine(desc, n)
}

// title is the event's title, or a stand-in.
func title(e Event) string {
	if t := oneLine(e.Title, 150); t != "" {
		return t
	}
	return "Untitled event"
}

// reminderMessage announces e, which starts at e.Start, seen at now. late
// says the reminder is posted after its time because the app was down.
func reminderMessage(c clock, e Event, now time.Time, late bool, dueAt time.Time) slackapp.Message {
	name := safe(title(e))
	lead := "⏰ *" + name + "* starts " + until(now, e.Start)
	text := "Reminder: " + name + " starts " + until(now, e.Start)
	if e.AllDay {
		lead = "📅 *" + name + "* is " + dayWord(c, now, e.Start)
		text = "Reminder: " + name + " is " + dayWord(c, now, e.Start)
	}
	switch {
	case late && !e.AllDay && !e.Start.After(now):
		lead = "⏰ *Late reminder:* *" + name + "* started " + ago(now, e.Start)
		text = "Late reminder: " + name + " started " + ago(now, e.Start)
	case late:
		lead = "⏰ *Late reminder:* *" + name + "* starts " + until(now, e.Start)
		text = "Late reminder: " + name + " starts " + until(now, e.Start)
	}
	lines := []string{lead, "🗓 " + c.when(e)}
	if d := duration(e); d != "" {
		lines[1] += " · " + d
	}
	if loc := oneLine(e.Location, 200); loc != "" {
		lines = append(lines, "📍 "+safe(loc))
	}
	text += " (" + fallbackWhen(c, e) + ")"
	blocks := []slack.Block{
		slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, strings.Join(lines, "\n"), false, true), nil, nil),
	}
	if d := summary(e.Description, 280); d != "" {
		blocks = append(blocks, slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, safe(d), false, true)))
	}
	if b := buttons(e); b != nil {
		blocks = append(blocks, b)
	}
	if late {
		blocks = append(blocks, slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType,
			fmt.Sprintf("This reminder was due <!date^%d^{date_short_pretty} {time}|%s>; I'm posting it late.", dueAt.Unix(), c.plain(dueAt)), false, false)))
	}
	return slackapp.Message{Text: text, Blocks: blocks}
}

// dayWord says which day an all-day event is: "today", "tomorrow" or its
// date. The event's date is taken as written (as in agenda), not moved
// into the community's zone, where its midnight may fall the day before.
func dayWord(c clock, now, start time.Time) string {
	today := midnight(now.In(c.loc))
	switch time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, c.loc) {
	case today:
		return "today"
	case today.AddDate(0, 0, 1):
		return "tomorrow"
	}
	return "on " + start.Format("Monday 2 January")
}

func fallbackWhen(c clock, e Event) string {
	if e.AllDay {
		return e.Start.Format("Mon 2 Jan") + ", all day"
	}
	return c.plain(e.Start)
}

// buttons are Join (a meeting link) and Details (the event's page).
func buttons(e Event) slack.Block {
	var els []slack.BlockElement
	if u := joinURL(e); u != "" {
		els = append(els, slack.NewButtonBlockElement(JoinActionID, "", slack.NewTextBlockObject(slack.PlainTextType, "Join", false, false)).
			WithURL(u).WithStyle(slack.StylePrimary))
	}
	if e.URL != "" {
		els = append(els, slack.NewButtonBlockElement(DetailsActionID, "", slack.NewTextBlockObject(slack.PlainTextType, "Details", false, false)).
			WithURL(e.URL))
	}
	if len(els) == 0 {
		return nil
	}
	return slack.NewActionBlock("", els...)
}

// agendaLine is one event in a list: time, title, length, join link.
func agendaLine(c clock, e Event) string {
	var b strings.Builder
	if e.AllDay {
		b.WriteString("• All day · *" + safe(title(e)) + "*")
	} else {
		fmt.Fprintf(&b, "• <!date^%d^{time}|%s> · *%s*", e.Start.Unix(), e.Start.In(c.loc).Format("15:04 MST"), safe(title(e)))
	}
	if d := duration(e); d != "" {
		b.WriteString(" (" + d + ")")
	}
	if loc := oneLine(e.Location, 80); loc != "" && joinURL(Event{Location: e.Location}) == "" {
		b.WriteString(" · 📍 " + safe(loc))
	}
	if u := joinURL(e); u != "" {
		b.WriteString(" · <" + slackapp.Escape(u) + "|Join>")
	}
	return b.String()
}

func midnight(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, t.Location())
}

// dayHeading names a day in the community's zone: "*Monday 2 March*".
func dayHeading(day time.Time) string {
	return "*" + day.Format("Monday 2 January") + "*"
}

// section is one block of an agenda and how many events it lists.
type section struct {
	block  slack.Block
	events int
}

// agenda groups events by day in the community's zone into sections under
// the day's heading, each under maxSection characters: a day too long for
// one section goes on in another, headed "(continued)", so no event is cut
// or dropped here.
func agenda(c clock, events []Event) []section {
	var out []section
	var cur time.Time
	var text string
	n := 0
	flush := func() {
		if n > 0 {
			out = append(out, section{slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, text, false, true), nil, nil), n})
		}
		text, n = "", 0
	}
	for _, e := range events {
		day := midnight(e.Start.In(c.loc))
		if e.AllDay {
			day = midnight(time.Date(e.Start.Year(), e.Start.Month(), e.Start.Day(), 0, 0, 0, 0, c.loc))
		}
		line := agendaLine(c, e)
		switch {
		case !day.Equal(cur):
			flush()
			cur, text = day, dayHeading(day)
		case utf8.RuneCountInString(text)+1+utf8.RuneCountInString(line) > maxSection:
			flush()
			text = dayHeading(day) + " (continued)"
		}
		if room := maxSection - utf8.RuneCountInString(text) - 1; utf8.RuneCountInString(line) > room {
			line = truncateMrkdwn(line, room) // one line longer than a section: never, in practice
		}
		text += "\n" + line
		n++
	}
	flush()
	return out
}

// truncateMrkdwn shortens escaped mrkdwn to at most n characters, ending
// in "…", without cutting an entity (&amp;) or a <…> token (a link, a date,
// a mention) in two: what is left renders as it would have whole.
func truncateMrkdwn(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n < 1 {
		return ""
	}
	cut, inEntity, inToken := 0, false, false
	count := 0
	for i, r := range s {
		if count == n-1 {
			break
		}
		count++
		switch {
		case inToken:
			inToken = r != '>'
		case inEntity:
			inEntity = r != ';'
		case r == '<':
			inToken = true
		case r == '&':
			inEntity = true
		}
		if !inEntity && !inToken {
			cut = i + utf8.RuneLen(r) // s[:cut] ends on a whole character, entity and token
		}
	}
	return strings.TrimRight(s[:cut], " ·") + "…"
}

// maxSection keeps a section's text under Slack's 3000-character limit
// (https://api.slack.com/reference/block-kit/blocks#section).
const maxSection = 2900

// digestMessage is the agenda from `from` to `to`. Slack takes at most 50
// blocks: when the agenda needs more, the last ones are left out and the
// digest says how many events they held.
func digestMessage(c clock, events []Event, from, to time.Time) slackapp.Message {
	period := "Coming up"
	days := int(to.Sub(from).Round(24*time.Hour) / (24 * time.Hour))
	switch {
	case days <= 1:
		period = "Today's events"
	case days == 7:
		period = "This week's events"
	}
	head := fmt.Sprintf("%s: %d event%s from %s to %s", period, len(events), pluralS(len(events)),
		from.In(c.loc).Format("Mon 2 Jan"), to.Add(-time.Minute).In(c.loc).Format("Mon 2 Jan"))
	blocks := []slack.Block{
		slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, "🗓 "+period, true, false)),
	}
	secs := agenda(c, events)
	left := 0
	if room := maxBlocks - 3; len(secs) > room { // the header, what is left out, the zone note
		for _, s := range secs[room:] {
			left += s.events
		}
		secs = secs[:room]
	}
	for _, s := range secs {
		blocks = append(blocks, s.block)
	}
	if left > 0 {
		see := "`/events today`"
		if days > 1 {
			see = fmt.Sprintf("`/events %d`", days)
		}
		more := fmt.Sprintf("…and %d more event%s", left, pluralS(left))
		head += "; " + more + " not shown"
		blocks = append(blocks, slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType,
			more+" that did not fit in this message: type "+see+" to see them all.", false, false)))
	}
	blocks = append(blocks, slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType,
		c.zoneNote()+" Type `/events` for what's next.", false, false)))
	return slackapp.Message{Text: head, Blocks: blocks}
}

// maxBlocks is Slack's limit of blocks in a message.
const maxBlocks = 50

func pluralS(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
