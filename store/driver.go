package store

import (
	"context"
	"time"
)

// Driver is the database-specific half of a Store: it supplies SQL and
// nothing else. Every rule (what "expired" means, how long a lease or a cache
// entry lives, what a purge keeps) is decided by the Store, which hands the
// driver the resulting times, so two drivers cannot disagree about policy.
//
// Methods are named noun-first and take a params struct; any time a method
// needs is passed in (drivers never read a clock). Times arrive truncated to
// the microsecond, and a driver must store them at least that precisely.
// Keys and names are non-empty: the Store has checked them.
//
// Every method honours ctx and is safe for concurrent use. Errors are
// returned without the operation's name: the Store adds that context. The
// conformance suite in store/storetest pins down the behaviour described
// here; a driver is correct when it passes storetest.Exercise.
type Driver interface {
	// ClaimAcquire atomically takes the claim on p.Key for p.Owner,
	// holding it until p.Until, when no claim exists or the existing one
	// is unconfirmed and either its lease ended at or before p.Now or its
	// owner is dead: not empty, not p.Owner, and with its last heartbeat
	// (or, with no heartbeat row, the claim's own time) before
	// p.OwnerDeadBefore. It reports whether it did. Of any number of
	// concurrent calls for one key, at most one returns true.
	ClaimAcquire(ctx context.Context, p ClaimAcquireParams) (bool, error)
	// ClaimConfirm marks p.Key done at p.Now, creating the claim if it does
	// not exist. Confirming a confirmed claim keeps its first ConfirmedAt.
	ClaimConfirm(ctx context.Context, p ClaimConfirmParams) error
	// ClaimRelease deletes p.Key's claim if it is unconfirmed, so it can be
	// acquired again at once. A confirmed or missing claim is left alone.
	ClaimRelease(ctx context.Context, p ClaimReleaseParams) error
	// ClaimPurge deletes the claims confirmed before p.ConfirmedBefore and
	// the unconfirmed ones whose lease ended before p.LeaseEndedBefore, and
	// returns how many it deleted.
	ClaimPurge(ctx context.Context, p ClaimPurgeParams) (int, error)
	// ClaimCountHeld returns how many of p.Keys (unique) are claimed by
	// p.Owner, unconfirmed, with a lease that ends after p.Now.
	ClaimCountHeld(ctx context.Context, p ClaimCountHeldParams) (int, error)

	// CursorGet returns the value stored under p.Name; ok is false if there
	// is none.
	CursorGet(ctx context.Context, p CursorGetParams) (value string, ok bool, err error)
	// CursorSet stores p.Value under p.Name, replacing any earlier value.
	CursorSet(ctx context.Context, p CursorSetParams) error

	// CacheGet returns the entry stored under p.Key, expired or not; ok is
	// false if there is none. The Store decides whether it has expired.
	CacheGet(ctx context.Context, p CacheGetParams) (entry CacheEntry, ok bool, err error)
	// CachePut stores p.Value under p.Key until p.ExpiresAt, replacing any
	// earlier entry. p.Value is never nil.
	CachePut(ctx context.Context, p CachePutParams) error
	// CachePurge deletes the entries whose ExpiresAt is at or before p.Now
	// and returns how many it deleted.
	CachePurge(ctx context.Context, p CachePurgeParams) (int, error)

	// SettingGet returns the value stored under p.Key; ok is false if there
	// is none.
	SettingGet(ctx context.Context, p SettingGetParams) (value string, ok bool, err error)
	// SettingSet stores p.Value under p.Key, replacing any earlier value.
	SettingSet(ctx context.Context, p SettingSetParams) error
	// SettingDelete deletes p.Key; deleting a missing key is not an error.
	SettingDelete(ctx context.Context, p SettingDeleteParams) error

	// ReplicaDriver keeps the replicas' heartbeats (see Replicas).
	ReplicaDriver

	// JournalDriver keeps the acknowledged Slack requests (see Journal).
	JournalDriver

	// Ping reports whether the database can be reached.
	Ping(ctx context.Context) error
	// Close releases the database. No method may be called after it.
	Close() error
}

// ClaimAcquireParams are the arguments of Driver.ClaimAcquire.
type ClaimAcquireParams struct {
	Key   string
	Now   time.Time // a live lease is one whose end is after Now
	Until time.Time // the end of the new lease
	// Owner is recorded as the new claim's owner; empty for none.
	Owner string
	// OwnerDeadBefore is how old an owner's heartbeat (and its claim) must
	// be for the owner to count as dead; the zero time (before every
	// claim) when the caller takes no claims from dead owners.
	OwnerDeadBefore time.Time
}

// ClaimConfirmParams are the arguments of Driver.ClaimConfirm.
type ClaimConfirmParams struct {
	Key string
	Now time.Time // recorded as the claim's confirmation time
}

// ClaimReleaseParams are the arguments of Driver.ClaimRelease.
type ClaimReleaseParams struct {
	Key string
}

// ClaimPurgeParams are the arguments of Driver.ClaimPurge.
type ClaimPurgeParams struct {
	ConfirmedBefore  time.Time // confirmed claims confirmed strictly before this go
	LeaseEndedBefore time.Time // unconfirmed claims whose lease ended strictly before this go
}

// ClaimCountHeldParams are the arguments of Driver.ClaimCountHeld.
type ClaimCountHeldParams struct {
	Keys  []string
	Owner string
	Now   time.Time
}

// CursorGetParams are the arguments of Driver.CursorGet.
type CursorGetParams struct {
	Name string
}

// CursorSetParams are the arguments of Driver.CursorSet.
type CursorSetParams struct {
	Name  string
	Value string
	Now   time.Time // recorded as the cursor's update time, for operators
}

// CacheGetParams are the arguments of Driver.CacheGet.
type CacheGetParams struct {
	Key string
}

// CacheEntry is a cache row as the driver stores it.
type CacheEntry struct {
	Value     []byte
	ExpiresAt time.Time
}

// CachePutParams are the arguments of Driver.CachePut.
type CachePutParams struct {
	Key       string
	Value     []byte
	ExpiresAt time.Time
}

// CachePurgeParams are the arguments of Driver.CachePurge.
type CachePurgeParams struct {
	Now time.Time // entries expiring at or before Now go
}

// SettingGetParams are the arguments of Driver.SettingGet.
type SettingGetParams struct {
	Key string
}

// SettingSetParams are the arguments of Driver.SettingSet.
type SettingSetParams struct {
	Key   string
	Value string
	Now   time.Time // recorded as the setting's update time, for operators
}

// SettingDeleteParams are the arguments of Driver.SettingDelete.
type SettingDeleteParams struct {
	Key string
}
