package main

import (
	"context"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/townhall/townhall/integrations"
	"github.com/townhall/townhall/integrations/archive"
	"github.com/townhall/townhall/integrations/digest"
)

// newDigest builds the digest. With the archive on it reads the archive
// (every thread that woke up in the period, new members from its
// channel_join messages) and links to the web archive's pages of the
// channels it publishes; otherwise it reads Slack's history with the bot
// token and links to Slack's permalinks.
func (a *app) newDigest(d deps, logger *slog.Logger) (integrations.Integration, error) {
	dd := digest.Deps{
		Poster: a.rt.Poster(), Claims: a.store, API: a.rt.API(), ResolveChannel: a.rt.ResolveChannel,
		BotUserID: a.rt.BotUserID, Logger: logger, Now: d.Now, Location: a.cfg.Scheduler.Location(),
	}
	if a.archive != nil {
		dd.Source, dd.SourceName = archiveSource{a.archive}, "the archive"
		if base := strings.TrimRight(a.cfg.Archive.BaseURL, "/"); base != "" {
			dd.ArchiveURL = func(name, ts string) string {
				if !a.cfg.Archive.Published(name) {
					return ""
				}
				return base + "/c/" + url.PathEscape(name) + "/p" + archive.TSDigits(ts)
			}
		}
	}
	return digest.New(a.cfg.Digest, dd)
}

// archiveSource is the archive as the digest reads it: the digest cannot
// import the archive (integrations never import one another), so the main
// package, which knows both, adapts one to the other.
type archiveSource struct{ a archive.Archive }

func (s archiveSource) Messages(ctx context.Context, channel string, since, before time.Time) ([]digest.Message, error) {
	sinceTS := archive.FormatTS(since)
	ms, err := s.a.Messages(ctx, archive.MessageQuery{Channel: channel, Since: sinceTS, Before: archive.FormatTS(before)})
	if err != nil {
		return nil, err
	}
	out := make([]digest.Message, 0, len(ms))
	seen := make(map[string]bool, len(ms))
	for _, m := range ms {
		out = append(out, fromArchive(m))
		seen[m.TS] = true
	}
	// The parents, posted earlier, of threads that woke up in the period.
	var older []digest.Message
	for _, m := range ms {
		if !m.IsReply() || m.ThreadTS >= sinceTS || seen[m.ThreadTS] {
			continue
		}
		seen[m.ThreadTS] = true
		p, ok, err := s.a.Message(ctx, channel, m.ThreadTS)
		if err != nil {
			return nil, err
		}
		if ok {
			older = append(older, fromArchive(p))
		}
	}
	slices.SortFunc(older, func(x, y digest.Message) int { return strings.Compare(x.TS, y.TS) })
	return append(older, out...), nil
}

func fromArchive(m archive.Message) digest.Message {
	out := digest.Message{TS: m.TS, ThreadTS: m.ThreadTS, User: m.User, Subtype: m.Subtype, Text: m.Text, Hidden: m.Hidden,
		Bot: m.BotID != "" || m.Subtype == "bot_message"}
	for _, r := range m.Reactions {
		out.Reactions += r.Count
	}
	return out
}

func (s archiveSource) Channels(ctx context.Context) ([]digest.Channel, error) {
	cs, err := s.a.Channels(ctx)
	if err != nil {
		return nil, err
	}
	var out []digest.Channel
	for _, c := range cs {
		if !c.Archived {
			out = append(out, digest.Channel{ID: c.ID, Name: c.Name})
		}
	}
	return out, nil
}

func (s archiveSource) UserName(ctx context.Context, id string) (string, bool, error) {
	u, ok, err := s.a.User(ctx, id)
	if err != nil || !ok {
		return "", false, err
	}
	return u.Label(), u.Bot, nil
}
