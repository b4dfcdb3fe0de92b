// Package examples holds sample data for the calendar integration: a
// community calendar whose recurring meetings never end, so `townhall
// shell` and the tests always have events in the coming week.
package examples

import _ "embed"

// CommunityICS is community.ics: an RFC 5545 calendar in Europe/Paris with
// daily, weekly and monthly meetings, an all-day event and a meeting link.
//
//go:embed community.ics
var CommunityICS []byte
