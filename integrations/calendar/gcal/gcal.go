// Package gcal reads a Google Calendar through the Calendar API v3
// (google.golang.org/api/calendar/v3): events.list with singleEvents=true
// and orderBy=startTime over a time window, following nextPageToken. It
// authenticates with an API key (a public calendar), sent in the
// X-Goog-Api-Key header and never in the URL, or a service account's key
// file (a calendar shared with the service account), and its endpoint can
// be pointed at a fake such as gcaltest. No error it returns carries the
// API key.
//
// It imports no townhall package except slackapp, for Secret.
package gcal

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"google.golang.org/api/calendar/v3"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"

	"github.com/townhall/townhall/slackapp"
)

// Config says how to reach the API. Exactly one of APIKey and
// CredentialsFile is set, unless NoAuth (tests only).
type Config struct {
	// APIKey reads a public calendar.
	APIKey slackapp.Secret
	// CredentialsFile is a service account's JSON key file; share the
	// calendar with the service account's address ("See all event details").
	CredentialsFile string
	// Endpoint overrides the API's base URL ("https://www.googleapis.com/calendar/v3/"),
	// for tests.
	Endpoint string
	// NoAuth sends no credentials at all (for tests against a fake).
	NoAuth bool
	// Floating is the zone all-day dates are read in (default UTC): the
	// community's, so that a date is that day wherever the calendar is kept.
	Floating *time.Location
}

// Client lists a calendar's events. It is safe for concurrent use.
type Client struct {
	svc      *calendar.Service
	floating *time.Location
	key      slackapp.Secret
}

// pageSize is maxResults per events.list page (the API's maximum is 2500).
const pageSize = 250

// New builds a client. ctx is used only while building it.
func New(ctx context.Context, cfg Config) (*Client, error) {
	opts := []option.ClientOption{option.WithScopes(calendar.CalendarReadonlyScope), option.WithUserAgent("townhall")}
	switch {
	case cfg.NoAuth:
		opts = append(opts, option.WithoutAuthentication())
	case cfg.APIKey.IsSet() && cfg.CredentialsFile != "":
		return nil, errors.New("gcal: set an API key or a credentials file, not both")
	case cfg.APIKey.IsSet():
		// Not option.WithAPIKey: it puts the key in the query string, where
		// proxies, access logs and any error quoting the URL carry it.
		base := http.DefaultTransport.(*http.Transport).Clone()
		opts = append(opts, option.WithHTTPClient(&http.Client{Transport: &apiKeyTransport{key: cfg.APIKey, base: base}}))
	case cfg.CredentialsFile != "":
		opts = append(opts, option.WithAuthCredentialsFile(option.ServiceAccount, cfg.CredentialsFile))
	default:
		return nil, errors.New("gcal: an API key or a service account credentials file is needed")
	}
	if cfg.Endpoint != "" {
		opts = append(opts, option.WithEndpoint(cfg.Endpoint))
	}
	svc, err := calendar.NewService(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("gcal: %w", scrub(err, cfg.APIKey))
	}
	c := &Client{svc: svc, floating: cfg.Floating, key: cfg.APIKey}
	if c.floating == nil {
		c.floating = time.UTC
	}
	return c, nil
}

// Event is one instance of an event, as events.list with singleEvents
// returns it.
type Event struct {
	ID string
	// RecurringEventID and OriginalStart identify an instance of a
	// recurring event; OriginalStart stays when the instance is moved.
	RecurringEventID string
	OriginalStart    time.Time
	Summary          string
	Description      string
	Location         string
	HTMLLink         string
	// JoinURL is the event's video meeting: hangoutLink, or the video entry
	// point of conferenceData.
	JoinURL    string
	Start, End time.Time
	AllDay     bool
}

// Warning is an event that could not be read; the rest are returned.
type Warning struct {
	ID  string
	Err error
}

// List returns the instances of calendarID's events that overlap
// [from, to), in start order, leaving out cancelled ones, and warnings for
// events it could not read. A failed page fails the whole list.
func (c *Client) List(ctx context.Context, calendarID string, from, to time.Time) ([]Event, []Warning, error) {
	call := c.svc.Events.List(calendarID).
		SingleEvents(true).
		OrderBy("startTime").
		TimeMin(from.Format(time.RFC3339)).
		TimeMax(to.Format(time.RFC3339)).
		MaxResults(pageSize)
	var out []Event
	var warnings []Warning
	err := call.Pages(ctx, func(page *calendar.Events) error {
		for _, item := range page.Items {
			if item == nil || item.Status == "cancelled" {
				continue
			}
			ev, err := convert(item, c.floating)
			if err != nil {
				warnings = append(warnings, Warning{ID: item.Id, Err: err})
				continue
			}
			out = append(out, ev)
		}
		return nil
	})
	if err != nil {
		// A url.Error quotes the request URL; an upstream (a proxy, a
		// misconfigured gateway) may echo the request, key and all.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, nil, fmt.Errorf("gcal: events.list: %w", scrub(err, c.key))
	}
	return out, warnings, nil
}

