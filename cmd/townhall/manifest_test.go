package main

import (
	"bytes"
	"os"
	"slices"
	"testing"

	"github.com/slack-go/slack"
	"gopkg.in/yaml.v3"
)

// TestManifest checks that manifest.yaml decodes into slack-go's Manifest
// with no unknown field, and declares what the product serves.
func TestManifest(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../manifest.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	var m slack.Manifest
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("manifest.yaml does not decode into slack.Manifest: %v", err)
	}
	if !m.Settings.SocketModeEnabled {
		t.Error("socket_mode_enabled must be true")
	}
	if m.Settings.Interactivity == nil || !m.Settings.Interactivity.IsEnabled {
		t.Error("interactivity must be on")
	}
	var commands []string
	for _, c := range m.Features.SlashCommands {
		if c.Url != "" {
			t.Errorf("%s has a URL; Socket Mode apps need none", c.Command)
		}
		commands = append(commands, c.Command)
	}
	for _, want := range []string{"/call", "/townhall", "/events", "/feed", "/translate"} {
		if !slices.Contains(commands, want) {
			t.Errorf("slash command %s missing", want)
		}
	}
	shortcuts := map[string]slack.ShortcutType{}
	for _, s := range m.Features.Shortcuts {
		shortcuts[s.CallbackID] = s.Type
	}
	for _, want := range []string{"translate_message", "archive_remove"} {
		if shortcuts[want] != slack.MessageShortcut {
			t.Errorf("message shortcut %s missing, got %+v", want, m.Features.Shortcuts)
		}
	}
	events := m.Settings.EventSubscriptions.BotEvents
	for _, want := range []string{"app_mention", "reaction_added", "message.channels", "channel_rename",
		"channel_archive", "channel_unarchive", "channel_created", "user_change"} {
		if !slices.Contains(events, want) {
			t.Errorf("bot event %s missing", want)
		}
	}
	if m.Features.BotUser.DisplayName == "" {
		t.Error("bot user needs a display name")
	}
	for _, ev := range events {
		if ev == "message.groups" || ev == "message.im" || ev == "message.mpim" {
			t.Errorf("bot event %s would deliver private messages; the archive keeps public channels only", ev)
		}
	}
	for _, need := range []string{"commands", "chat:write", "app_mentions:read", "reactions:read", "users:read",
		"channels:history", "channels:read", "channels:join"} {
		if !slices.Contains(m.OAuthConfig.Scopes.Bot, need) {
			t.Errorf("bot scope %s missing", need)
		}
	}
}
