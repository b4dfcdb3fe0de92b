package slacktest_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"

	"github.com/townhall/townhall/slackapp/slacktest"
)

func TestHello(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{})
	if err := b.srv.WaitConnected(waitCtx(t), 1); err != nil {
		t.Fatal(err)
	}
	var hello socketmode.Event
	select {
	case hello = <-b.hellos:
	case <-waitCtx(t).Done():
		t.Fatal("no hello")
	}
	req := hello.Request
	if req.NumConnections != 1 || req.ConnectionInfo.AppID != slacktest.DefaultAppID || req.DebugInfo.Host == "" || req.DebugInfo.ApproximateConnectionTime == 0 {
		t.Errorf("hello = %+v, want num_connections 1, app_id %s, debug_info set", req, slacktest.DefaultAppID)
	}
	if got := b.srv.Connections(); got != 1 {
		t.Errorf("Connections() = %d, want 1", got)
	}
}

func TestSlashCommandAck(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{manualAck: true})
	ctx := waitCtx(t)

	env, err := b.srv.SlashCommand(ctx, slacktest.SlashCommand{Command: "/call", Text: "budget review", UserID: slacktest.AdminID, ChannelID: slacktest.GeneralID})
	if err != nil {
		t.Fatal(err)
	}
	if env.ID == "" || env.Type != slacktest.TypeSlashCommands || env.Sent.IsZero() {
		t.Fatalf("envelope = %+v", env)
	}
	evt := b.next(t)
	if evt.Request.EnvelopeID != env.ID || !evt.Request.AcceptsResponsePayload {
		t.Errorf("request = %+v, want envelope %s accepting a response payload", evt.Request, env.ID)
	}
	cmd, ok := evt.Data.(slack.SlashCommand)
	if !ok {
		t.Fatalf("data is %T, want slack.SlashCommand", evt.Data)
	}
	want := slack.SlashCommand{
		TeamID: slacktest.DefaultTeamID, TeamDomain: slacktest.DefaultTeamName,
		ChannelID: slacktest.GeneralID, ChannelName: "general",
		UserID: slacktest.AdminID, UserName: "admin",
		Command: "/call", Text: "budget review", APIAppID: slacktest.DefaultAppID,
	}
	got := cmd
	got.Token, got.ResponseURL, got.TriggerID = "", "", ""
	if got != want {
		t.Errorf("command = %+v\nwant      %+v", got, want)
	}
	if !strings.HasPrefix(cmd.ResponseURL, b.srv.URL()+"/response/") || cmd.TriggerID == "" || cmd.Token == "" {
		t.Errorf("response_url %q, trigger_id %q, token %q: want all set", cmd.ResponseURL, cmd.TriggerID, cmd.Token)
	}

	if err := b.sm.AckCtx(ctx, env.ID, nil); err != nil {
		t.Fatal(err)
	}
	ack, err := b.srv.WaitAck(ctx, env.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ack.EnvelopeID != env.ID || ack.Received.Before(env.Sent) || ack.Payload != nil {
		t.Errorf("ack = %+v, want for %s received after %v without payload", ack, env.ID, env.Sent)
	}
	if acks := b.srv.Acks(); len(acks) != 1 {
		t.Errorf("Acks() = %v, want 1", acks)
	}
}

func TestAckPayloadIsAPost(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{manualAck: true})
	ctx := waitCtx(t)
	env, err := b.srv.SlashCommand(ctx, slacktest.SlashCommand{Command: "/help"})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.sm.AckCtx(ctx, env.ID, map[string]any{"text": "Usage: /help"}); err != nil {
		t.Fatal(err)
	}
	posts, err := b.srv.WaitPosts(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	p := posts[0]
	if p.Method != slacktest.MethodAck || p.Text != "Usage: /help" || p.ResponseType != "ephemeral" || p.User != slacktest.MemberID || p.Channel != slacktest.GeneralID {
		t.Errorf("post = %+v", p)
	}
}

