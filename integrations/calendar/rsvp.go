package calendar

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/townhall/townhall/slackapp"
	"github.com/townhall/townhall/store"
)

// RSVP: members answer Going, Maybe or Can't on a reminder, or on an event
// of /events through its RSVP button. Answers are townhall's (calendars
// are read-only), kept in the store per event instance: a recurring
// event's instances are separate, and an instance moved in its calendar
// keeps its answers, since it keeps its InstanceID.
const (
	RSVPGoingActionID = "calendar_rsvp_going"
	RSVPMaybeActionID = "calendar_rsvp_maybe"
	RSVPNoActionID    = "calendar_rsvp_no"
	RSVPWhoActionID   = "calendar_rsvp_who"
	RSVPOpenActionID  = "calendar_rsvp_open"

	// rsvpCountsBlockID marks the block that shows the counts, which a
	// reminder's update replaces.
	rsvpCountsBlockID = "calendar_rsvp_counts"
	rsvpActionsBlock  = "calendar_rsvp"
)

// An answer is what a member said.
type answer string

const (
	going answer = "going"
	maybe answer = "maybe"
	cant  answer = "no"
)

var answers = []answer{going, maybe, cant}

func (a answer) label() string {
	switch a {
	case going:
		return "Going"
	case maybe:
		return "Maybe"
	}
	return "Can't"
}

func (a answer) emoji() string {
	switch a {
	case going:
		return "✅"
	case maybe:
		return "🤔"
	}
	return "❌"
}

func answerOf(actionID string) (answer, bool) {
	switch actionID {
	case RSVPGoingActionID:
		return going, true
	case RSVPMaybeActionID:
		return maybe, true
	case RSVPNoActionID:
		return cant, true
	}
	return "", false
}

// rsvpRecord is what the store keeps of one instance.
type rsvpRecord struct {
	Answers map[string]answer `json:"answers"` // user ID → answer
}

// who lists the users who gave answer a, in a stable order.
func (r rsvpRecord) who(a answer) []string {
	var users []string
	for u, got := range r.Answers {
		if got == a {
			users = append(users, u)
		}
	}
	slices.Sort(users)
	return users
}

// rsvpKey names an instance in the store and in button values: short,
// and the same for the instance wherever it is shown.
func rsvpKey(e Event) string {
	sum := sha256.Sum256([]byte(e.Source + "\n" + e.InstanceID))
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:15]))
}

const rsvpSettingPrefix = "calendar.rsvp."

// rsvpLockLease bounds how long one answer holds its instance's record.
const rsvpLockLease = 10 * time.Second

// loadRSVP reads an instance's answers; none is an empty record.
func (i *Integration) loadRSVP(ctx context.Context, key string) (rsvpRecord, error) {
	rec := rsvpRecord{Answers: map[string]answer{}}
	v, ok, err := i.settings.Setting(ctx, rsvpSettingPrefix+key)
	if err != nil || !ok {
		return rec, err
	}
	if err := json.Unmarshal([]byte(v), &rec); err != nil {
		return rsvpRecord{Answers: map[string]answer{}}, fmt.Errorf("calendar: rsvp %s: %w", key, err)
	}
	if rec.Answers == nil {
		rec.Answers = map[string]answer{}
	}
	return rec, nil
}

// setAnswer records user's answer a to the instance key (a second tap on
// the same answer takes it back) and returns the record and what the user
// now answers ("" when taken back). Two members answering at once, on one
// replica or two, both count: the record is changed under a claim on it.
func (i *Integration) setAnswer(ctx context.Context, key, user string, a answer) (rec rsvpRecord, now answer, err error) {
	err = store.Locked(ctx, i.claims, "calendar.rsvp.lock:"+key, rsvpLockLease, func() error {
		var lerr error
		if rec, lerr = i.loadRSVP(ctx, key); lerr != nil {
			i.log.Warn("rsvp: unreadable answers replaced", "key", key, "error", lerr)
		}
		now = a
		if rec.Answers[user] == a {
			delete(rec.Answers, user)
			now = ""
		} else {
			rec.Answers[user] = a
		}
		b, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		return i.settings.SetSetting(ctx, rsvpSettingPrefix+key, string(b))
	})
	return rec, now, err
}

// countsText is the one-line tally: "✅ 3 going · 🤔 1 maybe · ❌ 2 can't".
func countsText(rec rsvpRecord) string {
	if len(rec.Answers) == 0 {
		return "No answers yet: are you coming?"
	}
	parts := make([]string, 0, len(answers))
	for _, a := range answers {
		parts = append(parts, fmt.Sprintf("%s %d %s", a.emoji(), len(rec.who(a)), strings.ToLower(a.label())))
	}
	return strings.Join(parts, " · ")
}

