package translate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/townhall/townhall/slackapp"
)

// Auto-translation of channels: each new message of a channel switched on
// gets one thread reply with its translations (see detect.go for how its
// language is found). Edits update the reply, a deletion deletes it.

// autoLease bounds how long a message's translation holds its claim; a
// process that dies mid-way lets another try after it.
const autoLease = 5 * time.Minute

// replyMemory is how long the app remembers which reply translates which
// message: edits and deletions later than that leave the reply alone.
const replyMemory = 30 * 24 * time.Hour

// autoLine is one language of a translation reply.
type autoLine struct {
	lang Language
	text string  // mrkdwn, safe to post; empty when failed
	fail failure // why it failed, "" when it did not
}

// autoResult is a message's translations into a channel's languages.
type autoResult struct {
	source string // our code of the message's language, "" when unknown
	hash   string // of the normalised text
	lines  []autoLine
}

// translated reports whether any line has a translation.
func (r autoResult) translated() bool {
	return slices.ContainsFunc(r.lines, func(l autoLine) bool { return l.fail == "" })
}

// translations translates text into those of languages it is not in,
// detecting its language as cheaply as detect.go describes; where is the
// conversation it comes from (a channel ID), whose past messages tell
// which language to try first. A language that fails gets a line saying
// so; the error is returned only when every one failed.
// errNothingToTranslate means text has no words.
func (i *Integration) translations(ctx context.Context, where, text string, languages []string) (autoResult, error) {
	n := normalise(text)
	p := prepare(n)
	if p.text == 0 {
		return autoResult{}, errNothingToTranslate
	}
	res := autoResult{hash: hashText(n)}
	done := make(map[string]result)
	source, known := i.t.detected(ctx, res.hash)
	var firstErr error
	translate := func(target, from string) (result, bool) {
		tctx, cancel := context.WithTimeout(ctx, i.cfg.Timeout)
		defer cancel()
		r, err := i.t.translateFrom(tctx, n, from, target)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			return result{}, false
		}
		return r, true
	}
	if !known {
		prose := p.prose()
		sc := dominantScript(prose)
		first, chance := i.sources.unlikeliest(where, sc, prose, languages)
		size := utf8.RuneCountInString(n)
		if size <= detectSample || chance*float64(size) < detectSample {
			// Steps 2 and 3: the first translation detects.
			if r, ok := translate(first, ""); ok {
				source, known = r.Source, true
				done[first] = r
			}
		} else {
			// Step 4: a sample to the detect endpoint.
			dctx, cancel := context.WithTimeout(ctx, i.cfg.Timeout)
			code, err := i.t.detect(dctx, sample(prose), first)
			cancel()
			if err != nil {
				firstErr = err
			} else {
				source, known = code, true
			}
		}
		if known {
			i.t.remember(ctx, res.hash, source)
			i.sources.seen(where, sc, source)
		}
	}
	res.source = source
	for _, code := range languages {
		lang, _ := LookupLanguage(code)
		if source != "" && sameLanguage(source, code) {
			continue
		}
		r, ok := done[code]
		if !ok {
			r, ok = translate(code, source)
		}
		switch {
		case !ok:
			res.lines = append(res.lines, autoLine{lang: lang, fail: classify(firstErr)})
		case strings.TrimSpace(r.Text) == strings.TrimSpace(slackapp.Escape(slackUnescaper.Replace(n))):
			// The provider gave the text back: it was in that language
			// after all.
		default:
			res.lines = append(res.lines, autoLine{lang: lang, text: quietMentions(r.Text)})
		}
	}
	if len(res.lines) > 0 && !res.translated() {
		return res, firstErr
	}
	return res, nil
}

// autoMessage is a message of a channel, as auto-translation reads it
// from the Events API.
type autoMessage struct {
	channel, ts, thread string
	user, botID         string
	subtype, text       string
}

func messageOf(channel string, m *slack.Msg) autoMessage {
	return autoMessage{channel: channel, ts: m.Timestamp, thread: m.ThreadTimestamp, user: m.User,
		botID: m.BotID, subtype: m.SubType, text: m.Text}
}

