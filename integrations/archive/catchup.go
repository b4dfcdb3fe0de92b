package archive

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/slack-go/slack"
)

// Lease is what catch-up needs of the store's claims: a lease on a key
// that one holder at a time can take (store.Store satisfies it).
type Lease interface {
	// Claim reports whether the caller now holds key for lease; false
	// while another holds it.
	Claim(ctx context.Context, key string, lease time.Duration) (bool, error)
	// Release gives key up so another may take it at once.
	Release(ctx context.Context, key string) error
}

const (
	// CatchUpLeaseKey is the claim under which one replica catches up.
	CatchUpLeaseKey = "archive:catchup"
	// catchUpLease bounds how long a replica that died mid-catch-up keeps
	// the others from catching up. A catch-up that runs longer only lets
	// a second one start, which is harmless: archiving is idempotent.
	catchUpLease = 30 * time.Minute
)

// CatchUp archives what was said while the app was not listening: for
// every public channel the app is in, conversations.history since a little
// before the newest archived message (CatchUpLookback), and
// conversations.replies for threads with replies since then. Calls are
// paced (APIPace) and a 429 is waited out. Only one catch-up runs at a
// time; a second call while one runs returns at once. With a Lease, that
// holds across replicas: while another replica catches up, CatchUp
// returns nil at once, as that one archives the same channels.
func (i *Integration) CatchUp(ctx context.Context) error {
	if !i.catchingUp.TryLock() {
		return nil
	}
	defer i.catchingUp.Unlock()
	if l := i.d.Lease; l != nil {
		ok, err := l.Claim(ctx, CatchUpLeaseKey, catchUpLease)
		if err != nil {
			return fmt.Errorf("archive: catch-up: take the lease: %w", err)
		}
		if !ok {
			i.log.Info("archive catch-up skipped: another replica is catching up")
			return nil
		}
		defer func() {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := l.Release(rctx, CatchUpLeaseKey); err != nil {
				i.log.Warn("archive catch-up lease not released; it expires by itself", "error", err)
			}
		}()
	}
	channels, err := i.memberChannels(ctx)
	if err != nil {
		return fmt.Errorf("archive: catch-up: %w", err)
	}
	var errs []error
	total := 0
	for _, ch := range channels {
		n, err := i.catchUpChannel(ctx, ch)
		total += n
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			errs = append(errs, fmt.Errorf("#%s: %w", ch.Name, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("archive: catch-up: %w", err)
	}
	i.keepAvatarsCaughtUp(ctx) // files_keep.go
	i.log.Info("archive caught up", "channels", len(channels), "messages", total)
	return i.a.SetState(ctx, StateLastCatchUp, i.now().UTC().Format(time.RFC3339))
}

// memberChannels lists the public channels the app is in, storing their
// details.
func (i *Integration) memberChannels(ctx context.Context) ([]Channel, error) {
	var out []Channel
	cursor := ""
	for {
		var page []slack.Channel
		err := i.pace.Call(ctx, func() (err error) {
			page, cursor, err = i.api.GetConversationsContext(ctx, &slack.GetConversationsParameters{
				Cursor: cursor, ExcludeArchived: true, Limit: 200, Types: []string{"public_channel"},
			})
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("conversations.list: %w", err)
		}
		for k := range page {
			ch := &page[k]
			if !ch.IsMember || !isPublicChannel(ch) {
				continue
			}
			i.remember(ch.ID, true)
			c := channelOf(ch)
			if err := i.a.PutChannel(ctx, c); err != nil {
				return nil, err
			}
			out = append(out, c)
		}
		if cursor == "" {
			return out, nil
		}
	}
}

// catchUpChannel reads one channel's history since the newest archived
// message less the lookback, and the threads with replies in it.
func (i *Integration) catchUpChannel(ctx context.Context, ch Channel) (int, error) {
	stored, _, err := i.a.Channel(ctx, ch.ID)
	if err != nil {
		return 0, err
	}
	oldest := ""
	if stored.Last != "" {
		oldest = FormatTS(stored.Time().Add(-i.cfg.CatchUpLookback))
	}
	total := 0
	cursor := ""
	for {
		var resp *slack.GetConversationHistoryResponse
		err := i.pace.Call(ctx, func() (err error) {
			resp, err = i.api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{
				ChannelID: ch.ID, Cursor: cursor, Oldest: oldest, Inclusive: true, Limit: 200,
			})
			return err
		})
		if err != nil {
			return total, fmt.Errorf("conversations.history: %w", err)
		}
		batch := make([]Message, 0, len(resp.Messages))
		var threads []string
		for _, sm := range resp.Messages {
			m := FromSlack(ch.ID, sm.Msg)
			batch = append(batch, m)
			if sm.ReplyCount > 0 && (oldest == "" || sm.LatestReply >= oldest) {
				threads = append(threads, sm.Timestamp)
			}
		}
		n, err := i.a.PutMessages(ctx, batch)
		total += n
		if err == nil {
			err = i.keepCaughtUp(ctx, batch) // files_keep.go
		}
		if err != nil {
			return total, err
		}
		for _, ts := range threads {
			n, err := i.catchUpThread(ctx, ch.ID, ts, oldest)
			total += n
			if err != nil {
				return total, err
			}
		}
		cursor = resp.ResponseMetaData.NextCursor
		if !resp.HasMore || cursor == "" {
			break
		}
	}
	i.m.captured.WithLabelValues("catchup").Add(float64(total))
	return total, nil
}

func (i *Integration) catchUpThread(ctx context.Context, channel, ts, oldest string) (int, error) {
	total := 0
	cursor := ""
	for {
		var msgs []slack.Message
		var more bool
		err := i.pace.Call(ctx, func() (err error) {
			msgs, more, cursor, err = i.api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{
				ChannelID: channel, Timestamp: ts, Cursor: cursor, Oldest: oldest, Inclusive: true, Limit: 200,
			})
			return err
		})
		if err != nil {
			return total, fmt.Errorf("conversations.replies %s: %w", ts, err)
		}
		batch := make([]Message, 0, len(msgs))
		for _, sm := range msgs {
			batch = append(batch, FromSlack(channel, sm.Msg))
		}
		n, err := i.a.PutMessages(ctx, batch)
		total += n
		if err == nil {
			err = i.keepCaughtUp(ctx, batch)
		}
		if err != nil {
			return total, err
		}
		if !more || cursor == "" {
			return total, nil
		}
	}
}

// Time is the time of the channel's newest archived message (zero if none).
func (c Channel) Time() time.Time {
	if c.Last == "" {
		return time.Time{}
	}
	t, _ := ParseTS(c.Last)
	return t
}
