package feeds

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/townhall/townhall/integrations/feeds/xapi"
)

// Store layout. The store offers key-value settings and cursors but no
// listing by prefix, so the subscriptions added in Slack are one record:
//
//	setting feeds/subscriptions   {"next_id": 8, "subs": [Subscription…]}
//	cursor  feeds/state/<sub ID>  state (JSON)
//	claim   feeds/<sub ID>/<channel ID>/<hash of item ID>
//
// where the hash is the first 12 bytes of the item ID's SHA-256, in hex.
//
// IDs are never reused (next_id only grows), so a removed subscription's
// claims can never suppress a new one's items.
const (
	subsKey     = "feeds/subscriptions"
	statePrefix = "feeds/state/"
)

type subsRecord struct {
	NextID int            `json:"next_id"`
	Subs   []Subscription `json:"subs"`
}

// stored reads the subscriptions added in Slack. Callers editing them hold
// i.subsMu.
func (i *Integration) stored(ctx context.Context) (subsRecord, error) {
	var rec subsRecord
	v, ok, err := i.settings.Setting(ctx, subsKey)
	if err != nil {
		return rec, fmt.Errorf("read subscriptions: %w", err)
	}
	if !ok {
		return subsRecord{NextID: 1}, nil
	}
	if err := json.Unmarshal([]byte(v), &rec); err != nil {
		return rec, fmt.Errorf("decode subscriptions: %w", err)
	}
	if rec.NextID < 1 {
		rec.NextID = 1
	}
	return rec, nil
}

func (i *Integration) saveStored(ctx context.Context, rec subsRecord) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode subscriptions: %w", err)
	}
	if err := i.settings.SetSetting(ctx, subsKey, string(b)); err != nil {
		return fmt.Errorf("save subscriptions: %w", err)
	}
	return nil
}

// subscriptions returns every subscription: the environment's, then those
// added in Slack.
func (i *Integration) subscriptions(ctx context.Context) ([]Subscription, error) {
	rec, err := i.stored(ctx)
	if err != nil {
		return nil, err
	}
	return append(slices.Clone(i.envSubs), rec.Subs...), nil
}

// add stores a new subscription and returns it with its ID.
func (i *Integration) add(ctx context.Context, sub Subscription) (Subscription, error) {
	i.subsMu.Lock()
	defer i.subsMu.Unlock()
	rec, err := i.stored(ctx)
	if err != nil {
		return sub, err
	}
	sub.ID = strconv.Itoa(rec.NextID)
	rec.NextID++
	rec.Subs = append(rec.Subs, sub)
	return sub, i.saveStored(ctx, rec)
}

// remove deletes a subscription added in Slack; ok is false if there was
// none with that ID.
func (i *Integration) remove(ctx context.Context, id string) (Subscription, bool, error) {
	i.subsMu.Lock()
	defer i.subsMu.Unlock()
	rec, err := i.stored(ctx)
	if err != nil {
		return Subscription{}, false, err
	}
	k := slices.IndexFunc(rec.Subs, func(s Subscription) bool { return s.ID == id })
	if k < 0 {
		return Subscription{}, false, nil
	}
	sub := rec.Subs[k]
	rec.Subs = slices.Delete(rec.Subs, k, k+1)
	return sub, true, i.saveStored(ctx, rec)
}

// state is a subscription's position in its source, kept as a cursor.
type state struct {
	// Started is set by the first successful poll, which posts at most
	// Config.Backfill items and records the rest as seen.
	Started bool `json:"started"`
	// Feeds: the validators for conditional GET and the IDs of the items
	// in the last document fetched.
	ETag         string   `json:"etag,omitempty"`
	LastModified string   `json:"last_modified,omitempty"`
	Seen         []string `json:"seen,omitempty"`
	// X: the newest post seen, and the account (looked up once).
	SinceID string    `json:"since_id,omitempty"`
	XUser   xapi.User `json:"x_user"`
	// LastItem is when the last item was posted, for status.
	LastItem time.Time `json:"last_item"`
	// Held are items whose claims someone else held when they were due,
	// tried again until their lease must have ended (see heldItem).
	Held []heldItem `json:"held,omitempty"`
}

// maxSeen bounds the item IDs remembered per feed: more than any sane
// feed document holds.
const maxSeen = 1000

func (i *Integration) loadState(ctx context.Context, id string) (state, error) {
	var st state
	v, ok, err := i.cursors.Cursor(ctx, statePrefix+id)
	if err != nil || !ok {
		return st, err
	}
	if err := json.Unmarshal([]byte(v), &st); err != nil {
		return state{}, fmt.Errorf("decode state of subscription %s: %w", id, err)
	}
	return st, nil
}

func (i *Integration) saveState(ctx context.Context, id string, st state) error {
	b, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("encode state of subscription %s: %w", id, err)
	}
	if err := i.cursors.SetCursor(ctx, statePrefix+id, string(b)); err != nil {
		return fmt.Errorf("save state of subscription %s: %w", id, err)
	}
	return nil
}
