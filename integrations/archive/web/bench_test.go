package web_test

import (
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/townhall/townhall/integrations/archive"
	"github.com/townhall/townhall/integrations/archive/web"
)

// BenchmarkChannelPages serves the pages of a channel with ten years of
// history (a message every six hours): the channel page walks its 60
// newest days and its 120 months, a month page its days.
func BenchmarkChannelPages(b *testing.B) {
	srv := serveFilled(b, archive.Config{}, web.Options{}, func(b testing.TB, a archive.Archive) {
		if err := a.PutChannel(b.Context(), archive.Channel{ID: "C9", Name: "history"}); err != nil {
			b.Fatal(err)
		}
		var ms []archive.Message
		for t := time.Date(2015, 1, 1, 3, 0, 0, 0, time.UTC); t.Year() < 2025; t = t.Add(6 * time.Hour) {
			ms = append(ms, archive.Message{Channel: "C9", TS: archive.FormatTS(t), User: "U1", Text: "a message of the day"})
		}
		if _, err := a.PutMessages(b.Context(), ms); err != nil {
			b.Fatal(err)
		}
	})
	for _, path := range []string{"/c/history/", "/c/history/2019-06", "/c/history/2019-06-15"} {
		b.Run(path, func(b *testing.B) {
			start := time.Now()
			for b.Loop() {
				resp, err := srv.Client().Get(srv.URL + path)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("%s: %d", path, resp.StatusCode)
				}
			}
			b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(b.N), "ms/page")
			plain, gz := pageSizes(b, srv.URL+path)
			b.ReportMetric(float64(plain), "bytes")
			b.ReportMetric(float64(gz), "gzip-bytes")
		})
	}
}

// pageSizes fetches url as is and gzipped, and returns the two sizes.
func pageSizes(b *testing.B, url string) (plain, gzipped int) {
	for i, enc := range []string{"identity", "gzip"} {
		req, err := http.NewRequestWithContext(b.Context(), http.MethodGet, url, nil)
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Accept-Encoding", enc)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if i == 0 {
			plain = len(body)
		} else {
			gzipped = len(body)
		}
	}
	return plain, gzipped
}
