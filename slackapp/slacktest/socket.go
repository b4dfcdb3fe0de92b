package slacktest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Socket Mode message types (https://api.slack.com/apis/connections/socket-implement).
const (
	TypeSlashCommands = "slash_commands"
	TypeEventsAPI     = "events_api"
	TypeInteractive   = "interactive"
)

// maxRetries is how many times Slack retries an unacknowledged delivery
// (https://api.slack.com/apis/connections/events-api#retries).
const maxRetries = 3

// writeTimeout bounds every write to a socket.
const writeTimeout = 10 * time.Second

// conn is one Socket Mode connection.
type conn struct {
	id      int
	host    string // debug_info.host
	ws      *websocket.Conn
	writeMu sync.Mutex    // gorilla allows one writer at a time
	done    chan struct{} // closed when the connection is gone

	// Guarded by Server.mu.
	ready    bool        // hello sent or being sent: envelopes may go here
	draining bool        // told to disconnect: no new envelopes
	sent     []*envelope // envelopes delivered here, in order
}

// write sends one text message.
func (c *conn) write(msg []byte) (sent time.Time, err error) {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	return c.writeLocked(msg)
}

// writeLocked is write for a caller that holds c.writeMu.
func (c *conn) writeLocked(msg []byte) (sent time.Time, err error) {
	sent = time.Now()
	if err := c.ws.SetWriteDeadline(sent.Add(writeTimeout)); err != nil {
		return sent, err
	}
	return sent, c.ws.WriteMessage(websocket.TextMessage, msg)
}

// abort closes the socket without a close frame; the read loop then ends.
func (c *conn) abort() { _ = c.ws.NetConn().Close() }

// closeGracefully sends a close frame and closes the socket.
func (c *conn) closeGracefully() {
	msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
	_ = c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
	c.abort()
}

type envState int

const (
	envPending     envState = iota // waiting for a connection
	envInflight                    // written to conn, not acknowledged
	envRedelivered                 // its connection died; a child carries it on
	envAbandoned                   // the sender gave up before it was written
)

// envelope is one Socket Mode delivery.
type envelope struct {
	id           string
	typ          string
	payload      json.RawMessage
	acceptsResp  bool
	retryAttempt int
	retryReason  string
	parent       *envelope // the delivery this one repeats after its connection died
	avoid        *conn     // a redelivery goes to another connection than this when one is open

	// Guarded by Server.mu.
	state envState
	conn  *conn
	sent  time.Time
	acked bool // acknowledged itself
	ack   *Ack // its own ack, or that of a redelivery of it
	// for slash commands: where an ack's message goes
	channel, user string
}

func (e *envelope) wire() []byte {
	type wire struct {
		EnvelopeID             string          `json:"envelope_id"`
		Payload                json.RawMessage `json:"payload"`
		Type                   string          `json:"type"`
		AcceptsResponsePayload bool            `json:"accepts_response_payload"`
		RetryAttempt           *int            `json:"retry_attempt,omitempty"`
		RetryReason            *string         `json:"retry_reason,omitempty"`
	}
	w := wire{EnvelopeID: e.id, Payload: e.payload, Type: e.typ, AcceptsResponsePayload: e.acceptsResp}
	// Events API envelopes always carry the retry fields; others when retried.
	if e.typ == TypeEventsAPI || e.retryAttempt > 0 {
		w.RetryAttempt, w.RetryReason = &e.retryAttempt, &e.retryReason
	}
	b, err := json.Marshal(w)
	if err != nil {
		panic(fmt.Sprintf("slacktest: marshal envelope: %v", err)) // RawMessage payloads are valid JSON
	}
	return b
}

func (e *envelope) public() Envelope {
	env := Envelope{ID: e.id, Type: e.typ, Sent: e.sent, RetryAttempt: e.retryAttempt, Payload: e.payload}
	if e.conn != nil {
		env.Conn = e.conn.id
	}
	return env
}

// newEnvelopeLocked registers an envelope. s.mu must be held.
func (s *Server) newEnvelopeLocked(typ string, payload any, acceptsResp bool) (*envelope, error) {
	raw, err := json.Marshal(payload)
	if err != nil {
		return nil, fmt.Errorf("slacktest: marshal %s payload: %w", typ, err)
	}
	e := &envelope{id: newUUID(), typ: typ, payload: raw, acceptsResp: acceptsResp}
	s.envelopes[e.id] = e
	return e, nil
}

// send delivers an envelope and returns it as sent.
func (s *Server) send(ctx context.Context, e *envelope) (Envelope, error) {
	if err := s.deliver(ctx, e); err != nil {
		return Envelope{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return e.public(), nil
}

// deliver writes an envelope to one open connection, waiting for one if
// none is open, until ctx is done.
func (s *Server) deliver(ctx context.Context, e *envelope) error {
	msg := e.wire()
	for {
		var c *conn
		err := s.waitFor(ctx, func() (bool, error) {
			if c = s.pickConnLocked(e.avoid); c == nil {
				return false, nil
			}
			e.state, e.conn = envInflight, c
			if len(c.sent) >= 64 { // keep a long-lived connection's list short
				c.sent = slices.DeleteFunc(c.sent, func(e *envelope) bool { return e.acked })
			}
			c.sent = append(c.sent, e)
			return true, nil
		})
		if err != nil {
			s.mu.Lock()
			if e.state == envPending {
				e.state = envAbandoned
			}
			s.mu.Unlock()
			return fmt.Errorf("slacktest: deliver %s envelope: no connection: %w", e.typ, err)
		}

		sent, werr := c.write(msg)

		s.mu.Lock()
		if werr == nil {
			if e.sent.IsZero() {
				e.sent = sent
			}
			s.mu.Unlock()
			s.log.Debug("envelope sent", "envelope_id", e.id, "type", e.typ, "conn", c.id, "retry_attempt", e.retryAttempt)
			return nil
		}
		retry := e.state == envInflight && e.conn == c
		if retry {
			e.state, e.conn = envPending, nil
		} else if e.sent.IsZero() {
			e.sent = sent
		}
		s.mu.Unlock()
		s.log.Debug("envelope write failed", "envelope_id", e.id, "conn", c.id, "err", werr)
		c.abort()
		if !retry {
			return nil // the connection's end already handed it to a redelivery
		}
	}
}

// pickConnLocked chooses a connection for the next envelope, round robin,
// passing over avoid (where the original of a redelivery went) while
// another connection is open. s.mu must be held.
func (s *Server) pickConnLocked(avoid *conn) *conn {
	n := len(s.conns)
	var fallback *conn
	for i := range n {
		c := s.conns[(s.rr+i)%n]
		if !c.ready || c.draining {
			continue
		}
		if c == avoid {
			fallback = c
			continue
		}
		s.rr = (s.rr + i + 1) % n
		return c
	}
	return fallback
}

func (s *Server) serveLink(w http.ResponseWriter, r *http.Request) {
	ticket := r.URL.Query().Get("ticket")
	s.mu.Lock()
	issued, ok := s.tickets[ticket]
	delete(s.tickets, ticket)
	expired := ok && s.now().Sub(issued) > s.cfg.ticketTTL
	s.mu.Unlock()
	if !ok || expired {
		s.log.Warn("websocket refused: unknown, used or expired ticket", "expired", expired)
		writeJSON(w, http.StatusUnauthorized, errorBody("invalid_auth"))
		return
	}
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		s.log.Warn("websocket upgrade", "err", err) // Upgrade has answered the client
		return
	}

	s.mu.Lock()
	if s.stopping {
		s.mu.Unlock()
		_ = ws.NetConn().Close()
		return
	}
	s.connSeq++
	c := &conn{id: s.connSeq, host: fmt.Sprintf("applink-slacktest-%d", s.connSeq), ws: ws, done: make(chan struct{})}
	open := 0
	for _, o := range s.conns {
		if !o.draining {
			open++
		}
	}
	tooMany := open >= s.cfg.maxConnections
	s.conns = append(s.conns, c)
	s.mu.Unlock()

	s.wg.Go(func() { s.pinger(c) })
	defer s.connGone(c)

	if tooMany {
		s.log.Warn("too many connections", "conn", c.id, "max", s.cfg.maxConnections)
		_, _ = c.write(disconnectMessage("too_many_websockets", c.host))
		c.closeGracefully()
		return
	}
	hello, err := json.Marshal(map[string]any{
		"type":            "hello",
		"num_connections": open + 1,
		"debug_info": map[string]any{
			"host":                        c.host,
			"build_number":                1,
			"approximate_connection_time": 18060,
		},
		"connection_info": map[string]any{"app_id": s.cfg.bot.AppID},
	})
	if err != nil {
		panic(fmt.Sprintf("slacktest: marshal hello: %v", err))
	}
	// The connection is ready (Disconnect and envelopes may pick it) before
	// the client can read hello, so a client that has seen hello can count
	// on it; holding writeMu meanwhile keeps hello the first message sent.
	c.writeMu.Lock()
	s.mu.Lock()
	c.ready = true
	s.mu.Unlock()
	_, err = c.writeLocked(hello)
	c.writeMu.Unlock()
	if err != nil {
		s.log.Warn("send hello", "conn", c.id, "err", err)
		c.abort()
		return
	}
	s.mu.Lock()
	s.connected++
	s.notifyLocked()
	s.mu.Unlock()
	s.log.Debug("connected", "conn", c.id, "num_connections", open+1)

	s.readLoop(c)
}

// pongTimeout is how long a connection may stay silent (no pong, no
// message) before the server gives up on it: three ping intervals, and never
// less than two seconds so that a busy test machine does not lose one.
func (s *Server) pongTimeout() time.Duration {
	return max(3*s.cfg.pingInterval, 2*time.Second)
}

// readLoop reads acknowledgements until the connection fails.
func (s *Server) readLoop(c *conn) {
	timeout := s.pongTimeout()
	extend := func() error { return c.ws.SetReadDeadline(time.Now().Add(timeout)) }
	if err := extend(); err != nil {
		return
	}
	c.ws.SetPongHandler(func(string) error { return extend() })
	for {
		_, data, err := c.ws.ReadMessage()
		received := time.Now()
		if err != nil {
			s.log.Debug("connection closed", "conn", c.id, "err", err)
			return
		}
		if err := extend(); err != nil {
			return
		}
		s.handleAck(c, data, received)
	}
}

// pinger pings the connection until it is gone (https://api.slack.com/apis/connections/socket-implement#ping).
func (s *Server) pinger(c *conn) {
	t := time.NewTicker(s.cfg.pingInterval)
	defer t.Stop()
	for n := 1; ; n++ {
		select {
		case <-c.done:
			return
		case <-s.ctx.Done():
			return
		case <-t.C:
			if err := c.ws.WriteControl(websocket.PingMessage, []byte(strconv.Itoa(n)), time.Now().Add(writeTimeout)); err != nil {
				return
			}
		}
	}
}

// connGone forgets a closed connection and redelivers what it left unacknowledged.
func (s *Server) connGone(c *conn) {
	c.abort()
	s.mu.Lock()
	close(c.done)
	for i, o := range s.conns {
		if o == c {
			s.conns = append(s.conns[:i], s.conns[i+1:]...)
			break
		}
	}
	if s.rr >= len(s.conns) {
		s.rr = 0
	}
	var again []*envelope
	for _, e := range c.sent {
		if e.state != envInflight || e.conn != c || e.acked {
			continue
		}
		e.state = envRedelivered
		if e.retryAttempt >= maxRetries {
			s.log.Warn("envelope dropped after retries", "envelope_id", e.id, "type", e.typ)
			continue
		}
		child := &envelope{
			id: newUUID(), typ: e.typ, payload: e.payload, acceptsResp: e.acceptsResp,
			retryAttempt: e.retryAttempt + 1, retryReason: "timeout", parent: e,
			channel: e.channel, user: e.user,
		}
		s.envelopes[child.id] = child
		again = append(again, child)
	}
	c.sent = nil
	stopping := s.stopping
	s.notifyLocked()
	s.mu.Unlock()

	if len(again) == 0 || stopping {
		return
	}
	s.log.Debug("redelivering", "conn", c.id, "envelopes", len(again))
	s.wg.Go(func() {
		for _, e := range again {
			if err := s.deliver(s.ctx, e); err != nil {
				return // closed
			}
		}
	})
}

// handleAck records an acknowledgement ({"envelope_id":…,"payload":…}).
func (s *Server) handleAck(c *conn, data []byte, received time.Time) {
	var msg struct {
		EnvelopeID string          `json:"envelope_id"`
		Payload    json.RawMessage `json:"payload"`
	}
	if err := json.Unmarshal(data, &msg); err != nil || msg.EnvelopeID == "" {
		s.log.Warn("unexpected message from app", "conn", c.id, "message", string(data))
		return
	}
	if string(msg.Payload) == "null" {
		msg.Payload = nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.envelopes[msg.EnvelopeID]
	switch {
	case !ok:
		s.log.Warn("ack for unknown envelope", "envelope_id", msg.EnvelopeID)
		return
	case e.acked:
		s.log.Warn("duplicate ack", "envelope_id", msg.EnvelopeID)
		return
	}
	e.acked = true
	ack := Ack{EnvelopeID: e.id, Payload: msg.Payload, Received: received}
	for p := e; p != nil; p = p.parent {
		if p.ack == nil {
			a := ack
			p.ack = &a
		}
	}
	s.acks = append(s.acks, ack)
	if e.typ == TypeSlashCommands && msg.Payload != nil {
		s.recordAckMessageLocked(e, msg.Payload)
	}
	s.notifyLocked()
}

// recordAckMessageLocked records the message a slash command's ack carried
// (https://api.slack.com/interactivity/slash-commands#responding_immediate_response).
func (s *Server) recordAckMessageLocked(e *envelope, payload json.RawMessage) {
	var msg webhookMessage
	if json.Unmarshal(payload, &msg) != nil {
		return
	}
	blocks, err := validBlocks(msg.Blocks)
	if err != nil || (msg.Text == "" && blocks == nil) {
		return
	}
	p := Post{Method: MethodAck, Channel: e.channel, Text: msg.Text, Blocks: blocks, ResponseType: msg.ResponseType}
	m := &message{channel: e.channel, ts: s.nextTSLocked(), user: s.cfg.bot.UserID, text: msg.Text, blocks: blocks}
	if p.ResponseType != "in_channel" {
		p.ResponseType, p.User, m.ephemeralTo = "ephemeral", e.user, e.user
	}
	p.TS = m.ts
	s.rememberLocked(m)
	s.recordLocked(p)
}

// WaitAck blocks until the envelope, or a redelivery of it after its
// connection died, is acknowledged.
func (s *Server) WaitAck(ctx context.Context, envelopeID string) (Ack, error) {
	var ack Ack
	err := s.waitFor(ctx, func() (bool, error) {
		e, ok := s.envelopes[envelopeID]
		if !ok {
			return false, fmt.Errorf("slacktest: unknown envelope %q", envelopeID)
		}
		if e.ack != nil {
			ack = *e.ack
			return true, nil
		}
		return false, nil
	})
	if err != nil {
		return Ack{}, fmt.Errorf("slacktest: wait for ack of %s: %w", envelopeID, err)
	}
	return ack, nil
}

// WaitConnected blocks until at least n connections have been made in total
// (counting from the start of the server; a connection counts once it has
// been sent hello).
func (s *Server) WaitConnected(ctx context.Context, n int) error {
	var have int
	err := s.waitFor(ctx, func() (bool, error) {
		have = s.connected
		return have >= n, nil
	})
	if err != nil {
		return fmt.Errorf("slacktest: wait for %d connections, have had %d: %w", n, have, err)
	}
	return nil
}

// Connections returns how many connections are open now (said hello and not
// yet closed, including those told to disconnect).
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.conns {
		if c.ready {
			n++
		}
	}
	return n
}

func disconnectMessage(reason, host string) []byte {
	b, err := json.Marshal(map[string]any{
		"type":       "disconnect",
		"reason":     reason,
		"debug_info": map[string]any{"host": host},
	})
	if err != nil {
		panic(fmt.Sprintf("slacktest: marshal disconnect: %v", err))
	}
	return b
}

// Disconnect does what Slack does when it refreshes its connections: it sends
// {"type":"disconnect","reason":reason} to every open connection (reason
// defaults to "refresh_requested"; Slack also sends "warning" and
// "link_disabled"), routes no new envelopes to them, and closes them after
// the grace period (WithDisconnectGrace), or at once when ctx is done.
// It returns when they are closed.
func (s *Server) Disconnect(ctx context.Context, reason string) {
	if reason == "" {
		reason = "refresh_requested"
	}
	s.mu.Lock()
	var conns []*conn
	for _, c := range s.conns {
		if c.ready && !c.draining {
			c.draining = true
			conns = append(conns, c)
		}
	}
	s.mu.Unlock()
	if len(conns) == 0 {
		return
	}
	for _, c := range conns {
		if _, err := c.write(disconnectMessage(reason, c.host)); err != nil {
			s.log.Debug("send disconnect", "conn", c.id, "err", err)
		}
	}
	t := time.NewTimer(s.cfg.disconnectGrace)
	select {
	case <-t.C:
	case <-ctx.Done():
		t.Stop()
	}
	for _, c := range conns {
		c.closeGracefully()
	}
	for _, c := range conns {
		<-c.done
	}
}

// DropConnections closes every socket abruptly, as a network failure would:
// no close frame, the TCP connection just ends. It returns when they are gone.
func (s *Server) DropConnections() {
	s.mu.Lock()
	conns := append([]*conn(nil), s.conns...)
	s.mu.Unlock()
	for _, c := range conns {
		c.abort()
	}
	for _, c := range conns {
		<-c.done
	}
}
