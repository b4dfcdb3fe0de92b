package translate

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/townhall/townhall/slackapp"
)

// settingKey is where a user's preferred language is kept.
func settingKey(user string) string { return "translate:language:" + user }

// userLanguage returns the user's preferred language, and whether they
// chose it.
func (i *Integration) userLanguage(ctx context.Context, user string) (Language, bool) {
	code, ok, err := i.settings.Setting(ctx, settingKey(user))
	if err != nil {
		i.log.WarnContext(ctx, "could not read a preferred language; using the default", "error", err)
		return i.fallback, false
	}
	if l, found := LookupLanguage(code); ok && found {
		return l, true
	}
	return i.fallback, false
}

// handleCommand answers "/translate …".
func (i *Integration) handleCommand(ctx context.Context, r *slackapp.Request) error {
	if r.Command == nil {
		return fmt.Errorf("%s: %s: request has no slash command", Name, Command)
	}
	user := r.UserID
	input := strings.TrimSpace(r.Command.Text)
	first, rest, _ := strings.Cut(input, " ")
	switch strings.ToLower(first) {
	case "", "help", "-h", "--help", "?":
		lang, chosen := i.userLanguage(ctx, user)
		return i.ephemeral(ctx, r, helpMessage(lang, chosen))
	case "languages", "langs", "list":
		if strings.TrimSpace(rest) == "" {
			return i.ephemeral(ctx, r, languagesMessage())
		}
	case "set":
		return i.setLanguage(ctx, r, strings.TrimSpace(rest))
	case "channel":
		if isChannelCommand(rest) {
			return i.handleChannel(ctx, r, rest)
		}
	}

	target, body, named := i.splitTarget(input)
	if !named {
		target, _ = i.userLanguage(ctx, user)
	}
	body = strings.TrimSpace(body)
	if body == "" {
		return i.ephemeral(ctx, r, text("What should I translate into %s? Try `%s %s Hello everyone`.", target.English, Command, target.Code))
	}
	if n := utf8.RuneCountInString(slackUnescaper.Replace(body)); n > i.cfg.MaxCharacters {
		return i.ephemeral(ctx, r, text("That text is %d characters long; I can translate up to %d at a time. Please translate a shorter part.", n, i.cfg.MaxCharacters))
	}
	res, ok, err := i.translateFor(ctx, r, body, target, "")
	if !ok {
		return err
	}
	return i.ephemeral(ctx, r, translationMessage(res, target, i.t.p.name(), postValue{Target: target.Code, Hash: res.Hash}))
}

// splitTarget reads an optional language at the start of the command text:
// one to three words ("fr", "traditional chinese", "português do brasil").
// A first word that is no language but looks like a code ("xx Hello") is
// not guessed at: the whole text is translated.
func (i *Integration) splitTarget(input string) (Language, string, bool) {
	words := strings.Fields(input)
	for n := min(3, len(words)); n >= 1; n-- {
		if l, ok := LookupLanguage(strings.Join(words[:n], " ")); ok {
			rest := input
			for range n {
				rest = strings.TrimSpace(rest)
				_, rest, _ = strings.Cut(rest, " ")
			}
			if n == len(words) {
				rest = ""
			}
			return l, rest, true
		}
	}
	return Language{}, input, false
}

// setLanguage answers "/translate set <language>".
func (i *Integration) setLanguage(ctx context.Context, r *slackapp.Request, name string) error {
	if name == "" {
		lang, chosen := i.userLanguage(ctx, r.UserID)
		how := "the community's default"
		if chosen {
			how = "your choice"
		}
		return i.ephemeral(ctx, r, text("Your language is *%s* (%s). Choose another with `%s set &lt;language&gt;`, for example `%s set es`.", lang.Name(), how, Command, Command))
	}
	lang, ok := LookupLanguage(name)
	if !ok {
		return i.ephemeral(ctx, r, unknownLanguageMessage(name))
	}
	if err := i.settings.SetSetting(ctx, settingKey(r.UserID), lang.Code); err != nil {
		sorry := i.ephemeral(ctx, r, text("Sorry, I couldn't save your language just now. Please try again."))
		return errors.Join(fmt.Errorf("%s: save language of %s: %w", Name, r.UserID, err), sorry)
	}
	return i.ephemeral(ctx, r, text("Done: I'll translate into *%s* for you, from `%s`, the *Translate message* shortcut and nowhere else.", lang.Name(), Command))
}

