package slackapp

import (
	"context"
	"time"
)

// Deduper records, for every replica sharing it, which requests have been
// handled, so that a redelivery that reaches another replica's connection
// is dropped there too. It is the store's claims (store.Store satisfies it)
// when the store is shared; without one, each runtime's in-memory dedup is
// all there is, which is enough for one process.
//
// Claim reports whether the caller now holds key for lease: false when
// another replica holds it or has confirmed it. Confirm marks key handled
// for good. Both honour ctx; an error means the store could not be asked,
// and the runtime then handles the request (a possible duplicate rather
// than a lost request).
type Deduper interface {
	Claim(ctx context.Context, key string, lease time.Duration) (bool, error)
	Confirm(ctx context.Context, key string) error
}

// dedupPrefix namespaces the runtime's keys among the store's claims.
const dedupPrefix = "slack:"

// dedupStoreTimeout bounds each call to the shared Deduper: a slow database
// must not hold a handler for long before it runs.
const dedupStoreTimeout = 2 * time.Second

// sharedKeys are the keys a request is claimed under in the Deduper: the
// identities that survive a redelivery (event_id, trigger_id), or the
// envelope ID when there is none. In-memory dedup also checks the envelope.
func sharedKeys(keys []string) []string {
	if len(keys) > 1 {
		return keys[1:]
	}
	return keys
}

// prefixed returns keys with dedupPrefix, as the Deduper holds them.
func prefixed(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = dedupPrefix + k
	}
	return out
}

// claimLease is the lease of a request's claims: its handler's run, and
// the ack before it. A replica that dies mid-handler lets a later
// redelivery through once the lease ends, or once it is counted dead.
func (rt *Runtime) claimLease() time.Duration { return rt.cfg.HandlerTimeout + ackDeadline }

// recordedClaim reports whether the handler of a live request should run,
// and the keys to confirm once it has. Its keys were claimed with its
// journal entry, before its ack: a handler that starts soon after runs on
// that claim. One that waited for a handler slot for half a replay
// interval or more (see Journal for why that is safe) first asks whether
// the claims are still its own and, if not, claims again: another replica
// may have counted this one dead and replayed the request meanwhile.
// Without a journal record (no journal, or its write failed) the keys are
// claimed now (claimShared).
func (rt *Runtime) recordedClaim(ctx context.Context, t *task, keys []string) (run bool, claimed []string) {
	r := t.rec
	if r != nil {
		<-r.written // closed within journalWriteTimeout
	}
	if r == nil || !r.ok { // a record implies a Deduper: New refuses a Journal without one
		return rt.claimShared(ctx, keys)
	}
	if !r.claimed {
		return false, nil
	}
	if time.Since(r.at) < rt.replayInterval()/2 {
		return true, r.entry.Claim
	}
	hctx, cancel := context.WithTimeout(ctx, dedupStoreTimeout)
	held, err := rt.opts.Journal.Holding(hctx, r.entry.Claim)
	cancel()
	switch {
	case err != nil:
		// Claiming again would be refused by this replica's own lease:
		// run, as claimShared does when the store cannot be asked.
		rt.m.dedupErrors.Inc()
		rt.log.Warn("shared dedup unavailable; handling the request here (if another replica replayed it, it is answered twice)",
			"envelope_id", r.entry.EnvelopeID, "error", err)
		return true, r.entry.Claim
	case held:
		return true, r.entry.Claim
	}
	return rt.claimShared(ctx, keys)
}

// claimShared claims req's keys in the shared Deduper and reports whether
// the handler should run, and the keys to confirm once it has. The lease
// covers the handler's run: a replica that dies mid-handler lets a later
// redelivery through once the lease ends.
func (rt *Runtime) claimShared(ctx context.Context, keys []string) (run bool, claimed []string) {
	d := rt.opts.Deduper
	if d == nil {
		return true, nil
	}
	lease := rt.claimLease()
	for _, k := range sharedKeys(keys) {
		cctx, cancel := context.WithTimeout(ctx, dedupStoreTimeout)
		ok, err := d.Claim(cctx, dedupPrefix+k, lease)
		cancel()
		if err != nil {
			rt.m.dedupErrors.Inc()
			rt.log.Warn("shared dedup unavailable; handling the request here (a redelivery to another replica may be handled twice)",
				"key", k, "error", err)
			return true, claimed
		}
		if !ok {
			return false, claimed
		}
		claimed = append(claimed, dedupPrefix+k)
	}
	return true, claimed
}

// confirmShared marks keys handled for good, after the handler ran.
func (rt *Runtime) confirmShared(ctx context.Context, keys []string) {
	for _, k := range keys {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), dedupStoreTimeout)
		err := rt.opts.Deduper.Confirm(cctx, k)
		cancel()
		if err != nil {
			// The lease still covers Slack's redeliveries for a while.
			rt.log.Warn("shared dedup: confirm failed", "key", k, "error", err)
		}
	}
}
