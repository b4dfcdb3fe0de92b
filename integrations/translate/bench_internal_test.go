package translate

import (
	"errors"
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
	"github.com/townhall/townhall/integrations/translate/google"
	"github.com/townhall/townhall/integrations/translate/googletest"
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

// BenchmarkChannelDay replays a day of a six-language channel
// (dayOfMessages: 400 messages in en, fr, es, ar, zh and ru, a third of
// them a word or two, some links, code and other apps' posts) through
// auto-translation, against the Google and DeepL fakes, for a channel
// switched on for all six languages and for one switched on for two (en,
// fr). It reports the characters billed per day as a share of a bot that
// translates every message into every language of the channel ("naive":
// each member's message, whole, into each language), for two ways of
// doing it:
//
//   - "without detection": the same skipping (short, code, links, bots),
//     markup protection and cache, but every eligible message translated
//     into every language, its own included, with the source left to the
//     provider;
//   - "with detection": translations (detect.go), which never translates
//     a message into its own language and detects it as cheaply as the
//     provider allows.
//
// floor/naive is the least any approach that translates each eligible
// message into the languages it is not in could bill (its text, once per
// such language), and detect-share the part of the billed characters
// spent on detection alone (Google's detect endpoint; DeepL's samples are
// translations the fake cannot tell apart, so it shows 0 there).
func BenchmarkChannelDay(b *testing.B) {
	day := dayOfMessages(400, 2026)
	for _, provider := range []string{ProviderGoogle, ProviderDeepL} {
		for _, channel := range []struct {
			name  string
			langs []string
		}{{"six", []string{"en", "fr", "es", "ar", "zh", "ru"}}, {"two", []string{"en", "fr"}}} {
			b.Run(provider+"/"+channel.name, func(b *testing.B) {
				fake := newBenchFake(b, provider)
				var total dayCost
				days := 0
				for b.Loop() {
					days++
					total = total.plus(replayDay(b, fake, day, channel.langs))
				}
				b.ReportMetric(float64(total.naive)/float64(days), "naive-chars/day")
				b.ReportMetric(float64(total.without)/float64(total.naive), "without-detection/naive")
				b.ReportMetric(float64(total.with)/float64(total.naive), "with-detection/naive")
				b.ReportMetric(float64(total.floor)/float64(total.naive), "floor/naive")
				b.ReportMetric(float64(total.detect)/float64(max(total.with, 1)), "detect-share")
			})
		}
	}
}

// dayCost is what a replayed day was billed, in characters.
type dayCost struct{ naive, without, with, floor, detect int }

func (c dayCost) plus(d dayCost) dayCost {
	return dayCost{c.naive + d.naive, c.without + d.without, c.with + d.with, c.floor + d.floor, c.detect + d.detect}
}

// replayDay translates a day's messages for a channel in langs, once
// without detection and once with, each with an empty cache.
func replayDay(tb testing.TB, fake benchFake, day []dayMessage, langs []string) dayCost {
	tb.Helper()
	var c dayCost
	i := fake.integration()
	before := fake.billed()
	for _, m := range day {
		if m.bot {
			continue
		}
		c.naive += utf8.RuneCountInString(m.text) * len(langs)
		if i.skip(autoMessage{text: m.text}) != "" {
			continue
		}
		c.floor += utf8.RuneCountInString(m.text) * (len(langs) - boolInt(slices.Contains(langs, m.lang)))
		for _, l := range langs {
			if _, err := i.t.translate(tb.Context(), m.text, l); err != nil {
				tb.Fatal(err)
			}
		}
	}
	c.without = fake.billed() - before

	i = fake.integration()
	before, beforeDetect := fake.billed(), fake.detected()
	for _, m := range day {
		if m.bot || i.skip(autoMessage{text: m.text}) != "" {
			continue
		}
		res, err := i.translations(tb.Context(), "C0DAY", m.text, langs)
		if err != nil && !errors.Is(err, errNothingToTranslate) {
			tb.Fatal(err)
		}
		if m.lang != "" && res.source != m.lang {
			tb.Fatalf("%q detected as %q, want %s", m.text, res.source, m.lang)
		}
	}
	c.with = fake.billed() - before
	c.detect = fake.detected() - beforeDetect
	return c
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// A day's bill, as the benchmark measures it, for a guard on every run:
// detection always bills less than translating into every language, and
// stays within a few per cent of the floor.
func TestChannelDayCost(t *testing.T) {
	t.Parallel()
	day := dayOfMessages(80, 7)
	for _, provider := range []string{ProviderGoogle, ProviderDeepL} {
		for _, langs := range [][]string{{"en", "fr", "es", "ar", "zh", "ru"}, {"en", "fr"}, {"es", "fr"}} {
			c := replayDay(t, newBenchFake(t, provider), day, langs)
			t.Logf("%s %v: naive %d, without %d (%.2f), with %d (%.2f), floor %d (%.2f), detection %d",
				provider, langs, c.naive, c.without, float64(c.without)/float64(c.naive), c.with, float64(c.with)/float64(c.naive),
				c.floor, float64(c.floor)/float64(c.naive), c.detect)
			if c.with >= c.without {
				t.Errorf("%s %v: with detection %d, without %d", provider, langs, c.with, c.without)
			}
			if float64(c.with) > 1.15*float64(c.floor) {
				t.Errorf("%s %v: with detection %d, more than 15 %% over the floor %d", provider, langs, c.with, c.floor)
			}
		}
	}
}

func botOf(m dayMessage) string {
	if m.bot {
		return "B0OTHER"
	}
	return ""
}

// benchFake is a provider's fake for a benchmark: how many characters it
// billed, how many of those were for detection alone, and auto-translation
// over it with a new, empty cache.
type benchFake struct {
	billed, detected func() int
	integration      func() *Integration
}

func newBenchFake(b testing.TB, name string) benchFake {
	b.Helper()
	var f benchFake
	var newProvider func() provider
	switch name {
	case ProviderGoogle:
		s := googletest.New(b)
		f.billed = s.Characters
		f.detected = func() int {
			n := 0
			for _, d := range s.Detections() {
				n += utf8.RuneCountInString(d)
			}
			return n
		}
		newProvider = func() provider {
			c, err := google.New(b.Context(), google.Config{APIKey: s.APIKey, Endpoint: s.Endpoint()})
			if err != nil {
				b.Fatal(err)
			}
			return googleProvider{c}
		}
	default:
		s := deepltest.New(b)
		f.billed = s.Characters
		// DeepL has no detect endpoint: a detection is a translation of
		// a sample, which the fake cannot tell from others.
		f.detected = func() int { return 0 }
		newProvider = func() provider {
			c, err := deepl.New(deepl.Config{Key: s.Key, URL: s.URL}, nil)
			if err != nil {
				b.Fatal(err)
			}
			return deeplProvider{c}
		}
	}
	f.integration = func() *Integration {
		st, err := sqlite.OpenStore(b.Context(), filepath.Join(b.TempDir(), "bench.db"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { st.Close() })
		m, err := newMetrics(nil)
		if err != nil {
			b.Fatal(err)
		}
		log := slog.New(slog.DiscardHandler)
		return &Integration{
			cfg:     Config{MaxCharacters: 5000, ChannelMinWords: defaultMinWords, Timeout: 10 * time.Second},
			log:     log,
			sources: newSources(),
			t:       &translator{p: newProvider(), key: name, cache: st, ttl: time.Hour, log: log, m: m},
		}
	}
	return f
}
