package ics_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/townhall/townhall/integrations/calendar/ics"
	"github.com/townhall/townhall/integrations/calendar/icstest"
)

// feed wraps VEVENTs (and VTIMEZONEs) in a VCALENDAR with CRLF lines.
func feed(body string) string {
	s := "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//townhall//test//EN\nX-WR-CALNAME:Community\n" + strings.TrimSpace(body) + "\nEND:VCALENDAR\n"
	return strings.ReplaceAll(s, "\n", "\r\n")
}

func mustLoad(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func parse(t *testing.T, body string) *ics.Calendar {
	t.Helper()
	return parseIn(t, body, time.UTC)
}

func parseIn(t *testing.T, body string, floating *time.Location) *ics.Calendar {
	t.Helper()
	cal, err := ics.Parse(strings.NewReader(feed(body)), floating)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return cal
}

func starts(events []ics.Event) []string {
	var out []string
	for _, e := range events {
		out = append(out, e.Start.UTC().Format("2006-01-02T15:04Z"))
	}
	return out
}

func TestExpand(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		body     string
		from, to string
		want     []string // starts in UTC
	}{
		{
			name: "weekly across Europe's spring DST change keeps 09:00 Paris",
			body: `BEGIN:VEVENT
UID:wg@example.org
DTSTART;TZID=Europe/Paris:20260316T090000
DTEND;TZID=Europe/Paris:20260316T100000
RRULE:FREQ=WEEKLY;BYDAY=MO
SUMMARY:WG call
END:VEVENT`,
			from: "2026-03-15", to: "2026-04-01",
			want: []string{"2026-03-16T08:00Z", "2026-03-23T08:00Z", "2026-03-30T07:00Z"},
		},
		{
			name: "daily across America's spring DST change keeps 18:00 New York",
			body: `BEGIN:VEVENT
UID:daily@example.org
DTSTART;TZID=America/New_York:20260306T180000
DURATION:PT30M
RRULE:FREQ=DAILY;COUNT=4
SUMMARY:Standup
END:VEVENT`,
			from: "2026-03-01", to: "2026-04-01",
			want: []string{"2026-03-06T23:00Z", "2026-03-07T23:00Z", "2026-03-08T22:00Z", "2026-03-09T22:00Z"},
		},
		{
			name: "autumn change in Europe",
			body: `BEGIN:VEVENT
UID:autumn@example.org
DTSTART;TZID=Europe/Berlin:20261019T120000
RRULE:FREQ=WEEKLY;UNTIL=20261102T235959Z
SUMMARY:Lunch
END:VEVENT`,
			from: "2026-10-01", to: "2026-12-01",
			want: []string{"2026-10-19T10:00Z", "2026-10-26T11:00Z", "2026-11-02T11:00Z"},
		},
		{
			name: "monthly on the first Tuesday, three times",
			body: `BEGIN:VEVENT
UID:monthly@example.org
DTSTART:20260106T170000Z
DTEND:20260106T180000Z
RRULE:FREQ=MONTHLY;BYDAY=1TU;COUNT=3
SUMMARY:Monthly call
END:VEVENT`,
			from: "2026-01-01", to: "2026-12-31",
			want: []string{"2026-01-06T17:00Z", "2026-02-03T17:00Z", "2026-03-03T17:00Z"},
		},
		{
			name: "monthly on the 15th until April",
			body: `BEGIN:VEVENT
UID:fifteenth@example.org
DTSTART:20260115T120000Z
RRULE:FREQ=MONTHLY;BYMONTHDAY=15;UNTIL=20260415T120000Z
SUMMARY:Payday
END:VEVENT`,
			from: "2026-01-01", to: "2026-12-31",
			want: []string{"2026-01-15T12:00Z", "2026-02-15T12:00Z", "2026-03-15T12:00Z", "2026-04-15T12:00Z"},
		},
		{
			name: "EXDATE, a moved instance and a cancelled one",
			body: `BEGIN:VEVENT
UID:series@example.org
DTSTART;TZID=Europe/London:20260302T100000
DTEND;TZID=Europe/London:20260302T110000
RRULE:FREQ=WEEKLY;COUNT=5
EXDATE;TZID=Europe/London:20260309T100000
SUMMARY:Series
END:VEVENT
BEGIN:VEVENT
UID:series@example.org
RECURRENCE-ID;TZID=Europe/London:20260316T100000
DTSTART;TZID=Europe/London:20260317T150000
DTEND;TZID=Europe/London:20260317T160000
SUMMARY:Series (moved)
END:VEVENT
BEGIN:VEVENT
UID:series@example.org
RECURRENCE-ID:20260323T100000Z
STATUS:CANCELLED
DTSTART:20260323T100000Z
SUMMARY:Series
END:VEVENT`,
			from: "2026-03-01", to: "2026-04-30",
			want: []string{"2026-03-02T10:00Z", "2026-03-17T15:00Z", "2026-03-30T09:00Z"},
		},
		{
			name: "a VTIMEZONE with X-LIC-LOCATION and a Windows zone name",
			body: `BEGIN:VTIMEZONE
TZID:Custom Zone
X-LIC-LOCATION:America/Los_Angeles
BEGIN:STANDARD
DTSTART:19701101T020000
TZOFFSETFROM:-0700
TZOFFSETTO:-0800
END:STANDARD
END:VTIMEZONE
BEGIN:VEVENT
UID:pacific@example.org
DTSTART;TZID="Custom Zone":20260310T090000
SUMMARY:Pacific
END:VEVENT
BEGIN:VEVENT
UID:outlook@example.org
DTSTART;TZID=W. Europe Standard Time:20260310T090000
SUMMARY:Outlook
END:VEVENT`,
			from: "2026-03-01", to: "2026-04-01",
			want: []string{"2026-03-10T08:00Z", "2026-03-10T16:00Z"},
		},
		{
			name: "all-day events, a single one and a weekly one",
			body: `BEGIN:VEVENT
UID:holiday@example.org
DTSTART;VALUE=DATE:20260310
DTEND;VALUE=DATE:20260312
SUMMARY:Conference
END:VEVENT
BEGIN:VEVENT
UID:weekly-day@example.org
DTSTART;VALUE=DATE:20260301
RRULE:FREQ=WEEKLY;COUNT=2
SUMMARY:Quiet day
END:VEVENT`,
			from: "2026-03-01", to: "2026-04-01",
			want: []string{"2026-03-01T00:00Z", "2026-03-08T00:00Z", "2026-03-10T00:00Z"},
		},
		{
			name: "an event that started before the window still overlaps it",
			body: `BEGIN:VEVENT
UID:night@example.org
DTSTART;TZID=Asia/Tokyo:20260310T230000
DTEND;TZID=Asia/Tokyo:20260311T010000
SUMMARY:Late call in Tokyo
END:VEVENT`,
			from: "2026-03-10T15:00:00Z", to: "2026-03-11T00:00:00Z",
			want: []string{"2026-03-10T14:00Z"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cal := parse(t, tt.body)
			if len(cal.Warnings) > 0 {
				t.Errorf("warnings: %v", cal.Warnings)
			}
			got := starts(cal.Expand(day(t, tt.from), day(t, tt.to)))
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("starts:\n got %v\nwant %v", got, tt.want)
			}
		})
	}
}

