package scheduler

import (
	"context"
	"time"
)

// State is the durable record the scheduler keeps: claims on keys, each a
// lease that a crashed holder loses when it expires, and named cursors.
// *store.Store implements it. Implementations are safe for concurrent use
// by several schedulers (in one process or many) and honour ctx; an error
// means the operation's outcome is unknown, and the scheduler tries again
// later.
//
// The scheduler uses these names, all prefixed "scheduler/<job>/":
// "lock" (a claim held while a job is being planned or run), "<occurrence
// in RFC 3339, UTC>" (a claim on one occurrence, confirmed once it ran) and
// "last" (the cursor: the last occurrence run, RFC 3339 with nanoseconds).
type State interface {
	// Claim tries to take key for lease and reports whether the caller now
	// holds it: true when key was never claimed, or was released, or its
	// earlier claim was never confirmed and its lease has expired; false
	// when key is confirmed or held under a lease that has not expired.
	Claim(ctx context.Context, key string, lease time.Duration) (bool, error)
	// Confirm marks a claimed key done for good: every later Claim of it
	// returns false.
	Confirm(ctx context.Context, key string) error
	// Release gives up an unconfirmed claim, so that the next Claim of key
	// succeeds. The scheduler releases only keys it claimed.
	Release(ctx context.Context, key string) error
	// Cursor returns the value stored under name, or false if there is none.
	Cursor(ctx context.Context, name string) (string, bool, error)
	// SetCursor stores value under name, replacing any earlier value.
	SetCursor(ctx context.Context, name, value string) error
}
