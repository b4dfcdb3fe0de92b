package calendar_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/townhall/townhall/integrations/calendar"
	"github.com/townhall/townhall/integrations/calendar/icstest"
	"github.com/townhall/townhall/integrations/integrationtest"
	"github.com/townhall/townhall/slackapp/slacktest"
)

// TestSlowSourceCostsOnlyItself: a feed that hangs holds up neither the
// other calendar's reminder nor /events. Everything waits on events (the
// hanging request arriving, the post being made), never on time.
func TestSlowSourceCostsOnlyItself(t *testing.T) {
	t.Parallel()
	arrived := make(chan struct{}, 1)
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case arrived <- struct{}{}:
		default:
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
		http.Error(w, "upstream timed out", http.StatusGatewayTimeout)
	}))
	t.Cleanup(hang.Close)
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	good := icstest.New(t, feed(`BEGIN:VEVENT
UID:good@example.org
DTSTART:20260310T120000Z
SUMMARY:Good calendar's event
END:VEVENT`))
	cfg := calendar.Config{Reminders: "24h", Sources: "ics:" + hang.URL + "/slow.ics=" + slacktest.GeneralID + "; ics:" + good.URL() + "=" + slacktest.RandomID}
	clock := integrationtest.NewClock(time.Date(2026, 3, 9, 12, 0, 0, 0, time.UTC))
	b := start(t, clock, time.UTC, cfg, "", nil)

	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	jobDone := make(chan error, 1)
	go func() { jobDone <- b.Scheduler.RunNow(ctx, calendar.RemindJob) }()
	select {
	case <-arrived:
	case <-ctx.Done():
		t.Fatal("the slow feed was never asked")
	}
	posts, err := b.WS.WaitPosts(ctx, 1)
	if err != nil {
		t.Fatalf("the good calendar's reminder waited for the slow one: %v", err)
	}
	if len(posts) != 1 || posts[0].Channel != slacktest.RandomID || !strings.Contains(posts[0].Text, "Good calendar's event starts in 24 hours") {
		t.Fatalf("posts: %s", texts(posts))
	}
	// /events does not wait for the fetch in flight either.
	if ev := b.Command(t, slacktest.MemberID, slacktest.RandomID, "/events", ""); len(ev) != 1 || !strings.Contains(ev[0].Text, "Good calendar's event") {
		t.Fatalf("/events while a feed hangs: %s", texts(ev))
	}
	select {
	case err := <-jobDone:
		t.Fatalf("the job ended before the slow feed answered: %v", err)
	default:
	}

	close(release)
	if err := <-jobDone; err == nil || !strings.Contains(err.Error(), "504") || strings.Contains(err.Error(), "slow.ics") {
		t.Errorf("job error = %v, want the slow feed's 504, without its path", err)
	}
	if err := b.Runtime.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(b.WS.Posts()); n != 2 { // the reminder and the /events answer
		t.Errorf("%d posts, want 2: %s", n, texts(b.WS.Posts()))
	}
}
