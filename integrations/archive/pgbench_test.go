package archive_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/townhall/townhall/integrations/archive"
	"github.com/townhall/townhall/integrations/archive/pgarchive"
	"github.com/townhall/townhall/store/postgres"
)

// BenchmarkArchivePostgres is BenchmarkArchive on PostgreSQL
// (TOWNHALL_TEST_DATABASE_URL, in a schema of its own): the import of the
// generated export of 1,000,000 messages (ARCHIVE_BENCH_MESSAGES), then
// search latencies, Arabic among them, and day pages over it. Issue #11's
// goals: import at 20,000 messages/s or more, every search's p95 under
// 50 ms. Besides wall time it reports CPU time, the app's and PostgreSQL's
// (on this machine), which a busy machine disturbs less.
// ARCHIVE_BENCH_KEEP_SCHEMA=1 keeps the schema, to EXPLAIN its queries.
func BenchmarkArchivePostgres(b *testing.B) {
	dsn := benchSchema(b)
	cpu := newServerCPU(b, dsn)
	n := benchMessages()
	dir := b.TempDir()
	zpath := filepath.Join(dir, "export.zip")
	genExport(b, zpath, n)
	a, err := pgarchive.Open(b.Context(), dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()

	b.Run("import", func(b *testing.B) {
		for range b.N {
			f, err := os.Open(zpath)
			if err != nil {
				b.Fatal(err)
			}
			fi, _ := f.Stat()
			resetPeakRSS()
			start, app, server := time.Now(), cpuTime(), cpu.used()
			st, err := archive.Import(b.Context(), a, f, fi.Size(), archive.ImportOptions{})
			f.Close()
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(st.Messages)/time.Since(start).Seconds(), "msgs/s")
			b.ReportMetric(peakRSS()/(1<<20), "peakRSS-MB")
			// CPU time is steadier than wall time on a shared machine.
			b.ReportMetric(float64((cpuTime()-app).Microseconds())/float64(st.Messages), "app-cpu-us/msg")
			b.ReportMetric(float64((cpu.used()-server).Microseconds())/float64(st.Messages), "db-cpu-us/msg")
		}
	})
	// The channels' counters, kept by concurrent transactions, add up.
	if s, err := a.Stats(b.Context()); err != nil || s.Messages != n {
		b.Fatalf("Stats: %d messages (%v); want %d", s.Messages, err, n)
	}
	// Fresh statistics, as autovacuum would gather soon after an import.
	if err := analyze(b.Context(), dsn); err != nil {
		b.Fatal(err)
	}

	queries := map[string]string{
		"word":     "festival",
		"phrase":   `"budget report"`,
		"filtered": "lunch in:#channel-42 after:2022-01-10",
		"chinese":  "会议",
		"arabic":   "اللجنة", // "the committee": found as اللجنة and as لجنة's other forms
		"rare":     "w40000",
	}
	for name, q := range queries {
		b.Run("search-"+name, func(b *testing.B) {
			parsed, err := archive.ParseQuery(q, time.UTC)
			if err != nil {
				b.Fatal(err)
			}
			var lat []time.Duration
			server := cpu.used()
			for b.Loop() {
				for range latencySamples {
					start := time.Now()
					if _, err := a.Search(b.Context(), parsed); err != nil {
						b.Fatal(err)
					}
					lat = append(lat, time.Since(start))
				}
			}
			reportP95(b, lat)
			b.ReportMetric(float64((cpu.used()-server).Microseconds())/1000/float64(len(lat)), "db-cpu-ms/search")
		})
	}

	b.Run("day-page", func(b *testing.B) { benchDayPage(b, a) })
}

// benchTestURL is the PostgreSQL the benchmarks use:
// TOWNHALL_TEST_DATABASE_URL, or the project's local one.
func benchTestURL() string {
	if u := os.Getenv("TOWNHALL_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// benchSchema creates a schema of its own for one benchmark and returns a
// URL whose connections use it; it is dropped when the benchmark ends.
// Without a PostgreSQL the benchmark is skipped, unless
// TOWNHALL_TEST_REQUIRE_POSTGRES is set.
func benchSchema(b testing.TB) string {
	b.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, benchTestURL())
	if err != nil {
		if os.Getenv("TOWNHALL_TEST_REQUIRE_POSTGRES") != "" {
			b.Fatalf("PostgreSQL at %s: %v", postgres.Redact(benchTestURL()), err)
		}
		b.Skipf("no PostgreSQL at %s (set TOWNHALL_TEST_DATABASE_URL, or TOWNHALL_TEST_REQUIRE_POSTGRES=1 to fail): %v", postgres.Redact(benchTestURL()), err)
	}
	defer conn.Close(ctx)
	r := make([]byte, 6)
	rand.Read(r)
	schema := "archivebench_" + hex.EncodeToString(r)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if os.Getenv("ARCHIVE_BENCH_KEEP_SCHEMA") != "" {
			b.Logf("kept schema %s", schema)
			return
		}
		conn, err := pgx.Connect(context.Background(), benchTestURL())
		if err == nil {
			conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			conn.Close(context.Background())
		}
	})
	u, err := url.Parse(benchTestURL())
	if err != nil {
		b.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	q.Set("application_name", schema) // serverCPU finds its connections by it
	u.RawQuery = q.Encode()
	return u.String()
}

// analyze updates the planner's statistics of the archive's tables.
func analyze(ctx context.Context, dsn string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "ANALYZE archive_messages, archive_channels, archive_users")
	return err
}

// serverCPU measures the CPU time PostgreSQL spends on a benchmark's
// connections (those whose application_name is the benchmark's schema),
// from /proc (Linux, with the server on this machine; 0 otherwise).
type serverCPU struct {
	b    testing.TB
	conn *pgx.Conn
	app  string
}

func newServerCPU(b testing.TB, dsn string) *serverCPU {
	u, err := url.Parse(dsn)
	if err != nil {
		b.Fatal(err)
	}
	conn, err := pgx.Connect(b.Context(), dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close(context.Background()) })
	return &serverCPU{b: b, conn: conn, app: u.Query().Get("application_name")}
}

// used is the CPU time of the benchmark's server processes so far.
func (c *serverCPU) used() time.Duration {
	rows, err := c.conn.Query(context.Background(), `SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()`, c.app)
	if err != nil {
		c.b.Fatal(err)
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		c.b.Fatal(err)
	}
	var total time.Duration
	for _, pid := range pids {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue // another machine's server, or gone
		}
		// Fields after the command's closing parenthesis: utime and stime
		// are the 12th and 13th, in clock ticks (100 a second on Linux).
		f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(f) < 13 {
			continue
		}
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		total += time.Duration(ut+st) * 10 * time.Millisecond
	}
	return total
}
