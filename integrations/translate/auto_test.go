package translate_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/townhall/townhall/integrations/integrationtest"
	"github.com/townhall/townhall/integrations/translate"
	"github.com/townhall/townhall/integrations/translate/deepltest"
	"github.com/townhall/townhall/integrations/translate/googletest"
	"github.com/townhall/townhall/integrations/translate/libretest"
	"github.com/townhall/townhall/slackapp/slacktest"
)

// Messages the tests post. fakemt reads the French one as French (bonjour,
// la, est) and the others as English.
const (
	english = "Hello everyone, the meeting moves to Thursday evening."
	french  = "Bonjour à tous, la réunion est déplacée à jeudi soir."
	code    = "```\ngo test -race ./...\n```"
)

func waitCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// settle waits until an envelope is acknowledged and handled, and returns
// the posts made since before.
func (b bundle) settle(t *testing.T, env slacktest.Envelope, before int) []slacktest.Post {
	t.Helper()
	ctx := waitCtx(t)
	if env.ID == "" {
		t.Fatal("no event was sent")
	}
	if _, err := b.env.WS.WaitAck(ctx, env.ID); err != nil {
		t.Fatal(err)
	}
	if err := b.env.Runtime.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	return b.env.WS.Posts()[before:]
}

// say posts a message as a member would and returns the message and what
// the app posted in answer.
func (b bundle) say(t *testing.T, m slacktest.Message) (slacktest.Message, []slacktest.Post) {
	t.Helper()
	before := len(b.env.WS.Posts())
	msg, env, err := b.env.WS.PostUserMessage(waitCtx(t), m)
	if err != nil {
		t.Fatal(err)
	}
	return msg, b.settle(t, env, before)
}

func (b bundle) edit(t *testing.T, ts, text string) []slacktest.Post {
	t.Helper()
	before := len(b.env.WS.Posts())
	_, env, err := b.env.WS.EditUserMessage(waitCtx(t), slacktest.GeneralID, ts, text)
	if err != nil {
		t.Fatal(err)
	}
	return b.settle(t, env, before)
}

func (b bundle) remove(t *testing.T, ts string) []slacktest.Post {
	t.Helper()
	before := len(b.env.WS.Posts())
	env, err := b.env.WS.DeleteUserMessage(waitCtx(t), slacktest.GeneralID, ts)
	if err != nil {
		t.Fatal(err)
	}
	return b.settle(t, env, before)
}

// switchOn runs "/translate channel on <langs>" in #general as an admin.
func (b bundle) switchOn(t *testing.T, langs string) {
	t.Helper()
	p := only(t, b.env.Command(t, slacktest.AdminID, slacktest.GeneralID, "/translate", "channel on "+langs))
	if p.Ephemeral() || !shows(p, "switched on auto-translation here") {
		t.Fatalf("switching on answered %s", p)
	}
}

func targets(reqs []deepltest.Request) []string {
	var out []string
	for _, r := range reqs {
		out = append(out, r.Target+"<"+r.Source)
	}
	return out
}

