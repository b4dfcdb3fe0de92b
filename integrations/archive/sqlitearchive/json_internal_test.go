package sqlitearchive

import (
	"encoding/json"
	"testing"
)

// TestAppendJSONString: what appendJSONString writes reads back as what
// encoding/json would have written, invalid UTF-8 included.
func TestAppendJSONString(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "plain", `"quoted" \ back\slash`, "tab\tnew\nline\rcr", "\x00\x01\x1f\x7f",
		"<b>&amp;</b>", "réunion 会议 اجتماع 🎉", "\u2028\u2029", "bad \xff utf8 \xe2\x82", "\ufffd"} {
		var got, want string
		if err := json.Unmarshal(appendJSONString(nil, s), &got); err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		b, _ := json.Marshal(s)
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%q: read back %q, want %q", s, got, want)
		}
	}
}

func FuzzAppendJSONString(f *testing.F) {
	f.Add("a\"b\\c\x00\xff")
	f.Fuzz(func(t *testing.T, s string) {
		var got, want string
		if err := json.Unmarshal(appendJSONString(nil, s), &got); err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		b, _ := json.Marshal(s)
		_ = json.Unmarshal(b, &want)
		if got != want {
			t.Errorf("%q: read back %q, want %q", s, got, want)
		}
	})
}
