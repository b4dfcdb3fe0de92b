package feeds_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/townhall/townhall/integrations/feeds"
	"github.com/townhall/townhall/slackapp"
	"github.com/townhall/townhall/store/sqlite"
)

// countingPoster accepts every post.
type countingPoster struct{ n atomic.Int64 }

func (p *countingPoster) Post(context.Context, string, slackapp.Message) (string, error) {
	return fmt.Sprint(p.n.Add(1)), nil
}

// pollBundle is n feed subscriptions on one local server, polled directly
// (no Slack runtime): what the scheduler's job does.
func pollBundle(tb testing.TB, n, parallel int) (*feeds.Integration, *feedServer, *countingPoster) {
	tb.Helper()
	srv := newFeedServer(tb)
	var lines []string
	for k := range n {
		path := fmt.Sprintf("/f/%d.xml", k)
		srv.set(path, rssDoc([2]string{"2", "Two"}, [2]string{"1", "One"}), "application/rss+xml")
		lines = append(lines, srv.URL+path+" -> C0GENERAL")
	}
	st, err := sqlite.OpenStore(context.Background(), filepath.Join(tb.TempDir(), "townhall.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = st.Close() })
	cfg := baseConfig()
	cfg.Sources, cfg.MaxConcurrent = feeds.SourceList(strings.Join(lines, "\n")), parallel
	poster := &countingPoster{}
	in, err := feeds.New(cfg, feeds.Deps{Poster: poster, Claims: st, Cursors: st, Settings: st})
	if err != nil {
		tb.Fatal(err)
	}
	if err := in.PollAll(context.Background(), feeds.KindFeed); err != nil {
		tb.Fatal(err)
	}
	return in, srv, poster
}

func totalRequests(s *feedServer) (n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.requests {
		n += c
	}
	return n
}

func TestPollingIsBoundedAndUnchangedSourcesCostOneRequest(t *testing.T) {
	t.Parallel()
	in, srv, poster := pollBundle(t, 60, 3)
	if got := poster.n.Load(); got != 60 {
		t.Errorf("first poll posted %d items, want 60 (backfill 1 each)", got)
	}
	before := totalRequests(srv)
	if err := in.PollAll(t.Context(), feeds.KindFeed); err != nil {
		t.Fatal(err)
	}
	if got := totalRequests(srv) - before; got != 60 {
		t.Errorf("unchanged poll made %d requests, want 60", got)
	}
	srv.mu.Lock()
	maxSeen := srv.maxSeen
	srv.mu.Unlock()
	if maxSeen > 3 || maxSeen < 1 {
		t.Errorf("%d fetches were in flight at once, want 1 to 3", maxSeen)
	}
	if got := poster.n.Load(); got != 60 {
		t.Errorf("unchanged poll posted %d items", got-60)
	}
}

// BenchmarkPollUnchanged500 polls 500 subscriptions whose server answers
// 304 Not Modified, and reports the time of a whole poll and the requests
// made per source (target: 1).
func BenchmarkPollUnchanged500(b *testing.B) {
	const n = 500
	in, srv, _ := pollBundle(b, n, 8)
	before := totalRequests(srv)
	polls := 0
	b.ReportAllocs()
	for b.Loop() {
		if err := in.PollAll(context.Background(), feeds.KindFeed); err != nil {
			b.Fatal(err)
		}
		polls++
	}
	reqs := totalRequests(srv) - before
	b.ReportMetric(float64(reqs)/float64(polls*n), "requests/source")
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(polls), "ms/poll")
	srv.mu.Lock()
	b.ReportMetric(float64(srv.maxSeen), "max-in-flight")
	srv.mu.Unlock()
}
