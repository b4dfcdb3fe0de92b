package archive_test

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/mail"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// This validator checks an export against Mattermost's bulk import
// format as its importer checks it (mattermost/mattermost,
// server/channels/app/imports/import_validators.go, and the model's name
// rules in server/public/model: user.go IsValidUsername, team.go
// IsValidTeamName and IsReservedTeamName, utils.go IsValidEmail and
// IsValidChannelIdentifier), plus what makes an import lose nothing:
// every name a line uses is defined by an earlier line, and no two posts
// of a channel share a create_at and a message (the importer would take
// the second for the first: importMultiplePostLines). It is written from
// those rules, not from the exporter's code. Where Mattermost versions
// differ it takes the stricter rule (channel names of two characters or
// more ending in a letter or digit; usernames starting with a letter).

// The import file's lines, with pointers where the importer tells a
// missing field from an empty one; unknown fields are refused, so a
// misspelt field fails here rather than being ignored there.
type (
	vLine struct {
		Type          string          `json:"type"`
		Version       *int            `json:"version"`
		Info          json.RawMessage `json:"info"`
		Team          *vTeam          `json:"team"`
		Channel       *vChannel       `json:"channel"`
		User          *vUser          `json:"user"`
		Post          *vPost          `json:"post"`
		DirectChannel json.RawMessage `json:"direct_channel"`
		DirectPost    json.RawMessage `json:"direct_post"`
	}
	vTeam struct {
		Name            *string `json:"name"`
		DisplayName     *string `json:"display_name"`
		Type            *string `json:"type"`
		Description     *string `json:"description"`
		AllowOpenInvite *bool   `json:"allow_open_invite"`
	}
	vChannel struct {
		Team        *string `json:"team"`
		Name        *string `json:"name"`
		DisplayName *string `json:"display_name"`
		Type        *string `json:"type"`
		Header      *string `json:"header"`
		Purpose     *string `json:"purpose"`
		DeletedAt   *int64  `json:"deleted_at"`
	}
	vUser struct {
		Username  *string `json:"username"`
		Email     *string `json:"email"`
		Nickname  *string `json:"nickname"`
		FirstName *string `json:"first_name"`
		LastName  *string `json:"last_name"`
		Position  *string `json:"position"`
		Roles     *string `json:"roles"`
		DeleteAt  *int64  `json:"delete_at"`
		Teams     *[]struct {
			Name     *string `json:"name"`
			Roles    *string `json:"roles"`
			Channels *[]struct {
				Name  *string `json:"name"`
				Roles *string `json:"roles"`
			} `json:"channels"`
		} `json:"teams"`
	}
	vPost struct {
		Team        *string         `json:"team"`
		Channel     *string         `json:"channel"`
		User        *string         `json:"user"`
		Type        *string         `json:"type"`
		Message     *string         `json:"message"`
		Props       json.RawMessage `json:"props"`
		CreateAt    *int64          `json:"create_at"`
		EditAt      *int64          `json:"edit_at"`
		Reactions   *[]vReaction    `json:"reactions"`
		Replies     *[]vReply       `json:"replies"`
		Attachments *[]vAttachment  `json:"attachments"`
	}
	vReply struct {
		User        *string        `json:"user"`
		Type        *string        `json:"type"`
		Message     *string        `json:"message"`
		CreateAt    *int64         `json:"create_at"`
		EditAt      *int64         `json:"edit_at"`
		Reactions   *[]vReaction   `json:"reactions"`
		Attachments *[]vAttachment `json:"attachments"`
	}
	vReaction struct {
		User      *string `json:"user"`
		CreateAt  *int64  `json:"create_at"`
		EmojiName *string `json:"emoji_name"`
	}
	vAttachment struct {
		Path *string `json:"path"`
	}
)

// Mattermost's limits and names (server/public/model).
const (
	vPostMaxRunes       = 16383  // PostMessageMaxRunesV2
	vPropsMaxRunes      = 800000 // PostPropsMaxRunes
	vTeamNameMax        = 64     // TeamNameMaxLength
	vTeamDisplayMax     = 64     // TeamDisplayNameMaxRunes
	vTeamDescriptionMax = 255    // TeamDescriptionMaxLength
	vChannelNameMax     = 64     // ChannelNameMaxLength
	vChannelDisplayMax  = 64     // ChannelDisplayNameMaxRunes
	vChannelHeaderMax   = 1024   // ChannelHeaderMaxRunes
	vChannelPurposeMax  = 250    // ChannelPurposeMaxRunes
	vUsernameMax        = 64     // UserNameMaxLength
	vEmailMax           = 128    // UserEmailMaxLength
	vNameMax            = 64     // UserNicknameMaxRunes, UserFirstNameMaxRunes, UserLastNameMaxRunes
	vPositionMax        = 128    // UserPositionMaxRunes
	vEmojiNameMax       = 64     // EmojiNameMaxLength
)