func day(t *testing.T, s string) time.Time {
	t.Helper()
	if len(s) == 10 {
		s += "T00:00:00Z"
	}
	d, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestInstances(t *testing.T) {
	t.Parallel()
	cal := parseIn(t, `BEGIN:VEVENT
UID:series@example.org
DTSTART;TZID=Europe/London:20260302T100000
DTEND;TZID=Europe/London:20260302T113000
RRULE:FREQ=WEEKLY;COUNT=3
SUMMARY:Series\, with a comma
DESCRIPTION:Line one\nJoin: https://meet.jit.si/townhall
LOCATION:Room 1
URL:https://example.org/series
END:VEVENT
BEGIN:VEVENT
UID:series@example.org
RECURRENCE-ID;TZID=Europe/London:20260309T100000
DTSTART;TZID=Europe/London:20260309T120000
DTEND;TZID=Europe/London:20260309T130000
SUMMARY:Moved
END:VEVENT
BEGIN:VEVENT
UID:allday@example.org
DTSTART;VALUE=DATE:20260328
DTEND;VALUE=DATE:20260330
SUMMARY:Across the DST weekend
END:VEVENT`, mustLoad(t, "Europe/London"))
	got := cal.Expand(day(t, "2026-03-01"), day(t, "2026-04-01"))
	if len(got) != 4 {
		t.Fatalf("got %d instances: %+v", len(got), got)
	}
	first, moved := got[0], got[1]
	if first.Summary != "Series, with a comma" || first.Description != "Line one\nJoin: https://meet.jit.si/townhall" ||
		first.Location != "Room 1" || first.URL != "https://example.org/series" || first.End.Sub(first.Start) != 90*time.Minute {
		t.Errorf("first = %+v", first)
	}
	if first.InstanceID != "series@example.org/20260302T100000Z" {
		t.Errorf("first.InstanceID = %q", first.InstanceID)
	}
	if moved.Summary != "Moved" || moved.InstanceID != "series@example.org/20260309T100000Z" || moved.Start.Hour() != 12 {
		t.Errorf("moved = %+v (the ID must keep the original start)", moved)
	}
	allDay := got[3]
	if !allDay.AllDay || allDay.End.Sub(allDay.Start) != 47*time.Hour {
		t.Errorf("all-day over the DST weekend = %+v, want two calendar days (47 h)", allDay)
	}
	if cal.Name != "Community" {
		t.Errorf("Name = %q", cal.Name)
	}
}

func TestFloatingAndWarnings(t *testing.T) {
	t.Parallel()
	paris := mustLoad(t, "Europe/Paris")
	cal, err := ics.Parse(strings.NewReader(feed(`BEGIN:VEVENT
UID:floating@example.org
DTSTART:20260310T090000
SUMMARY:Floating
END:VEVENT
BEGIN:VEVENT
UID:broken@example.org
DTSTART:yesterday
SUMMARY:Broken
END:VEVENT
BEGIN:VEVENT
UID:badrule@example.org
DTSTART:20260310T090000Z
RRULE:FREQ=SOMETIMES
SUMMARY:Bad rule
END:VEVENT
BEGIN:VEVENT
UID:unknown-zone@example.org
DTSTART;TZID=Mars/Olympus_Mons:20260311T090000
SUMMARY:Unknown zone
END:VEVENT
BEGIN:VEVENT
DTSTART:20260310T090000Z
SUMMARY:No UID
END:VEVENT`)), paris)
	if err != nil {
		t.Fatal(err)
	}
	got := cal.Expand(day(t, "2026-03-01"), day(t, "2026-04-01"))
	if len(got) != 2 || !got[0].Start.Equal(time.Date(2026, 3, 10, 9, 0, 0, 0, paris)) || !got[1].Start.Equal(time.Date(2026, 3, 11, 9, 0, 0, 0, paris)) {
		t.Errorf("got %+v", got)
	}
	if len(cal.Warnings) != 4 {
		t.Errorf("warnings = %q, want 4 (broken, bad rule, no UID, unknown zone)", cal.Warnings)
	}
}

func TestParseRejectsNonCalendars(t *testing.T) {
	t.Parallel()
	for _, body := range []string{"", "<html>Not found</html>", "BEGIN:VCARD\r\nEND:VCARD\r\n"} {
		if _, err := ics.Parse(strings.NewReader(body), time.UTC); err == nil && body != "" {
			t.Errorf("Parse(%q) succeeded", body)
		}
	}
}

func TestClientConditionalGET(t *testing.T) {
	t.Parallel()
	body := feed(`BEGIN:VEVENT
UID:one@example.org
DTSTART:20260310T090000Z
SUMMARY:One
END:VEVENT`)
	srv := icstest.New(t, body)
	c, err := ics.NewClient(srv.URL(), nil, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	cal, changed, err := c.Fetch(ctx)
	if err != nil || !changed || cal.Events() != 1 {
		t.Fatalf("first fetch: %v, changed %v", err, changed)
	}
	again, changed, err := c.Fetch(ctx)
	if err != nil || changed || again != cal {
		t.Fatalf("second fetch: %v, changed %v, same calendar %v", err, changed, again == cal)
	}
	if st := srv.Stats(); st.Full != 1 || st.NotModified != 1 {
		t.Errorf("stats = %+v, want one 200 and one 304", st)
	}
	srv.FailNext(http.StatusBadGateway)
	if _, _, err := c.Fetch(ctx); err == nil || !strings.Contains(err.Error(), "502") {
		t.Errorf("failing fetch: %v", err)
	}
	if c.Last() != cal {
		t.Error("a failed fetch dropped the last good calendar")
	}
	srv.Set(strings.Replace(body, "SUMMARY:One", "SUMMARY:Two", 1), time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))
	cal, changed, err = c.Fetch(ctx)
	if err != nil || !changed || cal.Expand(day(t, "2026-03-01"), day(t, "2026-04-01"))[0].Summary != "Two" {
		t.Fatalf("after change: %v, changed %v", err, changed)
	}
	srv.Set("<html>oops</html>", time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	if _, _, err := c.Fetch(ctx); err == nil {
		t.Error("a malformed feed was accepted")
	}
	if c.Last() != cal {
		t.Error("a malformed feed replaced the last good calendar")
	}
}

func TestClientFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "cal.ics")
	if err := os.WriteFile(path, []byte(feed(`BEGIN:VEVENT
UID:one@example.org
DTSTART:20260310T090000Z
SUMMARY:One
END:VEVENT`)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, src := range []string{path, "file://" + path} {
		c, err := ics.NewClient(src, nil, time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		if _, changed, err := c.Fetch(t.Context()); err != nil || !changed {
			t.Fatalf("%s: %v", src, err)
		}
		if _, changed, err := c.Fetch(t.Context()); err != nil || changed {
			t.Fatalf("%s: unchanged file re-read: %v %v", src, changed, err)
		}
	}
	if _, err := ics.NewClient("ftp://example.org/x.ics", nil, time.UTC); err == nil {
		t.Error("ftp accepted")
	}
}

// TestUnreadableLinesCostOnlyThemselves: a line golang-ical cannot read no
// longer fails the feed: Exchange's value inside a quoted TZID is mended,
// anything else is skipped with a warning, and the rest is read.
func TestUnreadableLinesCostOnlyThemselves(t *testing.T) {
	t.Parallel()
	cal, err := ics.Parse(strings.NewReader(feed(`BEGIN:VEVENT
UID:exchange@example.org
DTSTART;TZID="W. Europe Standard Time:20260310T090000"
DTEND;TZID=W. Europe Standard Time:20260310T093000
SUMMARY:Quoted value
END:VEVENT
BEGIN:VEVENT
UID:bad-summary@example.org
DTSTART:20260311T090000Z
SUMMARY;LANGUAGE=en"us:Broken parameter
END:VEVENT`)), time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	got := cal.Expand(day(t, "2026-03-01"), day(t, "2026-04-01"))
	if len(got) != 2 || !got[0].Start.Equal(day(t, "2026-03-10T08:00:00Z")) || got[0].Summary != "Quoted value" || got[1].Summary != "" {
		t.Errorf("got %+v", got)
	}
	if len(cal.Warnings) != 1 || !strings.Contains(cal.Warnings[0], "(SUMMARY) could not be read") {
		t.Errorf("warnings = %q, want one for the SUMMARY line", cal.Warnings)
	}
}

// TestAllDayExceptionsMatchByDate: Outlook and Exchange write the EXDATE and
// RECURRENCE-ID of an all-day series as midnight in their own zone; they
// take out or replace that date wherever the calendar is read.
func TestAllDayExceptionsMatchByDate(t *testing.T) {
	t.Parallel()
	body := `BEGIN:VEVENT
UID:fortnightly@example.org
DTSTART;VALUE=DATE:20240701
DTEND;VALUE=DATE:20240702
RRULE:FREQ=WEEKLY;COUNT=4;BYDAY=MO
EXDATE;TZID=GMT Standard Time:20240715T000000
SUMMARY:Quiet day
END:VEVENT
BEGIN:VEVENT
UID:fortnightly@example.org
RECURRENCE-ID;TZID=W. Europe Standard Time:20240708T000000
DTSTART;VALUE=DATE:20240709
DTEND;VALUE=DATE:20240710
SUMMARY:Quiet day (moved)
END:VEVENT`
	for _, zone := range []string{"Asia/Tokyo", "UTC", "America/Los_Angeles"} {
		loc := mustLoad(t, zone)
		cal := parseIn(t, body, loc)
		var got []string
		for _, e := range cal.Expand(day(t, "2024-06-01"), day(t, "2024-09-01")) {
			got = append(got, e.Start.In(loc).Format("Jan 2")+" "+e.Summary+" "+e.InstanceID)
		}
		want := []string{
			"Jul 1 Quiet day fortnightly@example.org/" + time.Date(2024, 7, 1, 0, 0, 0, 0, loc).UTC().Format("20060102T150405Z"),
			"Jul 9 Quiet day (moved) fortnightly@example.org/" + time.Date(2024, 7, 8, 0, 0, 0, 0, loc).UTC().Format("20060102T150405Z"),
			"Jul 22 Quiet day fortnightly@example.org/" + time.Date(2024, 7, 22, 0, 0, 0, 0, loc).UTC().Format("20060102T150405Z"),
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("read in %s:\n%s\nwant:\n%s", zone, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		status     int
		retryAfter string
		want       time.Duration
	}{
		{http.StatusTooManyRequests, "120", 120 * time.Second},
		{http.StatusServiceUnavailable, " 3600 ", time.Hour},
		{http.StatusServiceUnavailable, now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{http.StatusTooManyRequests, "Monday, 09-Mar-26 10:05:00 GMT", 5 * time.Minute}, // RFC 850, still allowed
		{http.StatusTooManyRequests, now.Add(-time.Hour).Format(http.TimeFormat), 0},    // in the past
		{http.StatusTooManyRequests, "-5", 0},
		{http.StatusTooManyRequests, "soon", 0},
		{http.StatusTooManyRequests, "", 0},
		{http.StatusInternalServerError, "120", 0}, // only 429 and 503 are read
	}
	for _, tt := range tests {
		srv := icstest.New(t, feed(""))
		srv.FailNextRetryAfter(tt.status, tt.retryAfter)
		c, err := ics.NewClient(srv.URL(), nil, time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = c.Fetch(t.Context())
		var se *ics.StatusError
		if !errors.As(err, &se) || se.Code != tt.status {
			t.Fatalf("%d %q: err = %v", tt.status, tt.retryAfter, err)
		}
		if got := se.Wait(now); got != tt.want {
			t.Errorf("%d Retry-After %q: Wait = %s, want %s (err %v)", tt.status, tt.retryAfter, got, tt.want, err)
		}
	}
}

// TestWebcalIsFetchedOverHTTPS: webcal:// and webcals://, the addresses
// Apple Calendar and Outlook give for subscribing, are fetched over https.
func TestWebcalIsFetchedOverHTTPS(t *testing.T) {
	t.Parallel()
	body := feed("BEGIN:VEVENT\nUID:one@example.org\nDTSTART:20260310T090000Z\nSUMMARY:One\nEND:VEVENT")
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/calendar")
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "https://")
	for _, src := range []string{"webcal://" + host + "/published/2/abc", "webcals://" + host + "/x.ics", "WEBCAL://" + host + "/y.ics"} {
		c, err := ics.NewClient(src, srv.Client(), time.UTC)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if cal, _, err := c.Fetch(t.Context()); err != nil || cal.Events() != 1 {
			t.Errorf("%s: %v", src, err)
		}
	}
	if _, err := ics.NewClient("gopher://x.org/secret-token", nil, time.UTC); err == nil || strings.Contains(err.Error(), "secret-token") {
		t.Errorf("gopher: err = %v (must not quote the address)", err)
	}
}
