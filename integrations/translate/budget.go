package translate

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/townhall/townhall/slackapp"
	"github.com/townhall/townhall/store"
)

// The monthly character budget (TOWNHALL_TRANSLATE_MONTHLY_CHARACTERS).
//
// Every character sent to the provider in a request that succeeded counts,
// whatever asked for it (auto-translation, /translate, the shortcut, a
// flag) and detection included, in a setting per calendar month (UTC):
// "translate:usage:2026-12". When the month's count reaches nearShare of
// the cap, staff are told once; when it reaches the cap, auto-translation
// pauses until the month ends and staff are told once more, while
// on-demand translations go on (a person asked for them). /townhall
// status shows the count.
//
// The count is read, added to and written under a lock in this process;
// two replicas writing at the same instant may lose one request's count
// (on PostgreSQL), which the cap's margin absorbs.

// nearShare is the share of the cap at which staff are warned, in percent.
const nearShare = 90

// noticeLease bounds how long a budget notice holds its claim while it is
// posted.
const noticeLease = 5 * time.Minute

type budget struct {
	i     *Integration
	limit int // 0: no cap

	mu sync.Mutex
}

// month is the calendar month (UTC) of t, as the usage key names it.
func month(t time.Time) string { return t.UTC().Format("2006-01") }

func usageKey(m string) string { return "translate:usage:" + m }

// used returns the characters counted this month.
func (b *budget) used(ctx context.Context) (int, error) {
	raw, ok, err := b.i.settings.Setting(ctx, usageKey(month(b.i.now())))
	if err != nil || !ok {
		return 0, err
	}
	n, err := strconv.Atoi(raw)
	if err != nil {
		return 0, nil // an unreadable count starts again
	}
	return n, nil
}

// add counts characters sent. A failure to count is logged, never
// returned: the translation itself succeeded.
func (b *budget) add(ctx context.Context, chars int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	key := usageKey(month(b.i.now()))
	// Under a lock in the store: replicas sharing it count every request.
	err := store.Locked(ctx, b.i.claims, "translate.budget.lock", 10*time.Second, func() error {
		n, err := b.used(ctx)
		if err != nil {
			return err
		}
		return b.i.settings.SetSetting(ctx, key, strconv.Itoa(n+chars))
	})
	if err != nil {
		b.i.log.WarnContext(ctx, "could not count translated characters", "error", err)
	}
}

// paused reports whether this month's count has reached the cap. A count
// that cannot be read does not pause.
func (b *budget) paused(ctx context.Context) bool {
	if b.limit == 0 {
		return false
	}
	n, err := b.used(ctx)
	if err != nil {
		b.i.log.WarnContext(ctx, "could not read the translation budget", "error", err)
		return false
	}
	return n >= b.limit
}

// nextMonth is when the budget starts again.
func (b *budget) nextMonth() time.Time {
	now := b.i.now().UTC()
	return time.Date(now.Year(), now.Month()+1, 1, 0, 0, 0, 0, time.UTC)
}

// check tells staff, once a month each, that the count is near the cap or
// has reached it. They are the people who switched channels on by
// command, in a DM; when there are none (channels set only by the
// environment), the notice goes in channel, where auto-translation was
// working ("" to wait for a channel).
func (b *budget) check(ctx context.Context, channel string) {
	if b.limit == 0 {
		return
	}
	n, err := b.used(ctx)
	if err != nil {
		return
	}
	var kind, text string
	switch {
	case n >= b.limit:
		kind = "paused"
		text = fmt.Sprintf("⏸ *Auto-translation is paused* until %s: this month's translation budget of %s characters is used up (%s sent). "+
			"`/translate` and flag reactions still work. To resume sooner, raise TOWNHALL_TRANSLATE_MONTHLY_CHARACTERS.",
			b.nextMonth().Format("2 January"), thousands(b.limit), thousands(n))
	case n*100 >= b.limit*nearShare:
		kind = "near"
		text = fmt.Sprintf("📈 *Translation budget nearly used*: %s of %s characters this month (%d %%). "+
			"Auto-translation pauses at %s and resumes on %s; `/translate` and flag reactions keep working. "+
			"To allow more, raise TOWNHALL_TRANSLATE_MONTHLY_CHARACTERS.",
			thousands(n), thousands(b.limit), n*100/b.limit, thousands(b.limit), b.nextMonth().Format("2 January"))
	default:
		return
	}
	recipients := b.staff(ctx)
	if len(recipients) == 0 && channel != "" {
		recipients = []string{channel}
	}
	if len(recipients) == 0 {
		return // told when a channel's message next arrives
	}
	key := "translate:budget:" + kind + ":" + month(b.i.now())
	claimed, err := b.i.claims.Claim(ctx, key, noticeLease)
	if err != nil || !claimed {
		if err != nil {
			b.i.log.WarnContext(ctx, "could not claim a budget notice", "error", err)
		}
		return
	}
	sent := 0
	for _, to := range recipients {
		if _, err := b.i.poster.Post(ctx, to, slackapp.Message{Text: text}); err != nil {
			b.i.log.WarnContext(ctx, "could not send a budget notice", "to", to, "error", err)
			continue
		}
		sent++
	}
	if sent == 0 {
		if err := b.i.claims.Release(ctx, key); err != nil {
			b.i.log.WarnContext(ctx, "could not release a budget notice", "error", err)
		}
		return
	}
	if err := b.i.claims.Confirm(ctx, key); err != nil {
		b.i.log.WarnContext(ctx, "could not confirm a budget notice", "error", err)
	}
	b.i.log.InfoContext(ctx, "translation budget notice sent", "kind", kind, "used", n, "limit", b.limit)
}

// staff are the people who switched channels on by command.
func (b *budget) staff(ctx context.Context) []string {
	m, err := b.i.chans.stored(ctx)
	if err != nil {
		return nil
	}
	var out []string
	for _, s := range m {
		if !s.Off && userID.MatchString(s.By) && !slices.Contains(out, s.By) {
			out = append(out, s.By)
		}
	}
	slices.Sort(out)
	return out
}

// status is the budget's line in /townhall status and channel status.
func (b *budget) status(ctx context.Context) string {
	n, err := b.used(ctx)
	if err != nil {
		return "🔴 can't read this month's translation count"
	}
	if b.limit == 0 {
		return fmt.Sprintf("📊 %s characters translated this month (no cap)", thousands(n))
	}
	line := fmt.Sprintf("📊 %s of %s characters this month (%d %%)", thousands(n), thousands(b.limit), n*100/b.limit)
	if n >= b.limit {
		line = fmt.Sprintf("⏸ auto-translation paused until %s: the monthly budget of %s characters is used up (%s sent); /translate and flags still work",
			b.nextMonth().Format("2 January"), thousands(b.limit), thousands(n))
	}
	return line
}

// thousands writes n with thin groups: 1,234,567.
func thousands(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}