var (
	vTeamNameRe    = regexp.MustCompile(`^[a-z0-9]+([a-z\-0-9]+|(__)?)[a-z0-9]+$`)
	vChannelNameRe = regexp.MustCompile(`^[a-z0-9]+([a-z\-\_0-9]+|(__)?)[a-z0-9]+$`)
	vUsernameRe    = regexp.MustCompile(`^[a-z][a-z0-9\.\-_]*$`)
	vEmojiRe       = regexp.MustCompile(`^[a-zA-Z0-9\-\+_]+$`)
	vRoleRe        = regexp.MustCompile(`^[a-z0-9_]+$`)
	vReservedTeam  = []string{"admin", "api", "channel", "claim", "error", "files", "help", "landing", "login", "mfa",
		"oauth", "plug", "plugins", "post", "signup", "boards", "playbooks"}
	vRestrictedUsers = []string{"all", "channel", "matterbot", "system"}
	vOrder           = map[string]int{"version": 0, "scheme": 1, "emoji": 2, "team": 3, "channel": 4, "user": 5, "bot": 5, "post": 6}
)

// mmImport is what a valid export holds, for the tests to look at.
type mmImport struct {
	Teams    map[string]vTeam
	Channels map[string]vChannel // by name
	Users    map[string]vUser    // by username
	Posts    []vPost
	Files    map[string][]byte // data/… entries
}

// replies counts the replies of every post.
func (im *mmImport) replies() int {
	n := 0
	for _, p := range im.Posts {
		if p.Replies != nil {
			n += len(*p.Replies)
		}
	}
	return n
}

// post returns the post (thread's first message or not) whose message
// contains s.
func (im *mmImport) post(t *testing.T, s string) vPost {
	t.Helper()
	for _, p := range im.Posts {
		if strings.Contains(*p.Message, s) {
			return p
		}
	}
	t.Fatalf("no post contains %q", s)
	return vPost{}
}

