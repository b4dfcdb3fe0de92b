package feeds

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/townhall/townhall/integrations/feeds/xapi"
	"github.com/townhall/townhall/slackapp"
)

// Command is the slash command the integration answers.
const Command = "/feed"

// handleFeed answers "/feed add|remove|list|help".
func (i *Integration) handleFeed(ctx context.Context, r *slackapp.Request) error {
	if r.Command == nil {
		return fmt.Errorf("%s: %s: request has no slash command", Name, Command)
	}
	words := strings.Fields(r.Command.Text)
	verb := ""
	if len(words) > 0 {
		verb = strings.ToLower(words[0])
		words = words[1:]
	}
	var m slackapp.Message
	var err error
	switch verb {
	case "add":
		m, err = i.staffOnly(ctx, r, "add", func() (slackapp.Message, error) { return i.cmdAdd(ctx, r, words) })
	case "remove", "rm", "delete":
		m, err = i.staffOnly(ctx, r, "remove", func() (slackapp.Message, error) { return i.cmdRemove(ctx, words) })
	case "list", "ls":
		m, err = i.cmdList(ctx, r, words)
	default:
		m = helpMessage(i.x != nil)
		if verb != "" && verb != "help" && verb != "-h" && verb != "--help" && verb != "?" {
			m.Text = fmt.Sprintf("I don't know `%s %s`. ", Command, slackapp.Escape(verb)) + m.Text
			m.Blocks = nil
		}
	}
	if err != nil {
		// The user hears a short, kind message; the log gets the cause.
		m = slackapp.Message{Text: "Sorry, something went wrong on my side while doing that; please try again in a minute."}
		err = fmt.Errorf("%s: %s %s: %w", Name, Command, verb, err)
	}
	if serr := r.Ephemeral(ctx, m); serr != nil {
		return errors.Join(err, fmt.Errorf("%s: %s %s: answer: %w", Name, Command, verb, serr))
	}
	return err
}

func (i *Integration) staffOnly(ctx context.Context, r *slackapp.Request, what string, f func() (slackapp.Message, error)) (slackapp.Message, error) {
	ok, err := i.isStaff(ctx, r.UserID)
	if err != nil {
		return slackapp.Message{Text: "I couldn't check whether you are staff just now; please try again in a minute."}, nil
	}
	if !ok {
		return slackapp.Message{Text: fmt.Sprintf("Sorry, `%s %s` is for workspace staff (admins, owners, and the people listed in TOWNHALL_STAFF_USERS). Anyone can see what this channel follows with `%s list`.", Command, what, Command)}, nil
	}
	return f()
}

func helpMessage(xOn bool) slackapp.Message {
	x := "an X account (`@handle`)"
	if !xOn {
		x = "an X account (`@handle`, once the operator sets TOWNHALL_FEEDS_X_BEARER_TOKEN)"
	}
	text := "*" + Command + "* posts new items from " + x + " or an RSS, Atom or JSON feed in a channel, once each.\n" +
		"• `" + Command + " list` — what this channel follows; `" + Command + " list all` — every subscription\n" +
		"• `" + Command + " add &lt;url | @handle&gt; [#channel] [filters]` — follow a source here or in #channel (staff)\n" +
		"• `" + Command + " remove &lt;id&gt;` — stop following (staff; the id is in the list)\n" +
		"Filters: `replies` and `reposts` include those (X), `include:word,word` posts only items mentioning one, `exclude:word,word` skips items mentioning any, `translate:es,fr` adds each item's translations in its thread.\n" +
		"Mastodon: `https://&lt;instance&gt;/@&lt;user&gt;.rss` · Bluesky: `https://bsky.app/profile/&lt;handle&gt;/rss`"
	return slackapp.Message{Text: text, Blocks: []slack.Block{
		slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, text, false, false), nil, nil),
	}}
}

// refusal is an ephemeral answer to input we cannot accept.
func refusal(format string, args ...any) slackapp.Message {
	return slackapp.Message{Text: "⚠️ " + fmt.Sprintf(format, args...)}
}