// replyThread is the thread a message's translations go in.
func (m autoMessage) replyThread() string {
	if m.thread != "" {
		return m.thread
	}
	return m.ts
}

// skip says why a message is not auto-translated, or "" when it is.
func (i *Integration) skip(m autoMessage) string {
	switch {
	case m.botID != "" || m.subtype == "bot_message":
		return "bot"
	case m.subtype != "" && m.subtype != "thread_broadcast" && m.subtype != "file_share" && m.subtype != "me_message":
		return "subtype"
	case strings.TrimSpace(m.text) == "":
		return "empty"
	case utf8.RuneCountInString(slackUnescaper.Replace(m.text)) > i.cfg.MaxCharacters:
		return "too long"
	}
	if countWords(prepare(normalise(m.text)).prose()) < i.cfg.ChannelMinWords {
		return "short" // also code, links and emoji alone
	}
	return ""
}

// handleMessage follows the messages of auto-translated channels.
func (i *Integration) handleMessage(ctx context.Context, r *slackapp.Request) error {
	if r.Event == nil {
		return nil
	}
	ev, ok := r.Event.InnerEvent.Data.(*slackevents.MessageEvent)
	if !ok || (ev.ChannelType != "" && ev.ChannelType != "channel" && ev.ChannelType != "group") {
		return nil
	}
	switch ev.SubType {
	case "message_deleted":
		ts := ev.DeletedTimeStamp
		if ts == "" && ev.PreviousMessage != nil {
			ts = ev.PreviousMessage.Timestamp
		}
		return i.autoDeleted(ctx, ev.Channel, ts)
	case "message_changed":
		if ev.Message == nil || (ev.PreviousMessage != nil && ev.PreviousMessage.Text == ev.Message.Text) {
			return nil // an unfurl, a reply count: not an edit of the text
		}
		return i.autoChanged(ctx, messageOf(ev.Channel, ev.Message))
	}
	m := autoMessage{channel: ev.Channel, ts: ev.TimeStamp, thread: ev.ThreadTimeStamp, user: ev.User,
		botID: ev.BotID, subtype: ev.SubType, text: ev.Text}
	if ev.Message != nil && m.ts == "" {
		m = messageOf(ev.Channel, ev.Message)
	}
	return i.autoNew(ctx, m)
}

// autoKey is the claim that makes a message's translation posted once.
func autoKey(channel, ts string) string { return "translate:auto:" + channel + ":" + ts }

// replyKey is where the reply translating a message is remembered.
func replyKey(channel, ts string) string { return "translate:reply:" + channel + ":" + ts }

// replyRecord is a posted translation reply.
type replyRecord struct {
	TS        string   `json:"ts"` // the reply's
	Thread    string   `json:"thread"`
	Hash      string   `json:"hash"` // of the text it translates
	Languages []string `json:"languages"`
	Deleted   bool     `json:"deleted,omitempty"`
}

func (i *Integration) reply(ctx context.Context, channel, ts string) (replyRecord, bool) {
	raw, ok, err := i.cache.CacheGet(ctx, replyKey(channel, ts))
	if err != nil {
		i.log.WarnContext(ctx, "could not read a translation reply's record", "channel", channel, "error", err)
		return replyRecord{}, false
	}
	var rec replyRecord
	if !ok || json.Unmarshal(raw, &rec) != nil || rec.Deleted || rec.TS == "" {
		return replyRecord{}, false
	}
	return rec, true
}

func (i *Integration) rememberReply(ctx context.Context, channel, ts string, rec replyRecord) {
	raw, _ := json.Marshal(rec) // strings always marshal
	if err := i.cache.CachePut(ctx, replyKey(channel, ts), raw, replyMemory); err != nil {
		i.log.WarnContext(ctx, "could not record a translation reply; its edits will not follow", "channel", channel, "error", err)
	}
}