// rsvpBlocks are the Going / Maybe / Can't / Who's coming buttons and the
// tally under them.
func rsvpBlocks(key string, rec rsvpRecord) []slack.Block {
	btn := func(id, label string) *slack.ButtonBlockElement {
		return slack.NewButtonBlockElement(id, key, slack.NewTextBlockObject(slack.PlainTextType, label, true, false))
	}
	return []slack.Block{
		slack.NewActionBlock(rsvpActionsBlock,
			btn(RSVPGoingActionID, "✅ Going"), btn(RSVPMaybeActionID, "🤔 Maybe"), btn(RSVPNoActionID, "❌ Can't"),
			btn(RSVPWhoActionID, "Who's coming?")),
		slack.NewContextBlock(rsvpCountsBlockID, slack.NewTextBlockObject(slack.MarkdownType, countsText(rec), false, false)),
	}
}

// rsvpOn reports whether members can answer: the integration has
// somewhere to keep answers and the configuration allows it.
func (i *Integration) rsvpOn() bool { return i.settings != nil && i.cfg.RSVP }

// withRSVP adds the RSVP buttons and tally to a reminder of e.
func (i *Integration) withRSVP(ctx context.Context, m slackapp.Message, e Event) slackapp.Message {
	if !i.rsvpOn() {
		return m
	}
	key := rsvpKey(e)
	rec, err := i.loadRSVP(ctx, key)
	if err != nil {
		i.log.Warn("rsvp: answers not read for a reminder", "error", err)
	}
	m.Blocks = append(m.Blocks, rsvpBlocks(key, rec)...)
	return m
}

// findEvent looks an instance up by its key among the events from a day
// ago to the lookahead: those whose answers can still change.
func (i *Integration) findEvent(ctx context.Context, key string) (Event, bool) {
	if err := i.refresh(ctx); err != nil { // after a restart nothing is fetched yet
		i.log.WarnContext(ctx, "rsvp: looking the event up in the last good events", "error", err)
	}
	now := i.now()
	for _, e := range i.eventsFor(ctx, "", now.Add(-24*time.Hour), now.Add(i.cfg.Lookahead)) {
		if rsvpKey(e) == key {
			return e, true
		}
	}
	return Event{}, false
}

// handleRSVP answers the RSVP buttons.
func (i *Integration) handleRSVP(ctx context.Context, r *slackapp.Request) error {
	if r.Action == nil {
		return fmt.Errorf("%s: rsvp: request has no action", Name)
	}
	if !i.rsvpOn() {
		return i.ephemeral(ctx, r, slackapp.Message{Text: "Answering events is switched off here."})
	}
	key := r.Action.Value
	e, found := i.findEvent(ctx, key)
	if !found {
		return i.ephemeral(ctx, r, slackapp.Message{Text: "That event is no longer in the calendar (it was cancelled, or it is over), so it takes no answers."})
	}
	name := "*" + safe(title(e)) + "* (" + fallbackWhen(i.clock, e) + ")"
	switch r.Action.ActionID {
	case RSVPOpenActionID:
		rec, err := i.loadRSVP(ctx, key)
		if err != nil {
			i.log.Warn("rsvp: answers not read", "error", err)
		}
		lines := "🗓 " + name
		if mine := rec.Answers[r.UserID]; mine != "" {
			lines += "\nYou said: " + mine.emoji() + " " + mine.label()
		}
		blocks := append([]slack.Block{slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, lines, false, false), nil, nil)},
			rsvpBlocks(key, rec)...)
		return i.ephemeral(ctx, r, slackapp.Message{Text: "Are you coming to " + safe(title(e)) + "?", Blocks: blocks})
	case RSVPWhoActionID:
		rec, err := i.loadRSVP(ctx, key)
		if err != nil {
			i.log.Warn("rsvp: answers not read", "error", err)
			return i.ephemeral(ctx, r, slackapp.Message{Text: "I couldn't read the answers just now. Please try again in a minute."})
		}
		return i.ephemeral(ctx, r, slackapp.Message{Text: whoText(name, rec)})
	}
	a, ok := answerOf(r.Action.ActionID)
	if !ok {
		return fmt.Errorf("%s: rsvp: unknown action %q", Name, r.Action.ActionID)
	}
	rec, now, err := i.setAnswer(ctx, key, r.UserID, a)
	if err != nil {
		i.log.Warn("rsvp: answer not saved", "error", err)
		return i.ephemeral(ctx, r, slackapp.Message{Text: "I couldn't save your answer just now. Please tap it again in a minute."})
	}
	i.updateTally(ctx, r, rec)
	reply := "Noted: " + now.emoji() + " " + now.label() + " for " + name + ". Tap again to take it back."
	if now == "" {
		reply = "Your answer for " + name + " is taken back."
	}
	return i.ephemeral(ctx, r, slackapp.Message{Text: reply + "\n" + countsText(rec)})
}

