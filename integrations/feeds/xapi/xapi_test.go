package xapi_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/townhall/townhall/integrations/feeds/xapi"
	"github.com/townhall/townhall/integrations/feeds/xapitest"
	"github.com/townhall/townhall/slackapp"
)

func setup(t *testing.T) (*xapitest.Server, *xapi.Client) {
	t.Helper()
	srv := xapitest.New(t)
	c, err := xapi.New(srv.Config(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

func TestUserByUsername(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	want := srv.AddUser(xapi.User{Username: "TownhallHQ", Name: "Townhall", ProfileImageURL: "https://pbs.twimg.com/a_normal.jpg"})
	tests := []struct {
		name     string
		username string
		wantErr  error
	}{
		{"found, any case", "townhallhq", nil},
		{"unknown", "nobody", xapi.ErrNotFound},
		{"not a username", "no spaces", xapi.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := c.UserByUsername(t.Context(), tt.username)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && got != want {
				t.Errorf("got %+v, want %+v", got, want)
			}
			if tt.wantErr != nil && xapi.Retryable(err) {
				t.Errorf("Retryable(%v) = true", err)
			}
		})
	}
}

func TestUserTweetsPagesSinceIDAndExpansions(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	u := srv.AddUser(xapi.User{Username: "hq"})
	other := srv.AddUser(xapi.User{Username: "other", Name: "Other"})
	quoted := srv.Publish(other.ID, xapitest.Post{Text: "original"})
	var ids []string
	for i := range 12 {
		p := xapitest.Post{Text: "post " + string(rune('a'+i))}
		switch i {
		case 3:
			p.ReplyTo = quoted
		case 4:
			p.Retweet = quoted
		case 5:
			p.Quote = quoted
			p.Media = []xapi.Media{{Type: "photo", URL: "https://pbs.twimg.com/media/x.jpg", AltText: "a cat"}}
		}
		ids = append(ids, srv.Publish(u.ID, p))
	}

	// Since the third post, excluding replies and retweets, pages of 5.
	var got []xapi.Tweet
	req := xapi.TweetsRequest{SinceID: ids[2], MaxResults: 5, ExcludeReplies: true, ExcludeRetweets: true}
	for {
		page, err := c.UserTweets(t.Context(), u.ID, req)
		if err != nil {
			t.Fatal(err)
		}
		if !page.RateLimit.Known() || page.RateLimit.Remaining <= 0 {
			t.Errorf("rate limit headers not read: %+v", page.RateLimit)
		}
		for _, tw := range page.Tweets {
			if tw.ID == ids[5] {
				if len(page.Includes.Media) != 1 || page.Includes.Media[0].AltText != "a cat" {
					t.Errorf("media not expanded: %+v", page.Includes.Media)
				}
				if len(page.Includes.Tweets) != 1 || page.Includes.Tweets[0].ID != quoted {
					t.Errorf("quoted post not expanded: %+v", page.Includes.Tweets)
				}
				if tw.CreatedAt.IsZero() || len(tw.ReferencedTweets) != 1 || tw.ReferencedTweets[0].Type != xapi.RefQuoted {
					t.Errorf("fields missing: %+v", tw)
				}
			}
		}
		got = append(got, page.Tweets...)
		if page.Meta.NextToken == "" {
			break
		}
		req.PaginationToken = page.Meta.NextToken
	}
	if len(got) != 7 { // 12 - 3 older - 1 reply - 1 retweet
		t.Fatalf("got %d posts, want 7", len(got))
	}
	for i := 1; i < len(got); i++ {
		if xapi.CompareIDs(got[i-1].ID, got[i].ID) <= 0 {
			t.Errorf("not newest first: %s then %s", got[i-1].ID, got[i].ID)
		}
	}
	q := srv.Queries(xapitest.EndpointUserTweets)[0]
	if q.Get("exclude") != "replies,retweets" || q.Get("since_id") != ids[2] || !strings.Contains(q.Get("expansions"), "attachments.media_keys") {
		t.Errorf("query = %v", q)
	}
}

func TestRateLimitAndErrors(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	u := srv.AddUser(xapi.User{Username: "hq"})
	reset := time.Now().Add(7 * time.Minute).Truncate(time.Second)
	srv.SetRateLimit(xapitest.EndpointUserTweets, 0, reset)
	_, err := c.UserTweets(t.Context(), u.ID, xapi.TweetsRequest{})
	var rl *xapi.RateLimitError
	if !errors.As(err, &rl) || !rl.Reset.Equal(reset) {
		t.Fatalf("err = %v, want a rate limit until %v", err, reset)
	}
	if !xapi.Retryable(err) {
		t.Error("a rate limit should be retryable")
	}

	srv.SetRateLimit(xapitest.EndpointUserTweets, 10, reset)
	srv.FailNext(xapitest.EndpointUserTweets, 1, http.StatusServiceUnavailable)
	_, err = c.UserTweets(t.Context(), u.ID, xapi.TweetsRequest{})
	var ae *xapi.APIError
	if !errors.As(err, &ae) || ae.Status != 503 || !xapi.Retryable(err) {
		t.Errorf("503: err = %v", err)
	}
	if _, err := c.UserTweets(t.Context(), u.ID, xapi.TweetsRequest{MaxResults: 3}); err == nil {
		t.Error("max_results 3 accepted")
	}

	bad, err := xapi.New(xapi.Config{BaseURL: srv.URL, BearerToken: slackapp.Secret("wrong-token-value")}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = bad.UserByUsername(t.Context(), "hq")
	if !errors.As(err, &ae) || ae.Status != 401 || xapi.Retryable(err) {
		t.Errorf("bad token: err = %v", err)
	}
	if strings.Contains(err.Error(), "wrong-token-value") {
		t.Error("the token appears in the error")
	}
}

func TestNewChecksConfig(t *testing.T) {
	t.Parallel()
	if _, err := xapi.New(xapi.Config{BearerToken: "x", BaseURL: "ftp://x"}, nil, nil); err == nil {
		t.Error("ftp base accepted")
	}
	if _, err := xapi.New(xapi.Config{}, nil, nil); err == nil {
		t.Error("missing token accepted")
	}
}

func TestCompareIDs(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		a, b string
		want int
	}{{"9", "10", -1}, {"10", "9", 1}, {"1790000000000000001", "1790000000000000001", 0}, {"1790000000000000002", "1790000000000000011", -1}} {
		if got := xapi.CompareIDs(tt.a, tt.b); got != tt.want {
			t.Errorf("CompareIDs(%s, %s) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
