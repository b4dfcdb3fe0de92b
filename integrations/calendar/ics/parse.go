// Package ics reads iCalendar feeds (RFC 5545) for the calendar
// integration: it fetches a feed over HTTP with conditional GET (or from a
// file), parses it with github.com/arran4/golang-ical and expands recurring
// events with github.com/teambition/rrule-go into the instances that fall
// in a window: RRULE, RDATE, EXDATE, overridden instances (RECURRENCE-ID),
// TZID with VTIMEZONE, all-day events and daylight saving time.
//
// It knows nothing of Slack or of the rest of townhall: it imports no
// townhall package at all.
package ics

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	ical "github.com/arran4/golang-ical"
	"github.com/teambition/rrule-go"
)

// Event is one instance of an event: a single event, or one occurrence of
// a recurring one (possibly overridden).
type Event struct {
	// UID is the event's UID; every instance of a recurring event shares it.
	UID string
	// InstanceID identifies the instance within the feed: the UID for a
	// single event, the UID and the original start (RECURRENCE-ID) for an
	// instance of a recurring event, so it stays the same when that
	// instance is moved.
	InstanceID  string
	Summary     string
	Description string
	Location    string
	URL         string
	// Start and End are instants; for an all-day event, midnight at the
	// start of its first and after its last day in the reader's zone (see
	// Parse).
	Start, End time.Time
	AllDay     bool
}

// Calendar is a parsed feed, ready to expand. It is immutable and safe for
// concurrent use.
type Calendar struct {
	// Name is the feed's X-WR-CALNAME, if any.
	Name string
	// Warnings lists what was skipped: events that could not be read, time
	// zones that were not recognised. A broken event never fails the feed.
	Warnings []string

	series    []*series
	overrides map[string][]*override // by UID
	cancelled map[string]bool        // UIDs of cancelled series
	maxLength time.Duration          // the longest event, to widen windows
}

// series is a VEVENT without RECURRENCE-ID: a single event, or the master
// of a recurring one.
type series struct {
	ev     Event // the first instance, as written
	length time.Duration
	set    *rrule.Set // nil for a single event
}

// override is a VEVENT with RECURRENCE-ID: it replaces (or cancels) one
// instance of a series.
type override struct {
	recurrence time.Time
	cancelled  bool
	ev         Event
}

// Parse reads a feed. Floating times (with no zone) are read in the feed's
// X-WR-TIMEZONE if it names a known zone, else in floating. All-day dates
// are always read in floating, the reader's zone: a date is the same day
// everywhere, so an all-day event of a calendar kept in Tokyo is on its
// date for a reader in London too, not from 15:00 the day before. It fails
// only when the text is not an iCalendar at all; a line or an event it
// cannot read is skipped and listed in Warnings.
func Parse(r io.Reader, floating *time.Location) (*Calendar, error) {
	if floating == nil {
		floating = time.UTC
	}
	body, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("ics: read: %w", err)
	}
	raw, err := parseRaw(body)
	var mended []string
	if err != nil {
		// golang-ical gives up on the whole feed at the first line it
		// cannot read; read it again without such lines, so that one bad
		// value costs that value and not the calendar.
		var fixed []byte
		fixed, mended = mend(body)
		var again error
		if !bytes.HasPrefix(bytes.ToUpper(fixed), []byte("BEGIN:VCALENDAR\r\n")) {
			return nil, fmt.Errorf("ics: parse: %w", err) // not a calendar at all
		}
		if raw, again = parseRaw(fixed); again != nil {
			return nil, fmt.Errorf("ics: parse: %w", err)
		}
	}
	c := &Calendar{overrides: make(map[string][]*override), cancelled: make(map[string]bool), Warnings: mended}
	z := newZones(floating)
	for _, p := range raw.CalendarProperties {
		switch p.IANAToken {
		case string(ical.PropertyXWRCalName):
			c.Name = p.Value
		case string(ical.PropertyXWRTimezone):
			if loc, err := time.LoadLocation(strings.TrimSpace(p.Value)); err == nil {
				z.floating = loc
			}
		}
	}
	for _, comp := range raw.Components {
		if tz, ok := comp.(*ical.VTimezone); ok {
			z.define(tz)
		}
	}
	for _, comp := range raw.Components {
		ve, ok := comp.(*ical.VEvent)
		if !ok {
			continue
		}
		if err := c.add(ve, z); err != nil {
			c.Warnings = append(c.Warnings, err.Error())
		}
	}
	c.Warnings = append(c.Warnings, z.warnings...)
	c.matchAllDayOverrides()
	for uid, ovs := range c.overrides {
		slices.SortFunc(ovs, func(a, b *override) int { return a.recurrence.Compare(b.recurrence) })
		c.overrides[uid] = ovs
	}
	return c, nil
}