// autoNew translates a new message of an auto-translated channel.
func (i *Integration) autoNew(ctx context.Context, m autoMessage) error {
	if m.channel == "" || m.ts == "" {
		return nil
	}
	if why := i.skip(m); why != "" {
		if why != "bot" && why != "subtype" {
			i.t.m.auto.WithLabelValues("skipped").Inc()
		}
		return nil
	}
	rule, err := i.chans.rule(ctx, m.channel)
	if err != nil || len(rule.languages) == 0 {
		return err
	}
	unlock := i.locks.lock(m.channel + ":" + m.ts)
	defer unlock()
	return i.post(ctx, m, rule.languages)
}

// post translates m and posts the reply, once.
func (i *Integration) post(ctx context.Context, m autoMessage, languages []string) error {
	if i.budget.paused(ctx) {
		i.t.m.auto.WithLabelValues("paused").Inc()
		return nil
	}
	key := autoKey(m.channel, m.ts)
	claimed, err := i.claims.Claim(ctx, key, autoLease)
	if err != nil {
		return fmt.Errorf("%s: auto: claim %s: %w", Name, key, err)
	}
	if !claimed {
		return nil // posted already (a redelivery, another replica), or deleted
	}
	release := func(cause error) error {
		if rerr := i.claims.Release(ctx, key); rerr != nil {
			return errors.Join(cause, rerr)
		}
		return cause
	}
	res, err := i.translations(ctx, m.channel, m.text, languages)
	defer i.budget.check(ctx, m.channel)
	switch {
	case errors.Is(err, errNothingToTranslate):
		i.t.m.auto.WithLabelValues("skipped").Inc()
		return release(nil)
	case err != nil:
		i.t.m.auto.WithLabelValues("failed").Inc()
		i.noteFailure(err)
		i.log.WarnContext(ctx, "auto-translation failed", "channel", m.channel, "provider", i.t.key, "kind", string(classify(err)), "error", i.clean(err))
		return release(nil) // logged, and shown in status; nothing for Slack to retry
	case len(res.lines) == 0:
		i.t.m.auto.WithLabelValues("already").Inc()
		return i.confirm(ctx, key)
	}
	msg := autoReply(res, i.t.p.name())
	msg.ThreadTS = m.replyThread()
	ts, err := i.poster.Post(ctx, m.channel, msg)
	if err != nil {
		return release(fmt.Errorf("%s: auto: post translations: %w", Name, err))
	}
	i.rememberReply(ctx, m.channel, m.ts, replyRecord{TS: ts, Thread: msg.ThreadTS, Hash: res.hash, Languages: languages})
	i.t.m.auto.WithLabelValues("translated").Inc()
	i.log.InfoContext(ctx, "message auto-translated", "channel", m.channel, "source", res.source, "languages", len(res.lines))
	return i.confirm(ctx, key)
}

func (i *Integration) confirm(ctx context.Context, key string) error {
	if err := i.claims.Confirm(ctx, key); err != nil {
		return fmt.Errorf("%s: auto: confirm %s: %w", Name, key, err)
	}
	return nil
}

