package slackapp_test

import (
	"fmt"
	"testing"

	"github.com/townhall/townhall/slackapp"
	"github.com/townhall/townhall/slackapp/slacktest"
)

// TestBurstThenDrop: a burst of commands, then the connection drops while
// many acks are still queued. The runtime must not wedge (socketmode's
// reconnect waits for the runtime to read its events), and every command is
// answered exactly once after the reconnect.
func TestBurstThenDrop(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{handlers: slackapp.Handlers{Commands: []slackapp.Command{{Name: "/echo", Handler: echo("")}}}})
	ctx := waitCtx(t)
	const n = 200
	for i := range n {
		if _, err := b.ws.SlashCommand(ctx, slacktest.SlashCommand{Command: "/echo", Text: fmt.Sprint(i), UserID: slacktest.MemberID, ChannelID: slacktest.GeneralID}); err != nil {
			t.Fatal(err)
		}
	}
	b.ws.DropConnections()
	if _, err := b.rt.WaitConnection(ctx, 1); err != nil {
		t.Fatalf("no reconnect after the drop: %v", err)
	}
	if _, err := b.ws.WaitPosts(ctx, n); err != nil {
		t.Fatalf("not every command was answered: %v (%d posts)", err, len(b.ws.Posts()))
	}
	if err := b.rt.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, p := range b.ws.Posts() {
		seen[p.Text]++
	}
	for i := range n {
		if c := seen[fmt.Sprint(i)]; c != 1 {
			t.Errorf("command %d answered %d times", i, c)
		}
	}
}