// translateFor translates text for a request, telling the user
// "Translating…" if it takes longer than ProgressAfter, and telling them
// what went wrong if it fails. ok is false when the user has been answered
// already (err is then what to return, nil or not).
func (i *Integration) translateFor(ctx context.Context, r *slackapp.Request, body string, target Language, thread string) (result, bool, error) {
	tctx, cancel := context.WithTimeout(ctx, i.cfg.Timeout)
	defer cancel()
	defer i.budget.check(ctx, "")

	type outcome struct {
		res result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := i.t.translate(tctx, body, target.Code)
		done <- outcome{res, err}
	}()
	var o outcome
	progress := time.NewTimer(i.cfg.ProgressAfter)
	select {
	case o = <-done:
		progress.Stop()
	case <-progress.C:
		m := text("Translating into %s…", target.English)
		m.ThreadTS = thread
		if err := r.Ephemeral(ctx, m); err != nil {
			i.log.WarnContext(ctx, "could not say Translating…", "error", err)
		}
		o = <-done
	}

	if o.err == nil {
		if o.res.Source == target.Code {
			m := text("That's already in %s.", target.English)
			m.ThreadTS = thread
			return result{}, false, i.ephemeral(ctx, r, m)
		}
		return o.res, true, nil
	}
	var m slackapp.Message
	if errors.Is(o.err, errNothingToTranslate) {
		m = text("There are no words to translate in that: only emoji, mentions, links or code.")
	} else {
		kind := classify(o.err)
		i.log.WarnContext(ctx, "translation failed", "provider", i.t.key, "kind", string(kind), "target", target.Code, "error", i.clean(o.err))
		m = failureMessage(kind, i.t.p.name(), "", target, i.cfg.Timeout.String())
	}
	m.ThreadTS = thread
	return result{}, false, i.ephemeral(ctx, r, m)
}

// ephemeral answers the user privately, wrapping a failure to do so.
func (i *Integration) ephemeral(ctx context.Context, r *slackapp.Request, m slackapp.Message) error {
	if err := r.Ephemeral(ctx, m); err != nil {
		return fmt.Errorf("%s: answer %s: %w", Name, r.UserID, err)
	}
	return nil
}

// handleShortcut answers the "Translate message" shortcut: the message,
// which the payload carries, translated into the user's language, shown
// to them alone in the message's thread if it is in one.
func (i *Integration) handleShortcut(ctx context.Context, r *slackapp.Request) error {
	if r.Interaction == nil {
		return fmt.Errorf("%s: shortcut: request has no interaction", Name)
	}
	msg := r.Interaction.Message
	thread := msg.ThreadTimestamp
	target, _ := i.userLanguage(ctx, r.UserID)
	say := func(m slackapp.Message) error {
		m.ThreadTS = thread
		return i.ephemeral(ctx, r, m)
	}
	if strings.TrimSpace(msg.Text) == "" {
		return say(text("That message has no text I can translate (only attachments or files)."))
	}
	if n := utf8.RuneCountInString(slackUnescaper.Replace(msg.Text)); n > i.cfg.MaxCharacters {
		return say(text("That message is %d characters long; I can translate up to %d at a time.", n, i.cfg.MaxCharacters))
	}
	res, ok, err := i.translateFor(ctx, r, msg.Text, target, thread)
	if !ok {
		return err
	}
	postThread := thread
	if postThread == "" {
		postThread = msg.Timestamp
	}
	author := msg.User
	if author == r.UserID {
		author = ""
	}
	m := translationMessage(res, target, i.t.p.name(), postValue{Target: target.Code, Hash: res.Hash, Thread: postThread, Author: author})
	return say(m)
}

