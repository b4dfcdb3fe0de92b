package archive

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// WriteFile writes an export to path through write: into a temporary file
// beside it, synced and renamed into place when write returns nil, so a
// failed or interrupted export leaves no file (and no empty zip) behind,
// and a reader never sees half of one. It returns the file's size.
func WriteFile(path string, write func(w io.Writer) error) (size int64, err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".export-*.zip")
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	err = write(tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if err == nil {
		size, err = tmp.Seek(0, io.SeekCurrent)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	return size, nil
}
