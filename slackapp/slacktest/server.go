package slacktest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// TB is the part of testing.TB that New needs. *testing.T, *testing.B and
// *testing.F satisfy it; this package does not import "testing".
type TB interface {
	Helper()
	Cleanup(func())
	Logf(format string, args ...any)
}

// ErrClosed is returned by calls that wait on a Server that has been closed.
var ErrClosed = errors.New("slacktest: server closed")

// Option configures a Server.
type Option func(*config)

type config struct {
	addr            string
	logger          *slog.Logger
	now             func() time.Time
	team            Team
	bot             Bot
	users           []User
	channels        []Channel
	appToken        string
	botToken        string
	pingInterval    time.Duration
	disconnectGrace time.Duration
	ticketTTL       time.Duration
	triggerTTL      time.Duration
	maxConnections  int
}

// Defaults of the timing options.
const (
	// DefaultPingInterval is how often the server pings each connection.
	DefaultPingInterval = 5 * time.Second
	// DefaultDisconnectGrace is how long Disconnect waits before closing.
	DefaultDisconnectGrace = 100 * time.Millisecond
	// DefaultTicketTTL is how long a WebSocket URL from apps.connections.open
	// stays usable.
	DefaultTicketTTL = 30 * time.Second
	// DefaultTriggerTTL is how long a trigger_id can be exchanged for a view;
	// Slack's limit is 3 s (https://api.slack.com/interactivity/handling#modal_responses).
	DefaultTriggerTTL = 3 * time.Second
	// DefaultMaxConnections is Slack's limit of concurrent Socket Mode
	// connections per app (https://api.slack.com/apis/connections/socket#connections).
	DefaultMaxConnections = 10
)

// WithAddr sets the listen address (default "127.0.0.1:0", a free port).
func WithAddr(addr string) Option { return func(c *config) { c.addr = addr } }

// WithLogger sets where the server logs. New logs to tb.Logf by default,
// Start discards logs by default.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithClock sets the clock used for message timestamps and for the expiry of
// tickets, trigger IDs and response URLs (default time.Now). Latencies
// (Envelope.Sent, Ack.Received) always use the real clock.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithTeam replaces the default team (T0TOWNHALL, "townhall-test").
func WithTeam(t Team) Option { return func(c *config) { c.team = t } }

// WithBot replaces the default bot user (U0BOT "townhall", B0BOT, A0TOWNHALL).
func WithBot(b Bot) Option { return func(c *config) { c.bot = b } }

// WithUser adds a user to the workspace, or replaces the one with its ID.
func WithUser(u User) Option { return func(c *config) { c.users = append(c.users, u) } }

// WithChannel adds a channel to the workspace, or replaces the one with its ID.
func WithChannel(ch Channel) Option { return func(c *config) { c.channels = append(c.channels, ch) } }

// WithTokens sets the app-level and bot tokens the server accepts instead of
// random ones.
func WithTokens(appToken, botToken string) Option {
	return func(c *config) { c.appToken, c.botToken = appToken, botToken }
}

// WithPingInterval sets how often each connection is pinged (default 5 s).
// A connection that answers no ping for three intervals (at least 2 s, so a loaded test machine does not drop a healthy client)
// is closed.
func WithPingInterval(d time.Duration) Option { return func(c *config) { c.pingInterval = d } }

// WithDisconnectGrace sets how long Disconnect waits between sending the
// disconnect message and closing (default 100 ms; Slack waits about 10 s).
func WithDisconnectGrace(d time.Duration) Option {
	return func(c *config) { c.disconnectGrace = d }
}

// WithTicketTTL sets how long a WebSocket URL stays usable (default 30 s).
func WithTicketTTL(d time.Duration) Option { return func(c *config) { c.ticketTTL = d } }

// WithTriggerTTL sets how long a trigger_id stays usable (default 3 s).
func WithTriggerTTL(d time.Duration) Option { return func(c *config) { c.triggerTTL = d } }

// WithMaxConnections sets how many Socket Mode connections may be open at
// once (default 10).
func WithMaxConnections(n int) Option { return func(c *config) { c.maxConnections = n } }

