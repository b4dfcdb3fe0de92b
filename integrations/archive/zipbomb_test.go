package archive_test

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/townhall/townhall/integrations/archive"
)

// The zip-bomb corpus: zips of a few hundred kilobytes built to expand to
// gigabytes, each made here (they are generated, not committed, so their
// sizes can follow the limits). Every one is refused or cut with a report
// that says why, and nothing before the bound is lost.

const channelsJSON = `[{"id": "C1", "name": "general"}]`

// deflated builds a zip of name → content with Deflate (what Slack
// writes), so that repetitive content compresses ~1000:1.
func deflated(t testing.TB, files ...[2]string) *bytes.Reader {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		w, err := zw.Create(f[0])
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, f[1])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(buf.Bytes())
}

// dayOf is a day file of general: one short message, then one whose text
// is n bytes of "a", then one short message.
func dayOf(n int) string {
	return `[{"type": "message", "user": "U1", "text": "before", "ts": "1700000000.000001"},` +
		`{"type": "message", "user": "U1", "text": "` + strings.Repeat("a", n) + `", "ts": "1700000001.000002"},` +
		`{"type": "message", "user": "U1", "text": "after", "ts": "1700000002.000003"}]`
}

func TestImportBoundsAnEntry(t *testing.T) {
	t.Parallel()
	// One 50 MB message: a zip of about 50 KB (the benchmark has 200 MB).
	r := deflated(t, [2]string{"channels.json", channelsJSON}, [2]string{"general/2023-11-14.json", dayOf(50 << 20)})
	if r.Size() > 1<<20 {
		t.Fatalf("the bomb is %d bytes; want a small zip", r.Size())
	}
	a := openArchive(t)
	st, err := archive.Import(t.Context(), a, r, r.Size(), archive.ImportOptions{})
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	if st.Added != 1 || len(st.Malformed) != 1 || !strings.Contains(st.Malformed[0], "an entry is larger than 8MB (TOWNHALL_ARCHIVE_IMPORT_MAX_ENTRY)") {
		t.Fatalf("report = %+v; want the message before kept and the file named as cut at the big entry", st)
	}
}

func TestImportCutsAMessageAtSlacksLimit(t *testing.T) {
	t.Parallel()
	r := deflated(t, [2]string{"channels.json", channelsJSON}, [2]string{"general/2023-11-14.json", dayOf(100_000)})
	a := openArchive(t)
	st, err := archive.Import(t.Context(), a, r, r.Size(), archive.ImportOptions{})
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	if st.Added != 3 || len(st.Malformed) != 0 || !strings.Contains(strings.Join(st.Problems, "\n"),
		"general/2023-11-14.json: message 1700000001.000002: text: longer than Slack's 40,000 characters: cut there") {
		t.Fatalf("report = %+v; want 3 messages, the long one named as cut", st)
	}
	m, _, _ := a.Message(t.Context(), "C1", "1700000001.000002")
	if !strings.HasPrefix(m.Text, strings.Repeat("a", archive.MaxMessageText)+"…") || strings.Contains(m.Text, strings.Repeat("a", archive.MaxMessageText+1)) {
		t.Errorf("the long message is %d bytes, ending %q; want it cut at 40,000 characters and marked", len(m.Text), m.Text[len(m.Text)-60:])
	}
}

