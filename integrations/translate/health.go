package translate

import (
	"context"
	"time"

	"github.com/townhall/townhall/integrations"
)

var _ integrations.Checker = (*Integration)(nil)

// recording is a provider whose every request is noted in an Outage.
type recording struct {
	provider
	o   *integrations.Outage
	now func() time.Time
}

func (r recording) translate(ctx context.Context, segs []string, source, target string) ([]translated, error) {
	out, err := r.provider.translate(ctx, segs, source, target)
	r.o.Record(r.now(), err)
	return out, err
}

func (r recording) detect(ctx context.Context, text, hint string) (string, int, error) {
	lang, sent, err := r.provider.detect(ctx, text, hint)
	r.o.Record(r.now(), err)
	return lang, sent, err
}

// Health implements integrations.Checker: the provider, failing since its
// first failed request in a row.
func (i *Integration) Health(context.Context) []integrations.Health {
	return []integrations.Health{i.outage.Health("translate:provider",
		"The translation provider *"+i.t.p.name()+"*",
		"Check its key (`TOWNHALL_TRANSLATE_…` in `townhall check`), its account's quota and billing, and its status page. Members are told when a translation fails; nothing is translated twice when it works again.")}
}
