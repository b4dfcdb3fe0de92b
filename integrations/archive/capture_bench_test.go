package archive_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/townhall/townhall/integrations"
	"github.com/townhall/townhall/integrations/archive"
	"github.com/townhall/townhall/integrations/archive/sqlitearchive"
	"github.com/townhall/townhall/integrations/integrationtest"
	"github.com/townhall/townhall/slackapp/slacktest"
)

// BenchmarkLiveCapture posts user messages at a steady 200 a second
// through the real runtime with the archive capturing them, and reports the
// ack latency Slack sees (the target: p99 < 2 ms) and that every
// message was stored.
//
//	go test -run '^$' -bench LiveCapture -benchtime 2000x ./integrations/archive/
func BenchmarkLiveCapture(b *testing.B) {
	path := filepath.Join(b.TempDir(), "townhall.db")
	var a *sqlitearchive.Archive
	e := integrationtest.Start(b, integrationtest.Options{DatabasePath: path},
		func(e *integrationtest.Env) (integrations.Integration, error) {
			var err error
			if a, err = sqlitearchive.Open(context.Background(), path); err != nil {
				return nil, err
			}
			b.Cleanup(func() { a.Close() })
			return archive.New(archive.Config{Enabled: true, CatchUpSchedule: "@every 30m", CatchUpLookback: time.Hour, BackupKeep: 7},
				archive.Deps{Archive: a, API: e.Runtime.API(), IsStaff: e.Runtime.IsStaff, Now: e.Now})
		})
	ctx := context.Background()
	const gap = 5 * time.Millisecond // 200 messages a second

	envs := make([]slacktest.Envelope, 0, b.N)
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		if d := time.Until(start.Add(time.Duration(i) * gap)); d > 0 {
			time.Sleep(d) // pacing the load, not synchronising
		}
		_, env, err := e.WS.PostUserMessage(ctx, slacktest.Message{Channel: slacktest.GeneralID, Text: fmt.Sprint("message ", i, " about the budget")})
		if err != nil {
			b.Fatal(err)
		}
		envs = append(envs, env)
	}
	lat := make([]time.Duration, 0, len(envs))
	for _, env := range envs {
		ack, err := e.WS.WaitAck(ctx, env.ID)
		if err != nil {
			b.Fatal(err)
		}
		lat = append(lat, ack.Received.Sub(env.Sent))
	}
	if err := e.Runtime.WaitIdle(ctx); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(len(envs))/time.Since(start).Seconds(), "msgs/s")
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(lat[len(lat)/2]), "p50-ack-ms")
	b.ReportMetric(ms(lat[min(len(lat)-1, len(lat)*99/100)]), "p99-ack-ms")
	b.ReportMetric(ms(lat[len(lat)-1]), "max-ack-ms")
	stored := 0
	if err := a.Each(ctx, slacktest.GeneralID, "", func(archive.Message) error { stored++; return nil }); err != nil {
		b.Fatal(err)
	}
	if stored != len(envs) {
		b.Errorf("stored %d of %d messages", stored, len(envs))
	}
}
