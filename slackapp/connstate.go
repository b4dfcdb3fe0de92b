package slackapp

import (
	"fmt"
	"time"
)

// ConnectionState is the runtime's Socket Mode connection as status and the
// replicas' heartbeats show it.
type ConnectionState struct {
	// Connected reports whether a connection is open (hello was read).
	Connected bool
	// Since is when the open connection said hello; zero when not
	// connected.
	Since time.Time
	// Refusals counts the connections Slack refused in a row (closed
	// before hello, as with too_many_websockets); 0 once one succeeds.
	Refusals int
	// Refusal is why the last refusal happened, as far as Slack said.
	Refusal string
	// RetryAt is when the runtime tries again after a refusal.
	RetryAt time.Time
	// Backoff is the wait before RetryAt (before its jitter of up to a
	// tenth more): it doubles with each refusal in a row, up to a cap.
	Backoff time.Duration
}

// String is a short note for operators: "connected", "connecting", or
// "refused by Slack (too_many_websockets) 3 times; retrying at 15:04:05".
func (s ConnectionState) String() string {
	switch {
	case s.Connected:
		return "connected"
	case s.Refusals > 0:
		times := "once"
		if s.Refusals > 1 {
			times = fmt.Sprintf("%d times", s.Refusals)
		}
		return fmt.Sprintf("refused by Slack (%s) %s; retrying at %s", s.Refusal, times, s.RetryAt.UTC().Format("15:04:05 UTC"))
	}
	return "connecting"
}

// ConnectionState returns the connection's current state.
func (rt *Runtime) ConnectionState() ConnectionState {
	rt.connMu.Lock()
	defer rt.connMu.Unlock()
	s := ConnectionState{Connected: rt.connected.Load(), Refusals: rt.refusals, Refusal: rt.refusal, RetryAt: rt.retryAt, Backoff: rt.backoff}
	if s.Connected {
		s.Since = rt.connSince
	}
	return s
}

// ConnectionChanged returns a channel that is closed at the next change of
// ConnectionState (a connect, a disconnect, a refusal), for work that
// follows it, such as a heartbeat.
func (rt *Runtime) ConnectionChanged() <-chan struct{} {
	rt.connMu.Lock()
	defer rt.connMu.Unlock()
	return rt.connEdge
}

// edgeLocked wakes whoever waits on ConnectionChanged. rt.connMu must be
// held.
func (rt *Runtime) edgeLocked() {
	close(rt.connEdge)
	rt.connEdge = make(chan struct{})
}
