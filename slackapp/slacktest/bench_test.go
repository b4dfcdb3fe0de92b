package slacktest_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/townhall/townhall/slackapp/slacktest"
)

// BenchmarkAckRoundTrip measures what the fake adds to an ack's latency: a
// slash command written to the socket, read by the real socketmode client,
// acknowledged at once, and the ack read back.
func BenchmarkAckRoundTrip(b *testing.B) {
	bn := setup(b, setupOptions{noClient: true})
	c := bn.startClient(b, false)
	ctx := context.Background()
	if err := bn.srv.WaitConnected(ctx, 1); err != nil {
		b.Fatal(err)
	}
	var latencies []time.Duration
	for b.Loop() {
		env, err := bn.srv.SlashCommand(ctx, slacktest.SlashCommand{Command: "/call"})
		if err != nil {
			b.Fatal(err)
		}
		ack, err := bn.srv.WaitAck(ctx, env.ID)
		if err != nil {
			b.Fatal(err)
		}
		<-c.requests
		latencies = append(latencies, ack.Received.Sub(env.Sent))
	}
	slices.Sort(latencies)
	pct := func(p float64) float64 {
		return float64(latencies[int(p*float64(len(latencies)-1))].Microseconds())
	}
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
}

// BenchmarkPostMessage measures chat.postMessage through the real client.
func BenchmarkPostMessage(b *testing.B) {
	bn := setup(b, setupOptions{noClient: true})
	ctx := context.Background()
	for b.Loop() {
		if _, _, err := bn.api.PostMessageContext(ctx, slacktest.GeneralID, slack.MsgOptionText("hello", false)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHistoryPage measures one conversations.history page of 200
// through the real client, in a channel of 20,000 messages with threads
// (a reply every fifth message), as an archive catch-up reads it.
func BenchmarkHistoryPage(b *testing.B) {
	bn := setup(b, setupOptions{noClient: true})
	var parent string
	for i := range 20000 {
		m := slacktest.Message{Text: "message", TS: ts(i)}
		if i%5 == 4 {
			m.ThreadTS = parent
		}
		if added := bn.srv.AddMessage(m); i%5 == 0 {
			parent = added.TS
		}
	}
	ctx := context.Background()
	p := slack.GetConversationHistoryParameters{ChannelID: slacktest.GeneralID, Limit: 200}
	for b.Loop() {
		h, err := bn.api.GetConversationHistoryContext(ctx, &p)
		if err != nil {
			b.Fatal(err)
		}
		if len(h.Messages) != 200 {
			b.Fatalf("page of %d messages", len(h.Messages))
		}
		p.Cursor = h.ResponseMetaData.NextCursor // the next page, back to the first after the last
	}
}
