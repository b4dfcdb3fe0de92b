package slacktest

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// Team is the workspace the fake serves.
type Team struct {
	ID     string // "T0TOWNHALL"
	Name   string // "townhall-test"
	Domain string // "townhall-test", as in townhall-test.slack.com
}

// Bot is the app's bot user.
type Bot struct {
	UserID string // "U0BOT"
	BotID  string // "B0BOT"
	AppID  string // "A0TOWNHALL"
	Name   string // "townhall"
}

// User is a member of the workspace, as users.info and users.list describe
// it.
type User struct {
	ID          string
	Name        string // the handle: "admin"
	RealName    string
	DisplayName string // the profile's display name; empty: Name
	Email       string
	TZ          string // IANA name, "Europe/London"
	IsAdmin     bool
	IsOwner     bool
	IsBot       bool
	Deleted     bool
}

// Channel is a conversation in the workspace. IsMember says whether the bot
// is in it. Direct messages are not Channels: the bot's DM with a user has
// the ID "D" + the user ID without its "U" ("U0ADMIN" -> "D0ADMIN") and
// exists from its first use.
type Channel struct {
	ID         string
	Name       string // without "#"
	IsMember   bool
	IsPrivate  bool
	IsArchived bool
	Topic      string
	Purpose    string
	// NumMembers is what conversations.list reports as num_members; zero
	// counts every person in the workspace who is not deleted, and the bot
	// if it is a member.
	NumMembers int
}

// The default workspace. Tests may rely on these values.
const (
	DefaultTeamID    = "T0TOWNHALL"
	DefaultTeamName  = "townhall-test"
	DefaultBotUserID = "U0BOT"
	DefaultBotID     = "B0BOT"
	DefaultAppID     = "A0TOWNHALL"
	DefaultBotName   = "townhall"
	AdminID          = "U0ADMIN"   // a workspace admin and owner, "admin"
	MemberID         = "U0MEMBER"  // a plain member, "member"
	GeneralID        = "C0GENERAL" // #general, the bot is a member
	RandomID         = "C0RANDOM"  // #random, the bot is not a member
)

func defaultUsers() []User {
	return []User{
		{ID: AdminID, Name: "admin", RealName: "Ada Admin", Email: "admin@townhall.test", TZ: "Europe/London", IsAdmin: true, IsOwner: true},
		{ID: MemberID, Name: "member", RealName: "Max Member", Email: "member@townhall.test", TZ: "America/New_York"},
	}
}

func defaultChannels() []Channel {
	return []Channel{
		{ID: GeneralID, Name: "general", IsMember: true},
		{ID: RandomID, Name: "random"},
	}
}

// channel is a Channel as the server keeps it, DMs included.
type channel struct {
	Channel
	im            bool   // a direct message between the bot and user
	user          string // for an im: the other party
	created       int64
	previousNames []string // newest first
}

// directory resolves IDs to names for Render. A directory never changes
// once built (DM IDs are derived from user IDs), so it needs no lock:
// AddChannel and RenameChannel replace Server.dir with a new one.
type directory struct {
	users    map[string]string // user ID -> handle
	channels map[string]string // channel ID -> name
}

func (d *directory) userName(id string) string {
	if d != nil {
		if n, ok := d.users[id]; ok {
			return n
		}
	}
	return id
}

// where names a conversation: "#general", or "DM @admin" for a direct message.
func (d *directory) where(id string) string {
	if d != nil {
		if n, ok := d.channels[id]; ok {
			return "#" + n
		}
		if u, ok := userOfDM(id); ok {
			return "DM @" + d.userName(u)
		}
	}
	return id
}

func (d *directory) channelName(id string) string {
	if d != nil {
		if n, ok := d.channels[id]; ok {
			return n
		}
	}
	return id
}

// dmID is the ID of the bot's direct-message conversation with a user:
// "U0ADMIN" -> "D0ADMIN".
func dmID(userID string) string { return "D" + strings.TrimPrefix(userID, "U") }

func userOfDM(id string) (string, bool) {
	rest, ok := strings.CutPrefix(id, "D")
	if !ok || rest == "" {
		return "", false
	}
	return "U" + rest, true
}

// userJSON is a user object as users.info returns it
// (https://api.slack.com/types/user).
type userJSON struct {
	ID                string      `json:"id"`
	TeamID            string      `json:"team_id"`
	Name              string      `json:"name"`
	Deleted           bool        `json:"deleted"`
	Color             string      `json:"color"`
	RealName          string      `json:"real_name"`
	TZ                string      `json:"tz"`
	TZLabel           string      `json:"tz_label"`
	TZOffset          int         `json:"tz_offset"`
	Profile           profileJSON `json:"profile"`
	Locale            string      `json:"locale,omitempty"`
	IsAdmin           bool        `json:"is_admin"`
	IsOwner           bool        `json:"is_owner"`
	IsPrimaryOwner    bool        `json:"is_primary_owner"`
	IsRestricted      bool        `json:"is_restricted"`
	IsUltraRestricted bool        `json:"is_ultra_restricted"`
	IsBot             bool        `json:"is_bot"`
	IsAppUser         bool        `json:"is_app_user"`
	Updated           int64       `json:"updated"`
}

