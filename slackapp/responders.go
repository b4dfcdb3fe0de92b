package slackapp

import (
	"context"
	"net/http"

	"github.com/slack-go/slack"
)

// urlResponder answers through a request's response_url
// (https://api.slack.com/interactivity/handling#message_responses): it
// works in channels the bot is not in and in DMs, for up to five answers
// within thirty minutes.
type urlResponder struct {
	client *http.Client
	url    string
	poster *Poster
}

func (u *urlResponder) Reply(ctx context.Context, m Message) error {
	return u.send(ctx, slack.ResponseTypeInChannel, m)
}

func (u *urlResponder) Ephemeral(ctx context.Context, m Message) error {
	return u.send(ctx, slack.ResponseTypeEphemeral, m)
}

func (u *urlResponder) send(ctx context.Context, responseType string, m Message) error {
	msg := &slack.WebhookMessage{
		Text:            m.Text,
		ResponseType:    responseType,
		ThreadTimestamp: m.ThreadTS,
	}
	if len(m.Blocks) > 0 {
		msg.Blocks = &slack.Blocks{BlockSet: m.Blocks}
	}
	return u.poster.send(ctx, "response_url", "", false, func(ctx context.Context) error {
		return slack.PostWebhookCustomHTTPContext(ctx, u.url, u.client, msg)
	})
}

// eventResponder answers an event in the thread of the message that caused
// it, or privately to the user who caused it.
type eventResponder struct {
	poster  *Poster
	channel string
	user    string
	thread  string
}

func (e *eventResponder) Reply(ctx context.Context, m Message) error {
	if m.ThreadTS == "" {
		m.ThreadTS = e.thread
	}
	_, err := e.poster.Post(ctx, e.channel, m)
	return err
}

func (e *eventResponder) Ephemeral(ctx context.Context, m Message) error {
	if m.ThreadTS == "" {
		m.ThreadTS = e.thread
	}
	return e.poster.Ephemeral(ctx, e.channel, e.user, m)
}
