package scheduler

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Run outcomes, the values of the outcome label.
const (
	outcomeOK    = "ok"
	outcomeError = "error"
	outcomePanic = "panic"
)

// metrics are the scheduler's Prometheus collectors, registered on the
// Registerer given to New (none when it is nil).
type metrics struct {
	runs     *prometheus.CounterVec   // by job, outcome
	duration *prometheus.HistogramVec // by job
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "townhall_job_runs_total",
			Help: "Scheduled job runs, by job and outcome (ok, error, panic).",
		}, []string{"job", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "townhall_job_duration_seconds",
			Help:    "Scheduled job run time, by job.",
			Buckets: []float64{.01, .05, .1, .5, 1, 5, 10, 30, 60, 300, 600},
		}, []string{"job"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.runs, m.duration} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("register metrics: %w", err)
			}
		}
	}
	return m, nil
}

// addJob makes a job's series exist (at zero) before its first run, so that
// rates and alerts see it from the start.
func (m *metrics) addJob(name string) {
	for _, o := range []string{outcomeOK, outcomeError, outcomePanic} {
		m.runs.WithLabelValues(name, o)
	}
}

// observe records one run.
func (m *metrics) observe(name, outcome string, seconds float64) {
	m.runs.WithLabelValues(name, outcome).Inc()
	m.duration.WithLabelValues(name).Observe(seconds)
}