// The scenario: a channel in es,fr receives an English, a French
// and a code-only message; then the English one is edited and deleted.
func TestChannelAutoTranslation(t *testing.T) {
	t.Parallel()
	b := start(t, nil)
	b.switchOn(t, "es,fr")

	en, posts := b.say(t, slacktest.Message{Text: english})
	reply := only(t, posts)
	if reply.Method != slacktest.MethodPostMessage || reply.ThreadTS != en.TS ||
		!shows(reply, "🇪🇸 Spanish (español)") || !shows(reply, "[es] Hello everyone") ||
		!shows(reply, "🇫🇷 French (français)") || !shows(reply, "[fr] Hello everyone") ||
		!shows(reply, "Translated automatically from English by DeepL") {
		t.Fatalf("reply to the English message = %s", reply)
	}
	// Spanish was asked with the source left to DeepL: that was the
	// detection. French then named the source.
	if got, want := targets(b.deepl.Requests()), []string{"ES<", "FR<EN"}; !slices.Equal(got, want) {
		t.Errorf("DeepL requests = %v, want %v", got, want)
	}

	fr, posts := b.say(t, slacktest.Message{Text: french, User: slacktest.AdminID})
	reply = only(t, posts)
	if reply.ThreadTS != fr.TS || !shows(reply, "[es] Bonjour à tous") || shows(reply, "French (français)") ||
		!shows(reply, "from French") {
		t.Errorf("reply to the French message = %s", reply)
	}
	if got := targets(b.deepl.Requests()); len(got) != 3 || got[2] != "ES<" {
		t.Errorf("the French message cost more than Spanish: DeepL requests = %v", got)
	}

	if _, posts := b.say(t, slacktest.Message{Text: code}); len(posts) != 0 {
		t.Errorf("a code-only message was answered: %v", posts)
	}
	if n := len(b.deepl.Requests()); n != 3 {
		t.Errorf("the code-only message reached DeepL (%d requests)", n)
	}

	// An edit updates the reply in place.
	updated := only(t, b.edit(t, en.TS, "Hello everyone, the meeting moves to Friday morning."))
	if updated.Method != slacktest.MethodUpdate || updated.TS != posts0(t, b, en.TS).TS ||
		!shows(updated, "[es] Hello everyone, the meeting moves to Friday morning.") || !shows(updated, "[fr] Hello everyone, the meeting moves to Friday") {
		t.Errorf("update = %s", updated)
	}
	if m, _ := b.env.WS.Message(slacktest.GeneralID, updated.TS); !strings.Contains(string(m.Blocks), "Friday") {
		t.Errorf("the reply in Slack still reads %s", m.Blocks)
	}
	// An edit that changes nothing of the text (an unfurl) costs nothing.
	requests := len(b.deepl.Requests())
	if posts := b.edit(t, en.TS, "Hello everyone, the meeting moves to Friday morning."); len(posts) != 0 || len(b.deepl.Requests()) != requests {
		t.Errorf("an unchanged edit posted %v and made %d requests", posts, len(b.deepl.Requests())-requests)
	}

	// Deleting the message deletes its translations.
	b.remove(t, en.TS)
	if got := b.front.Deleted(); len(got) != 1 || got[0] != slacktest.GeneralID+"/"+updated.TS {
		t.Errorf("deleted = %v, want the reply %s", got, updated.TS)
	}
	if _, ok := b.env.WS.Message(slacktest.GeneralID, updated.TS); ok {
		t.Error("the reply is still in the channel")
	}
	// The French message's reply stays.
	if _, ok := b.env.WS.Message(slacktest.GeneralID, reply.TS); !ok {
		t.Error("the other message's reply was deleted")
	}
}

// posts0 is the app's first reply in a message's thread.
func posts0(t *testing.T, b bundle, thread string) slacktest.Post {
	t.Helper()
	for _, p := range b.env.WS.Posts() {
		if p.Method == slacktest.MethodPostMessage && p.ThreadTS == thread {
			return p
		}
	}
	t.Fatalf("no reply in thread %s", thread)
	return slacktest.Post{}
}

func TestAutoTranslationSkips(t *testing.T) {
	t.Parallel()
	b := start(t, nil)
	b.switchOn(t, "fr")
	for _, m := range []slacktest.Message{
		{Text: "ok thanks"},
		{Text: "merci !"},
		{Text: ":tada: :tada: <@U0ADMIN>"},
		{Text: "https://example.org/agenda/2026-12-03"},
		{Text: "<https://example.org/agenda|the agenda for Thursday> :point_up:"},
		{Text: code},
		{Text: "Same `make test` here"},
		{Text: "Hello everyone, another app posted this", Subtype: "bot_message", BotID: "B0OTHER", User: ""},
		{Text: "Hello everyone, and good morning from the thread", Subtype: "channel_join"},
	} {
		if _, posts := b.say(t, m); len(posts) != 0 {
			t.Errorf("%q was answered: %v", m.Text, posts)
		}
	}
	if n := len(b.deepl.Requests()); n != 0 {
		t.Errorf("DeepL was asked %d times", n)
	}
	// Prose around code is translated, the code left alone.
	_, posts := b.say(t, slacktest.Message{Text: "Run this before you push:\n```go test ./...```"})
	if p := only(t, posts); !shows(p, "[fr] Run this before you push:") || !shows(p, "```go test ./...```") {
		t.Errorf("reply = %s", p)
	}
}

