// Package xapitest is a fake of the two X API v2 endpoints the feeds
// integration reads, served by net/http/httptest and speaking X's JSON:
// GET /2/users/by/username/:username and GET /2/users/:id/tweets with
// since_id, max_results, exclude, pagination_token, tweet.fields and the
// expansions for media, quoted posts and authors. It checks the bearer
// token as X does, keeps x-rate-limit-* headers per endpoint and answers
// 429 when a window is used up, counts requests and injects faults. Point
// an xapi.Client at it with Server.Config.
//
// It is for tests only; it imports the xapi package for its types and
// must never import an integration.
package xapitest

import (
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/townhall/townhall/integrations/feeds/xapi"
	"github.com/townhall/townhall/slackapp"
)

// Endpoint names one of the fake's endpoints.
type Endpoint string

// The fake's endpoints.
const (
	EndpointUserByUsername Endpoint = "users/by/username" // GET /2/users/by/username/:username
	EndpointUserTweets     Endpoint = "users/tweets"      // GET /2/users/:id/tweets
)

// DefaultRateLimit is the requests per 15-minute window the fake allows on
// each endpoint unless SetRateLimit says otherwise.
const DefaultRateLimit = 900

// window is X's rate-limit window (https://docs.x.com/x-api/fundamentals/rate-limits).
const window = 15 * time.Minute

// Option configures a Server.
type Option func(*Server)

// WithClock makes the fake read the time (rate-limit windows, post
// creation times) from now; share it with the code under test.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// Server is a running fake. Its token is random per server.
type Server struct {
	URL   string // the API base, ending in /2
	Token slackapp.Secret

	srv *httptest.Server
	now func() time.Time

	mu       sync.Mutex
	users    map[string]xapi.User // by ID
	byName   map[string]string    // lower-case username -> ID
	posts    map[string][]stored  // user ID -> posts, oldest first
	byID     map[string]stored
	media    map[string]xapi.Media
	nextID   int64
	limits   map[Endpoint]*limit
	faults   map[Endpoint]fault
	requests map[Endpoint]int
	queries  map[Endpoint][]url.Values
}

type stored struct {
	tweet  xapi.Tweet
	userID string
}

type limit struct {
	limit, remaining int
	reset            time.Time
}

type fault struct {
	n, status int
}

// New starts a fake X API and closes it when tb's test ends.
func New(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	s := &Server{
		Token:    slackapp.Secret("AAAAAAAAAAAAAAAAAAAAA" + hex.EncodeToString(b)),
		now:      time.Now,
		users:    map[string]xapi.User{},
		byName:   map[string]string{},
		posts:    map[string][]stored{},
		byID:     map[string]stored{},
		media:    map[string]xapi.Media{},
		nextID:   1790000000000000000,
		limits:   map[Endpoint]*limit{},
		faults:   map[Endpoint]fault{},
		requests: map[Endpoint]int{},
		queries:  map[Endpoint][]url.Values{},
	}
	for _, o := range opts {
		o(s)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2/users/by/username/{username}", s.serveUserByUsername)
	mux.HandleFunc("GET /2/users/{id}/tweets", s.serveUserTweets)
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL + "/2"
	tb.Cleanup(s.srv.Close)
	return s
}

// Config returns an xapi.Config for the fake.
func (s *Server) Config() xapi.Config {
	return xapi.Config{BaseURL: s.URL, BearerToken: s.Token}
}

// AddUser creates an account; an empty ID is given one. It returns the user.
func (s *Server) AddUser(u xapi.User) xapi.User {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u.ID == "" {
		u.ID = strconv.FormatInt(1000+int64(len(s.users)), 10)
	}
	if u.Name == "" {
		u.Name = u.Username
	}
	s.users[u.ID] = u
	s.byName[strings.ToLower(u.Username)] = u.ID
	return u
}

// Post is a post to publish on the fake.
type Post struct {
	Text string
	// ReplyTo, Retweet and Quote are IDs of earlier posts (of any user) this
	// one replies to, reposts or quotes.
	ReplyTo, Retweet, Quote string
	// Media are attached; their keys are assigned when empty.
	Media []xapi.Media
	// URLs are link entities in Text.
	URLs []xapi.URLEntity
	// CreatedAt defaults to the fake's clock.
	CreatedAt time.Time
}

// Publish adds a post to userID's timeline with the next (increasing) ID
// and returns that ID.
func (s *Server) Publish(userID string, p Post) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID += 1 + s.nextID%7 // IDs grow, not contiguously, as snowflakes do
	t := xapi.Tweet{ID: strconv.FormatInt(s.nextID, 10), Text: p.Text, AuthorID: userID, CreatedAt: p.CreatedAt}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = s.now().UTC().Truncate(time.Millisecond)
	}
	for _, ref := range []struct{ typ, id string }{{xapi.RefRepliedTo, p.ReplyTo}, {xapi.RefRetweeted, p.Retweet}, {xapi.RefQuoted, p.Quote}} {
		if ref.id != "" {
			t.ReferencedTweets = append(t.ReferencedTweets, xapi.ReferencedTweet{Type: ref.typ, ID: ref.id})
		}
	}
	for i, m := range p.Media {
		if m.MediaKey == "" {
			m.MediaKey = "3_" + t.ID + "_" + strconv.Itoa(i)
		}
		s.media[m.MediaKey] = m
		if t.Attachments == nil {
			t.Attachments = &xapi.Attachments{}
		}
		t.Attachments.MediaKeys = append(t.Attachments.MediaKeys, m.MediaKey)
	}
	if len(p.URLs) > 0 {
		t.Entities = &xapi.Entities{URLs: p.URLs}
	}
	st := stored{tweet: t, userID: userID}
	s.posts[userID] = append(s.posts[userID], st)
	s.byID[t.ID] = st
	return t.ID
}