func TestSendWaitsForConnection(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{noClient: true})

	short, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := b.srv.SlashCommand(short, slacktest.SlashCommand{Command: "/call"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("SlashCommand without a connection: err = %v, want deadline exceeded", err)
	}

	ctx := waitCtx(t)
	sent := make(chan error, 1)
	go func() {
		_, err := b.srv.SlashCommand(ctx, slacktest.SlashCommand{Command: "/call"})
		sent <- err
	}()
	c := b.startClient(t, false)
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	if evt := c.next(t); evt.Type != socketmode.EventTypeSlashCommand {
		t.Errorf("got %v, want a slash command", evt.Type)
	}
}

func TestEventAndRedeliver(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{})
	ctx := waitCtx(t)

	env, err := b.srv.Event(ctx, map[string]any{
		"type": "app_mention", "user": slacktest.MemberID,
		"text": "<@U0BOT> help", "channel": slacktest.GeneralID,
	}, slacktest.EventID("Ev0TEST"))
	if err != nil {
		t.Fatal(err)
	}
	first := b.next(t)
	if _, err := b.srv.WaitAck(ctx, env.ID); err != nil {
		t.Fatal(err)
	}
	again, err := b.srv.Redeliver(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	second := b.next(t)
	if _, err := b.srv.WaitAck(ctx, again.ID); err != nil {
		t.Fatal(err)
	}

	for i, tc := range []struct {
		evt     socketmode.Event
		envID   string
		attempt int
		reason  string
	}{
		{first, env.ID, 0, ""},
		{second, again.ID, 1, "timeout"},
	} {
		req := tc.evt.Request
		if req.EnvelopeID != tc.envID || req.RetryAttempt != tc.attempt || req.RetryReason != tc.reason || req.Type != slacktest.TypeEventsAPI {
			t.Errorf("delivery %d: request = %+v, want envelope %s attempt %d reason %q", i, req, tc.envID, tc.attempt, tc.reason)
		}
		outer, ok := tc.evt.Data.(slackevents.EventsAPIEvent)
		if !ok {
			t.Fatalf("delivery %d: data is %T", i, tc.evt.Data)
		}
		cb, ok := outer.Data.(*slackevents.EventsAPICallbackEvent)
		if !ok || cb.EventID != "Ev0TEST" || cb.TeamID != slacktest.DefaultTeamID || cb.APIAppID != slacktest.DefaultAppID || len(cb.Authorizations) != 1 {
			t.Errorf("delivery %d: callback = %+v", i, outer.Data)
		}
		mention, ok := outer.InnerEvent.Data.(*slackevents.AppMentionEvent)
		if !ok || mention.Text != "<@U0BOT> help" || mention.TimeStamp == "" || mention.EventTimeStamp != mention.TimeStamp || mention.Channel != slacktest.GeneralID {
			t.Errorf("delivery %d: inner event = %+v", i, outer.InnerEvent.Data)
		}
	}
}

func TestDisconnectRefresh(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{})
	ctx := waitCtx(t)
	if err := b.srv.WaitConnected(ctx, 1); err != nil {
		t.Fatal(err)
	}
	b.srv.Disconnect(ctx, "refresh_requested")
	if err := b.srv.WaitConnected(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if got := b.srv.Calls("apps.connections.open"); got != 2 {
		t.Errorf("apps.connections.open called %d times, want 2 (a new ticket per connection)", got)
	}
	// The new connection works.
	if _, err := b.srv.SlashCommand(ctx, slacktest.SlashCommand{Command: "/call"}); err != nil {
		t.Fatal(err)
	}
	b.next(t)
}

