package web

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/townhall/townhall/integrations/archive"
)

// published returns the named channel if it is published.
// channelOf is the published channel the request's path names; when
// there is none (or the archive failed) it has answered, and ok is false.
func (h *Handler) channelOf(w http.ResponseWriter, r *http.Request) (c archive.Channel, ok bool) {
	c, ok, err := h.published(r.Context(), r.PathValue("channel"))
	switch {
	case err != nil:
		h.fail(w, r, err)
		return c, false
	case !ok:
		h.notFound(w, r, "There is no published channel of that name.")
	}
	return c, ok
}

func (h *Handler) published(ctx context.Context, name string) (archive.Channel, bool, error) {
	if !h.cfg.Published(name) {
		return archive.Channel{}, false, nil
	}
	c, ok, err := h.a.Channel(ctx, name)
	if err != nil || !ok || c.Name != name {
		return archive.Channel{}, false, err
	}
	return c, true, nil
}

// maxDays is how many days a channel's page lists; older ones are
// reached by month.
const maxDays = 60

// MonthLayout is the path of a month's page: /c/<channel>/2024-03.
const MonthLayout = "2006-01"

type dayLink struct{ Day, Weekday string }

type monthLink struct{ Month, Name string }

type yearLinks struct {
	Year   int
	Months []monthLink // January first
}

type channelPage struct {
	Days  []dayLink   // newest first
	Years []yearLinks // newest first
	Pages int         // numbered pages of threads (listpages.go)
}

type monthPage struct {
	Month, Heading string
	Prev, Next     monthLink // months with messages around it; zero when none
	Days           []dayLink // oldest first
}

// dayStart is the midnight that starts t's day in the archive's zone.
func (h *Handler) dayStart(t time.Time) time.Time {
	t = t.In(h.loc)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, h.loc)
}

// monthStart is the midnight that starts t's month in the archive's zone.
func (h *Handler) monthStart(t time.Time) time.Time {
	t = t.In(h.loc)
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, h.loc)
}

// newest returns the time of c's newest message (of any kind, replies
// included) in [since, before); zero times are no bound. ok is false when
// there is none.
func (h *Handler) newest(ctx context.Context, c archive.Channel, since, before time.Time) (time.Time, bool, error) {
	q := archive.MessageQuery{Channel: c.ID, Desc: true, Limit: 1}
	if !since.IsZero() {
		q.Since = archive.FormatTS(since)
	}
	if !before.IsZero() {
		q.Before = archive.FormatTS(before)
	}
	ms, err := h.a.Messages(ctx, q)
	if err != nil || len(ms) == 0 {
		return time.Time{}, false, err
	}
	return ms[0].Time(), true, nil
}

// oldest returns the time of c's oldest message at or after since.
func (h *Handler) oldest(ctx context.Context, c archive.Channel, since time.Time) (time.Time, bool, error) {
	ms, err := h.a.Messages(ctx, archive.MessageQuery{Channel: c.ID, Since: archive.FormatTS(since), Limit: 1})
	if err != nil || len(ms) == 0 {
		return time.Time{}, false, err
	}
	return ms[0].Time(), true, nil
}

// days lists the starts of c's days with messages in [since, before),
// newest first, at most limit. Each day costs one read along the
// channel's (channel, ts) key, so a day of many messages is no slower.
func (h *Handler) days(ctx context.Context, c archive.Channel, since, before time.Time, limit int) ([]time.Time, error) {
	var out []time.Time
	for len(out) < limit {
		t, ok, err := h.newest(ctx, c, since, before)
		if err != nil || !ok {
			return out, err
		}
		before = h.dayStart(t)
		out = append(out, before)
	}
	return out, nil
}

// months lists the starts of c's months with messages, newest first: one
// read per month.
func (h *Handler) months(ctx context.Context, c archive.Channel) ([]time.Time, error) {
	var out []time.Time
	before := time.Time{}
	for {
		t, ok, err := h.newest(ctx, c, time.Time{}, before)
		if err != nil || !ok {
			return out, err
		}
		before = h.monthStart(t)
		out = append(out, before)
	}
}

