package slacktest

import (
	"encoding/json"
	"testing"

	"github.com/slack-go/slack"
)

func TestRender(t *testing.T) {
	t.Parallel()
	dir := &directory{
		users:    map[string]string{"U0ADMIN": "admin", "U0MEMBER": "member"},
		channels: map[string]string{"C0GENERAL": "general"},
	}
	blocks := func(bs ...slack.Block) json.RawMessage {
		raw, err := json.Marshal(bs)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	mrkdwn := func(s string) *slack.TextBlockObject {
		return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
	}
	plainText := func(s string) *slack.TextBlockObject {
		return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
	}
	join := slack.NewButtonBlockElement("join", "", plainText("Join"))
	join.URL = "https://meet.jit.si/townhall-budget"

	for _, tc := range []struct {
		name string
		post Post
		want string
	}{
		{
			name: "message in channel",
			post: Post{Method: MethodPostMessage, Channel: "C0GENERAL", Text: "hello", TS: "1.000001"},
			want: "#general (in channel)\nhello",
		},
		{
			name: "thread reply",
			post: Post{Method: MethodPostMessage, Channel: "C0GENERAL", Text: "reply", TS: "2.000001", ThreadTS: "1.000001"},
			want: "#general, thread 1.000001 (in channel)\nreply",
		},
		{
			name: "ephemeral",
			post: Post{Method: MethodPostEphemeral, Channel: "C0GENERAL", User: "U0MEMBER", Text: "psst"},
			want: "#general (only visible to @member)\npsst",
		},
		{
			name: "response URL, default ephemeral",
			post: Post{Method: MethodResponseURL, Channel: "C0GENERAL", User: "U0ADMIN", ResponseType: "ephemeral", Text: "usage"},
			want: "#general (only visible to @admin)\nusage",
		},
		{
			name: "response URL in channel",
			post: Post{Method: MethodResponseURL, Channel: "C0GENERAL", ResponseType: "in_channel", Text: "call"},
			want: "#general (in channel)\ncall",
		},
		{
			name: "replace original",
			post: Post{Method: MethodResponseURL, Channel: "C0GENERAL", ResponseType: "in_channel", ReplaceOriginal: true, TS: "1.5", Text: "done"},
			want: "#general (replaced original 1.5, in channel)\ndone",
		},
		{
			name: "delete original",
			post: Post{Method: MethodResponseURL, Channel: "C0GENERAL", DeleteOriginal: true, TS: "1.5"},
			want: "#general (deleted original 1.5)",
		},
		{
			name: "update",
			post: Post{Method: MethodUpdate, Channel: "C0GENERAL", TS: "1.5", Text: "v2"},
			want: "#general (updated 1.5)\nv2",
		},
		{
			name: "direct message",
			post: Post{Method: MethodPostMessage, Channel: "D0ADMIN", Text: "hi"},
			want: "DM @admin (in channel)\nhi",
		},
		{
			name: "unknown channel",
			post: Post{Method: MethodPostMessage, Channel: "C0NOPE", Text: "hi"},
			want: "C0NOPE (in channel)\nhi",
		},
		{
			name: "mrkdwn specials",
			post: Post{Method: MethodPostMessage, Channel: "C0GENERAL",
				Text: "<@U0ADMIN> and <@U0MEMBER|maxi> in <#C0GENERAL> and <#C9|other>: see <https://example.com/a?b=1&amp;c=2|the doc> or <https://example.com>, <!here>, <!subteam^S1|@ops>"},
			want: "#general (in channel)\n@admin and @maxi in #general and #other: see the doc (https://example.com/a?b=1&c=2) or https://example.com, @here, @ops",
		},
		{
			name: "escapes back",
			post: Post{Method: MethodPostMessage, Channel: "C0GENERAL", Text: "a &lt;b&gt; &amp;lt; *bold*"},
			want: "#general (in channel)\na <b> &lt; *bold*",
		},
		{
			name: "blocks instead of text",
			post: Post{Method: MethodPostMessage, Channel: "C0GENERAL", Text: "fallback", Blocks: blocks(
				slack.NewHeaderBlock(plainText("Budget review")),
				slack.NewSectionBlock(mrkdwn("Call by <@U0ADMIN>"), []*slack.TextBlockObject{mrkdwn("*When*\nnow"), plainText("<raw>")}, slack.NewAccessory(join)),
				slack.NewDividerBlock(),
				slack.NewContextBlock("", mrkdwn("Started &amp; open"), slack.NewImageBlockElement("https://x/y.png", "logo")),
				slack.NewActionBlock("a", slack.NewButtonBlockElement("feeds_remove", "42", plainText("Remove")), join),
				slack.NewImageBlock("https://x/chart.png", "a chart", "", nil),
			)},
			want: "#general (in channel)\n" +
				"Budget review\n" +
				"Call by @admin\n*When*\nnow\n<raw>\n[Join] https://meet.jit.si/townhall-budget\n" +
				"----------\n" +
				"Started & open [image: logo]\n" +
				"[Remove]  [Join] https://meet.jit.si/townhall-budget\n" +
				"[image: a chart]",
		},
		{
			name: "rich text",
			post: Post{Method: MethodPostMessage, Channel: "C0GENERAL", Blocks: json.RawMessage(`[{"type":"rich_text","elements":[
				{"type":"rich_text_section","elements":[{"type":"text","text":"Hi "},{"type":"user","user_id":"U0MEMBER"},{"type":"emoji","name":"wave"}]},
				{"type":"rich_text_list","style":"bullet","elements":[{"type":"rich_text_section","elements":[{"type":"link","url":"https://a","text":"A"}]}]}]}]`)},
			want: "#general (in channel)\nHi @member:wave:\n- A (https://a)",
		},
		{
			name: "unknown block",
			post: Post{Method: MethodPostMessage, Channel: "C0GENERAL", Blocks: json.RawMessage(`[{"type":"video"}]`)},
			want: "#general (in channel)\n[video block]",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.post.dir = dir
			if got := Render(tc.post); got != tc.want {
				t.Errorf("Render() =\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

// TestRenderWithoutNames renders a post built by hand: IDs stay IDs.
func TestRenderWithoutNames(t *testing.T) {
	t.Parallel()
	got := Render(Post{Method: MethodPostEphemeral, Channel: "C0GENERAL", User: "U0ADMIN", Text: "hi <@U0ADMIN>"})
	if want := "C0GENERAL (only visible to @U0ADMIN)\nhi @U0ADMIN"; got != want {
		t.Errorf("Render() = %q, want %q", got, want)
	}
}

func FuzzRender(f *testing.F) {
	f.Add("<@U0ADMIN> <#C1|x> <https://a|b> &amp; <!here>", `[{"type":"section","text":{"type":"mrkdwn","text":"x"}}]`)
	f.Add("<<>>|<|>", `[{"type":"rich_text","elements":[{"type":"rich_text_list","elements":[1]}]}]`)
	f.Fuzz(func(t *testing.T, text, blocks string) {
		_ = Render(Post{Method: MethodPostMessage, Channel: "C0GENERAL", Text: text, Blocks: json.RawMessage(blocks)})
	})
}

func TestPostButtons(t *testing.T) {
	t.Parallel()
	plainText := func(s string) *slack.TextBlockObject {
		return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
	}
	join := slack.NewButtonBlockElement("join", "", plainText("Join"))
	join.URL = "https://meet.jit.si/townhall-budget"
	post := slack.NewButtonBlockElement("translate_post", "fr:123", plainText("Post to channel"))
	noID := slack.NewButtonBlockElement("", "", plainText("No ID"))
	section := slack.NewSectionBlock(plainText("More?"), nil, slack.NewAccessory(slack.NewButtonBlockElement("more", "page-2", plainText("Next"))))
	section.BlockID = "s1"
	actions := slack.NewActionBlock("a1", join, post, noID)
	raw, err := json.Marshal([]slack.Block{section, slack.NewDividerBlock(), actions})
	if err != nil {
		t.Fatal(err)
	}
	got := Post{Method: MethodPostMessage, Channel: "C0GENERAL", Blocks: raw}.Buttons()
	want := []Button{
		{ActionID: "more", BlockID: "s1", Value: "page-2", Text: "Next"},
		{ActionID: "join", BlockID: "a1", Text: "Join", URL: "https://meet.jit.si/townhall-budget"},
		{ActionID: "translate_post", BlockID: "a1", Value: "fr:123", Text: "Post to channel"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("button %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if b := (Post{Text: "no blocks"}).Buttons(); b != nil {
		t.Errorf("a post without blocks has buttons: %+v", b)
	}
}
