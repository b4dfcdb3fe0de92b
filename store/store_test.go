package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/townhall/townhall/store"
)

// errBoom is what failingDriver returns from every method.
var errBoom = errors.New("boom")

// failingDriver fails every call and records the last params it was given,
// so tests can see what the Store asked of its driver.
type failingDriver struct {
	acquire store.ClaimAcquireParams
	put     store.CachePutParams
	purge   store.ClaimPurgeParams
	calls   int
}

func (d *failingDriver) ClaimAcquire(_ context.Context, p store.ClaimAcquireParams) (bool, error) {
	d.calls++
	d.acquire = p
	return false, errBoom
}

func (d *failingDriver) ClaimConfirm(context.Context, store.ClaimConfirmParams) error {
	d.calls++
	return errBoom
}

func (d *failingDriver) ClaimRelease(context.Context, store.ClaimReleaseParams) error {
	d.calls++
	return errBoom
}

func (d *failingDriver) ClaimPurge(_ context.Context, p store.ClaimPurgeParams) (int, error) {
	d.calls++
	d.purge = p
	return 0, errBoom
}

func (d *failingDriver) CursorGet(context.Context, store.CursorGetParams) (string, bool, error) {
	d.calls++
	return "", false, errBoom
}

func (d *failingDriver) CursorSet(context.Context, store.CursorSetParams) error {
	d.calls++
	return errBoom
}

func (d *failingDriver) CacheGet(context.Context, store.CacheGetParams) (store.CacheEntry, bool, error) {
	d.calls++
	return store.CacheEntry{}, false, errBoom
}

func (d *failingDriver) CachePut(_ context.Context, p store.CachePutParams) error {
	d.calls++
	d.put = p
	return errBoom
}

func (d *failingDriver) CachePurge(context.Context, store.CachePurgeParams) (int, error) {
	d.calls++
	return 0, errBoom
}

func (d *failingDriver) SettingGet(context.Context, store.SettingGetParams) (string, bool, error) {
	d.calls++
	return "", false, errBoom
}

func (d *failingDriver) SettingSet(context.Context, store.SettingSetParams) error {
	d.calls++
	return errBoom
}

func (d *failingDriver) SettingDelete(context.Context, store.SettingDeleteParams) error {
	d.calls++
	return errBoom
}

func (d *failingDriver) Ping(context.Context) error { d.calls++; return errBoom }
func (d *failingDriver) Close() error               { d.calls++; return errBoom }

// call runs every Store method with key and returns the errors by operation.
func call(ctx context.Context, s *store.Store, key string) map[string]error {
	errs := map[string]error{}
	_, errs["claim"] = s.Claim(ctx, key, time.Minute)
	errs["confirm claim"] = s.Confirm(ctx, key)
	errs["release claim"] = s.Release(ctx, key)
	_, _, errs["get cursor"] = s.Cursor(ctx, key)
	errs["set cursor"] = s.SetCursor(ctx, key, "v")
	_, _, errs["get cache entry"] = s.CacheGet(ctx, key)
	errs["put cache entry"] = s.CachePut(ctx, key, []byte("v"), time.Minute)
	_, _, errs["get setting"] = s.Setting(ctx, key)
	errs["set setting"] = s.SetSetting(ctx, key, "v")
	errs["delete setting"] = s.DeleteSetting(ctx, key)
	return errs
}