func (i *Integration) cmdAdd(ctx context.Context, r *slackapp.Request, words []string) (slackapp.Message, error) {
	usage := "Usage: `" + Command + " add &lt;url | @handle&gt; [#channel] [filters]`, e.g. `" + Command + " add https://blog.example.org/feed.xml #news`."
	if len(words) == 0 {
		return refusal("Tell me what to follow. %s", usage), nil
	}
	sub, err := parseSource(words[0])
	if err != nil {
		return refusal("%s. %s", slackapp.Escape(err.Error()), usage), nil
	}
	words = words[1:]
	channel := r.ChannelID
	if len(words) > 0 && (strings.HasPrefix(words[0], "#") || strings.HasPrefix(words[0], "<#")) {
		ref, err := parseChannel(words[0])
		if err != nil {
			return refusal("%s.", slackapp.Escape(err.Error())), nil
		}
		if channel, err = i.resolveChannel(ctx, ref); errors.Is(err, slackapp.ErrUnknownChannel) {
			return refusal("I can't find %s: check the name (for a private channel, invite me first), or pick the channel with Slack's autocomplete.", slackapp.Escape(ref)), nil
		} else if err != nil {
			i.log.WarnContext(ctx, "look up channel for /feed add", "command", Command, "error", err)
			return refusal("I couldn't look up %s in Slack just now; nothing was added. Please try again in a minute.", slackapp.Escape(ref)), nil
		}
		words = words[1:]
	}
	if channel == "" || !channelID.MatchString(channel) {
		return refusal("Feeds can only be posted in channels: run this in one, or name one with `#channel`."), nil
	}
	if sub.Filters, err = parseFilters(words); err != nil {
		return refusal("%s.", slackapp.Escape(err.Error())), nil
	}
	if len(sub.Filters.Translate) > 0 && i.translate == nil {
		return refusal("Translation is off in this workspace, so `translate:` can't be used; nothing was added. Staff switch it on with TOWNHALL_TRANSLATE_ENABLED."), nil
	}
	sub.Channels, sub.AddedBy, sub.AddedAt = []string{channel}, r.UserID, i.now()

	subs, err := i.subscriptions(ctx)
	if err != nil {
		return slackapp.Message{}, err
	}
	// Check the source before storing anything.
	var note string
	var xUser xapi.User
	switch sub.Kind {
	case KindX:
		if i.x == nil {
			return refusal("X accounts can't be followed yet: the operator must set TOWNHALL_FEEDS_X_BEARER_TOKEN (an X API bearer token). RSS and Atom feeds work without it."), nil
		}
		xctx, cancel := context.WithTimeout(ctx, i.cfg.FetchTimeout)
		u, err := i.x.UserByUsername(xctx, sub.Source)
		cancel()
		switch {
		case errors.Is(err, xapi.ErrNotFound):
			return refusal("I couldn't find the X account @%s. Check the spelling (no spaces; letters, digits and _).", slackapp.Escape(sub.Source)), nil
		case err != nil:
			i.noteRateLimit(err, xapi.RateLimit{})
			i.log.WarnContext(ctx, "look up X account for /feed add", "command", Command, "error", err)
			return refusal("X didn't answer just now (%s); nothing was added. Please try again later.", slackapp.Escape(shortError(err))), nil
		}
		sub.Source, xUser = u.Username, u // X's own capitalisation
	default:
		feedURL, msg := i.checkFeed(ctx, sub.Source)
		if msg != nil {
			return *msg, nil
		}
		if feedURL != sub.Source {
			note = fmt.Sprintf(" (the feed %s advertises)", feedAddress(feedURL))
		}
		sub.Source = feedURL
	}
	for _, s := range subs {
		if s.Kind == sub.Kind && strings.EqualFold(s.Source, sub.Source) && containsChannel(s, channel) {
			return refusal("<#%s> already follows %s (subscription `%s`).", channel, slackapp.Escape(s.Label()), s.ID), nil
		}
	}
	sub, err = i.add(ctx, sub)
	if err != nil {
		return slackapp.Message{}, err
	}
	if xUser.ID != "" { // spare the first poll a second lookup
		if err := i.saveState(ctx, sub.ID, state{XUser: xUser}); err != nil {
			i.log.WarnContext(ctx, "save looked-up X account", "subscription", sub.ID, "error", err)
		}
	}
	i.log.InfoContext(ctx, "subscription added", "command", Command, "subscription", sub.ID, "source", sub.Label(), "channel", channel)

	text := fmt.Sprintf("✅ Added `%s`: new items from %s%s will be posted in <#%s>", sub.ID, slackapp.Escape(sub.Label()), note, channel)
	if f := sub.Filters.String(); f != "" {
		text += " (" + slackapp.Escape(f) + ")"
	}
	text += "."
	// The first poll runs now, so the channel sees the latest item at once.
	if err := i.Poll(ctx, sub); err != nil {
		text += " The first check failed (" + slackapp.Escape(shortError(err)) + "); I'll keep retrying and `/townhall status` shows how it goes."
	} else if i.cfg.Backfill > 0 {
		text += fmt.Sprintf(" The latest %s posted now; older ones are skipped.", plural(i.cfg.Backfill, "item is", "items are"))
	}
	return slackapp.Message{Text: text}, nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// checkFeed fetches u and checks that it is a feed. A web page that
// advertises a feed is followed to it. msg is the refusal to show when u
// will not do.
func (i *Integration) checkFeed(ctx context.Context, u string) (feedURL string, msg *slackapp.Message) {
	for range 2 { // the URL, then the feed a page advertises
		fctx, cancel := context.WithTimeout(ctx, i.cfg.FetchTimeout)
		got, err := i.fetch.get(fctx, u, "", "")
		cancel()
		if err != nil {
			i.log.InfoContext(ctx, "feed add: fetch failed", "command", Command, "source", redactURL(u), "error", err, "cause", errorCause(err))
			m := refusal("I couldn't fetch %s (%s); nothing was added.", feedAddress(u), slackapp.Escape(shortError(err)))
			return "", &m
		}
		f, alts, err := parseFeed(got.body, got.finalURL)
		switch {
		case err == nil && f != nil:
			return u, nil
		case errors.Is(err, errNotFeed) && len(alts) > 0 && alts[0] != u:
			u = alts[0]
			continue
		case errors.Is(err, errNotFeed):
			m := refusal("%s is a web page or another document, not an RSS, Atom or JSON feed, and it links to none. Look for an RSS or Atom link on the site; for Mastodon use `https://&lt;instance&gt;/@&lt;user&gt;.rss`, for Bluesky `https://bsky.app/profile/&lt;handle&gt;/rss`.", feedAddress(u))
			return "", &m
		default:
			m := refusal("%s looks like a feed but I can't read it (%s); nothing was added.", feedAddress(u), slackapp.Escape(shortError(err)))
			return "", &m
		}
	}
	m := refusal("%s points to a page that points to another page, not to a feed; nothing was added.", feedAddress(u))
	return "", &m
}

// shortError is an error for users: the HTTP status or the last part of
// the chain, without URLs repeated.
func shortError(err error) string {
	var fe *fetchError
	if errors.As(err, &fe) {
		if fe.Status != 0 {
			return fmt.Sprintf("HTTP %d %s", fe.Status, http.StatusText(fe.Status))
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return "it took too long to answer"
		}
		if fe.Unreachable {
			return unreachable
		}
	}
	var ae *xapi.APIError
	if errors.As(err, &ae) {
		return ae.Error()
	}
	var rle *xapi.RateLimitError
	if errors.As(err, &rle) {
		return "X rate limit reached"
	}
	s := err.Error()
	if k := strings.LastIndex(s, ": "); k >= 0 && len(s)-k > 8 {
		s = s[k+2:]
	}
	return truncate(s, 160)
}

func containsChannel(s Subscription, ch string) bool {
	for _, c := range s.Channels {
		if c == ch {
			return true
		}
	}
	return false
}

func (i *Integration) cmdRemove(ctx context.Context, words []string) (slackapp.Message, error) {
	if len(words) != 1 {
		return refusal("Usage: `%s remove &lt;id&gt;`; `%s list` shows the ids.", Command, Command), nil
	}
	id := strings.Trim(words[0], "`")
	for _, s := range i.envSubs {
		if s.ID == id {
			return refusal("`%s` (%s) comes from the server's configuration (TOWNHALL_FEEDS_SOURCES), so it can't be removed from Slack: ask the operator to remove it there.", s.ID, slackapp.Escape(s.Label())), nil
		}
	}
	sub, ok, err := i.remove(ctx, id)
	if err != nil {
		return slackapp.Message{}, err
	}
	if !ok {
		return refusal("There is no subscription `%s`; `%s list all` shows them all.", slackapp.Escape(id), Command), nil
	}
	i.log.InfoContext(ctx, "subscription removed", "command", Command, "subscription", sub.ID, "source", sub.Label())
	return slackapp.Message{Text: fmt.Sprintf("🗑 Removed `%s`: %s is no longer posted in %s.", sub.ID, slackapp.Escape(sub.Label()), channelList(sub.Channels))}, nil
}

func channelList(chs []string) string {
	var out []string
	for _, c := range chs {
		if strings.HasPrefix(c, "#") {
			out = append(out, slackapp.Escape(c))
		} else {
			out = append(out, "<#"+c+">")
		}
	}
	return strings.Join(out, ", ")
}

func (i *Integration) cmdList(ctx context.Context, r *slackapp.Request, words []string) (slackapp.Message, error) {
	all := len(words) > 0 && strings.EqualFold(words[0], "all")
	subs, err := i.subscriptions(ctx)
	if err != nil {
		return slackapp.Message{}, err
	}
	var lines []string
	for _, s := range subs {
		if !all {
			match := containsChannel(s, r.ChannelID)
			if !match {
				// "#name" channels: the runtime's directory answers from
				// its cache; a name it cannot resolve matches nothing.
				for _, c := range s.Channels {
					if id, err := i.resolveChannel(ctx, c); err == nil && id == r.ChannelID {
						match = true
						break
					}
				}
			}
			if !match {
				continue
			}
		}
		lines = append(lines, i.listLine(s, all))
	}
	title := "*Feeds posted in this channel*"
	if all {
		title = "*Every feed subscription*"
	}
	if len(lines) == 0 {
		if all {
			return slackapp.Message{Text: "No feeds are followed yet. Staff can add one with `" + Command + " add &lt;url | @handle&gt; [#channel]`."}, nil
		}
		return slackapp.Message{Text: "This channel follows no feeds. `" + Command + " list all` shows every subscription."}, nil
	}
	const maxLines = 40 // a section holds 3000 characters; ephemeral messages 50 blocks
	var blocks []slack.Block
	blocks = append(blocks, slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, title, false, false), nil, nil))
	for k := 0; k < len(lines) && k < maxLines; k += 10 {
		end := min(k+10, len(lines), maxLines)
		blocks = append(blocks, slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, strings.Join(lines[k:end], "\n"), false, true), nil, nil))
	}
	if len(lines) > maxLines {
		blocks = append(blocks, slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, fmt.Sprintf("…and %d more.", len(lines)-maxLines), false, false)))
	}
	return slackapp.Message{Text: title + "\n" + strings.Join(lines[:min(len(lines), maxLines)], "\n"), Blocks: blocks}, nil
}