// postLease bounds how long a click on Post holds its claim before it is
// confirmed; past it, a click whose post failed can be retried.
const postLease = 2 * time.Minute

// handlePost posts a translation from the private answer to the channel
// (or thread), attributed, once per answer.
func (i *Integration) handlePost(ctx context.Context, r *slackapp.Request) error {
	if r.Action == nil || r.Interaction == nil {
		return fmt.Errorf("%s: post: request has no block action", Name)
	}
	v, ok := parsePostValue(r.Action.Value)
	target, known := LookupLanguage(v.Target)
	if !ok || !known {
		return errors.Join(fmt.Errorf("%s: post: bad button value %q", Name, r.Action.Value),
			i.ephemeral(ctx, r, text("Sorry, that button no longer works. Please translate again.")))
	}
	res, found, err := i.t.cached(ctx, target.Code, v.Hash)
	if err != nil || !found {
		return errors.Join(err, i.ephemeral(ctx, r, text("That translation has expired. Please run the translation again, then post it.")))
	}
	channel := r.ChannelID
	answer := r.Interaction.Container.MessageTs
	if answer == "" {
		answer = v.Hash
	}
	key := "translate:post:" + channel + ":" + r.UserID + ":" + answer
	claimed, err := i.claims.Claim(ctx, key, postLease)
	if err != nil {
		return errors.Join(fmt.Errorf("%s: post: claim: %w", Name, err),
			i.ephemeral(ctx, r, text("Sorry, I couldn't post that just now. Please try again.")))
	}
	if !claimed {
		return i.ephemeral(ctx, r, text("You've already posted this translation."))
	}
	m := sharedMessage(res, target, r.UserID, v.Author)
	m.ThreadTS = v.Thread
	if _, err := i.poster.Post(ctx, channel, m); err != nil {
		rerr := i.claims.Release(ctx, key)
		why := "Please try again in a moment."
		if slackapp.Permanent(err) {
			why = "I may not be a member of this conversation: invite me with `/invite @townhall`, or copy the translation."
		}
		return errors.Join(fmt.Errorf("%s: post translation: %w", Name, err), rerr,
			i.ephemeral(ctx, r, text("Sorry, I couldn't post the translation. %s", why)))
	}
	if err := i.claims.Confirm(ctx, key); err != nil {
		return fmt.Errorf("%s: post: confirm: %w", Name, err)
	}
	i.log.InfoContext(ctx, "translation posted", "channel", channel, "target", target.Code)
	return nil
}

// reactionLease bounds how long a flag reaction's claim is held while the
// message is read, translated and posted.
const reactionLease = 2 * time.Minute