func (h *Handler) dayLink(day time.Time) dayLink {
	return dayLink{Day: day.Format(archive.DateLayout), Weekday: day.Format("Monday 2 January 2006")}
}

func monthOf(t time.Time) monthLink {
	return monthLink{Month: t.Format(MonthLayout), Name: t.Format("January 2006")}
}

func (h *Handler) channel(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	c, ok := h.channelOf(w, r)
	if !ok {
		return
	}
	var cp channelPage
	days, err := h.days(ctx, c, time.Time{}, time.Time{}, maxDays)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for _, d := range days {
		cp.Days = append(cp.Days, h.dayLink(d))
	}
	months, err := h.months(ctx, c)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for i := len(months) - 1; i >= 0; i-- { // oldest first, then years reversed
		m := months[i]
		if n := len(cp.Years); n == 0 || cp.Years[n-1].Year != m.Year() {
			cp.Years = append(cp.Years, yearLinks{Year: m.Year()})
		}
		y := &cp.Years[len(cp.Years)-1]
		y.Months = append(y.Months, monthLink{Month: m.Format(MonthLayout), Name: m.Format("January")})
	}
	for i, j := 0, len(cp.Years)-1; i < j; i, j = i+1, j-1 {
		cp.Years[i], cp.Years[j] = cp.Years[j], cp.Years[i]
	}
	starts, err := h.pageStarts(ctx, c)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	cp.Pages = len(starts)
	h.render(w, r, http.StatusOK, "channel", page{Title: "#" + c.Name, Channel: &c, Index: h.cfg.Indexed(c.Name), Body: cp, Zone: h.zone(time.Time{})}, time.Minute)
}

// month serves a month's index: the days of it with messages.
func (h *Handler) month(w http.ResponseWriter, r *http.Request, c archive.Channel, start time.Time) {
	ctx := r.Context()
	end := start.AddDate(0, 1, 0)
	days, err := h.days(ctx, c, start, end, 32)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	mp := monthPage{Month: start.Format(MonthLayout), Heading: start.Format("January 2006")}
	for i := len(days) - 1; i >= 0; i-- {
		mp.Days = append(mp.Days, h.dayLink(days[i]))
	}
	if t, ok, err := h.newest(ctx, c, time.Time{}, start); err != nil {
		h.fail(w, r, err)
		return
	} else if ok {
		mp.Prev = monthOf(h.monthStart(t))
	}
	if t, ok, err := h.oldest(ctx, c, end); err != nil {
		h.fail(w, r, err)
		return
	} else if ok {
		mp.Next = monthOf(h.monthStart(t))
	}
	p := page{Title: "#" + c.Name + " in " + mp.Heading, Channel: &c, Body: mp, Zone: h.zone(time.Time{})}
	if len(mp.Days) == 0 {
		h.render(w, r, http.StatusNotFound, "month", p, 0)
		return
	}
	maxAge := time.Hour
	if !end.Before(h.now()) { // this month still changes
		maxAge = time.Minute
	}
	p.Index = h.cfg.Indexed(c.Name)
	h.render(w, r, http.StatusOK, "month", p, maxAge)
}

// stamp is the time of a message shown on the page of day: "09:30" when
// it was said that day, "10 March, 09:30" on another day of the year,
// "10 March 2025, 09:30" otherwise (and when day is zero).
func (h *Handler) stamp(t, day time.Time) string {
	t = t.In(h.loc)
	switch {
	case day.IsZero():
	case t.Format(archive.DateLayout) == day.In(h.loc).Format(archive.DateLayout):
		return t.Format("15:04")
	case t.Year() == day.In(h.loc).Year():
		return t.Format("2 January, 15:04")
	}
	return t.Format("2 January 2006, 15:04")
}

