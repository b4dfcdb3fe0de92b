package calendar

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/townhall/townhall/slackapp"
)

// span is the window /events shows.
type span struct {
	from, to time.Time
	name     string // "today", "tomorrow", "in the next 7 days (to Sun 8 Mar)"
}

// weekDays is how many days "/events" and "/events week" show.
const weekDays = 7

// parseSpan reads /events' argument at now, in the community's zone:
// "" or "week" (the next 7 days), "today", "tomorrow" or a number of days.
// N days are today and the N-1 days after it, up to midnight in the
// community's zone: "/events", "/events week" and "/events 7" all end at
// the midnight that starts the same weekday next week.
func (i *Integration) parseSpan(arg string, now time.Time) (span, error) {
	now = now.In(i.clock.loc)
	today := midnight(now)
	maxDays := int(i.cfg.Lookahead / (24 * time.Hour))
	switch strings.ToLower(strings.TrimSpace(arg)) {
	case "", "next", "upcoming", "week":
		return days(now, weekDays), nil
	case "today":
		return span{now, today.AddDate(0, 0, 1), "today"}, nil
	case "tomorrow":
		return span{today.AddDate(0, 0, 1), today.AddDate(0, 0, 2), "tomorrow"}, nil
	}
	n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(arg), "d"))
	if err != nil || n < 1 || n > maxDays {
		return span{}, fmt.Errorf("try `%s`, `%s today`, `%s tomorrow`, `%s week` or a number of days from 1 to %d, such as `%s 3`",
			Command, Command, Command, Command, maxDays, Command)
	}
	return days(now, n), nil
}

// days is the span of n days from now: today and the n-1 days after it.
func days(now time.Time, n int) span {
	today := midnight(now)
	if n == 1 {
		return span{now, today.AddDate(0, 0, 1), "today"}
	}
	return span{now, today.AddDate(0, 0, n), fmt.Sprintf("in the next %d days (to %s)", n, today.AddDate(0, 0, n-1).Format("Mon 2 Jan"))}
}

// handleEvents answers "/events [today|tomorrow|week|N]" with the events
// of the calendars mapped to the channel it was typed in (all calendars
// elsewhere), only to the user who asked.
func (i *Integration) handleEvents(ctx context.Context, r *slackapp.Request) error {
	if r.Command == nil {
		return fmt.Errorf("%s: %s: request has no slash command", Name, Command)
	}
	arg := strings.TrimSpace(r.Command.Text)
	if a := strings.ToLower(arg); a == "help" || a == "-h" || a == "--help" || a == "?" {
		return i.ephemeral(ctx, r, slackapp.Message{Text: helpText(i.cfg, i.clock.loc)})
	}
	if strings.EqualFold(arg, "mine") {
		return i.mine(ctx, r)
	}
	sp, err := i.parseSpan(arg, i.now())
	if err != nil {
		return i.ephemeral(ctx, r, slackapp.Message{Text: "I don't know `" + slackapp.Escape(arg) + "`: " + err.Error()})
	}
	// Calendars due for a fetch are fetched first, but a slow one is not
	// waited for beyond eventsFetchWait: the answer then shows its last
	// good events, and the handler waits for the fetch after answering.
	done := make(chan error, 1)
	go func() { done <- i.refresh(ctx) }()
	timer := time.NewTimer(eventsFetchWait)
	defer timer.Stop()
	slow := ""
	select {
	case err := <-done:
		if err != nil {
			i.log.WarnContext(ctx, "showing last good events", "command", Command, "error", err)
		}
	case <-timer.C:
		slow = "⏳ A calendar is slow to answer, so this may be out of date."
		defer func() { <-done }()
	}
	return i.ephemeral(ctx, r, i.eventsPage(ctx, r.ChannelID, sp, 0, slow))
}

// eventsFetchWait is how long /events waits for calendars being fetched
// before answering with what it has.
const eventsFetchWait = 3 * time.Second

// handleMore answers the More button with the next page.
func (i *Integration) handleMore(ctx context.Context, r *slackapp.Request) error {
	if r.Action == nil {
		return fmt.Errorf("%s: more: request has no action", Name)
	}
	sp, channel, offset, err := decodeMore(r.Action.Value, i.clock.loc)
	if err != nil {
		return fmt.Errorf("%s: more: %w", Name, err)
	}
	return i.ephemeral(ctx, r, i.eventsPage(ctx, channel, sp, offset, ""))
}

func (i *Integration) ephemeral(ctx context.Context, r *slackapp.Request, m slackapp.Message) error {
	if err := r.Ephemeral(ctx, m); err != nil {
		return fmt.Errorf("%s: %s: answer: %w", Name, Command, err)
	}
	return nil
}

