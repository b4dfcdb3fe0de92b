// Package examples holds sample data for the feeds integration: a small
// RSS feed `townhall shell` serves locally, so /feed can be tried with no
// network and no account.
package examples

import _ "embed"

// CommunityRSS is community.rss, an RSS 2.0 feed of three announcements.
//
//go:embed community.rss
var CommunityRSS []byte
