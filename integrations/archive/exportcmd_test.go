package archive_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/townhall/townhall/integrations/archive"
	"github.com/townhall/townhall/slackapp/slacktest"
)

// exportCommand types /townhall archive export text as user and returns
// the answer given at once and, when the export started, the one given
// when it ended.
func exportCommand(t *testing.T, tb *testBundle, user, text string) (first, done slacktest.Post) {
	t.Helper()
	posts := tb.env.Command(t, user, slacktest.GeneralID, "/townhall", "archive export "+text)
	if len(posts) != 1 {
		t.Fatalf("/townhall archive export %s answered %d messages: %v\n%s", text, len(posts), posts, tb.env.Logs.String())
	}
	first = posts[0]
	if !first.Ephemeral() {
		t.Errorf("the answer to %q is visible to the channel: %q", text, first.Text)
	}
	if !strings.HasPrefix(first.Text, "Exporting") {
		return first, slacktest.Post{}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	n := len(tb.ws.Posts())
	all, err := tb.ws.WaitPosts(ctx, n+1)
	if err != nil {
		t.Fatalf("no word after %q: %v", first.Text, err)
	}
	done = all[n]
	if !done.Ephemeral() || done.User != "" && done.User != user {
		t.Errorf("the export's end was said to others: %+v", done)
	}
	return first, done
}

var writtenPath = regexp.MustCompile("Export written: `([^`]+)`")

func TestExportCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ws := slacktest.New(t)
	tb := startWith(t, ws, filepath.Join(t.TempDir(), "townhall.db"), func(c *archive.Config) { c.ExportDir = dir })
	root := tb.post(t, slacktest.Message{Channel: slacktest.GeneralID, User: slacktest.MemberID, Text: "Who *minutes* the call? <!channel>"})
	tb.post(t, slacktest.Message{Channel: slacktest.GeneralID, User: slacktest.AdminID, Text: "I will", ThreadTS: root.TS})

	// Members are refused; staff get usage help for what is not a command.
	if p := tb.env.Command(t, slacktest.MemberID, slacktest.GeneralID, "/townhall", "archive export slack"); len(p) != 1 || strings.Contains(p[0].Text, "Exporting") {
		t.Fatalf("a member's export answered %v", p)
	}
	for text, want := range map[string]string{
		"":                              "Say which format",
		"pdf":                           "I can't export to `pdf`",
		"mattermost":                    "Say which Mattermost team",
		"mattermost Admin-Team":         "`Admin-Team` is not a Mattermost team name",
		"mattermost community #nosuch":  "The archive has no #nosuch, so nothing is exported.",
		"mattermost community since:03": "`since:03`: write the day as since:YYYY-MM-DD.",
		"slack attachments":             "goes with the Mattermost export only",
		"slack &lt;!here&gt;":           "I don't understand `&amp;lt;!here&amp;gt;` here.",
	} {
		first, _ := exportCommand(t, tb, slacktest.AdminID, text)
		if !strings.Contains(first.Text, want) {
			t.Errorf("export %q answered %q, want %q", text, first.Text, want)
		}
		if want != "The archive has no #nosuch, so nothing is exported." && !strings.Contains(first.Text, "/townhall archive export mattermost TEAM") {
			t.Errorf("export %q answered without the usage: %q", text, first.Text)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("refused exports wrote %v", entries)
	}

	// Mattermost: the answer says where, then that it is written and what next.
	first, done := exportCommand(t, tb, slacktest.AdminID, "mattermost community <#"+slacktest.GeneralID+"|general>")
	if !strings.Contains(first.Text, "Exporting #general as a Mattermost import for team `community` to `"+dir+"/mattermost-community-") {
		t.Errorf("start answered %q", first.Text)
	}
	m := writtenPath.FindStringSubmatch(done.Text)
	if m == nil || !strings.Contains(done.Text, "1 channel, ") || !strings.Contains(done.Text, "1 post and 1 reply") || !strings.Contains(done.Text, "mmctl import upload mattermost-community-") {
		t.Fatalf("end answered %q", done.Text)
	}
	zipped, err := os.ReadFile(m[1])
	if err != nil {
		t.Fatal(err)
	}
	im := validateMattermost(t, zipped)
	p := im.post(t, "minutes")
	if got := *p.Message; got != "Who **minutes** the call? `@channel`" { // inert in a code span
		t.Errorf("post = %q", got)
	}
	if got := replyTexts(p); len(got) != 1 || got[0] != "I will" {
		t.Errorf("replies = %q", got)
	}

	// Slack format, read back by the archive's own import.
	_, done = exportCommand(t, tb, slacktest.AdminID, "slack since:2000-01-01")
	m = writtenPath.FindStringSubmatch(done.Text)
	if m == nil || !strings.Contains(done.Text, "1 channel, 1 day, 2 messages") {
		t.Fatalf("slack export ended with %q", done.Text)
	}
	f, err := os.Open(m[1])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	st, err := archive.Import(t.Context(), openArchive(t), f, fi.Size(), archive.ImportOptions{})
	if err != nil || st.Added != 2 {
		t.Fatalf("import of the export: %+v, %v", st, err)
	}
	if entries, _ := filepath.Glob(filepath.Join(dir, ".export-*")); len(entries) != 0 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}
