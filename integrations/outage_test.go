package integrations_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/townhall/townhall/integrations"
)

func TestOutage(t *testing.T) {
	var o integrations.Outage
	if h := o.Health("k", "w", "f"); !h.Unknown || !h.FailingSince.IsZero() {
		t.Fatalf("untried: %+v", h)
	}
	t0 := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	o.Record(t0, errors.New("500"))
	o.Record(t0.Add(time.Minute), fmt.Errorf("wrapped: %w", context.Canceled)) // the caller gave up: no news
	o.Record(t0.Add(2*time.Minute), errors.New("503"))
	if h := o.Health("k", "w", "f"); h.Unknown || !h.FailingSince.Equal(t0) || h.LastError != "503" {
		t.Fatalf("failing: %+v", h)
	}
	o.Record(t0.Add(3*time.Minute), nil)
	if h := o.Health("k", "w", "f"); h.Unknown || !h.FailingSince.IsZero() || h.LastError != "" {
		t.Fatalf("recovered: %+v", h)
	}
}