// A reply in a thread gets its translations in the same thread; a
// redelivered event is translated once.
func TestAutoTranslationInThreadAndRedelivery(t *testing.T) {
	t.Parallel()
	b := start(t, nil)
	b.switchOn(t, "fr")
	parent := b.env.WS.AddMessage(slacktest.Message{Text: "Agenda"})
	before := len(b.env.WS.Posts())
	m, env, err := b.env.WS.PostUserMessage(waitCtx(t), slacktest.Message{Text: english, ThreadTS: parent.TS})
	if err != nil {
		t.Fatal(err)
	}
	if p := only(t, b.settle(t, env, before)); p.ThreadTS != parent.TS || !shows(p, "[fr] Hello everyone") {
		t.Errorf("reply = %s (thread %s, message %s)", p, p.ThreadTS, m.TS)
	}
	before = len(b.env.WS.Posts())
	again, err := b.env.WS.Redeliver(waitCtx(t), env)
	if err != nil {
		t.Fatal(err)
	}
	if posts := b.settle(t, again, before); len(posts) != 0 {
		t.Errorf("the redelivery posted %v", posts)
	}
}

// Detection by each provider's own means: a long Spanish message in an
// es,fr channel costs a sample for detection and the French, never the
// Spanish. (For a message under three samples long, guessing Spanish is
// not worth a sample: see detect.go.)
func TestDetectionCostsOnlyTheMissingLanguage(t *testing.T) {
	t.Parallel()
	spanish := "Hola a todos: el grupo de voluntarios se reúne el jueves por la tarde en la biblioteca del barrio para preparar " +
		"el mercado de invierno, y necesitamos manos para montar los puestos, cocinar y recibir a los vecinos que vengan. " +
		"Quien pueda traer mesas plegables, alargadores o termos de café, que lo apunte en la hoja compartida antes del miércoles. " +
		"Los niños del taller de pintura expondrán sus dibujos en la entrada, y habrá un rincón de intercambio de libros, juguetes y ropa de abrigo para el invierno."
	n := utf8.RuneCountInString(spanish)
	tests := []struct {
		name  string
		setup func(t *testing.T, c *translate.Config) (detections func() []string, translations func() []string, billed func() int)
	}{
		{"google", func(t *testing.T, c *translate.Config) (func() []string, func() []string, func() int) {
			f := googletest.New(t)
			c.Provider, c.GoogleAPIKey, c.GoogleEndpoint = translate.ProviderGoogle, f.APIKey, f.Endpoint()
			return f.Detections, func() (out []string) {
				for _, r := range f.Requests() {
					out = append(out, r.Target)
				}
				return out
			}, f.Characters
		}},
		{"libretranslate", func(t *testing.T, c *translate.Config) (func() []string, func() []string, func() int) {
			f := libretest.New(t)
			c.Provider, c.LibreURL = translate.ProviderLibre, f.URL
			return f.Detections, func() (out []string) {
				for _, r := range f.Requests() {
					out = append(out, r.Target)
				}
				return out
			}, f.Characters
		}},
		{"deepl", func(t *testing.T, c *translate.Config) (func() []string, func() []string, func() int) {
			f := deepltest.New(t)
			c.DeepLKey, c.DeepLURL = f.Key, f.URL
			// DeepL has no detect endpoint: the sample is translated
			// into the channel's first language, and only its source kept.
			return func() (out []string) {
					for _, r := range f.Requests() {
						if r.Target == "ES" {
							out = append(out, r.Texts...)
						}
					}
					return out
				}, func() (out []string) {
					for _, r := range f.Requests() {
						if r.Target != "ES" {
							out = append(out, strings.ToLower(r.Target))
						}
					}
					return out
				}, f.Characters
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig()
			detections, translations, billed := tt.setup(t, &cfg)
			b := startWith(t, cfg, integrationtest.Options{})
			b.switchOn(t, "es,fr")
			_, posts := b.say(t, slacktest.Message{Text: spanish})
			if p := only(t, posts); !shows(p, "French") || shows(p, "Spanish (español)") || !shows(p, "from Spanish") {
				t.Errorf("reply = %s", p)
			}
			d := detections()
			if len(d) != 1 || utf8.RuneCountInString(d[0]) > 160 || !strings.HasPrefix(spanish, d[0]) {
				t.Errorf("detections = %q, want one sample of at most 160 characters", d)
			}
			if got := translations(); !slices.Equal(got, []string{"fr"}) {
				t.Errorf("translated into %v, want only fr", got)
			}
			if got, most := billed(), n+160; got > most {
				t.Errorf("billed %d characters, want at most %d (the French and a sample)", got, most)
			}
			// The same text again is detected and translated from the cache.
			before := billed()
			b.say(t, slacktest.Message{Text: spanish})
			if billed() != before {
				t.Errorf("the same text again billed %d more", billed()-before)
			}
		})
	}
}

