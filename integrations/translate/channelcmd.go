package translate

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"github.com/townhall/townhall/slackapp"
)

// channelUsage is the help of "/translate channel".
func channelUsage(intro string) slackapp.Message {
	if intro != "" {
		intro += "\n"
	}
	return text("%s*Auto-translation of this channel* (staff switch it on and off):\n"+
		"• `/translate channel on es,fr,ar` — every new message here gets its translations into those of these languages it is not already in, in one reply in its thread\n"+
		"• `/translate channel off` — stop\n"+
		"• `/translate channel status` — what is on here, and this month's translation budget\n"+
		"Messages of fewer than a few words, code, links alone and other apps' messages are skipped; edits update the translations and deleting a message deletes them. `/translate languages` lists the language codes.",
		intro)
}

// isChannelCommand reports whether "/translate channel …" is the channel
// subcommand rather than text to translate ("channel is open").
func isChannelCommand(rest string) bool {
	first, _, _ := strings.Cut(strings.TrimSpace(rest), " ")
	switch strings.ToLower(first) {
	case "", "on", "off", "status", "help", "-h", "--help", "?":
		return true
	}
	return false
}

// handleChannel answers "/translate channel on|off|status".
func (i *Integration) handleChannel(ctx context.Context, r *slackapp.Request, args string) error {
	verb, rest, _ := strings.Cut(strings.TrimSpace(args), " ")
	verb = strings.ToLower(verb)
	channel := r.ChannelID
	switch verb {
	case "", "help", "-h", "--help", "?":
		return i.ephemeral(ctx, r, channelUsage(""))
	case "status":
		return i.channelStatus(ctx, r)
	}
	if channel == "" || !strings.HasPrefix(channel, "C") && !strings.HasPrefix(channel, "G") {
		return i.ephemeral(ctx, r, text("Auto-translation is for channels: run `/translate channel %s` in the channel itself.", verb))
	}
	if ok, err := i.staffOnly(ctx, r, verb); !ok {
		return err
	}
	switch verb {
	case "on":
		return i.channelOn(ctx, r, strings.TrimSpace(rest))
	case "off":
		return i.channelOff(ctx, r)
	}
	return i.ephemeral(ctx, r, channelUsage(fmt.Sprintf("I don't know `/translate channel %s`.", slackapp.Escape(verb))))
}

// staffOnly reports whether r's user is staff, answering them politely
// when not.
func (i *Integration) staffOnly(ctx context.Context, r *slackapp.Request, verb string) (bool, error) {
	if i.isStaff == nil {
		return false, i.ephemeral(ctx, r, text("Switching auto-translation by command is not available in this installation; staff can set TOWNHALL_TRANSLATE_CHANNELS instead."))
	}
	staff, err := i.isStaff(ctx, r.UserID)
	if err != nil {
		sorry := i.ephemeral(ctx, r, text("I couldn't check whether you are staff just now; please try again in a minute."))
		return false, errors.Join(fmt.Errorf("%s: staff check: %w", Name, err), sorry)
	}
	if !staff {
		return false, i.ephemeral(ctx, r, text("Sorry, `/translate channel %s` is for workspace staff (admins, owners, and the people listed in TOWNHALL_STAFF_USERS). `/translate channel status` shows what is on here.", verb))
	}
	return true, nil
}

// channelOn answers "/translate channel on <languages>".
func (i *Integration) channelOn(ctx context.Context, r *slackapp.Request, list string) error {
	if list == "" {
		return i.ephemeral(ctx, r, channelUsage("Which languages? For example `/translate channel on es,fr,ar`."))
	}
	langs, err := ParseLanguages(list)
	if err != nil {
		return i.ephemeral(ctx, r, channelUsage(slackapp.Escape(upperFirst(err.Error()))+"."))
	}
	ch, err := i.api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: r.ChannelID})
	var se slack.SlackErrorResponse
	switch {
	case errors.As(err, &se) && se.Err == "channel_not_found":
		return i.ephemeral(ctx, r, text("I can't see this channel. Invite me with `/invite @townhall`, then try again."))
	case err != nil:
		sorry := i.ephemeral(ctx, r, text("I couldn't check this channel with Slack just now; please try again in a minute."))
		return errors.Join(fmt.Errorf("%s: channel on: conversations.info %s: %w", Name, r.ChannelID, err), sorry)
	case ch.IsPrivate || ch.IsGroup:
		return i.ephemeral(ctx, r, text("Auto-translation works in public channels: the app is not subscribed to private channels' messages."))
	case !ch.IsMember:
		return i.ephemeral(ctx, r, text("I only see messages of channels I'm in: invite me with `/invite @townhall`, then run this again."))
	}
	if err := i.chans.set(ctx, r.ChannelID, &channelSetting{Languages: langs, By: r.UserID, At: i.now().UTC()}); err != nil {
		sorry := i.ephemeral(ctx, r, text("Sorry, I couldn't save that just now. Please try again."))
		return errors.Join(fmt.Errorf("%s: channel on: %w", Name, err), sorry)
	}
	i.log.InfoContext(ctx, "auto-translation switched on", "channel", r.ChannelID, "languages", strings.Join(langs, ","))
	note := ""
	if i.budget.paused(ctx) {
		note = "\n_" + i.budget.status(ctx) + "._"
	}
	return i.announce(ctx, r, fmt.Sprintf("🌐 %s switched on auto-translation here: each new message gets its translations into %s (those it is not already in) in its thread, by %s.%s",
		mention(r.UserID), languageNames(langs), i.t.p.name(), note))
}

