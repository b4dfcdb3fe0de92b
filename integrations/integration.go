// Package integrations defines the one small interface every integration
// implements and the Host that serves them. It imports the runtime packages
// (slackapp, scheduler, store) and never an integration: integrations live in
// its subpackages and never import one another.
package integrations

import (
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
