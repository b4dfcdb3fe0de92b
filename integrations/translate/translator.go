package translate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/text/unicode/norm"

	"github.com/townhall/townhall/store"
)

// errNothingToTranslate is returned for text with no words: only emoji,
// mentions, links or code.
var errNothingToTranslate = errors.New("nothing to translate")

// errEmptyTranslation is returned when a provider answers a text that has
// words with no text at all.
var errEmptyTranslation = errors.New("the provider returned an empty translation")

// result is a finished translation.
type result struct {
	Text   string // mrkdwn, safe to post
	Source string // our code of the source language, "" when unknown
	Hash   string // the hash of the normalised text, part of its cache key
	Cached bool
	Sent   int // characters sent to the provider for it (0 when cached)
}

// cacheEntry is what the cache keeps for a translation.
type cacheEntry struct {
	Text   string `json:"t"`
	Source string `json:"s,omitempty"`
}

// translator translates mrkdwn through a provider, with the cache in
// front and the markup protected. It is safe for concurrent use.
type translator struct {
	p     provider
	key   string // the provider's name in cache keys: "google", "libretranslate", "deepl"
	cache store.Cache
	ttl   time.Duration
	log   *slog.Logger
	m     *metrics
	// billed, when set, is told the characters of every provider request
	// that succeeded, detection included (the monthly budget).
	billed func(ctx context.Context, chars int)
}

// bill records characters sent in a request that succeeded.
func (t *translator) bill(ctx context.Context, chars int) {
	t.m.sent.WithLabelValues(t.key).Add(float64(chars))
	if t.billed != nil && chars > 0 {
		t.billed(ctx, chars)
	}
}

// normalise is the form of text that is translated and hashed: NFC,
// Windows and old Mac line ends made "\n", trailing spaces of lines and
// surrounding blank lines dropped. Two messages that differ only so are
// billed once.
func normalise(text string) string {
	text = norm.NFC.String(text)
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t\u00a0")
	}
	return strings.Trim(strings.Join(lines, "\n"), "\n \t")
}

func hashText(normalised string) string {
	sum := sha256.Sum256([]byte(normalised))
	return hex.EncodeToString(sum[:])
}

// cacheKey is "translate:<provider>:<target>:<sha256 of the normalised text>".
func (t *translator) cacheKey(target, hash string) string {
	return "translate:" + t.key + ":" + target + ":" + hash
}

// cached returns a translation by its hash, if the cache still has it.
func (t *translator) cached(ctx context.Context, target, hash string) (result, bool, error) {
	raw, ok, err := t.cache.CacheGet(ctx, t.cacheKey(target, hash))
	if err != nil || !ok {
		return result{}, false, err
	}
	var e cacheEntry
	if err := json.Unmarshal(raw, &e); err != nil {
		return result{}, false, nil // an entry we cannot read is a miss
	}
	return result{Text: e.Text, Source: e.Source, Hash: hash, Cached: true}, true, nil
}

// translate translates mrkdwn text into target, detecting its language.
// Errors from the provider are wrapped; classify them with classify.
func (t *translator) translate(ctx context.Context, text, target string) (result, error) {
	return t.translateFrom(ctx, text, "", target)
}

