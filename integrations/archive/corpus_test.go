package archive_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/townhall/townhall/integrations/archive"
	"github.com/townhall/townhall/integrations/integrationtest"
)

// The corpus (testdata/corpus, see its SOURCES) holds real exports that
// projects published, as folders; each is zipped as Slack would and
// imported. What the test expects is read from the files themselves with
// a generic JSON reader, not with the importer's types, so the two cannot
// agree by construction.

// corpusExports lists the corpus's exports (integrationtest.Corpus):
// folders with a channels.json, as paths.
func corpusExports(t *testing.T) []string {
	t.Helper()
	root := integrationtest.Corpus(t, "archive")
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join(root, e.Name(), "channels.json")); err == nil {
			out = append(out, filepath.Join(root, e.Name()))
		}
	}
	if len(out) < 3 {
		t.Fatalf("corpus has %d exports; want the real samples listed in SOURCES", len(out))
	}
	return out
}

// zipDir zips a folder the way Slack's export does (paths relative to it).
func zipDir(t testing.TB, dir string) *bytes.Reader {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		w, err := zw.Create(filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	})
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(buf.Bytes())
}

// expected is what an export holds, read generically.
type expected struct {
	public   map[string]string            // folder → channel ID
	messages map[string]map[string]string // channel ID → ts → text
	private  []string                     // texts of messages in folders that are not public channels
}

var tsPattern = regexp.MustCompile(`^\d{9,10}\.\d{1,6}$`)

func readExpected(t *testing.T, dir string) expected {
	t.Helper()
	ex := expected{public: map[string]string{}, messages: map[string]map[string]string{}}
	privateIDs := map[string]bool{}
	for _, list := range []string{"groups.json", "dms.json", "mpims.json"} {
		var cs []map[string]any
		if b, err := os.ReadFile(filepath.Join(dir, list)); err == nil && json.Unmarshal(b, &cs) == nil {
			for _, c := range cs {
				privateIDs[str(c["id"])], privateIDs[str(c["name"])] = true, true
			}
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "channels.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cs []map[string]any
	if err := json.Unmarshal(b, &cs); err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		id, name := str(c["id"]), str(c["name"])
		if !strings.HasPrefix(id, "C") || privateIDs[id] || privateIDs[name] || str(c["is_private"]) == "true" {
			continue
		}
		ex.public[name], ex.public[id] = id, id
	}
	days, _ := filepath.Glob(filepath.Join(dir, "*", "*.json"))
	for _, day := range days {
		folder := filepath.Base(filepath.Dir(day))
		b, err := os.ReadFile(day)
		if err != nil {
			t.Fatal(err)
		}
		var ms []map[string]any
		if err := json.Unmarshal(b, &ms); err != nil {
			t.Fatalf("%s: %v", day, err)
		}
		id, public := ex.public[folder]
		for _, m := range ms {
			ts := str(m["ts"])
			if !tsPattern.MatchString(ts) {
				continue
			}
			if !public {
				ex.private = append(ex.private, str(m["text"]))
				continue
			}
			if ex.messages[id] == nil {
				ex.messages[id] = map[string]string{}
			}
			ex.messages[id][ts] = str(m["text"])
		}
	}
	return ex
}

// str is a JSON value as text: strings as they are, numbers and booleans
// spelled out.
func str(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case nil:
		return ""
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}

var wordPattern = regexp.MustCompile(`^\pL{6,}$`)

// searchWord is a word of text worth searching for: its longest plain
// word, outside links, mentions and emoji codes.
func searchWord(text string) string {
	text = regexp.MustCompile(`<[^>]*>|:[a-z0-9_+-]+:|&[a-z]+;`).ReplaceAllString(text, " ")
	var words []string
	for _, w := range strings.FieldsFunc(text, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if wordPattern.MatchString(w) {
			words = append(words, w)
		}
	}
	slices.SortStableFunc(words, func(a, b string) int { return len([]rune(b)) - len([]rune(a)) })
	if len(words) == 0 {
		return ""
	}
	return words[0]
}

func TestCorpusExportsImport(t *testing.T) {
	t.Parallel()
	for _, dir := range corpusExports(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			t.Parallel()
			ex := readExpected(t, dir)
			want := 0
			for _, ms := range ex.messages {
				want += len(ms)
			}
			a := openArchive(t)
			ctx := t.Context()
			r := zipDir(t, dir)
			st, err := archive.Import(ctx, a, r, r.Size(), archive.ImportOptions{})
			if err != nil {
				t.Fatalf("import: %v", err)
			}
			t.Logf("report: %+v", st)
			if len(st.Malformed) > 0 {
				t.Errorf("malformed files in a real export: %q", st.Malformed)
			}
			if st.Added != want {
				t.Errorf("added %d messages; the export holds %d in public channels", st.Added, want)
			}
			stats, err := a.Stats(ctx)
			if err != nil || stats.Messages != want {
				t.Errorf("archive holds %d messages (%v); want %d", stats.Messages, err, want)
			}
			again, err := archive.Import(ctx, a, r, r.Size(), archive.ImportOptions{})
			if err != nil || again.Added != 0 {
				t.Errorf("second import added %d (%v); want 0", again.Added, err)
			}

			// Every channel's messages are there, with their text, and a
			// word of one of them finds it.
			for id, ms := range ex.messages {
				c, ok, err := a.Channel(ctx, id)
				if err != nil || !ok {
					t.Fatalf("channel %s missing (%v)", id, err)
				}
				if c.Messages != len(ms) {
					t.Errorf("#%s holds %d messages; the export has %d", c.Name, c.Messages, len(ms))
				}
				searched := false
				for _, ts := range slices.Sorted(maps.Keys(ms)) {
					m, ok, err := a.Message(ctx, id, normTS(t, ts))
					if err != nil || !ok {
						t.Fatalf("#%s %s missing (%v)", c.Name, ts, err)
					}
					if ms[ts] != "" && m.Text != ms[ts] && !strings.Contains(m.Text, ms[ts]) {
						t.Errorf("#%s %s text = %q; export has %q", c.Name, ts, m.Text, ms[ts])
					}
					w := searchWord(ms[ts])
					if searched || w == "" {
						continue
					}
					searched = true
					q, err := archive.ParseQuery("in:#"+c.Name+" "+w, time.UTC)
					if err != nil {
						t.Fatal(err)
					}
					q.Limit = 200
					res, err := a.Search(ctx, q)
					if err != nil {
						t.Fatal(err)
					}
					if !slices.ContainsFunc(res.Hits, func(h archive.Hit) bool { return h.TS == m.TS }) {
						t.Errorf("search %q finds %d messages, not %s (%q)", "in:#"+c.Name+" "+w, len(res.Hits), ts, ms[ts])
					}
				}
			}

			// Nothing private was imported, and no search finds it.
			for _, m := range dump(t, a) {
				for _, p := range ex.private {
					if p != "" && m.Text == p {
						t.Fatalf("a private message was imported: %q", p)
					}
				}
			}
			for _, p := range ex.private {
				w := searchWord(p)
				if w == "" {
					continue
				}
				q, err := archive.ParseQuery(w, time.UTC)
				if err != nil {
					t.Fatal(err)
				}
				res, err := a.Search(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				for _, h := range res.Hits {
					if h.Text == p {
						t.Fatalf("search %q finds the private message %q", w, p)
					}
				}
			}
		})
	}
}

func normTS(t *testing.T, ts string) string {
	t.Helper()
	n, err := archive.NormalizeTS(ts)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
