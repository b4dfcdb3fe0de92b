package web_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the zones of the tests, wherever they run

	"github.com/townhall/townhall/integrations/archive"
	"github.com/townhall/townhall/integrations/archive/sqlitearchive"
	"github.com/townhall/townhall/integrations/archive/web"
)

// Seed fills a with two channels, a thread, an Arabic message, a hostile
// message and an opted-out member's message, on 2024-03-01 (UTC).
func seed(t testing.TB, a archive.Archive) {
	t.Helper()
	ctx := t.Context()
	at := func(h, m int) string { return archive.FormatTS(time.Date(2024, 3, 1, h, m, 0, 0, time.UTC)) }
	for _, c := range []archive.Channel{
		{ID: "C1", Name: "general", Topic: "Everything", Purpose: "Talk about the community"},
		{ID: "C2", Name: "hidden-channel"},
	} {
		if err := a.PutChannel(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range []archive.User{
		{ID: "U1", Name: "ada", RealName: "Ada Lovelace"}, {ID: "U2", Name: "bob", RealName: "Bob Quiet"},
		{ID: "U4", Name: "ahmad", RealName: "أحمد الخطيب"}, {ID: "U5", Name: "admin"},
	} {
		if err := a.PutUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.PutMessages(ctx, []archive.Message{
		{Channel: "C1", TS: at(9, 0), ThreadTS: at(9, 0), User: "U1", Text: "The *réunion* is on Friday, <@U2>", Reactions: []archive.Reaction{{Name: "tada", Count: 2}}},
		{Channel: "C1", TS: at(9, 5), ThreadTS: at(9, 0), User: "U2", Text: "I'll bring the agenda and *coffee* :coffee:"},
		{Channel: "C1", TS: at(9, 10), ThreadTS: at(9, 0), User: "U1", Text: "Thanks!", Edited: at(9, 11)},
		{Channel: "C1", TS: at(10, 0), User: "U1", Text: "اجتماع اللجنة غداً"},
		{Channel: "C1", TS: at(11, 0), User: "U1", Text: "&lt;script&gt;alert('x')&lt;/script&gt; <javascript:alert(1)|click>"},
		{Channel: "C1", TS: at(12, 0), User: "U3", Text: "my private thoughts"},
		{Channel: "C1", TS: at(13, 0), User: "U4", Text: "شكراً <@U5> على التنظيم"},
		// A reply nine days later, alone on its day.
		{Channel: "C1", TS: archive.FormatTS(time.Date(2024, 3, 10, 14, 30, 0, 0, time.UTC)), ThreadTS: at(9, 0), User: "U2", Text: "The minutes are up"},
		{Channel: "C2", TS: at(9, 0), User: "U1", Text: "not published"},
	}); err != nil {
		t.Fatal(err)
	}
	if err := a.SetOptOut(ctx, "U3", true); err != nil {
		t.Fatal(err)
	}
}

func server(t testing.TB, cfg archive.Config) *httptest.Server {
	t.Helper()
	return serve(t, cfg, web.Options{})
}

// serve serves the seeded archive with o; o.Now is 2024-03-10 unless set.
func serve(t testing.TB, cfg archive.Config, o web.Options) *httptest.Server {
	t.Helper()
	return serveFilled(t, cfg, o, seed)
}

// serveFilled serves an archive that fill filled.
func serveFilled(t testing.TB, cfg archive.Config, o web.Options, fill func(testing.TB, archive.Archive)) *httptest.Server {
	t.Helper()
	a, err := sqlitearchive.Open(t.Context(), filepath.Join(t.TempDir(), "townhall.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	fill(t, a)
	if o.Now == nil {
		o.Now = func() time.Time { return time.Date(2024, 3, 10, 0, 0, 0, 0, time.UTC) }
	}
	h, err := web.New(cfg, a, o)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func get(t testing.TB, srv *httptest.Server, path string) (*http.Response, string) {
	t.Helper()
	resp, err := srv.Client().Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestPages(t *testing.T) {
	t.Parallel()
	srv := server(t, archive.Config{Title: "Townhall archive", Exclude: []string{"hidden-channel"}, IndexedChannels: []string{"general"}})
	tests := []struct {
		path    string
		status  int
		want    []string
		notWant []string
	}{
		{"/", 200, []string{`<main id="main">`, "#general", "Talk about the community", "8 messages", `href="/c/general/2024-03-10"`, `role="search"`, `<meta name="robots" content="noindex">`}, []string{"hidden-channel"}},
		{"/c/general/", 200, []string{"Friday 1 March 2024", `href="/c/general/2024-03-01"`}, []string{"noindex"}},
		{"/c/general/2024-03-01", 200, []string{
			`The <strong>réunion</strong> is on Friday, <bdi class="mention">@Bob Quiet</bdi>`,
			`<div class="who"><bdi>أحمد الخطيب</bdi> <a href="/c/general/p1709298000000000">`, `شكراً <bdi class="mention">@admin</bdi> على التنظيم`,
			`<summary>3 replies</summary>`, "I&#39;ll bring the agenda", `(edited)`, `dir="auto"`, "🎉 2",
			`اجتماع اللجنة غداً`, "&lt;script&gt;alert(", "hidden at the author's request",
			`href="/c/general/p1709283600000000"`, `<bdi>A member</bdi>`,
		}, []string{"<script>", "my private thoughts", `href="javascript:`, `<bdi>U3</bdi>`}},
		{"/c/general/2024-03-10", 200, []string{
			`<h2 id="later">Replies to earlier threads</h2>`, "Bob Quiet", "14:30", "The minutes are up",
			`replied to <a href="/c/general/p1710081000000000#m1710081000000000">a thread from Friday 1 March</a>`,
			`href="/c/general/2024-03-01" rel="prev"`,
		}, []string{"No messages that day", "The <strong>réunion</strong>"}},
		{"/c/general/", 200, []string{`href="/c/general/2024-03-10"`, "Sunday 10 March 2024"}, nil},
		{"/c/general/p1709284200000000", 200, []string{"I&#39;ll bring the agenda", `class="msg focus"`, "3 replies", "The <strong>réunion</strong>"}, nil},
		{"/c/general/p1709283600000000", 200, []string{"3 replies", "Thanks!"}, nil},
		{"/c/general/p1", 404, []string{"not a message link"}, nil},
		{"/c/general/p1709290000000000", 404, []string{"not in the archive"}, nil},
		{"/c/general/2024-02-30", 404, nil, nil},
		{"/c/general/2024-02-01", 404, []string{"No messages that day"}, nil},
		{"/c/hidden-channel/", 404, nil, []string{"not published"}},
		{"/c/nope/2024-03-01", 404, nil, nil},
		{"/search?q=reunion", 200, []string{"The <strong><mark>réunion</mark></strong> is on Friday, <bdi class=\"mention\">@Bob Quiet</bdi>",
			"in <bdi>#general</bdi>", "noindex", "<strong>1 result</strong> · <span class=\"zone\">times in UTC</span>",
			`<time datetime="2024-03-01T09:00:00Z">1 March 2024, 09:00</time>`}, []string{"*réunion*", ">2024-03-01T09:00:00Z<"}},
		{"/search?q=coffee", 200, []string{`<strong><mark>coffee</mark></strong> <span class="emoji" role="img" aria-label="coffee">☕</span>`, "1 result"}, []string{":coffee:"}},
		{"/search?q=not+published", 200, []string{"Nothing matches"}, nil},
		{"/search?q=thoughts", 200, []string{"Nothing matches"}, nil},
		{"/search?q=اللجنة&sort=newest", 200, []string{"<mark>اللجنة</mark>", "Newest first"}, nil},
		{"/search?q=before:soon", 200, []string{`role="alert"`, "before:soon is not a date"}, nil},
		{"/about", 200, []string{"/townhall archive optout", "Remove from archive", "never stored"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			resp, body := get(t, srv, tt.path)
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d\n%s", resp.StatusCode, tt.status, body)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %q:\n%s", w, body)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(body, w) {
					t.Errorf("page has %q", w)
				}
			}
			if resp.StatusCode == 200 && resp.Header.Get("Cache-Control") == "" {
				t.Error("no Cache-Control")
			}
		})
	}
}

func TestRobotsAndHeaders(t *testing.T) {
	t.Parallel()
	srv := server(t, archive.Config{IndexedChannels: []string{"general", "hidden-channel"}, Exclude: []string{"hidden-channel"}})
	_, body := get(t, srv, "/robots.txt")
	if want := "User-agent: *\nAllow: /c/general/\nAllow: /style.css\nDisallow: /\n"; body != want {
		t.Errorf("robots.txt = %q, want %q", body, want)
	}
	resp, _ := get(t, srv, "/c/general/2024-03-01")
	if resp.Header.Get("X-Robots-Tag") != "" || !strings.Contains(resp.Header.Get("Cache-Control"), "max-age=3600") {
		t.Errorf("headers = %v", resp.Header)
	}
	resp, _ = get(t, srv, "/search?q=x")
	if resp.Header.Get("X-Robots-Tag") != "noindex" || resp.Header.Get("Content-Security-Policy") == "" {
		t.Errorf("search headers = %v", resp.Header)
	}
	resp, css := get(t, srv, "/style.css")
	if resp.StatusCode != 200 || !strings.Contains(css, "prefers-color-scheme") {
		t.Errorf("style.css = %d", resp.StatusCode)
	}
}

// TestTimeZone serves the archive in New York, where 10 March 2024 is the
// first day of summer time: days are cut at New York's midnight, each page
// names the zone, and a reply from a later day shows its date.
func TestTimeZone(t *testing.T) {
	t.Parallel()
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	srv := serve(t, archive.Config{}, web.Options{Location: ny})
	tests := []struct {
		path    string
		want    []string
		notWant []string
	}{
		{"/c/general/", []string{"Days run from midnight to midnight in America/New_York."}, nil},
		{"/c/general/2024-03-01", []string{"Friday 1 March 2024 · <span class=\"zone\">times in America/New_York (UTC-5)</span>",
			`<time datetime="2024-03-01T04:00:00-05:00">04:00</time>`,
			`<time datetime="2024-03-10T10:30:00-04:00">10 March, 10:30</time>`}, nil},
		{"/c/general/2024-03-10", []string{"times in America/New_York (UTC-4)", `<time datetime="2024-03-10T10:30:00-04:00">10:30</time>`}, []string{"10 March, 10:30"}},
		{"/c/general/p1710081000000000", []string{`<time datetime="2024-03-01">Friday 1 March 2024</time>`, "times in America/New_York (UTC-5)",
			`class="msg focus"`, "10 March, 10:30"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			resp, body := get(t, srv, tt.path)
			if resp.StatusCode != 200 {
				t.Fatalf("status = %d\n%s", resp.StatusCode, body)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %q:\n%s", w, body)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(body, w) {
					t.Errorf("page has %q", w)
				}
			}
		})
	}
}

// TestMonths checks that a channel's older days are reached by month: a
// message a day from 1 November 2023 to 8 February 2024, and one in June
// 2022.
func TestMonths(t *testing.T) {
	t.Parallel()
	srv := serveFilled(t, archive.Config{}, web.Options{}, func(t testing.TB, a archive.Archive) {
		if err := a.PutChannel(t.Context(), archive.Channel{ID: "C9", Name: "history"}); err != nil {
			t.Fatal(err)
		}
		ms := []archive.Message{{Channel: "C9", TS: archive.FormatTS(time.Date(2022, 6, 15, 8, 0, 0, 0, time.UTC)), Text: "long ago"}}
		for d := time.Date(2023, 11, 1, 10, 0, 0, 0, time.UTC); d.Before(time.Date(2024, 2, 9, 0, 0, 0, 0, time.UTC)); d = d.AddDate(0, 0, 1) {
			ms = append(ms, archive.Message{Channel: "C9", TS: archive.FormatTS(d), Text: "day " + d.Format("2006-01-02")})
		}
		if _, err := a.PutMessages(t.Context(), ms); err != nil {
			t.Fatal(err)
		}
	})
	tests := []struct {
		path    string
		status  int
		want    []string
		notWant []string
	}{
		{"/c/history/", 200, []string{
			`href="/c/history/2024-02-08"`, `href="/c/history/2023-12-11"`, // the newest 60 days
			`<h2 id="months">Every month</h2>`,
			`<li><strong>2024</strong> <a href="/c/history/2024-01">January</a> <a href="/c/history/2024-02">February</a></li>`,
			`<li><strong>2023</strong> <a href="/c/history/2023-11">November</a> <a href="/c/history/2023-12">December</a></li>`,
			`<li><strong>2022</strong> <a href="/c/history/2022-06">June</a></li>`,
		}, []string{`href="/c/history/2023-12-10"`, `href="/c/history/2022-06-15"`}},
		{"/c/history/2023-11", 200, []string{
			"November 2023", `href="/c/history/2023-11-01">Wednesday 1 November 2023`, `href="/c/history/2023-11-30"`,
			`href="/c/history/2022-06" rel="prev">← June 2022`, `href="/c/history/2023-12" rel="next">December 2023 →`,
			"days run from midnight to midnight in UTC",
		}, []string{`href="/c/history/2023-12-01"`, `href="/c/history/2023-10-31"`}},
		{"/c/history/2022-06", 200, []string{`href="/c/history/2022-06-15"`, `rel="next">November 2023 →`}, []string{`rel="prev"`}},
		{"/c/history/2024-02", 200, []string{`href="/c/history/2024-02-08"`}, []string{`rel="next"`}},
		{"/c/history/2023-05", 404, []string{"No messages that month", `rel="prev">← June 2022`}, nil},
		{"/c/history/2023-13", 404, []string{"Pages of a channel are months"}, nil},
		{"/c/history/2023-11-05", 200, []string{"day 2023-11-05", `<a href="/c/history/2023-11">November 2023</a>`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			resp, body := get(t, srv, tt.path)
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d\n%s", resp.StatusCode, tt.status, body)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %q:\n%s", w, body)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(body, w) {
					t.Errorf("page has %q", w)
				}
			}
		})
	}
}

// TestGzip checks that text responses are gzipped for a client that
// accepts it, and only then.
func TestGzip(t *testing.T) {
	t.Parallel()
	srv := server(t, archive.Config{})
	fetch := func(path, acceptEncoding string) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if acceptEncoding != "" {
			req.Header.Set("Accept-Encoding", acceptEncoding) // set by hand: the client then leaves the body as it came
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, b
	}
	for _, tt := range []struct {
		path, accept string
		gzipped      bool
		want         string
	}{
		{"/c/general/2024-03-01", "gzip, deflate, br", true, "The <strong>réunion</strong>"},
		{"/c/general/2024-03-01", "br;q=1.0, gzip;q=0.8", true, "The <strong>réunion</strong>"},
		{"/c/general/2024-03-01", "gzip;q=0", false, "The <strong>réunion</strong>"},
		{"/c/general/2024-03-01", "identity", false, "The <strong>réunion</strong>"},
		{"/style.css", "gzip", true, "prefers-color-scheme"},
		{"/search?q=reunion", "gzip", true, "<mark>réunion</mark>"},
		{"/robots.txt", "*", true, "User-agent: *"},
		{"/c/nope/", "gzip", true, "no published channel"},
	} {
		resp, body := fetch(tt.path, tt.accept)
		if got := resp.Header.Get("Content-Encoding") == "gzip"; got != tt.gzipped {
			t.Errorf("%s with Accept-Encoding %q: Content-Encoding %q, want gzip %v", tt.path, tt.accept, resp.Header.Get("Content-Encoding"), tt.gzipped)
			continue
		}
		if !strings.Contains(resp.Header.Get("Vary"), "Accept-Encoding") {
			t.Errorf("%s: Vary = %q", tt.path, resp.Header.Get("Vary"))
		}
		if cl := resp.Header.Get("Content-Length"); cl != "" && cl != strconv.Itoa(len(body)) {
			t.Errorf("%s: Content-Length %s on a body of %d bytes", tt.path, cl, len(body))
		}
		if tt.gzipped {
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatalf("%s: %v", tt.path, err)
			}
			if body, err = io.ReadAll(zr); err != nil {
				t.Fatalf("%s: %v", tt.path, err)
			}
		}
		if !strings.Contains(string(body), tt.want) {
			t.Errorf("%s: body lacks %q", tt.path, tt.want)
		}
	}
}
