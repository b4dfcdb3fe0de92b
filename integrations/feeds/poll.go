package feeds

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/townhall/townhall/integrations/feeds/xapi"
	"github.com/townhall/townhall/slackapp"
)

// claimLease is how long a claimed item may stay unconfirmed before
// another poll may post it: longer than any post takes, even paced. (A
// store that records owners gives a dead replica's claims to the others
// sooner: store.WithOwner.)
const claimLease = 10 * time.Minute

// Backoff of a failing source: the first retry after backoffBase, doubling
// up to backoffMax. Polls in between skip the source.
const (
	backoffBase = time.Minute
	backoffMax  = 6 * time.Hour
)

// maxXPages bounds the pages of posts read in one poll of an account after
// an outage: with FEEDS_X_PAGE_SIZE=100, 300 posts.
const maxXPages = 3

// health is what status shows about a subscription; it lives in memory.
type health struct {
	lastCheck   time.Time
	lastSuccess time.Time
	failures    int // consecutive
	lastErr     string
	// failingSince is when the current run of failures began.
	failingSince time.Time
	retryAt      time.Time
	// paused says retryAt is the source's own Retry-After, not backoff.
	paused    bool
	malformed int // entries skipped in the last document
}

// PollAll polls every subscription of kind ("x" or "feed") that is not
// backing off, with at most Config.MaxConcurrent at once, and waits for
// them. It returns an error counting the sources that failed (each is
// described in status); one failing source never holds up the others.
func (i *Integration) PollAll(ctx context.Context, kind string) error {
	subs, err := i.subscriptions(ctx)
	if err != nil {
		return fmt.Errorf("%s: poll: %w", Name, err)
	}
	now := i.now()
	var due []Subscription
	for _, s := range subs {
		if s.Kind != kind {
			continue
		}
		if kind == KindX && (i.x == nil || now.Before(i.xPaused())) {
			continue
		}
		if h := i.healthOf(s.ID); now.Before(h.retryAt) {
			continue
		}
		due = append(due, s)
	}
	sem := make(chan struct{}, i.cfg.MaxConcurrent)
	var wg sync.WaitGroup
	var failed atomic.Int64
	for _, s := range due {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return ctx.Err()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if kind == KindX && i.now().Before(i.xPaused()) {
				return // another account hit the rate limit meanwhile
			}
			if err := i.Poll(ctx, s); err != nil {
				failed.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := failed.Load(); n > 0 {
		return fmt.Errorf("%s: %d of %d %s sources failed; /townhall status says which", Name, n, len(due), kind)
	}
	return nil
}

// Poll checks one subscription now and posts what is new. Its failure is
// recorded for status and backoff, and returned.
func (i *Integration) Poll(ctx context.Context, sub Subscription) error {
	lock := i.lockOf(sub.ID)
	lock.Lock()
	defer lock.Unlock()
	err := i.poll(ctx, sub)
	i.record(sub, err)
	if err != nil {
		i.m.polls.WithLabelValues(sub.Kind, "failed").Inc()
		i.log.WarnContext(ctx, "feed poll failed", "subscription", sub.ID, "source", sub.Label(), "error", err, "cause", errorCause(err))
	}
	return err
}

// batch is what one poll found to post.
type batch struct {
	items []Item // oldest first, filtered, at most MaxItems
	more  int    // items beyond those, not posted
	// moreAtLeast says more is a lower bound (X had further pages).
	moreAtLeast bool
	moreLink    string
	moreName    string
}

func (i *Integration) poll(ctx context.Context, sub Subscription) error {
	st, err := i.loadState(ctx, sub.ID)
	if err != nil {
		return err
	}
	start := i.now()
	var b batch
	var changed bool
	switch sub.Kind {
	case KindX:
		b, changed, err = i.pollX(ctx, sub, &st)
	default:
		b, changed, err = i.pollFeed(ctx, sub, &st)
	}
	i.m.fetch.WithLabelValues(sub.Kind).Observe(i.now().Sub(start).Seconds())
	if err != nil {
		return err
	}
	// Items held by another claim when they were due go first: they are
	// older than anything new.
	heldBefore := len(st.Held)
	heldErr := i.retryHeld(ctx, sub, &st)
	if !changed {
		i.m.polls.WithLabelValues(sub.Kind, "unchanged").Inc()
		if len(st.Held) != heldBefore {
			return errors.Join(heldErr, i.saveState(ctx, sub.ID, st))
		}
		return heldErr
	}
	i.m.polls.WithLabelValues(sub.Kind, "new").Inc()
	held, refused, err := i.deliver(ctx, sub, b)
	if err != nil {
		// The cursor stays where it was: the next poll fetches the same
		// items again, and the claims skip those already posted.
		return errors.Join(heldErr, err)
	}
	st.hold(held)
	if len(b.items) > 0 {
		st.LastItem = i.now()
	}
	// A channel that refuses for good does not hold the cursor back (no
	// retry would help), but it is reported.
	return errors.Join(heldErr, i.saveState(ctx, sub.ID, st), refused)
}

// heldItem is an item whose claim was held by someone else when it was
// due: posted already (its claim confirmed), or claimed by a process that
// died before posting it. The store cannot say which, and the cursor moves
// on, so the item is kept in the cursor and its claim tried again on
// later polls until its lease must have ended; a claim refused after that
// means it was posted.
type heldItem struct {
	Channel string    `json:"channel"`
	Item    Item      `json:"item"`
	Until   time.Time `json:"until"`
}

// maxHeld bounds the held items a cursor keeps; the oldest go first.
const maxHeld = 100

// hold keeps items whose claims were held, up to maxHeld.
func (st *state) hold(items []heldItem) {
	st.Held = append(st.Held, items...)
	if len(st.Held) > maxHeld {
		st.Held = st.Held[len(st.Held)-maxHeld:]
	}
}

// retryHeld tries the claims of st's held items again: an item whose
// claim is now free is posted (its holder died); one whose claim is still
// refused after its lease must have ended was posted, and is dropped.
func (i *Integration) retryHeld(ctx context.Context, sub Subscription, st *state) error {
	var keep []heldItem
	var errs []error
	for k, h := range st.Held {
		claimed, err := i.postItem(ctx, sub, claimPrefix(sub, h.Channel)+itemKey(h.Item.ID), h.Channel, h.Item)
		switch {
		case err != nil && (messageRefused(err) || slackapp.Permanent(err)):
			errs = append(errs, err) // no retry would help
		case err != nil:
			keep = append(keep, st.Held[k:]...) // Slack is down: try again later, in order
			st.Held = keep
			return errors.Join(append(errs, err)...)
		case claimed:
			i.log.InfoContext(ctx, "posted a feed item whose earlier claim expired unposted", "subscription", sub.ID, "channel", h.Channel, "item", h.Item.ID)
			i.m.posted.WithLabelValues(sub.Kind).Inc()
		case i.now().Before(h.Until):
			keep = append(keep, h)
		}
	}
	st.Held = keep
	return errors.Join(errs...)
}

// claimPrefix starts the claim keys of a subscription's items in a channel.
func claimPrefix(sub Subscription, ch string) string { return "feeds/" + sub.ID + "/" + ch + "/" }

// choose applies the filters, the first poll's backfill and the per-poll
// cap to fresh items (oldest first).
func (i *Integration) choose(sub Subscription, fresh []Item, first bool) batch {
	var b batch
	for _, it := range fresh {
		if sub.Filters.keep(&it) {
			b.items = append(b.items, it)
		}
	}
	limit := i.cfg.MaxItems
	if first {
		limit = i.cfg.Backfill
	}
	if len(b.items) > limit {
		if !first {
			b.more = len(b.items) - limit
		}
		b.items = b.items[len(b.items)-limit:]
	}
	return b
}

func (i *Integration) pollFeed(ctx context.Context, sub Subscription, st *state) (batch, bool, error) {
	fctx, cancel := context.WithTimeout(ctx, i.cfg.FetchTimeout)
	defer cancel()
	etag, lm := st.ETag, st.LastModified
	if !st.Started {
		etag, lm = "", ""
	}
	got, err := i.fetch.get(fctx, sub.Source, etag, lm)
	if err != nil {
		return batch{}, false, err
	}
	if got.notModified {
		return batch{}, false, nil
	}
	f, _, err := parseFeed(got.body, got.finalURL)
	if err != nil {
		return batch{}, false, fmt.Errorf("%s: %w", sub.Label(), err)
	}
	items, malformed := feedItems(f, got.finalURL)
	scrub(items, secretsOf(sub.Source))
	i.setMalformed(sub.ID, malformed)
	if malformed > 0 {
		i.log.WarnContext(ctx, "skipped malformed feed entries", "subscription", sub.ID, "source", sub.Label(), "count", malformed)
	}
	seen := make(map[string]bool, len(st.Seen))
	for _, id := range st.Seen {
		seen[id] = true
	}
	fresh := items
	if st.Started {
		fresh = slices.DeleteFunc(slices.Clone(items), func(it Item) bool { return seen[it.ID] })
	}
	b := i.choose(sub, fresh, !st.Started)
	if len(items) > 0 {
		b.moreName, b.moreLink = items[0].Author.Name, items[0].Author.URL
	}
	if b.moreLink == "" && !hasSecrets(sub.Source) {
		b.moreLink = httpLink(sub.Source) // a public feed's own address, at worst
	}
	ids := make([]string, 0, len(items))
	for _, it := range items {
		ids = append(ids, it.ID)
	}
	if len(ids) > maxSeen {
		ids = ids[len(ids)-maxSeen:]
	}
	st.Started, st.Seen, st.ETag, st.LastModified = true, ids, got.etag, got.lastModified
	return b, true, nil
}

func (i *Integration) pollX(ctx context.Context, sub Subscription, st *state) (batch, bool, error) {
	if i.x == nil {
		return batch{}, false, errors.New("X accounts need TOWNHALL_FEEDS_X_BEARER_TOKEN")
	}
	xctx, cancel := context.WithTimeout(ctx, i.cfg.FetchTimeout*maxXPages)
	defer cancel()
	if st.XUser.ID == "" {
		u, err := i.x.UserByUsername(xctx, sub.Source)
		if err != nil {
			i.noteRateLimit(err, xapi.RateLimit{})
			return batch{}, false, err
		}
		st.XUser = u
	}
	req := xapi.TweetsRequest{SinceID: st.SinceID, MaxResults: i.cfg.XPageSize,
		ExcludeReplies: !sub.Filters.Replies, ExcludeRetweets: !sub.Filters.Reposts}
	pagesAllowed := maxXPages
	if !st.Started {
		req.MaxResults = min(max(i.cfg.Backfill*2, xapi.MinMaxResults), xapi.MaxMaxResults)
		pagesAllowed = 1
	}
	var pages []xapi.TweetsPage
	truncated := false
	for {
		page, err := i.x.UserTweets(xctx, st.XUser.ID, req)
		if err != nil {
			i.noteRateLimit(err, xapi.RateLimit{})
			return batch{}, false, err
		}
		i.noteRateLimit(nil, page.RateLimit)
		pages = append(pages, page)
		if page.Meta.NextToken == "" || req.SinceID == "" {
			break // without since_id, one page is all a first poll wants
		}
		if len(pages) == pagesAllowed {
			truncated = true
			break
		}
		req.PaginationToken = page.Meta.NextToken
	}
	items := tweetItems(st.XUser, pages)
	if len(items) == 0 {
		changed := !st.Started
		st.Started = true
		return batch{}, changed, nil
	}
	b := i.choose(sub, items, !st.Started)
	b.moreAtLeast = truncated
	if truncated && b.more == 0 {
		b.more = 1
	}
	b.moreName, b.moreLink = st.XUser.Name, "https://x.com/"+st.XUser.Username
	st.Started, st.SinceID = true, items[len(items)-1].ID
	return b, true, nil
}

// errorCause is what the log, not the user, is told of a failure to
// connect (which users see only as "could not be reached"); "" for other
// errors.
func errorCause(err error) string {
	var fe *fetchError
	if errors.As(err, &fe) && fe.Unreachable && fe.Err != nil {
		return fe.Err.Error()
	}
	return ""
}

// scrub drops from items every link that carries one of a private feed's
// credentials (its item links, enclosures or site link may repeat the key
// of the address it was fetched from), so none is posted.
func scrub(items []Item, secrets []string) {
	if len(secrets) == 0 {
		return
	}
	for k := range items {
		it := &items[k]
		it.Link = scrubLink(it.Link, secrets)
		it.Author.URL = scrubLink(it.Author.URL, secrets)
		it.Author.AvatarURL = scrubLink(it.Author.AvatarURL, secrets)
		if it.Image != nil && scrubLink(it.Image.URL, secrets) == "" {
			it.Image = nil
		}
	}
}

// noteRateLimit pauses X polling until the window resets when X said 429
// or that no request is left.
func (i *Integration) noteRateLimit(err error, rl xapi.RateLimit) {
	var rle *xapi.RateLimitError
	if errors.As(err, &rle) {
		rl = rle.RateLimit
	} else if !rl.Known() || rl.Remaining > 0 {
		return
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	if rl.Reset.After(i.xPause) {
		i.xPause = rl.Reset
	}
}

func (i *Integration) xPaused() time.Time {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.xPause
}

// deliver posts b in each of sub's channels, each item claimed first. A
// "#name" that names no channel (slackapp.ErrUnknownChannel) or a channel
// that Slack refuses for good (deleted, archived) is skipped and returned
// in refused; any other failure, such as Slack not answering a name's
// lookup, stops the delivery and is returned in err. held are the items
// whose claims someone else held.
func (i *Integration) deliver(ctx context.Context, sub Subscription, b batch) (held []heldItem, refused, err error) {
	if len(b.items) == 0 && b.more == 0 {
		return nil, nil, nil
	}
	var errs []error
	for _, ref := range sub.Channels {
		ch, err := i.resolveChannel(ctx, ref)
		var h []heldItem
		if err == nil {
			h, err = i.deliverTo(ctx, sub, ch, b)
		}
		switch {
		case err == nil:
			held = append(held, h...)
		case slackapp.Permanent(err), errors.Is(err, slackapp.ErrUnknownChannel):
			held = append(held, h...)
			errs = append(errs, err)
		default:
			return nil, nil, err
		}
	}
	if len(errs) > 0 {
		return held, fmt.Errorf("posted where possible, but: %w", errors.Join(errs...)), nil
	}
	return held, nil, nil
}

func (i *Integration) deliverTo(ctx context.Context, sub Subscription, ch string, b batch) ([]heldItem, error) {
	prefix := claimPrefix(sub, ch)
	var refused []error
	var held []heldItem
	for _, it := range b.items {
		claimed, err := i.postItem(ctx, sub, prefix+itemKey(it.ID), ch, it)
		if err == nil && !claimed {
			// Someone else holds it. A confirmed claim and a crashed
			// holder's lease look alike; past the lease they do not.
			held = append(held, heldItem{Channel: ch, Item: it, Until: i.now().Add(claimLease + time.Minute)})
			continue
		}
		if err != nil {
			if !messageRefused(err) {
				return held, err // alone: deliver tells a refused channel from a retry by it
			}
			// Slack refused this item's message, not the channel: the
			// others are still posted, since the cursor moves past them.
			i.log.WarnContext(ctx, "Slack refused a feed item", "subscription", sub.ID, "channel", ch, "item", it.ID, "error", err)
			refused = append(refused, err)
			continue
		}
		i.m.posted.WithLabelValues(sub.Kind).Inc()
	}
	if b.more > 0 && len(b.items) > 0 {
		key := prefix + "more/" + itemKey(b.items[len(b.items)-1].ID)
		_, _, err := i.postOnce(ctx, key, ch, moreMessage(b))
		refused = append(refused, err)
	}
	return held, errors.Join(refused...)
}

// messageRefused reports whether err is Slack refusing one message for
// good for what it holds (its blocks or length), which says nothing about
// the channel.
func messageRefused(err error) bool {
	var se *slackapp.SendError
	if !errors.As(err, &se) || !se.Permanent {
		return false
	}
	switch se.Code {
	case "invalid_blocks", "invalid_blocks_format", "msg_too_long", "no_text", "invalid_attachments", "too_many_attachments":
		return true
	}
	return false
}

// postOnce posts m unless key was claimed before: claim, post, confirm; a
// failed post gives the claim back so the next poll retries it. claimed is
// false when someone else held the claim: posted before, being posted, or
// claimed by a process that died before posting.
func (i *Integration) postOnce(ctx context.Context, key, ch string, m slackapp.Message) (claimed bool, ts string, err error) {
	ok, err := i.claims.Claim(ctx, key, claimLease)
	if err != nil {
		return false, "", fmt.Errorf("claim %s: %w", key, err)
	}
	if !ok {
		return false, "", nil
	}
	ts, err = i.poster.Post(ctx, ch, m)
	if err != nil {
		if rerr := i.claims.Release(context.WithoutCancel(ctx), key); rerr != nil {
			i.log.ErrorContext(ctx, "release claim after failed post", "channel", ch, "error", rerr)
		}
		return true, "", err
	}
	if err := i.claims.Confirm(context.WithoutCancel(ctx), key); err != nil {
		// Posted; the lease still guards it for claimLease.
		i.log.ErrorContext(ctx, "confirm posted item", "channel", ch, "error", err)
	}
	return true, ts, nil
}

// postItem posts an item once (see postOnce) and, when its subscription
// asks for translations, their reply in its thread. A translation that
// fails is logged, never retried: the item itself is what must not be
// lost or doubled.
func (i *Integration) postItem(ctx context.Context, sub Subscription, key, ch string, it Item) (claimed bool, err error) {
	claimed, ts, err := i.postOnce(ctx, key, ch, itemMessage(it, i.loc))
	if err != nil || !claimed || ts == "" || len(sub.Filters.Translate) == 0 || i.translate == nil {
		return claimed, err
	}
	text := strings.TrimSpace(slackapp.Escape(it.Title) + "\n" + slackapp.Escape(it.Text))
	m, ok, terr := i.translate(ctx, text, sub.Filters.Translate)
	switch {
	case terr != nil:
		i.log.WarnContext(ctx, "feed item posted without its translations", "subscription", sub.ID, "channel", ch, "error", terr)
	case ok:
		m.ThreadTS = ts
		if _, perr := i.poster.Post(ctx, ch, m); perr != nil {
			i.log.WarnContext(ctx, "feed item's translations not posted", "subscription", sub.ID, "channel", ch, "error", perr)
		}
	}
	return claimed, nil
}

// resolveChannel turns a subscription's "#name" into a channel ID through
// Deps.ResolveChannel, which caches the workspace's channel list; IDs are
// returned as they are.
func (i *Integration) resolveChannel(ctx context.Context, ref string) (string, error) {
	if ref == "" || ref[0] != '#' {
		return ref, nil
	}
	if i.resolve == nil {
		return "", fmt.Errorf("%w %s: channels cannot be looked up by name here; use the channel's ID", slackapp.ErrUnknownChannel, ref)
	}
	return i.resolve(ctx, ref)
}

func (i *Integration) lockOf(id string) *sync.Mutex {
	i.mu.Lock()
	defer i.mu.Unlock()
	l, ok := i.locks[id]
	if !ok {
		l = &sync.Mutex{}
		i.locks[id] = l
	}
	return l
}

// healthOf returns a copy of a subscription's health.
func (i *Integration) healthOf(id string) health {
	i.mu.Lock()
	defer i.mu.Unlock()
	if h, ok := i.health[id]; ok {
		return *h
	}
	return health{}
}

func (i *Integration) setMalformed(id string, n int) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.healthLocked(id).malformed = n
}

func (i *Integration) healthLocked(id string) *health {
	h, ok := i.health[id]
	if !ok {
		h = &health{}
		i.health[id] = h
	}
	return h
}

// record notes a poll's outcome and schedules the retry of a failure.
func (i *Integration) record(sub Subscription, err error) {
	now := i.now()
	i.mu.Lock()
	defer i.mu.Unlock()
	h := i.healthLocked(sub.ID)
	h.lastCheck = now
	if err == nil {
		h.lastSuccess, h.failures, h.lastErr, h.retryAt, h.paused, h.failingSince = now, 0, "", time.Time{}, false, time.Time{}
		return
	}
	if h.failures == 0 {
		h.failingSince = now
	}
	h.failures++
	h.lastErr = err.Error()
	wait := backoffMax
	if h.failures <= 20 {
		wait = min(backoffBase<<(h.failures-1), backoffMax)
	}
	h.retryAt, h.paused = now.Add(wait), false
	// A server's own word on when to come back wins over the backoff when
	// it is later, up to the backoff's maximum.
	asked := time.Time{}
	var rle *xapi.RateLimitError
	var fe *fetchError
	switch {
	case errors.As(err, &rle):
		asked = rle.Reset
	case errors.As(err, &fe):
		asked = fe.RetryAfter
	}
	if asked.After(h.retryAt) {
		h.retryAt, h.paused = minTime(asked, now.Add(backoffMax)), true
	}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