func parseRaw(body []byte) (*ical.Calendar, error) {
	return ical.ParseCalendarWithOptions(bytes.NewReader(body), ical.WithUnknownPropertyHandler(ical.AcceptUnknownPropertyHandler))
}

// mend returns the feed's content lines (unfolded) without those that
// golang-ical cannot read, and a warning for each line left out. Lines
// that real publishers are known to break are repaired instead: Exchange
// writes DTSTART;TZID="W. Europe Standard Time:20200609T090000", with the
// value inside the quotes.
func mend(body []byte) ([]byte, []string) {
	var out bytes.Buffer
	var warnings []string
	cs := ical.NewCalendarStream(bytes.NewReader(body))
	for n := 1; ; n++ {
		l, err := cs.ReadLine()
		if l != nil && len(*l) > 0 {
			line := string(*l)
			if !readable(line) {
				if fixed := unquoteValue(line); readable(fixed) {
					line = fixed
				} else {
					name, _, _ := strings.Cut(line, ":")
					name, _, _ = strings.Cut(name, ";")
					warnings = append(warnings, fmt.Sprintf("ics: line %d (%.40s) could not be read and was skipped", n, name))
					line = ""
				}
			}
			if line != "" {
				out.WriteString(line)
				out.WriteString("\r\n")
			}
		}
		if err != nil {
			break
		}
	}
	return out.Bytes(), warnings
}

func readable(line string) bool {
	p, err := ical.ParseProperty(ical.ContentLine(line))
	return err == nil && p != nil
}

// unquoteValue moves a value that was written inside its last parameter's
// quotes out of them: `X;P="a:b"` becomes `X;P="a":b`.
func unquoteValue(line string) string {
	open := strings.LastIndex(line, `="`)
	if open < 0 || !strings.HasSuffix(line, `"`) || len(line) < open+3 {
		return line
	}
	inner := line[open+2 : len(line)-1]
	colon := strings.LastIndex(inner, ":")
	if colon < 0 || strings.Contains(inner, `"`) {
		return line
	}
	return line[:open+2] + inner[:colon] + `"` + inner[colon:]
}

// matchAllDayOverrides lets an override replace an instance of an all-day
// series by its date. Exchange writes the RECURRENCE-ID of an all-day
// instance as midnight in its own zone (RECURRENCE-ID;TZID=W. Europe
// Standard Time:20260226T000000), which is not the instant of the date as
// read here unless the zones agree; the date is what it means.
func (c *Calendar) matchAllDayOverrides() {
	for _, s := range c.series {
		if !s.ev.AllDay || s.set == nil {
			continue
		}
		for _, o := range c.overrides[s.ev.UID] {
			o.recurrence = sameDate(o.recurrence, s.ev.Start.Location())
			o.ev.InstanceID = instanceID(s.ev.UID, o.recurrence)
		}
	}
}

// sameDate is midnight in loc of t's date in t's own zone.
func sameDate(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, loc)
}

