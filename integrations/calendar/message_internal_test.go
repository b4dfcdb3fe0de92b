package calendar

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestJoinURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		e    Event
		want string
	}{
		{Event{JoinURL: "https://meet.google.com/abc"}, "https://meet.google.com/abc"},
		{Event{Location: "https://us02web.zoom.us/j/123?pwd=x."}, "https://us02web.zoom.us/j/123?pwd=x"},
		{Event{Location: "Room 4", Description: "Agenda https://example.org/a then https://teams.microsoft.com/l/meetup-join/1"}, "https://teams.microsoft.com/l/meetup-join/1"},
		{Event{Description: "(https://jitsi.example.org/room)"}, "https://jitsi.example.org/room"},
		{Event{Description: "https://acme.webex.com/meet/x"}, "https://acme.webex.com/meet/x"},
		{Event{Description: "http://zoom.us/j/1 is not https"}, ""},
		{Event{Description: "https://notzoom.us/j/1"}, ""},
	}
	for _, tt := range tests {
		if got := joinURL(tt.e); got != tt.want {
			t.Errorf("joinURL(%+v) = %q, want %q", tt.e, got, tt.want)
		}
	}
}

func TestUntilAndDuration(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for d, want := range map[time.Duration]string{
		15 * time.Minute: "in 15 minutes", time.Minute: "in 1 minute", 90 * time.Minute: "in 90 minutes",
		time.Hour: "in 1 hour", 24 * time.Hour: "in 24 hours", 72 * time.Hour: "in 3 days", 20 * time.Second: "now",
	} {
		if got := until(now, now.Add(d)); got != want {
			t.Errorf("until(%s) = %q, want %q", d, got, want)
		}
	}
	for d, want := range map[time.Duration]string{0: "", 45 * time.Minute: "45 min", 2 * time.Hour: "2 h", 150 * time.Minute: "2 h 30 min"} {
		if got := duration(Event{Start: now, End: now.Add(d)}); got != want {
			t.Errorf("duration(%s) = %q, want %q", d, got, want)
		}
	}
}

func TestSummaryAndSafe(t *testing.T) {
	t.Parallel()
	if got := summary("<p>Hello&nbsp;<b>world</b></p><br>next  line\n\n", 100); got != "Hello world next line" {
		t.Errorf("summary = %q", got)
	}
	if got := safe("<!here> @channel & <https://evil|x>"); got != "&lt;!here&gt; @\u2060channel &amp; &lt;https://evil|x&gt;" {
		t.Errorf("safe = %q", got)
	}
	if got := oneLine("abcdef", 4); got != "abc…" {
		t.Errorf("oneLine = %q", got)
	}
}

func TestOwedAllDayAndOffsets(t *testing.T) {
	t.Parallel()
	i := &Integration{offsets: []time.Duration{24 * time.Hour, 15 * time.Minute}, cfg: Config{CatchUp: time.Hour}}
	now := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	allDay := Event{InstanceID: "d", Start: now.Add(24 * time.Hour), End: now.Add(48 * time.Hour), AllDay: true}
	timed := Event{InstanceID: "t", Start: now.Add(15 * time.Minute)}
	// A timed event that began within startedGrace still gets the
	// reminder that fell due before it; one that began earlier does not,
	// nor does an all-day event that has begun.
	started := Event{InstanceID: "started", Start: now.Add(-startedGrace)}
	past := Event{InstanceID: "past", Start: now.Add(-startedGrace - time.Second)}
	today := Event{InstanceID: "today", Start: now.Add(-time.Minute), End: now.Add(24 * time.Hour), AllDay: true}
	got := i.owed([]Event{allDay, timed, started, past, today}, now)
	var ids []string
	for _, d := range got {
		ids = append(ids, fmt.Sprintf("%s/%s", d.event.InstanceID, d.offset))
	}
	if want := "d/24h0m0s t/15m0s started/15m0s"; strings.Join(ids, " ") != want {
		t.Errorf("owed = %v, want %s", ids, want)
	}
	if got := i.owed([]Event{{Start: now.Add(15*time.Minute + time.Second), AllDay: true}}, now); len(got) != 0 {
		t.Errorf("an all-day event got a 15 min reminder: %+v", got)
	}
	// Beyond the catch-up window nothing is owed.
	if got := i.owed([]Event{{Start: now.Add(22 * time.Hour)}}, now); len(got) != 0 {
		t.Errorf("catch-up beyond the window: %+v", got)
	}
}

