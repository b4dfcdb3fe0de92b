package calendar_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/townhall/townhall/integrations/calendar"
	"github.com/townhall/townhall/integrations/calendar/icstest"
	"github.com/townhall/townhall/integrations/integrationtest"
	"github.com/townhall/townhall/slackapp/slacktest"
)

// reminderRun is one run of the reminder job and what it must post: each
// want is a substring of one post's text, in any order (posts of one run
// have no order); no want, no post.
type reminderRun struct {
	at   time.Time
	want []string
}

// corpusCase is one real feed from testdata/corpus (see SOURCES), read as a
// community in zone would read it at clock time.
type corpusCase struct {
	file  string
	zone  string
	clock time.Time
	// arg is typed after /events; lines are the events it lists, as the
	// message's text shows them (in the community's zone).
	arg   string
	lines []string
	// blocks are substrings of the /events blocks (location, length, links).
	blocks []string
	runs   []reminderRun
}

func utc(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, time.UTC)
}

// TestCorpus serves each real feed from an HTTP server, as its publisher
// would, and checks what members see: the events /events lists with their
// times in the community's zone, and the reminders, each posted once, at
// the right instant.
func TestCorpus(t *testing.T) {
	corpus := integrationtest.Corpus(t, "calendar")
	t.Parallel()
	cases := []corpusCase{{
		// Google: VTIMEZONE, a daily RRULE with UNTIL, and an instance
		// overridden by RECURRENCE-ID (renamed "bla bla"), read in Berlin.
		file: "google_kiev_override.ics", zone: "Europe/Berlin", clock: utc(2016, 8, 24, 9, 0),
		lines: []string{
			"Thu 25 Aug 13:00 CEST repeated",
			"Fri 26 Aug 13:00 CEST bla bla",
			"Sat 27 Aug 13:00 CEST repeated",
			"Sun 28 Aug 13:00 CEST repeated",
		},
		runs: []reminderRun{
			{at: utc(2016, 8, 24, 11, 0), want: []string{"Reminder: repeated starts in 24 hours"}},
			{at: utc(2016, 8, 25, 10, 45), want: []string{"Reminder: repeated starts in 15 minutes"}},
			{at: utc(2016, 8, 25, 11, 0), want: []string{"Reminder: bla bla starts in 24 hours"}},
			{at: utc(2016, 8, 28, 11, 0)},
		},
	}, {
		// Google: a weekday RRULE with no end across the autumn change in
		// Zurich (14:00 stays 14:00), a multi-line LOCATION and Apple's
		// X-APPLE-STRUCTURED-LOCATION with quoted parameters.
		file: "google_zurich_weekdays.ics", zone: "Europe/Zurich", clock: utc(2016, 10, 27, 12, 30),
		arg: "week",
		lines: []string{
			"Fri 28 Oct 14:00 CEST Daily Sync",
			"Mon 31 Oct 14:00 CET Daily Sync",
			"Tue 1 Nov 14:00 CET Daily Sync",
			"Wed 2 Nov 14:00 CET Daily Sync",
		},
		blocks: []string{"(30 min) · 📍 Roadstar 16 12764 Happyville Denmark"},
		runs: []reminderRun{
			{at: utc(2016, 10, 28, 11, 45), want: []string{"Daily Sync starts in 15 minutes"}},
			{at: utc(2016, 10, 31, 12, 45), want: []string{"Daily Sync starts in 15 minutes (Mon 31 Oct 14:00 CET)"}},
		},
	}, {
		// Exchange (Outlook on the web): Windows zone names, a weekly rule
		// on four days with a folded list of EXDATEs, and a DTSTART whose
		// value Exchange wrote inside the TZID's quotes.
		file: "exchange_windows_zones.ics", zone: "Europe/Berlin", clock: utc(2020, 8, 24, 12, 0),
		arg: "week",
		lines: []string{
			"Tue 25 Aug 09:00 CEST Log Yesterday's Jira time",
			"Wed 26 Aug 09:00 CEST Log Yesterday's Jira time",
			"Thu 27 Aug 09:00 CEST Log Yesterday's Jira time",
			"Thu 27 Aug 21:00 CEST Not the actual summary either",
			"Fri 28 Aug 09:00 CEST Log Yesterday's Jira time",
			"Fri 28 Aug 21:00 CEST Not the actual summary either",
			"Sat 29 Aug 09:00 CEST Log Yesterday's Jira time",
			"Sun 30 Aug 21:00 CEST Not the actual summary either",
		},
		runs: []reminderRun{
			// Tuesday 25 August 12:00 Pacific is in EXDATE.
			{at: utc(2020, 8, 24, 19, 0)},
			{at: utc(2020, 8, 25, 6, 45), want: []string{"Log Yesterday's Jira time starts in 15 minutes"}},
			{at: utc(2020, 8, 27, 18, 45), want: []string{"Not the actual summary either starts in 15 minutes (Thu 27 Aug 21:00 CEST)"}},
		},
	}, {
		// Exchange: an all-day weekly series whose Thursday was moved to
		// Friday, the RECURRENCE-ID written as midnight in Berlin; read in
		// Tokyo, where that midnight falls on another day.
		file: "exchange_allday_moved.ics", zone: "Asia/Tokyo", clock: utc(2026, 2, 23, 0, 0),
		lines: []string{
			"Tue 24 Feb, all day Exchange Recurring Test",
			"Fri 27 Feb, all day Exchange Recurring Test",
		},
		runs: []reminderRun{
			{at: utc(2026, 2, 24, 15, 0)}, // the moved Thursday's old reminder
			{at: utc(2026, 2, 25, 15, 0), want: []string{"Reminder: Exchange Recurring Test is tomorrow"}},
			{at: utc(2026, 3, 1, 15, 0), want: []string{"Reminder: Exchange Recurring Test is tomorrow"}},
		},
	}, {
		// Outlook (desktop): all-day holidays, unfolded long lines,
		// SUMMARY;LANGUAGE= with a trailing space.
		file: "outlook_germany_holidays.ics", zone: "Europe/Berlin", clock: utc(2019, 4, 17, 10, 0),
		lines:  []string{"Fri 19 Apr, all day Germany: Good Friday"},
		blocks: []string{"📍 Germany"},
		runs: []reminderRun{
			{at: utc(2019, 4, 17, 22, 0), want: []string{"Reminder: Germany: Good Friday is tomorrow"}},
		},
	}, {
		// Nextcloud (SabreDAV's export): a 40-day all-day event whose
		// DTSTART carries both TZID and VALUE=DATE.
		file: "nextcloud_school_holidays.ics", zone: "Europe/Berlin", clock: utc(2018, 7, 1, 10, 0),
		arg:    "tomorrow",
		lines:  []string{"Mon 2 Jul, all day Sommerferien Sachsen"},
		blocks: []string{"*Sommerferien Sachsen* (40 days)"},
		runs: []reminderRun{
			{at: utc(2018, 7, 1, 10, 1)}, // due at midnight, before the calendar was added
		},
	}, {
		// Apple (macOS Calendar): UTC and TZID times with no VTIMEZONE,
		// X-WR-TIMEZONE, and a cancelled event among tentative and
		// confirmed ones.
		file: "apple_macos_statuses.ics", zone: "America/Vancouver", clock: utc(2022, 7, 4, 12, 0),
		lines: []string{
			"Mon 4 Jul 16:00 PDT Tentative",
			"Tue 5 Jul 09:00 PDT Confirmed",
			"Thu 7 Jul 09:00 PDT No Status",
		},
		runs: []reminderRun{
			{at: utc(2022, 7, 4, 22, 45), want: []string{"Reminder: Tentative starts in 15 minutes"}},
			{at: utc(2022, 7, 5, 15, 45), want: []string{"Reminder: Confirmed starts in 15 minutes"}},
			{at: utc(2022, 7, 6, 19, 45)}, // the cancelled one
		},
	}, {
		// Thunderbird: a daily series with two instances moved (one
		// earlier, one later) and both DTEND and DURATION on them.
		file: "thunderbird_moved_instances.ics", zone: "Europe/Berlin", clock: utc(2019, 3, 6, 12, 0),
		lines: []string{
			"Thu 7 Mar 02:00 CET New Event",
			"Fri 8 Mar 01:00 CET New Event",
			"Sat 9 Mar 03:00 CET New Event",
			"Sun 10 Mar 02:00 CET New Event",
		},
		runs: []reminderRun{
			{at: utc(2019, 3, 7, 23, 45), want: []string{"Reminder: New Event starts in 15 minutes (Fri 8 Mar 01:00 CET)"}},
			{at: utc(2019, 3, 8, 0, 45)}, // its original time
			{at: utc(2019, 3, 9, 1, 45), want: []string{"Reminder: New Event starts in 15 minutes (Sat 9 Mar 03:00 CET)"}},
		},
	}, {
		// Thunderbird: a VTIMEZONE carrying London's history back to 1847
		// (six-digit offsets such as -000115).
		file: "thunderbird_london_history.ics", zone: "Europe/London", clock: utc(2024, 10, 22, 12, 0),
		arg:   "tomorrow",
		lines: []string{"Wed 23 Oct 15:00 BST event with alarms"},
		runs: []reminderRun{
			{at: utc(2024, 10, 22, 14, 0), want: []string{"Reminder: event with alarms starts in 24 hours"}},
		},
	}, {
		// Meetup: a VTIMEZONE for Phoenix (no DST), folded description and
		// location with escaped commas, an http event page.
		file: "meetup_phoenix.ics", zone: "America/Phoenix", clock: utc(2011, 11, 8, 12, 0),
		lines:  []string{"Wed 9 Nov 19:00 MST Phoenix Drupal User Group Monthly Meetup"},
		blocks: []string{"📍 Open Source Project Tempe (1415 E University Dr. #103A, Tempe, AZ 85281)"},
		runs: []reminderRun{
			{at: utc(2011, 11, 9, 2, 0), want: []string{"Reminder: Phoenix Drupal User Group Monthly Meetup starts in 24 hours"}},
			{at: utc(2011, 11, 10, 1, 45), want: []string{"Reminder: Phoenix Drupal User Group Monthly Meetup starts in 15 minutes (Wed 9 Nov 19:00 MST)"}},
		},
	}}
	for _, tc := range cases {
		t.Run(strings.TrimSuffix(tc.file, ".ics"), func(t *testing.T) {
			t.Parallel()
			body, err := os.ReadFile(filepath.Join(corpus, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			srv := icstest.New(t, string(body))
			clock := integrationtest.NewClock(tc.clock)
			// The job runs every minute; these runs are hours apart, so a
			// short catch-up keeps each to what fell due just before it.
			cfg := calendar.Config{Sources: "ics:" + srv.URL() + "=" + slacktest.GeneralID, CatchUp: 10 * time.Minute}
			b := startWith(t, clock, load(t, tc.zone), cfg, "", nil, extras{cursors: true})

			// The calendar is added now: nothing that fell due before is posted.
			if posts := b.run(t, tc.clock); len(posts) != 0 {
				t.Fatalf("first run posted: %s", texts(posts))
			}
			posts := b.Command(t, slacktest.MemberID, slacktest.GeneralID, "/events", tc.arg)
			if len(posts) != 1 {
				t.Fatalf("/events %s: %s", tc.arg, texts(posts))
			}
			if got := listed(posts[0].Text); strings.Join(got, "\n") != strings.Join(tc.lines, "\n") {
				t.Errorf("/events %s lists:\n%s\nwant:\n%s", tc.arg, strings.Join(got, "\n"), strings.Join(tc.lines, "\n"))
			}
			for _, want := range tc.blocks {
				if !strings.Contains(string(posts[0].Blocks), want) {
					t.Errorf("/events blocks lack %q:\n%s", want, posts[0].Blocks)
				}
			}
			for _, r := range tc.runs {
				posts := b.run(t, r.at)
				if len(posts) != len(r.want) {
					t.Fatalf("at %s: %d posts, want %d: %s", r.at, len(posts), len(r.want), texts(posts))
				}
				for _, want := range r.want {
					if !strings.Contains(texts(posts), want) {
						t.Errorf("at %s: no post says %q: %s", r.at, want, texts(posts))
					}
				}
				// A minute later, nothing is posted again.
				if again := b.run(t, r.at.Add(time.Minute)); len(again) != 0 {
					t.Fatalf("at %s: posted again: %s", r.at.Add(time.Minute), texts(again))
				}
			}
			if strings.Contains(b.Logs.String(), srv.URL()) {
				t.Error("the feed's address reached the logs")
			}
		})
	}
}

// listed returns the event lines of an /events answer's text.
func listed(text string) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		if l, ok := strings.CutPrefix(line, "• "); ok {
			out = append(out, l)
		}
	}
	return out
}
