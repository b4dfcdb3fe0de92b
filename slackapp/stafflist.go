package slackapp

import (
	"context"
	"fmt"
	"slices"

	"github.com/slack-go/slack"
)

// StaffUsers lists who is staff, to tell them something (staff alerts):
// TOWNHALL_STAFF_USERS when set, else the workspace's admins and owners
// (users.list), never bots or deactivated members.
func (rt *Runtime) StaffUsers(ctx context.Context) ([]string, error) {
	if len(rt.cfg.StaffUsers) > 0 {
		return slices.Clone(rt.cfg.StaffUsers), nil
	}
	users, err := rt.api.GetUsersContext(ctx, slack.GetUsersOptionLimit(200))
	if err != nil {
		return nil, fmt.Errorf("slack users.list: %w", err)
	}
	var out []string
	for _, u := range users {
		if !u.Deleted && !u.IsBot && (u.IsAdmin || u.IsOwner || u.IsPrimaryOwner) {
			out = append(out, u.ID)
		}
	}
	return out, nil
}
