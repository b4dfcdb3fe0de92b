package archive

import (
	"archive/zip"
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A zip is a few hundred kilobytes that may expand to gigabytes: what an
// export may expand to is bounded while it is read, by the bytes actually
// decompressed (headers can lie), in total, per file and per JSON entry;
// entries whose compressed data overlap (the "overlapping" zip bomb) or
// that share a name are refused before anything is read; every file read
// to its end has its CRC checked.

// Bytes is a size in bytes as configuration writes it: "512MB", "20GB",
// "1.5GiB", "4096". Decimal units are powers of 1000, binary ones of 1024.
type Bytes int64

// Decode reads s (envconfig calls it for TOWNHALL_… variables).
func (b *Bytes) Decode(s string) error {
	s = strings.TrimSpace(s)
	num := strings.TrimRightFunc(s, func(r rune) bool { return r >= 'A' && r <= 'z' })
	unit := strings.ToUpper(strings.TrimSpace(s[len(num):]))
	mult, ok := map[string]float64{"": 1, "B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
		"KIB": 1 << 10, "MIB": 1 << 20, "GIB": 1 << 30, "TIB": 1 << 40}[unit]
	f, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if !ok || err != nil || f < 0 || f*mult > 1<<62 {
		return fmt.Errorf("%q is not a size (write it as 512MB or 20GB)", s)
	}
	*b = Bytes(f * mult)
	return nil
}

// String writes b the way Decode reads it, in the largest decimal unit
// that keeps it exact to a tenth ("512MB", "20GB", "1.5GB").
func (b Bytes) String() string {
	for _, u := range []struct {
		name string
		size float64
	}{{"TB", 1e12}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}} {
		if float64(b) >= u.size {
			return strconv.FormatFloat(float64(b)/u.size, 'f', -1, 64) + u.name
		}
	}
	return strconv.FormatInt(int64(b), 10) + "B"
}

// ImportLimits bound what one import may read. The zero value of a field
// takes its default.
type ImportLimits struct {
	// Total is what the whole export may expand to; beyond it the import
	// stops (what was read stays imported).
	Total Bytes
	// File is what one file of the export may expand to; beyond it the
	// rest of that file is skipped and named in the report.
	File Bytes
	// Entry is the size of one entry of a file (a message, a channel, a
	// user); a larger one ends its file, as File does.
	Entry Bytes
}

// Default import limits: far above any real export (Slack's day files are
// kilobytes to a few megabytes; one message, with its blocks and
// attachments, at most some hundred kilobytes) and far below what would
// exhaust a small host.
const (
	DefaultImportTotal Bytes = 50e9
	DefaultImportFile  Bytes = 1e9
	DefaultImportEntry Bytes = 8e6
)

func (l ImportLimits) withDefaults() ImportLimits {
	return ImportLimits{Total: cmp.Or(l.Total, DefaultImportTotal), File: cmp.Or(l.File, DefaultImportFile),
		Entry: cmp.Or(l.Entry, DefaultImportEntry)}
}

// MaxMessageText is Slack's own limit on a message's text, in characters;
// an imported message beyond it is cut there, and the cut is reported.
const MaxMessageText = 40_000

// cutText cuts s to MaxMessageText characters and marks the cut; ok is
// false when s was cut.
func cutText(s string) (string, bool) {
	if len(s) <= MaxMessageText || utf8.RuneCountInString(s) <= MaxMessageText {
		return s, true
	}
	i, n := 0, 0
	for i = range s {
		if n == MaxMessageText {
			break
		}
		n++
	}
	return s[:i] + "… [cut at 40,000 characters, Slack's limit]", false
}

// errTotalLimit ends an import: the export expands beyond Limits.Total.
type errTotalLimit struct{ limit Bytes }

func (e errTotalLimit) Error() string {
	return fmt.Sprintf("the export expands to more than %s (TOWNHALL_ARCHIVE_IMPORT_MAX_BYTES); nothing after that was read", e.limit)
}

// boundedReader reads one file of an export, counting what it
// decompresses against the file's, the entry's and the export's limits.
type boundedReader struct {
	r       io.Reader
	read    int64  // bytes of this file so far
	total   *int64 // bytes of the whole export so far
	limits  ImportLimits
	entryAt int64 // where the current entry may end: read must stay below
}

func (b *boundedReader) Read(p []byte) (int, error) {
	room, limit := int64(b.limits.File)-b.read, "file"
	if t := int64(b.limits.Total) - *b.total; t < room {
		room, limit = t, "total"
	}
	if b.entryAt > 0 && b.entryAt-b.read < room {
		room, limit = b.entryAt-b.read, "entry"
	}
	if room <= 0 {
		switch limit {
		case "total":
			return 0, errTotalLimit{b.limits.Total}
		case "entry":
			return 0, fmt.Errorf("an entry is larger than %s (TOWNHALL_ARCHIVE_IMPORT_MAX_ENTRY); the rest of the file was skipped", b.limits.Entry)
		}
		return 0, fmt.Errorf("it expands to more than %s (TOWNHALL_ARCHIVE_IMPORT_MAX_FILE); the rest of it was skipped", b.limits.File)
	}
	if int64(len(p)) > room {
		p = p[:room]
	}
	n, err := b.r.Read(p)
	b.read += int64(n)
	*b.total += int64(n)
	if errors.Is(err, zip.ErrChecksum) {
		err = errors.New("the file is damaged: its checksum does not match what the zip says")
	}
	return n, err
}

// startEntry bounds the entry that starts at offset (a json.Decoder's
// InputOffset: what it has consumed, not what it has buffered).
func (b *boundedReader) startEntry(offset int64) { b.entryAt = offset + int64(b.limits.Entry) }

// checkZip refuses a zip whose entries share a name or whose compressed
// data overlap, and returns its files by name ("./" trimmed).
func checkZip(zr *zip.Reader) (map[string]*zip.File, error) {
	files := make(map[string]*zip.File, len(zr.File))
	type span struct {
		name       string
		start, end int64
	}
	spans := make([]span, 0, len(zr.File))
	for _, f := range zr.File {
		name := strings.TrimPrefix(f.Name, "./")
		if _, dup := files[name]; dup {
			return nil, fmt.Errorf("the zip holds %s twice: it is not an export Slack wrote", name)
		}
		files[name] = f
		if f.CompressedSize64 == 0 {
			continue
		}
		off, err := f.DataOffset()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		spans = append(spans, span{name, off, off + int64(f.CompressedSize64)})
	}
	slices.SortFunc(spans, func(x, y span) int { return cmp.Compare(x.start, y.start) })
	for i := 1; i < len(spans); i++ {
		if spans[i].start < spans[i-1].end {
			return nil, fmt.Errorf("%s and %s share their data: the zip is built to expand without end (a zip bomb)", spans[i-1].name, spans[i].name)
		}
	}
	return files, nil
}
