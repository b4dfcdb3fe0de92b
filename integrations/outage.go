package integrations

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Outage follows something used on demand, such as a translation provider
// or Zoom: whether its last use failed and since when. The zero value is
// ready; it is safe for concurrent use.
type Outage struct {
	mu      sync.Mutex
	tried   bool
	since   time.Time
	lastErr string
}

// Record notes one use at now: err nil is a success, which ends an outage.
// A use cancelled by its caller says nothing about the service.
func (o *Outage) Record(now time.Time, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.tried = true
	if err == nil {
		o.since, o.lastErr = time.Time{}, ""
		return
	}
	if o.since.IsZero() {
		o.since = now
	}
	o.lastErr = err.Error()
}

// Health is the outage as a Health with key, what and fix.
func (o *Outage) Health(key, what, fix string) Health {
	o.mu.Lock()
	defer o.mu.Unlock()
	return Health{Key: key, What: what, FailingSince: o.since, Unknown: !o.tried, LastError: o.lastErr, Fix: fix}
}
