package calls

import (
	"context"

	"github.com/townhall/townhall/integrations"
)

var _ integrations.Checker = (*Integration)(nil)

// Health implements integrations.Checker: Zoom, when it is the provider,
// failing since its first failed meeting in a row (members get Jitsi
// rooms meanwhile).
func (i *Integration) Health(context.Context) []integrations.Health {
	if i.zoom == nil {
		return nil
	}
	return []integrations.Health{i.zoomOutage.Health("calls:zoom", "*Zoom* (for `/call`)",
		"Check the Server-to-Server OAuth app in Zoom's App Marketplace (still activated, scope `meeting:write:meeting:admin`) and `TOWNHALL_CALLS_ZOOM_…` in `townhall check`. Members get a Jitsi room meanwhile.")}
}