func TestImportBoundsAFileAndTheWhole(t *testing.T) {
	t.Parallel()
	// Each day file is 600 KB of small messages.
	day := func(day int) [2]string {
		var b strings.Builder
		b.WriteString("[")
		for i := 0; b.Len() < 600e3; i++ {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `{"type": "message", "user": "U1", "text": "message %d of a long day", "ts": "%d.%06d"}`, i, 1700000000+day*86400+i, i)
		}
		b.WriteString("]")
		return [2]string{fmt.Sprintf("general/2023-11-%02d.json", 14+day), b.String()}
	}
	files := [][2]string{{"channels.json", channelsJSON}}
	for d := range 5 {
		files = append(files, day(d))
	}
	r := deflated(t, files...)

	t.Run("file", func(t *testing.T) {
		t.Parallel()
		st, err := archive.Import(t.Context(), openArchive(t), r, r.Size(), archive.ImportOptions{Limits: archive.ImportLimits{File: 200e3}})
		if err != nil {
			t.Fatalf("import: %v", err)
		}
		if len(st.Malformed) != 5 || !strings.Contains(st.Malformed[0], "it expands to more than 200KB (TOWNHALL_ARCHIVE_IMPORT_MAX_FILE)") || st.Added == 0 {
			t.Fatalf("report: %d added, malformed %q; want each file cut at 200KB, what came before kept", st.Added, st.Malformed)
		}
	})
	t.Run("total", func(t *testing.T) {
		t.Parallel()
		st, err := archive.Import(t.Context(), openArchive(t), r, r.Size(), archive.ImportOptions{Limits: archive.ImportLimits{Total: 2e6}})
		if err == nil || !strings.Contains(err.Error(), "the export expands to more than 2MB (TOWNHALL_ARCHIVE_IMPORT_MAX_BYTES)") {
			t.Fatalf("import: %v; want it stopped at 2MB, naming the variable", err)
		}
		if st.DayFiles != 3 || st.Added == 0 {
			t.Errorf("report = %d day files, %d added; want the 3 files read before the limit kept", st.DayFiles, st.Added)
		}
	})
}

// overlapping builds the zip bomb of overlapping entries
// (https://www.bamsoftware.com/hacks/zipbomb/): one stored day file whose
// data every one of n central-directory entries points at.
func overlapping(t testing.TB, n int) *bytes.Reader {
	t.Helper()
	le := binary.LittleEndian
	var out, cd []byte
	// header is a zip header of a stored file: a local one (sig
	// 0x04034b50) or, with the offset of its local one, a central one.
	header := func(b []byte, central bool, name string, data []byte, offset int) []byte {
		if central {
			b = le.AppendUint32(b, 0x02014b50)
			b = le.AppendUint16(b, 20) // made by
		} else {
			b = le.AppendUint32(b, 0x04034b50)
		}
		b = le.AppendUint16(b, 20) // needed
		b = le.AppendUint16(b, 0)  // flags
		b = le.AppendUint16(b, zip.Store)
		b = le.AppendUint32(b, 0) // time and date
		b = le.AppendUint32(b, crc32.ChecksumIEEE(data))
		b = le.AppendUint32(b, uint32(len(data)))
		b = le.AppendUint32(b, uint32(len(data)))
		b = le.AppendUint16(b, uint16(len(name)))
		b = le.AppendUint16(b, 0) // extra
		if central {
			b = append(b, make([]byte, 10)...) // comment, disk, attributes
			b = le.AppendUint32(b, uint32(offset))
		}
		return append(b, name...)
	}
	channels, day := []byte(channelsJSON), []byte(dayOf(10))
	out = append(header(out, false, "channels.json", channels, 0), channels...)
	dayAt := len(out)
	out = append(header(out, false, "general/2023-11-14.json", day, 0), day...)
	cd = header(cd, true, "channels.json", channels, 0)
	for i := range n {
		cd = header(cd, true, fmt.Sprintf("general/2023-11-%02d.json", 1+i), day, dayAt)
	}
	cdAt := len(out)
	out = append(out, cd...)
	out = le.AppendUint32(out, 0x06054b50)
	out = le.AppendUint32(out, 0) // disks
	out = le.AppendUint16(out, uint16(n+1))
	out = le.AppendUint16(out, uint16(n+1))
	out = le.AppendUint32(out, uint32(len(cd)))
	out = le.AppendUint32(out, uint32(cdAt))
	out = le.AppendUint16(out, 0)
	return bytes.NewReader(out)
}

func TestImportRefusesOverlappingEntries(t *testing.T) {
	t.Parallel()
	r := overlapping(t, 20)
	zr, err := zip.NewReader(r, r.Size())
	if err != nil || len(zr.File) != 21 {
		t.Fatalf("the bomb does not read as a zip of 21 entries: %v", err)
	}
	_, err = archive.Import(t.Context(), openArchive(t), r, r.Size(), archive.ImportOptions{})
	if err == nil || !strings.Contains(err.Error(), "share their data: the zip is built to expand without end (a zip bomb)") {
		t.Fatalf("import: %v; want the overlapping entries refused", err)
	}
}

