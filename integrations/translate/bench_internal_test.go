package translate

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/townhall/townhall/integrations/translate/deepl"
	"github.com/townhall/townhall/integrations/translate/deepltest"
	"github.com/townhall/townhall/store/sqlite"
)

// BenchmarkWorkload replays 1,000 translation requests of which half
// repeat an earlier text (as when several people translate the same
// announcement), through the SQLite cache and a DeepL fake. It reports
// the characters billed per character requested (target ≤ 0.55; DeepL
// bills text, not tags), the characters sent with markup per character
// requested (the townhall_translate_characters_sent_total metric, what a
// provider billing tags would charge), and the latency of cache hits
// (target p99 < 1 ms).
func BenchmarkWorkload(b *testing.B) {
	fake := deepltest.New(b)
	c, err := deepl.New(deepl.Config{Key: fake.Key, URL: fake.URL}, nil)
	if err != nil {
		b.Fatal(err)
	}
	st, err := sqlite.OpenStore(b.Context(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	m, err := newMetrics(nil)
	if err != nil {
		b.Fatal(err)
	}
	tr := &translator{p: deeplProvider{c}, key: "deepl", cache: st, ttl: time.Hour, log: slog.New(slog.DiscardHandler), m: m}

	const requests = 1000
	var requested, billed, sent int
	var hits []time.Duration
	for iter := 0; b.Loop(); iter++ {
		var texts []string
		for n := 0; n < requests; n++ {
			text := ""
			if n%2 == 1 { // every other request repeats an earlier text
				text = texts[(n*7919)%len(texts)]
			} else {
				text = fmt.Sprintf(messages[n%len(messages)]+" (%d/%d)", iter, n)
				texts = append(texts, text)
			}
			before, sentBefore := fake.Characters(), counter(m.sent)
			start := time.Now()
			res, err := tr.translate(b.Context(), text, "fr")
			took := time.Since(start)
			if err != nil {
				b.Fatal(err)
			}
			if res.Cached {
				hits = append(hits, took)
			}
			requested += utf8.RuneCountInString(normalise(text))
			billed += fake.Characters() - before
			sent += int(counter(m.sent) - sentBefore)
		}
	}
	slices.Sort(hits)
	b.ReportMetric(float64(billed)/float64(requested), "billed/requested")
	b.ReportMetric(float64(sent)/float64(requested), "sent/requested")
	if len(hits) > 0 {
		b.ReportMetric(float64(hits[len(hits)*99/100].Microseconds())/1000, "hit-p99-ms")
		b.ReportMetric(float64(hits[len(hits)/2].Microseconds())/1000, "hit-p50-ms")
	}
}

// counter reads the total of a counter vector.
func counter(v *prometheus.CounterVec) float64 {
	ch := make(chan prometheus.Metric, 16)
	v.Collect(ch)
	close(ch)
	total := 0.0
	for m := range ch {
		var d dto.Metric
		if m.Write(&d) == nil {
			total += d.GetCounter().GetValue()
		}
	}
	return total
}
