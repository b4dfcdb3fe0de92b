package archive_test

import (
	"strings"
	"testing"
	"time"

	"github.com/townhall/townhall/integrations/archive"
)

// TestImportReadsEveryFormOfAValue imports an export written the ways
// real exporters write it (numbers as strings and floats, booleans as
// strings, null objects, "file" and "files", timestamps as JSON numbers,
// unknown subtypes and fields) and a few values nothing can read: each of
// those costs that value alone, named in the report.
func TestImportReadsEveryFormOfAValue(t *testing.T) {
	t.Parallel()
	r := zipOf(t, map[string]any{
		"channels.json": `[
			{"id": "C1", "name": "general", "created": "1433558319", "is_archived": "false",
			 "topic": {"value": "Say hello", "creator": "", "last_set": "0"}, "purpose": null},
			{"id": "C2", "name": "old", "created": 1.433558319e9, "is_archived": "1", "topic": null,
			 "members": "not a list", "unknown_field": {"deep": [1, 2]}},
			{"id": "C3", "name": "odd", "created": "last tuesday", "is_archived": {"no": 1}},
			{"id": "G9", "name": "secret", "is_private": "true"}
		]`,
		"users.json": `[
			{"id": "U1", "name": "ana", "deleted": "false", "is_bot": 0,
			 "profile": {"real_name": "Ana", "display_name": "ana", "image_48": "https://a.slack-edge.com/ana.png"}},
			{"id": "U2", "name": "bo", "profile": null, "is_bot": "maybe"},
			42
		]`,
		"general/2015-06-06.json": `[
			{"type": "message", "user": "U1", "text": "strings everywhere", "ts": "1433558400.000002",
			 "edited": {"user": "U1", "ts": "1433558460.000000"},
			 "reactions": [{"name": "tada", "count": "2", "users": ["U1", "U2"]}]},
			{"type": "message", "user": "U2", "text": "ts as a JSON number", "ts": 1433558500.000003},
			{"type": "message", "subtype": "file_share", "user": "U1", "text": "a file, singular",
			 "ts": "1433558600.000004", "file": {"id": "F1", "name": "agenda.pdf", "permalink": "https://x.slack.com/files/F1"}},
			{"type": "message", "subtype": "bot_message", "username": "Feedbot", "bot_id": "B1",
			 "text": "a bot without a user", "ts": "1433558700.000005",
			 "attachments": [{"fallback": "New post", "title": "Hello"}], "blocks": null},
			{"type": "message", "subtype": "huddle_thread", "user": "U1", "text": "an unknown subtype",
			 "ts": "1433558800.000006", "room": {"id": "R1"}},
			{"type": "message", "user": "U1", "text": 12345, "ts": "1433558900.000007"},
			{"type": "message", "user": "U1", "text": "bad reply count", "ts": "1433559000.000008",
			 "thread_ts": "1433559000.000008", "reply_count": "many", "reply_users": "U2"},
			{"type": "message", "user": "U2", "text": "a reply", "ts": "1433559100.000009",
			 "thread_ts": "1433559000.000008", "parent_user_id": "U1"},
			{"type": "message", "user": "U1", "text": "no timestamp at all"},
			"not a message"
		]`,
		"old/2015-06-07.json": `[
			{"type": "message", "user": "U1", "text": "before the break", "ts": "1433644800.000001"},
			{"type": "message", "user": "U1", "text": "cut off", "ts": "14336`,
		"secret/2015-06-07.json": `[{"type": "message", "user": "U1", "text": "PRIVATE", "ts": "1433644900.000001"}]`,
	})
	a := openArchive(t)
	ctx := t.Context()
	st, err := archive.Import(ctx, a, r, r.Size(), archive.ImportOptions{})
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	t.Logf("report: %+v", st)
	if st.Channels != 3 || st.Private != 1 || st.PrivateFiles != 1 {
		t.Errorf("channels %d, private %d, private files %d; want 3, 1, 1", st.Channels, st.Private, st.PrivateFiles)
	}
	if st.Added != 9 {
		t.Errorf("added %d messages; want 9 (8 of general, the 1 before old's file breaks off)", st.Added)
	}
	if len(st.Malformed) != 1 || !strings.HasPrefix(st.Malformed[0], "old/2015-06-07.json: ") {
		t.Errorf("malformed = %q; want old/2015-06-07.json named", st.Malformed)
	}
	// Each unreadable value is counted and named: file, where, field, value.
	report := strings.Join(st.Problems, "\n")
	for _, want := range []string{
		`channels.json: channel odd: created: "last tuesday" where a number was expected`,
		`channels.json: channel odd: is_archived: {"no": 1}`,
		`channels.json: channel old: members: string where a list was expected`,
		`users.json: user bo: is_bot: "maybe"`,
		`users.json: user 3: (the whole entry)`,
		`general/2015-06-06.json: message 1433558900.000007: text: number where text was expected`,
		`general/2015-06-06.json: message 10: (the whole entry)`,
	} {
		if !strings.Contains(report, want) {
			t.Errorf("report does not name %q:\n%s", want, report)
		}
	}
	if st.BadValues != 7 || len(st.Problems) > st.BadValues {
		t.Errorf("bad values = %d with %d named; want every one counted", st.BadValues, len(st.Problems))
	}

	general, _, _ := a.Channel(ctx, "C1")
	if general.Topic != "Say hello" || general.Created != time.Unix(1433558319, 0).UTC() || general.Archived {
		t.Errorf("general = %+v", general)
	}
	old, _, _ := a.Channel(ctx, "C2")
	if !old.Archived || old.Created != time.Unix(1433558319, 0).UTC() {
		t.Errorf("old = %+v; want archived, created from a float", old)
	}
	m, ok, _ := a.Message(ctx, "C1", "1433558400.000002")
	if !ok || m.Edited != "1433558460.000000" || len(m.Reactions) != 1 || m.Reactions[0].Count != 2 {
		t.Errorf("message with string numbers = %+v", m)
	}
	if m, ok, _ := a.Message(ctx, "C1", "1433558500.000003"); !ok || m.Text != "ts as a JSON number" {
		t.Errorf("message with a numeric ts = %+v %v", m, ok)
	}
	if m, _, _ := a.Message(ctx, "C1", "1433558600.000004"); len(m.Files) != 1 || m.Files[0].Name != "agenda.pdf" {
		t.Errorf("file share = %+v; want its one file", m)
	}
	if m, _, _ := a.Message(ctx, "C1", "1433558700.000005"); m.Username != "Feedbot" || !strings.Contains(m.Text, "a bot without a user") {
		t.Errorf("bot message = %+v", m)
	}
	if _, ok, _ := a.Message(ctx, "C1", "1433558800.000006"); !ok {
		t.Error("a message of an unknown subtype was refused")
	}
	if m, ok, _ := a.Message(ctx, "C1", "1433558900.000007"); !ok || m.Text != "" {
		t.Errorf("message whose text is a number = %+v %v; want kept, without its text", m, ok)
	}
	if m, _, _ := a.Message(ctx, "C1", "1433559100.000009"); m.ThreadTS != "1433559000.000008" {
		t.Errorf("reply = %+v; want in its thread", m)
	}
	if u, ok, _ := a.User(ctx, "U2"); !ok || u.Bot {
		t.Errorf("user with a null profile = %+v %v", u, ok)
	}
	for _, m := range dump(t, a) {
		if m.Text == "PRIVATE" {
			t.Fatal("a private channel's message was imported")
		}
	}
}
