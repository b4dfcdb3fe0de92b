package gcal_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"google.golang.org/api/calendar/v3"
	"google.golang.org/api/googleapi"

	"github.com/townhall/townhall/integrations/calendar/gcal"
	"github.com/townhall/townhall/integrations/calendar/gcaltest"
	"github.com/townhall/townhall/slackapp"
)

const calID = "community@group.calendar.google.com"

var (
	from = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	to   = from.AddDate(0, 0, 7)
)

func timed(id, start, end string) *calendar.Event {
	return &calendar.Event{Id: id, Summary: "Event " + id, Status: "confirmed",
		Start: &calendar.EventDateTime{DateTime: start}, End: &calendar.EventDateTime{DateTime: end}}
}

func TestListAuthModes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(*gcaltest.Server) gcal.Config
	}{
		{"api key", func(s *gcaltest.Server) gcal.Config {
			s.RequireAPIKey("AIza-test-key")
			return gcal.Config{APIKey: slackapp.Secret("AIza-test-key")}
		}},
		{"service account", func(s *gcaltest.Server) gcal.Config {
			return gcal.Config{CredentialsFile: s.ServiceAccountKeyFile()}
		}},
		{"no auth", func(*gcaltest.Server) gcal.Config { return gcal.Config{NoAuth: true} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := gcaltest.New(t)
			cfg := tt.setup(fake)
			cfg.Endpoint = fake.Endpoint()
			meet := timed("a", "2026-03-02T09:00:00+01:00", "2026-03-02T10:00:00+01:00")
			meet.HangoutLink = "https://meet.google.com/abc-defg-hij"
			fake.SetEvents(calID, "Europe/Paris", meet)
			c, err := gcal.New(t.Context(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			got, warns, err := c.List(t.Context(), calID, from, to)
			if err != nil || len(warns) != 0 {
				t.Fatalf("List: %v %v", err, warns)
			}
			if len(got) != 1 || got[0].JoinURL != meet.HangoutLink || !got[0].Start.Equal(time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)) {
				t.Fatalf("got %+v", got)
			}
		})
	}
}

func TestListPagesFiltersAndConverts(t *testing.T) {
	t.Parallel()
	fake := gcaltest.New(t)
	var events []*calendar.Event
	for i := range 600 { // three pages of 250
		start := from.Add(time.Duration(i) * 15 * time.Minute)
		events = append(events, timed(fmt.Sprint(i), start.Format(time.RFC3339), start.Add(time.Hour).Format(time.RFC3339)))
	}
	cancelled := timed("gone", "2026-03-03T09:00:00Z", "2026-03-03T10:00:00Z")
	cancelled.Status = "cancelled"
	cancelled.RecurringEventId = "series"
	allDay := &calendar.Event{Id: "holiday", Summary: "Holiday", Start: &calendar.EventDateTime{Date: "2026-03-04"}, End: &calendar.EventDateTime{Date: "2026-03-05"}}
	conf := timed("conf", "2026-03-05T15:00:00Z", "2026-03-05T16:00:00Z")
	conf.ConferenceData = &calendar.ConferenceData{EntryPoints: []*calendar.EntryPoint{
		{EntryPointType: "phone", Uri: "tel:+1-555"}, {EntryPointType: "video", Uri: "https://zoom.us/j/123"}}}
	broken := &calendar.Event{Id: "broken", Start: &calendar.EventDateTime{DateTime: "2026-03-02T10:00:00Z"}, End: &calendar.EventDateTime{DateTime: "noon"}}
	outside := timed("later", "2026-04-01T09:00:00Z", "2026-04-01T10:00:00Z")
	fake.SetEvents(calID, "America/New_York", append(events, cancelled, allDay, conf, broken, outside)...)
	london, _ := time.LoadLocation("Europe/London")
	c, err := gcal.New(t.Context(), gcal.Config{NoAuth: true, Endpoint: fake.Endpoint(), Floating: london})
	if err != nil {
		t.Fatal(err)
	}
	got, warns, err := c.List(t.Context(), calID, from, to)
	if err != nil {
		t.Fatal(err)
	}
	if fake.Lists() != 3 {
		t.Errorf("pages fetched = %d, want 3", fake.Lists())
	}
	if len(got) != 602 {
		t.Fatalf("got %d events, want 602", len(got))
	}
	if len(warns) != 1 || warns[0].ID != "broken" {
		t.Errorf("warnings = %v", warns)
	}
	byID := map[string]gcal.Event{}
	for _, e := range got {
		byID[e.ID] = e
	}
	// A date is read in the reader's zone, not the calendar's (New York).
	if h := byID["holiday"]; !h.AllDay || !h.Start.Equal(time.Date(2026, 3, 4, 0, 0, 0, 0, london)) || !h.End.Equal(time.Date(2026, 3, 5, 0, 0, 0, 0, london)) {
		t.Errorf("all-day event = %+v, want 4 March in London", h)
	}
	if byID["conf"].JoinURL != "https://zoom.us/j/123" {
		t.Errorf("conference join URL = %q", byID["conf"].JoinURL)
	}
	if _, ok := byID["gone"]; ok {
		t.Error("a cancelled instance was returned")
	}
}