// listLine describes a subscription: id, source, where, filters, origin,
// and trouble if any.
func (i *Integration) listLine(s Subscription, withChannels bool) string {
	src := slackapp.Escape(s.Label())
	if s.Kind == KindFeed {
		src = feedAddress(s.Source)
	}
	line := "• `" + s.ID + "` " + src
	if withChannels {
		line += " → " + channelList(s.Channels)
	}
	if f := s.Filters.String(); f != "" {
		line += " · " + slackapp.Escape(f)
	}
	if s.FromEnv {
		line += " · _from configuration_"
	} else if s.AddedBy != "" {
		line += " · added by <@" + s.AddedBy + "> " + s.AddedAt.In(i.loc).Format("Jan 2")
	}
	if h := i.healthOf(s.ID); h.failures > 0 {
		line += " · ⚠️ failing"
	}
	return line
}

// feedAddress shows a feed's address in Slack: a link if it carries no
// credentials, else the redacted address as text (a link to it would not
// work, and the real one must not be shown).
func feedAddress(u string) string {
	if hasSecrets(u) {
		return "`" + slackapp.Escape(strings.ReplaceAll(redactURL(u), "`", "'")) + "`"
	}
	if l := link(u, ""); l != "" {
		return l
	}
	return slackapp.Escape(u)
}

// when formats a time for status lines.
func (i *Integration) when(t time.Time) string {
	t = t.In(i.loc)
	ny, nm, nd := i.now().In(i.loc).Date()
	if y, m, d := t.Date(); y == ny && m == nm && d == nd {
		return t.Format("15:04")
	}
	return t.Format("Jan 2 15:04")
}
