// Package store is townhall's persistence: claims that make scheduled posts
// happen exactly once across restarts, cursors (a feed's last seen item),
// a cache with expiry and key-value settings.
//
// A Store is one concrete type over a small Driver, in the manner of
// database/sql: the rules (lease expiry, confirmation, what a purge keeps,
// cache expiry) are written once here, and a driver only supplies SQL.
// store/sqlite is the embedded default; store/storetest is the conformance
// suite every driver passes. Callers depend on the small interfaces Claims,
// Cursors, Cache and Settings, all satisfied by *Store.
//
// This package must never import slackapp, scheduler or anything under
// integrations: they depend on it, not the other way round.
package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Claims record work that must happen exactly once, across restarts and
// replicas: claim the key, do the work, confirm. A holder that dies before
// confirming loses the claim when its lease expires, so the work is retried
// (a crash repeats at most the one piece of work in flight and never loses
// one).
type Claims interface {
	// Claim reports whether the caller now holds key for lease: true if it
	// was never claimed, or its earlier claim was never confirmed and its
	// lease has expired (or was released), or its owner is dead (see
	// WithOwner); false if it is confirmed or held by a live lease,
	// including one held by the caller.
	Claim(ctx context.Context, key string, lease time.Duration) (bool, error)
	// Confirm marks key done for good: it is never claimed again while the
	// record is kept (see PurgeClaims). Confirming a key that is not
	// claimed marks it done too; confirming twice changes nothing.
	Confirm(ctx context.Context, key string) error
	// Release gives up an unconfirmed claim so key can be claimed again at
	// once, as after a failed post. It never undoes a confirmation.
	Release(ctx context.Context, key string) error
	// PurgeClaims deletes the claims confirmed before olderThan, which may
	// then be claimed again, and returns how many records it deleted. It
	// also deletes unconfirmed claims whose lease expired before
	// olderThan; that is invisible to callers, as an expired claim can be
	// taken anyway.
	PurgeClaims(ctx context.Context, olderThan time.Time) (int, error)
}

// Cursors remember a position in an outside stream, such as a feed's last
// seen item ID, by name.
type Cursors interface {
	// Cursor returns the value of the named cursor; ok is false if it was
	// never set.
	Cursor(ctx context.Context, name string) (value string, ok bool, err error)
	// SetCursor sets the named cursor to value.
	SetCursor(ctx context.Context, name, value string) error
}

