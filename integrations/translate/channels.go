package translate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"
)

// maxChannelLanguages bounds the languages of one channel: each is a
// section of the one reply, which must stay readable on a phone (and
// within Slack's 50 blocks).
const maxChannelLanguages = 8

// ParseLanguages reads a list of languages such as "es,fr,ar" (codes or
// names, separated by commas or spaces) into our codes, in order, without
// repeats. It is what "/translate channel on", TOWNHALL_TRANSLATE_CHANNELS
// and callers of TranslationReply accept.
func ParseLanguages(list string) ([]string, error) {
	var codes []string
	for _, name := range strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == ' ' || r == '+' }) {
		l, ok := LookupLanguage(name)
		if !ok {
			return nil, fmt.Errorf("unknown language %q (use codes such as es, fr, ar, zh, ru)", name)
		}
		if !slices.Contains(codes, l.Code) {
			codes = append(codes, l.Code)
		}
	}
	switch {
	case len(codes) == 0:
		return nil, errors.New("no languages given (for example es,fr)")
	case len(codes) > maxChannelLanguages:
		return nil, fmt.Errorf("%d languages; at most %d fit in one reply", len(codes), maxChannelLanguages)
	}
	return codes, nil
}

// envChannel is one channel of TOWNHALL_TRANSLATE_CHANNELS.
type envChannel struct {
	id, name  string // one of them: an ID as given, or a name without "#"
	languages []string
}

var (
	channelIDRef   = regexp.MustCompile(`^[CG][A-Z0-9]{2,}$`)
	channelNameRef = regexp.MustCompile(`^[\p{Ll}\p{Lo}\p{N}_-]{1,80}$`)
)

// parseChannels reads TOWNHALL_TRANSLATE_CHANNELS: entries separated by
// ";", each "<channel>=<languages>", the channel a name ("#general") or an
// ID ("C0123ABCD"), the languages as ParseLanguages reads them:
//
//	#general=es,fr;#annonces=en,ar;C0123ABCD=zh
func parseChannels(v string) ([]envChannel, error) {
	var out []envChannel
	var errs []error
	seen := make(map[string]bool)
	for n, entry := range strings.Split(v, ";") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		bad := func(format string, args ...any) {
			errs = append(errs, fmt.Errorf("entry %d %q: %s", n+1, entry, fmt.Sprintf(format, args...)))
		}
		ref, list, ok := strings.Cut(entry, "=")
		ref = strings.TrimSpace(ref)
		if !ok {
			bad(`want <channel>=<languages>, as in "#general=es,fr"`)
			continue
		}
		var ch envChannel
		switch name := strings.ToLower(strings.TrimPrefix(ref, "#")); {
		case channelIDRef.MatchString(ref):
			ch.id = ref
		case channelNameRef.MatchString(name):
			ch.name = name
		default:
			bad("%q is not a channel: write #name or an ID such as C0123ABCD", ref)
			continue
		}
		langs, err := ParseLanguages(list)
		if err != nil {
			bad("%v", err)
			continue
		}
		ch.languages = langs
		key := ch.id + "#" + ch.name
		if seen[key] {
			bad("%s is listed twice", ref)
			continue
		}
		seen[key] = true
		out = append(out, ch)
	}
	return out, errors.Join(errs...)
}

func (c envChannel) String() string {
	if c.id != "" {
		return "<#" + c.id + ">"
	}
	return "#" + c.name
}

// channelsKey is the setting holding the channels switched on or off by
// command, as JSON: channel ID → channelSetting.
const channelsKey = "translate:channels"

// channelSetting is one channel's auto-translation, as set by command.
type channelSetting struct {
	Languages []string  `json:"languages,omitempty"`
	Off       bool      `json:"off,omitempty"` // switched off, also overriding the environment
	By        string    `json:"by"`            // who switched it
	At        time.Time `json:"at"`
}

// channelRule is what applies to a channel: its languages (none when it
// is off) and where that was decided.
type channelRule struct {
	languages []string
	set       *channelSetting // nil: from the environment, or nothing
	env       *envChannel
}

// channels knows which channels are translated: the settings made by
// command, kept in the store, over TOWNHALL_TRANSLATE_CHANNELS. Settings
// are read from the store each time, so every replica sees a change at
// once; writes are serialised in this process.
type channels struct {
	i   *Integration
	env []envChannel

	mu sync.Mutex // serialises read-modify-write of channelsKey

	namesMu sync.Mutex
	names   map[string]channelName // channel ID → its name, for env entries by name
}

