package ics

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	ical "github.com/arran4/golang-ical"
)

// zones resolves TZID parameters to locations, once per name.
type zones struct {
	floating *time.Location            // for floating times
	dates    *time.Location            // for dates: the reader's zone, whatever the feed's
	byID     map[string]*time.Location // resolved TZIDs, nil for unknown
	defined  map[string]*ical.VTimezone
	warnings []string
}

func newZones(floating *time.Location) *zones {
	return &zones{floating: floating, dates: floating, byID: make(map[string]*time.Location), defined: make(map[string]*ical.VTimezone)}
}

// define records a VTIMEZONE, consulted for TZIDs that are not IANA names.
func (z *zones) define(tz *ical.VTimezone) {
	if p := tz.GetProperty(ical.ComponentPropertyTzid); p != nil {
		z.defined[strings.TrimSpace(p.Value)] = tz
	}
}

// windowsZones maps the Windows zone names Outlook and Exchange write in
// TZID to IANA zones (from CLDR's windowsZones.xml, territory 001).
var windowsZones = map[string]string{
	"UTC":                             "UTC",
	"GMT Standard Time":               "Europe/London",
	"Greenwich Standard Time":         "Atlantic/Reykjavik",
	"W. Europe Standard Time":         "Europe/Berlin",
	"Central Europe Standard Time":    "Europe/Budapest",
	"Central European Standard Time":  "Europe/Warsaw",
	"Romance Standard Time":           "Europe/Paris",
	"E. Europe Standard Time":         "Europe/Chisinau",
	"FLE Standard Time":               "Europe/Kiev",
	"GTB Standard Time":               "Europe/Bucharest",
	"Russian Standard Time":           "Europe/Moscow",
	"Turkey Standard Time":            "Europe/Istanbul",
	"Eastern Standard Time":           "America/New_York",
	"Central Standard Time":           "America/Chicago",
	"Mountain Standard Time":          "America/Denver",
	"US Mountain Standard Time":       "America/Phoenix",
	"Pacific Standard Time":           "America/Los_Angeles",
	"Alaskan Standard Time":           "America/Anchorage",
	"Hawaiian Standard Time":          "Pacific/Honolulu",
	"Atlantic Standard Time":          "America/Halifax",
	"Canada Central Standard Time":    "America/Regina",
	"SA Eastern Standard Time":        "America/Cayenne",
	"E. South America Standard Time":  "America/Sao_Paulo",
	"Argentina Standard Time":         "America/Buenos_Aires",
	"Pacific SA Standard Time":        "America/Santiago",
	"SA Pacific Standard Time":        "America/Bogota",
	"Central Standard Time (Mexico)":  "America/Mexico_City",
	"South Africa Standard Time":      "Africa/Johannesburg",
	"W. Central Africa Standard Time": "Africa/Lagos",
	"E. Africa Standard Time":         "Africa/Nairobi",
	"Egypt Standard Time":             "Africa/Cairo",
	"Israel Standard Time":            "Asia/Jerusalem",
	"Arabian Standard Time":           "Asia/Dubai",
	"India Standard Time":             "Asia/Kolkata",
	"China Standard Time":             "Asia/Shanghai",
	"Singapore Standard Time":         "Asia/Singapore",
	"Tokyo Standard Time":             "Asia/Tokyo",
	"Korea Standard Time":             "Asia/Seoul",
	"SE Asia Standard Time":           "Asia/Bangkok",
	"AUS Eastern Standard Time":       "Australia/Sydney",
	"E. Australia Standard Time":      "Australia/Brisbane",
	"W. Australia Standard Time":      "Australia/Perth",
	"New Zealand Standard Time":       "Pacific/Auckland",
}

// location resolves a TZID: an IANA name (also inside a path such as
// "/mozilla.org/20050126_1/Europe/Berlin"), a VTIMEZONE's X-LIC-LOCATION,
// a Windows zone name, and failing those the VTIMEZONE's standard offset
// (a fixed zone, which cannot follow daylight saving time) or the floating
// zone, with a warning.
func (z *zones) location(tzid string) *time.Location {
	tzid = strings.Trim(strings.TrimSpace(tzid), `"`)
	if loc, ok := z.byID[tzid]; ok {
		return loc
	}
	loc := z.resolve(tzid)
	z.byID[tzid] = loc
	return loc
}

func (z *zones) resolve(tzid string) *time.Location {
	candidates := []string{tzid}
	if parts := strings.Split(strings.Trim(tzid, "/"), "/"); len(parts) > 2 {
		candidates = append(candidates, strings.Join(parts[len(parts)-2:], "/"), strings.Join(parts[len(parts)-3:], "/"))
	}
	if tz := z.defined[tzid]; tz != nil {
		for _, p := range tz.Properties {
			if p.IANAToken == "X-LIC-LOCATION" {
				candidates = append(candidates, strings.TrimSpace(p.Value))
			}
		}
	}
	if name, ok := windowsZones[tzid]; ok {
		candidates = append(candidates, name)
	}
	for _, name := range candidates {
		if name == "" || strings.EqualFold(name, "local") {
			continue
		}
		if loc, err := time.LoadLocation(name); err == nil {
			return loc
		}
	}
	if tz := z.defined[tzid]; tz != nil {
		for _, sub := range tz.Components {
			if std, ok := sub.(*ical.Standard); ok {
				for _, p := range std.Properties {
					if p.IANAToken != string(ical.PropertyTzoffsetto) {
						continue
					}
					if off, err := parseOffset(p.Value); err == nil {
						z.warnings = append(z.warnings, fmt.Sprintf("ics: time zone %q is not a known zone; using its standard offset %s without daylight saving time", tzid, p.Value))
						return time.FixedZone(tzid, off)
					}
				}
			}
		}
	}
	z.warnings = append(z.warnings, fmt.Sprintf("ics: time zone %q is not a known zone; reading its times in %s", tzid, z.floating))
	return z.floating
}

