package calendar_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/townhall/townhall/integrations/calendar"
	"github.com/townhall/townhall/integrations/integrationtest"
	"github.com/townhall/townhall/slackapp/slacktest"
)

// TestSecretAddressNeverShown: a feed's "secret address" (user info, a
// private path, a token in the query) is a credential. Through a good
// fetch, a redirect loop back to it, an error status and a dead server, it
// shows in no reply, status, job error, log line or configuration error:
// only the feed's host does.
func TestSecretAddressNeverShown(t *testing.T) {
	t.Parallel()
	const secret = "s3cr3t-Tok3n"
	var step atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch step.Load() {
		case 0:
			w.Header().Set("Content-Type", "text/calendar")
			fmt.Fprint(w, feed("BEGIN:VEVENT\nUID:a@example.org\nDTSTART:20260320T120000Z\nSUMMARY:Event A\nEND:VEVENT"))
		case 1: // a redirect loop, through the secret address itself
			http.Redirect(w, r, r.URL.String(), http.StatusFound)
		default:
			http.Error(w, "no such calendar "+r.URL.String(), http.StatusNotFound)
		}
	}))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	secretURL := "http://calendar:" + secret + "@" + host + "/private/" + secret + "/basic.ics?token=" + secret
	cfg := calendar.Config{Sources: "ics:" + secretURL + "=" + slacktest.GeneralID}
	clock := integrationtest.NewClock(time.Date(2026, 3, 9, 12, 0, 0, 0, time.UTC))
	b := start(t, clock, time.UTC, cfg, "", nil)

	var shown []string
	look := func(what string) {
		t.Helper()
		_, err := b.RunJob(t, calendar.RemindJob)
		if err != nil {
			shown = append(shown, what+" job error: "+err.Error())
		}
		for _, p := range b.Command(t, slacktest.AdminID, slacktest.GeneralID, "/townhall", "status") {
			shown = append(shown, what+" status: "+p.Text)
		}
		for _, p := range b.Command(t, slacktest.MemberID, slacktest.GeneralID, "/events", "14") {
			shown = append(shown, what+" /events: "+p.Text+string(p.Blocks))
		}
		clock.Add(time.Hour) // past any backoff
	}
	look("good")
	step.Store(1)
	look("redirect loop")
	step.Store(2)
	look("404")
	srv.Close()
	look("dead server")
	st := strings.Join(shown, "\n")
	for _, want := range []string{"stopped after 10 redirects", "HTTP 404", "connect", "`" + host + "`"} {
		if !strings.Contains(st, want) {
			t.Errorf("what members and staff saw lacks %q:\n%s", want, st)
		}
	}
	if !strings.Contains(st, "Event A") {
		t.Errorf("/events lost the last good events:\n%s", st)
	}
	shown = append(shown, "logs: "+b.Logs.String())

	// Configuration errors, the redacted configuration, the source's String.
	bad := calendar.Config{Enabled: true, Sources: "ics:" + secretURL + "=general; ics:" + secretURL + "=C0RANDOM", Reminders: "24h", PollInterval: time.Minute, Lookahead: 720 * time.Hour, PageSize: 10}
	shown = append(shown, "validate: "+bad.Validate().Error(), "redacted: "+fmt.Sprintf("%+v", cfg.Redacted()))
	if _, err := calendar.New(bad, calendar.Deps{}); err != nil {
		shown = append(shown, "new: "+err.Error())
	}
	srcs, err := calendar.ParseSources(cfg.Sources)
	if err != nil {
		t.Fatal(err)
	}
	shown = append(shown, fmt.Sprintf("source: %v %s", srcs[0], srcs[0].Label()))
	for _, s := range shown {
		if strings.Contains(s, secret) || strings.Contains(s, "/private/") {
			t.Errorf("the secret address shows in %s", s)
		}
	}
}
