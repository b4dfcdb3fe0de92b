package translate

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/townhall/townhall/store/sqlite"
)

// blankProvider answers every segment with nothing, as a provider that
// lost the text does.
type blankProvider struct{}

func (blankProvider) name() string { return "Blank" }
func (blankProvider) limits() (func(string) int, int, int) {
	return runeCost, 5000, 50
}
func (blankProvider) translate(_ context.Context, segs []string, _, _ string) ([]translated, error) {
	return make([]translated, len(segs)), nil
}
func (blankProvider) detect(context.Context, string, string) (string, int, error) { return "", 0, nil }

// An empty answer is a failure, not a translation: Slack refuses a
// section block with empty text, and the cache must not keep it.
func TestEmptyTranslationIsAnError(t *testing.T) {
	t.Parallel()
	st, err := sqlite.OpenStore(t.Context(), filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	m, err := newMetrics(nil)
	if err != nil {
		t.Fatal(err)
	}
	tr := &translator{p: blankProvider{}, key: "blank", cache: st, ttl: time.Hour, log: slog.New(slog.DiscardHandler), m: m}
	res, err := tr.translate(t.Context(), "Hello everyone", "fr")
	if err == nil {
		t.Fatalf("translate = %+v, want an error", res)
	}
	if _, found, _ := tr.cached(t.Context(), "fr", hashText(normalise("Hello everyone"))); found {
		t.Error("the empty translation was cached")
	}
}
