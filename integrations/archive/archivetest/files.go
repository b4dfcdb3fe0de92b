package archivetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/townhall/townhall/integrations/archive"
)

// testFileIndex checks archive.FileIndex: records, references, usage
// counted once per content, and forgetting by message and by member.
func testFileIndex(t *testing.T, a archive.Archive) {
	idx, ok := a.(archive.FileIndex)
	if !ok {
		t.Fatalf("%T does not implement archive.FileIndex", a)
	}
	ctx := context.Background()
	sumA := "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	sumB := "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	at := time.Unix(1700000000, 0).UTC()
	put := func(f archive.StoredFile, refs ...archive.FileRef) []string {
		t.Helper()
		orphans, err := idx.PutStoredFile(ctx, f, refs)
		if err != nil {
			t.Fatal(err)
		}
		return orphans
	}
	// F1 and F2 have the same content (one blob); F1 is shared twice.
	put(archive.StoredFile{ID: "F1", SHA256: sumA, Name: "a.png", Mimetype: "image/png", Size: 100, Width: 3, Height: 2,
		Status: archive.FileStored, Fetched: at}, archive.FileRef{File: "F1", Channel: "C1", TS: TS(1), User: "U1"})
	if err := idx.PutFileRefs(ctx, []archive.FileRef{{File: "F1", Channel: "C1", TS: TS(2), User: "U2"}}); err != nil {
		t.Fatal(err)
	}
	put(archive.StoredFile{ID: "F2", SHA256: sumA, Name: "copy.png", Size: 100, Status: archive.FileStored},
		archive.FileRef{File: "F2", Channel: "C1", TS: TS(3), User: "U1"})
	put(archive.StoredFile{ID: "F3", Status: archive.FileGone, Reason: "Slack no longer has it"},
		archive.FileRef{File: "F3", Channel: "C1", TS: TS(3), User: "U1"})
	put(archive.StoredFile{ID: archive.AvatarID("U1"), SHA256: sumB, Size: 10, Status: archive.FileStored, Source: "https://x/1"},
		archive.FileRef{File: archive.AvatarID("U1"), User: "U1"})

	f, ok, err := idx.StoredFile(ctx, "F1")
	if err != nil || !ok || f.SHA256 != sumA || f.Width != 3 || f.Height != 2 || f.Mimetype != "image/png" || !f.Fetched.Equal(at) {
		t.Fatalf("StoredFile(F1) = %+v, %v, %v", f, ok, err)
	}
	if _, ok, _ := idx.StoredFile(ctx, "F9"); ok {
		t.Error("StoredFile(F9) found a file never recorded")
	}
	for _, name := range []string{"a.png", "copy.png"} {
		if b, ok, err := idx.StoredBlob(ctx, sumA, name); err != nil || !ok || b.SHA256 != sumA || b.Name != name {
			t.Errorf("StoredBlob(%s) = %+v, %v, %v", name, b, ok, err)
		}
	}
	if b, ok, err := idx.StoredBlob(ctx, sumA, "other"); err != nil || !ok || b.SHA256 != sumA {
		t.Errorf("StoredBlob(other) = %+v, %v, %v", b, ok, err)
	}
	refs, err := idx.FileRefs(ctx, "F1")
	if err != nil || len(refs) != 2 || refs[0] != (archive.FileRef{File: "F1", Channel: "C1", TS: TS(1), User: "U1"}) || refs[1].TS != TS(2) {
		t.Errorf("FileRefs(F1) = %+v, %v", refs, err)
	}
	u, err := idx.FileUsage(ctx)
	if err != nil || u.Files != 3 || u.Blobs != 2 || u.Bytes != 110 || u.Gone != 1 {
		t.Errorf("FileUsage = %+v, %v; want 3 files, 2 blobs, 110 bytes, 1 gone", u, err)
	}

	// A new avatar orphans the old picture.
	if orphans := put(archive.StoredFile{ID: archive.AvatarID("U1"), SHA256: "cc" + sumB[2:], Size: 10, Status: archive.FileStored},
		archive.FileRef{File: archive.AvatarID("U1"), User: "U1"}); !slices.Equal(orphans, []string{sumB}) {
		t.Errorf("orphans of a new avatar = %q, want the old one", orphans)
	}

	// Removing the first message that shares F1 keeps it (shared again).
	if orphans, err := idx.ForgetMessageFiles(ctx, "C1", TS(1)); err != nil || len(orphans) != 0 {
		t.Errorf("ForgetMessageFiles(1) = %q, %v; want nothing orphaned", orphans, err)
	}
	if _, ok, _ := idx.StoredFile(ctx, "F1"); !ok {
		t.Error("F1 forgotten while another message shares it")
	}
	// The second: F1's record goes, but F2 has the same content.
	if orphans, err := idx.ForgetMessageFiles(ctx, "C1", TS(2)); err != nil || len(orphans) != 0 {
		t.Errorf("ForgetMessageFiles(2) = %q, %v; want nothing orphaned (F2 has the content)", orphans, err)
	}
	if _, ok, _ := idx.StoredFile(ctx, "F1"); ok {
		t.Error("F1 kept once no message shares it")
	}
	// U1 opts out: F2, F3 and the avatar go, and both blobs with them.
	orphans, err := idx.ForgetUserFiles(ctx, "U1")
	slices.Sort(orphans)
	if err != nil || !slices.Equal(orphans, []string{sumA, "cc" + sumB[2:]}) {
		t.Errorf("ForgetUserFiles = %q, %v", orphans, err)
	}
	if u, err := idx.FileUsage(ctx); err != nil || u != (archive.FileUsage{}) {
		t.Errorf("FileUsage after forgetting all = %+v, %v", u, err)
	}
}