// autoChanged follows an edit: the reply is updated to translate the new
// text, deleted when the new text needs none, or posted when the message
// had none and now needs one.
func (i *Integration) autoChanged(ctx context.Context, m autoMessage) error {
	if m.ts == "" || m.botID != "" || m.subtype == "bot_message" {
		return nil
	}
	rule, err := i.chans.rule(ctx, m.channel)
	if err != nil || len(rule.languages) == 0 {
		return err // a channel switched off keeps its replies as they are
	}
	unlock := i.locks.lock(m.channel + ":" + m.ts)
	defer unlock()
	rec, have := i.reply(ctx, m.channel, m.ts)
	if !have {
		if i.skip(m) != "" {
			return nil
		}
		return i.post(ctx, m, rule.languages)
	}
	if i.skip(m) != "" {
		return i.deleteReply(ctx, m.channel, m.ts, rec)
	}
	if rec.Hash == hashText(normalise(m.text)) && slices.Equal(rec.Languages, rule.languages) {
		return nil
	}
	if i.budget.paused(ctx) {
		i.t.m.auto.WithLabelValues("paused").Inc()
		return nil // the reply stays as it was
	}
	res, err := i.translations(ctx, m.channel, m.text, rule.languages)
	defer i.budget.check(ctx, m.channel)
	switch {
	case errors.Is(err, errNothingToTranslate) || (err == nil && len(res.lines) == 0):
		return i.deleteReply(ctx, m.channel, m.ts, rec)
	case err != nil:
		i.t.m.auto.WithLabelValues("failed").Inc()
		i.noteFailure(err)
		i.log.WarnContext(ctx, "auto-translation of an edit failed", "channel", m.channel, "provider", i.t.key, "kind", string(classify(err)), "error", i.clean(err))
		return nil
	}
	msg := autoReply(res, i.t.p.name())
	msg.ThreadTS = rec.Thread
	up, ok := i.poster.(Updater)
	if !ok {
		return fmt.Errorf("%s: auto: the poster cannot update messages", Name)
	}
	err = up.Update(ctx, m.channel, rec.TS, msg)
	var se *slackapp.SendError
	if errors.As(err, &se) && se.Code == "message_not_found" {
		// Someone deleted the reply: post it again.
		ts, perr := i.poster.Post(ctx, m.channel, msg)
		if perr != nil {
			return fmt.Errorf("%s: auto: post translations again: %w", Name, perr)
		}
		rec.TS, err = ts, nil
	}
	if err != nil {
		return fmt.Errorf("%s: auto: update translations: %w", Name, err)
	}
	rec.Hash, rec.Languages = res.hash, rule.languages
	i.rememberReply(ctx, m.channel, m.ts, rec)
	i.t.m.auto.WithLabelValues("updated").Inc()
	return nil
}

// autoDeleted deletes the translation reply of a deleted message, and
// makes sure none is posted later.
func (i *Integration) autoDeleted(ctx context.Context, channel, ts string) error {
	if channel == "" || ts == "" {
		return nil
	}
	unlock := i.locks.lock(channel + ":" + ts)
	defer unlock()
	rec, have := i.reply(ctx, channel, ts)
	if !have {
		// Not translated (yet): in a translated channel, make sure it
		// never is, should its creation arrive late.
		rule, err := i.chans.rule(ctx, channel)
		if err != nil || len(rule.languages) == 0 {
			return err
		}
		return i.confirm(ctx, autoKey(channel, ts))
	}
	if err := i.confirm(ctx, autoKey(channel, ts)); err != nil {
		return err
	}
	return i.deleteReply(ctx, channel, ts, rec)
}

// deleteReply deletes a translation reply and forgets it.
func (i *Integration) deleteReply(ctx context.Context, channel, ts string, rec replyRecord) error {
	if _, _, err := i.api.DeleteMessageContext(ctx, channel, rec.TS); err != nil {
		var se slack.SlackErrorResponse
		if !errors.As(err, &se) || se.Err != "message_not_found" {
			return fmt.Errorf("%s: auto: delete translations %s in %s: %w", Name, rec.TS, channel, err)
		}
	}
	rec.Deleted = true
	i.rememberReply(ctx, channel, ts, rec)
	i.t.m.auto.WithLabelValues("deleted").Inc()
	return nil
}

// noteFailure keeps the last auto-translation failure for status.
func (i *Integration) noteFailure(err error) {
	i.failMu.Lock()
	defer i.failMu.Unlock()
	i.lastFail = autoFailure{at: i.now(), kind: classify(err)}
}

type autoFailure struct {
	at   time.Time
	kind failure
}

// flagCountries are the countries whose flags stand for a language in
// translation replies, where the language's code is not one.
var flagCountries = map[string]string{
	"ar": "sa", "cs": "cz", "da": "dk", "el": "gr", "en": "gb", "et": "ee", "he": "il", "hi": "in",
	"ja": "jp", "ko": "kr", "nb": "no", "sl": "si", "sv": "se", "uk": "ua", "vi": "vn", "zh": "cn",
	"zh-TW": "tw", "pt-BR": "br",
}

// flagOf is a language's flag emoji, made of regional indicator letters.
func flagOf(code string) string {
	cc, ok := flagCountries[code]
	if !ok {
		cc = code
	}
	if len(cc) != 2 {
		return "🌐"
	}
	var b strings.Builder
	for _, r := range strings.ToUpper(cc) {
		b.WriteRune(0x1F1E6 + r - 'A')
	}
	return b.String()
}

