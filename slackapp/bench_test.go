package slackapp_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/townhall/townhall/slackapp"
	"github.com/townhall/townhall/slackapp/slacktest"
)

// BenchmarkAckLatency drives slash commands at a steady 1,000 a second
// through the real socketmode client and the fake workspace, and reports
// the ack latency Slack would see (envelope written → ack read, both on the
// fake's side of the socket): p50, p99 and the worst.
func BenchmarkAckLatency(b *testing.B) {
	noop := slackapp.HandlerFunc(func(context.Context, *slackapp.Request) error { return nil })
	tb := setup(b, setupOpts{handlers: slackapp.Handlers{Commands: []slackapp.Command{{Name: "/noop", Handler: noop}}}})
	ctx := context.Background()
	const rate = time.Millisecond // 1,000 commands/s

	envs := make([]slacktest.Envelope, 0, b.N)
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		// Hold the average rate: wait for the i-th slot, or send at once
		// if a late timer put us behind.
		if d := time.Until(start.Add(time.Duration(i) * rate)); d > 0 {
			time.Sleep(d)
		}
		env, err := tb.ws.SlashCommand(ctx, slacktest.SlashCommand{Command: "/noop", Text: "x", UserID: slacktest.MemberID, ChannelID: slacktest.GeneralID})
		if err != nil {
			b.Fatal(err)
		}
		envs = append(envs, env)
	}
	lat := make([]time.Duration, 0, len(envs))
	for _, env := range envs {
		ack, err := tb.ws.WaitAck(ctx, env.ID)
		if err != nil {
			b.Fatal(err)
		}
		lat = append(lat, ack.Received.Sub(env.Sent))
	}
	b.StopTimer()
	b.ReportMetric(float64(len(envs))/time.Since(start).Seconds(), "cmds/s")
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ack-ms")
	b.ReportMetric(pct(0.99), "p99-ack-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ack-ms")
	if worst := lat[len(lat)-1]; worst > 3*time.Second {
		b.Errorf("an ack took %s; Slack's deadline is 3 s", worst)
	}
}