// SetRateLimit sets the endpoint's window: remaining requests until reset.
// At zero remaining, requests get 429 until the fake's clock passes reset.
func (s *Server) SetRateLimit(e Endpoint, remaining int, reset time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits[e] = &limit{limit: DefaultRateLimit, remaining: remaining, reset: reset}
}

// FailNext makes the next n requests to e fail with status and X's
// problem JSON, before any other check.
func (s *Server) FailNext(e Endpoint, n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[e] = fault{n: n, status: status}
}

// Requests reports how many requests e received, failed ones included.
func (s *Server) Requests(e Endpoint) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[e]
}

// Queries returns the query parameters of every request e received.
func (s *Server) Queries(e Endpoint) []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.queries[e])
}

// begin counts a request and applies auth, faults and rate limits; it
// reports whether the handler should go on. It must be called without s.mu.
func (s *Server) begin(w http.ResponseWriter, r *http.Request, e Endpoint) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests[e]++
	s.queries[e] = append(s.queries[e], r.URL.Query())
	if f := s.faults[e]; f.n > 0 {
		f.n--
		s.faults[e] = f
		writeProblem(w, f.status, http.StatusText(f.status), http.StatusText(f.status))
		return false
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || !hmac.Equal([]byte(tok), []byte(s.Token.Reveal())) {
		writeProblem(w, http.StatusUnauthorized, "Unauthorized", "Unauthorized")
		return false
	}
	now := s.now()
	l := s.limits[e]
	if l == nil || !now.Before(l.reset) {
		l = &limit{limit: DefaultRateLimit, remaining: DefaultRateLimit, reset: now.Add(window).Truncate(time.Second)}
		s.limits[e] = l
	}
	h := w.Header()
	h.Set("x-rate-limit-limit", strconv.Itoa(l.limit))
	h.Set("x-rate-limit-reset", strconv.FormatInt(l.reset.Unix(), 10))
	if l.remaining <= 0 {
		h.Set("x-rate-limit-remaining", "0")
		writeProblem(w, http.StatusTooManyRequests, "Too Many Requests", "Too Many Requests")
		return false
	}
	l.remaining--
	h.Set("x-rate-limit-remaining", strconv.Itoa(l.remaining))
	return true
}

