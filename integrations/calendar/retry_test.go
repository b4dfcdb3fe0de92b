package calendar_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/townhall/townhall/integrations/calendar"
	"github.com/townhall/townhall/integrations/calendar/icstest"
	"github.com/townhall/townhall/integrations/integrationtest"
	"github.com/townhall/townhall/slackapp/slacktest"
)

// TestRetryAfterPausesTheFeed: a feed server answering 429 or 503 with
// Retry-After (seconds or an HTTP date) is not asked again before the time
// it gave, capped at the backoff maximum (15 minutes), and status says the
// feed is paused until then. The clock is injected: nothing sleeps.
func TestRetryAfterPausesTheFeed(t *testing.T) {
	t.Parallel()
	srv := icstest.New(t, feed(`BEGIN:VEVENT
UID:a@example.org
DTSTART:20260320T120000Z
SUMMARY:Event A
END:VEVENT`))
	cfg := calendar.Config{Sources: "ics:" + srv.URL() + "=" + slacktest.GeneralID}
	t0 := time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC)
	clock := integrationtest.NewClock(t0)
	b := start(t, clock, time.UTC, cfg, "", nil)
	asked := func() int {
		st := srv.Stats()
		return st.Full + st.NotModified + st.Failed
	}
	b.run(t, t0)
	if n := asked(); n != 1 {
		t.Fatalf("%d requests at the first run, want 1", n)
	}

	// expectPause fails the next request as given at 'at', then checks the
	// feed is asked again at at+wait and not a second earlier.
	expectPause := func(at time.Time, status int, retryAfter string, wait time.Duration) {
		t.Helper()
		srv.FailNextRetryAfter(status, retryAfter)
		b.run(t, at)
		n := asked()
		st := b.Command(t, slacktest.AdminID, slacktest.GeneralID, "/townhall", "status")
		until := at.Add(wait)
		want := fmt.Sprintf("⏸ paused until <!date^%d^", until.Unix())
		if len(st) != 1 || !strings.Contains(st[0].Text, want) || !strings.Contains(st[0].Text, fmt.Sprintf("answered %d", status)) {
			t.Errorf("status after %d Retry-After: %s lacks %q:\n%s", status, retryAfter, want, texts(st))
		}
		for _, early := range []time.Time{at.Add(time.Minute), until.Add(-time.Second)} {
			b.run(t, early)
			b.Command(t, slacktest.MemberID, slacktest.GeneralID, "/events", "")
			if asked() != n {
				t.Fatalf("%d Retry-After %s at %s: asked again at %s, before %s", status, retryAfter, at, early, until)
			}
		}
		b.run(t, until)
		if asked() != n+1 {
			t.Fatalf("%d Retry-After %s: not asked again at %s", status, retryAfter, until)
		}
		if st := b.Command(t, slacktest.AdminID, slacktest.GeneralID, "/townhall", "status"); len(st) != 1 || strings.Contains(st[0].Text, "paused") {
			t.Errorf("status still paused after a good fetch: %s", texts(st))
		}
	}
	t1 := t0.Add(time.Minute)
	expectPause(t1, http.StatusTooManyRequests, "120", 120*time.Second)
	t2 := t1.Add(120*time.Second + time.Minute) // the poll interval after the good fetch
	expectPause(t2, http.StatusServiceUnavailable, t2.Add(300*time.Second).Format(http.TimeFormat), 300*time.Second)
	t3 := t2.Add(300*time.Second + time.Minute)
	expectPause(t3, http.StatusTooManyRequests, "86400", 15*time.Minute) // capped

	// The reminder still went out from the last good events meanwhile.
	if posts := b.run(t, time.Date(2026, 3, 19, 12, 0, 0, 0, time.UTC)); len(posts) != 1 || !strings.Contains(posts[0].Text, "Event A") {
		t.Errorf("reminder: %s", texts(posts))
	}
}
