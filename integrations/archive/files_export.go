package archive

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"
)

// exportUploadsDir is where a Slack export that includes files keeps them:
// __uploads/<file ID>/<name>, beside the channels' folders.
const exportUploadsDir = "__uploads/"

// exportFiles collects the IDs of the exported messages' files, in order.
type exportFiles struct {
	seen map[string]bool
	ids  []string
}

func (e *exportFiles) note(m Message) {
	for _, f := range m.Files {
		if f.ID == "" || e.seen[f.ID] {
			continue
		}
		if e.seen == nil {
			e.seen = map[string]bool{}
		}
		e.seen[f.ID] = true
		e.ids = append(e.ids, f.ID)
	}
}

// write copies the kept files (ExportOptions.Files) of the noted messages
// into the zip; a file not kept stays a link.
func (e *exportFiles) write(ctx context.Context, a Archive, zw *zip.Writer, blobs Blobs, st *ExportStats) error {
	idx, ok := a.(FileIndex)
	if blobs.Dir == "" || !ok {
		return nil
	}
	for _, id := range e.ids {
		if err := ctx.Err(); err != nil {
			return err
		}
		rec, ok, err := idx.StoredFile(ctx, id)
		if err != nil {
			return fmt.Errorf("archive: export: file %s: %w", id, err)
		}
		if !ok || rec.Status != FileStored {
			continue
		}
		src, err := blobs.Open(rec.SHA256)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("archive: export: file %s: %w", id, err)
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: exportUploadsDir + safeZipName(id) + "/" + safeZipName(rec.Name), Method: zip.Store})
		if err == nil {
			_, err = io.Copy(w, src)
		}
		src.Close()
		if err != nil {
			return fmt.Errorf("archive: export: file %s: %w", id, err)
		}
		st.Files++
	}
	return nil
}

// safeZipName keeps a name to one path element of valid UTF-8, without
// the characters archivers refuse or take for folders.
func safeZipName(s string) string {
	s = strings.ToValidUTF8(s, "_")
	var b strings.Builder
	for _, r := range s {
		if r < 0x20 || strings.ContainsRune(`/\:*?"<>|`, r) {
			b.WriteByte('_')
		} else {
			b.WriteRune(r)
		}
	}
	out := strings.TrimLeft(b.String(), ". ")
	for utf8.RuneCountInString(out) > 200 {
		_, size := utf8.DecodeLastRuneInString(out)
		out = out[:len(out)-size]
	}
	if out == "" {
		return "file"
	}
	return out
}
