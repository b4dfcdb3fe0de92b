package calendar_test

import (
	"strings"
	"testing"
	"time"

	"github.com/townhall/townhall/integrations/calendar"
	"github.com/townhall/townhall/integrations/calendar/icstest"
	"github.com/townhall/townhall/integrations/integrationtest"
	"github.com/townhall/townhall/slackapp/slacktest"
)

const thirdID = "U0THIRD"

// answer taps an RSVP button on the message at ts as user and returns the
// ephemeral answer and the tally the message shows afterwards.
func answer(t *testing.T, b bundle, user, actionID, ts string) (reply string, tally string) {
	t.Helper()
	posts := b.Action(t, slacktest.BlockAction{ActionID: actionID, UserID: user, ChannelID: slacktest.GeneralID, MessageTS: ts})
	for _, p := range posts {
		switch {
		case p.Ephemeral():
			if p.User != "" && p.User != user {
				t.Errorf("the answer to %s went to %s", user, p.User)
			}
			reply = p.Text
		case p.Method == slacktest.MethodUpdate && p.TS == ts:
			tally = string(p.Blocks)
		default:
			t.Errorf("an RSVP posted %s %q", p.Method, p.Text)
		}
	}
	return reply, tally
}

// TestRSVP: three members answer a reminder, the app restarts between
// them, the tally follows, Who's coming names them, /events mine lists a
// member's answers, a moved instance keeps its answers and the next
// instance of the same meeting has its own.
func TestRSVP(t *testing.T) {
	t.Parallel()
	paris := load(t, "Europe/Paris")
	srv := icstest.New(t, feed(wgFeed))
	cfg := calendar.Config{Sources: "ics:" + srv.URL() + "=" + slacktest.GeneralID, RSVP: true}
	clock := integrationtest.NewClock(time.Date(2026, 3, 22, 7, 0, 0, 0, time.UTC))
	ws := slacktest.New(t, slacktest.WithUser(slacktest.User{ID: thirdID, Name: "third", RealName: "Tess Third", TZ: "Asia/Tokyo"}))
	b := startWith(t, clock, paris, cfg, "", ws, extras{rsvp: true})

	posts := b.run(t, time.Date(2026, 3, 22, 8, 0, 0, 0, time.UTC))
	if len(posts) != 1 || !strings.Contains(string(posts[0].Blocks), `"action_id":"calendar_rsvp_going"`) ||
		!strings.Contains(string(posts[0].Blocks), "No answers yet") {
		t.Fatalf("reminder without RSVP buttons: %s\n%s", texts(posts), posts[0].Blocks)
	}
	ts := posts[0].TS

	reply, tally := answer(t, b, slacktest.AdminID, calendar.RSVPGoingActionID, ts)
	if !strings.Contains(reply, "Noted: ✅ Going for *WG IDN call &lt;!channel&gt;*") || !strings.Contains(tally, "✅ 1 going · 🤔 0 maybe · ❌ 0 can't") {
		t.Fatalf("after admin: reply %q, tally %s", reply, tally)
	}
	answer(t, b, slacktest.MemberID, calendar.RSVPMaybeActionID, ts)

	b.Stop(t)
	b = startWith(t, clock, paris, cfg, b.db, ws, extras{rsvp: true})
	if _, tally = answer(t, b, thirdID, calendar.RSVPNoActionID, ts); !strings.Contains(tally, "✅ 1 going · 🤔 1 maybe · ❌ 1 can't") {
		t.Fatalf("answers lost across a restart: %s", tally)
	}
	// A second tap on the same answer takes it back.
	if reply, tally = answer(t, b, slacktest.MemberID, calendar.RSVPMaybeActionID, ts); !strings.Contains(reply, "taken back") || !strings.Contains(tally, "✅ 1 going · 🤔 0 maybe · ❌ 1 can't") {
		t.Fatalf("taking back: %q, %s", reply, tally)
	}
	if reply, _ = answer(t, b, slacktest.MemberID, calendar.RSVPWhoActionID, ts); reply != "*Who's coming* to *WG IDN call &lt;!channel&gt;* (Mon 23 Mar 09:00 CET)\n✅ Going (1): <@U0ADMIN>\n🤔 Maybe (0)\n❌ Can't (1): <@U0THIRD>" {
		t.Errorf("who = %q", reply)
	}
	if m, ok := ws.Message(slacktest.GeneralID, ts); !ok || !strings.Contains(m.Text, "WG IDN call") {
		t.Errorf("the reminder's text changed with its tally: %+v", m)
	}

	mine := func(user string) string {
		t.Helper()
		posts := b.Command(t, user, slacktest.GeneralID, "/events", "mine")
		if len(posts) != 1 || !posts[0].Ephemeral() {
			t.Fatalf("/events mine answered %s", texts(posts))
		}
		return posts[0].Text
	}
	if got := mine(slacktest.AdminID); !strings.HasPrefix(got, "*Your answers* (1 coming event)\n✅ ") || !strings.HasSuffix(got, "· Going") {
		t.Errorf("admin's answers: %q", got)
	}
	if got := mine(slacktest.MemberID); !strings.Contains(got, "You haven't answered") {
		t.Errorf("member's answers: %q", got)
	}

	// The first call moves to Tuesday 10:00: its answers go with it.
	srv.Set(feed(wgFeed+`
BEGIN:VEVENT
UID:wg-idn@example.org
RECURRENCE-ID;TZID=Europe/Paris:20260323T090000
DTSTART;TZID=Europe/Paris:20260324T100000
DTEND;TZID=Europe/Paris:20260324T110000
SUMMARY:WG IDN call (moved)
END:VEVENT`), clock.Now())
	clock.Add(10 * time.Minute) // past the poll interval
	if got := mine(thirdID); !strings.Contains(got, "WG IDN call (moved)") || !strings.Contains(got, "Can't") {
		t.Errorf("the moved call lost its answers: %q", got)
	}

	// The next week's call is another instance: /events lists both, each
	// with its RSVP button, and the second has no answers.
	posts = b.Command(t, thirdID, slacktest.GeneralID, "/events", "14")
	if len(posts) != 1 || strings.Count(string(posts[0].Blocks), `"action_id":"calendar_rsvp_open"`) != 2 {
		t.Fatalf("/events 14: %s\n%s", texts(posts), posts[0].Blocks)
	}
	var keys []string
	for _, part := range strings.Split(string(posts[0].Blocks), `"action_id":"calendar_rsvp_open"`)[1:] {
		_, v, _ := strings.Cut(part, `"value":"`)
		v, _, _ = strings.Cut(v, `"`)
		keys = append(keys, v)
	}
	posts = b.Action(t, slacktest.BlockAction{ActionID: calendar.RSVPOpenActionID, Value: keys[1], UserID: thirdID})
	if len(posts) != 1 || !strings.Contains(string(posts[0].Blocks), "No answers yet") || !strings.Contains(posts[0].Text, "Are you coming to WG IDN call") {
		t.Fatalf("the second call's card: %s\n%s", texts(posts), posts[0].Blocks)
	}
	posts = b.Action(t, slacktest.BlockAction{ActionID: calendar.RSVPOpenActionID, Value: keys[0], UserID: thirdID})
	if len(posts) != 1 || !strings.Contains(string(posts[0].Blocks), "You said: ❌ Can't") {
		t.Fatalf("the moved call's card: %s\n%s", texts(posts), posts[0].Blocks)
	}
	// Answering on the card (an ephemeral message) answers, and rewrites
	// nothing in the channel.
	before := len(ws.Posts())
	posts = b.Action(t, slacktest.BlockAction{ActionID: calendar.RSVPGoingActionID, Value: keys[1], UserID: thirdID})
	if len(posts) != 1 || !posts[0].Ephemeral() || !strings.Contains(posts[0].Text, "Noted: ✅ Going") {
		t.Fatalf("answer on the card: %s (%d posts since)", texts(posts), len(ws.Posts())-before)
	}
	if got := mine(thirdID); !strings.Contains(got, "(2 coming events)") {
		t.Errorf("third's answers: %q", got)
	}
}
