package slackapp

import "github.com/prometheus/client_golang/prometheus"

// metrics are the runtime's Prometheus collectors, registered on the
// Registerer given to New (none when it is nil).
type metrics struct {
	envelopes     *prometheus.CounterVec   // by type
	acks          *prometheus.CounterVec   // by outcome
	ackLatency    prometheus.Histogram     // envelope read → ack queued
	handlerTime   *prometheus.HistogramVec // by kind, route
	handlerErrs   *prometheus.CounterVec   // by kind, route
	duplicates    prometheus.Counter       // redeliveries dropped
	dedupErrors   prometheus.Counter       // shared dedup calls that failed
	journalErrors prometheus.Counter       // envelopes acknowledged without a journal entry
	journalBatch  prometheus.Histogram     // entries per journal write
	replays       *prometheus.CounterVec   // dead replicas' entries, by outcome
	posts         *prometheus.CounterVec   // by method, outcome
	retries       *prometheus.CounterVec   // by method, reason
	connected     prometheus.Gauge
	connects      *prometheus.CounterVec // by outcome
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		envelopes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "townhall_slack_envelopes_total",
			Help: "Socket Mode envelopes received, by type.",
		}, []string{"type"}),
		acks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "townhall_slack_acks_total",
			Help: "Socket Mode acknowledgements, by outcome (ok, error).",
		}, []string{"outcome"}),
		ackLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "townhall_slack_ack_latency_seconds",
			Help:    "Time from reading an envelope to queueing its acknowledgement.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .05, .25, 1, 3},
		}),
		handlerTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "townhall_handler_duration_seconds",
			Help:    "Handler run time, by kind and route.",
			Buckets: prometheus.DefBuckets,
		}, []string{"kind", "route"}),
		handlerErrs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "townhall_handler_errors_total",
			Help: "Handler runs that returned an error or panicked, by kind and route.",
		}, []string{"kind", "route"}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "townhall_slack_redeliveries_dropped_total",
			Help: "Redelivered envelopes acknowledged but not handled again.",
		}),
		dedupErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "townhall_slack_dedup_errors_total",
			Help: "Requests handled without the shared dedup because the store could not be asked.",
		}),
		journalErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "townhall_slack_journal_errors_total",
			Help: "Envelopes acknowledged without a journal entry because the store could not be written.",
		}),
		journalBatch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "townhall_slack_journal_batch_entries",
			Help:    "Envelopes recorded per journal write (group commit).",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 500},
		}),
		replays: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "townhall_slack_replays_total",
			Help: "Journal entries of dead replicas taken over, by outcome (handled, duplicate, expired, invalid).",
		}, []string{"outcome"}),
		posts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "townhall_slack_posts_total",
			Help: "Messages sent to Slack, by method and outcome (ok, permanent, failed).",
		}, []string{"method", "outcome"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "townhall_slack_post_retries_total",
			Help: "Retried sends, by method and reason (ratelimited, transient, joined).",
		}, []string{"method", "reason"}),
		connected: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "townhall_slack_connected",
			Help: "1 while a Socket Mode connection is open.",
		}),
		connects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "townhall_slack_connections_total",
			Help: "Socket Mode connection attempts, by outcome (ok, error, refused).",
		}, []string{"outcome"}),
	}
	// Make the outcomes visible at zero, so a dashboard sees them before
	// the first envelope arrives.
	for _, o := range []string{"ok", "error"} {
		m.acks.WithLabelValues(o)
		m.connects.WithLabelValues(o)
	}
	m.connects.WithLabelValues("refused")
	if reg != nil {
		reg.MustRegister(m.envelopes, m.acks, m.ackLatency, m.handlerTime, m.handlerErrs,
			m.duplicates, m.dedupErrors, m.journalErrors, m.journalBatch, m.replays, m.posts, m.retries, m.connected, m.connects)
	}
	return m
}