// Server is a running fake Slack workspace. Its methods are safe for
// concurrent use.
type Server struct {
	cfg      config
	log      *slog.Logger
	now      func() time.Time
	dir      *directory // replaced under mu when a channel is added or renamed
	verifier string     // the deprecated verification token carried in payloads
	base     string     // "http://127.0.0.1:PORT"
	http     *http.Server
	upgrader websocket.Upgrader

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // every goroutine the server starts
	closed chan struct{}  // closed when Close has finished
	once   sync.Once

	mu           sync.Mutex
	stopping     bool
	changed      chan struct{} // closed and replaced on every change of state
	users        map[string]*User
	userOrder    []string // user IDs in the order users.list lists them
	channels     map[string]*channel
	channelOrder []string // channel IDs in order of creation, DMs included
	calls        map[string]int
	faults       map[string][]fault
	posts        []Post
	views        []View
	acks         []Ack
	messages     []*message
	timelines    map[string]*timeline // conversation histories by channel ID
	tickets      map[string]time.Time
	triggers     map[string]*trigger
	responseURLs map[string]*responseURL
	conns        []*conn // registered connections, in order of connection
	rr           int     // round-robin cursor over conns
	connSeq      int
	connected    int // connections that received hello, ever
	envelopes    map[string]*envelope
	lastTS       int64       // microseconds of the last ts handed out
	files        hostedFiles // files.info, file downloads and avatars (files.go)
}

// New starts a Server for a test and closes it when the test ends. Unless
// WithLogger is given, the server logs through tb.Logf. TB has no Fatal, so
// New panics if the server cannot start (no loopback, or an invalid Option).
func New(tb TB, opts ...Option) *Server {
	tb.Helper()
	opts = append([]Option{WithLogger(slog.New(slog.NewTextHandler(tbWriter{tb}, nil)))}, opts...)
	s, err := Start(opts...)
	if err != nil {
		panic(fmt.Sprintf("slacktest.New: %v", err))
	}
	tb.Cleanup(s.Close)
	return s
}

// tbWriter turns each log record (one Write call) into one tb.Logf line.
type tbWriter struct{ tb TB }

func (w tbWriter) Write(p []byte) (int, error) {
	w.tb.Logf("slacktest: %s", strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// Start starts a Server; the caller must Close it.
func Start(opts ...Option) (*Server, error) {
	cfg := config{
		addr:            "127.0.0.1:0",
		now:             time.Now,
		team:            Team{ID: DefaultTeamID, Name: DefaultTeamName, Domain: DefaultTeamName},
		bot:             Bot{UserID: DefaultBotUserID, BotID: DefaultBotID, AppID: DefaultAppID, Name: DefaultBotName},
		users:           defaultUsers(),
		channels:        defaultChannels(),
		pingInterval:    DefaultPingInterval,
		disconnectGrace: DefaultDisconnectGrace,
		ticketTTL:       DefaultTicketTTL,
		triggerTTL:      DefaultTriggerTTL,
		maxConnections:  DefaultMaxConnections,
	}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.logger == nil {
		cfg.logger = slog.New(slog.DiscardHandler)
	}
	if cfg.pingInterval <= 0 {
		return nil, fmt.Errorf("slacktest: ping interval must be positive, got %v", cfg.pingInterval)
	}
	if cfg.maxConnections <= 0 {
		return nil, fmt.Errorf("slacktest: max connections must be positive, got %d", cfg.maxConnections)
	}
	if cfg.appToken == "" {
		cfg.appToken = "xapp-1-" + cfg.bot.AppID + "-" + randomDigits(13) + "-" + randomHex(32)
	}
	if cfg.botToken == "" {
		cfg.botToken = "xoxb-" + randomDigits(12) + "-" + randomDigits(13) + "-" + randomAlnum(24)
	}

	s := &Server{
		cfg:          cfg,
		log:          cfg.logger,
		now:          cfg.now,
		verifier:     randomAlnum(24),
		closed:       make(chan struct{}),
		changed:      make(chan struct{}),
		users:        map[string]*User{},
		channels:     map[string]*channel{},
		calls:        map[string]int{},
		faults:       map[string][]fault{},
		tickets:      map[string]time.Time{},
		triggers:     map[string]*trigger{},
		responseURLs: map[string]*responseURL{},
		envelopes:    map[string]*envelope{},
		timelines:    map[string]*timeline{},
	}
	created := cfg.now().Add(-24 * time.Hour).Unix()
	dir := &directory{users: map[string]string{}, channels: map[string]string{}}
	botUser := User{ID: cfg.bot.UserID, Name: cfg.bot.Name, RealName: cfg.bot.Name, IsBot: true}
	for _, u := range append([]User{botUser}, cfg.users...) {
		if _, ok := s.users[u.ID]; !ok {
			s.userOrder = append(s.userOrder, u.ID)
		}
		s.users[u.ID] = &u
		dir.users[u.ID] = u.Name
	}
	for _, ch := range cfg.channels {
		if _, ok := s.channels[ch.ID]; !ok {
			s.channelOrder = append(s.channelOrder, ch.ID)
		}
		s.channels[ch.ID] = &channel{Channel: ch, created: created}
		dir.channels[ch.ID] = ch.Name
	}
	s.dir = dir

	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return nil, fmt.Errorf("slacktest: listen on %s: %w", cfg.addr, err)
	}
	s.base = "http://" + ln.Addr().String()
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.upgrader = websocket.Upgrader{
		// Slack's clients send Origin: https://api.slack.com; accept any.
		CheckOrigin: func(*http.Request) bool { return true },
	}

	mux := http.NewServeMux()
	mux.HandleFunc("/api/{method}", s.serveAPI)
	mux.HandleFunc("POST /response/{id}", s.serveResponseURL)
	mux.HandleFunc("GET /link/", s.serveLink)
	mux.HandleFunc("GET /files-pri/", s.serveFile)
	mux.HandleFunc("GET /avatars/", s.serveAvatar)
	s.http = &http.Server{
		Handler:           s.track(mux),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(cfg.logger.Handler(), slog.LevelWarn),
	}
	s.wg.Go(func() {
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("serve", "err", err)
		}
	})
	s.log.Debug("started", "url", s.base)
	return s, nil
}