func TestDropConnectionsRedelivers(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{manualAck: true})
	ctx := waitCtx(t)

	env, err := b.srv.SlashCommand(ctx, slacktest.SlashCommand{Command: "/call", Text: "lost"})
	if err != nil {
		t.Fatal(err)
	}
	b.srv.DropConnections()
	if err := b.srv.WaitConnected(ctx, 2); err != nil {
		t.Fatal(err)
	}
	// The client may or may not have read the first delivery before the drop.
	var redelivered socketmode.Event
	for redelivered.Request == nil || redelivered.Request.RetryAttempt == 0 {
		redelivered = b.next(t)
	}
	req := redelivered.Request
	if req.EnvelopeID == env.ID || req.RetryAttempt != 1 || req.RetryReason != "timeout" {
		t.Errorf("redelivery = %+v, want a new envelope with retry_attempt 1, reason timeout", req)
	}
	if cmd := redelivered.Data.(slack.SlashCommand); cmd.Text != "lost" {
		t.Errorf("redelivered command text = %q, want %q", cmd.Text, "lost")
	}
	if err := b.sm.AckCtx(ctx, req.EnvelopeID, nil); err != nil {
		t.Fatal(err)
	}
	ack, err := b.srv.WaitAck(ctx, env.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ack.EnvelopeID != req.EnvelopeID {
		t.Errorf("ack of the original = %+v, want the redelivery's %s", ack, req.EnvelopeID)
	}
}

func TestTickets(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	b := setup(t, setupOptions{noClient: true, server: []slacktest.Option{slacktest.WithClock(clock.Now)}})
	ctx := waitCtx(t)

	_, url, err := b.api.StartSocketModeContext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(url, "ws://127.0.0.1:") || !strings.Contains(url, "/link/?ticket=") || !strings.Contains(url, "app_id="+slacktest.DefaultAppID) {
		t.Errorf("url = %q", url)
	}
	ws, _, err := websocket.DefaultDialer.DialContext(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	var hello struct {
		Type string `json:"type"`
	}
	if err := ws.ReadJSON(&hello); err != nil || hello.Type != "hello" {
		t.Fatalf("first message = %+v, %v; want hello", hello, err)
	}

	_, expiring, err := b.api.StartSocketModeContext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(slacktest.DefaultTicketTTL + time.Second)

	for _, tc := range []struct{ name, url string }{
		{"reused", url},
		{"expired", expiring},
		{"unknown", strings.Split(url, "?")[0] + "?ticket=nope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, resp, err := websocket.DefaultDialer.DialContext(ctx, tc.url, nil)
			if !errors.Is(err, websocket.ErrBadHandshake) || resp == nil || resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("dial: err = %v, resp = %v; want a refused handshake (401)", err, resp)
			}
		})
	}
}

func TestTooManyConnections(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{server: []slacktest.Option{slacktest.WithMaxConnections(1)}})
	ctx := waitCtx(t)
	if err := b.srv.WaitConnected(ctx, 1); err != nil {
		t.Fatal(err)
	}
	_, url, err := b.api.StartSocketModeContext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ws, _, err := websocket.DefaultDialer.DialContext(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	var msg struct{ Type, Reason string }
	if err := ws.ReadJSON(&msg); err != nil || msg.Type != "disconnect" || msg.Reason != "too_many_websockets" {
		t.Errorf("first message = %+v, %v; want disconnect too_many_websockets", msg, err)
	}
}

func TestRoundRobinOverConnections(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{})
	second := b.startClient(t, false)
	ctx := waitCtx(t)
	if err := b.srv.WaitConnected(ctx, 2); err != nil {
		t.Fatal(err)
	}
	const n = 6
	for range n {
		if _, err := b.srv.SlashCommand(ctx, slacktest.SlashCommand{Command: "/call"}); err != nil {
			t.Fatal(err)
		}
	}
	got := map[*client]int{}
	for range n {
		select {
		case <-b.requests:
			got[b.client]++
		case <-second.requests:
			got[second]++
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		}
	}
	if got[b.client] == 0 || got[second] == 0 {
		t.Errorf("deliveries per connection: %d and %d, want both used", got[b.client], got[second])
	}
	if got := b.srv.Connections(); got != 2 {
		t.Errorf("Connections() = %d, want 2", got)
	}
}