// parseTime reads a DATE or DATE-TIME property: UTC ("…Z"), with a TZID,
// or floating. allDay reports a DATE.
func (z *zones) parseTime(p *ical.IANAProperty) (t time.Time, allDay bool, err error) {
	if p == nil {
		return time.Time{}, false, errors.New("missing")
	}
	loc := z.floating
	if ids := p.ICalParameters["TZID"]; len(ids) > 0 {
		loc = z.location(ids[0])
	}
	return parseValue(strings.TrimSpace(p.Value), loc, z.dates)
}

// parseList reads an EXDATE or RDATE: comma-separated values sharing one
// TZID. Values of type PERIOD keep their start.
func (z *zones) parseList(p *ical.IANAProperty, def *time.Location) ([]time.Time, error) {
	loc := def
	if ids := p.ICalParameters["TZID"]; len(ids) > 0 {
		loc = z.location(ids[0])
	}
	var out []time.Time
	for _, v := range strings.Split(p.Value, ",") {
		v, _, _ = strings.Cut(strings.TrimSpace(v), "/")
		t, _, err := parseValue(v, loc, z.dates)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// parseValue reads "20260301", "20260301T090000" or "20260301T090000Z".
// Dates are midnight in dateLoc.
func parseValue(v string, loc, dateLoc *time.Location) (t time.Time, allDay bool, err error) {
	defer func() {
		// rrule-go cannot expand rules around year 0 (it panics); no
		// community meets then.
		if err == nil && (t.Year() < minYear || t.Year() > maxYear) {
			t, allDay, err = time.Time{}, false, fmt.Errorf("%q is outside the years %d to %d", v, minYear, maxYear)
		}
	}()
	switch {
	case len(v) == 8:
		t, err := time.ParseInLocation("20060102", v, dateLoc)
		return t, true, err
	case len(v) == 16 && v[15] == 'Z':
		t, err := time.ParseInLocation("20060102T150405Z", v, time.UTC)
		return t, false, err
	case len(v) == 15:
		t, err := time.ParseInLocation("20060102T150405", v, loc)
		return t, false, err
	}
	return time.Time{}, false, fmt.Errorf("%q is not a date or date-time", v)
}

// The years a date may have.
const (
	minYear = 1900
	maxYear = 2200
)

// parseOffset reads a UTC offset such as "+0100" or "-053000" in seconds.
func parseOffset(v string) (int, error) {
	v = strings.TrimSpace(v)
	if len(v) != 5 && len(v) != 7 || (v[0] != '+' && v[0] != '-') {
		return 0, fmt.Errorf("bad UTC offset %q", v)
	}
	n := 0
	for i, unit := range []int{3600, 60, 1} {
		if 1+2*i >= len(v) {
			break
		}
		d, err := strconv.Atoi(v[1+2*i : 3+2*i])
		if err != nil {
			return 0, fmt.Errorf("bad UTC offset %q", v)
		}
		n += d * unit
	}
	if v[0] == '-' {
		n = -n
	}
	return n, nil
}

// parseDuration reads an RFC 5545 duration: "PT1H30M", "P1D", "P1W",
// "-PT15M".
func parseDuration(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	neg := strings.HasPrefix(v, "-")
	s := strings.TrimLeft(v, "+-")
	if !strings.HasPrefix(s, "P") || len(s) < 3 {
		return 0, fmt.Errorf("bad duration %q", v)
	}
	var d time.Duration
	inTime := false
	num := 0
	digits := false
	for _, r := range s[1:] {
		switch {
		case r >= '0' && r <= '9':
			if num > 1e6 {
				return 0, fmt.Errorf("bad duration %q", v)
			}
			num = num*10 + int(r-'0')
			digits = true
			continue
		case r == 'T' && !inTime && !digits:
			inTime = true
			continue
		}
		if !digits {
			return 0, fmt.Errorf("bad duration %q", v)
		}
		unit := map[rune]time.Duration{'W': 7 * 24 * time.Hour, 'D': 24 * time.Hour}
		if inTime {
			unit = map[rune]time.Duration{'H': time.Hour, 'M': time.Minute, 'S': time.Second}
		}
		u, ok := unit[r]
		if !ok {
			return 0, fmt.Errorf("bad duration %q", v)
		}
		d += time.Duration(num) * u
		num, digits = 0, false
	}
	if digits {
		return 0, fmt.Errorf("bad duration %q", v)
	}
	if neg {
		d = -d
	}
	return d, nil
}
