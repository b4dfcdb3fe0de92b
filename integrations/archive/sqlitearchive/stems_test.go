package sqlitearchive_test

import (
	"slices"
	"testing"

	"github.com/townhall/townhall/integrations/archive"
)

// TestSearchStems: a word finds its other forms, in English, French,
// Spanish, Russian and Arabic, both ways; Chinese words and phrases are
// matched as written.
func TestSearchStems(t *testing.T) {
	t.Parallel()
	a := open(t)
	texts := []string{
		"We need volunteers for the garden festival on Saturday",   // 0
		"Thanks to every volunteer who came!",                      // 1
		"Les réunions du comité auront lieu le mardi",              // 2
		"Buscamos voluntarios para las reuniones de la asociación", // 3
		"Встречи клуба проходят по четвергам",                      // 4
		"Спасибо всем, кто пришёл на встречу",                      // 5
		"تم تأجيل الاجتماع إلى الأسبوع القادم",                     // 6
		"اجتماعات اللجنة مفتوحة للجميع",                            // 7
		"明天的会议取消了",                                                 // 8
		"The meeting of the volunteering committee was short",      // 9
		"Nous avons vu des chevaux près de la rivière",             // 10
	}
	for i, s := range texts {
		put(t, a, archive.Message{Channel: "C1", TS: ts(i), User: "U1", Text: s})
	}
	pick := func(ks ...int) []string {
		var out []string
		for _, k := range ks {
			out = append(out, texts[k])
		}
		return out
	}
	tests := []struct {
		query string
		want  []string
	}{
		{"volunteer", pick(0, 1, 9)},
		{"volunteers", pick(0, 1, 9)},
		{"réunion", pick(2, 3)},
		{"reunion", pick(2, 3)},
		{"voluntario", pick(3)},
		{"встреча", pick(4, 5)},
		{"встречи", pick(4, 5)},
		{"اجتماع", pick(6, 7)},
		{"الاجتماع", pick(6, 7)},
		{"لجنة", pick(7)},
		{"cheval", pick(10)},
		{"会议", pick(8)},
		{`"the volunteers"`, nil}, // a phrase is matched as written
		{`"need volunteers"`, pick(0)},
		{"volunteers garden", pick(0)},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			got := search(t, a, tt.query)
			slices.Sort(got)
			want := slices.Clone(tt.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("search %q = %q, want %q", tt.query, got, want)
			}
		})
	}
}
