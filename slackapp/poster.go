package slackapp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/slack-go/slack"
)

// Pacing and retry defaults. Slack allows about one chat.postMessage per
// second per channel, with short bursts, and several hundred per minute per
// workspace (https://api.slack.com/methods/chat.postMessage#rate_limiting,
// https://api.slack.com/apis/rate-limits).
const (
	defaultChannelInterval   = time.Second
	defaultWorkspaceInterval = 100 * time.Millisecond
	defaultMaxAttempts       = 5
	defaultRetryBase         = 500 * time.Millisecond
	maxRetryWait             = 30 * time.Second
)

// permanentErrors are Slack error codes that no retry can fix; the send is
// reported once and given up. Codes come from the chat.postMessage,
// chat.postEphemeral and chat.update method pages.
var permanentErrors = map[string]string{
	"channel_not_found":           "the channel does not exist or the bot cannot see it",
	"not_in_channel":              "the bot is not a member of the channel; invite it with /invite @townhall",
	"is_archived":                 "the channel is archived",
	"msg_too_long":                "the message is too long",
	"no_text":                     "the message has no text",
	"invalid_blocks":              "the message's blocks are invalid",
	"invalid_blocks_format":       "the message's blocks are malformed",
	"restricted_action":           "a workspace preference prevents the bot from posting there",
	"user_not_in_channel":         "the user is not in the channel",
	"cannot_dm_bot":               "bots cannot be sent direct messages",
	"message_not_found":           "the message to update no longer exists",
	"cant_update_message":         "the message cannot be updated by the bot",
	"edit_window_closed":          "the message can no longer be edited",
	"invalid_auth":                "the bot token is invalid",
	"not_authed":                  "no bot token was sent",
	"token_revoked":               "the bot token was revoked",
	"account_inactive":            "the bot token belongs to a deleted user or workspace",
	"missing_scope":               "the bot token lacks a scope this needs; reinstall the app from manifest.yaml",
	"team_access_not_granted":     "the bot has no access to that workspace",
	"ekm_access_denied":           "administrators have suspended posting",
	"too_many_attachments":        "the message has too many attachments",
	"duplicate_channel_not_found": "the channel does not exist",
}

// Poster is the one way the app sends messages to channels. It paces posts
// per channel and across the workspace, honours 429 Retry-After, retries
// transient failures with backoff, joins public channels it was not in,
// and reports permanent failures once, clearly. It is safe for concurrent
// use.
type Poster struct {
	api         *slack.Client
	log         *slog.Logger
	m           *metrics
	now         func() time.Time
	channelGap  time.Duration
	globalGap   time.Duration
	maxAttempts int
	retryBase   time.Duration

	mu         sync.Mutex
	next       map[string]time.Time // channel → earliest next post
	globalNext time.Time
	reported   map[string]bool // "channel/code" already logged at error level
}

// PosterOptions tune a Poster; zero values take the defaults above.
type PosterOptions struct {
	ChannelInterval   time.Duration
	WorkspaceInterval time.Duration
	MaxAttempts       int
	RetryBase         time.Duration
}

func newPoster(api *slack.Client, log *slog.Logger, m *metrics, o PosterOptions) *Poster {
	p := &Poster{
		api: api, log: log, m: m, now: time.Now,
		channelGap: o.ChannelInterval, globalGap: o.WorkspaceInterval,
		maxAttempts: o.MaxAttempts, retryBase: o.RetryBase,
		next: make(map[string]time.Time), reported: make(map[string]bool),
	}
	if p.channelGap <= 0 {
		p.channelGap = defaultChannelInterval
	}
	if p.globalGap <= 0 {
		p.globalGap = defaultWorkspaceInterval
	}
	if p.maxAttempts <= 0 {
		p.maxAttempts = defaultMaxAttempts
	}
	if p.retryBase <= 0 {
		p.retryBase = defaultRetryBase
	}
	return p
}

// Post sends m to channel (in m.ThreadTS's thread when set) and returns the
// new message's timestamp. The error is a *SendError; Permanent(err) tells
// whether trying again later could help.
func (p *Poster) Post(ctx context.Context, channel string, m Message) (ts string, err error) {
	opts := msgOptions(m)
	err = p.send(ctx, "chat.postMessage", channel, true, func(ctx context.Context) error {
		_, ts, err = p.api.PostMessageContext(ctx, channel, opts...)
		return err
	})
	return ts, err
}

// Ephemeral shows m to user only, in channel.
func (p *Poster) Ephemeral(ctx context.Context, channel, user string, m Message) error {
	opts := msgOptions(m)
	return p.send(ctx, "chat.postEphemeral", channel, false, func(ctx context.Context) error {
		_, err := p.api.PostEphemeralContext(ctx, channel, user, opts...)
		return err
	})
}

// Update replaces the message at ts in channel with m.
func (p *Poster) Update(ctx context.Context, channel, ts string, m Message) error {
	opts := msgOptions(m)
	return p.send(ctx, "chat.update", channel, false, func(ctx context.Context) error {
		_, _, _, err := p.api.UpdateMessageContext(ctx, channel, ts, opts...)
		return err
	})
}