// eventsPage lists up to PageSize events of sp from offset, with a More
// button when there are more; slow, if not empty, says a fetch is late.
func (i *Integration) eventsPage(ctx context.Context, channel string, sp span, offset int, slow string) slackapp.Message {
	events := i.eventsFor(ctx, i.channelFilter(ctx, channel), sp.from, sp.to)
	stale := i.staleNote()
	if stale == "" {
		stale = slow
	}
	if len(events) == 0 {
		text := "📭 No events " + sp.name + "."
		if stale != "" {
			text += " " + stale
		}
		return slackapp.Message{Text: text}
	}
	offset = min(max(offset, 0), len(events))
	size := i.cfg.PageSize
	if i.rsvpOn() {
		size = min(size, rsvpPageSize)
	}
	page := events[offset:min(offset+size, len(events))]
	rest := len(events) - offset - len(page)
	head := fmt.Sprintf("🗓 %d event%s %s", len(events), pluralS(len(events)), sp.name)
	if offset > 0 {
		head += fmt.Sprintf(" (%d–%d)", offset+1, offset+len(page))
	}
	blocks := []slack.Block{slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "*"+head+"*", false, false), nil, nil)}
	if i.rsvpOn() {
		blocks = append(blocks, rsvpAgenda(i.clock, page)...)
	} else {
		for _, s := range agenda(i.clock, page) {
			blocks = append(blocks, s.block)
		}
	}
	note := i.clock.zoneNote()
	if stale != "" {
		note += " " + stale
	}
	blocks = append(blocks, slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, note, false, false)))
	if rest > 0 {
		more := slack.NewButtonBlockElement(MoreActionID, encodeMore(sp, channel, offset+len(page)),
			slack.NewTextBlockObject(slack.PlainTextType, fmt.Sprintf("More (%d)", rest), false, false))
		blocks = append(blocks, slack.NewActionBlock("", more))
	}
	text := head
	for _, e := range page {
		text += "\n• " + fallbackWhen(i.clock, e) + " " + safe(title(e))
	}
	if rest > 0 {
		text += fmt.Sprintf("\n…and %d more", rest)
	}
	return slackapp.Message{Text: text, Blocks: blocks}
}

// channelFilter returns channel if some calendar is mapped to it, else ""
// (every calendar).
func (i *Integration) channelFilter(ctx context.Context, channel string) string {
	for _, s := range i.sources {
		if slices.Contains(i.channels.ids(ctx, s.Channels), channel) {
			return channel
		}
	}
	return ""
}

// staleNote says when a calendar could not be read, so the list may be old.
func (i *Integration) staleNote() string {
	for _, s := range i.sources {
		s.mu.Lock()
		failing := s.failures > 0
		s.mu.Unlock()
		if failing {
			return "⚠️ Couldn't reach a calendar just now, so this may be out of date; I'll keep trying."
		}
	}
	return ""
}

// encodeMore packs a page request into a button value (at most 2000
// characters): the window as Unix seconds, the channel and the offset.
func encodeMore(sp span, channel string, offset int) string {
	return fmt.Sprintf("%d:%d:%s:%d:%s", sp.from.Unix(), sp.to.Unix(), channel, offset, sp.name)
}

func decodeMore(v string, loc *time.Location) (span, string, int, error) {
	parts := strings.SplitN(v, ":", 5)
	if len(parts) != 5 {
		return span{}, "", 0, fmt.Errorf("bad button value %q", v)
	}
	from, err1 := strconv.ParseInt(parts[0], 10, 64)
	to, err2 := strconv.ParseInt(parts[1], 10, 64)
	offset, err3 := strconv.Atoi(parts[3])
	if err1 != nil || err2 != nil || err3 != nil || offset < 0 || to < from {
		return span{}, "", 0, fmt.Errorf("bad button value %q", v)
	}
	return span{time.Unix(from, 0).In(loc), time.Unix(to, 0).In(loc), parts[4]}, parts[2], offset, nil
}

// helpText is /events' usage.
func helpText(cfg Config, loc *time.Location) string {
	mine := ""
	if cfg.RSVP {
		mine = fmt.Sprintf("• `%s mine`: the coming events you answered Going, Maybe or Can't (tap *RSVP* beside an event, or the buttons on a reminder)\n", Command)
	}
	return fmt.Sprintf("*%s* shows upcoming community events, only to you.\n"+
		"• `%s` or `%s week`: today and the next 6 days\n• `%s today` · `%s tomorrow`\n• `%s 14`: today and the next 13 days (up to %d)\n%s"+
		"Days end at midnight, %s time. In a channel with its own calendars you see those; elsewhere, every calendar.",
		Command, Command, Command, Command, Command, Command, int(cfg.Lookahead/(24*time.Hour)), mine, loc)
}