// Cache holds values that can be recomputed, such as translations, for a
// time to live.
type Cache interface {
	// CacheGet returns the value stored under key; ok is false if there is
	// none or it has expired.
	CacheGet(ctx context.Context, key string) (value []byte, ok bool, err error)
	// CachePut stores value under key for ttl, which must be positive,
	// replacing any earlier value.
	CachePut(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// PurgeCache deletes expired entries and returns how many it deleted.
	// Expired entries are never returned, so purging only reclaims space.
	PurgeCache(ctx context.Context) (int, error)
}

// Settings are key-value preferences that outlive a restart, such as a
// user's preferred language.
type Settings interface {
	// Setting returns the value stored under key; ok is false if there is
	// none.
	Setting(ctx context.Context, key string) (value string, ok bool, err error)
	// SetSetting stores value under key.
	SetSetting(ctx context.Context, key, value string) error
	// DeleteSetting deletes key; deleting a missing key is not an error.
	DeleteSetting(ctx context.Context, key string) error
}

var (
	_ Claims   = (*Store)(nil)
	_ Cursors  = (*Store)(nil)
	_ Cache    = (*Store)(nil)
	_ Settings = (*Store)(nil)
)

// Store is townhall's persistence over a Driver. It is safe for concurrent
// use; every method honours ctx. Build one with New, or with a driver
// package's convenience such as sqlite.OpenStore.
type Store struct {
	d   Driver
	now func() time.Time
	// owner and deadAfter are set by WithOwner.
	owner     string
	deadAfter time.Duration
}

// Option configures a Store.
type Option func(*Store)

// WithClock makes the Store read the time from now instead of time.Now, so
// tests can move time without sleeping.
func WithClock(now func() time.Time) Option {
	return func(s *Store) { s.now = now }
}

// WithOwner makes the Store's claims record owner, the ID under which this
// process keeps its heartbeat (Replicas.Beat), and lets Claim take an
// unconfirmed claim from another owner before its lease ends once that
// owner is dead: its last heartbeat is older than deadAfter (or, for an
// owner that never beat, the claim is). Every claim of a dead replica is
// then free at the same moment, however late in a job it was taken. A replica killed
// while it holds a job's lock or a reminder's claim then delays that work
// by deadAfter (TOWNHALL_REPLICA_TIMEOUT), not by the whole lease. A
// Store never takes its own owner's claims this way, and claims recorded
// without an owner keep only their lease.
//
// The rule trusts heartbeats: a replica that cannot write its heartbeat
// for deadAfter but still reaches the database and Slack may see a claim
// it holds taken, and its work done twice.
func WithOwner(owner string, deadAfter time.Duration) Option {
	return func(s *Store) { s.owner, s.deadAfter = owner, deadAfter }
}

// New returns a Store over d. The Store owns d: Store.Close closes it.
func New(d Driver, opts ...Option) *Store {
	s := &Store{d: d, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Precision is the resolution of every time the Store records. Times are
// truncated to it before a driver sees them, so every driver behaves alike
// (PostgreSQL's timestamps are microseconds).
const Precision = time.Microsecond

// ErrEmptyKey is returned (wrapped) when a key or name is empty.
var ErrEmptyKey = errors.New("empty key")

// clock returns the current time at the Store's precision, without a
// monotonic reading.
func (s *Store) clock() time.Time {
	return s.now().Truncate(Precision)
}

// Claim implements Claims.
func (s *Store) Claim(ctx context.Context, key string, lease time.Duration) (bool, error) {
	if key == "" {
		return false, fmt.Errorf("store: claim: %w", ErrEmptyKey)
	}
	if lease < Precision {
		return false, fmt.Errorf("store: claim %q: lease must be at least %v, got %v", key, Precision, lease)
	}
	now := s.clock()
	p := ClaimAcquireParams{Key: key, Now: now, Until: now.Add(lease).Truncate(Precision), Owner: s.owner}
	if s.owner != "" && s.deadAfter > 0 {
		p.OwnerDeadBefore = now.Add(-s.deadAfter).Truncate(Precision)
	}
	ok, err := s.d.ClaimAcquire(ctx, p)
	if err != nil {
		return false, fmt.Errorf("store: claim %q: %w", key, err)
	}
	return ok, nil
}

// Confirm implements Claims.
func (s *Store) Confirm(ctx context.Context, key string) error {
	if key == "" {
		return fmt.Errorf("store: confirm claim: %w", ErrEmptyKey)
	}
	if err := s.d.ClaimConfirm(ctx, ClaimConfirmParams{Key: key, Now: s.clock()}); err != nil {
		return fmt.Errorf("store: confirm claim %q: %w", key, err)
	}
	return nil
}

// Release implements Claims.
func (s *Store) Release(ctx context.Context, key string) error {
	if key == "" {
		return fmt.Errorf("store: release claim: %w", ErrEmptyKey)
	}
	if err := s.d.ClaimRelease(ctx, ClaimReleaseParams{Key: key}); err != nil {
		return fmt.Errorf("store: release claim %q: %w", key, err)
	}
	return nil
}

// ClaimsHeld reports whether owner holds every one of keys: claimed by it
// (with WithOwner, or by JournalAppend), not confirmed, under a lease that
// has not ended, and so not taken over by a replica that counted owner
// dead. A process that was stalled uses it to learn whether what it
// claimed is still its own.
func (s *Store) ClaimsHeld(ctx context.Context, owner string, keys []string) (bool, error) {
	if owner == "" {
		return false, fmt.Errorf("store: claims held: owner: %w", ErrEmptyKey)
	}
	uniq := make([]string, 0, len(keys))
	seen := make(map[string]bool, len(keys))
	for _, k := range keys {
		if k == "" {
			return false, fmt.Errorf("store: claims held: %w", ErrEmptyKey)
		}
		if !seen[k] {
			seen[k] = true
			uniq = append(uniq, k)
		}
	}
	if len(uniq) == 0 {
		return true, nil
	}
	n, err := s.d.ClaimCountHeld(ctx, ClaimCountHeldParams{Keys: uniq, Owner: owner, Now: s.clock()})
	if err != nil {
		return false, fmt.Errorf("store: claims held by %q: %w", owner, err)
	}
	return n == len(uniq), nil
}

// PurgeClaims implements Claims.
func (s *Store) PurgeClaims(ctx context.Context, olderThan time.Time) (int, error) {
	olderThan = olderThan.Truncate(Precision)
	// An unconfirmed claim may only go once its lease has ended, whatever
	// olderThan says: deleting a live lease would let a second holder in.
	leaseEnded := s.clock()
	if olderThan.Before(leaseEnded) {
		leaseEnded = olderThan
	}
	n, err := s.d.ClaimPurge(ctx, ClaimPurgeParams{ConfirmedBefore: olderThan, LeaseEndedBefore: leaseEnded})
	if err != nil {
		return 0, fmt.Errorf("store: purge claims older than %s: %w", olderThan.Format(time.RFC3339), err)
	}
	return n, nil
}

// Cursor implements Cursors.
func (s *Store) Cursor(ctx context.Context, name string) (string, bool, error) {
	if name == "" {
		return "", false, fmt.Errorf("store: get cursor: %w", ErrEmptyKey)
	}
	v, ok, err := s.d.CursorGet(ctx, CursorGetParams{Name: name})
	if err != nil {
		return "", false, fmt.Errorf("store: get cursor %q: %w", name, err)
	}
	return v, ok, nil
}

// SetCursor implements Cursors.
func (s *Store) SetCursor(ctx context.Context, name, value string) error {
	if name == "" {
		return fmt.Errorf("store: set cursor: %w", ErrEmptyKey)
	}
	if err := s.d.CursorSet(ctx, CursorSetParams{Name: name, Value: value, Now: s.clock()}); err != nil {
		return fmt.Errorf("store: set cursor %q: %w", name, err)
	}
	return nil
}

// CacheGet implements Cache. An entry is live until its expiry time and
// expired from that instant on.
func (s *Store) CacheGet(ctx context.Context, key string) ([]byte, bool, error) {
	if key == "" {
		return nil, false, fmt.Errorf("store: get cache entry: %w", ErrEmptyKey)
	}
	e, ok, err := s.d.CacheGet(ctx, CacheGetParams{Key: key})
	if err != nil {
		return nil, false, fmt.Errorf("store: get cache entry %q: %w", key, err)
	}
	if !ok || !s.clock().Before(e.ExpiresAt) {
		return nil, false, nil
	}
	return e.Value, true, nil
}

// CachePut implements Cache. A nil value is stored as an empty one.
func (s *Store) CachePut(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if key == "" {
		return fmt.Errorf("store: put cache entry: %w", ErrEmptyKey)
	}
	if ttl < Precision {
		return fmt.Errorf("store: put cache entry %q: ttl must be at least %v, got %v", key, Precision, ttl)
	}
	if value == nil {
		value = []byte{}
	}
	expires := s.clock().Add(ttl).Truncate(Precision)
	if err := s.d.CachePut(ctx, CachePutParams{Key: key, Value: value, ExpiresAt: expires}); err != nil {
		return fmt.Errorf("store: put cache entry %q: %w", key, err)
	}
	return nil
}

// PurgeCache implements Cache.
func (s *Store) PurgeCache(ctx context.Context) (int, error) {
	n, err := s.d.CachePurge(ctx, CachePurgeParams{Now: s.clock()})
	if err != nil {
		return 0, fmt.Errorf("store: purge cache: %w", err)
	}
	return n, nil
}

// Setting implements Settings.
func (s *Store) Setting(ctx context.Context, key string) (string, bool, error) {
	if key == "" {
		return "", false, fmt.Errorf("store: get setting: %w", ErrEmptyKey)
	}
	v, ok, err := s.d.SettingGet(ctx, SettingGetParams{Key: key})
	if err != nil {
		return "", false, fmt.Errorf("store: get setting %q: %w", key, err)
	}
	return v, ok, nil
}

// SetSetting implements Settings.
func (s *Store) SetSetting(ctx context.Context, key, value string) error {
	if key == "" {
		return fmt.Errorf("store: set setting: %w", ErrEmptyKey)
	}
	if err := s.d.SettingSet(ctx, SettingSetParams{Key: key, Value: value, Now: s.clock()}); err != nil {
		return fmt.Errorf("store: set setting %q: %w", key, err)
	}
	return nil
}

// DeleteSetting implements Settings.
func (s *Store) DeleteSetting(ctx context.Context, key string) error {
	if key == "" {
		return fmt.Errorf("store: delete setting: %w", ErrEmptyKey)
	}
	if err := s.d.SettingDelete(ctx, SettingDeleteParams{Key: key}); err != nil {
		return fmt.Errorf("store: delete setting %q: %w", key, err)
	}
	return nil
}

// Ping reports whether the database can be reached, for readiness checks.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.d.Ping(ctx); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

// Close closes the driver. Call it once, after every user of the Store has
// stopped.
func (s *Store) Close() error {
	if err := s.d.Close(); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}
