package web

import (
	"testing"
	"time"
	_ "time/tzdata"
)

func TestCount(t *testing.T) {
	t.Parallel()
	for n, want := range map[int]string{0: "0 results", 1: "1 result", 999: "999 results", 1000: "1,000 results", 1234567: "1,234,567 results", -1200: "-1,200 results"} {
		if got := count(n, "result", "results"); got != want {
			t.Errorf("count(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestZoneAndStamp(t *testing.T) {
	t.Parallel()
	kolkata, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2024, 3, 10, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		loc       *time.Location
		t         time.Time
		want      string
		wantStamp string // of at, shown on the page of 1 March
	}{
		{time.UTC, at, "UTC", "10 March, 12:00"},
		{kolkata, at, "Asia/Kolkata (UTC+5:30)", "10 March, 17:30"},
		{kolkata, time.Time{}, "Asia/Kolkata", "10 March, 17:30"},
		{time.FixedZone("", -3*3600), at, "UTC-3", "10 March, 09:00"},
	} {
		h := &Handler{loc: tt.loc, now: func() time.Time { return at }}
		if got := h.zone(tt.t); got != tt.want {
			t.Errorf("zone(%v) in %v = %q, want %q", tt.t, tt.loc, got, tt.want)
		}
		if got := h.stamp(at, time.Date(2024, 3, 1, 0, 0, 0, 0, tt.loc)); got != tt.wantStamp {
			t.Errorf("stamp in %v = %q, want %q", tt.loc, got, tt.wantStamp)
		}
	}
	h := &Handler{loc: time.UTC}
	if got := h.stamp(at, at); got != "12:00" {
		t.Errorf("stamp on its own day = %q", got)
	}
	if got := h.stamp(at, time.Time{}); got != "10 March 2024, 12:00" {
		t.Errorf("stamp on no day = %q", got)
	}
	if got := h.stamp(at, time.Date(2023, 12, 31, 0, 0, 0, 0, time.UTC)); got != "10 March 2024, 12:00" {
		t.Errorf("stamp from another year = %q", got)
	}
}