func msgOptions(m Message) []slack.MsgOption {
	opts := []slack.MsgOption{slack.MsgOptionText(m.Text, false)}
	if len(m.Blocks) > 0 {
		opts = append(opts, slack.MsgOptionBlocks(m.Blocks...))
	}
	if m.ThreadTS != "" {
		opts = append(opts, slack.MsgOptionTS(m.ThreadTS))
	}
	return opts
}

// SendError is a send that did not succeed. Code is Slack's error code when
// Slack gave one.
type SendError struct {
	Method    string
	Channel   string
	Code      string
	Permanent bool
	Err       error
}

func (e *SendError) Error() string {
	kind := "gave up"
	if e.Permanent {
		kind = "refused"
	}
	return fmt.Sprintf("slack %s to %s %s: %v", e.Method, e.Channel, kind, e.Err)
}

func (e *SendError) Unwrap() error { return e.Err }

// Permanent reports whether err is a send Slack refused for good (such as
// channel_not_found), which no retry would fix.
func Permanent(err error) bool {
	var se *SendError
	return errors.As(err, &se) && se.Permanent
}

// send runs attempt with pacing (paced: chat.postMessage only) and the retry
// policy: Retry-After on 429, exponential backoff with jitter on transient
// failures, one conversations.join on not_in_channel, nothing on permanent
// errors.
func (p *Poster) send(ctx context.Context, method, channel string, paced bool, attempt func(context.Context) error) error {
	joined := false
	for n := 1; ; n++ {
		if paced {
			if err := p.wait(ctx, p.reserve(channel)); err != nil {
				return p.fail(method, channel, "", false, err)
			}
		}
		err := attempt(ctx)
		if err == nil {
			p.m.posts.WithLabelValues(method, "ok").Inc()
			return nil
		}
		code, wait, retry := classify(err)
		if code == "not_in_channel" && method == "chat.postMessage" && !joined {
			joined = true
			if _, _, _, jerr := p.api.JoinConversationContext(ctx, channel); jerr == nil {
				p.m.retries.WithLabelValues(method, "joined").Inc()
				p.log.Info("joined channel to post", "channel", channel)
				n--
				continue
			} else {
				p.log.Debug("joining channel failed", "channel", channel, "error", jerr)
			}
		}
		if !retry {
			return p.fail(method, channel, code, true, err)
		}
		if n >= p.maxAttempts {
			return p.fail(method, channel, code, false, fmt.Errorf("after %d attempts: %w", n, err))
		}
		reason := "transient"
		if wait == 0 {
			wait = p.backoff(n)
		} else {
			reason = "ratelimited"
		}
		p.m.retries.WithLabelValues(method, reason).Inc()
		p.log.Warn("slack send failed, retrying", "method", method, "channel", channel,
			"attempt", n, "retry_in", wait, "error", err)
		if err := p.wait(ctx, wait); err != nil {
			return p.fail(method, channel, code, false, err)
		}
	}
}

func (p *Poster) fail(method, channel, code string, permanent bool, err error) error {
	outcome := "failed"
	if permanent {
		outcome = "permanent"
	}
	p.m.posts.WithLabelValues(method, outcome).Inc()
	se := &SendError{Method: method, Channel: channel, Code: code, Permanent: permanent, Err: err}
	if !permanent {
		return se
	}
	key := channel + "/" + code
	p.mu.Lock()
	first := !p.reported[key]
	p.reported[key] = true
	p.mu.Unlock()
	level := slog.LevelDebug
	if first {
		level = slog.LevelError
	}
	p.log.Log(context.Background(), level, "slack refused a message", "method", method,
		"channel", channel, "error", code, "meaning", permanentErrors[code])
	return se
}

// classify says whether err is worth retrying and how long Slack asked us
// to wait (0: use backoff).
func classify(err error) (code string, wait time.Duration, retry bool) {
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		return "ratelimited", max(rl.RetryAfter, time.Second), true
	}
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		_, permanent := permanentErrors[se.Err]
		return se.Err, 0, !permanent
	}
	var sc slack.StatusCodeError
	if errors.As(err, &sc) {
		// 5xx and 408 are Slack's trouble; other 4xx are ours (a used-up
		// response URL answers 404).
		return http.StatusText(sc.Code), 0, sc.Code >= 500 || sc.Code == http.StatusRequestTimeout
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return "", 0, false
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return "network", 0, true
	}
	// Unknown errors (a connection reset surfaced as *url.Error wrapping
	// io.EOF, for instance) are treated as transient: the attempt bound
	// keeps this finite.
	return "", 0, true
}

func (p *Poster) backoff(attempt int) time.Duration {
	d := p.retryBase << (attempt - 1)
	if d > maxRetryWait || d <= 0 {
		d = maxRetryWait
	}
	// Full jitter in [d/2, d): spreads retries of many posts apart.
	return d/2 + rand.N(d/2+1)
}

// reserve books the next slot for channel under both the per-channel and
// the workspace-wide pace and returns how long to wait for it.
func (p *Poster) reserve(channel string) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	at := now
	if t := p.next[channel]; t.After(at) {
		at = t
	}
	if p.globalNext.After(at) {
		at = p.globalNext
	}
	p.next[channel] = at.Add(p.channelGap)
	p.globalNext = at.Add(p.globalGap)
	if len(p.next) > 4096 {
		for ch, t := range p.next {
			if t.Before(now) {
				delete(p.next, ch)
			}
		}
	}
	return at.Sub(now)
}

func (p *Poster) wait(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