func TestErrorsNameTheOperation(t *testing.T) {
	t.Parallel()
	s := store.New(&failingDriver{})
	for op, err := range call(t.Context(), s, "the-key") {
		if !errors.Is(err, errBoom) {
			t.Errorf("%s: %v, want the driver's error wrapped", op, err)
			continue
		}
		if want := "store: " + op + ` "the-key": boom`; err.Error() != want {
			t.Errorf("%s: error %q, want %q", op, err, want)
		}
	}
	for op, f := range map[string]func() error{
		"purge claims older than 2030-01-01T00:00:00Z": func() error {
			_, err := s.PurgeClaims(t.Context(), time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
			return err
		},
		"purge cache": func() error { _, err := s.PurgeCache(t.Context()); return err },
		"ping":        func() error { return s.Ping(t.Context()) },
		"close":       s.Close,
	} {
		if err := f(); !errors.Is(err, errBoom) || err.Error() != "store: "+op+": boom" {
			t.Errorf("%s: error %v, want %q wrapping the driver's", op, err, "store: "+op+": boom")
		}
	}
}

func TestEmptyKeyRefused(t *testing.T) {
	t.Parallel()
	d := &failingDriver{}
	s := store.New(d)
	for op, err := range call(t.Context(), s, "") {
		if !errors.Is(err, store.ErrEmptyKey) {
			t.Errorf("%s with an empty key: %v, want ErrEmptyKey", op, err)
		}
	}
	if d.calls != 0 {
		t.Errorf("the driver was called %d times for empty keys, want 0", d.calls)
	}
}

func TestDurationsRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		d    time.Duration
	}{
		{"zero", 0},
		{"negative", -time.Minute},
		{"below precision", time.Nanosecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := &failingDriver{}
			s := store.New(d)
			if _, err := s.Claim(t.Context(), "k", tt.d); err == nil || !strings.Contains(err.Error(), "lease must be at least 1µs") {
				t.Errorf("Claim with lease %v: %v, want a lease error", tt.d, err)
			}
			if err := s.CachePut(t.Context(), "k", nil, tt.d); err == nil || !strings.Contains(err.Error(), "ttl must be at least 1µs") {
				t.Errorf("CachePut with ttl %v: %v, want a ttl error", tt.d, err)
			}
			if d.calls != 0 {
				t.Errorf("the driver was called %d times, want 0", d.calls)
			}
		})
	}
}

// TestTimesGivenToTheDriver checks the rules the Store applies before a
// driver sees a time: the injected clock, microsecond truncation, leases and
// ttls measured from now, and no live lease purged whatever the cut-off.
func TestTimesGivenToTheDriver(t *testing.T) {
	t.Parallel()
	now := time.Date(2030, 1, 1, 12, 0, 0, 123456789, time.UTC)
	d := &failingDriver{}
	s := store.New(d, store.WithClock(func() time.Time { return now }))
	ctx := t.Context()
	wantNow := time.Date(2030, 1, 1, 12, 0, 0, 123456000, time.UTC)

	_, _ = s.Claim(ctx, "k", time.Minute+time.Nanosecond)
	if d.acquire.Now != wantNow || d.acquire.Until != wantNow.Add(time.Minute) {
		t.Errorf("ClaimAcquire got Now %v, Until %v; want %v, %v", d.acquire.Now, d.acquire.Until, wantNow, wantNow.Add(time.Minute))
	}

	_ = s.CachePut(ctx, "k", nil, time.Hour)
	if d.put.ExpiresAt != wantNow.Add(time.Hour) || d.put.Value == nil {
		t.Errorf("CachePut got ExpiresAt %v, Value %#v; want %v, non-nil", d.put.ExpiresAt, d.put.Value, wantNow.Add(time.Hour))
	}

	past, future := wantNow.Add(-time.Hour), wantNow.Add(time.Hour)
	_, _ = s.PurgeClaims(ctx, past)
	if d.purge.ConfirmedBefore != past || d.purge.LeaseEndedBefore != past {
		t.Errorf("PurgeClaims(past) gave %+v, want both cut-offs at %v", d.purge, past)
	}
	_, _ = s.PurgeClaims(ctx, future)
	if d.purge.ConfirmedBefore != future || d.purge.LeaseEndedBefore != wantNow {
		t.Errorf("PurgeClaims(future) gave %+v; want confirmed before %v, leases ended before now %v", d.purge, future, wantNow)
	}
}
