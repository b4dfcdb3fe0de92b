package slackapp

import (
	"net/http"

	"github.com/slack-go/slack"
)

// BotClient is a Web API client with the bot token alone, on APIURL, for
// the offline commands that call Slack without a Socket Mode connection
// (townhall archive export --attachments). hc nil is http.DefaultClient.
func (c Config) BotClient(hc *http.Client) *slack.Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	return slack.New(c.BotToken.Reveal(), slack.OptionAPIURL(c.apiURL()), slack.OptionHTTPClient(hc))
}

// BotTokenOnly checks SLACK_BOT_TOKEN and SLACK_API_URL alone, for
// BotClient's commands, which need no app-level token.
func (c Config) BotTokenOnly() error {
	c.AppToken = "xapp-unused"
	return c.Validate()
}
