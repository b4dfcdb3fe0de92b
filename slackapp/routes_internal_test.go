package slackapp

import (
	"context"
	"strings"
	"testing"
)

// TestEveryHandlerOfAnEventSeesIt: the archive and translation both read
// message events; each sees every one, whatever the other does.
func TestEveryHandlerOfAnEventSeesIt(t *testing.T) {
	t.Parallel()
	r := newRoutes()
	var seen []string
	for _, name := range []string{"archive", "translate"} {
		err := r.add(Handlers{Events: []Event{{Type: "message", Handler: HandlerFunc(func(context.Context, *Request) error {
			seen = append(seen, name)
			if name == "archive" {
				panic("archive broke")
			}
			return nil
		})}}})
		if err != nil {
			t.Fatalf("add %s: %v", name, err)
		}
	}
	err := r.event("message").Handle(t.Context(), &Request{})
	if strings.Join(seen, ",") != "archive,translate" {
		t.Errorf("handlers run: %v; want both, in order", seen)
	}
	if err == nil || !strings.Contains(err.Error(), "handler panic: archive broke") {
		t.Errorf("err = %v; want the first handler's panic reported", err)
	}
	if r.event("reaction_added") != nil {
		t.Error("an event nobody registered has a handler")
	}
}