// zone names the time zone days are cut in, with its offset from UTC at t
// when t is not zero: "UTC", "Europe/Paris", "Asia/Kolkata (UTC+5:30)".
// A zone without a name (Local) is named by its abbreviation and offset now.
func (h *Handler) zone(t time.Time) string {
	name := h.loc.String()
	named := name != "Local" && name != ""
	if t.IsZero() {
		if named {
			return name
		}
		t = h.now()
	}
	abbr, off := t.In(h.loc).Zone()
	if off == 0 && (name == "UTC" || name == "Etc/UTC" || !named) {
		return "UTC"
	}
	sign := "+"
	if off < 0 {
		sign, off = "-", -off
	}
	offset := fmt.Sprintf("UTC%s%d", sign, off/3600)
	if m := off % 3600 / 60; m != 0 {
		offset += fmt.Sprintf(":%02d", m)
	}
	if !named {
		if abbr == "" || strings.ContainsAny(abbr[:1], "+-0123456789") {
			return offset // "-03" says no more than the offset
		}
		name = abbr
	}
	return name + " (" + offset + ")"
}

// dayName names t's day as seen from the day ref: "Tuesday 5 March",
// with the year when it is not ref's, "earlier that day" when it is ref.
func (h *Handler) dayName(t, ref time.Time) string {
	t, ref = t.In(h.loc), ref.In(h.loc)
	switch {
	case t.Format(archive.DateLayout) == ref.Format(archive.DateLayout):
		return "earlier that day"
	case t.Year() != ref.Year():
		return t.Format("Monday 2 January 2006")
	}
	return t.Format("Monday 2 January")
}

type dayPage struct {
	Day, Heading string
	Month        monthLink
	Prev, Next   string
	Messages     []view
	// Later are the replies written this day in threads started on an
	// earlier day, which are shown, whole, on the day they started.
	Later []view
}

type threadPage struct {
	Parent view
	Day    string // the parent's day, YYYY-MM-DD
	Date   string // and as words
	Thread string // the thread's own page ("" when its first message is hidden)
}

func (h *Handler) channelPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	c, ok := h.channelOf(w, r)
	if !ok {
		return
	}
	p := r.PathValue("page")
	if strings.HasPrefix(p, "p") {
		h.permalink(w, r, c, p[1:])
		return
	}
	if m, err := time.ParseInLocation(MonthLayout, p, h.loc); err == nil {
		h.month(w, r, c, m)
		return
	}
	day, err := time.ParseInLocation(archive.DateLayout, p, h.loc)
	if err != nil {
		h.notFound(w, r, "Pages of a channel are months, like 2024-03, days, like 2024-03-01, or messages.")
		return
	}
	next := day.AddDate(0, 0, 1)
	ms, err := h.a.Messages(ctx, archive.MessageQuery{Channel: c.ID, Since: archive.FormatTS(day), Before: archive.FormatTS(next), TopLevel: true})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rc := h.newRenderCtx(ctx)
	dp := dayPage{Day: p, Heading: day.Format("Monday 2 January 2006"), Month: monthOf(day)}
	// The day's threads, all in one query.
	var threads []string
	for _, m := range ms {
		if m.ReplyCount > 0 {
			threads = append(threads, m.TS)
		}
	}
	replies := map[string][]archive.Message{}
	if len(threads) > 0 {
		in, err := h.a.Messages(ctx, archive.MessageQuery{Channel: c.ID, Threads: threads})
		if err != nil {
			h.fail(w, r, err)
			return
		}
		for _, rep := range in {
			if rep.TS != rep.ThreadTS {
				replies[rep.ThreadTS] = append(replies[rep.ThreadTS], rep)
			}
		}
	}
	later, err := h.a.Messages(ctx, archive.MessageQuery{Channel: c.ID, Since: archive.FormatTS(day), Before: archive.FormatTS(next), Replies: true})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	all := [][]archive.Message{ms, later}
	for _, rs := range replies {
		all = append(all, rs)
	}
	rc.prefetch(all...)
	shown := make(map[string]bool, len(ms))
	for _, m := range ms {
		shown[m.TS] = true
		v := rc.view(c, m, day)
		if m.ReplyCount > 0 {
			for _, rep := range replies[m.TS] {
				v.Replies = append(v.Replies, rc.view(c, rep, day))
			}
			if !m.Hidden && !m.IsReply() {
				v.Thread = rc.threadPath(c, m)
			}
		}
		dp.Messages = append(dp.Messages, v)
	}
	for _, rep := range later {
		if shown[rep.ThreadTS] || rep.Subtype == "thread_broadcast" { // in its thread above, or shown as a message
			continue
		}
		v := rc.view(c, rep, day)
		v.ThreadLink = v.Link + "#m" + archive.TSDigits(rep.TS) // the thread, at this reply
		if started, err := archive.ParseTS(rep.ThreadTS); err == nil {
			v.ThreadFrom = h.dayName(started, day)
		}
		dp.Later = append(dp.Later, v)
	}
	if prev, err := h.a.Messages(ctx, archive.MessageQuery{Channel: c.ID, Before: archive.FormatTS(day), Desc: true, Limit: 1}); err == nil && len(prev) > 0 {
		dp.Prev = prev[0].Time().In(h.loc).Format(archive.DateLayout)
	}
	if after, err := h.a.Messages(ctx, archive.MessageQuery{Channel: c.ID, Since: archive.FormatTS(next), Limit: 1}); err == nil && len(after) > 0 {
		dp.Next = after[0].Time().In(h.loc).Format(archive.DateLayout)
	}
	maxAge := time.Hour
	if !next.Before(h.now()) { // today's page still changes
		maxAge = time.Minute
	}
	zone := h.zone(day.Add(12 * time.Hour))
	if len(dp.Messages) == 0 && len(dp.Later) == 0 {
		h.render(w, r, http.StatusNotFound, "day", page{Title: "#" + c.Name + " on " + p, Channel: &c, Body: dp, Zone: zone}, 0)
		return
	}
	h.render(w, r, http.StatusOK, "day", page{Title: "#" + c.Name + " on " + p, Channel: &c, Index: h.cfg.Indexed(c.Name), Body: dp, Zone: zone}, maxAge)
}