type profileJSON struct {
	RealName              string `json:"real_name"`
	RealNameNormalized    string `json:"real_name_normalized"`
	DisplayName           string `json:"display_name"`
	DisplayNameNormalized string `json:"display_name_normalized"`
	Email                 string `json:"email,omitempty"`
	Team                  string `json:"team"`
	BotID                 string `json:"bot_id,omitempty"`
	APIAppID              string `json:"api_app_id,omitempty"`
	Image48               string `json:"image_48"`
	Image72               string `json:"image_72"`
	Image192              string `json:"image_192,omitempty"` // set when the member has an avatar (files.go)
	Image512              string `json:"image_512,omitempty"`
}

func (u User) json(team Team, bot Bot, now time.Time) userJSON {
	j := userJSON{
		ID:       u.ID,
		TeamID:   team.ID,
		Name:     u.Name,
		Deleted:  u.Deleted,
		Color:    "9f69e7",
		RealName: u.RealName,
		TZ:       u.TZ,
		TZLabel:  u.TZ,
		Profile: profileJSON{
			RealName:              u.RealName,
			RealNameNormalized:    u.RealName,
			DisplayName:           cmp.Or(u.DisplayName, u.Name),
			DisplayNameNormalized: cmp.Or(u.DisplayName, u.Name),
			Email:                 u.Email,
			Team:                  team.ID,
			Image48:               "https://avatars.slack-edge.com/" + u.ID + "_48.png",
			Image72:               "https://avatars.slack-edge.com/" + u.ID + "_72.png",
		},
		IsAdmin:        u.IsAdmin,
		IsOwner:        u.IsOwner,
		IsPrimaryOwner: u.IsOwner,
		IsBot:          u.IsBot,
		Updated:        now.Unix(),
	}
	if u.ID == bot.UserID {
		j.Profile.BotID = bot.BotID
		j.Profile.APIAppID = bot.AppID
		j.IsBot = true
	}
	if u.TZ != "" {
		if loc, err := time.LoadLocation(u.TZ); err == nil {
			name, offset := now.In(loc).Zone()
			j.TZLabel = name
			j.TZOffset = offset
		}
	}
	return j
}

// channelJSON is a conversation object as conversations.info returns it
// (https://api.slack.com/types/conversation).
type channelJSON struct {
	ID             string     `json:"id"`
	Name           string     `json:"name,omitempty"`
	NameNormalized string     `json:"name_normalized,omitempty"`
	IsChannel      bool       `json:"is_channel"`
	IsGroup        bool       `json:"is_group"`
	IsIM           bool       `json:"is_im"`
	IsMpIM         bool       `json:"is_mpim"`
	IsPrivate      bool       `json:"is_private"`
	Created        int64      `json:"created"`
	Creator        string     `json:"creator,omitempty"`
	User           string     `json:"user,omitempty"`
	IsArchived     bool       `json:"is_archived"`
	IsGeneral      bool       `json:"is_general"`
	IsShared       bool       `json:"is_shared"`
	IsExtShared    bool       `json:"is_ext_shared"`
	IsOrgShared    bool       `json:"is_org_shared"`
	IsMember       bool       `json:"is_member"`
	IsUserDeleted  *bool      `json:"is_user_deleted,omitempty"`
	NumMembers     *int       `json:"num_members,omitempty"`
	ContextTeamID  string     `json:"context_team_id"`
	Topic          *topicJSON `json:"topic,omitempty"`
	Purpose        *topicJSON `json:"purpose,omitempty"`
	PreviousNames  []string   `json:"previous_names,omitempty"`
	SharedTeamIDs  []string   `json:"shared_team_ids,omitempty"`
	PendingShared  []string   `json:"pending_shared,omitempty"`
}

type topicJSON struct {
	Value   string `json:"value"`
	Creator string `json:"creator"`
	LastSet int64  `json:"last_set"`
}

func (c *channel) json(team Team) channelJSON {
	if c.im {
		return channelJSON{
			ID:            c.ID,
			IsIM:          true,
			IsPrivate:     true,
			Created:       c.created,
			User:          c.user,
			IsMember:      true,
			ContextTeamID: team.ID,
		}
	}
	// Private channels created since March 2021 have C IDs and is_channel
	// true; only the older G ones are groups
	// (https://docs.slack.dev/reference/objects/group-object). is_private
	// is what tells private from public.
	group := c.IsPrivate && strings.HasPrefix(c.ID, "G")
	return channelJSON{
		ID:             c.ID,
		Name:           c.Name,
		NameNormalized: c.Name,
		IsChannel:      !group,
		IsGroup:        group,
		IsPrivate:      c.IsPrivate,
		Created:        c.created,
		Creator:        AdminID,
		IsArchived:     c.IsArchived,
		IsGeneral:      c.Name == "general",
		IsMember:       c.IsMember,
		ContextTeamID:  team.ID,
		SharedTeamIDs:  []string{team.ID},
		Topic:          c.topicJSON(c.Topic),
		Purpose:        c.topicJSON(c.Purpose),
		PreviousNames:  slices.Clone(c.previousNames),
	}
}

// topicJSON is a topic or purpose: set by the workspace's creator when the
// channel was, if it is set at all.
func (c *channel) topicJSON(value string) *topicJSON {
	if value == "" {
		return &topicJSON{}
	}
	return &topicJSON{Value: value, Creator: AdminID, LastSet: c.created}
}
