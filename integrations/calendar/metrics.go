package calendar

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the integration's Prometheus series.
type metrics struct {
	fetches   *prometheus.CounterVec // kind, outcome
	reminders *prometheus.CounterVec // outcome
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		fetches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "townhall_calendar_fetches_total",
			Help: "Calendar fetches by source kind (ics, google) and outcome (ok, error).",
		}, []string{"kind", "outcome"}),
		reminders: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "townhall_calendar_reminders_total",
			Help: "Reminders by outcome: posted, late, skipped (superseded by a later offset), failed.",
		}, []string{"outcome"}),
	}
	if reg == nil {
		return m, nil
	}
	var errs []error
	for _, c := range []prometheus.Collector{m.fetches, m.reminders} {
		errs = append(errs, reg.Register(c))
	}
	return m, errors.Join(errs...)
}
