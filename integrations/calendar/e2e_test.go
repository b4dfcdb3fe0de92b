package calendar_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gcalapi "google.golang.org/api/calendar/v3"

	"github.com/townhall/townhall/integrations"
	"github.com/townhall/townhall/integrations/calendar"
	"github.com/townhall/townhall/integrations/calendar/gcaltest"
	"github.com/townhall/townhall/integrations/calendar/icstest"
	"github.com/townhall/townhall/integrations/integrationtest"
	"github.com/townhall/townhall/slackapp"
	"github.com/townhall/townhall/slackapp/slacktest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func load(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// feed wraps VEVENTs in a VCALENDAR with CRLF line ends.
func feed(body string) string {
	s := "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//townhall//test//EN\n" + strings.TrimSpace(body) + "\nEND:VCALENDAR\n"
	return strings.ReplaceAll(s, "\n", "\r\n")
}

// bundle is one running app with the calendar integration.
type bundle struct {
	*integrationtest.Env
	clock *integrationtest.Clock
	db    string
}

// start runs the app at the clock's time with cfg (Enabled, short poll).
func start(t *testing.T, clock *integrationtest.Clock, loc *time.Location, cfg calendar.Config, db string, ws *slacktest.Server) bundle {
	t.Helper()
	return startWith(t, clock, loc, cfg, db, ws, extras{})
}

// extras say which of the store's capabilities the integration gets besides
// claims.
type extras struct {
	cursors bool // a calendar's first run is remembered
	rsvp    bool // members' answers are kept, and reminders' tallies updated
	// translate is handed over as Deps.Translate.
	translate func(ctx context.Context, text string, languages []string) (slackapp.Message, bool, error)
}

// startWith is start, with the store's capabilities that with names.
func startWith(t *testing.T, clock *integrationtest.Clock, loc *time.Location, cfg calendar.Config, db string, ws *slacktest.Server, with extras) bundle {
	t.Helper()
	cfg.Enabled = true
	if cfg.Reminders == "" {
		cfg.Reminders = "24h,15m"
	}
	cfg.PollInterval = time.Minute
	if cfg.CatchUp == 0 {
		cfg.CatchUp = 24 * time.Hour
	}
	cfg.Lookahead = 30 * 24 * time.Hour
	if cfg.PageSize == 0 {
		cfg.PageSize = 10
	}
	if db == "" {
		db = filepath.Join(t.TempDir(), "townhall.db")
	}
	e := integrationtest.Start(t, integrationtest.Options{Now: clock.Now, Location: loc, DatabasePath: db, Workspace: ws},
		func(e *integrationtest.Env) (integrations.Integration, error) {
			deps := calendar.Deps{Poster: e.Runtime.Poster(), Claims: e.Store, Now: e.Now, Location: e.Location,
				ResolveChannel: e.Runtime.ResolveChannel, Logger: slog.New(slog.NewTextHandler(e.Logs, nil))}
			if with.cursors {
				deps.Cursors = e.Store
			}
			deps.Translate = with.translate
			if with.rsvp {
				deps.Settings, deps.Updater = e.Store, e.Runtime.Poster()
			}
			return calendar.New(cfg, deps)
		})
	return bundle{Env: e, clock: clock, db: db}
}

// run runs the reminder job at time at and returns its posts.
func (b bundle) run(t *testing.T, at time.Time) []slacktest.Post {
	t.Helper()
	b.clock.Set(at)
	posts, err := b.RunJob(t, calendar.RemindJob)
	if err != nil {
		t.Logf("job error (may be expected): %v", err)
	}
	return posts
}