// translateFrom translates mrkdwn text from source (our code; "" to have
// the provider detect it) into target.
func (t *translator) translateFrom(ctx context.Context, text, source, target string) (result, error) {
	n := normalise(text)
	if n == "" {
		return result{}, errNothingToTranslate
	}
	t.m.requested.WithLabelValues(t.key).Add(float64(utf8.RuneCountInString(n)))
	hash := hashText(n)
	if r, ok, err := t.cached(ctx, target, hash); err != nil {
		t.log.WarnContext(ctx, "translation cache unavailable", "error", err)
	} else if ok {
		t.m.cache.WithLabelValues("hit").Inc()
		return r, nil
	}
	t.m.cache.WithLabelValues("miss").Inc()

	p := prepare(n)
	if p.text == 0 {
		return result{}, errNothingToTranslate
	}
	cost, maxCost, maxSegs := t.p.limits()
	parts := chunks(p.frags, cost, maxCost)
	var out strings.Builder
	billed := 0
	for i := 0; i < len(parts); {
		// One request: as many parts as fit together.
		var segs []string
		total := 0
		for i < len(parts) && len(segs) < maxSegs {
			h := joinHTML(parts[i])
			c := cost(h)
			if len(segs) > 0 && total+c > maxCost {
				break
			}
			segs = append(segs, h)
			total += c
			i++
		}
		sent := 0
		for _, s := range segs {
			sent += utf8.RuneCountInString(s)
		}
		// Later requests name the source found by the first, so one
		// message is read as one language.
		ts, err := t.p.translate(ctx, segs, source, target)
		if err != nil {
			kind := classify(err)
			t.m.errors.WithLabelValues(t.key, string(kind)).Inc()
			return result{}, fmt.Errorf("%s: %w", t.p.name(), err)
		}
		t.bill(ctx, sent)
		billed += sent
		for j, tr := range ts {
			if source == "" && tr.source != "" {
				source = tr.source
			}
			out.WriteString(tr.html)
			// A provider may drop the space a part ended with.
			if src := segs[j]; strings.HasSuffix(src, " ") && !strings.HasSuffix(tr.html, " ") {
				out.WriteString(" ")
			}
		}
	}
	r := result{Text: restore(out.String(), p.items), Source: codeOf(source), Hash: hash, Sent: billed}
	if strings.TrimSpace(r.Text) == "" {
		// Slack refuses an empty section; a blank answer is no translation.
		t.m.errors.WithLabelValues(t.key, string(failOther)).Inc()
		return result{}, fmt.Errorf("%s: %w", t.p.name(), errEmptyTranslation)
	}
	entry, _ := json.Marshal(cacheEntry{Text: r.Text, Source: r.Source}) // strings always marshal
	if err := t.cache.CachePut(ctx, t.cacheKey(target, hash), entry, t.ttl); err != nil {
		t.log.WarnContext(ctx, "could not cache a translation", "error", err)
	}
	return r, nil
}

func joinHTML(frags []fragment) string {
	var b strings.Builder
	for _, f := range frags {
		b.WriteString(f.html)
	}
	return b.String()
}

// metrics are the integration's Prometheus collectors.
type metrics struct {
	requested *prometheus.CounterVec // characters users asked to translate, by provider
	sent      *prometheus.CounterVec // characters sent to the provider (billed), by provider
	cache     *prometheus.CounterVec // lookups by result
	errors    *prometheus.CounterVec // provider failures by provider, kind
	// detections counts requests made only to detect a language, by
	// provider.
	detections *prometheus.CounterVec
	// auto counts the messages of auto-translated channels, by outcome.
	auto *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requested: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "townhall_translate_characters_requested_total",
			Help: "Characters of text users asked to translate (cache hits included), by provider.",
		}, []string{"provider"}),
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "townhall_translate_characters_sent_total",
			Help: "Characters sent to the translation provider, markup included: what it bills, by provider.",
		}, []string{"provider"}),
		cache: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "townhall_translate_cache_lookups_total",
			Help: "Translation cache lookups, by result (hit, miss).",
		}, []string{"result"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "townhall_translate_provider_errors_total",
			Help: "Failed provider requests, by provider and kind (timeout, unavailable, auth, quota, ratelimited, unsupported, toolong, other).",
		}, []string{"provider", "kind"}),
	}
	m.detections = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "townhall_translate_detections_total",
		Help: "Requests made only to detect a message's language (Google detect, LibreTranslate /detect, a DeepL sample), by provider.",
	}, []string{"provider"})
	m.auto = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "townhall_translate_auto_messages_total",
		Help: "Messages of auto-translated channels, by outcome (translated, updated, deleted, skipped, already, paused, failed).",
	}, []string{"outcome"})
	m.cache.WithLabelValues("hit")
	m.cache.WithLabelValues("miss")
	if reg != nil {
		for _, c := range []prometheus.Collector{m.requested, m.sent, m.cache, m.errors, m.detections, m.auto} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("register metrics: %w", err)
			}
		}
	}
	return m, nil
}