func TestListErrors(t *testing.T) {
	t.Parallel()
	fake := gcaltest.New(t)
	fake.RequireAPIKey("right-key")
	fake.SetEvents(calID, "UTC")
	c, err := gcal.New(t.Context(), gcal.Config{APIKey: "wrong-key-secret", Endpoint: fake.Endpoint()})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = c.List(t.Context(), calID, from, to)
	if err == nil || gcal.Temporary(err) || strings.Contains(err.Error(), "wrong-key-secret") {
		t.Errorf("bad key: err = %v (temporary %v)", err, gcal.Temporary(err))
	}
	good, err := gcal.New(t.Context(), gcal.Config{APIKey: "right-key", Endpoint: fake.Endpoint()})
	if err != nil {
		t.Fatal(err)
	}
	fake.FailNext(http.StatusServiceUnavailable)
	if _, _, err = good.List(t.Context(), calID, from, to); err == nil || !gcal.Temporary(err) {
		t.Errorf("503: err = %v, want a temporary error", err)
	}
	if _, _, err = good.List(t.Context(), "nobody@example.com", from, to); err == nil || gcal.Temporary(err) {
		t.Errorf("unknown calendar: err = %v, want a permanent error", err)
	}
	// A dead server: the error must not quote the URL, which carries the key.
	dead, err := gcal.New(t.Context(), gcal.Config{APIKey: "right-key", Endpoint: "http://127.0.0.1:1/calendar/v3/"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err = dead.List(t.Context(), calID, from, to); err == nil || strings.Contains(err.Error(), "right-key") {
		t.Errorf("dead server: err = %v", err)
	}
}

func TestNewNeedsCredentials(t *testing.T) {
	t.Parallel()
	if _, err := gcal.New(t.Context(), gcal.Config{}); err == nil {
		t.Error("no credentials accepted")
	}
	if _, err := gcal.New(t.Context(), gcal.Config{APIKey: "k", CredentialsFile: "f"}); err == nil {
		t.Error("both credentials accepted")
	}
}

// TestAPIKeyTravelsInAHeader: the key goes in X-Goog-Api-Key, never in the
// URL that proxies and access logs record.
func TestAPIKeyTravelsInAHeader(t *testing.T) {
	t.Parallel()
	fake := gcaltest.New(t)
	fake.RequireAPIKey("AIza-header-key")
	fake.SetEvents(calID, "UTC", timed("a", "2026-03-02T09:00:00Z", "2026-03-02T10:00:00Z"))
	c, err := gcal.New(t.Context(), gcal.Config{APIKey: "AIza-header-key", Endpoint: fake.Endpoint()})
	if err != nil {
		t.Fatal(err)
	}
	if got, _, err := c.List(t.Context(), calID, from, to); err != nil || len(got) != 1 {
		t.Fatalf("List: %v %+v", err, got)
	}
	if n := fake.KeysInURL(); n != 0 {
		t.Errorf("%d requests carried the key in the URL", n)
	}
}

// TestEchoingUpstreamDoesNotLeakTheKey: a gateway that echoes the request
// (URL and headers) in its error answer, as a JSON error or as plain text,
// does not get the key into the error, whatever part of it is printed.
func TestEchoingUpstreamDoesNotLeakTheKey(t *testing.T) {
	t.Parallel()
	const key = "AIza-echoed-secret-key"
	for _, form := range []string{"json", "text"} {
		echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var dump strings.Builder
			fmt.Fprintf(&dump, "%s %s", r.Method, r.URL)
			for name, v := range r.Header {
				fmt.Fprintf(&dump, " %s=%s", name, strings.Join(v, ","))
			}
			if form == "json" {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadGateway)
				_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
					"code": 502, "message": "bad gateway: " + dump.String(),
					"errors": []any{map[string]any{"reason": "backendError", "message": dump.String()}},
				}})
				return
			}
			http.Error(w, "proxy error: "+dump.String(), http.StatusBadGateway)
		}))
		t.Cleanup(echo.Close)
		c, err := gcal.New(t.Context(), gcal.Config{APIKey: key, Endpoint: echo.URL + "/calendar/v3/"})
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = c.List(t.Context(), calID, from, to)
		if err == nil {
			t.Fatalf("%s: no error", form)
		}
		// The JSON message is kept whole, so the key shows there, redacted;
		// a text body is shortened, so the key may be cut off before.
		if (form == "json" && !strings.Contains(err.Error(), "X-Goog-Api-Key=[redacted]")) || !strings.Contains(err.Error(), "502") || !gcal.Temporary(err) {
			t.Errorf("%s: err = %v (temporary %v), want the echo with the key redacted", form, err, gcal.Temporary(err))
		}
		var ge *googleapi.Error
		if !errors.As(err, &ge) || ge.Code != http.StatusBadGateway {
			t.Errorf("%s: not a *googleapi.Error with the status: %v", form, err)
		}
		for _, shown := range []string{err.Error(), fmt.Sprintf("%+v %#v", err, err), ge.Body, ge.Message, fmt.Sprint(ge.Errors)} {
			if strings.Contains(shown, key) {
				t.Errorf("%s: the key leaked: %s", form, shown)
			}
		}
	}
}