// channelOff answers "/translate channel off".
func (i *Integration) channelOff(ctx context.Context, r *slackapp.Request) error {
	rule, err := i.chans.rule(ctx, r.ChannelID)
	if err != nil {
		sorry := i.ephemeral(ctx, r, text("Sorry, I couldn't read this channel's settings just now. Please try again."))
		return errors.Join(fmt.Errorf("%s: channel off: %w", Name, err), sorry)
	}
	if len(rule.languages) == 0 {
		return i.ephemeral(ctx, r, text("Auto-translation is already off here."))
	}
	// An "off" is kept even for a channel the environment switches on,
	// so a restart does not switch it on again.
	if err := i.chans.set(ctx, r.ChannelID, &channelSetting{Off: true, By: r.UserID, At: i.now().UTC()}); err != nil {
		sorry := i.ephemeral(ctx, r, text("Sorry, I couldn't save that just now. Please try again."))
		return errors.Join(fmt.Errorf("%s: channel off: %w", Name, err), sorry)
	}
	i.log.InfoContext(ctx, "auto-translation switched off", "channel", r.ChannelID)
	return i.announce(ctx, r, fmt.Sprintf("🌐 %s switched off auto-translation here. Translations already posted stay; `/translate` and flag reactions still work.", mention(r.UserID)))
}

// announce tells the channel, since a change of its auto-translation
// concerns everyone in it (their messages go to the provider).
func (i *Integration) announce(ctx context.Context, r *slackapp.Request, s string) error {
	if err := r.Reply(ctx, slackapp.Message{Text: s}); err != nil {
		return fmt.Errorf("%s: announce in %s: %w", Name, r.ChannelID, err)
	}
	return nil
}

// channelStatus answers "/translate channel status", for anyone.
func (i *Integration) channelStatus(ctx context.Context, r *slackapp.Request) error {
	rule, err := i.chans.rule(ctx, r.ChannelID)
	if err != nil {
		sorry := i.ephemeral(ctx, r, text("Sorry, I couldn't read this channel's settings just now. Please try again."))
		return errors.Join(fmt.Errorf("%s: channel status: %w", Name, err), sorry)
	}
	var b strings.Builder
	switch {
	case len(rule.languages) > 0:
		fmt.Fprintf(&b, "Auto-translation is *on* here, into %s, by %s", languageNames(rule.languages), i.t.p.name())
		if rule.set != nil {
			fmt.Fprintf(&b, " (switched on by %s on %s).", mention(rule.set.By), rule.set.At.Format("2 January 2006"))
		} else {
			b.WriteString(" (set by TOWNHALL_TRANSLATE_CHANNELS).")
		}
		if i.budget.paused(ctx) {
			b.WriteString(" It is *paused* for now.")
		}
	case rule.set != nil && rule.set.Off:
		fmt.Fprintf(&b, "Auto-translation is *off* here (switched off by %s on %s).", mention(rule.set.By), rule.set.At.Format("2 January 2006"))
	default:
		b.WriteString("Auto-translation is *off* here. Staff can switch it on with `/translate channel on es,fr`.")
	}
	b.WriteString("\n" + i.budget.status(ctx))
	return i.ephemeral(ctx, r, text("%s", b.String()))
}

// languageNames lists languages by name: "Spanish, French and Arabic".
func languageNames(codes []string) string {
	names := make([]string, len(codes))
	for n, c := range codes {
		l, _ := LookupLanguage(c)
		names[n] = l.English
	}
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// Status implements integrations.Reporter: the provider, the channels
// auto-translated, this month's count against the budget, and the last
// auto-translation failure.
func (i *Integration) Status(ctx context.Context) []string {
	lines := []string{"    🌐 provider: " + i.t.p.name()}
	chans, err := i.chans.summary(ctx)
	switch {
	case err != nil:
		lines = append(lines, "    🔴 can't read the auto-translated channels: "+slackapp.Escape(err.Error()))
	case len(chans) == 0:
		lines = append(lines, "    🔁 auto-translation: no channel")
	default:
		lines = append(lines, "    🔁 auto-translation: "+strings.Join(chans, "; "))
	}
	lines = append(lines, "    "+i.budget.status(ctx))
	i.failMu.Lock()
	f := i.lastFail
	i.failMu.Unlock()
	if !f.at.IsZero() {
		lines = append(lines, fmt.Sprintf("    ⚠️ last auto-translation failure %s: %s", f.at.UTC().Format("2006-01-02 15:04 UTC"), f.kind))
	}
	return lines
}
