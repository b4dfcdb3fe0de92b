package digest

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/townhall/townhall/slackapp"
)

// counted are the subtypes of messages people write: a digest counts these
// and no others (joins, leaves, topic changes, bots).
var counted = map[string]bool{"": true, "thread_broadcast": true, "file_share": true, "me_message": true}

// byPerson reports whether m is a message a person wrote.
func byPerson(m Message) bool { return !m.Bot && m.User != "" && counted[m.Subtype] }

// tally is what a period's messages add up to, before names, lines and
// links are looked up.
type tally struct {
	messages int      // messages by people
	people   int      // who wrote them
	threads  []thread // the busiest first, at most the configured number
	joined   []string // user IDs who joined and did not leave, in order
}

// thread is one thread (or a lone message with reactions) of the period.
type thread struct {
	parent    Message
	replies   int // replies by people in the period
	reactions int // on the parent if posted in the period, and on those replies
}

func (t thread) score() int { return t.replies + t.reactions }

// count adds up a channel's messages (as Source.Messages returns them) for
// the period [since, before). Threads are ranked by replies and reactions
// together, then by replies, then oldest first; a thread needs at least
// one of either, a parent that is known and not hidden, and a parent not
// posted by self (the app's own digests are not news). An app's post (a
// feed item) counts only when people replied to it: reactions alone are
// not a conversation.
func count(ms []Message, since, before time.Time, top int, self string) tally {
	sinceTS, beforeTS := formatTS(since), formatTS(before)
	in := func(m Message) bool { return m.TS >= sinceTS && m.TS < beforeTS }
	var t tally
	people := make(map[string]bool)
	byTS := make(map[string]Message, len(ms))
	threads := make(map[string]*thread)
	get := func(ts string) *thread {
		th := threads[ts]
		if th == nil {
			th = &thread{}
			threads[ts] = th
		}
		return th
	}
	member := make(map[string]bool)
	for _, m := range ms {
		byTS[m.TS] = m
		if !in(m) {
			continue
		}
		switch m.Subtype {
		case "channel_join":
			if m.User != "" && !member[m.User] {
				member[m.User] = true
				t.joined = append(t.joined, m.User)
			}
			continue
		case "channel_leave":
			if member[m.User] {
				delete(member, m.User)
				t.joined = slices.DeleteFunc(t.joined, func(u string) bool { return u == m.User })
			}
			continue
		}
		if !byPerson(m) {
			continue
		}
		t.messages++
		people[m.User] = true
		if m.IsReply() {
			th := get(m.ThreadTS)
			th.replies++
			th.reactions += m.Reactions
		} else {
			get(m.TS).reactions += m.Reactions
		}
	}
	t.people = len(people)
	for ts, th := range threads {
		p, ok := byTS[ts]
		if !ok || p.Hidden || p.IsReply() || (self != "" && p.User == self) || th.score() == 0 ||
			!byPerson(p) && th.replies == 0 {
			continue
		}
		th.parent = p
		t.threads = append(t.threads, *th)
	}
	slices.SortFunc(t.threads, func(a, b thread) int {
		return cmp.Or(cmp.Compare(b.score(), a.score()), cmp.Compare(b.replies, a.replies), strings.Compare(a.parent.TS, b.parent.TS))
	})
	if len(t.threads) > top {
		t.threads = t.threads[:top]
	}
	return t
}

// report is a digest ready to render: counts with names, lines and links.
type report struct {
	channel       Channel
	since, before time.Time // the period, in the community's time zone
	days          int
	messages      int
	people        int
	threads       []shownThread
	members       []string // names of new members, escaped
	moreMembers   int      // new members not named
}

type shownThread struct {
	line      string // escaped mrkdwn
	link      string // "" when none could be made
	replies   int
	reactions int
}

// maxMembersNamed is how many new members a digest names.
const maxMembersNamed = 10

// title is the digest's header.
func (r report) title() string {
	if r.days == 7 {
		return "This week in #" + r.channel.Name
	}
	if r.days == 1 {
		return "Today in #" + r.channel.Name
	}
	return fmt.Sprintf("The last %d days in #%s", r.days, r.channel.Name)
}

// message renders the digest: a header, the period and counts, the
// busiest threads (one short block each, readable on a phone), and the
// new members.
func (r report) message() slackapp.Message {
	counts := fmt.Sprintf("%s from %s", plural(r.messages, "message", "messages"), plural(r.people, "person", "people"))
	newMembers := len(r.members) + r.moreMembers
	if newMembers > 0 {
		counts += ", " + plural(newMembers, "new member", "new members")
	}
	last := r.before.Add(-time.Second)
	period := r.since.Format("Mon 2 Jan") + " – " + last.Format("Mon 2 Jan")
	if r.since.Format("2006-01-02") == last.Format("2006-01-02") {
		period = r.since.Format("Mon 2 Jan")
	}
	text := fmt.Sprintf("%s: %s.", r.title(), counts)
	blocks := []slack.Block{
		slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, r.title(), true, false)),
		slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, period+" · "+counts, false, false)),
	}
	if len(r.threads) > 0 {
		blocks = append(blocks, section("*Busiest threads*"))
		for n, th := range r.threads {
			line := th.line
			if line == "" {
				line = "_(no text)_"
			}
			var facts []string
			if th.replies > 0 {
				facts = append(facts, "💬 "+plural(th.replies, "reply", "replies"))
			}
			if th.reactions > 0 {
				facts = append(facts, plural(th.reactions, "reaction", "reactions"))
			}
			if th.link != "" {
				facts = append(facts, "<"+th.link+"|Open thread>")
			}
			blocks = append(blocks, section(fmt.Sprintf("*%d.* %s\n%s", n+1, line, strings.Join(facts, " · "))))
		}
	}
	if newMembers > 0 {
		names := strings.Join(r.members, ", ")
		switch {
		case r.moreMembers > 0 && len(r.members) > 0:
			names += fmt.Sprintf(" and %d more", r.moreMembers)
		case r.moreMembers > 0:
			names = plural(r.moreMembers, "new member", "new members")
		case len(r.members) > 1:
			names = strings.Join(r.members[:len(r.members)-1], ", ") + " and " + r.members[len(r.members)-1]
		}
		blocks = append(blocks, section("*New members* 👋\nWelcome, "+names+"!"))
	}
	blocks = append(blocks, slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType,
		"Busiest means most replies and reactions. Bots, joins and leaves are not counted.", false, false)))
	return slackapp.Message{Text: text, Blocks: blocks}
}

func section(mrkdwn string) slack.Block {
	return slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, mrkdwn, false, false), nil, nil)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func sortByTS(ms []Message) {
	slices.SortStableFunc(ms, func(a, b Message) int { return strings.Compare(a.TS, b.TS) })
}