func TestMoreValueRoundTrip(t *testing.T) {
	t.Parallel()
	sp := span{from: time.Unix(1772434800, 0).UTC(), to: time.Unix(1773014400, 0).UTC(), name: "the next 7 days: a:b"}
	got, ch, off, err := decodeMore(encodeMore(sp, "C0GENERAL", 10), time.UTC)
	if err != nil || ch != "C0GENERAL" || off != 10 || !got.from.Equal(sp.from) || !got.to.Equal(sp.to) || got.name != sp.name {
		t.Errorf("round trip: %+v %q %d %v", got, ch, off, err)
	}
	for _, bad := range []string{"", "1:2:C:x:n", "5:1:C:0:n", "1:2:C:-1:n"} {
		if _, _, _, err := decodeMore(bad, time.UTC); err == nil {
			t.Errorf("decodeMore(%q) accepted", bad)
		}
	}
}

// Slack rejects a button whose url is over 3000 characters (invalid_blocks,
// a permanent refusal that would confirm the reminder's claim unposted).
func TestJoinURLTooLongForAButton(t *testing.T) {
	t.Parallel()
	long := "https://us02web.zoom.us/j/1?pwd=" + strings.Repeat("x", 3000)
	e := Event{Title: "Sync", Description: "Join: " + long, Start: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	if got := joinURL(e); got != "" {
		t.Errorf("joinURL found a %d-character link", len(got))
	}
	m := reminderMessage(clock{loc: time.UTC}, e, e.Start.Add(-15*time.Minute), false, e.Start)
	b, err := json.Marshal(m.Blocks)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), long) {
		t.Errorf("the reminder carries a button url of %d characters", len(long))
	}
}

// An all-day event is on the date the calendar wrote, whatever the
// community's zone: midnight in Berlin is still the evening before in
// New York.
func TestDayWordAllDayInAnotherZone(t *testing.T) {
	t.Parallel()
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip(err)
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip(err)
	}
	c := clock{loc: ny}
	start := time.Date(2026, 3, 3, 0, 0, 0, 0, berlin) // Tuesday 3 March, all day
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, ny)      // Monday 2 March in New York
	if got := dayWord(c, now, start); got != "tomorrow" {
		t.Errorf("dayWord = %q, want %q", got, "tomorrow")
	}
	if got := dayWord(c, now.AddDate(0, 0, 1), start); got != "today" {
		t.Errorf("dayWord on the day = %q, want %q", got, "today")
	}
}

func TestTruncateMrkdwn(t *testing.T) {
	t.Parallel()
	s := "• <!date^1773144600^{time}|12:10 GMT> · *R&amp;D &lt;sync&gt; — 日本語* · <https://meet.jit.si/x|Join>"
	for n := 0; n <= utf8.RuneCountInString(s)+1; n++ {
		got := truncateMrkdwn(s, n)
		if utf8.RuneCountInString(got) > n {
			t.Fatalf("n=%d: %q is longer", n, got)
		}
		if !utf8.ValidString(got) {
			t.Fatalf("n=%d: %q cuts a character", n, got)
		}
		body := strings.TrimSuffix(got, "…")
		if strings.Count(body, "<") != strings.Count(body, ">") {
			t.Fatalf("n=%d: %q cuts a <…> token", n, got)
		}
		for i := strings.Index(body, "&"); i >= 0; i = strings.Index(body, "&") {
			if !strings.HasPrefix(body[i:], "&amp;") && !strings.HasPrefix(body[i:], "&lt;") && !strings.HasPrefix(body[i:], "&gt;") {
				t.Fatalf("n=%d: %q cuts an entity", n, got)
			}
			body = body[i+1:]
		}
	}
	if got := truncateMrkdwn(s, 1000); got != s {
		t.Errorf("short enough, yet changed: %q", got)
	}
	if got := truncateMrkdwn("a &amp; b", 5); got != "a…" {
		t.Errorf(`truncateMrkdwn("a &amp; b", 5) = %q, want "a…"`, got)
	}
}
