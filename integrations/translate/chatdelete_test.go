package translate_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/slack-go/slack"

	"github.com/townhall/townhall/slackapp/slacktest"
)

// deleteFront stands in front of a slacktest workspace's Web API and adds
// chat.delete (https://docs.slack.dev/reference/methods/chat.delete),
// which slacktest does not model yet: a form with the bot token, channel
// and ts, answered {"ok":true,"channel","ts"} or Slack's errors
// (not_authed, invalid_auth, message_not_found, and cant_delete_message
// for a message the app did not post). Every other method is
// passed through unchanged. The message is deleted in the workspace's
// history, so conversations.history and Message see it gone.
type deleteFront struct {
	ws  *slacktest.Server
	srv *httptest.Server

	mu      sync.Mutex
	deleted []string // "channel/ts", in order
}

func newDeleteFront(t testing.TB, ws *slacktest.Server) *deleteFront {
	t.Helper()
	target, err := url.Parse(ws.APIURL())
	if err != nil {
		t.Fatal(err)
	}
	f := &deleteFront{ws: ws}
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: target.Scheme, Host: target.Host})
	mux := http.NewServeMux()
	mux.HandleFunc("/api/chat.delete", f.serveDelete)
	mux.Handle("/", proxy)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// API is a bot-token client of the front.
func (f *deleteFront) API() *slack.Client {
	return slack.New(f.ws.BotToken(), slack.OptionAPIURL(f.srv.URL+"/api/"))
}

// Deleted lists the messages deleted through chat.delete, "channel/ts".
func (f *deleteFront) Deleted() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.deleted...)
}

func (f *deleteFront) serveDelete(w http.ResponseWriter, r *http.Request) {
	answer := func(v map[string]any) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
	if err := r.ParseForm(); err != nil {
		answer(map[string]any{"ok": false, "error": "invalid_form_data"})
		return
	}
	token := r.Form.Get("token")
	if bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		token = bearer
	}
	channel, ts := r.Form.Get("channel"), r.Form.Get("ts")
	switch {
	case token == "":
		answer(map[string]any{"ok": false, "error": "not_authed"})
		return
	case token != f.ws.BotToken():
		answer(map[string]any{"ok": false, "error": "invalid_auth"})
		return
	}
	if m, ok := f.ws.Message(channel, ts); ok && m.User != f.ws.Bot().UserID {
		// A bot token deletes only the app's own messages.
		answer(map[string]any{"ok": false, "error": "cant_delete_message"})
		return
	}
	if err := f.ws.DeleteMessage(channel, ts); err != nil {
		answer(map[string]any{"ok": false, "error": "message_not_found"})
		return
	}
	f.mu.Lock()
	f.deleted = append(f.deleted, channel+"/"+ts)
	f.mu.Unlock()
	answer(map[string]any{"ok": true, "channel": channel, "ts": ts})
}