// In a six-language channel every message is in a script some of the
// channel's languages are not written in: translating into one of those
// first detects the language for free.
func TestSixLanguagesDetectForFree(t *testing.T) {
	t.Parallel()
	f := googletest.New(t)
	cfg := testConfig()
	cfg.Provider, cfg.GoogleAPIKey, cfg.GoogleEndpoint = translate.ProviderGoogle, f.APIKey, f.Endpoint()
	b := startWith(t, cfg, integrationtest.Options{})
	b.switchOn(t, "en,fr,es,ar,zh,ru")
	for _, tt := range []struct{ text, source string }{
		{english, "English"},
		{"Всем привет, встреча переносится на четверг.", "Russian"},
		{"大家好，会议改到星期四晚上七点。", "Chinese"},
	} {
		before := len(f.Requests())
		_, posts := b.say(t, slacktest.Message{Text: tt.text})
		p := only(t, posts)
		if !shows(p, "from "+tt.source) {
			t.Errorf("%s: reply = %s", tt.source, p)
		}
		var got []string
		for _, r := range f.Requests()[before:] {
			got = append(got, r.Target)
		}
		// One request per language the text is not in; none for its own.
		if len(got) != 5 {
			t.Errorf("%s: translated into %v, want five languages", tt.source, got)
		}
	}
	if d := f.Detections(); len(d) != 0 {
		t.Errorf("detect was called: %q", d)
	}
}

func TestChannelCommandUsage(t *testing.T) {
	t.Parallel()
	b := start(t, nil)
	tests := []struct {
		user, channel, text string
		want                string
	}{
		{slacktest.AdminID, slacktest.GeneralID, "channel", "Auto-translation of this channel"},
		{slacktest.AdminID, slacktest.GeneralID, "channel help", "`/translate channel on es,fr,ar`"},
		{slacktest.AdminID, slacktest.GeneralID, "channel on", "Which languages?"},
		{slacktest.AdminID, slacktest.GeneralID, "channel on klingon", "Unknown language \"klingon\""},
		{slacktest.AdminID, slacktest.GeneralID, "channel on en,fr,es,ar,zh,ru,de,it,ja", "at most 8 fit in one reply"},
		{slacktest.MemberID, slacktest.GeneralID, "channel on es", "is for workspace staff"},
		{slacktest.MemberID, slacktest.GeneralID, "channel off", "is for workspace staff"},
		{slacktest.AdminID, slacktest.GeneralID, "channel off", "already off here"},
		{slacktest.AdminID, slacktest.RandomID, "channel on es", "invite me with `/invite @townhall`"},
		{slacktest.AdminID, "D0ADMIN", "channel on es", "run `/translate channel on` in the channel itself"},
		{slacktest.MemberID, slacktest.GeneralID, "channel status", "Auto-translation is *off* here"},
	}
	for _, tt := range tests {
		p := only(t, b.env.Command(t, tt.user, tt.channel, "/translate", tt.text))
		if !p.Ephemeral() || !shows(p, tt.want) {
			t.Errorf("/translate %s (by %s in %s) = %s\nwant it to say %q", tt.text, tt.user, tt.channel, p, tt.want)
		}
	}
	// "channel" followed by anything else is text to translate.
	if p := only(t, b.env.Command(t, slacktest.MemberID, "", "/translate", "fr channel is open")); !shows(p, "[fr] channel is open") {
		t.Errorf("translation of text starting with channel = %s", p)
	}
	if n := len(b.deepl.Requests()); n != 1 {
		t.Errorf("DeepL was asked %d times, want 1", n)
	}
}