func (s *Server) serveUserByUsername(w http.ResponseWriter, r *http.Request) {
	if !s.begin(w, r, EndpointUserByUsername) {
		return
	}
	name := r.PathValue("username")
	if !xapi.ValidUsername(name) {
		writeJSON(w, http.StatusBadRequest, map[string]any{
			"errors": []map[string]any{{"parameters": map[string]any{"username": []string{name}},
				"message": "The `username` query parameter value [" + name + "] does not match ^[A-Za-z0-9_]{1,15}$"}},
			"title": "Invalid Request", "detail": "One or more parameters to your request was invalid.",
			"type": "https://api.twitter.com/2/problems/invalid-request",
		})
		return
	}
	s.mu.Lock()
	u, ok := s.users[s.byName[strings.ToLower(name)]]
	s.mu.Unlock()
	if !ok {
		writeJSON(w, http.StatusOK, map[string]any{"errors": []map[string]any{{
			"value": name, "detail": "Could not find user with username: [" + name + "].",
			"title": "Not Found Error", "resource_type": "user", "parameter": "username", "resource_id": name,
			"type": "https://api.twitter.com/2/problems/resource-not-found",
		}}})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": userJSON(u, r.URL.Query())})
}

func userJSON(u xapi.User, q url.Values) map[string]any {
	m := map[string]any{"id": u.ID, "name": u.Name, "username": u.Username}
	if fieldWanted(q, "user.fields", "profile_image_url") && u.ProfileImageURL != "" {
		m["profile_image_url"] = u.ProfileImageURL
	}
	return m
}

func fieldWanted(q url.Values, param, field string) bool {
	return slices.Contains(strings.Split(q.Get(param), ","), field)
}

func (s *Server) serveUserTweets(w http.ResponseWriter, r *http.Request) {
	if !s.begin(w, r, EndpointUserTweets) {
		return
	}
	q := r.URL.Query()
	max := 10
	if v := q.Get("max_results"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < xapi.MinMaxResults || n > xapi.MaxMaxResults {
			writeJSON(w, http.StatusBadRequest, map[string]any{
				"errors": []map[string]any{{"parameters": map[string]any{"max_results": []string{v}},
					"message": "The `max_results` query parameter value [" + v + "] is not between 5 and 100"}},
				"title": "Invalid Request", "detail": "One or more parameters to your request was invalid.",
				"type": "https://api.twitter.com/2/problems/invalid-request",
			})
			return
		}
		max = n
	}
	exclude := strings.Split(q.Get("exclude"), ",")
	before := "" // pagination: only posts older than this ID
	if tok := q.Get("pagination_token"); tok != "" {
		b, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil {
			writeProblem(w, http.StatusBadRequest, "Invalid Request", "The `pagination_token` query parameter value is not valid")
			return
		}
		before = string(b)
	}
	since := q.Get("since_id")

	s.mu.Lock()
	defer s.mu.Unlock()
	id := r.PathValue("id")
	if _, ok := s.users[id]; !ok {
		writeJSON(w, http.StatusOK, map[string]any{"errors": []map[string]any{{
			"value": id, "detail": "Could not find user with id: [" + id + "].", "title": "Not Found Error",
			"resource_type": "user", "parameter": "id", "resource_id": id,
			"type": "https://api.twitter.com/2/problems/resource-not-found",
		}}})
		return
	}
	var matched []stored // newest first
	all := s.posts[id]
	for i := len(all) - 1; i >= 0; i-- {
		st := all[i]
		t := st.tweet
		if since != "" && xapi.CompareIDs(t.ID, since) <= 0 {
			break
		}
		if before != "" && xapi.CompareIDs(t.ID, before) >= 0 {
			continue
		}
		if slices.Contains(exclude, "replies") && hasRef(t, xapi.RefRepliedTo) ||
			slices.Contains(exclude, "retweets") && hasRef(t, xapi.RefRetweeted) {
			continue
		}
		matched = append(matched, st)
	}
	page := matched
	meta := map[string]any{"result_count": 0}
	if len(page) > max {
		page = page[:max]
		meta["next_token"] = base64.RawURLEncoding.EncodeToString([]byte(page[len(page)-1].tweet.ID))
	}
	body := map[string]any{"meta": meta}
	if len(page) > 0 {
		meta["result_count"] = len(page)
		meta["newest_id"] = page[0].tweet.ID
		meta["oldest_id"] = page[len(page)-1].tweet.ID
		data := make([]map[string]any, 0, len(page))
		inc := includes{}
		for _, st := range page {
			data = append(data, s.tweetJSON(st.tweet, q))
			s.expandLocked(st.tweet, q, &inc)
		}
		body["data"] = data
		if m := inc.json(); len(m) > 0 {
			body["includes"] = m
		}
	}
	writeJSON(w, http.StatusOK, body)
}

func hasRef(t xapi.Tweet, typ string) bool {
	for _, r := range t.ReferencedTweets {
		if r.Type == typ {
			return true
		}
	}
	return false
}

// tweetJSON renders t with the tweet.fields asked for (id and text always).
func (s *Server) tweetJSON(t xapi.Tweet, q url.Values) map[string]any {
	m := map[string]any{"id": t.ID, "text": t.Text, "edit_history_tweet_ids": []string{t.ID}}
	if fieldWanted(q, "tweet.fields", "created_at") {
		m["created_at"] = t.CreatedAt.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	if fieldWanted(q, "tweet.fields", "author_id") {
		m["author_id"] = t.AuthorID
	}
	if fieldWanted(q, "tweet.fields", "attachments") && t.Attachments != nil {
		m["attachments"] = t.Attachments
	}
	if fieldWanted(q, "tweet.fields", "referenced_tweets") && len(t.ReferencedTweets) > 0 {
		m["referenced_tweets"] = t.ReferencedTweets
	}
	if fieldWanted(q, "tweet.fields", "entities") && t.Entities != nil {
		m["entities"] = t.Entities
	}
	return m
}

type includes struct {
	media  []map[string]any
	users  []map[string]any
	tweets []map[string]any
	seen   map[string]bool
}

func (inc *includes) once(key string) bool {
	if inc.seen == nil {
		inc.seen = map[string]bool{}
	}
	if inc.seen[key] {
		return false
	}
	inc.seen[key] = true
	return true
}

func (inc *includes) json() map[string]any {
	m := map[string]any{}
	if len(inc.media) > 0 {
		m["media"] = inc.media
	}
	if len(inc.users) > 0 {
		m["users"] = inc.users
	}
	if len(inc.tweets) > 0 {
		m["tweets"] = inc.tweets
	}
	return m
}

// expandLocked adds to inc what q's expansions ask for about t.
func (s *Server) expandLocked(t xapi.Tweet, q url.Values, inc *includes) {
	if fieldWanted(q, "expansions", "author_id") {
		if u, ok := s.users[t.AuthorID]; ok && inc.once("u"+u.ID) {
			inc.users = append(inc.users, userJSON(u, q))
		}
	}
	if fieldWanted(q, "expansions", "attachments.media_keys") && t.Attachments != nil {
		for _, k := range t.Attachments.MediaKeys {
			if m, ok := s.media[k]; ok && inc.once("m"+k) {
				mj := map[string]any{"media_key": k, "type": m.Type}
				for field, v := range map[string]string{"url": m.URL, "preview_image_url": m.PreviewImageURL, "alt_text": m.AltText} {
					if v != "" && fieldWanted(q, "media.fields", field) {
						mj[field] = v
					}
				}
				inc.media = append(inc.media, mj)
			}
		}
	}
	if fieldWanted(q, "expansions", "referenced_tweets.id") {
		for _, ref := range t.ReferencedTweets {
			st, ok := s.byID[ref.ID]
			if !ok || !inc.once("t"+ref.ID) {
				continue
			}
			inc.tweets = append(inc.tweets, s.tweetJSON(st.tweet, q))
			if fieldWanted(q, "expansions", "referenced_tweets.id.author_id") {
				if u, ok := s.users[st.userID]; ok && inc.once("u"+u.ID) {
					inc.users = append(inc.users, userJSON(u, q))
				}
			}
		}
	}
}

// writeProblem writes X's problem JSON
// (https://docs.x.com/x-api/fundamentals/response-codes-and-errors).
func writeProblem(w http.ResponseWriter, status int, title, detail string) {
	writeJSON(w, status, map[string]any{"title": title, "detail": detail, "type": "about:blank", "status": status})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client went away; nothing to do
}
