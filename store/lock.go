package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrBusy is returned by Locked when key stayed held by someone else.
var ErrBusy = errors.New("store: busy: another process holds the lock")

// Locked runs fn while holding key as a lock: a claim, released when fn
// returns, so a read-modify-write of a setting (a counter, a record of
// answers) is not lost to another goroutine or replica doing the same.
// A holder that dies loses the lock when lease expires. Locked waits for
// a held lock a few milliseconds at a time, a second or so in all, then
// returns ErrBusy.
func Locked(ctx context.Context, c Claims, key string, lease time.Duration, fn func() error) error {
	for attempt := 0; ; attempt++ {
		ok, err := c.Claim(ctx, key, lease)
		if err != nil {
			return err
		}
		if ok {
			break
		}
		if attempt == 40 {
			return fmt.Errorf("%w (%s)", ErrBusy, key)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(min(attempt+1, 5)) * 5 * time.Millisecond):
		}
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = c.Release(rctx, key) // an unreleased lock expires with its lease
	}()
	return fn()
}