func (h *Handler) permalink(w http.ResponseWriter, r *http.Request, c archive.Channel, digits string) {
	ctx := r.Context()
	ts, err := archive.TSFromDigits(digits)
	if err != nil {
		h.notFound(w, r, "That is not a message link.")
		return
	}
	m, ok, err := h.a.Message(ctx, c.ID, ts)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if !ok {
		h.notFound(w, r, "That message is not in the archive: it may have been deleted or removed at its author's request.")
		return
	}
	parent := m
	if m.IsReply() {
		if p, ok, err := h.a.Message(ctx, c.ID, m.ThreadTS); err != nil {
			h.fail(w, r, err)
			return
		} else if ok {
			parent = p
		}
	}
	rc := h.newRenderCtx(ctx)
	pt := parent.Time().In(h.loc)
	tp := threadPage{Parent: rc.view(c, parent, pt), Day: pt.Format(archive.DateLayout), Date: pt.Format("Monday 2 January 2006")}
	tp.Parent.Focus = parent.TS == m.TS
	if parent.ThreadTS == parent.TS {
		replies, err := h.a.Messages(ctx, archive.MessageQuery{Channel: c.ID, ThreadTS: parent.TS})
		if err != nil {
			h.fail(w, r, err)
			return
		}
		rc.prefetch(replies)
		for _, rep := range replies {
			if rep.TS != parent.TS {
				v := rc.view(c, rep, pt)
				v.Focus = rep.TS == m.TS
				tp.Parent.Replies = append(tp.Parent.Replies, v)
			}
		}
	}
	p := page{Title: "#" + c.Name + ": a message", Channel: &c, Index: h.cfg.Indexed(c.Name), Body: tp, Zone: h.zone(pt)}
	if !parent.Hidden && !parent.IsReply() {
		// The thread's own page is the one to index: this one points to it.
		tp.Thread = rc.threadPath(c, parent)
		p.Body, p.Head = tp, &head{Canonical: h.abs(tp.Thread)}
	}
	h.render(w, r, http.StatusOK, "thread", p, 10*time.Minute)
}
