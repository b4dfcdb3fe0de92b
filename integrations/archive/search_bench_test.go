package archive_test

import (
	"fmt"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/townhall/townhall/integrations/archive"
	"github.com/townhall/townhall/integrations/archive/sqlitearchive"
	"github.com/townhall/townhall/integrations/archive/web"
)

// searchBenchMessages is the size of the archive the search benchmarks
// run on: 100,000 messages by default, ARCHIVE_SEARCH_BENCH_MESSAGES to
// change it.
func searchBenchMessages() int {
	if n, err := strconv.Atoi(os.Getenv("ARCHIVE_SEARCH_BENCH_MESSAGES")); err == nil && n > 0 {
		return n
	}
	return 100_000
}

// hostileQueries are searches built to be slow: many short prefixes, one
// very short prefix, many distinct prefixes and many common words, each up
// to the 1,000 bytes a query may have.
func hostileQueries() map[string]string {
	fill := func(next func(k int) string) string {
		var b strings.Builder
		for k := 0; ; k++ {
			w := next(k)
			if b.Len()+len(w)+1 > 1000 {
				return b.String()
			}
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(w)
		}
	}
	return map[string]string{
		"prefix-one-letter":     "w*",
		"prefixes-repeated":     fill(func(k int) string { return fmt.Sprintf("w%d*", k%9+1) }),
		"prefixes-distinct":     fill(func(k int) string { return fmt.Sprintf("w%d*", k+10) }),
		"common-words-many":     fill(func(k int) string { return fmt.Sprintf("w%d", k) }),
		"prefixes-newest-first": fill(func(k int) string { return fmt.Sprintf("w%d*", k%9+1) }),
	}
}

// openBenchArchive imports a generated export of n messages into a fresh
// archive.
func openBenchArchive(b *testing.B, n int) *sqlitearchive.Archive {
	b.Helper()
	dir := b.TempDir()
	zpath := filepath.Join(dir, "export.zip")
	genExport(b, zpath, n)
	a, err := sqlitearchive.Open(b.Context(), filepath.Join(dir, "townhall.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { a.Close() })
	f, err := os.Open(zpath)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	if _, err := archive.Import(b.Context(), a, f, fi.Size(), archive.ImportOptions{}); err != nil {
		b.Fatal(err)
	}
	return a
}

// BenchmarkSearch measures searches over a generated archive of 100,000
// messages: common words (the most frequent word is in two messages of
// three), hostile searches through the web archive (each must answer,
// with results or with "too broad", within the 2 s limit: max-ms), and a
// day page while 20 hostile searches run (p95-ms must stay under 50).
func BenchmarkSearch(b *testing.B) {
	a := openBenchArchive(b, searchBenchMessages())
	h, err := web.New(archive.Config{}, a, web.Options{})
	if err != nil {
		b.Fatal(err)
	}

	common := map[string]string{
		"common-word":        "w0",
		"common-word-newest": "w0",
		"common-two-words":   "w0 w1",
		"common-word-in":     "w0 in:#channel-7",
	}
	for name, q := range common {
		b.Run(name, func(b *testing.B) {
			parsed, err := archive.ParseQuery(q, time.UTC)
			if err != nil {
				b.Fatal(err)
			}
			parsed.Newest = strings.HasSuffix(name, "-newest")
			var lat []time.Duration
			cpu0 := cpuTime()
			for b.Loop() {
				for range latencySamples / 5 {
					start := time.Now()
					if _, err := a.Search(b.Context(), parsed); err != nil {
						b.Fatal(err)
					}
					lat = append(lat, time.Since(start))
				}
			}
			reportP95(b, lat)
			// CPU time is steadier than latency on a shared machine.
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(len(lat)), "cpu-ms/search")
		})
	}

	search := func(b *testing.B, q, client string, newest bool) (int, time.Duration) {
		path := "/search?q=" + url.QueryEscape(q)
		if newest {
			path += "&sort=newest"
		}
		req := httptest.NewRequest("GET", path, nil)
		req.RemoteAddr = client + ":40000"
		rec := httptest.NewRecorder()
		start := time.Now()
		h.ServeHTTP(rec, req)
		return rec.Code, time.Since(start)
	}

	for name, q := range hostileQueries() {
		b.Run("hostile-"+name, func(b *testing.B) {
			var worst time.Duration
			for b.Loop() {
				code, d := search(b, q, "10.0.0.1", strings.HasSuffix(name, "-newest-first"))
				if code >= 500 && code != 503 {
					b.Fatalf("search %q: status %d", q, code)
				}
				worst = max(worst, d)
			}
			b.ReportMetric(float64(worst.Microseconds())/1000, "max-ms")
		})
	}

	dayPages := func(b *testing.B) {
		var lat []time.Duration
		k := 0
		for b.Loop() {
			for range latencySamples {
				k++
				path := fmt.Sprintf("/c/channel-%d/2022-01-01", k%benchChannels)
				rec := httptest.NewRecorder()
				start := time.Now()
				h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
				lat = append(lat, time.Since(start))
				if rec.Code != 200 {
					b.Fatalf("%s: %d", path, rec.Code)
				}
			}
		}
		reportP95(b, lat)
	}
	b.Run("day-page-quiet", dayPages)
	b.Run("day-page-during-20-hostile-searches", func(b *testing.B) {
		stop := make(chan struct{})
		var wg sync.WaitGroup
		queries := hostileQueries()
		var mu sync.Mutex
		var worst time.Duration
		for k := range 20 {
			wg.Go(func() {
				client := fmt.Sprintf("10.0.1.%d", k)
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					q := queries[[]string{"prefixes-repeated", "prefixes-distinct", "prefix-one-letter", "common-words-many"}[(k+i)%4]]
					code, d := search(b, q, client, k%2 == 0)
					if code >= 500 && code != 503 {
						b.Errorf("search: status %d", code)
					}
					mu.Lock()
					worst = max(worst, d)
					mu.Unlock()
				}
			})
		}
		dayPages(b)
		close(stop)
		wg.Wait()
		b.ReportMetric(float64(worst.Microseconds())/1000, "search-max-ms")
	})
}

// cpuTime is the CPU time the process has used (user and system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