// postJSON renders a post as Slack received it, for golden files.
func postJSON(t *testing.T, p slacktest.Post) []byte {
	t.Helper()
	var blocks any
	if len(p.Blocks) > 0 {
		if err := json.Unmarshal(p.Blocks, &blocks); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(map[string]any{"channel": p.Channel, "ephemeral": p.Ephemeral(), "text": p.Text, "blocks": blocks}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func golden(t *testing.T, name string, p slacktest.Post) {
	t.Helper()
	got := postJSON(t, p)
	path := filepath.Join("testdata", name+".json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run with -update to create): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; run with -update if intended.\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

func texts(posts []slacktest.Post) string {
	var out []string
	for _, p := range posts {
		out = append(out, p.Channel+": "+p.Text)
	}
	return strings.Join(out, "\n")
}

const wgFeed = `BEGIN:VEVENT
UID:wg-idn@example.org
DTSTART;TZID=Europe/Paris:20260323T090000
DTEND;TZID=Europe/Paris:20260323T100000
RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=4
SUMMARY:WG IDN call <!channel>
LOCATION:https://zoom.us/j/123456789
DESCRIPTION:<p>Agenda: review the <b>draft</b> & next steps</p>
END:VEVENT`

// TestRemindersAcrossEuropeanDSTAndRestart: a weekly 09:00 Paris call is
// reminded 24 h and 15 min before, at 07:00 UTC after the spring change
// (08:00 before it), once, even across a restart.
func TestRemindersAcrossEuropeanDSTAndRestart(t *testing.T) {
	t.Parallel()
	paris := load(t, "Europe/Paris")
	srv := icstest.New(t, feed(wgFeed))
	cfg := calendar.Config{Sources: "ics:" + srv.URL() + "=" + slacktest.GeneralID}
	clock := integrationtest.NewClock(time.Date(2026, 3, 22, 7, 0, 0, 0, time.UTC))
	b := start(t, clock, paris, cfg, "", nil)

	// Before the change: Monday 23 March 09:00 CET is 08:00 UTC.
	if posts := b.run(t, time.Date(2026, 3, 22, 7, 59, 0, 0, time.UTC)); len(posts) != 0 {
		t.Fatalf("posted before time: %s", texts(posts))
	}
	posts := b.run(t, time.Date(2026, 3, 22, 8, 0, 0, 0, time.UTC))
	if len(posts) != 1 || !strings.Contains(posts[0].Text, "starts in 24 hours") {
		t.Fatalf("24 h reminder: %s", texts(posts))
	}
	if posts := b.run(t, time.Date(2026, 3, 22, 8, 1, 0, 0, time.UTC)); len(posts) != 0 {
		t.Fatalf("reminded twice: %s", texts(posts))
	}
	// After the change (29 March): Monday 30 March 09:00 CEST is 07:00 UTC.
	if posts := b.run(t, time.Date(2026, 3, 29, 6, 59, 0, 0, time.UTC)); len(posts) != 0 {
		t.Fatalf("posted at the old UTC hour: %s", texts(posts))
	}
	posts = b.run(t, time.Date(2026, 3, 29, 7, 0, 0, 0, time.UTC))
	if len(posts) != 1 {
		t.Fatalf("24 h reminder after the change: %s", texts(posts))
	}
	golden(t, "reminder_24h", posts[0])
	posts = b.run(t, time.Date(2026, 3, 30, 6, 45, 0, 0, time.UTC))
	if len(posts) != 1 || !strings.Contains(posts[0].Text, "in 15 minutes") {
		t.Fatalf("15 min reminder: %s", texts(posts))
	}
	golden(t, "reminder_15m", posts[0])

	// Restart on the same database and workspace: nothing is posted again.
	b.Stop(t)
	b2 := start(t, clock, paris, cfg, b.db, b.WS)
	if posts := b2.run(t, time.Date(2026, 3, 30, 6, 46, 0, 0, time.UTC)); len(posts) != 0 {
		t.Fatalf("reposted after restart: %s", texts(posts))
	}
	if st := srv.Stats(); st.NotModified == 0 {
		t.Errorf("feed stats %+v: an unchanged feed should be answered 304", st)
	}
}

// TestMovedAndCancelledInAmerica: across New York's spring change, a moved
// event is reminded at its new time only and a cancelled one never.
func TestMovedAndCancelledInAmerica(t *testing.T) {
	t.Parallel()
	ny := load(t, "America/New_York")
	srv := icstest.New(t, feed(`BEGIN:VEVENT
UID:board@example.org
DTSTART;TZID=America/New_York:20260308T180000
DTEND;TZID=America/New_York:20260308T190000
SUMMARY:Board meeting
END:VEVENT
BEGIN:VEVENT
UID:social@example.org
DTSTART;TZID=America/New_York:20260308T200000
DTEND;TZID=America/New_York:20260308T210000
SUMMARY:Social hour
END:VEVENT`))
	cfg := calendar.Config{Sources: "ics:" + srv.URL() + "=" + slacktest.GeneralID}
	clock := integrationtest.NewClock(time.Time{})
	// Sunday 8 March 18:00 EDT (clocks went forward at 02:00) is 22:00
	// UTC; 24 hours before is Saturday 22:00 UTC, 17:00 EST.
	b := start(t, clock, ny, cfg, "", nil)
	posts := b.run(t, time.Date(2026, 3, 7, 22, 0, 0, 0, time.UTC))
	if len(posts) != 1 || !strings.Contains(posts[0].Text, "Board meeting") {
		t.Fatalf("24 h reminder: %s", texts(posts))
	}
	// The board meeting moves to Monday; the social is cancelled.
	srv.Set(feed(`BEGIN:VEVENT
UID:board@example.org
SEQUENCE:1
DTSTART;TZID=America/New_York:20260309T180000
DTEND;TZID=America/New_York:20260309T190000
SUMMARY:Board meeting
END:VEVENT
BEGIN:VEVENT
UID:social@example.org
STATUS:CANCELLED
DTSTART;TZID=America/New_York:20260308T200000
SUMMARY:Social hour
END:VEVENT`), time.Date(2026, 3, 8, 0, 0, 0, 0, time.UTC))
	for _, at := range []time.Time{
		time.Date(2026, 3, 8, 0, 0, 0, 0, time.UTC),   // the social's 24 h reminder
		time.Date(2026, 3, 8, 21, 45, 0, 0, time.UTC), // the board's old 15 min reminder
	} {
		if posts := b.run(t, at); len(posts) != 0 {
			t.Fatalf("at %s: %s", at, texts(posts))
		}
	}
	// Monday 18:00 EDT is 22:00 UTC: its 24 h reminder is due Sunday 22:00 UTC.
	posts = b.run(t, time.Date(2026, 3, 8, 22, 0, 0, 0, time.UTC))
	if len(posts) != 1 || !strings.Contains(posts[0].Text, "Board meeting starts in 24 hours") {
		t.Fatalf("moved event's 24 h reminder: %s", texts(posts))
	}
	if posts := b.run(t, time.Date(2026, 3, 8, 23, 45, 0, 0, time.UTC)); len(posts) != 0 { // the social's 15 min reminder
		t.Fatalf("cancelled event reminded: %s", texts(posts))
	}
	posts = b.run(t, time.Date(2026, 3, 9, 21, 45, 0, 0, time.UTC))
	if len(posts) != 1 || !strings.Contains(posts[0].Text, "Board meeting starts in 15 minutes") {
		t.Fatalf("moved event's reminder: %s", texts(posts))
	}
}

// TestCatchUp: a reminder missed while the app was down is posted late if
// the event has not started, only the nearest of several, and never after
// the start.
func TestCatchUp(t *testing.T) {
	t.Parallel()
	srv := icstest.New(t, feed(`BEGIN:VEVENT
UID:a@example.org
DTSTART:20260310T120000Z
DTEND:20260310T130000Z
SUMMARY:Event A
END:VEVENT
BEGIN:VEVENT
UID:b@example.org
DTSTART:20260310T100000Z
SUMMARY:Event B
END:VEVENT
BEGIN:VEVENT
UID:c@example.org
DTSTART:20260310T090000Z
SUMMARY:Event C
END:VEVENT`))
	cfg := calendar.Config{Sources: "ics:" + srv.URL() + "=" + slacktest.GeneralID}
	clock := integrationtest.NewClock(time.Time{})
	b := start(t, clock, time.UTC, cfg, "", nil)
	// Back at 09:52 after a day down: A's 24 h reminder is late, B's 24 h
	// one is superseded by its 15 min one (also late), C has started.
	posts := b.run(t, time.Date(2026, 3, 10, 9, 52, 0, 0, time.UTC))
	if len(posts) != 2 {
		t.Fatalf("posts: %s", texts(posts))
	}
	for _, p := range posts {
		if !strings.HasPrefix(p.Text, "Late reminder: ") {
			t.Errorf("not marked late: %s", p.Text)
		}
	}
	if !strings.Contains(texts(posts), "Event A starts in 2 hours") || !strings.Contains(texts(posts), "Event B starts in 8 minutes") {
		t.Errorf("posts: %s", texts(posts))
	}
	golden(t, "reminder_late", posts[0])
	if posts := b.run(t, time.Date(2026, 3, 10, 11, 45, 0, 0, time.UTC)); len(posts) != 1 || strings.Contains(posts[0].Text, "Late") {
		t.Fatalf("A's 15 min reminder: %s", texts(posts))
	}
}

// TestReminderJustAfterStart: a reminder whose run came only after its
// event began (the replica posting it died, the database was away for a
// minute) is still posted within the first minutes, saying so, with the
// event's Join button; later it is skipped.
func TestReminderJustAfterStart(t *testing.T) {
	t.Parallel()
	srv := icstest.New(t, feed(`BEGIN:VEVENT
UID:weekly@example.org
DTSTART:20260310T120000Z
DTEND:20260310T130000Z
SUMMARY:Weekly call
LOCATION:https://meet.example.org/weekly
END:VEVENT
BEGIN:VEVENT
UID:standup@example.org
DTSTART:20260310T121000Z
SUMMARY:Stand-up
END:VEVENT`))
	cfg := calendar.Config{Reminders: "1m", Sources: "ics:" + srv.URL() + "=" + slacktest.GeneralID}
	clock := integrationtest.NewClock(time.Time{})
	b := start(t, clock, time.UTC, cfg, "", nil)
	if posts := b.run(t, time.Date(2026, 3, 10, 11, 0, 0, 0, time.UTC)); len(posts) != 0 {
		t.Fatalf("posts before anything was due: %s", texts(posts))
	}
	// The 11:59 run never happened; the next is at 12:02.
	posts := b.run(t, time.Date(2026, 3, 10, 12, 2, 0, 0, time.UTC))
	if len(posts) != 1 || !strings.HasPrefix(posts[0].Text, "Late reminder: Weekly call started 2 minutes ago") {
		t.Fatalf("posts at 12:02: %s", texts(posts))
	}
	if r := slacktest.Render(posts[0]); !strings.Contains(r, "[Join]") {
		t.Errorf("late reminder without its Join button:\n%s", r)
	}
	// The stand-up (no end time) began at 12:10; at 12:16 it is too late.
	if posts := b.run(t, time.Date(2026, 3, 10, 12, 16, 0, 0, time.UTC)); len(posts) != 0 {
		t.Fatalf("posts 6 minutes after the start: %s", texts(posts))
	}
}

// TestFailingSourceKeepsLastGoodEvents: a feed that starts failing keeps
// its events, reminders still go out, and status says what is wrong.
func TestFailingSourceKeepsLastGoodEvents(t *testing.T) {
	t.Parallel()
	srv := icstest.New(t, feed(`BEGIN:VEVENT
UID:a@example.org
DTSTART:20260310T120000Z
SUMMARY:Event A
END:VEVENT`))
	cfg := calendar.Config{Sources: "ics:" + srv.URL() + "=" + slacktest.GeneralID}
	clock := integrationtest.NewClock(time.Time{})
	b := start(t, clock, time.UTC, cfg, "", nil)
	if posts := b.run(t, time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC)); len(posts) != 0 {
		t.Fatalf("posts: %s", texts(posts))
	}
	srv.FailNext(http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable)
	clock.Set(time.Date(2026, 3, 9, 12, 0, 0, 0, time.UTC))
	posts, err := b.RunJob(t, calendar.RemindJob)
	if err == nil || !strings.Contains(err.Error(), "500") {
		t.Errorf("job error = %v, want the fetch failure", err)
	}
	if len(posts) != 1 || !strings.Contains(posts[0].Text, "Event A") {
		t.Fatalf("reminder from the last good events: %s", texts(posts))
	}
	// Backoff: a minute later is too soon to retry (the second failure
	// waits two minutes), so only one more failure is seen by 12:03.
	b.run(t, time.Date(2026, 3, 9, 12, 1, 0, 0, time.UTC))
	b.run(t, time.Date(2026, 3, 9, 12, 2, 0, 0, time.UTC))
	if st := srv.Stats(); st.Failed != 2 {
		t.Errorf("failed fetches = %d, want 2 (backoff)", st.Failed)
	}
	status := b.Command(t, slacktest.AdminID, slacktest.GeneralID, "/townhall", "status")
	if len(status) != 1 || !strings.Contains(status[0].Text, "failed fetch") || !strings.Contains(status[0].Text, "1 upcoming event") {
		t.Fatalf("status: %s", texts(status))
	}
	events := b.Command(t, slacktest.MemberID, slacktest.GeneralID, "/events", "")
	if len(events) != 1 || !strings.Contains(events[0].Text, "Event A") {
		t.Fatalf("/events while failing: %s", texts(events))
	}
}

// TestEventsCommandAndDigest: /events pages with a More button; the digest
// groups a week by day in the community's zone, with all-day events and a
// Tokyo event that crosses midnight there; a Google calendar feeds another
// channel.
func TestEventsCommandAndDigest(t *testing.T) {
	t.Parallel()
	london := load(t, "Europe/London")
	var b strings.Builder
	b.WriteString(`BEGIN:VEVENT
UID:daily@example.org
DTSTART;TZID=Europe/London:20260302T080000
DTEND;TZID=Europe/London:20260302T081500
RRULE:FREQ=DAILY;COUNT=14
SUMMARY:Daily standup
DESCRIPTION:Join at https://meet.jit.si/townhall-standup
END:VEVENT
BEGIN:VEVENT
UID:conf@example.org
DTSTART;VALUE=DATE:20260304
DTEND;VALUE=DATE:20260306
SUMMARY:Community conference
URL:https://example.org/conf
END:VEVENT
BEGIN:VEVENT
UID:tokyo@example.org
DTSTART;TZID=Asia/Tokyo:20260303T230000
DTEND;TZID=Asia/Tokyo:20260304T010000
SUMMARY:APAC office hours
LOCATION:Tokyo & online
END:VEVENT`)
	srv := icstest.New(t, feed(b.String()))
	google := gcaltest.New(t)
	google.RequireAPIKey("AIza-townhall")
	hangout := &gcalapi.Event{Id: "g1", Summary: "Public meeting", HangoutLink: "https://meet.google.com/abc-defg-hij",
		HtmlLink: "https://www.google.com/calendar/event?eid=g1",
		Start:    &gcalapi.EventDateTime{DateTime: "2026-03-05T18:00:00Z"}, End: &gcalapi.EventDateTime{DateTime: "2026-03-05T19:30:00Z"}}
	google.SetEvents("public@group.calendar.google.com", "Europe/London", hangout)
	cfg := calendar.Config{
		Sources:        "ics:" + srv.URL() + "=" + slacktest.GeneralID + "; google:public@group.calendar.google.com=" + slacktest.GeneralID + "," + slacktest.RandomID,
		Digest:         "0 7 * * MON",
		GoogleAPIKey:   slackapp.Secret("AIza-townhall"),
		GoogleEndpoint: google.Endpoint(),
		PageSize:       5,
	}
	clock := integrationtest.NewClock(time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC))
	env := start(t, clock, london, cfg, "", nil)

	posts := env.Command(t, slacktest.MemberID, slacktest.GeneralID, "/events", "week")
	if len(posts) != 1 || !posts[0].Ephemeral() {
		t.Fatalf("/events week: %s", texts(posts))
	}
	golden(t, "events_week", posts[0])
	more := env.Action(t, slacktest.BlockAction{ActionID: calendar.MoreActionID, UserID: slacktest.MemberID})
	if len(more) != 1 || !more[0].Ephemeral() || !strings.Contains(more[0].Text, "(6–10)") {
		t.Fatalf("More: %s", texts(more))
	}
	if posts := env.Command(t, slacktest.MemberID, slacktest.RandomID, "/events", "tomorrow"); len(posts) != 1 || strings.Contains(posts[0].Text, "standup") {
		t.Fatalf("/events in #random shows only its calendar: %s", texts(posts))
	}
	if posts := env.Command(t, slacktest.MemberID, slacktest.GeneralID, "/events", "soon"); len(posts) != 1 || !strings.Contains(posts[0].Text, "I don't know `soon`") {
		t.Fatalf("/events soon: %s", texts(posts))
	}

	posts, err := env.RunJob(t, calendar.DigestJob)
	if err != nil {
		t.Fatal(err)
	}
	if len(posts) != 2 {
		t.Fatalf("digest: %s", texts(posts))
	}
	for _, p := range posts {
		switch p.Channel {
		case slacktest.GeneralID:
			golden(t, "digest_week", p)
		case slacktest.RandomID:
			if !strings.Contains(p.Text, "1 event") {
				t.Errorf("#random digest: %s", p.Text)
			}
		}
	}
	// The digest is not posted twice for the same occurrence.
	if posts, _ := env.RunJob(t, calendar.DigestJob); len(posts) != 0 {
		t.Fatalf("digest twice: %s", texts(posts))
	}
	if strings.Contains(env.Logs.String(), "AIza-townhall") {
		t.Error("the Google API key reached the logs")
	}
}

// TestChannelNamesInSources: channels given by #name are looked up at
// their first use (one read of Slack's channel list for all of them), a
// private channel the app is in included; a name that matches no channel
// is reported in status and logged once, and does not hold up the other
// channels; /events knows which calendars a named channel has.
func TestChannelNamesInSources(t *testing.T) {
	t.Parallel()
	team := slacktest.Channel{ID: "C0TEAM", Name: "team", IsPrivate: true, IsMember: true}
	ws := slacktest.New(t, slacktest.WithChannel(team))
	a := icstest.New(t, feed(`BEGIN:VEVENT
UID:a@example.org
DTSTART:20260310T120000Z
SUMMARY:Event A
END:VEVENT`))
	r := icstest.New(t, feed(`BEGIN:VEVENT
UID:r@example.org
DTSTART:20260310T130000Z
SUMMARY:Event R
END:VEVENT`))
	cfg := calendar.Config{Reminders: "24h", Sources: "ics:" + a.URL() + "=#General, #gone, #team\nics:" + r.URL() + "=" + slacktest.RandomID}
	clock := integrationtest.NewClock(time.Date(2026, 3, 9, 11, 0, 0, 0, time.UTC))
	b := start(t, clock, time.UTC, cfg, "", ws)
	status := func() string {
		t.Helper()
		posts := b.Command(t, slacktest.AdminID, slacktest.GeneralID, "/townhall", "status")
		if len(posts) != 1 {
			t.Fatalf("status: %s", texts(posts))
		}
		return posts[0].Text
	}
	if st := status(); !strings.Contains(st, "→ #general (not looked up yet), #gone (not looked up yet), #team (not looked up yet):") {
		t.Errorf("status before the first use:\n%s", st)
	}
	if n := ws.Calls("conversations.list"); n != 0 {
		t.Errorf("%d channel lookups at start-up, want none", n)
	}

	if posts := b.run(t, time.Date(2026, 3, 9, 11, 59, 0, 0, time.UTC)); len(posts) != 0 {
		t.Fatalf("posted early: %s", texts(posts))
	}
	posts := b.run(t, time.Date(2026, 3, 9, 12, 0, 0, 0, time.UTC))
	if len(posts) != 2 || posts[0].Channel == posts[1].Channel {
		t.Fatalf("A's reminder, in #general and #team: %s", texts(posts))
	}
	for _, p := range posts {
		if (p.Channel != slacktest.GeneralID && p.Channel != team.ID) || !strings.Contains(p.Text, "Event A") {
			t.Errorf("A's reminder: %s: %s", p.Channel, p.Text)
		}
	}
	posts = b.run(t, time.Date(2026, 3, 9, 13, 0, 0, 0, time.UTC))
	if len(posts) != 1 || posts[0].Channel != slacktest.RandomID || !strings.Contains(posts[0].Text, "Event R") {
		t.Fatalf("R's reminder in #random: %s", texts(posts))
	}

	st := status()
	for _, want := range []string{
		"🟠 ics `127.0.0.1", "→ <#C0GENERAL>, #gone ⚠️, <#C0TEAM>:",
		"⚠️ no channel named #gone: check the name, or use its ID from the channel's About tab",
		"(retried every minute; nothing is posted there meanwhile)",
		"🟢 ics `127.0.0.1", "→ <#C0RANDOM>:",
	} {
		if !strings.Contains(st, want) {
			t.Errorf("status lacks %q:\n%s", want, st)
		}
	}
	if n := strings.Count(b.Logs.String(), "calendar channel cannot be resolved"); n != 1 || !strings.Contains(b.Logs.String(), "channel=#gone") {
		t.Errorf("the unknown channel was logged %d times, want once:\n%s", n, b.Logs.String())
	}

	// /events in a channel named by #name shows its own calendar.
	if posts := b.Command(t, slacktest.MemberID, slacktest.GeneralID, "/events", "2"); len(posts) != 1 || !strings.Contains(posts[0].Text, "Event A") || strings.Contains(posts[0].Text, "Event R") {
		t.Errorf("/events in #general: %s", texts(posts))
	}
	if posts := b.Command(t, slacktest.MemberID, slacktest.RandomID, "/events", "2"); len(posts) != 1 || strings.Contains(posts[0].Text, "Event A") || !strings.Contains(posts[0].Text, "Event R") {
		t.Errorf("/events in #random: %s", texts(posts))
	}
	// All within a minute: the channel list was read once.
	if n := ws.Calls("conversations.list"); n != 1 {
		t.Errorf("%d reads of the channel list, want 1", n)
	}
}

// TestDigestSkippedWhenEmpty: a week without events posts nothing.
func TestDigestSkippedWhenEmpty(t *testing.T) {
	t.Parallel()
	srv := icstest.New(t, feed(`BEGIN:VEVENT
UID:old@example.org
DTSTART:20250101T100000Z
SUMMARY:Long ago
END:VEVENT`))
	cfg := calendar.Config{Sources: "ics:" + srv.URL() + "=" + slacktest.GeneralID, Digest: "0 7 * * *"}
	clock := integrationtest.NewClock(time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC))
	env := start(t, clock, time.UTC, cfg, "", nil)
	if posts, err := env.RunJob(t, calendar.DigestJob); err != nil || len(posts) != 0 {
		t.Fatalf("empty digest: %v %s", err, texts(posts))
	}
	if posts := env.Command(t, slacktest.MemberID, slacktest.GeneralID, "/events", "today"); len(posts) != 1 || !strings.Contains(posts[0].Text, "No events today") {
		t.Fatalf("/events today: %s", texts(posts))
	}
}

// TestNewCalendarIsNotCaughtUp: with cursors, a calendar's first run does
// not post reminders that fell due before it was configured; a restart
// after downtime still catches up what fell due while it was down.
func TestNewCalendarIsNotCaughtUp(t *testing.T) {
	t.Parallel()
	srv := icstest.New(t, feed(`BEGIN:VEVENT
UID:a@example.org
DTSTART:20260310T120000Z
SUMMARY:Event A
END:VEVENT`))
	cfg := calendar.Config{Sources: "ics:" + srv.URL() + "=" + slacktest.GeneralID}
	clock := integrationtest.NewClock(time.Time{})
	b := startWith(t, clock, time.UTC, cfg, "", nil, extras{cursors: true})
	if posts := b.run(t, time.Date(2026, 3, 9, 18, 0, 0, 0, time.UTC)); len(posts) != 0 {
		t.Fatalf("first run caught up a reminder due before the calendar was configured: %s", texts(posts))
	}
	b.Stop(t)
	// Down from 18:00 until after the 15 min reminder fell due.
	b2 := startWith(t, clock, time.UTC, cfg, b.db, b.WS, extras{cursors: true})
	posts := b2.run(t, time.Date(2026, 3, 10, 11, 52, 0, 0, time.UTC))
	if len(posts) != 1 || !strings.HasPrefix(posts[0].Text, "Late reminder: Event A starts in 8 minutes") {
		t.Fatalf("after downtime: %s", texts(posts))
	}
}