type channelName struct {
	name string
	at   time.Time
}

// nameTTL is how long a channel's name is trusted for matching the
// environment's "#name" entries; a renamed channel follows within it.
const nameTTL = 10 * time.Minute

// stored reads the channels set by command. A value that cannot be read
// counts as none, logged: one bad setting must not stop translation.
func (c *channels) stored(ctx context.Context) (map[string]channelSetting, error) {
	raw, ok, err := c.i.settings.Setting(ctx, channelsKey)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", channelsKey, err)
	}
	m := make(map[string]channelSetting)
	if ok {
		if err := json.Unmarshal([]byte(raw), &m); err != nil {
			c.i.log.WarnContext(ctx, "ignoring unreadable channel settings", "error", err)
			return make(map[string]channelSetting), nil
		}
	}
	return m, nil
}

// set stores (or with s nil, forgets) a channel's setting.
func (c *channels) set(ctx context.Context, channel string, s *channelSetting) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, err := c.stored(ctx)
	if err != nil {
		return err
	}
	if s == nil {
		delete(m, channel)
	} else {
		m[channel] = *s
	}
	raw, _ := json.Marshal(m) // strings, bools and times always marshal
	if err := c.i.settings.SetSetting(ctx, channelsKey, string(raw)); err != nil {
		return fmt.Errorf("save %s: %w", channelsKey, err)
	}
	return nil
}

// rule returns what applies to channel.
func (c *channels) rule(ctx context.Context, channel string) (channelRule, error) {
	m, err := c.stored(ctx)
	if err != nil {
		return channelRule{}, err
	}
	if s, ok := m[channel]; ok {
		r := channelRule{set: &s}
		if !s.Off {
			r.languages = s.Languages
		}
		return r, nil
	}
	if e := c.fromEnv(ctx, channel); e != nil {
		return channelRule{languages: e.languages, env: e}, nil
	}
	return channelRule{}, nil
}

// fromEnv finds channel among TOWNHALL_TRANSLATE_CHANNELS, by ID or, for
// entries that name channels, by its name (conversations.info, cached).
func (c *channels) fromEnv(ctx context.Context, channel string) *envChannel {
	byName := false
	for i, e := range c.env {
		if e.id == channel {
			return &c.env[i]
		}
		byName = byName || e.name != ""
	}
	if !byName {
		return nil
	}
	name := c.nameOf(ctx, channel)
	for i, e := range c.env {
		if e.name != "" && e.name == name {
			return &c.env[i]
		}
	}
	return nil
}

// nameOf returns a channel's name, or "" when Slack cannot say (the
// failure is logged and retried after nameTTL).
func (c *channels) nameOf(ctx context.Context, channel string) string {
	now := c.i.now()
	c.namesMu.Lock()
	n, ok := c.names[channel]
	c.namesMu.Unlock()
	if ok && now.Sub(n.at) < nameTTL {
		return n.name
	}
	ch, err := c.i.api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: channel})
	name := ""
	if err != nil {
		c.i.log.WarnContext(ctx, "could not read a channel's name", "channel", channel, "error", err)
	} else {
		name = ch.Name
	}
	c.namesMu.Lock()
	c.names[channel] = channelName{name: name, at: now}
	c.namesMu.Unlock()
	return name
}

// summary lists every channel with auto-translation on, for status: those
// set by command, then those of the environment not overridden.
func (c *channels) summary(ctx context.Context) ([]string, error) {
	m, err := c.stored(ctx)
	if err != nil {
		return nil, err
	}
	var lines []string
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		if s := m[id]; !s.Off {
			lines = append(lines, "<#"+id+"> → "+strings.Join(s.Languages, ", "))
		}
	}
	for _, e := range c.env {
		if c.overridden(ctx, e, m) {
			continue
		}
		lines = append(lines, e.String()+" → "+strings.Join(e.languages, ", ")+" (TOWNHALL_TRANSLATE_CHANNELS)")
	}
	return lines, nil
}

// overridden reports whether a command set the channel of an environment
// entry, which then no longer applies.
func (c *channels) overridden(ctx context.Context, e envChannel, set map[string]channelSetting) bool {
	if e.id != "" {
		_, ok := set[e.id]
		return ok
	}
	for id := range set {
		if c.nameOf(ctx, id) == e.name {
			return true
		}
	}
	return false
}
