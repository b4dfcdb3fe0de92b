package slackapp

import (
	"context"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

// Handler answers one request routed to it by the Runtime. It runs in its
// own goroutine after the envelope has already been acknowledged, with a
// context that carries a deadline and is cancelled at shutdown. A returned
// error is logged and counted; a handler that wants the user to see an error
// says so itself through r.Ephemeral.
type Handler interface {
	Handle(ctx context.Context, r *Request) error
}

// HandlerFunc adapts a function to the Handler interface.
type HandlerFunc func(ctx context.Context, r *Request) error

// Handle calls f(ctx, r).
func (f HandlerFunc) Handle(ctx context.Context, r *Request) error { return f(ctx, r) }

// Handlers is what an integration contributes to the router: values, not
// registrations with side effects. The runtime routes by command name,
// shortcut callback ID, inner event type and block action ID, and knows
// nothing else about who registered them.
type Handlers struct {
	Commands  []Command
	Shortcuts []Shortcut
	Events    []Event
	Actions   []Action
}

// Command is a slash command such as "/call".
type Command struct {
	Name    string // with the leading slash: "/call"
	Usage   string // arguments, for help: "[topic]"
	Summary string // one line, for help: "Start a video call and post its link here"
	Handler Handler
}

// Shortcut is a message or global shortcut, routed by callback ID.
type Shortcut struct {
	CallbackID string
	Summary    string
	Handler    Handler
}

// Event is an Events API event routed by its inner type ("app_mention",
// "reaction_added").
type Event struct {
	Type    string
	Handler Handler
}

// Action is a Block Kit interactive element routed by action ID. A Prefix
// match lets one handler serve IDs such as "feeds_remove:42".
type Action struct {
	ActionID string
	Prefix   bool
	Handler  Handler
}

// Kind says which kind of Socket Mode request a Request came from.
type Kind string

// The kinds of request the runtime routes; the values are Socket Mode's
// envelope types (https://api.slack.com/apis/socket-mode#events).
const (
	KindCommand     Kind = "slash_commands"
	KindInteractive Kind = "interactive"
	KindEvent       Kind = "events_api"
)

// Request is one routed Socket Mode request, already acknowledged.
// Exactly one of Command, Interaction or Event is set, by Kind.
type Request struct {
	Kind       Kind
	EnvelopeID string

	// UserID, ChannelID and ThreadTS say who asked and where, whatever the kind.
	UserID    string
	ChannelID string
	ThreadTS  string // for events in a thread (or the message itself for a mention)

	Command     *slack.SlashCommand
	Interaction *slack.InteractionCallback
	Action      *slack.BlockAction // for block actions: the action that matched
	Event       *slackevents.EventsAPIEvent

	// Responder answers the request (see Responder). Tests of a handler
	// may set their own.
	Responder
}

// Message is what the app sends: text (always set, it is the notification
// and screen-reader fallback) and optional Block Kit blocks.
type Message struct {
	Text     string
	Blocks   []slack.Block
	ThreadTS string
}
