package integrations

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/townhall/townhall/scheduler"
	"github.com/townhall/townhall/slackapp"
	"github.com/townhall/townhall/store"
)

// AlertConfig says when and where staff hear that something has failed
// for a while. Process it with envconfig.Process("TOWNHALL", &cfg).
type AlertConfig struct {
	// After is how long something must have failed before staff are
	// told; 0 tells them nothing.
	After time.Duration `envconfig:"ALERT_AFTER" default:"1h"`
	// StaffChannel, when set (#name or ID), receives the alerts instead
	// of a DM to each staff member.
	StaffChannel string `envconfig:"STAFF_CHANNEL"`
}

// Validate reports a bad value, naming its variable.
func (c AlertConfig) Validate() error {
	var errs []error
	if c.After != 0 && c.After < time.Minute {
		errs = append(errs, fmt.Errorf("TOWNHALL_ALERT_AFTER: must be 0 (no alerts) or at least 1m, got %s", c.After))
	}
	if s := strings.TrimSpace(c.StaffChannel); s != "" && !strings.HasPrefix(s, "#") && !isChannelID(s) {
		errs = append(errs, fmt.Errorf("TOWNHALL_STAFF_CHANNEL: %q is neither #name nor a channel ID (like C0123ABCD)", s))
	}
	return errors.Join(errs...)
}