// validateMattermost reads a zip as mmctl import upload/process would and
// fails t for anything Mattermost's importer would refuse or lose.
func validateMattermost(t testing.TB, zipped []byte) *mmImport {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(zipped), int64(len(zipped)))
	if err != nil {
		t.Fatalf("not a zip: %v", err)
	}
	im := &mmImport{Teams: map[string]vTeam{}, Channels: map[string]vChannel{}, Users: map[string]vUser{}, Files: map[string][]byte{}}
	var jsonl []*zip.File
	for _, f := range zr.File {
		switch {
		case !strings.Contains(f.Name, "/") && strings.HasSuffix(f.Name, ".jsonl"):
			jsonl = append(jsonl, f)
		case strings.HasPrefix(f.Name, "data/"):
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatalf("%s: %v", f.Name, err)
			}
			im.Files[f.Name] = b
		default:
			t.Errorf("zip entry %q: neither the JSONL file at the root nor under data/", f.Name)
		}
	}
	if len(jsonl) != 1 {
		t.Fatalf("the zip holds %d JSONL files at its root; the importer takes one", len(jsonl))
	}
	rc, err := jsonl[0].Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()

	var errs []string
	bad := func(line int, format string, args ...any) {
		if len(errs) < 20 {
			errs = append(errs, fmt.Sprintf("line %d: ", line)+fmt.Sprintf(format, args...))
		}
	}
	type postKey struct {
		channel string
		at      int64
		message string
	}
	seenPosts := map[postKey]int{}
	emails := map[string]string{}
	lastOrder := -1
	sc := bufio.NewScanner(rc)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	n := 0
	for sc.Scan() {
		n++
		var l vLine
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			bad(n, "not a line of the format: %v", err)
			continue
		}
		if n == 1 && (l.Type != "version" || l.Version == nil || *l.Version != 1) {
			bad(n, "the first line must be {\"type\":\"version\",\"version\":1}, got type %q", l.Type)
		}
		order, known := vOrder[l.Type]
		if !known {
			bad(n, "type %q is not one this export may write", l.Type)
			continue
		}
		if l.Type == "version" && n != 1 {
			bad(n, "a second version line")
		}
		if order < lastOrder {
			bad(n, "a %s line after a later kind of line", l.Type)
		}
		lastOrder = order
		if (l.Team != nil) != (l.Type == "team") || (l.Channel != nil) != (l.Type == "channel") ||
			(l.User != nil) != (l.Type == "user") || (l.Post != nil) != (l.Type == "post") {
			bad(n, "type %q does not match the object the line holds", l.Type)
			continue
		}
		switch l.Type {
		case "team":
			tm := l.Team
			switch {
			case tm.Name == nil:
				bad(n, "team: no name")
			case len(*tm.Name) > vTeamNameMax || !vTeamNameRe.MatchString(strings.ToLower(*tm.Name)):
				bad(n, "team name %q: not a team name", *tm.Name)
			case slices.ContainsFunc(vReservedTeam, func(r string) bool { return strings.HasPrefix(strings.ToLower(*tm.Name), r) }):
				bad(n, "team name %q is reserved", *tm.Name)
			}
			if tm.DisplayName == nil || utf8.RuneCountInString(*tm.DisplayName) == 0 || utf8.RuneCountInString(*tm.DisplayName) > vTeamDisplayMax {
				bad(n, "team display name missing or longer than %d", vTeamDisplayMax)
			}
			if tm.Type == nil || (*tm.Type != "O" && *tm.Type != "I") {
				bad(n, "team type must be O or I")
			}
			if tm.Description != nil && len(*tm.Description) > vTeamDescriptionMax {
				bad(n, "team description too long")
			}
			if tm.Name != nil {
				im.Teams[*tm.Name] = *tm
			}
		case "channel":
			c := l.Channel
			if c.Team == nil || im.Teams[*c.Team].Name == nil {
				bad(n, "channel: team missing or not defined before")
			}
			switch {
			case c.Name == nil:
				bad(n, "channel: no name")
				continue
			case len(*c.Name) > vChannelNameMax || !vChannelNameRe.MatchString(strings.ToLower(*c.Name)):
				bad(n, "channel name %q: not a channel name", *c.Name)
			}
			if _, dup := im.Channels[*c.Name]; dup {
				bad(n, "channel %q twice", *c.Name)
			}
			if c.DisplayName != nil && utf8.RuneCountInString(*c.DisplayName) > vChannelDisplayMax {
				bad(n, "channel %q: display name longer than %d", *c.Name, vChannelDisplayMax)
			}
			if c.Type == nil || *c.Type != "O" {
				bad(n, "channel %q: only public channels (O) are archived", *c.Name)
			}
			if c.Header != nil && utf8.RuneCountInString(*c.Header) > vChannelHeaderMax {
				bad(n, "channel %q: header longer than %d", *c.Name, vChannelHeaderMax)
			}
			if c.Purpose != nil && utf8.RuneCountInString(*c.Purpose) > vChannelPurposeMax {
				bad(n, "channel %q: purpose longer than %d", *c.Name, vChannelPurposeMax)
			}
			if c.DeletedAt != nil && *c.DeletedAt <= 0 {
				bad(n, "channel %q: deleted_at not a time", *c.Name)
			}
			im.Channels[*c.Name] = *c
		case "user":
			u := l.User
			if u.Username == nil {
				bad(n, "user: no username")
				continue
			}
			name := strings.ToLower(*u.Username)
			if len(name) > vUsernameMax || !vUsernameRe.MatchString(name) || slices.Contains(vRestrictedUsers, name) {
				bad(n, "username %q: not a username", *u.Username)
			}
			if _, dup := im.Users[name]; dup {
				bad(n, "username %q twice", name)
			}
			switch {
			case u.Email == nil || *u.Email == "" || len(*u.Email) > vEmailMax:
				bad(n, "user %s: e-mail missing or longer than %d", name, vEmailMax)
			case !validEmail(*u.Email):
				bad(n, "user %s: %q is not an address Mattermost takes", name, *u.Email)
			case emails[*u.Email] != "":
				bad(n, "user %s: e-mail %q already used by %s", name, *u.Email, emails[*u.Email])
			default:
				emails[*u.Email] = name
			}
			for _, f := range []struct {
				what string
				v    *string
				max  int
			}{{"nickname", u.Nickname, vNameMax}, {"first name", u.FirstName, vNameMax}, {"last name", u.LastName, vNameMax}, {"position", u.Position, vPositionMax}} {
				if f.v != nil && utf8.RuneCountInString(*f.v) > f.max {
					bad(n, "user %s: %s longer than %d", name, f.what, f.max)
				}
			}
			if u.Roles != nil && !validRoles(*u.Roles) {
				bad(n, "user %s: roles %q", name, *u.Roles)
			}
			if u.Teams != nil {
				for _, tm := range *u.Teams {
					if tm.Name == nil || im.Teams[*tm.Name].Name == nil {
						bad(n, "user %s: a team not defined before", name)
						continue
					}
					if tm.Roles != nil && !validRoles(*tm.Roles) {
						bad(n, "user %s: team roles %q", name, *tm.Roles)
					}
					if tm.Channels == nil {
						continue
					}
					for _, c := range *tm.Channels {
						if c.Name == nil {
							bad(n, "user %s: a channel without a name", name)
						} else if ch, ok := im.Channels[*c.Name]; !ok || *ch.Team != *tm.Name {
							bad(n, "user %s: channel %q not defined in team %s", name, *c.Name, *tm.Name)
						}
						if c.Roles != nil && !validRoles(*c.Roles) {
							bad(n, "user %s: channel roles %q", name, *c.Roles)
						}
					}
				}
			}
			im.Users[name] = *u
		case "post":
			p := l.Post
			if p.Team == nil || im.Teams[*p.Team].Name == nil {
				bad(n, "post: team missing or not defined before")
			}
			if p.Channel == nil || im.Channels[*p.Channel].Name == nil {
				bad(n, "post: channel missing or not defined before")
				continue
			}
			if ch := im.Channels[*p.Channel]; p.Team != nil && *ch.Team != *p.Team {
				bad(n, "post: channel %s is not in team %s", *p.Channel, *p.Team)
			}
			if p.Type != nil && *p.Type != "" {
				bad(n, "post: type %q", *p.Type)
			}
			if len(p.Props) > 0 && utf8.RuneCount(p.Props) > vPropsMaxRunes {
				bad(n, "post: props too large")
			}
			check := func(what string, user, message *string, at *int64, parentAt int64, reactions *[]vReaction, att *[]vAttachment) {
				if user == nil {
					bad(n, "%s: no user", what)
				} else if _, ok := im.Users[strings.ToLower(*user)]; !ok {
					bad(n, "%s: user %q not defined before", what, *user)
				}
				if message == nil {
					bad(n, "%s: no message", what)
					return
				}
				if c := utf8.RuneCountInString(*message); c > vPostMaxRunes {
					bad(n, "%s: message of %d characters, more than %d", what, c, vPostMaxRunes)
				}
				if !utf8.ValidString(*message) {
					bad(n, "%s: message not UTF-8", what)
				}
				if at == nil || *at == 0 {
					bad(n, "%s: create_at missing or zero", what)
					return
				}
				if *at < parentAt {
					bad(n, "%s: created before its thread's first message", what)
				}
				key := postKey{*p.Channel, *at, *message}
				if prev, dup := seenPosts[key]; dup {
					bad(n, "%s: same channel, create_at and message as line %d: the importer would merge them", what, prev)
				}
				seenPosts[key] = n
				if reactions != nil {
					for _, r := range *reactions {
						switch {
						case r.User == nil:
							bad(n, "%s: reaction without a user", what)
						case im.Users[strings.ToLower(*r.User)].Username == nil:
							bad(n, "%s: reaction by %q, not defined before", what, *r.User)
						}
						if r.EmojiName == nil || utf8.RuneCountInString(*r.EmojiName) > vEmojiNameMax || !vEmojiRe.MatchString(*r.EmojiName) {
							bad(n, "%s: reaction emoji %v", what, r.EmojiName)
						}
						if r.CreateAt == nil || *r.CreateAt == 0 || *r.CreateAt < *at {
							bad(n, "%s: reaction create_at missing, zero or before its post", what)
						}
					}
				}
				if att != nil {
					if len(*att) > 5 {
						bad(n, "%s: %d attachments", what, len(*att))
					}
					for _, a := range *att {
						if a.Path == nil || *a.Path == "" {
							bad(n, "%s: attachment without a path", what)
							continue
						}
						clean := path.Clean("data/" + *a.Path)
						if !strings.HasPrefix(clean, "data/") {
							bad(n, "%s: attachment %q outside data/", what, *a.Path)
						} else if _, ok := im.Files[clean]; !ok {
							bad(n, "%s: attachment %q not in the zip", what, *a.Path)
						}
					}
				}
			}
			check("post", p.User, p.Message, p.CreateAt, 0, p.Reactions, p.Attachments)
			if p.Replies != nil && p.CreateAt != nil {
				for i, r := range *p.Replies {
					if r.Type != nil && *r.Type != "" {
						bad(n, "reply %d: type %q", i, *r.Type)
					}
					check(fmt.Sprintf("reply %d", i), r.User, r.Message, r.CreateAt, *p.CreateAt, r.Reactions, r.Attachments)
				}
			}
			im.Posts = append(im.Posts, *p)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("reading the JSONL: %v", err)
	}
	if n == 0 {
		t.Fatal("the JSONL file is empty")
	}
	if len(errs) > 0 {
		t.Fatalf("Mattermost's importer would refuse this export:\n%s", strings.Join(errs, "\n"))
	}
	return im
}

