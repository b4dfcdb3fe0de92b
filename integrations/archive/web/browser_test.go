package web_test

import (
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/townhall/townhall/integrations/archive"
)

var screenshots = flag.String("screenshots", "", "directory to save the browser test's screenshots in (default: the test's temporary directory)")

// chromium finds Debian's chromium (or CHROMIUM_PATH).
func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("CHROMIUM_PATH"), "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	t.Skip("headless Chromium not found: install Debian's chromium (apt-get install -y chromium) or set CHROMIUM_PATH; .ci/run installs it")
	return ""
}

// TestInABrowser opens the channel list, a day, a thread permalink, the
// thread's own page and a search in headless Chromium and checks what a visitor sees, saving a
// screenshot of each.
func TestInABrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("a real browser is slow; skipped with -short")
	}
	exe := chromium(t)
	srv := server(t, archive.Config{Title: "Townhall archive"})
	dir := *screenshots
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(412, 915), // a phone
	)
	actx, cancel := chromedp.NewExecAllocator(t.Context(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
	defer cancel()

	// step runs one action, failing the test on error.
	step := func(what string, a chromedp.Action[chromedp.Void]) {
		t.Helper()
		if _, err := chromedp.Run(ctx, a); err != nil {
			t.Fatalf("browser: %s: %v", what, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("browser: text of %s: %v", sel, err)
		}
		return s
	}
	eval := func(js string) bool {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
		if err != nil {
			t.Fatalf("browser: %s: %v", js, err)
		}
		return v
	}
	str := func(js string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("browser: %s: %v", js, err)
		}
		return v
	}
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("browser: screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	step("open the archive", chromedp.Navigate(srv.URL+"/"))
	index := text("main")
	shot("channels")

	step("open #general", chromedp.Click(chromedp.CSS(`a[href="/c/general/"]`)))
	step("wait for the days", chromedp.WaitVisible(chromedp.CSS(`a[href="/c/general/2024-03-01"]`)))
	step("open a day", chromedp.Click(chromedp.CSS(`a[href="/c/general/2024-03-01"]`)))
	step("wait for the messages", chromedp.WaitVisible(chromedp.CSS(`ol.messages`)))
	heading := text("h1")
	dirAuto := eval(`[...document.querySelectorAll(".text")].every(e => e.getAttribute("dir") === "auto")`)
	// An Arabic name stays left of its time (it would swap with it if not
	// isolated), and an English mention in Arabic text reads "@admin".
	const arabic = `document.querySelector("#m1709298000000000")`
	nameDir := str(arabic + `.querySelector(".who bdi").textContent + " " + getComputedStyle(` + arabic + `.querySelector(".who bdi")).direction`)
	textDir := str(`getComputedStyle(` + arabic + `.querySelector(".text")).direction`)
	nameBeforeTime := eval(arabic + `.querySelector(".who bdi").getBoundingClientRect().right <= ` + arabic + `.querySelector(".who time").getBoundingClientRect().left`)
	mention := str(arabic + `.querySelector(".mention").textContent + " " + getComputedStyle(` + arabic + `.querySelector(".mention")).direction`)
	atFirst := eval(`(() => { const t = ` + arabic + `.querySelector(".mention").firstChild, r = document.createRange();
		r.setStart(t, 0); r.setEnd(t, 1); const at = r.getBoundingClientRect();
		r.setStart(t, 1); r.setEnd(t, 2); const a = r.getBoundingClientRect();
		return at.right <= a.left + 1; })()`)
	foldedBefore := !eval(`document.querySelector("details").open`)
	shot("day")
	step("unfold the thread", chromedp.Click(chromedp.CSS("summary")))
	openAfter := eval(`document.querySelector("details").open`)
	repliesShown := eval(`document.querySelector("ol.replies").offsetHeight > 0`)
	shot("day-thread-open")

	step("back to #general", chromedp.Navigate(srv.URL+"/c/general/"))
	step("open its month", chromedp.Click(chromedp.CSS(`ul.months a[href="/c/general/2024-03"]`)))
	step("wait for the month's days", chromedp.WaitVisible(chromedp.CSS(`ul.days`)))
	month := text("main")
	shot("month")
	step("open 10 March", chromedp.Click(chromedp.CSS(`a[href="/c/general/2024-03-10"]`)))
	step("wait for the late reply", chromedp.WaitVisible(chromedp.CSS(`ol.later`)))
	lateDay := text("main")
	shot("day-late-reply")
	step("follow it to its thread", chromedp.Click(chromedp.CSS(`ol.later .context a`)))
	step("wait for the thread", chromedp.WaitVisible(chromedp.CSS(`li.msg.focus`)))
	lateFocus := text("li.msg.focus .text")

	step("open a permalink", chromedp.Navigate(srv.URL+"/c/general/p1709284200000000"))
	thread := text("main")
	shot("permalink")

	step("open the thread's page", chromedp.Click(chromedp.CSS(`a[href^="/c/general/t/"]`)))
	step("wait for the thread's page", chromedp.WaitVisible(chromedp.CSS(`article h1`)))
	threadPage := text("main")
	threadTitle := str(`document.title`)
	threadURL := str(`location.pathname`)
	canonical := str(`document.querySelector('link[rel=canonical]').getAttribute('href')`)
	// Readable on a phone: nothing wider than the screen.
	fits := eval(`document.documentElement.scrollWidth <= window.innerWidth`)
	ld := str(`document.querySelector('script[type="application/ld+json"]').textContent`)
	shot("thread-page")

	step("back home", chromedp.Navigate(srv.URL+"/"))
	step("type a search", chromedp.SendKeys(chromedp.CSS("#q"), "reunion"))
	step("submit it", chromedp.Submit(chromedp.CSS("#q")))
	step("wait for results", chromedp.WaitVisible(chromedp.CSS("mark")))
	search := text("main")
	shot("search")

	checks := []struct {
		what, got string
		want      []string
	}{
		{"channel list", index, []string{"#general", "Talk about the community", "8 messages"}},
		{"day heading", heading, []string{"#general"}},
		{"month", month, []string{"March 2024", "Friday 1 March 2024", "Sunday 10 March 2024", "days run from midnight to midnight in UTC"}},
		{"a day with only a late reply", lateDay, []string{"Replies to earlier threads", "Bob Quiet", "replied to a thread from Friday 1 March", "The minutes are up"}},
		{"the late reply in its thread", lateFocus, []string{"The minutes are up"}},
		{"thread permalink", thread, []string{"Friday 1 March 2024", "times in UTC", "I'll bring the agenda", "3 replies", "The réunion is on Friday"}},
		{"search", search, []string{"réunion", "in #general"}},
		{"thread page", threadPage, []string{"The réunion is on Friday, @Bob Quiet", "3 replies", "I'll bring the agenda", "The minutes are up", "#general"}},
		{"thread page's title", threadTitle, []string{"The réunion is on Friday, @Bob Quiet · #general"}},
		{"thread page's address", threadURL + " " + canonical, []string{"/c/general/t/1709283600000000-the-reunion-is-on-friday-bob-quiet /c/general/t/1709283600000000-the-reunion-is-on-friday-bob-quiet"}},
		{"thread page's schema.org data", ld, []string{`"@type":"DiscussionForumPosting"`, `"@type":"Comment"`}},
	}
	for _, c := range checks {
		for _, w := range c.want {
			if !strings.Contains(c.got, w) {
				t.Errorf("%s: a visitor does not see %q in:\n%s", c.what, w, c.got)
			}
		}
	}
	if !foldedBefore || !openAfter || !repliesShown {
		t.Errorf("thread folding: folded at first %v, open after a click %v, replies shown %v", foldedBefore, openAfter, repliesShown)
	}
	if nameDir != "أحمد الخطيب rtl" || textDir != "rtl" || !nameBeforeTime {
		t.Errorf("an Arabic author: name %q, text direction %q, name left of the time %v; want the name isolated (rtl) left of its time", nameDir, textDir, nameBeforeTime)
	}
	if mention != "@admin ltr" || !atFirst {
		t.Errorf(`an English mention in Arabic text: %q, "@" drawn first %v; want "@admin ltr" read left to right`, mention, atFirst)
	}
	if !fits {
		t.Error("the thread page is wider than a phone's screen")
	}
	if !dirAuto {
		t.Error(`a message's text lacks dir="auto"`)
	}
	t.Logf("screenshots in %s", dir)
}
