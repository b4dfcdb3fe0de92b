package translate_test

import (
	"testing"

	"github.com/townhall/townhall/integrations/translate"
	"github.com/townhall/townhall/slackapp/slacktest"
)

// A translation the app posts for everyone must not broadcast again what
// the original announced: @channel, @here, @everyone and user groups become
// plain words, while people's mentions and dates stay as they were.
func TestPostedTranslationsDoNotBroadcast(t *testing.T) {
	t.Parallel()
	const original = "<!channel> <!here> <!everyone|@everyone> <!subteam^S0123|@volunteers> Hello everyone <@U0ADMIN> <!date^1700000000^{date_short}|Nov 14>"
	broadcasts := []string{"<!channel", "<!here", "<!everyone", "<!subteam"}
	kept := []string{"<@U0ADMIN>", "<!date^1700000000^{date_short}|Nov 14>"}
	check := func(t *testing.T, what string, p slacktest.Post) {
		t.Helper()
		for _, s := range broadcasts {
			if shows(p, s) {
				t.Errorf("%s broadcasts %s: %s", what, s, p)
			}
		}
		for _, s := range kept {
			if !shows(p, s) {
				t.Errorf("%s lost %s: %s", what, s, p)
			}
		}
		if !shows(p, "Bonjour à tous") || !shows(p, "@volunteers") {
			t.Errorf("%s = %s", what, p)
		}
	}

	b := start(t, nil)
	m := b.env.WS.AddMessage(slacktest.Message{Text: original, User: slacktest.AdminID})
	check(t, "flag reaction reply", only(t, b.env.Event(t, reaction(slacktest.MemberID, "fr", slacktest.GeneralID, m.TS))))

	// Anyone may share a translation of an admin's announcement.
	if answer := only(t, b.env.Command(t, slacktest.MemberID, "", "/translate", "set fr")); !shows(answer, "French") {
		t.Fatalf("set = %s", answer)
	}
	answer := only(t, b.env.Shortcut(t, slacktest.MessageShortcut{CallbackID: translate.ShortcutCallbackID, MessageTS: m.TS, UserID: slacktest.MemberID}))
	if !answer.Ephemeral() {
		t.Fatalf("shortcut answer = %s", answer)
	}
	check(t, "shared translation", only(t, b.env.Action(t, slacktest.BlockAction{ActionID: translate.PostActionID})))
}
