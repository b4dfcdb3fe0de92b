package calendar_test

import (
	"strings"
	"testing"
	"time"

	gcalapi "google.golang.org/api/calendar/v3"

	"github.com/townhall/townhall/integrations/calendar"
	"github.com/townhall/townhall/integrations/calendar/gcaltest"
	"github.com/townhall/townhall/integrations/calendar/icstest"
	"github.com/townhall/townhall/integrations/integrationtest"
	"github.com/townhall/townhall/slackapp/slacktest"
)

// TestAllDayEventsEastOfTheCommunity: an all-day event is on its date in
// the community's zone, whatever zone its calendar is kept in. A calendar
// in Tokyo and one in Auckland (both ahead of London) used to put their
// all-day events of 5 March on London's 4 March, from the afternoon
// before, and remind them a day early.
func TestAllDayEventsEastOfTheCommunity(t *testing.T) {
	t.Parallel()
	srv := icstest.New(t, strings.ReplaceAll(`BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Google Inc//Google Calendar 70.9054//EN
X-WR-CALNAME:Tokyo chapter
X-WR-TIMEZONE:Asia/Tokyo
BEGIN:VEVENT
UID:tokyo-4@example.org
DTSTART;VALUE=DATE:20260304
DTEND;VALUE=DATE:20260305
SUMMARY:Tokyo 4 March
END:VEVENT
BEGIN:VEVENT
UID:tokyo-5@example.org
DTSTART;VALUE=DATE:20260305
DTEND;VALUE=DATE:20260306
SUMMARY:Tokyo 5 March
END:VEVENT
BEGIN:VEVENT
UID:tokyo-call@example.org
DTSTART:20260304T120000
DURATION:PT1H
SUMMARY:Tokyo noon call
END:VEVENT
END:VCALENDAR
`, "\n", "\r\n"))
	google := gcaltest.New(t)
	day := func(id, date, next string) *gcalapi.Event {
		return &gcalapi.Event{Id: id, Summary: "Auckland " + id, Start: &gcalapi.EventDateTime{Date: date}, End: &gcalapi.EventDateTime{Date: next}}
	}
	google.SetEvents("nz@group.calendar.google.com", "Pacific/Auckland", day("4 March", "2026-03-04", "2026-03-05"), day("5 March", "2026-03-05", "2026-03-06"))
	cfg := calendar.Config{
		Sources:        "ics:" + srv.URL() + "=" + slacktest.GeneralID + "; google:nz@group.calendar.google.com=" + slacktest.GeneralID,
		Reminders:      "24h",
		GoogleAPIKey:   "AIza-test",
		GoogleEndpoint: google.Endpoint(),
	}
	clock := integrationtest.NewClock(time.Date(2026, 3, 2, 23, 0, 0, 0, time.UTC))
	b := start(t, clock, load(t, "Europe/London"), cfg, "", nil)
	if posts := b.run(t, clock.Now()); len(posts) != 0 {
		t.Fatalf("reminded a day early: %s", texts(posts))
	}
	posts := b.run(t, time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC))
	if got := texts(posts); len(posts) != 2 || !strings.Contains(got, "Tokyo 4 March is tomorrow") || !strings.Contains(got, "Auckland 4 March is tomorrow") {
		t.Fatalf("at midnight before 4 March: %s", got)
	}

	b.clock.Set(time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC))
	posts = b.Command(t, slacktest.MemberID, slacktest.GeneralID, "/events", "tomorrow")
	want := []string{"Wed 4 Mar, all day Auckland 4 March", "Wed 4 Mar, all day Tokyo 4 March", "Wed 4 Mar 03:00 GMT Tokyo noon call"}
	if len(posts) != 1 || strings.Join(listed(posts[0].Text), "\n") != strings.Join(want, "\n") {
		t.Fatalf("/events tomorrow:\n%s\nwant:\n%s", texts(posts), strings.Join(want, "\n"))
	}
	posts = b.Command(t, slacktest.MemberID, slacktest.GeneralID, "/events", "week")
	if len(posts) != 1 || !strings.Contains(string(posts[0].Blocks), `*Thursday 5 March*\n• All day · *Auckland 5 March*\n• All day · *Tokyo 5 March*`) {
		t.Fatalf("/events week groups the 5 March events under another day: %s", posts[0].Blocks)
	}
}

// TestWeekEndsAtMidnight: /events, /events week and /events 7 show the
// same days: today and the next six, to the midnight that starts the same
// weekday next week in the community's zone.
func TestWeekEndsAtMidnight(t *testing.T) {
	t.Parallel()
	srv := icstest.New(t, feed(`BEGIN:VEVENT
UID:sunday-late@example.org
DTSTART;TZID=Europe/London:20260308T233000
SUMMARY:Sunday late
END:VEVENT
BEGIN:VEVENT
UID:monday-early@example.org
DTSTART;TZID=Europe/London:20260309T070000
SUMMARY:Next Monday early
END:VEVENT
BEGIN:VEVENT
UID:today@example.org
DTSTART;TZID=Europe/London:20260302T180000
SUMMARY:Tonight
END:VEVENT`))
	cfg := calendar.Config{Sources: "ics:" + srv.URL() + "=" + slacktest.GeneralID}
	clock := integrationtest.NewClock(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)) // Monday
	b := start(t, clock, load(t, "Europe/London"), cfg, "", nil)
	for _, arg := range []string{"", "week", "7"} {
		posts := b.Command(t, slacktest.MemberID, slacktest.GeneralID, "/events", arg)
		if len(posts) != 1 || !strings.HasPrefix(posts[0].Text, "🗓 2 events in the next 7 days (to Sun 8 Mar)\n• Mon 2 Mar 18:00 GMT Tonight\n• Sun 8 Mar 23:30 GMT Sunday late") ||
			strings.Contains(posts[0].Text, "Next Monday") {
			t.Errorf("/events %s: %s", arg, texts(posts))
		}
	}
	if posts := b.Command(t, slacktest.MemberID, slacktest.GeneralID, "/events", "8"); len(posts) != 1 || !strings.Contains(posts[0].Text, "Next Monday early") {
		t.Errorf("/events 8: %s", texts(posts))
	}
	if posts := b.Command(t, slacktest.MemberID, slacktest.GeneralID, "/events", "1"); len(posts) != 1 || !strings.HasPrefix(posts[0].Text, "🗓 1 event today\n• Mon 2 Mar 18:00 GMT Tonight") {
		t.Errorf("/events 1: %s", texts(posts))
	}
}