func TestCloseStopsWaiters(t *testing.T) {
	t.Parallel()
	srv, err := slacktest.Start()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := srv.WaitPosts(t.Context(), 1)
		done <- err
	}()
	srv.Close()
	if err := <-done; !errors.Is(err, slacktest.ErrClosed) {
		t.Errorf("WaitPosts after Close: err = %v, want ErrClosed", err)
	}
	srv.Close() // idempotent
}

// dialRaw opens a Socket Mode connection with a bare WebSocket client and
// reads the hello.
func dialRaw(t *testing.T, b *bundle) *websocket.Conn {
	t.Helper()
	_, url, err := b.api.StartSocketModeContext(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	ws, _, err := websocket.DefaultDialer.DialContext(t.Context(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	var hello struct{ Type string }
	if err := ws.ReadJSON(&hello); err != nil || hello.Type != "hello" {
		t.Fatalf("first message = %+v, %v; want hello", hello, err)
	}
	return ws
}

func TestPings(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{noClient: true, server: []slacktest.Option{slacktest.WithPingInterval(20 * time.Millisecond)}})

	t.Run("answered", func(t *testing.T) {
		t.Parallel()
		ws := dialRaw(t, b)
		pings := make(chan struct{}, 1000)
		ws.SetPingHandler(func(data string) error {
			pings <- struct{}{}
			return ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
		})
		readErr := make(chan error, 1)
		go func() {
			_, _, err := ws.ReadMessage()
			readErr <- err
		}()
		// 150 pings take 3 s, beyond the 2 s a silent connection is allowed.
		ctx := waitCtx(t)
		for range 150 {
			select {
			case <-pings:
			case err := <-readErr:
				t.Fatalf("connection closed after answering pings: %v", err)
			case <-ctx.Done():
				t.Fatal("pings stopped")
			}
		}
	})
	t.Run("unanswered", func(t *testing.T) {
		t.Parallel()
		ws := dialRaw(t, b)
		ws.SetPingHandler(func(string) error { return nil }) // no pong
		readErr := make(chan error, 1)
		go func() {
			_, _, err := ws.ReadMessage()
			readErr <- err
		}()
		select {
		case err := <-readErr:
			if err == nil {
				t.Error("read a message, want the connection closed")
			}
		case <-waitCtx(t).Done():
			t.Fatal("a connection that answers no ping was not closed")
		}
	})
}

// TestRedeliverGoesToAnotherConnection: with several connections open, a
// redelivery goes to another connection than its original's, as Slack may
// retry on any, so a test sees a retry reach another replica; Envelope.Conn
// says which. With one connection, it goes there.
func TestRedeliverGoesToAnotherConnection(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{})
	ctx := waitCtx(t)
	env, err := b.srv.SlashCommand(ctx, slacktest.SlashCommand{Command: "/call"})
	if err != nil {
		t.Fatal(err)
	}
	if env.Conn != 1 {
		t.Errorf("first envelope on connection %d, want 1", env.Conn)
	}
	again, err := b.srv.Redeliver(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	if again.Conn != 1 {
		t.Errorf("with one connection, redelivered on %d, want 1", again.Conn)
	}

	b.startClient(t, false)
	if err := b.srv.WaitConnected(ctx, 2); err != nil {
		t.Fatal(err)
	}
	for range 6 {
		env, err := b.srv.SlashCommand(ctx, slacktest.SlashCommand{Command: "/call"})
		if err != nil {
			t.Fatal(err)
		}
		again, err := b.srv.Redeliver(ctx, env)
		if err != nil {
			t.Fatal(err)
		}
		if again.Conn == env.Conn || again.Conn == 0 {
			t.Fatalf("envelope on connection %d redelivered on %d; want the other", env.Conn, again.Conn)
		}
		if again.RetryAttempt != env.RetryAttempt+1 {
			t.Errorf("retry_attempt %d after %d", again.RetryAttempt, env.RetryAttempt)
		}
	}
}
