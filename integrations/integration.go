// Package integrations defines the one small interface every integration
// implements and the Host that serves them. It imports the runtime packages
// (slackapp, scheduler, store) and never an integration: integrations live in
// its subpackages and never import one another.
package integrations

import (
	"context"

	"github.com/townhall/townhall/scheduler"
	"github.com/townhall/townhall/slackapp"
)

// Integration is what an integration contributes, declaratively: its name
// (used in configuration, logs and status), the Slack requests it handles
// and its scheduled jobs. Build one with its package's New; the host only
// reads these values once, at start-up.
type Integration interface {
	Name() string
	Handlers() slackapp.Handlers
	Jobs() []scheduler.Job
}

// Subcommander is implemented by integrations that add subcommands to the
// app's own command, such as "/townhall archive status".
type Subcommander interface {
	Subcommands() []Subcommand
}

// Subcommand is "/townhall <Name> [args]". The host routes to the longest
// matching Name, refuses Staff subcommands to non-staff politely, lists
// them in help, and hands the handler the request with Command.Text set to
// what follows Name.
type Subcommand struct {
	Name    string // one or more words: "archive status"
	Usage   string // "[channel]"
	Summary string
	Staff   bool
	Handler slackapp.Handler
}

// Runner is implemented by integrations with long-lived work beside their
// handlers and jobs (the archive's catch-up after every reconnect). The app
// runs it in a goroutine for as long as the runtime runs, cancels ctx at
// shutdown and waits for it to return.
type Runner interface {
	Run(ctx context.Context) error
}