// track counts every request in s.wg, so that Close waits for handlers
// (including WebSocket connections, which http.Server forgets once hijacked).
func (s *Server) track(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		if s.stopping {
			s.mu.Unlock()
			http.Error(w, "server closed", http.StatusServiceUnavailable)
			return
		}
		s.wg.Add(1)
		s.mu.Unlock()
		defer s.wg.Done()
		h.ServeHTTP(w, r)
	})
}

// Close closes every connection, stops the server and waits for all of its
// goroutines. Calls that were waiting return ErrClosed. Close is idempotent.
func (s *Server) Close() {
	s.once.Do(func() {
		s.mu.Lock()
		s.stopping = true
		conns := append([]*conn(nil), s.conns...)
		s.notifyLocked()
		s.mu.Unlock()

		s.cancel()
		if err := s.http.Close(); err != nil {
			s.log.Warn("close http server", "err", err)
		}
		for _, c := range conns {
			c.abort()
		}
		s.wg.Wait()
		close(s.closed)
	})
	<-s.closed
}

// URL returns the server's base URL, "http://127.0.0.1:PORT".
func (s *Server) URL() string { return s.base }

// APIURL returns the Web API base URL, "http://127.0.0.1:PORT/api/", which
// is what SLACK_API_URL (slack.OptionAPIURL) is set to.
func (s *Server) APIURL() string { return s.base + "/api/" }

// AppToken returns the app-level token ("xapp-1-…") that apps.connections.open accepts.
func (s *Server) AppToken() string { return s.cfg.appToken }

// BotToken returns the bot token ("xoxb-…") that the other methods accept.
func (s *Server) BotToken() string { return s.cfg.botToken }

// Team returns the workspace's team.
func (s *Server) Team() Team { return s.cfg.team }

// Bot returns the app's bot user.
func (s *Server) Bot() Bot { return s.cfg.bot }

// User returns the user with the given ID.
func (s *Server) User(id string) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[id]
	if !ok {
		return User{}, false
	}
	return *u, true
}

// Channel returns the channel with the given ID as it is now (IsMember
// changes with conversations.join).
func (s *Server) Channel(id string) (Channel, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ok := s.channels[id]
	if !ok || ch.im {
		return Channel{}, false
	}
	return ch.Channel, true
}

// notifyLocked wakes every waiter. s.mu must be held.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// waitFor blocks until cond, called with s.mu held, returns true; or until
// ctx is done or the server is closed. cond may stop the wait with an error.
func (s *Server) waitFor(ctx context.Context, cond func() (bool, error)) error {
	for {
		s.mu.Lock()
		done, err := cond()
		ch, stopping := s.changed, s.stopping
		s.mu.Unlock()
		if done || err != nil {
			return err
		}
		if stopping {
			return ErrClosed
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// nextTSLocked returns a message timestamp ("1700000000.000100") later than
// every one before it. s.mu must be held.
func (s *Server) nextTSLocked() string {
	us := s.now().UnixMicro()
	if us <= s.lastTS {
		us = s.lastTS + 1
	}
	s.lastTS = us
	return fmt.Sprintf("%d.%06d", us/1e6, us%1e6)
}

// Random identifiers. crypto/rand: tickets, tokens and response URLs are
// things a stranger must not guess.

func randomHex(n int) string {
	b := make([]byte, (n+1)/2)
	_, _ = rand.Read(b) // never fails (crypto/rand docs)
	return hex.EncodeToString(b)[:n]
}

const digits = "0123456789"
const alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

func randomFrom(alphabet string, n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

func randomDigits(n int) string { return randomFrom(digits, n) }
func randomAlnum(n int) string  { return randomFrom(alnum, n) }

// newUUID returns a random (version 4) UUID, the form of Slack's envelope IDs.
func newUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// newID returns an uppercase Slack-style ID such as "Ev0ABC123XYZ".
func newID(prefix string) string {
	return prefix + randomFrom("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 10)
}

// drain reads and discards the rest of a body so the connection can be reused.
func drain(r io.Reader) { _, _ = io.Copy(io.Discard, r) }