func isChannelID(s string) bool {
	if len(s) < 3 || (s[0] != 'C' && s[0] != 'G') {
		return false
	}
	for _, r := range s {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}

// AlertDeps are what the alerts use. Health, Poster, Claims and Settings
// are required; Staff or ResolveChannel as the configuration needs.
type AlertDeps struct {
	// Health lists what may be failing (the host's Health).
	Health func(ctx context.Context) []Health
	// Poster posts the alerts (the runtime's Poster); a user ID as the
	// channel is a DM from the app.
	Poster interface {
		Post(ctx context.Context, channel string, m slackapp.Message) (string, error)
	}
	// Claims make each alert happen once across replicas; Settings
	// remember, across restarts, which sources staff were told about.
	Claims   store.Claims
	Settings store.Settings
	// Staff lists the staff members to DM (the runtime's StaffUsers).
	Staff func(ctx context.Context) ([]string, error)
	// ResolveChannel turns TOWNHALL_STAFF_CHANNEL's #name into an ID.
	ResolveChannel func(ctx context.Context, ref string) (string, error)
	Logger         *slog.Logger
	Location       *time.Location // for the times in the fallback text
}

// AlertJob is the name of the job that watches for failures.
const AlertJob = "townhall.alerts"

// Alerter tells staff when something has failed for longer than
// AlertConfig.After: one message naming it, since when, its last error and
// what to do, and one more when it works again. Never more than one alert
// per source per day, however often it fails and recovers.
type Alerter struct {
	cfg AlertConfig
	d   AlertDeps
	log *slog.Logger
	loc *time.Location
}

// NewAlerter checks its dependencies.
func NewAlerter(cfg AlertConfig, d AlertDeps) (*Alerter, error) {
	if d.Health == nil || d.Poster == nil || d.Claims == nil || d.Settings == nil {
		return nil, errors.New("alerts: AlertDeps.Health, Poster, Claims and Settings are required")
	}
	if cfg.StaffChannel == "" && d.Staff == nil {
		return nil, errors.New("alerts: AlertDeps.Staff is required without TOWNHALL_STAFF_CHANNEL")
	}
	a := &Alerter{cfg: cfg, d: d, log: d.Logger, loc: d.Location}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.loc == nil {
		a.loc = time.UTC
	}
	return a, nil
}

// Job checks every minute.
func (a *Alerter) Job() scheduler.Job {
	return scheduler.Job{Name: AlertJob, Spec: "@every 1m", Run: a.Check}
}

// Settings and claims the alerts keep.
const (
	alertedPrefix   = "alerts.alerted:"   // setting: staff were told of an outage that began then (RFC 3339)
	sentPrefix      = "alerts.sent:"      // claim: an alert of a source on a day
	recoveredPrefix = "alerts.recovered:" // claim: the recovery of one outage
)

// Check tells staff of what has failed for too long and of what works
// again, as of now.
func (a *Alerter) Check(ctx context.Context, now time.Time) error {
	if a.cfg.After <= 0 {
		return nil
	}
	var errs []error
	for _, h := range a.d.Health(ctx) {
		if err := a.check(ctx, h, now); err != nil {
			errs = append(errs, fmt.Errorf("alerts: %s: %w", h.Key, err))
		}
	}
	return errors.Join(errs...)
}

func (a *Alerter) check(ctx context.Context, h Health, now time.Time) error {
	told, alerted, err := a.d.Settings.Setting(ctx, alertedPrefix+h.Key)
	if err != nil {
		return err
	}
	if h.Unknown {
		return nil // not tried since a restart: wait for its first word
	}
	if alerted && h.FailingSince.IsZero() {
		if err := a.once(ctx, recoveredPrefix+h.Key+":"+told, func() error {
			return a.send(ctx, recoveryMessage(h, told, now, a.loc))
		}); err != nil {
			return err
		}
		if err := a.d.Settings.DeleteSetting(ctx, alertedPrefix+h.Key); err != nil {
			return err
		}
		alerted = false
	}
	if h.FailingSince.IsZero() || now.Sub(h.FailingSince) < a.cfg.After || alerted {
		return nil
	}
	day := now.UTC().Format(time.DateOnly)
	return a.once(ctx, sentPrefix+h.Key+":"+day, func() error {
		if err := a.send(ctx, alertMessage(h, now, a.loc)); err != nil {
			return err
		}
		a.log.WarnContext(ctx, "staff alerted", "source", h.Key, "failing_since", h.FailingSince, "error", h.LastError)
		return a.d.Settings.SetSetting(ctx, alertedPrefix+h.Key, h.FailingSince.UTC().Format(time.RFC3339Nano))
	})
}

// once runs send under the claim key: on this replica or another, it
// happens once; a failed send is tried again at the next check.
func (a *Alerter) once(ctx context.Context, key string, send func() error) error {
	ok, err := a.d.Claims.Claim(ctx, key, 5*time.Minute)
	if err != nil || !ok {
		return err
	}
	if err := send(); err != nil {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		return errors.Join(err, a.d.Claims.Release(rctx, key))
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	return a.d.Claims.Confirm(cctx, key)
}

// send posts m to the staff channel, or to each staff member.
func (a *Alerter) send(ctx context.Context, m slackapp.Message) error {
	if ref := strings.TrimSpace(a.cfg.StaffChannel); ref != "" {
		id := ref
		if strings.HasPrefix(ref, "#") {
			if a.d.ResolveChannel == nil {
				return errors.New("TOWNHALL_STAFF_CHANNEL names a channel, but nothing resolves names")
			}
			var err error
			if id, err = a.d.ResolveChannel(ctx, ref); err != nil {
				return fmt.Errorf("TOWNHALL_STAFF_CHANNEL %s: %w", ref, err)
			}
		}
		_, err := a.d.Poster.Post(ctx, id, m)
		return err
	}
	staff, err := a.d.Staff(ctx)
	if err != nil {
		return fmt.Errorf("list staff: %w", err)
	}
	if len(staff) == 0 {
		return errors.New("no staff to tell: set TOWNHALL_STAFF_USERS or TOWNHALL_STAFF_CHANNEL")
	}
	var errs []error
	sent := 0
	for _, u := range staff {
		if _, err := a.d.Poster.Post(ctx, u, m); err != nil {
			errs = append(errs, fmt.Errorf("DM %s: %w", u, err))
			continue
		}
		sent++
	}
	if sent > 0 { // told someone: not sent again to those who got it
		for _, err := range errs {
			a.log.WarnContext(ctx, "staff alert not delivered to one staff member", "error", err)
		}
		return nil
	}
	return errors.Join(errs...)
}

// slackTime shows t in each reader's zone, with loc's in the fallback.
func slackTime(t time.Time, loc *time.Location) string {
	return fmt.Sprintf("<!date^%d^{date_short_pretty} {time}|%s>", t.Unix(), t.In(loc).Format("2006-01-02 15:04 MST"))
}

// lasted says how long an outage has lasted: "1 h 10 min", "3 days".
func lasted(d time.Duration) string {
	switch d = d.Round(time.Minute); {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%d days", int(d/(24*time.Hour)))
	case d >= time.Hour && d%time.Hour == 0:
		return fmt.Sprintf("%d h", int(d/time.Hour))
	case d >= time.Hour:
		return fmt.Sprintf("%d h %d min", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
	return fmt.Sprintf("%d min", int(d/time.Minute))
}

func alertMessage(h Health, now time.Time, loc *time.Location) slackapp.Message {
	head := fmt.Sprintf("🔴 %s has been failing since %s (%s).", h.What, slackTime(h.FailingSince, loc), lasted(now.Sub(h.FailingSince)))
	lines := []string{head}
	if h.LastError != "" {
		lines = append(lines, "*Last error:* "+slackapp.Escape(truncate(h.LastError, 300)))
	}
	if h.Fix != "" {
		lines = append(lines, "*What to do:* "+h.Fix)
	}
	lines = append(lines, "I'll tell you when it works again; `/townhall status` shows everything.")
	text := fmt.Sprintf("townhall: %s has been failing since %s", stripMrkdwn(h.What), h.FailingSince.In(loc).Format("2006-01-02 15:04 MST"))
	return slackapp.Message{Text: text, Blocks: []slack.Block{section(strings.Join(lines, "\n"))}}
}

func recoveryMessage(h Health, since string, now time.Time, loc *time.Location) slackapp.Message {
	from, err := time.Parse(time.RFC3339Nano, since)
	body := fmt.Sprintf("🟢 %s works again", h.What)
	if err == nil {
		body += fmt.Sprintf(", after %s (it failed from %s).", lasted(now.Sub(from)), slackTime(from, loc))
	} else {
		body += "."
	}
	return slackapp.Message{Text: "townhall: " + stripMrkdwn(h.What) + " works again", Blocks: []slack.Block{section(body)}}
}

func section(mrkdwn string) slack.Block {
	return slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, mrkdwn, false, false), nil, nil)
}

// stripMrkdwn makes What readable as a notification's plain text.
func stripMrkdwn(s string) string {
	return strings.NewReplacer("*", "", "`", "").Replace(s)
}