// handleReaction posts a translation into the thread of a message that
// received a flag reaction, once per (message, language), whoever adds
// the flag and however many times.
func (i *Integration) handleReaction(ctx context.Context, r *slackapp.Request) error {
	if r.Event == nil {
		return fmt.Errorf("%s: reaction: request has no event", Name)
	}
	ev, ok := r.Event.InnerEvent.Data.(*slackevents.ReactionAddedEvent)
	if !ok || ev.Item.Type != "message" {
		return nil
	}
	target, ok := FlagLanguage(ev.Reaction)
	if !ok {
		return nil
	}
	channel, ts := ev.Item.Channel, ev.Item.Timestamp
	key := "translate:reaction:" + channel + ":" + ts + ":" + target.Code
	claimed, err := i.claims.Claim(ctx, key, reactionLease)
	if err != nil {
		return fmt.Errorf("%s: reaction: claim %s: %w", Name, key, err)
	}
	if !claimed {
		return nil // translated already, or being translated now
	}
	release := func(cause error) error {
		if rerr := i.claims.Release(ctx, key); rerr != nil {
			return errors.Join(cause, rerr)
		}
		return cause
	}

	msg, err := i.readMessage(ctx, channel, ts)
	if err != nil {
		i.log.WarnContext(ctx, "could not read a reacted message", "channel", channel, "error", err)
		return release(errors.Join(fmt.Errorf("%s: reaction: %w", Name, err),
			i.ephemeral(ctx, r, text("I couldn't read that message to translate it. If it's in a private conversation, invite me with `/invite @townhall`."))))
	}
	thread := msg.ThreadTimestamp
	if thread == "" {
		thread = msg.Timestamp
	}
	say := func(m slackapp.Message) error {
		m.ThreadTS = thread
		return r.Ephemeral(ctx, m)
	}
	if strings.TrimSpace(msg.Text) == "" {
		return release(say(text("That message has no text I can translate.")))
	}
	if n := utf8.RuneCountInString(slackUnescaper.Replace(msg.Text)); n > i.cfg.MaxCharacters {
		return release(say(text("That message is %d characters long; I can translate up to %d at a time.", n, i.cfg.MaxCharacters)))
	}
	tctx, cancel := context.WithTimeout(ctx, i.cfg.Timeout)
	res, err := i.t.translate(tctx, msg.Text, target.Code)
	cancel()
	defer i.budget.check(ctx, "")
	switch {
	case errors.Is(err, errNothingToTranslate):
		return release(say(text("There are no words to translate in that message.")))
	case err != nil:
		kind := classify(err)
		i.log.WarnContext(ctx, "translation failed", "provider", i.t.key, "kind", string(kind), "target", target.Code, "error", i.clean(err))
		return release(say(failureMessage(kind, i.t.p.name(), "", target, i.cfg.Timeout.String())))
	case res.Source == target.Code:
		// Nothing to post, ever, for this flag on this message.
		if err := i.claims.Confirm(ctx, key); err != nil {
			return fmt.Errorf("%s: reaction: confirm: %w", Name, err)
		}
		return say(text("That message is already in %s.", target.English))
	}
	m := reactionMessage(res, target, ev.Reaction, i.t.p.name())
	m.ThreadTS = thread
	if _, err := i.poster.Post(ctx, channel, m); err != nil {
		return release(fmt.Errorf("%s: reaction: post translation: %w", Name, err))
	}
	if err := i.claims.Confirm(ctx, key); err != nil {
		return fmt.Errorf("%s: reaction: confirm: %w", Name, err)
	}
	i.log.InfoContext(ctx, "translation posted for a reaction", "channel", channel, "target", target.Code, "cached", res.Cached)
	return nil
}

// readMessage fetches one message by its ts: from the channel's history
// if it is a top-level message, else from its thread.
func (i *Integration) readMessage(ctx context.Context, channel, ts string) (slack.Message, error) {
	h, err := i.api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{
		ChannelID: channel, Latest: ts, Oldest: ts, Inclusive: true, Limit: 1,
	})
	if err != nil {
		return slack.Message{}, fmt.Errorf("conversations.history %s: %w", channel, err)
	}
	for _, m := range h.Messages {
		if m.Timestamp == ts {
			return m, nil
		}
	}
	// A reply in a thread is not in the channel's history; its thread is.
	// Slack lists the thread's parent first, whatever the window, then the
	// replies in it: here only the one at ts.
	msgs, _, _, err := i.api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{
		ChannelID: channel, Timestamp: ts, Latest: ts, Oldest: ts, Inclusive: true, Limit: 2,
	})
	if err != nil {
		return slack.Message{}, fmt.Errorf("conversations.replies %s %s: %w", channel, ts, err)
	}
	for _, m := range msgs {
		if m.Timestamp == ts {
			return m, nil
		}
	}
	return slack.Message{}, fmt.Errorf("message %s in %s not found", ts, channel)
}
