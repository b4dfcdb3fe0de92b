package calls

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/townhall/townhall/slackapp"
)

// handleCall answers "/call [topic]".
func (i *Integration) handleCall(ctx context.Context, r *slackapp.Request) error {
	if r.Command == nil {
		return fmt.Errorf("%s: %s: request has no slash command", Name, Command)
	}
	text := strings.TrimSpace(r.Command.Text)
	if isHelp(text) {
		if err := r.Ephemeral(ctx, helpMessage(i.cfg)); err != nil {
			return fmt.Errorf("%s: %s: send help: %w", Name, Command, err)
		}
		return nil
	}
	topic := topicFromCommand(text)
	if n := utf8.RuneCountInString(topic); n > i.cfg.MaxTopic {
		if err := r.Ephemeral(ctx, tooLongMessage(n, i.cfg.MaxTopic)); err != nil {
			return fmt.Errorf("%s: %s: refuse long topic: %w", Name, Command, err)
		}
		return nil
	}

	userID := r.UserID
	if userID == "" {
		userID = r.Command.UserID
	}
	c, err := i.start(ctx, topic)
	if err != nil {
		return fmt.Errorf("%s: %s: %w", Name, Command, err)
	}
	c.userID = userID
	if err := r.Reply(ctx, callMessage(c)); err != nil {
		err = fmt.Errorf("%s: %s: post call: %w", Name, Command, err)
		// The call exists; give its link to the one person who can use it.
		sorry := slackapp.Message{Text: "Sorry, I couldn't post the call in this conversation. Its link: <" + slackapp.Escape(c.url) + ">"}
		if eerr := r.Ephemeral(ctx, sorry); eerr != nil {
			err = errors.Join(err, fmt.Errorf("%s: %s: send link privately: %w", Name, Command, eerr))
		}
		return err
	}
	i.log.InfoContext(ctx, "call started", "command", Command, "channel", r.ChannelID, "provider", c.provider, "fallback", c.fellBack)
	return nil
}

// isHelp reports whether the command text asks for usage.
func isHelp(text string) bool {
	switch strings.ToLower(text) {
	case "help", "-h", "--help", "-help", "?":
		return true
	}
	return false
}

// defaultZoomTopic names a Zoom meeting started without a topic.
const defaultZoomTopic = "Townhall call"

// start creates the call: a Zoom meeting if Zoom is configured and answers
// within the timeout, otherwise a Jitsi room.
func (i *Integration) start(ctx context.Context, topic string) (call, error) {
	c := call{topic: topic}
	if i.zoom != nil {
		zoomTopic := topic
		if zoomTopic == "" {
			zoomTopic = defaultZoomTopic
		}
		zctx, cancel := context.WithTimeout(ctx, i.cfg.ZoomTimeout)
		m, err := i.zoom.CreateMeeting(zctx, zoomTopic)
		cancel()
		if err == nil {
			err = checkJoinURL(m.JoinURL)
		}
		i.zoomOutage.Record(i.now(), err)
		if err == nil {
			c.url, c.provider = m.JoinURL, zoomName
			if m.Password != "" && !strings.Contains(m.JoinURL, "pwd=") {
				c.passcode = m.Password
			}
			return c, nil
		}
		i.log.WarnContext(ctx, "zoom unavailable, posting a Jitsi room instead", "command", Command, "error", err)
		c.fellBack = true
	}
	name, err := roomName(i.rand, topic)
	if err != nil {
		return call{}, err
	}
	c.url, c.provider = roomURL(i.jitsi, name), jitsiName
	return c, nil
}

// checkJoinURL refuses a join URL that is not an absolute https URL, so a
// misbehaving API cannot make us post something else behind a Join button.
func checkJoinURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("zoom: join URL %q is not an absolute https URL", s)
	}
	return nil
}