// Events reports how many VEVENTs (series and overrides) were read.
func (c *Calendar) Events() int {
	n := len(c.series)
	for _, ovs := range c.overrides {
		n += len(ovs)
	}
	return n
}

// add reads one VEVENT.
func (c *Calendar) add(ve *ical.VEvent, z *zones) error {
	uid := text(ve, ical.ComponentPropertyUniqueId)
	if uid == "" {
		return errors.New("ics: an event without a UID was skipped")
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("ics: event %q skipped: %s", uid, fmt.Sprintf(format, args...))
	}
	start, allDay, err := z.parseTime(ve.GetProperty(ical.ComponentPropertyDtStart))
	if err != nil {
		return fail("DTSTART: %v", err)
	}
	end, length, err := endOf(ve, z, start, allDay)
	if err != nil {
		return fail("%v", err)
	}
	ev := Event{
		UID:         uid,
		InstanceID:  uid,
		Summary:     text(ve, ical.ComponentPropertySummary),
		Description: text(ve, ical.ComponentPropertyDescription),
		Location:    text(ve, ical.ComponentPropertyLocation),
		URL:         text(ve, ical.ComponentPropertyUrl),
		Start:       start,
		End:         end,
		AllDay:      allDay,
	}
	cancelled := strings.EqualFold(text(ve, ical.ComponentPropertyStatus), "CANCELLED")
	c.maxLength = max(c.maxLength, length)

	if rid := ve.GetProperty(ical.ComponentPropertyRecurrenceId); rid != nil {
		rt, _, err := z.parseTime(rid)
		if err != nil {
			return fail("RECURRENCE-ID: %v", err)
		}
		ev.InstanceID = instanceID(uid, rt)
		c.overrides[uid] = append(c.overrides[uid], &override{recurrence: rt, cancelled: cancelled, ev: ev})
		return nil
	}
	if cancelled {
		c.cancelled[uid] = true // a cancelled event or series has no instances
		return nil
	}
	s := &series{ev: ev, length: length}
	rrules := ve.GetProperties(ical.ComponentPropertyRrule)
	rdates := ve.GetProperties(ical.ComponentPropertyRdate)
	if len(rrules) > 0 || len(rdates) > 0 {
		s.set = &rrule.Set{}
		s.set.DTStart(start)
		if len(rrules) > 0 {
			// RFC 5545 allows one RRULE; more are ignored, as by most clients.
			opt, err := rrule.StrToROptionInLocation(rrules[0].Value, start.Location())
			if err != nil {
				return fail("RRULE %q: %v", rrules[0].Value, err)
			}
			opt.Dtstart = start
			r, err := rrule.NewRRule(*opt)
			if err != nil {
				return fail("RRULE %q: %v", rrules[0].Value, err)
			}
			s.set.RRule(r)
		} else {
			s.set.RDate(start) // with only RDATEs, DTSTART is the first instance
		}
		for _, p := range rdates {
			ts, err := z.parseList(p, start.Location())
			if err != nil {
				return fail("RDATE: %v", err)
			}
			for _, t := range ts {
				if allDay {
					t = sameDate(t, start.Location())
				}
				s.set.RDate(t)
			}
		}
		for _, p := range ve.GetProperties(ical.ComponentPropertyExdate) {
			ts, err := z.parseList(p, start.Location())
			if err != nil {
				return fail("EXDATE: %v", err)
			}
			for _, t := range ts {
				if allDay {
					// Outlook writes EXDATE;TZID=…:20240715T000000 for a date.
					t = sameDate(t, start.Location())
				}
				s.set.ExDate(t)
			}
		}
	}
	c.series = append(c.series, s)
	return nil
}

