package archive

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestSortedByTS: the same order as a stable sort by ts.
func TestSortedByTS(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 2, 50, 5000} {
		ms := make([]Message, n)
		for i := range ms {
			// Few distinct timestamps, so that ties are many.
			ms[i] = Message{Channel: fmt.Sprintf("C%d", i), TS: fmt.Sprintf("17000000%02d.000000", r.IntN(20))}
		}
		want := slices.Clone(ms)
		slices.SortStableFunc(want, func(x, y Message) int { return strings.Compare(x.TS, y.TS) })
		if got := sortedByTS(ms); !slices.EqualFunc(got, want, func(x, y Message) bool { return x.Channel == y.Channel && x.TS == y.TS }) {
			t.Errorf("%d messages: not in stable ts order", n)
		}
		if got := sortedByTS(want); len(want) > 0 && &got[0] != &want[0] {
			t.Errorf("%d sorted messages: copied", n)
		}
	}
}
