package scheduler

import (
	"strings"
	"testing"
)

func TestConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		tz      string
		wantErr string // substring; empty: valid
		wantLoc string
	}{
		{"UTC", "", "UTC"},
		{"Europe/Paris", "", "Europe/Paris"},
		{"America/Argentina/Buenos_Aires", "", "America/Argentina/Buenos_Aires"},
		{"Mars/Olympus", `TOWNHALL_TIMEZONE: must be an IANA time zone name such as Europe/Paris, got "Mars/Olympus"`, "UTC"},
		{"+02:00", `TOWNHALL_TIMEZONE`, "UTC"},
	}
	for _, tt := range tests {
		t.Run(tt.tz, func(t *testing.T) {
			t.Parallel()
			c := Config{Timezone: tt.tz}
			err := c.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Validate: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Validate = %v, want an error containing %q", err, tt.wantErr)
			}
			if got := c.Location().String(); got != tt.wantLoc {
				t.Errorf("Location() = %s, want %s", got, tt.wantLoc)
			}
		})
	}
}