// updateTally rewrites the tally of the channel message the button was
// on (a reminder); an ephemeral card is answered, not rewritten.
func (i *Integration) updateTally(ctx context.Context, r *slackapp.Request, rec rsvpRecord) {
	ic := r.Interaction
	if i.updater == nil || ic == nil || ic.Container.IsEphemeral || ic.Message.Timestamp == "" {
		return
	}
	blocks := slices.Clone(ic.Message.Blocks.BlockSet)
	k := slices.IndexFunc(blocks, func(b slack.Block) bool { return b.ID() == rsvpCountsBlockID })
	if k < 0 {
		return
	}
	blocks[k] = slack.NewContextBlock(rsvpCountsBlockID, slack.NewTextBlockObject(slack.MarkdownType, countsText(rec), false, false))
	channel := cmp.Or(ic.Container.ChannelID, ic.Channel.ID)
	if err := i.updater.Update(ctx, channel, ic.Message.Timestamp, slackapp.Message{Text: ic.Message.Text, Blocks: blocks}); err != nil {
		i.log.Warn("rsvp: tally not updated", "channel", channel, "error", err)
	}
}

// whoText lists who answered what.
func whoText(name string, rec rsvpRecord) string {
	if len(rec.Answers) == 0 {
		return "Nobody has answered for " + name + " yet."
	}
	lines := []string{"*Who's coming* to " + name}
	for _, a := range answers {
		users := rec.who(a)
		mentions := make([]string, len(users))
		for k, u := range users {
			mentions[k] = "<@" + u + ">"
		}
		line := fmt.Sprintf("%s %s (%d)", a.emoji(), a.label(), len(users))
		if len(users) > 0 {
			line += ": " + strings.Join(mentions, ", ")
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}

// mine answers /events mine: the coming events the user answered.
func (i *Integration) mine(ctx context.Context, r *slackapp.Request) error {
	if !i.rsvpOn() {
		return i.ephemeral(ctx, r, slackapp.Message{Text: "Answering events is switched off here, so there are no answers to show."})
	}
	if err := i.refresh(ctx); err != nil {
		i.log.WarnContext(ctx, "rsvp: showing answers for the last good events", "error", err)
	}
	now := i.now()
	var lines []string
	for _, e := range i.eventsFor(ctx, "", now, now.Add(i.cfg.Lookahead)) {
		rec, err := i.loadRSVP(ctx, rsvpKey(e))
		if err != nil {
			continue
		}
		if a := rec.Answers[r.UserID]; a != "" {
			lines = append(lines, fmt.Sprintf("%s %s · %s", a.emoji(), strings.TrimPrefix(agendaLine(i.clock, e), "• "), a.label()))
		}
	}
	if len(lines) == 0 {
		return i.ephemeral(ctx, r, slackapp.Message{Text: "You haven't answered for any coming event. Tap *Going*, *Maybe* or *Can't* on a reminder, or *RSVP* in `/events`."})
	}
	return i.ephemeral(ctx, r, slackapp.Message{Text: fmt.Sprintf("*Your answers* (%d coming event%s)\n%s", len(lines), pluralS(len(lines)), strings.Join(lines, "\n"))})
}

// Updater rewrites a message the app posted; *slackapp.Poster is one.
type Updater interface {
	Update(ctx context.Context, channel, ts string, m slackapp.Message) error
}

// rsvpPageSize is the most events an /events page lists with RSVP on:
// each is a section of its own (its RSVP button is the section's), under
// its day's heading, and a message holds at most 50 blocks.
const rsvpPageSize = 20

// rsvpAgenda is agenda with an RSVP button beside each event.
func rsvpAgenda(c clock, events []Event) []slack.Block {
	var blocks []slack.Block
	var cur time.Time
	for _, e := range events {
		day := midnight(e.Start.In(c.loc))
		if e.AllDay {
			day = midnight(time.Date(e.Start.Year(), e.Start.Month(), e.Start.Day(), 0, 0, 0, 0, c.loc))
		}
		if !day.Equal(cur) {
			cur = day
			blocks = append(blocks, slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, dayHeading(day), false, false), nil, nil))
		}
		line := truncateMrkdwn(agendaLine(c, e), maxSection)
		open := slack.NewButtonBlockElement(RSVPOpenActionID, rsvpKey(e), slack.NewTextBlockObject(slack.PlainTextType, "RSVP", false, false))
		blocks = append(blocks, slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, line, false, true), nil,
			slack.NewAccessory(open)))
	}
	return blocks
}