// Temporary reports whether err from List may pass on retry: anything but
// a 4xx answer other than 408 and 429.
func Temporary(err error) bool {
	var ge *googleapi.Error
	if errors.As(err, &ge) {
		return ge.Code >= 500 || ge.Code == http.StatusTooManyRequests || ge.Code == http.StatusRequestTimeout
	}
	return true
}

func convert(item *calendar.Event, loc *time.Location) (Event, error) {
	ev := Event{
		ID:               item.Id,
		RecurringEventID: item.RecurringEventId,
		Summary:          item.Summary,
		Description:      item.Description,
		Location:         item.Location,
		HTMLLink:         item.HtmlLink,
		JoinURL:          item.HangoutLink,
	}
	if item.ConferenceData != nil {
		for _, ep := range item.ConferenceData.EntryPoints {
			if ep != nil && ep.EntryPointType == "video" && ep.Uri != "" {
				ev.JoinURL = ep.Uri
				break
			}
		}
	}
	var err error
	if ev.Start, ev.AllDay, err = when(item.Start, loc); err != nil {
		return Event{}, fmt.Errorf("start: %w", err)
	}
	if ev.End, _, err = when(item.End, loc); err != nil {
		return Event{}, fmt.Errorf("end: %w", err)
	}
	if item.OriginalStartTime != nil {
		if ev.OriginalStart, _, err = when(item.OriginalStartTime, loc); err != nil {
			return Event{}, fmt.Errorf("originalStartTime: %w", err)
		}
	}
	return ev, nil
}

// when reads an EventDateTime: dateTime (RFC 3339) or, for all-day
// events, date, as midnight in loc (the reader's zone, not the calendar's:
// a date is the same day everywhere).
func when(dt *calendar.EventDateTime, loc *time.Location) (time.Time, bool, error) {
	if dt == nil {
		return time.Time{}, false, errors.New("missing")
	}
	if dt.DateTime != "" {
		t, err := time.Parse(time.RFC3339, dt.DateTime)
		return t, false, err
	}
	t, err := time.ParseInLocation(time.DateOnly, dt.Date, loc)
	return t, true, err
}

// apiKeyTransport sends the API key in the X-Goog-Api-Key header, as
// Google's APIs accept it (https://cloud.google.com/docs/authentication/api-keys-use#using-with-rest).
type apiKeyTransport struct {
	key  slackapp.Secret
	base http.RoundTripper
}

func (t *apiKeyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Goog-Api-Key", t.key.Reveal())
	r.Header.Set("User-Agent", "townhall")
	return t.base.RoundTrip(r)
}

// maxErrorBody bounds how much of an answer's body an error keeps.
const maxErrorBody = 300

// scrub returns err without the API key in anything it says: an API error
// (*googleapi.Error, still matched by errors.As) is rebuilt from its
// status and its messages with the key redacted and its body shortened;
// any other error that quotes the key is wrapped in one whose message
// shows it redacted, as the translate clients do.
func scrub(err error, key slackapp.Secret) error {
	if err == nil || !key.IsSet() {
		return err
	}
	hide := func(s string) string { return strings.ReplaceAll(s, key.Reveal(), key.String()) }
	var ge *googleapi.Error
	if errors.As(err, &ge) {
		clean := &googleapi.Error{Code: ge.Code, Message: hide(ge.Message), Body: hide(ge.Body)}
		if len(clean.Body) > maxErrorBody {
			clean.Body = clean.Body[:maxErrorBody] + "…"
		}
		for _, item := range ge.Errors {
			clean.Errors = append(clean.Errors, googleapi.ErrorItem{Reason: hide(item.Reason), Message: hide(item.Message)})
		}
		return clean
	}
	if msg := err.Error(); strings.Contains(msg, key.Reveal()) {
		return &scrubbed{err: err, msg: hide(msg)}
	}
	return err
}

// scrubbed is an error whose message has the key redacted.
type scrubbed struct {
	err error
	msg string
}

func (s *scrubbed) Error() string { return s.msg }
func (s *scrubbed) Unwrap() error { return s.err }
