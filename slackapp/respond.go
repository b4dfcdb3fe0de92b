package slackapp

import "context"

// Responder answers a request. The runtime gives each Request the one that
// fits its kind:
//   - Reply answers where the request came from, visible to everyone there:
//     for a slash command or shortcut through its response URL as an
//     in-channel message (which works in channels the bot has not joined, and
//     in DMs); for an event as a reply in the thread of its message.
//   - Ephemeral answers only the user who asked (usage help, errors, refusals).
//
// Both block until Slack has accepted the message or ctx is done.
type Responder interface {
	Reply(ctx context.Context, m Message) error
	Ephemeral(ctx context.Context, m Message) error
}
