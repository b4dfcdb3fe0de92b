package feeds_test

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/townhall/townhall/integrations/feeds"
	"github.com/townhall/townhall/slackapp/slacktest"
)

// itemClaim is the store key of a feed item's claim (subs.go's layout).
func itemClaim(sub, channel, itemID string) string {
	sum := sha256.Sum256([]byte(itemID))
	return "feeds/" + sub + "/" + channel + "/" + hex.EncodeToString(sum[:12])
}

// A process killed between claiming an item and posting it leaves a
// claim that nobody confirms. Polls while its lease lives must not take
// the item for posted: once the lease has ended, the item is posted, once.
func TestItemClaimedButNotPostedIsPostedAfterTheLease(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	b.feeds.set("/blog.xml", rssDoc([2]string{"1", "First"}), "application/rss+xml")
	if answer := ephemeral(t, b.env.Command(t, slacktest.AdminID, slacktest.GeneralID, "/feed", "add "+b.feeds.URL+"/blog.xml")); !strings.Contains(answer, "Added `1`") {
		t.Fatalf("answer %q", answer)
	}
	b.feeds.set("/blog.xml", rssDoc([2]string{"2", "Second"}, [2]string{"1", "First"}), "application/rss+xml")

	// The dying process claimed item 2, then was killed before posting.
	crashed := b.clock.Now()
	if ok, err := b.env.Store.Claim(t.Context(), itemClaim("1", slacktest.GeneralID, "2"), 10*time.Minute); err != nil || !ok {
		t.Fatalf("claim: %v, %v", ok, err)
	}
	b.restart(t)

	for _, at := range []time.Duration{time.Minute, 5 * time.Minute, 9 * time.Minute} { // the lease lives
		b.clock.Set(crashed.Add(at))
		if posts, err := b.run(t, feeds.JobFeed); err != nil || len(posts) != 0 {
			t.Fatalf("at +%s: posts %q, err %v; want nothing while the claim is held", at, texts(posts), err)
		}
	}
	b.clock.Set(crashed.Add(11 * time.Minute)) // the lease has ended
	posts, err := b.run(t, feeds.JobFeed)
	if err != nil {
		t.Fatal(err)
	}
	wantPosts(t, posts, slacktest.GeneralID, "Second")

	b.restart(t)
	for _, at := range []time.Duration{12 * time.Minute, 30 * time.Minute} {
		b.clock.Set(crashed.Add(at))
		if posts, err := b.run(t, feeds.JobFeed); err != nil || len(posts) != 0 {
			t.Fatalf("at +%s: posts %q, err %v; want the item posted once", at, texts(posts), err)
		}
	}
}