// TOWNHALL_TRANSLATE_CHANNELS switches channels on; commands override it,
// and what they set survives a restart.
func TestChannelSettingsPersist(t *testing.T) {
	t.Parallel()
	fake := deepltest.New(t)
	cfg := testConfig()
	cfg.DeepLKey, cfg.DeepLURL, cfg.Channels = fake.Key, fake.URL, "#general=es;C0NOWHERE=fr"
	db := filepath.Join(t.TempDir(), "townhall.db")
	b := startWith(t, cfg, integrationtest.Options{DatabasePath: db})
	_, posts := b.say(t, slacktest.Message{Text: english})
	if p := only(t, posts); !shows(p, "[es] Hello everyone") {
		t.Fatalf("reply from the environment's setting = %s", p)
	}
	if p := only(t, b.env.Command(t, slacktest.MemberID, slacktest.GeneralID, "/translate", "channel status")); !shows(p, "into Spanish") || !shows(p, "TOWNHALL_TRANSLATE_CHANNELS") {
		t.Errorf("status = %s", p)
	}
	if p := only(t, b.env.Command(t, slacktest.AdminID, slacktest.GeneralID, "/translate", "channel off")); p.Ephemeral() || !shows(p, "switched off auto-translation here") {
		t.Errorf("off = %s", p)
	}
	b.env.Stop(t)

	restart := func() bundle {
		return startWith(t, cfg, integrationtest.Options{DatabasePath: db, Workspace: b.env.WS})
	}
	b2 := restart()
	if _, posts := b2.say(t, slacktest.Message{Text: english + " Again."}); len(posts) != 0 {
		t.Errorf("switched off, then restarted: the environment switched it on again: %v", posts)
	}
	b2.switchOn(t, "fr,ar")
	b2.env.Stop(t)

	b3 := restart()
	_, posts = b3.say(t, slacktest.Message{Text: english + " Once more."})
	if p := only(t, posts); !shows(p, "[fr] Hello") || !shows(p, "🇸🇦 Arabic") || shows(p, "[es]") {
		t.Errorf("after a restart = %s", p)
	}
	if p := only(t, b3.env.Command(t, slacktest.MemberID, slacktest.GeneralID, "/translate", "channel status")); !shows(p, "into French and Arabic") || !shows(p, "switched on by <@U0ADMIN> on 3 December 2026") {
		t.Errorf("status after a restart = %s", p)
	}
	// Staff see the channels: #general as the command set it (the
	// environment's entry for it no longer applies), and the environment's
	// other entry.
	status := only(t, b3.env.Command(t, slacktest.AdminID, "", "/townhall", "status"))
	if !shows(status, "auto-translation: <#C0GENERAL> → fr, ar; <#C0NOWHERE> → fr (TOWNHALL_TRANSLATE_CHANNELS)") || shows(status, "#general → es") ||
		!shows(status, "characters translated this month (no cap)") || !shows(status, "provider: DeepL") {
		t.Errorf("/townhall status = %s", status)
	}
}

// The monthly budget: staff are told near the cap, auto-translation
// pauses past it (while /translate goes on), /townhall status says so,
// and the next month starts again.
func TestBudgetPausesAutoTranslation(t *testing.T) {
	t.Parallel()
	per := 2 * utf8.RuneCountInString(english) // es and fr, no markup
	b := start(t, func(c *translate.Config) { c.MonthlyCharacters = 2*per + per/2 })
	b.switchOn(t, "es,fr")
	dm := "D" + strings.TrimPrefix(slacktest.AdminID, "U")

	_, posts := b.say(t, slacktest.Message{Text: english})
	only(t, posts) // 40 %
	_, posts = b.say(t, slacktest.Message{Text: strings.Replace(english, "Thursday", "Tuesday", 1)})
	// 2 × per of 2.5 × per is 80 %: no notice yet.
	if len(posts) != 1 {
		t.Fatalf("second message: %v", posts)
	}
	// A /translate counts too, and brings the month past 90 %: the staff
	// member who switched the channel on is told, in a DM.
	posts = b.env.Command(t, slacktest.MemberID, "", "/translate", "fr "+english[:30])
	if len(posts) != 2 || !slices.ContainsFunc(posts, func(p slacktest.Post) bool {
		return p.Ephemeral() && shows(p, "[fr] Hello everyone")
	}) || !slices.ContainsFunc(posts, func(p slacktest.Post) bool {
		return p.Channel == dm && shows(p, "Translation budget nearly used") && shows(p, "(90 %)")
	}) {
		t.Fatalf("/translate near the cap = %v", posts)
	}
	_, posts = b.say(t, slacktest.Message{Text: strings.Replace(english, "Thursday", "Monday", 1)})
	if len(posts) != 2 || posts[1].Channel != dm || !shows(posts[1], "Auto-translation is paused* until 1 January") {
		t.Fatalf("posts at the cap = %v", posts)
	}
	// Past the cap: nothing is translated automatically…
	requests := len(b.deepl.Requests())
	if _, posts := b.say(t, slacktest.Message{Text: strings.Replace(english, "Thursday", "Sunday", 1)}); len(posts) != 0 {
		t.Errorf("paused, yet answered: %v", posts)
	}
	if len(b.deepl.Requests()) != requests {
		t.Error("paused, yet DeepL was asked")
	}
	// …but on demand it is, and staff are not told again.
	if p := only(t, b.env.Command(t, slacktest.MemberID, "", "/translate", "es Hello everyone")); !shows(p, "Hola a todos") {
		t.Errorf("/translate while paused = %s", p)
	}
	status := only(t, b.env.Command(t, slacktest.AdminID, "", "/townhall", "status"))
	if !shows(status, "auto-translation paused until 1 January") || !shows(status, "auto-translation: <#C0GENERAL> → es, fr") {
		t.Errorf("/townhall status = %s", status)
	}
	// A new month: the budget starts again.
	b.clock.Set(time.Date(2027, 1, 1, 0, 0, 1, 0, time.UTC))
	_, posts = b.say(t, slacktest.Message{Text: strings.Replace(english, "Thursday", "Saturday", 1)})
	if p := only(t, posts); !shows(p, "[es] Hello everyone, the meeting moves to Saturday") {
		t.Errorf("in January = %s", p)
	}
	status = only(t, b.env.Command(t, slacktest.AdminID, "", "/townhall", "status"))
	if !shows(status, "of "+strconv.Itoa(2*per+per/2)+" characters this month") {
		t.Errorf("January's status = %s", status)
	}
}

