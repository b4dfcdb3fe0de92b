// Package digest posts channel activity digests: per channel, on a
// schedule (TOWNHALL_DIGEST_SCHEDULE) or when staff ask with
// /townhall digest, the period's busiest threads (by replies and
// reactions), each with its first line, its counts and a link (to the web
// archive's page when there is one, else Slack's permalink), the new
// members, and how many messages and people there were. A quiet channel
// (fewer than TOWNHALL_DIGEST_MIN_MESSAGES messages by people) gets none.
// There is no AI summary: counts and first lines only.
//
// It reads a Source: the archive when it is on (cmd/townhall adapts it, as
// an integration never imports another), else Slack's Web API. A scheduled
// digest is claimed in the store per channel and period before it is
// posted, so it is posted once across restarts and replicas.
//
// It imports integrations, slackapp, scheduler and store; it must never
// import another integration or cmd/townhall.
package digest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/townhall/townhall/integrations"
	"github.com/townhall/townhall/scheduler"
	"github.com/townhall/townhall/slackapp"
	"github.com/townhall/townhall/store"
)

// Poster posts a message to a channel (slackapp's Poster).
type Poster interface {
	Post(ctx context.Context, channel string, m slackapp.Message) (string, error)
}

// Deps are the capabilities the digest uses. Poster, Claims, API and
// ResolveChannel are required; every other field may be left zero.
type Deps struct {
	Poster Poster
	Claims store.Claims
	// API is the bot-token Web API client (rt.API()): channel names,
	// permalinks, and the Web API source.
	API *slack.Client
	// ResolveChannel turns "#name" or an ID into a channel ID
	// (rt.ResolveChannel).
	ResolveChannel func(ctx context.Context, ref string) (string, error)
	// Source is where messages are read; nil reads Slack's Web API
	// (NewAPISource) at APIPace.
	Source Source
	// SourceName says what Source is, for status ("the archive").
	SourceName string
	// APIPace spaces the Web API source's calls; zero is 1.2s.
	APIPace time.Duration
	// ArchiveURL returns the web archive's page of a channel's message
	// (TOWNHALL_ARCHIVE_BASE_URL/c/<channel>/p<tsdigits>), or "" when the
	// channel has none there; nil or "" links to Slack's permalink.
	ArchiveURL func(channelName, ts string) string
	// BotUserID is the app's own user ID (rt.BotUserID), so its posts are
	// not ranked among the threads; nil ranks them like any other.
	BotUserID func() string
	// Logger receives the integration's logs; nil discards them.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Location is the community's time zone (TOWNHALL_TIMEZONE), for the
	// dates in a digest; nil means UTC.
	Location *time.Location
}

// defaultAPIPace keeps conversations.history and conversations.replies
// under Tier 3's 50 calls a minute
// (https://docs.slack.dev/reference/methods/conversations.history).
const defaultAPIPace = 1200 * time.Millisecond

// JobName is the scheduled digest's job.
const JobName = "digest.post"

// claimLease is how long a channel's digest claim holds before a crashed
// holder's digest may be claimed again.
const claimLease = 10 * time.Minute

// Integration posts digests. It is safe for concurrent use.
type Integration struct {
	cfg  Config
	d    Deps
	src  Source
	log  *slog.Logger
	now  func() time.Time
	loc  *time.Location
	self func() string
}

var (
	_ integrations.Integration  = (*Integration)(nil)
	_ integrations.Subcommander = (*Integration)(nil)
	_ integrations.Reporter     = (*Integration)(nil)
)

// New checks cfg and builds the integration.
func New(cfg Config, d Deps) (*Integration, error) {
	if err := cfg.check(); err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	if d.Poster == nil || d.Claims == nil || d.API == nil || d.ResolveChannel == nil {
		return nil, fmt.Errorf("%s: Deps.Poster, Deps.Claims, Deps.API and Deps.ResolveChannel are required", Name)
	}
	i := &Integration{cfg: cfg, d: d, src: d.Source, log: d.Logger, now: d.Now, loc: d.Location, self: d.BotUserID}
	if i.src == nil {
		pace := d.APIPace
		if pace == 0 {
			pace = defaultAPIPace
		}
		i.src = NewAPISource(d.API, pace)
		i.d.SourceName = "Slack's message history (the archive is off)"
	}
	if i.log == nil {
		i.log = slog.New(slog.DiscardHandler)
	}
	i.log = i.log.With("integration", Name)
	if i.now == nil {
		i.now = time.Now
	}
	if i.loc == nil {
		i.loc = time.UTC
	}
	if i.self == nil {
		i.self = func() string { return "" }
	}
	return i, nil
}

