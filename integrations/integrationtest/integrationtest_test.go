package integrationtest_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/townhall/townhall/integrations"
	"github.com/townhall/townhall/integrations/integrationtest"
	"github.com/townhall/townhall/scheduler"
	"github.com/townhall/townhall/slackapp"
	"github.com/townhall/townhall/slackapp/slacktest"
)

type echo struct{ poster *slackapp.Poster }

func (echo) Name() string { return "echo" }
func (e echo) Handlers() slackapp.Handlers {
	return slackapp.Handlers{Commands: []slackapp.Command{{Name: "/echo", Handler: slackapp.HandlerFunc(
		func(ctx context.Context, r *slackapp.Request) error {
			return r.Reply(ctx, slackapp.Message{Text: r.Command.Text})
		})}}}
}
func (e echo) Jobs() []scheduler.Job {
	return []scheduler.Job{{Name: "echo.tick", Spec: "@hourly", Run: func(ctx context.Context, at time.Time) error {
		_, err := e.poster.Post(ctx, slacktest.GeneralID, slackapp.Message{Text: "tick " + at.Format(time.RFC3339)})
		return errors.Join(err, errors.New("tick done"))
	}}}
}

func TestEnv(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "t.db")
	build := func(e *integrationtest.Env) (integrations.Integration, error) { return echo{e.Runtime.Poster()}, nil }
	e := integrationtest.Start(t, integrationtest.Options{DatabasePath: db}, build)
	if posts := e.Command(t, slacktest.MemberID, slacktest.GeneralID, "/echo", "hi"); len(posts) != 1 || posts[0].Text != "hi" {
		t.Fatalf("got %+v", posts)
	}
	posts, err := e.RunJob(t, "echo.tick")
	if len(posts) != 1 || err == nil {
		t.Fatalf("got %+v, %v", posts, err)
	}
	e.Stop(t)

	// A restart on the same database and workspace.
	e2 := integrationtest.Start(t, integrationtest.Options{DatabasePath: db, Workspace: e.WS}, build)
	if posts := e2.Command(t, slacktest.MemberID, slacktest.GeneralID, "/echo", "again"); len(posts) != 1 {
		t.Fatalf("got %+v", posts)
	}
}