// validEmail is model.IsValidEmail: lower case, one address, no display
// name, one @.
func validEmail(s string) bool {
	if strings.ToLower(s) != s || strings.Count(s, "@") != 1 {
		return false
	}
	a, err := mail.ParseAddress(s)
	return err == nil && a.Name == "" && a.Address == s
}

// validRoles is model.IsValidUserRoles: role names, not system_admin alone.
func validRoles(s string) bool {
	roles := strings.Fields(s)
	for _, r := range roles {
		if !vRoleRe.MatchString(r) || len(r) > 64 {
			return false
		}
	}
	return !(len(roles) == 1 && roles[0] == "system_admin")
}

// TestValidatorRefuses shows the validator catches what the importer
// refuses, so a passing export means something.
func TestValidatorRefuses(t *testing.T) {
	t.Parallel()
	head := `{"type":"version","version":1}
{"type":"team","team":{"name":"community","display_name":"Community","type":"I"}}
{"type":"channel","channel":{"team":"community","name":"general","display_name":"general","type":"O"}}
{"type":"user","user":{"username":"ada","email":"ada@slack.invalid","roles":"system_user","teams":[{"name":"community","roles":"team_user"}]}}
`
	post := func(fields string) string {
		return `{"type":"post","post":{"team":"community","channel":"general","user":"ada",` + fields + `}}` + "\n"
	}
	for name, jsonl := range map[string]string{
		"no version first":    strings.SplitN(head, "\n", 2)[1],
		"reserved team":       strings.Replace(head, `"name":"community"`, `"name":"admins"`, 1),
		"bad channel name":    strings.Replace(head, `"name":"general"`, `"name":"Général!"`, 1),
		"restricted username": strings.Replace(head, `"username":"ada"`, `"username":"channel"`, 1),
		"bad email":           strings.Replace(head, `ada@slack.invalid`, `Ada <ada@x>`, 1),
		"user after post":     head + post(`"message":"hi","create_at":1`) + strings.SplitN(head, "\n", 5)[3] + "\n",
		"direct channel":      head + `{"type":"direct_channel","direct_channel":{"members":["ada","bob"]}}` + "\n",
		"unknown field":       head + post(`"message":"hi","create_at":1,"mesage":"x"`),
		"long message":        head + post(`"message":"`+strings.Repeat("é", 16384)+`","create_at":1`),
		"zero create_at":      head + post(`"message":"hi","create_at":0`),
		"unknown user":        head + strings.Replace(post(`"message":"hi","create_at":1`), `"user":"ada"`, `"user":"zed"`, 1),
		"reply before root":   head + post(`"message":"hi","create_at":10,"replies":[{"user":"ada","message":"re","create_at":5}]`),
		"bad emoji":           head + post(`"message":"hi","create_at":1,"reactions":[{"user":"ada","emoji_name":"smile face","create_at":1}]`),
		"missing attachment":  head + post(`"message":"hi","create_at":1,"attachments":[{"path":"attachments/F1_x.pdf"}]`),
		"merged posts":        head + post(`"message":"hi","create_at":1`) + post(`"message":"hi","create_at":1`),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			zw := zip.NewWriter(&buf)
			w, _ := zw.Create("import.jsonl")
			io.WriteString(w, jsonl)
			zw.Close()
			ft := &fakeT{TB: t}
			func() {
				defer func() { recover() }() // fakeT.Fatalf stops the validator as t.Fatalf would
				validateMattermost(ft, buf.Bytes())
			}()
			if !ft.failed {
				t.Errorf("the validator took an export with %s", name)
			}
		})
	}
}

// fakeT records a failure instead of failing the test.
type fakeT struct {
	testing.TB
	failed bool
}

func (f *fakeT) Errorf(string, ...any) { f.failed = true }
func (f *fakeT) Fatalf(string, ...any) { f.failed = true; panic("fatal") }
func (f *fakeT) Fatal(...any)          { f.failed = true; panic("fatal") }
func (f *fakeT) Helper()               {}