// Name implements integrations.Integration.
func (i *Integration) Name() string { return Name }

// Handlers implements integrations.Integration: the digest answers only
// its /townhall subcommand.
func (i *Integration) Handlers() slackapp.Handlers { return slackapp.Handlers{} }

// Jobs implements integrations.Integration: the scheduled digests, when
// TOWNHALL_DIGEST_SCHEDULE is set.
func (i *Integration) Jobs() []scheduler.Job {
	if i.cfg.Schedule == "" {
		return nil
	}
	return []scheduler.Job{{Name: JobName, Spec: i.cfg.Schedule, Run: i.run}}
}

// Subcommands implements integrations.Subcommander.
func (i *Integration) Subcommands() []integrations.Subcommand {
	return []integrations.Subcommand{{
		Name: "digest", Usage: "[#channel] [post]", Staff: true,
		Summary: "Preview a channel's activity digest (only you see it); add post to post it there",
		Handler: slackapp.HandlerFunc(i.command),
	}}
}

// Status implements integrations.Reporter.
func (i *Integration) Status(context.Context) []string {
	which := "every channel I'm in"
	if len(i.cfg.Channels) > 0 {
		which = slackapp.Escape(strings.Join(i.cfg.Channels, ", "))
	}
	sched := "no schedule: staff post them with `/townhall digest`"
	if i.cfg.Schedule != "" {
		sched = "`" + slackapp.Escape(i.cfg.Schedule) + "`"
	}
	return []string{fmt.Sprintf("Digests of the last %d days for %s, %s; read from %s.",
		i.cfg.Days, which, sched, slackapp.Escape(i.d.SourceName))}
}

// period is the digest period that ends at end.
func (i *Integration) period(end time.Time) (since, before time.Time) {
	end = end.In(i.loc)
	return end.AddDate(0, 0, -i.cfg.Days), end
}

