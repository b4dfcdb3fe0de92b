package calendar_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/townhall/townhall/integrations/calendar"
	"github.com/townhall/townhall/integrations/integrationtest"
	"github.com/townhall/townhall/slackapp"
	"github.com/townhall/townhall/slackapp/slacktest"
)

// TestGoogleKeyNeverShown: behind a gateway that echoes the request into
// its error, the Google API key reaches neither the logs nor the job's
// error nor /townhall status, which all show the failure.
func TestGoogleKeyNeverShown(t *testing.T) {
	t.Parallel()
	const key = "AIza-status-secret"
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "gateway error for "+r.URL.String()+" key "+r.Header.Get("X-Goog-Api-Key"), http.StatusBadGateway)
	}))
	t.Cleanup(echo.Close)
	cfg := calendar.Config{
		Sources:      "google:public@group.calendar.google.com=" + slacktest.GeneralID,
		GoogleAPIKey: slackapp.Secret(key), GoogleEndpoint: echo.URL + "/calendar/v3/",
	}
	b := start(t, integrationtest.NewClock(time.Date(2026, 3, 9, 12, 0, 0, 0, time.UTC)), time.UTC, cfg, "", nil)
	_, err := b.RunJob(t, calendar.RemindJob)
	if err == nil || !strings.Contains(err.Error(), "502") {
		t.Fatalf("job error = %v, want the gateway's 502", err)
	}
	st := b.Command(t, slacktest.AdminID, slacktest.GeneralID, "/townhall", "status")
	if len(st) != 1 || !strings.Contains(st[0].Text, "502") {
		t.Fatalf("status: %s", texts(st))
	}
	for name, shown := range map[string]string{"job error": err.Error(), "status": st[0].Text, "logs": b.Logs.String()} {
		if strings.Contains(shown, key) {
			t.Errorf("the API key reached the %s:\n%s", name, shown)
		}
	}
}
