package web

import "testing"

func TestCount(t *testing.T) {
	t.Parallel()
	for n, want := range map[int]string{0: "0 results", 1: "1 result", 999: "999 results", 1000: "1,000 results", 1234567: "1,234,567 results", -1200: "-1,200 results"} {
		if got := count(n, "result", "results"); got != want {
			t.Errorf("count(%d) = %q, want %q", n, got, want)
		}
	}
}
