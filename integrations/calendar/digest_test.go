package calendar_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/townhall/townhall/integrations/calendar"
	"github.com/townhall/townhall/integrations/calendar/icstest"
	"github.com/townhall/townhall/integrations/integrationtest"
	"github.com/townhall/townhall/slackapp/slacktest"
)

// TestBusyDayDigest: a day of 1,400 events, with titles full of characters
// that escaping turns into entities, fills more than Slack's 50 blocks.
// The digest splits the day over sections without cutting an entity or a
// token, and says how many events it left out.
func TestBusyDayDigest(t *testing.T) {
	t.Parallel()
	srv := icstest.New(t, feed(`BEGIN:VEVENT
UID:every-minute@example.org
DTSTART:20260310T001000Z
DURATION:PT1M
RRULE:FREQ=MINUTELY;COUNT=1400
SUMMARY:R&D <sync> & review: "A&B" → C&D
END:VEVENT`))
	cfg := calendar.Config{Sources: "ics:" + srv.URL() + "=" + slacktest.GeneralID, Digest: "0 0 * * *", Reminders: "24h"}
	clock := integrationtest.NewClock(time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC))
	b := start(t, clock, time.UTC, cfg, "", nil)
	posts, err := b.RunJob(t, calendar.DigestJob)
	if err != nil || len(posts) != 1 {
		t.Fatalf("digest: %v %s", err, texts(posts))
	}
	var blocks []struct {
		Type string `json:"type"`
		Text *struct {
			Text string `json:"text"`
		} `json:"text"`
		Elements []struct {
			Text string `json:"text"`
		} `json:"elements"`
	}
	if err := json.Unmarshal(posts[0].Blocks, &blocks); err != nil {
		t.Fatal(err)
	}
	if len(blocks) > 50 {
		t.Fatalf("%d blocks; Slack takes 50", len(blocks))
	}
	shown, sections := 0, 0
	entity := regexp.MustCompile(`&(amp|lt|gt);`)
	var more string
	for _, bl := range blocks {
		var text string
		switch {
		case bl.Type == "section":
			text = bl.Text.Text
			sections++
			if n := utf8.RuneCountInString(text); n > 3000 {
				t.Errorf("a section of %d characters; Slack takes 3000", n)
			}
			shown += strings.Count(text, "\n• ")
			if sections > 1 && !strings.HasPrefix(text, "*Tuesday 10 March* (continued)\n") {
				t.Errorf("section %d does not say it continues the day: %.60q", sections, text)
			}
		case bl.Type == "context" && len(bl.Elements) > 0:
			text = bl.Elements[0].Text
			if strings.HasPrefix(text, "…and ") {
				more = text
			}
		}
		if bare := entity.ReplaceAllString(text, ""); strings.Contains(bare, "&") {
			t.Errorf("text cut inside an entity: %q", text[max(0, len(text)-80):])
		}
		if strings.Count(text, "<") != strings.Count(text, ">") {
			t.Errorf("text cut inside a <…> token: %q", text[max(0, len(text)-80):])
		}
		if strings.Contains(text, "…*") || strings.HasSuffix(text, "…") {
			t.Errorf("a line was cut: %q", text[max(0, len(text)-80):])
		}
	}
	left := 1400 - shown
	if left <= 0 {
		t.Fatalf("all %d events fit; the test wants more than 50 blocks' worth", shown)
	}
	want := fmt.Sprintf("…and %d more events that did not fit in this message: type `/events today` to see them all.", left)
	if more != want {
		t.Errorf("what is left out:\n got %q\nwant %q", more, want)
	}
	if !strings.Contains(posts[0].Text, "1400 events") || !strings.Contains(posts[0].Text, "…and "+strconv.Itoa(left)+" more events not shown") {
		t.Errorf("fallback text: %q", posts[0].Text)
	}
	if !strings.Contains(blocks[1].Text.Text, "R&amp;D &lt;sync&gt; &amp; review: \"A&amp;B\" → C&amp;D") {
		t.Errorf("first section: %.300s", blocks[1].Text.Text)
	}
}