// run is the scheduled job: a digest for each channel, for the period
// ending at the occurrence's time. One failing channel does not stop the
// others.
func (i *Integration) run(ctx context.Context, at time.Time) error {
	chans, explicit, err := i.channels(ctx)
	errs := []error{err} // a channel not found does not hold up the others
	for _, ch := range chans {
		if err := i.scheduled(ctx, ch, explicit, at); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// channels returns the IDs of the channels that get a scheduled digest,
// and whether staff named them (TOWNHALL_DIGEST_CHANNELS).
func (i *Integration) channels(ctx context.Context) ([]string, bool, error) {
	if len(i.cfg.Channels) == 0 {
		cs, err := i.src.Channels(ctx)
		if err != nil {
			return nil, false, err
		}
		ids := make([]string, len(cs))
		for n, c := range cs {
			ids[n] = c.ID
		}
		return ids, false, nil
	}
	var ids []string
	var errs []error
	for _, ref := range i.cfg.Channels {
		id, err := i.d.ResolveChannel(ctx, ref)
		if err != nil {
			errs = append(errs, fmt.Errorf("digest: TOWNHALL_DIGEST_CHANNELS %s: %w", ref, err))
			continue
		}
		ids = append(ids, id)
	}
	return ids, true, errors.Join(errs...)
}

// claimKey names a channel's digest for the period ending at end.
func claimKey(channel string, end time.Time) string {
	return fmt.Sprintf("digest/%s/%d", channel, end.Unix())
}

// scheduled claims, builds and posts one channel's digest for the period
// ending at end. A quiet channel's claim is confirmed with nothing posted;
// a permanent refusal (channel_not_found, is_archived…) confirms it too,
// since retrying cannot help; any other failure releases it for the
// scheduler's next attempt. A channel the app is not in is skipped unless
// staff named it (the poster then joins it, if it is public).
func (i *Integration) scheduled(ctx context.Context, channel string, explicit bool, end time.Time) error {
	key := claimKey(channel, end)
	ok, err := i.d.Claims.Claim(ctx, key, claimLease)
	if err != nil {
		return fmt.Errorf("digest: claim %s: %w", channel, err)
	}
	if !ok {
		return nil // posted already, or being posted by another replica
	}
	log := i.log.With("channel", channel)
	since, before := i.period(end)
	rep, info, _, err := i.compose(ctx, channel, since, before)
	if err == nil && !explicit && !info.IsMember {
		log.InfoContext(ctx, "digest skipped: not a member of the channel")
		return i.confirm(ctx, key)
	}
	if err == nil && rep == nil {
		log.InfoContext(ctx, "digest skipped: the channel was quiet")
		return i.confirm(ctx, key)
	}
	if err == nil {
		_, err = i.d.Poster.Post(ctx, channel, rep.message())
		if err == nil {
			log.InfoContext(ctx, "digest posted", "messages", rep.messages, "threads", len(rep.threads))
			return i.confirm(ctx, key)
		}
		if slackapp.Permanent(err) {
			return errors.Join(fmt.Errorf("digest: post to %s (not retried): %w", channel, err), i.confirm(ctx, key))
		}
	}
	// Released with a fresh context: ctx may be why this failed.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if rerr := i.d.Claims.Release(rctx, key); rerr != nil {
		err = errors.Join(err, fmt.Errorf("release claim: %w", rerr))
	}
	return fmt.Errorf("digest: %s: %w", channel, err)
}

// confirm marks a claim done, even if ctx was cancelled after the post.
func (i *Integration) confirm(ctx context.Context, key string) error {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := i.d.Claims.Confirm(cctx, key); err != nil {
		return fmt.Errorf("digest: confirm: %w", err)
	}
	return nil
}

// compose reads a channel's period and makes its digest: nil when the
// channel was quiet, with how many messages by people it had. info is
// conversations.info's answer.
func (i *Integration) compose(ctx context.Context, channel string, since, before time.Time) (rep *report, info *slack.Channel, messages int, err error) {
	info, err = i.d.API.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: channel})
	if err != nil {
		return nil, nil, 0, fmt.Errorf("conversations.info: %w", err)
	}
	ms, err := i.src.Messages(ctx, channel, since, before)
	if err != nil {
		return nil, info, 0, err
	}
	t := count(ms, since, before, i.cfg.Threads, i.self())
	if t.messages < i.cfg.MinMessages {
		return nil, info, t.messages, nil
	}
	rep = &report{channel: Channel{ID: channel, Name: info.Name}, since: since, before: before, days: i.cfg.Days,
		messages: t.messages, people: t.people}
	names := func(id string) string {
		name, _, err := i.src.UserName(ctx, id)
		if err != nil {
			i.log.DebugContext(ctx, "digest: user not looked up", "user", id, "error", err)
		}
		return name
	}
	for _, th := range t.threads {
		rep.threads = append(rep.threads, shownThread{
			line: quoteLine(th.parent.Text, names), link: i.link(ctx, channel, info.Name, th.parent.TS),
			replies: th.replies, reactions: th.reactions,
		})
	}
	for _, u := range t.joined {
		if u == i.self() {
			continue
		}
		name, bot, err := i.src.UserName(ctx, u)
		switch {
		case err != nil:
			i.log.DebugContext(ctx, "digest: new member not looked up", "user", u, "error", err)
			rep.moreMembers++
		case bot:
		case name == "" || len(rep.members) >= maxMembersNamed:
			rep.moreMembers++
		default:
			rep.members = append(rep.members, slackapp.Escape(name))
		}
	}
	return rep, info, t.messages, nil
}

// link is where a thread's "Open thread" goes: its page in the web
// archive, else Slack's permalink; "" when neither could be had.
func (i *Integration) link(ctx context.Context, channel, name, ts string) string {
	if i.d.ArchiveURL != nil {
		if u := i.d.ArchiveURL(name, ts); u != "" {
			return u
		}
	}
	u, err := i.d.API.GetPermalinkContext(ctx, &slack.PermalinkParameters{Channel: channel, Ts: ts})
	if err != nil {
		i.log.WarnContext(ctx, "digest: no permalink", "channel", channel, "error", err)
		return ""
	}
	return u
}
