package slackapp

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// routes maps request names to handlers. It is filled by Register before
// Run and read concurrently after.
type routes struct {
	mu        sync.RWMutex
	commands  map[string]Command
	shortcuts map[string]Shortcut
	events    map[string]eventHandlers
	actions   map[string]Handler
	prefixes  []Action
}

func newRoutes() routes {
	return routes{
		commands:  make(map[string]Command),
		shortcuts: make(map[string]Shortcut),
		events:    make(map[string]eventHandlers),
		actions:   make(map[string]Handler),
	}
}

func (r *routes) add(h Handlers) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range h.Commands {
		if !strings.HasPrefix(c.Name, "/") || c.Handler == nil {
			return fmt.Errorf("slackapp: command %q needs a leading slash and a handler", c.Name)
		}
		if _, dup := r.commands[c.Name]; dup {
			return fmt.Errorf("slackapp: command %s registered twice", c.Name)
		}
		r.commands[c.Name] = c
	}
	for _, s := range h.Shortcuts {
		if s.CallbackID == "" || s.Handler == nil {
			return fmt.Errorf("slackapp: shortcut %q needs a callback ID and a handler", s.CallbackID)
		}
		if _, dup := r.shortcuts[s.CallbackID]; dup {
			return fmt.Errorf("slackapp: shortcut %s registered twice", s.CallbackID)
		}
		r.shortcuts[s.CallbackID] = s
	}
	for _, e := range h.Events {
		if e.Type == "" || e.Handler == nil {
			return fmt.Errorf("slackapp: event %q needs a type and a handler", e.Type)
		}
		r.events[e.Type] = append(r.events[e.Type], e.Handler)
	}
	for _, a := range h.Actions {
		if a.ActionID == "" || a.Handler == nil {
			return fmt.Errorf("slackapp: action %q needs an ID and a handler", a.ActionID)
		}
		if a.Prefix {
			r.prefixes = append(r.prefixes, a)
			continue
		}
		if _, dup := r.actions[a.ActionID]; dup {
			return fmt.Errorf("slackapp: action %s registered twice", a.ActionID)
		}
		r.actions[a.ActionID] = a.Handler
	}
	return nil
}

func (r *routes) command(name string) Handler {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if c, ok := r.commands[name]; ok {
		return c.Handler
	}
	return nil
}

func (r *routes) shortcut(id string) Handler {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if s, ok := r.shortcuts[id]; ok {
		return s.Handler
	}
	return nil
}

// event returns the handler of events of type typ: every handler
// registered for it, in turn (several integrations may need one event: the
// archive and translation both read messages); nil if there is none.
func (r *routes) event(typ string) Handler {
	r.mu.RLock()
	defer r.mu.RUnlock()
	switch hs := r.events[typ]; len(hs) {
	case 0:
		return nil
	case 1:
		return hs[0]
	default:
		return hs
	}
}

// eventHandlers are the handlers of one event type. Each sees the event
// whatever the others do: a failing or panicking one costs only itself,
// and the errors are joined.
type eventHandlers []Handler

func (hs eventHandlers) Handle(ctx context.Context, r *Request) error {
	var errs []error
	for _, h := range hs {
		errs = append(errs, safeHandle(ctx, h, r))
	}
	return errors.Join(errs...)
}

func (r *routes) action(id string) Handler {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if h, ok := r.actions[id]; ok {
		return h
	}
	for _, a := range r.prefixes {
		if strings.HasPrefix(id, a.ActionID) {
			return a.Handler
		}
	}
	return nil
}

func (r *routes) commandList() []Command {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]Command, 0, len(r.commands))
	for _, c := range r.commands {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Command) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func (r *routes) shortcutList() []Shortcut {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]Shortcut, 0, len(r.shortcuts))
	for _, s := range r.shortcuts {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b Shortcut) int { return strings.Compare(a.CallbackID, b.CallbackID) })
	return out
}

// dedup remembers recently handled request identities so a redelivery is
// acknowledged but not handled again. Slack redelivers within minutes
// (https://api.slack.com/apis/events-api#retries), so a window of ten
// minutes held in memory is enough for one process; entries older than the
// window are pruned as new ones arrive.
type dedup struct {
	mu     sync.Mutex
	window time.Duration
	seen   map[string]time.Time
	pruned time.Time
}

func newDedup(window time.Duration) *dedup {
	return &dedup{window: window, seen: make(map[string]time.Time)}
}

// first records keys at now and reports whether none of them was seen within
// the window.
func (d *dedup) first(keys []string, now time.Time) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if now.Sub(d.pruned) > d.window/10 {
		for k, t := range d.seen {
			if now.Sub(t) > d.window {
				delete(d.seen, k)
			}
		}
		d.pruned = now
	}
	fresh := true
	for _, k := range keys {
		if t, ok := d.seen[k]; ok && now.Sub(t) <= d.window {
			fresh = false
		}
	}
	for _, k := range keys {
		d.seen[k] = now
	}
	return fresh
}
