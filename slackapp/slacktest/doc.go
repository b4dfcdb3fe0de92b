// Package slacktest is a fake Slack workspace that speaks Slack's real wire
// protocol: the Web API over HTTP and Socket Mode over a WebSocket. It is to
// Slack what net/http/httptest is to HTTP. The real slack-go client and its
// socketmode client connect to it unchanged:
//
//	s := slacktest.New(t)
//	api := slack.New(s.BotToken(), slack.OptionAPIURL(s.APIURL()), slack.OptionAppLevelToken(s.AppToken()))
//	sm := socketmode.New(api)
//
// A test (or `townhall shell`) drives the app the way a user would, with
// SlashCommand, Event, MessageShortcut and BlockAction, and asserts what the
// app did with Posts, WaitPosts, Views, Acks and WaitAck. Every wait is on a
// signal, never a polling sleep. Faults are injected with FailNext,
// FailNextError, Disconnect and DropConnections.
//
// # Web API
//
// The server answers auth.test, apps.connections.open, chat.postMessage,
// chat.postEphemeral, chat.update, chat.getPermalink, conversations.history,
// conversations.replies, conversations.info, conversations.join,
// conversations.list, users.info, users.list and views.open under APIURL,
// with form-encoded or JSON bodies (or a query string) and the token in an
// "Authorization: Bearer" header or a "token" form field.
// apps.connections.open takes only the app-level token, every other method
// only the bot token. Errors are Slack's: invalid_auth, not_authed,
// not_allowed_token_type, channel_not_found, not_in_channel, is_archived,
// no_text, invalid_blocks, msg_too_long, user_not_found, message_not_found,
// thread_not_found, invalid_cursor, invalid_limit, invalid_types,
// invalid_ts_latest, invalid_ts_oldest,
// method_not_supported_for_channel_type, invalid_trigger_id,
// exchanged_trigger_id and expired_trigger_id, always with HTTP 200 and
// {"ok":false,"error":...}. An unknown method gets HTTP 404 and unknown_method.
//
// # History
//
// Every conversation has a history: the app's messages (chat.postMessage,
// in-channel response URL and ack messages; never ephemeral ones), messages
// sent with Event, and messages a test adds as users would post them with
// AddMessage, EditMessage, DeleteMessage and AddReaction, which send no
// event (the app was down), or PostUserMessage, EditUserMessage,
// DeleteUserMessage and AddUserReaction, which also send the event Slack
// would. conversations.history returns top-level messages newest first and
// conversations.replies a thread's parent then its replies oldest first,
// both with has_more and response_metadata.next_cursor; the history methods
// read only conversations the bot is in (not_in_channel for a public channel
// it is not in, channel_not_found for a private one). A reply keeps its
// parent's reply_count, reply_users and latest_reply current, a deleted
// parent with replies stays as a tombstone, and the app's messages carry
// bot_id, app_id and bot_profile, as in Slack.
//
// Slack sends a bot events only from conversations it is in, and so do the
// event-sending helpers: from any other they send nothing and return a zero
// Envelope. Their message events carry channel_type "channel", "group" (a
// private channel) or "im" (the bot's DM with a user, "D" + the user ID
// without "U"). The fake does not send app_mention for a message that
// mentions the bot, nor an event for the app's own posts; a test sends
// those with Event.
//
// conversations.list pages through conversations in order of creation and,
// like Slack, drops the ones its filters rule out after cutting the page,
// so a page may be short (or empty) with a next_cursor: clients must follow
// the cursor until it is empty. It lists public channels, the private
// channels the bot is in, and the bot's DMs. users.list lists every user,
// the bot first, deleted users included (Slackbot is not modelled).
//
// conversations.history pages run newest first even when only oldest is
// given (Slack's docs describe no other order). Not modelled: mpims,
// reactions.add, chat.delete,
// rich_text blocks synthesised for messages people type (a Message carries
// the Blocks a test gives it), scopes and rate-limit tiers.
//
// Response URLs (/response/<id>) accept a JSON body in the shape of
// slack.WebhookMessage. As Slack documents, each one may be used five times
// within thirty minutes of the request that carried it; after that it
// answers 404 with {"ok":false,"error":"used_url"} or "expired_url".
//
// # Socket Mode
//
// apps.connections.open returns ws://127.0.0.1:PORT/link/?ticket=...&app_id=...
// whose ticket is random, single-use and valid for a short time (30 s by
// default). Slack does not document how it refuses a used or unknown ticket;
// this fake refuses the WebSocket handshake with HTTP 401, which slack-go
// reports as a failed dial and retries through apps.connections.open.
//
// On connect the server sends hello (num_connections, debug_info,
// connection_info), then pings every 5 s (slack-go drops a connection that
// hears no ping for 30 s) and closes a connection that stops answering pings.
// At most 10 connections may be open at once, as for a Slack app; one more
// is sent a too_many_websockets disconnect and closed. Each envelope goes to
// one open connection, round robin; with none open, sending waits for one.
//
// Disconnect sends {"type":"disconnect","reason":...} to every open
// connection, stops routing envelopes to them, and closes them after a grace
// period (Slack waits about 10 s; the fake 100 ms by default).
// DropConnections closes every socket without a close frame.
//
// Redelivery. Slack retries an Events API delivery that was not acknowledged
// (up to three times, with retry_attempt and retry_reason set); it does not
// document what happens to an unacknowledged slash command or interaction
// whose connection died. This fake is the stricter of the two: every envelope
// of any type still unacknowledged when its connection closes is sent again,
// with the same payload, a new envelope_id, retry_attempt+1 and retry_reason
// "timeout", on the next connection, up to three retries. The fake never
// times out an ack on its own; Redeliver simulates an ack that Slack lost,
// and sends the retry to another connection than the original's whenever
// one is open (Slack may pick any), so a test with several replicas sees a
// retry reach a replica that did not see the first delivery. Envelope.Conn
// numbers the connection each envelope was written to.
//
// # Imports
//
// This package is imported by tests and by cmd/townhall's shell, so it must
// not import "testing" (see TB), nor slackapp (whose own tests use this
// package), nor anything under integrations/.
package slacktest