// An edit that makes a short message long enough posts its translations;
// one that makes it too short deletes them. A translation never
// broadcasts what the original announced.
func TestAutoTranslationEdits(t *testing.T) {
	t.Parallel()
	b := start(t, nil)
	b.switchOn(t, "fr")
	m, posts := b.say(t, slacktest.Message{Text: "ok"})
	if len(posts) != 0 {
		t.Fatalf("a short message was answered: %v", posts)
	}
	reply := only(t, b.edit(t, m.TS, "<!channel> Hello everyone, the agenda is ready."))
	if reply.Method != slacktest.MethodPostMessage || reply.ThreadTS != m.TS || !shows(reply, "[fr] Hello everyone") || !shows(reply, "@\u2060channel") || shows(reply, "<!channel") {
		t.Fatalf("reply after the edit = %s", reply)
	}
	if posts := b.edit(t, m.TS, "ok then"); len(posts) != 0 {
		t.Errorf("shortening posted %v", posts)
	}
	if got := b.front.Deleted(); len(got) != 1 || got[0] != slacktest.GeneralID+"/"+reply.TS {
		t.Errorf("deleted = %v, want the reply", got)
	}
	// Deleting the message now changes nothing more.
	b.remove(t, m.TS)
	if got := b.front.Deleted(); len(got) != 1 {
		t.Errorf("deleted = %v", got)
	}
}

// TranslationReply is what a feed or a digest calls to carry its post's
// translations.
func TestTranslationReply(t *testing.T) {
	t.Parallel()
	post := "*New post*: " + english
	// The post in two languages, then "Bonjour" once, reach the cap.
	b := start(t, func(c *translate.Config) { c.MonthlyCharacters = 2*utf8.RuneCountInString(post) + 3 })
	ctx := waitCtx(t)
	m, ok, err := b.in.TranslationReply(ctx, post, []string{"es", "français"})
	if err != nil || !ok || !strings.Contains(string(mustJSON(t, m.Blocks)), "[es] ") || !strings.Contains(m.Text, "🇫🇷") {
		t.Fatalf("TranslationReply = %+v, %v, %v", m, ok, err)
	}
	if _, ok, err := b.in.TranslationReply(ctx, "Bonjour", []string{"fr"}); ok || err != nil {
		t.Errorf("a French text into French: ok %v, err %v", ok, err)
	}
	if _, _, err := b.in.TranslationReply(ctx, english, []string{"xx"}); err == nil || !strings.Contains(err.Error(), `unknown language "xx"`) {
		t.Errorf("unknown language: %v", err)
	}
	// Past the budget, posts are not translated either.
	if _, ok, err := b.in.TranslationReply(ctx, english+" More.", []string{"es", "fr"}); ok || err != nil {
		t.Errorf("past the budget: ok %v, err %v", ok, err)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
