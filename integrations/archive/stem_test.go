package archive_test

import (
	"slices"
	"testing"

	"github.com/townhall/townhall/integrations/archive"
)

func TestStems(t *testing.T) {
	t.Parallel()
	// Pairs of forms that must share a stem (one's stems, or the word
	// itself, meet the other's), and pairs that must not.
	meet := func(a, b string) bool {
		fa, fb := archive.Fold(a), archive.Fold(b)
		sa, sb := append(archive.Stems(fa), fa), append(archive.Stems(fb), fb)
		for _, s := range sa {
			if slices.Contains(sb, s) {
				return true
			}
		}
		return false
	}
	for _, p := range [][2]string{
		{"volunteer", "volunteers"}, {"meeting", "meetings"}, {"volunteering", "volunteers"},
		{"réunion", "réunions"}, {"cheval", "chevaux"}, {"comité", "comités"},
		{"reunión", "reuniones"}, {"ciudad", "ciudades"}, {"voluntario", "voluntarios"},
		{"встреча", "встречи"}, {"встреча", "встречу"}, {"собрание", "собрания"},
		{"اجتماع", "الاجتماع"}, {"اجتماع", "اجتماعات"}, {"اجتماع", "والاجتماع"}, {"لجنة", "اللجنة"}, {"مكتب", "بالمكتب"},
	} {
		if !meet(p[0], p[1]) {
			t.Errorf("%s and %s do not meet: %q, %q", p[0], p[1], archive.Stems(archive.Fold(p[0])), archive.Stems(archive.Fold(p[1])))
		}
	}
	for _, p := range [][2]string{{"garden", "guard"}, {"会议", "会"}, {"w123", "w12"}} {
		if meet(p[0], p[1]) {
			t.Errorf("%s and %s meet", p[0], p[1])
		}
	}
	for _, w := range []string{"会议", "2024", "ab", "мир", "w123"} {
		if s := archive.Stems(archive.Fold(w)); len(s) > 0 {
			t.Errorf("Stems(%s) = %q, want none", w, s)
		}
	}
}
