package archive

import (
	"archive/zip"
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Mattermost's bulk import format
// (https://docs.mattermost.com/onboard/bulk-loading-data.html): a JSONL
// file whose first line is {"type":"version","version":1}, then team,
// channel, user and post lines in that order, each post carrying its
// thread's replies and the reactions; the file sits at the root of a zip,
// the attachments under data/ (an attachment's path is relative to it).
// mmctl import upload takes the zip, mmctl import process imports it. The
// rules below are those of Mattermost's importer
// (server/channels/app/imports/import_validators.go) and model
// (server/public/model: IsValidTeamName, IsValidChannelIdentifier,
// IsValidUsername, IsValidEmail).
const (
	mmPostMaxRunes       = 16383 // model.PostMessageMaxRunesV2
	mmChannelNameMax     = 64    // model.ChannelNameMaxLength (bytes)
	mmDisplayNameMax     = 64    // model.ChannelDisplayNameMaxRunes, TeamDisplayNameMaxRunes
	mmHeaderMaxRunes     = 1024  // model.ChannelHeaderMaxRunes
	mmPurposeMaxRunes    = 250   // model.ChannelPurposeMaxRunes
	mmUsernameMax        = 64    // model.UserNameMaxLength
	mmNameMaxRunes       = 64    // model.UserFirstNameMaxRunes, UserLastNameMaxRunes, UserNicknameMaxRunes
	mmAttachmentsPerPost = 5     // what mmetl attaches per post; Mattermost's oldest default
	mmJSONL              = "import.jsonl"
	mmDataDir            = "data/" // model.ExportDataDir
	mmAttachmentDir      = "attachments/"
	mmEmailDomain        = "slack.invalid" // RFC 2606: never delivered
)

// mmReservedTeamPrefixes are the names a team's name may not start with
// (model.IsReservedTeamName).
var mmReservedTeamPrefixes = []string{"admin", "api", "channel", "claim", "error", "files", "help", "landing",
	"login", "mfa", "oauth", "plug", "plugins", "post", "signup", "boards", "playbooks"}

// mmRestrictedUsernames may not be usernames (model.restrictedUsernames),
// nor, here, the names of Mattermost's special mentions.
var mmRestrictedUsernames = []string{"all", "channel", "matterbot", "system", "here", "everyone"}

var (
	mmTeamName    = regexp.MustCompile(`^[a-z0-9]+([a-z\-0-9]+|(__)?)[a-z0-9]+$`)   // model.validAlphaNum
	mmChannelName = regexp.MustCompile(`^[a-z0-9]+([a-z\-\_0-9]+|(__)?)[a-z0-9]+$`) // also valid before Mattermost 7
)

// ErrBadTeam is returned by ExportMattermost for a team name Mattermost
// would refuse.
var ErrBadTeam = errors.New("not a Mattermost team name: 2 to 64 lower-case letters, digits and dashes, starting and ending with a letter or digit, and not starting with " +
	strings.Join(mmReservedTeamPrefixes, ", "))

// CheckMattermostTeam reports whether Mattermost takes name as a team's
// name (its URL name, as in https://chat.example.org/name).
func CheckMattermostTeam(name string) error {
	if len(name) > 64 || !mmTeamName.MatchString(name) || slices.ContainsFunc(mmReservedTeamPrefixes, func(p string) bool { return strings.HasPrefix(name, p) }) {
		return fmt.Errorf("%q: %w", name, ErrBadTeam)
	}
	return nil
}

// MattermostOptions choose what ExportMattermost writes.
type MattermostOptions struct {
	// Team is the Mattermost team the channels go into (required): its
	// name, as in its URL. The import creates it or updates it.
	Team string
	// TeamDisplayName is the team's name as shown; "" shows Team.
	TeamDisplayName string
	// Since keeps only threads and messages from then on; zero:
	// everything. A thread with replies since then comes whole.
	Since time.Time
	// Channels are channel names or IDs; empty: every channel.
	Channels []string
	// Files, when set, fetches the messages' files from Slack into the
	// zip's data/ folder; nil leaves them links to Slack.
	Files *MattermostFiles
	// TempDir holds the posts while the users they name are gathered; ""
	// is the system's temporary directory.
	TempDir string
	// Now is the clock (when deleted members and archived channels were
	// deactivated); nil means time.Now.
	Now func() time.Time
}

// MattermostStats count what ExportMattermost wrote.
type MattermostStats struct {
	Channels int
	Users    int      // user lines, members and the bots and unknown authors their messages need
	Posts    int      // post lines: messages outside threads and threads' first messages
	Replies  int      // replies inside them
	Messages int      // archive messages exported (posts and replies less continuations)
	Hidden   int      // messages by opted-out members since Since, left out
	Orphans  int      // threads whose first message is not in the archive: their first reply leads, marked
	Split    int      // messages longer than Mattermost's 16,383 characters, continued in replies
	Files    int      // files written under data/
	Missing  []string // files not fetched, each with why (their links stay in the messages)
}

// ExportMattermost writes the archive to w as a zip that Mattermost's
// bulk import takes (mmctl import upload, then mmctl import process):
// the channels as public channels of team o.Team (archived ones
// archived), every member not opted out as a user, every message as a
// post with its thread's replies and its reactions, Slack's formatting
// converted to Markdown, mentions to @username and channel links to
// ~channel. Members get a placeholder e-mail address, their Slack ID at
// slack.invalid, which no mail reaches: set the real ones after the
// import. Messages removed on request are not in the archive, so not in
// the export; messages and reactions by opted-out members are left out.
// A reply whose thread's first message is missing (removed, hidden or
// never archived) is never dropped: the first such reply leads the thread,
// marked. Memory stays bounded: one thread at a time; the posts wait in a
// temporary file while the users they need are gathered.
func ExportMattermost(ctx context.Context, a Archive, w io.Writer, o MattermostOptions) (MattermostStats, error) {
	var st MattermostStats
	if err := CheckMattermostTeam(o.Team); err != nil {
		return st, fmt.Errorf("archive: mattermost export: %w", err)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	all, err := a.Channels(ctx)
	if err != nil {
		return st, fmt.Errorf("archive: mattermost export: %w", err)
	}
	channels, err := selectChannels(all, o.Channels)
	if err != nil {
		return st, fmt.Errorf("archive: mattermost export: %w", err)
	}
	users, err := a.Users(ctx)
	if err != nil {
		return st, fmt.Errorf("archive: mattermost export: %w", err)
	}
	x := newMMExport(a, o, all, users)
	x.st = &st

	since := ""
	if !o.Since.IsZero() {
		since = FormatTS(o.Since)
	}
	if o.Files != nil {
		if err := x.fetchFiles(ctx, channels, since); err != nil {
			return st, err
		}
	}

	tmp, err := os.CreateTemp(o.TempDir, ".mattermost-posts-*.jsonl")
	if err != nil {
		return st, fmt.Errorf("archive: mattermost export: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	x.out = bufio.NewWriterSize(tmp, 1<<20)
	x.enc = json.NewEncoder(x.out)
	x.enc.SetEscapeHTML(false)
	for k, c := range channels {
		if err := x.channel(ctx, k, c, since); err != nil {
			return st, fmt.Errorf("archive: mattermost export #%s: %w", c.Name, err)
		}
	}
	if err := x.out.Flush(); err != nil {
		return st, fmt.Errorf("archive: mattermost export: %w", err)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return st, fmt.Errorf("archive: mattermost export: %w", err)
	}

	zw := zip.NewWriter(w)
	jw, err := zw.Create(mmJSONL)
	if err != nil {
		return st, fmt.Errorf("archive: mattermost export: %w", err)
	}
	hw := bufio.NewWriterSize(jw, 1<<16)
	x.enc = json.NewEncoder(hw)
	x.enc.SetEscapeHTML(false)
	if err := x.head(channels); err != nil {
		return st, fmt.Errorf("archive: mattermost export: %w", err)
	}
	if err := hw.Flush(); err != nil {
		return st, fmt.Errorf("archive: mattermost export: %w", err)
	}
	if _, err := io.Copy(jw, tmp); err != nil {
		return st, fmt.Errorf("archive: mattermost export: %w", err)
	}
	if o.Files != nil {
		if err := x.writeFiles(ctx, zw); err != nil {
			return st, err
		}
	}
	if err := zw.Close(); err != nil {
		return st, fmt.Errorf("archive: mattermost export: %w", err)
	}
	return st, nil
}

// selectChannels are the channels of all that want names (all of them
// when want is empty); a name not found is an error naming it.
func selectChannels(all []Channel, want []string) ([]Channel, error) {
	if len(want) == 0 {
		return all, nil
	}
	match := func(c Channel, w string) bool { w = strings.TrimPrefix(w, "#"); return c.Name == w || c.ID == w }
	var missing []string
	for _, w := range want {
		if !slices.ContainsFunc(all, func(c Channel) bool { return match(c, w) }) {
			missing = append(missing, "#"+strings.TrimPrefix(w, "#"))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrNoSuchChannel, strings.Join(missing, ", "))
	}
	return slices.DeleteFunc(slices.Clone(all), func(c Channel) bool {
		return !slices.ContainsFunc(want, func(w string) bool { return match(c, w) })
	}), nil
}

// The lines of the import file (server/channels/app/imports/import_types.go).
type (
	mmLine struct {
		Type    string     `json:"type"`
		Version *int       `json:"version,omitempty"`
		Info    *mmInfo    `json:"info,omitempty"`
		Team    *mmTeam    `json:"team,omitempty"`
		Channel *mmChannel `json:"channel,omitempty"`
		User    *mmUser    `json:"user,omitempty"`
		Post    *mmPost    `json:"post,omitempty"`
	}
	mmInfo struct {
		Generator string `json:"generator"`
		Version   string `json:"version"`
		Created   string `json:"created"`
	}
	mmTeam struct {
		Name            string `json:"name"`
		DisplayName     string `json:"display_name"`
		Type            string `json:"type"`
		AllowOpenInvite bool   `json:"allow_open_invite"`
	}
	mmChannel struct {
		Team        string `json:"team"`
		Name        string `json:"name"`
		DisplayName string `json:"display_name"`
		Type        string `json:"type"`
		Header      string `json:"header,omitempty"`
		Purpose     string `json:"purpose,omitempty"`
		DeletedAt   int64  `json:"deleted_at,omitempty"`
	}
	mmUser struct {
		Username  string       `json:"username"`
		Email     string       `json:"email"`
		Nickname  string       `json:"nickname,omitempty"`
		FirstName string       `json:"first_name,omitempty"`
		LastName  string       `json:"last_name,omitempty"`
		Position  string       `json:"position,omitempty"`
		Roles     string       `json:"roles"`
		DeleteAt  int64        `json:"delete_at,omitempty"`
		Teams     []mmUserTeam `json:"teams"`
	}
	mmUserTeam struct {
		Name     string          `json:"name"`
		Roles    string          `json:"roles"`
		Channels []mmUserChannel `json:"channels,omitempty"`
	}
	mmUserChannel struct {
		Name  string `json:"name"`
		Roles string `json:"roles"`
	}
	mmPost struct {
		Team        string         `json:"team"`
		Channel     string         `json:"channel"`
		User        string         `json:"user"`
		Message     string         `json:"message"`
		CreateAt    int64          `json:"create_at"`
		EditAt      int64          `json:"edit_at,omitempty"`
		Reactions   []mmReaction   `json:"reactions,omitempty"`
		Replies     []mmReply      `json:"replies,omitempty"`
		Attachments []mmAttachment `json:"attachments,omitempty"`
	}
	mmReply struct {
		User        string         `json:"user"`
		Message     string         `json:"message"`
		CreateAt    int64          `json:"create_at"`
		EditAt      int64          `json:"edit_at,omitempty"`
		Reactions   []mmReaction   `json:"reactions,omitempty"`
		Attachments []mmAttachment `json:"attachments,omitempty"`
	}
	mmReaction struct {
		User      string `json:"user"`
		EmojiName string `json:"emoji_name"`
		CreateAt  int64  `json:"create_at"`
	}
	mmAttachment struct {
		Path string `json:"path"`
	}
)

// mmMember is a Mattermost user the export writes.
type mmMember struct {
	username string
	email    string
	user     User
	position string
	channels []int // indexes of the exported channels they posted or reacted in, ascending
}

// mmExport is one run of ExportMattermost.
type mmExport struct {
	a   Archive
	o   MattermostOptions
	st  *MattermostStats
	md  mdConverter
	out *bufio.Writer
	enc *json.Encoder

	chanNames map[string]string    // Slack channel ID → Mattermost name, of every archived channel
	members   map[string]*mmMember // by Slack user ID, or "bot:…"/"unknown" for authors without one
	taken     map[string]bool      // usernames given
	optedOut  map[string]bool
	files     map[string]string // Slack file ID → path under data/, of the files fetched
	fileOrder []string          // their IDs, in the order fetched

	// Per channel.
	chIdx   int
	chName  string
	lastTop int64           // create_at of the last post outside threads
	done    map[string]bool // threads exported whole (their ts)
}

func newMMExport(a Archive, o MattermostOptions, channels []Channel, users []User) *mmExport {
	x := &mmExport{a: a, o: o, chanNames: map[string]string{}, members: map[string]*mmMember{},
		taken: map[string]bool{}, optedOut: map[string]bool{}, files: map[string]string{}}
	x.md.users, x.md.channels, x.md.byName = map[string]string{}, x.chanNames, map[string]string{}
	usedChan := map[string]bool{}
	for _, c := range channels {
		name := mmChannelNameOf(c.Name, c.ID)
		if usedChan[name] {
			name = mmTrim(name+"-"+strings.ToLower(c.ID), mmChannelNameMax)
		}
		usedChan[name] = true
		x.chanNames[c.ID] = name
		x.md.byName[c.Name] = name
	}
	slices.SortFunc(users, func(p, q User) int { return strings.Compare(p.ID, q.ID) })
	for _, u := range users {
		m := &mmMember{user: u, username: x.username(u.Name, u.ID), email: strings.ToLower(u.ID) + "@" + mmEmailDomain}
		if u.Bot {
			m.position = "Slack bot"
		}
		x.md.users[u.ID] = m.username
		if u.OptedOut {
			x.optedOut[u.ID] = true
			continue
		}
		x.members[u.ID] = m
	}
	return x
}

// username gives a Mattermost username for a Slack handle (or, failing
// one, an ID): lower case, only a-z 0-9 . - _, starting with a letter,
// not a reserved name, unique (a second "ada" is "ada-2").
func (x *mmExport) username(handle, id string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(handle) {
		switch {
		case r < utf8.RuneSelf && (isASCIIAlnum(byte(r)) || r == '.' || r == '-' || r == '_'):
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	name := strings.Trim(b.String(), ".-_")
	switch {
	case name == "":
		name = "slack-" + strings.ToLower(id)
	case name[0] < 'a' || name[0] > 'z', slices.Contains(mmRestrictedUsernames, name):
		name = "slack-" + name
	}
	name = mmTrim(name, mmUsernameMax)
	base := name
	for n := 2; x.taken[name]; n++ {
		suffix := "-" + strconv.Itoa(n)
		name = mmTrim(base, mmUsernameMax-len(suffix)) + suffix
	}
	x.taken[name] = true
	return name
}

// mmChannelNameOf is a Slack channel's name as a Mattermost channel's
// URL name: a-z 0-9 - _, starting and ending with a letter or digit, at
// most 64 bytes; its ID, lower case, when nothing of the name is left.
func mmChannelNameOf(name, id string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		if r < utf8.RuneSelf && (isASCIIAlnum(byte(r)) || r == '-' || r == '_') {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	out := mmTrim(b.String(), mmChannelNameMax)
	if !mmChannelName.MatchString(out) {
		out = mmTrim(strings.ToLower(id), mmChannelNameMax)
	}
	return out
}

// mmTrim cuts an ASCII name to n bytes and trims the punctuation that
// may not end (or start) it.
func mmTrim(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.Trim(s, "-_.")
}

// runes cuts s to n runes.
func runes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n])
}

// author is the member who wrote m, made up for bots and authors the
// archive does not know (the import needs a user for every post).
func (x *mmExport) author(m Message) *mmMember {
	if m.User != "" {
		return x.member(m.User)
	}
	key, handle, email := "unknown", "slack-unknown", "unknown@"+mmEmailDomain
	if m.BotID != "" || m.Username != "" {
		key = "bot:" + firstOf(m.BotID, m.Username)
		handle = firstOf(m.Username, m.BotID)
		email = "bot-" + mmEmailLocal(firstOf(m.BotID, m.Username))
	}
	if mb := x.members[key]; mb != nil {
		return mb
	}
	mb := &mmMember{username: x.username(handle, key), user: User{DisplayName: m.Username}}
	if strings.HasPrefix(key, "bot:") {
		mb.position = "Slack integration"
		mb.email = email + "@" + mmEmailDomain
	} else {
		mb.email = email
	}
	x.members[key] = mb
	return mb
}

// mmEmailLocal keeps what an address's local part may hold, lower case.
func mmEmailLocal(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r < utf8.RuneSelf && (isASCIIAlnum(byte(r)) || r == '.' || r == '-' || r == '_') {
			b.WriteRune(r)
		}
	}
	return cmpNonEmpty(strings.Trim(b.String(), "."), "bot")
}

func cmpNonEmpty(s, or string) string {
	if s == "" {
		return or
	}
	return s
}

// member is the member with Slack ID id, made up when the archive does
// not know them (a deleted account an export left out); nil when they
// opted out.
func (x *mmExport) member(id string) *mmMember {
	if x.optedOut[id] {
		return nil
	}
	if mb := x.members[id]; mb != nil {
		return mb
	}
	mb := &mmMember{username: x.username("", id), email: strings.ToLower(mmEmailLocal(id)) + "@" + mmEmailDomain, user: User{ID: id}}
	x.members[id] = mb
	return mb
}

// joined records that mb takes part in the current channel.
func (x *mmExport) joined(mb *mmMember) {
	if n := len(mb.channels); n == 0 || mb.channels[n-1] != x.chIdx {
		mb.channels = append(mb.channels, x.chIdx)
	}
}

// mmTime is a Slack ts in Unix milliseconds, at least 1 (the importer
// refuses 0).
func mmTime(ts string) int64 {
	t, err := ParseTS(ts)
	if err != nil {
		return 1
	}
	return max(t.UnixMilli(), 1)
}

// channel writes one channel's posts.
func (x *mmExport) channel(ctx context.Context, k int, c Channel, since string) error {
	x.st.Channels++
	x.chIdx, x.chName, x.lastTop, x.done = k, x.chanNames[c.ID], 0, map[string]bool{}
	// A message captured live before anyone replied carries no thread_ts
	// until a catch-up reads it again: the threads are known by their
	// replies, so a first pass gathers them, and such a message is
	// exported with its replies, not once alone and once as their thread.
	threads := map[string]bool{}
	if err := x.a.Each(ctx, c.ID, since, func(m Message) error {
		if m.IsReply() {
			threads[m.ThreadTS] = true
		}
		return nil
	}); err != nil {
		return err
	}
	return x.a.Each(ctx, c.ID, since, func(m Message) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if m.Hidden {
			x.st.Hidden++
			return nil
		}
		if x.done[firstOf(m.ThreadTS, m.TS)] {
			return nil // exported with its thread
		}
		if m.IsReply() {
			return x.orphanThread(ctx, m)
		}
		at := max(mmTime(m.TS), x.lastTop+1)
		x.lastTop = at
		if m.ThreadTS != m.TS && !threads[m.TS] {
			return x.write(x.post(m, at, false))
		}
		replies, err := x.replies(ctx, m.Channel, m.TS)
		if err != nil {
			return err
		}
		x.done[m.TS] = true
		return x.write(x.thread(m, at, false, replies))
	})
}

// replies are a thread's replies, oldest first, without its first message
// and those of opted-out members.
func (x *mmExport) replies(ctx context.Context, channel, ts string) ([]Message, error) {
	msgs, err := x.a.Messages(ctx, MessageQuery{Channel: channel, ThreadTS: ts})
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(msgs, func(m Message) bool { return m.TS == ts || m.Hidden }), nil
}

// orphanThread writes the thread of reply m, whose first message was not
// met: it came before Since (then it leads its whole thread), or it is not
// in the archive or hidden (then the first reply leads, marked).
func (x *mmExport) orphanThread(ctx context.Context, m Message) error {
	x.done[m.ThreadTS] = true
	replies, err := x.replies(ctx, m.Channel, m.ThreadTS)
	if err != nil {
		return err
	}
	root, ok, err := x.a.Message(ctx, m.Channel, m.ThreadTS)
	if err != nil {
		return err
	}
	if ok && !root.Hidden {
		return x.write(x.thread(root, mmTime(root.TS), false, replies))
	}
	if len(replies) == 0 { // m itself is there: this cannot be, but never drop it
		replies = []Message{m}
	}
	x.st.Orphans++
	return x.write(x.thread(replies[0], mmTime(replies[0].TS), true, replies[1:]))
}

// orphanNote starts the first reply of a thread whose first message is
// not in the export.
const orphanNote = "*(A reply in a thread whose first message is not in the archive.)*\n"

// post is m as a post line's post, created at at.
func (x *mmExport) post(m Message, at int64, orphan bool) *mmPost {
	mb := x.author(m)
	x.joined(mb)
	chunks, att := x.body(m, orphan)
	p := &mmPost{Team: x.o.Team, Channel: x.chName, User: mb.username, Message: chunks[0], CreateAt: at,
		EditAt: editAt(m, at), Reactions: x.reactions(m, at), Attachments: att}
	x.st.Posts++
	x.st.Messages++
	last := at
	for _, c := range chunks[1:] {
		last++
		p.Replies = append(p.Replies, mmReply{User: mb.username, Message: c, CreateAt: last})
		x.st.Replies++
	}
	return p
}

// thread is root with its replies as a post line's post.
func (x *mmExport) thread(root Message, at int64, orphan bool, replies []Message) *mmPost {
	p := x.post(root, at, orphan)
	last := at
	if n := len(p.Replies); n > 0 {
		last = p.Replies[n-1].CreateAt
	}
	for _, r := range replies {
		mb := x.author(r)
		x.joined(mb)
		rat := max(mmTime(r.TS), last+1)
		chunks, att := x.body(r, false)
		p.Replies = append(p.Replies, mmReply{User: mb.username, Message: chunks[0], CreateAt: rat,
			EditAt: editAt(r, rat), Reactions: x.reactions(r, rat), Attachments: att})
		last = rat
		for _, c := range chunks[1:] {
			last++
			p.Replies = append(p.Replies, mmReply{User: mb.username, Message: c, CreateAt: last})
		}
		x.st.Replies += len(chunks)
		x.st.Messages++
	}
	return p
}

func editAt(m Message, at int64) int64 {
	if m.Edited == "" {
		return 0
	}
	if e := mmTime(m.Edited); e >= at {
		return e
	}
	return 0
}

// reactions are m's reactions by their members (not those who opted out),
// as of at: Slack does not say when a reaction was added.
func (x *mmExport) reactions(m Message, at int64) []mmReaction {
	var out []mmReaction
	for _, r := range m.Reactions {
		name := emojiName(r.Name)
		if name == "" {
			continue
		}
		for _, id := range r.Users {
			mb := x.member(id)
			if mb == nil || slices.ContainsFunc(out, func(e mmReaction) bool { return e.User == mb.username && e.EmojiName == name }) {
				continue
			}
			x.joined(mb)
			out = append(out, mmReaction{User: mb.username, EmojiName: name, CreateAt: at})
		}
	}
	return out
}

// body is m's text as Markdown in chunks Mattermost takes (the first is
// the message, the others continue it in replies), and its files: those
// fetched as attachments, the others as links at the end of the text.
func (x *mmExport) body(m Message, orphan bool) ([]string, []mmAttachment) {
	text := x.md.markdown(m.Text)
	if orphan {
		text = orphanNote + text
	}
	var att []mmAttachment
	var links []string
	for _, f := range m.Files {
		if p, ok := x.files[f.ID]; ok && f.ID != "" && len(att) < mmAttachmentsPerPost {
			att = append(att, mmAttachment{Path: p})
			continue
		}
		title := firstOf(f.Title, f.Name, f.ID, "file")
		if strings.HasPrefix(f.Permalink, "https://") || strings.HasPrefix(f.Permalink, "http://") {
			links = append(links, "📎 ["+x.md.text(title)+"]("+escapeURL(f.Permalink)+")")
		} else {
			links = append(links, "📎 "+x.md.text(title))
		}
	}
	if len(links) > 0 {
		if text != "" {
			text += "\n"
		}
		text += strings.Join(links, "\n")
	}
	if utf8.RuneCountInString(text) <= mmPostMaxRunes {
		return []string{text}, att
	}
	x.st.Split++
	return splitRunes(text, mmPostMaxRunes), att
}

// splitRunes cuts s into pieces of at most n runes, at a line break or a
// space near the end of each where there is one.
func splitRunes(s string, n int) []string {
	var out []string
	for utf8.RuneCountInString(s) > n {
		cut := 0
		for i := range s { // the byte offset of rune n
			if cut == n {
				cut = i
				break
			}
			cut++
		}
		head := s[:cut]
		if i := strings.LastIndexByte(head, '\n'); i > len(head)/2 {
			head = head[:i+1]
		} else if i := strings.LastIndexByte(head, ' '); i > len(head)/2 {
			head = head[:i+1]
		}
		out = append(out, head)
		s = s[len(head):]
	}
	return append(out, s)
}

func (x *mmExport) write(p *mmPost) error {
	return x.enc.Encode(mmLine{Type: "post", Post: p})
}

// head writes the lines before the posts: version, team, channels, users.
func (x *mmExport) head(channels []Channel) error {
	version := 1
	now := x.o.Now()
	lines := []mmLine{
		{Type: "version", Version: &version, Info: &mmInfo{Generator: "townhall", Version: "1", Created: now.UTC().Format(time.RFC3339)}},
		{Type: "team", Team: &mmTeam{Name: x.o.Team, DisplayName: runes(firstOf(strings.TrimSpace(x.o.TeamDisplayName), x.o.Team), mmDisplayNameMax), Type: "I"}},
	}
	for _, c := range channels {
		mc := &mmChannel{Team: x.o.Team, Name: x.chanNames[c.ID], Type: "O",
			DisplayName: runes(firstOf(strings.TrimSpace(c.Name), x.chanNames[c.ID]), mmDisplayNameMax),
			Header:      runes(x.md.markdown(c.Topic), mmHeaderMaxRunes),
			Purpose:     runes(x.md.markdown(c.Purpose), mmPurposeMaxRunes)}
		if c.Archived {
			mc.DeletedAt = now.UnixMilli()
		}
		lines = append(lines, mmLine{Type: "channel", Channel: mc})
	}
	for _, line := range lines {
		if err := x.enc.Encode(line); err != nil {
			return err
		}
	}
	keys := make([]string, 0, len(x.members))
	for k := range x.members {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(p, q string) int { return strings.Compare(x.members[p].username, x.members[q].username) })
	for _, k := range keys {
		mb := x.members[k]
		first, last, _ := strings.Cut(strings.TrimSpace(mb.user.RealName), " ")
		u := &mmUser{Username: mb.username, Email: mb.email, Nickname: runes(mb.user.DisplayName, mmNameMaxRunes),
			FirstName: runes(first, mmNameMaxRunes), LastName: runes(strings.TrimSpace(last), mmNameMaxRunes),
			Position: mb.position, Roles: "system_user",
			Teams: []mmUserTeam{{Name: x.o.Team, Roles: "team_user"}}}
		if mb.user.Deleted {
			u.DeleteAt = now.UnixMilli()
		}
		for _, i := range mb.channels {
			u.Teams[0].Channels = append(u.Teams[0].Channels, mmUserChannel{Name: x.chanNames[channels[i].ID], Roles: "channel_user"})
		}
		if err := x.enc.Encode(mmLine{Type: "user", User: u}); err != nil {
			return err
		}
		x.st.Users++
	}
	return nil
}