// endOf returns an event's end and length from DTEND or DURATION; with
// neither, a timed event lasts no time and an all-day event one day.
func endOf(ve *ical.VEvent, z *zones, start time.Time, allDay bool) (time.Time, time.Duration, error) {
	if p := ve.GetProperty(ical.ComponentPropertyDtEnd); p != nil {
		end, _, err := z.parseTime(p)
		if err != nil {
			return time.Time{}, 0, fmt.Errorf("DTEND: %v", err)
		}
		if end.Before(start) {
			return time.Time{}, 0, fmt.Errorf("DTEND %s is before DTSTART", p.Value)
		}
		return end, end.Sub(start), nil
	}
	if p := ve.GetProperty(ical.ComponentPropertyDuration); p != nil {
		d, err := parseDuration(p.Value)
		if err != nil {
			return time.Time{}, 0, fmt.Errorf("DURATION: %v", err)
		}
		if d < 0 {
			return time.Time{}, 0, fmt.Errorf("DURATION %s is negative", p.Value)
		}
		return start.Add(d), d, nil
	}
	if allDay {
		end := start.AddDate(0, 0, 1)
		return end, end.Sub(start), nil
	}
	return start, 0, nil
}

// text returns a text property's value, unescaped and trimmed.
func text(ve *ical.VEvent, p ical.ComponentProperty) string {
	if prop := ve.GetProperty(p); prop != nil {
		return strings.TrimSpace(prop.Value)
	}
	return ""
}

// instanceID names an instance of a recurring event by its original start.
func instanceID(uid string, recurrence time.Time) string {
	return uid + "/" + recurrence.UTC().Format("20060102T150405Z")
}

// Expand returns the instances that overlap [from, to), sorted by start
// then InstanceID. Cancelled instances and series are left out; an
// overridden instance appears at its new time, whether or not its original
// time is in the window.
func (c *Calendar) Expand(from, to time.Time) []Event {
	var out []Event
	// An instance that starts before from can still overlap it.
	early := from.Add(-c.maxLength)
	overlaps := func(e Event) bool {
		return e.Start.Before(to) && (e.End.After(from) || !e.Start.Before(from))
	}
	for _, s := range c.series {
		ovs := c.overrides[s.ev.UID]
		if s.set == nil {
			if overlaps(s.ev) {
				out = append(out, s.ev)
			}
			continue
		}
		for _, t := range between(s.set, early, to) {
			if _, found := slices.BinarySearchFunc(ovs, t, func(o *override, t time.Time) int { return o.recurrence.Compare(t) }); found {
				continue // replaced or cancelled by its override, seen below
			}
			ev := s.ev
			ev.Start, ev.End = t, t.Add(s.length)
			if s.ev.AllDay {
				// A day is not always 24 hours: keep whole days.
				days := int(s.length.Round(24*time.Hour) / (24 * time.Hour))
				ev.End = t.AddDate(0, 0, max(days, 1))
			}
			ev.InstanceID = instanceID(s.ev.UID, t)
			if overlaps(ev) {
				out = append(out, ev)
			}
		}
	}
	for uid, ovs := range c.overrides {
		if c.cancelled[uid] {
			continue
		}
		for _, o := range ovs {
			if !o.cancelled && overlaps(o.ev) {
				out = append(out, o.ev)
			}
		}
	}
	slices.SortFunc(out, func(a, b Event) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return strings.Compare(a.InstanceID, b.InstanceID)
	})
	return out
}

// maxSteps bounds how many occurrences of one series are generated per
// expansion, so a hostile or careless rule (every minute since 1900)
// cannot stall the app: its instances past the bound are left out.
const maxSteps = 100_000

// between returns the set's occurrences in [from, to]. rrule-go panics on
// some rules it accepted; such a series yields nothing rather than take the
// process down.
func between(set *rrule.Set, from, to time.Time) (out []time.Time) {
	defer func() {
		if recover() != nil {
			out = nil
		}
	}()
	next := set.Iterator()
	for range maxSteps {
		t, ok := next()
		if !ok || t.After(to) {
			break
		}
		if !t.Before(from) {
			out = append(out, t)
		}
	}
	return out
}
