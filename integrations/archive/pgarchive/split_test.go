package pgarchive

import (
	"fmt"
	"slices"
	"testing"

	"github.com/townhall/townhall/integrations/archive"
)

// TestSplit: an import's batch is split into parts that share no channel,
// keep the batch's order, hold every message once and are about equal; a
// small batch, or one of a single channel, stays whole.
func TestSplit(t *testing.T) {
	t.Parallel()
	batch := func(n, channels int) []archive.Message {
		var ms []archive.Message
		for k := range n {
			// Channels' sizes differ: the lower half's are twice the upper's.
			c := (k / 3) % (channels + channels/2)
			if c >= channels {
				c -= channels
			}
			ms = append(ms, archive.Message{Channel: fmt.Sprintf("C%03d", c), TS: fmt.Sprintf("1700000000.%06d", k)})
		}
		return ms
	}
	for _, tc := range []struct {
		name         string
		batch        []archive.Message
		writers      int
		wantParts    int
		maxImbalance float64 // largest part / smallest
	}{
		{"small batch", batch(bulkBatch-1, 50), 2, 1, 1},
		{"one channel", batch(5000, 1), 2, 1, 1},
		{"one writer", batch(5000, 50), 1, 1, 1},
		{"two writers", batch(5000, 50), 2, 2, 1.1},
		{"four writers", batch(5000, 500), 4, 4, 1.1},
		{"many writers, few channels", batch(5000, 3), 8, 3, 2.1},
		{"two channels, four writers", batch(5000, 2), 4, 2, 2.1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := &Archive{writers: tc.writers}
			parts := a.split(tc.batch)
			if len(parts) != tc.wantParts {
				t.Fatalf("%d parts, want %d", len(parts), tc.wantParts)
			}
			owner := map[string]int{}
			var all []archive.Message
			sizes := []int{}
			for k, p := range parts {
				sizes = append(sizes, len(p))
				for _, m := range p {
					if o, ok := owner[m.Channel]; ok && o != k {
						t.Errorf("channel %s in parts %d and %d", m.Channel, o, k)
					}
					owner[m.Channel] = k
				}
				if !slices.IsSortedFunc(p, func(x, y archive.Message) int { return cmpPair(x.TS, x.Channel, y.TS, y.Channel) }) {
					t.Errorf("part %d out of order", k)
				}
				all = append(all, p...)
			}
			slices.SortFunc(all, func(x, y archive.Message) int { return cmpPair(x.TS, x.Channel, y.TS, y.Channel) })
			key := func(m archive.Message) string { return m.Channel + "/" + m.TS }
			if !slices.EqualFunc(all, tc.batch, func(x, y archive.Message) bool { return key(x) == key(y) }) {
				t.Errorf("the parts hold %d messages, not the batch's %d", len(all), len(tc.batch))
			}
			if r := float64(slices.Max(sizes)) / float64(slices.Min(sizes)); r > tc.maxImbalance {
				t.Errorf("part sizes %v: largest %.2f × the smallest, want ≤ %.2f", sizes, r, tc.maxImbalance)
			}
		})
	}
}