// autoReply is the one thread reply carrying a message's translations: a
// section per language, headed by its flag and name, so each reader finds
// theirs at a glance on a phone; a failed language says so.
func autoReply(r autoResult, provider string) slackapp.Message {
	var blocks []slack.Block
	var previews []string
	room := (maxBlocks - 1) / max(1, len(r.lines))
	for _, l := range r.lines {
		head := "*" + flagOf(l.lang.Code) + " " + l.lang.Name() + "*"
		if l.fail != "" {
			blocks = append(blocks, slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType,
				head+"\n_"+failureLine(l.fail, provider)+"_", false, true), nil, nil))
			continue
		}
		parts := sections(head+"\n"+l.text, room)
		blocks = append(blocks, parts...)
		previews = append(previews, flagOf(l.lang.Code)+" "+preview(l.text))
	}
	about := "🌐 Translated automatically"
	if r.source != "" {
		about += " from " + sourceName(r.source)
	}
	about += " by " + provider
	blocks = append(blocks, slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, slackapp.Escape(about), false, true)))
	text := strings.Join(previews, "\n")
	if text == "" {
		text = about
	}
	return slackapp.Message{Text: shortenText(text, 3000), Blocks: blocks}
}

// failureLine is what a translation reply says of a language that failed.
func failureLine(f failure, provider string) string {
	switch f {
	case failUnsupported:
		return provider + " does not translate into this language."
	case failQuota:
		return "The translation allowance is used up for now."
	}
	return provider + " could not translate this just now; react with its flag to try again."
}

// keyedMutex serialises work on one key (one message: its creation, edits
// and deletion) in this process. Its zero value is ready.
type keyedMutex struct {
	mu    sync.Mutex
	locks map[string]*keyedLock
}

type keyedLock struct {
	mu      sync.Mutex
	waiters int
}

// lock locks key and returns its unlock.
func (k *keyedMutex) lock(key string) func() {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = make(map[string]*keyedLock)
	}
	l, ok := k.locks[key]
	if !ok {
		l = &keyedLock{}
		k.locks[key] = l
	}
	l.waiters++
	k.mu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		k.mu.Lock()
		if l.waiters--; l.waiters == 0 {
			delete(k.locks, key)
		}
		k.mu.Unlock()
	}
}

// TranslationReply translates text (mrkdwn, as posted: a feed item, a
// calendar digest) into those of languages it is not already in, and
// returns the one message to post in the post's thread, laid out as
// channels' auto-translation lays it out. ok is false when there is
// nothing to post: no words, already in every language, or
// auto-translation paused by the monthly budget (the caller may log it).
// languages are codes or names, as ParseLanguages reads them; an unknown
// one is an error, as is a provider that failed for every language. The
// characters sent count against the monthly budget. It honours ctx, and
// is safe for concurrent use.
//
// Other integrations cannot import this package: cmd/townhall hands this
// method to them as a function value.
func (i *Integration) TranslationReply(ctx context.Context, text string, languages []string) (slackapp.Message, bool, error) {
	codes, err := ParseLanguages(strings.Join(languages, ","))
	if err != nil {
		return slackapp.Message{}, false, fmt.Errorf("%s: %w", Name, err)
	}
	if i.budget.paused(ctx) {
		i.log.InfoContext(ctx, "translation of a post skipped: the monthly budget is used up")
		return slackapp.Message{}, false, nil
	}
	res, err := i.translations(ctx, "", text, codes)
	defer i.budget.check(ctx, "")
	switch {
	case errors.Is(err, errNothingToTranslate):
		return slackapp.Message{}, false, nil
	case err != nil:
		i.noteFailure(err)
		return slackapp.Message{}, false, fmt.Errorf("%s: translate a post: %s", Name, i.clean(err))
	case len(res.lines) == 0:
		return slackapp.Message{}, false, nil
	}
	return autoReply(res, i.t.p.name()), true, nil
}
