package archive_test

import (
	"testing"

	"github.com/townhall/townhall/integrations/archive"
)

func TestBytes(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]archive.Bytes{
		"4096": 4096, "8MB": 8e6, "8 mb": 8e6, "1GB": 1e9, "1.5GiB": 1.5 * (1 << 30), "50GB": 50e9, "0": 0, "200KB": 200e3,
	} {
		var b archive.Bytes
		if err := b.Decode(in); err != nil || b != want {
			t.Errorf("Decode(%q) = %d, %v; want %d", in, b, err, want)
		}
	}
	for _, in := range []string{"", "lots", "-1MB", "8XB", "1e30GB"} {
		var b archive.Bytes
		if err := b.Decode(in); err == nil {
			t.Errorf("Decode(%q) = %d; want an error", in, b)
		}
	}
	for b, want := range map[archive.Bytes]string{8e6: "8MB", 1e9: "1GB", 1.5e9: "1.5GB", 200e3: "200KB", 512: "512B"} {
		if got := b.String(); got != want {
			t.Errorf("%d.String() = %q; want %q", int64(b), got, want)
		}
	}
}