func TestImportRefusesADuplicateName(t *testing.T) {
	t.Parallel()
	r := deflated(t, [2]string{"channels.json", channelsJSON}, [2]string{"general/2023-11-14.json", dayOf(5)},
		[2]string{"./general/2023-11-14.json", dayOf(6)})
	_, err := archive.Import(t.Context(), openArchive(t), r, r.Size(), archive.ImportOptions{})
	if err == nil || !strings.Contains(err.Error(), "the zip holds general/2023-11-14.json twice") {
		t.Fatalf("import: %v; want the duplicate named", err)
	}
}

func TestImportChecksCRCs(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("channels.json")
	io.WriteString(w, channelsJSON)
	day := []byte(dayOf(5))
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "general/2023-11-14.json", Method: zip.Store,
		CRC32: crc32.ChecksumIEEE(day) ^ 1, CompressedSize64: uint64(len(day)), UncompressedSize64: uint64(len(day))})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(day)
	zw.Close()
	r := bytes.NewReader(buf.Bytes())
	st, err := archive.Import(t.Context(), openArchive(t), r, r.Size(), archive.ImportOptions{})
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	if len(st.Malformed) != 1 || !strings.Contains(st.Malformed[0], "general/2023-11-14.json: the file is damaged: its checksum does not match") {
		t.Fatalf("malformed = %q; want the damaged file named", st.Malformed)
	}
}

// streamed builds a deflated zip whose entries are written piece by
// piece (a head, then body repeated n times, then a tail), so that building
// a bomb never holds what it expands to.
func streamed(b testing.TB, entries ...streamedEntry) *bytes.Reader {
	b.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		w, err := zw.Create(e.name)
		if err != nil {
			b.Fatal(err)
		}
		io.WriteString(w, e.head)
		chunk := []byte(strings.Repeat(e.body, 1<<16/len(e.body)+1))
		for written := 0; written < e.n*len(e.body); written += len(chunk) {
			w.Write(chunk)
		}
		io.WriteString(w, e.tail)
	}
	if err := zw.Close(); err != nil {
		b.Fatal(err)
	}
	return bytes.NewReader(buf.Bytes())
}

type streamedEntry struct {
	name, head, body, tail string
	n                      int
}

// BenchmarkImportZipBombs reports the peak RSS of importing each bomb:
// what the bounds hold them to.
func BenchmarkImportZipBombs(b *testing.B) {
	message := streamedEntry{"general/2023-11-14.json", `[{"type": "message", "user": "U1", "text": "before", "ts": "1700000000.000001"},` +
		`{"type": "message", "user": "U1", "ts": "1700000001.000002", "text": "`, "a", `"}]`, 200 << 20}
	channels := streamedEntry{"channels.json", channelsJSON, " ", "", 1}
	many := []streamedEntry{channels}
	for d := range 20 {
		many = append(many, streamedEntry{fmt.Sprintf("general/2023-11-%02d.json", d+1), "[", " ", "]", 100 << 20})
	}
	bombs := []struct {
		name string
		zip  *bytes.Reader
	}{
		{"one-200MB-message", streamed(b, channels, message)},
		{"20-files-of-100MB", streamed(b, many...)},
		{"overlapping-20", overlapping(b, 20)},
	}
	for _, bomb := range bombs {
		b.Run(bomb.name, func(b *testing.B) {
			a := openArchive(b)
			r := bomb.zip
			for range b.N {
				runtime.GC()
				debug.FreeOSMemory()
				resetPeakRSS()
				_, err := archive.Import(b.Context(), a, r, r.Size(), archive.ImportOptions{})
				if err != nil && !strings.Contains(err.Error(), "zip bomb") {
					b.Fatal(err)
				}
				b.ReportMetric(peakRSS()/(1<<20), "peakRSS-MB")
				b.ReportMetric(float64(r.Size())/1024, "zip-KB")
			}
		})
	}
}
