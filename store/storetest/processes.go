package storetest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/townhall/townhall/store"
)

// Claims must hold across replicas, which are processes, not goroutines:
// each has its own connections, and a database that serialises only one
// process's statements would pass every goroutine test. ExerciseProcesses
// runs the test binary again as worker processes (RunWorker is their
// entry point, called from the driver's TestMain), each opening its own
// driver on one database, and they claim the same keys at the same moment.

const (
	envWorkerDSN  = "STORETEST_WORKER_DSN"
	envWorkerKeys = "STORETEST_WORKER_KEYS"
	envWorkerNow  = "STORETEST_WORKER_NOW"
)

// RunWorker makes the process a claim worker when ExerciseProcesses
// started it, and then exits; otherwise it returns at once. Call it first
// in the driver package's TestMain, with how to open a driver on the
// database ExerciseProcesses names.
//
// A worker opens its driver, says "ready", waits for "go" on stdin, then
// claims every key (at the time it was given, for a one-minute lease) and
// prints the keys it won, one per line.
func RunWorker(open func(ctx context.Context, dsn string) (store.Driver, error)) {
	dsn := os.Getenv(envWorkerDSN)
	if dsn == "" {
		return
	}
	if err := runWorker(open, dsn); err != nil {
		fmt.Fprintln(os.Stderr, "storetest worker:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func runWorker(open func(ctx context.Context, dsn string) (store.Driver, error), dsn string) error {
	ctx := context.Background()
	keys, err := strconv.Atoi(os.Getenv(envWorkerKeys))
	if err != nil {
		return fmt.Errorf("%s: %w", envWorkerKeys, err)
	}
	us, err := strconv.ParseInt(os.Getenv(envWorkerNow), 10, 64)
	if err != nil {
		return fmt.Errorf("%s: %w", envWorkerNow, err)
	}
	now := time.UnixMicro(us).UTC()
	d, err := open(ctx, dsn)
	if err != nil {
		return err
	}
	s := store.New(d, store.WithClock(func() time.Time { return now }))
	defer s.Close()
	fmt.Println("ready")
	if line, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil || line != "go\n" {
		return fmt.Errorf("want go on stdin, got %q, %v", line, err)
	}
	out := bufio.NewWriter(os.Stdout)
	for i := range keys {
		key := fmt.Sprintf("proc-key-%d", i)
		ok, err := s.Claim(ctx, key, time.Minute)
		if err != nil {
			return err
		}
		if ok {
			fmt.Fprintln(out, key)
		}
	}
	return out.Flush()
}

// ExerciseProcesses runs claims from several processes on the database dsn
// names, which must be empty and which newDriver opens too (the driver's
// TestMain must call RunWorker with the same meaning of dsn). Three rounds
// of workers, all started before any claims: on fresh keys exactly one
// process wins each; after the leases expire, exactly one again; once the
// keys are confirmed, none.
func ExerciseProcesses(t *testing.T, dsn string, newDriver func(t *testing.T) store.Driver) {
	t.Helper()
	const (
		workers = 4
		keys    = 100
	)
	start := epoch
	round := func(now time.Time) map[string]int {
		t.Helper()
		wins := make(map[string]int)
		type worker struct {
			cmd   *exec.Cmd
			stdin io.WriteCloser
			out   *bufio.Reader
		}
		var ws []worker
		for range workers {
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), envWorkerDSN+"="+dsn, envWorkerKeys+"="+strconv.Itoa(keys),
				envWorkerNow+"="+strconv.FormatInt(now.UnixMicro(), 10))
			cmd.Stderr = os.Stderr
			stdin, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			ws = append(ws, worker{cmd, stdin, bufio.NewReader(stdout)})
		}
		for i, w := range ws { // every worker has its driver open
			if line, err := w.out.ReadString('\n'); line != "ready\n" {
				t.Fatalf("worker %d: got %q (%v), want ready", i, line, err)
			}
		}
		for _, w := range ws { // then all claim at once
			io.WriteString(w.stdin, "go\n")
			w.stdin.Close()
		}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i, w := range ws {
			wg.Go(func() {
				b, _ := io.ReadAll(w.out)
				if err := w.cmd.Wait(); err != nil {
					t.Errorf("worker %d: %v", i, err)
				}
				mu.Lock()
				defer mu.Unlock()
				for _, key := range strings.Fields(string(b)) {
					wins[key]++
				}
			})
		}
		wg.Wait()
		return wins
	}
	exactlyOnce := func(what string, wins map[string]int) {
		t.Helper()
		for i := range keys {
			if n := wins[fmt.Sprintf("proc-key-%d", i)]; n != 1 {
				t.Fatalf("%s: %d processes won proc-key-%d; want exactly 1", what, n, i)
			}
		}
	}

	exactlyOnce("fresh keys", round(start))
	exactlyOnce("expired leases", round(start.Add(2*time.Minute)))

	s := store.New(newDriver(t), store.WithClock(func() time.Time { return start.Add(3 * time.Minute) }))
	defer s.Close()
	for i := range keys {
		must(t, s.Confirm(t.Context(), fmt.Sprintf("proc-key-%d", i)))
	}
	if wins := round(start.Add(10 * time.Minute)); len(wins) != 0 {
		t.Fatalf("confirmed keys: processes won %d of them; want none", len(wins))
	}
}
