package slackapp

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/slack-go/slack"
)

const staffCacheTTL = 5 * time.Minute

// staffChecker answers "is this user staff?" from TOWNHALL_STAFF_USERS and
// users.info (is_admin, is_owner, is_primary_owner), caching answers so a
// burst of commands costs one users.info per user.
type staffChecker struct {
	api    *slack.Client
	listed map[string]bool

	mu    sync.Mutex
	cache map[string]staffEntry
}

type staffEntry struct {
	staff bool
	until time.Time
}

func newStaffChecker(api *slack.Client, listed []string) *staffChecker {
	s := &staffChecker{api: api, listed: make(map[string]bool), cache: make(map[string]staffEntry)}
	for _, id := range listed {
		s.listed[id] = true
	}
	return s
}

func (s *staffChecker) isStaff(ctx context.Context, user string) (bool, error) {
	if s.listed[user] {
		return true, nil
	}
	now := time.Now()
	s.mu.Lock()
	e, ok := s.cache[user]
	s.mu.Unlock()
	if ok && now.Before(e.until) {
		return e.staff, nil
	}
	u, err := s.api.GetUserInfoContext(ctx, user)
	if err != nil {
		return false, fmt.Errorf("slack users.info %s: %w", user, err)
	}
	staff := u.IsAdmin || u.IsOwner || u.IsPrimaryOwner
	s.mu.Lock()
	s.cache[user] = staffEntry{staff: staff, until: now.Add(staffCacheTTL)}
	s.mu.Unlock()
	return staff, nil
}
