package dataverse

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// The limit follows AIMD under the hint: 5 before any hint, the hint once one arrives, halved
// once per round of concurrency 429s, one more per round of successes, never above the hint or
// MaxConcurrency, and down at once when the hint falls.
func TestGovernorLimitFollowsHintAndAIMD(t *testing.T) {
	t.Parallel()
	g := newGovernor(GovernorOptions{})
	step := func(what string, want int) {
		t.Helper()
		if got := g.Limit(); got != want {
			t.Errorf("after %s: Limit %d, want %d", what, got, want)
		}
	}
	step("start", DefaultGovernorConcurrency)
	g.answered(0, true)
	step("a success without a hint (no climbing above the default)", 5)
	g.answered(16, true)
	step("the first hint, 16", 16)
	round := admission{epoch: g.epoch}
	g.concurrencyThrottled(round, 16)
	step("a concurrency 429", 8)
	g.concurrencyThrottled(round, 16)
	g.concurrencyThrottled(round, 16)
	step("two more 429s of requests admitted in the same round", 8)
	g.concurrencyThrottled(admission{epoch: g.epoch}, 16)
	step("a 429 of the next round", 4)
	for range 4 {
		g.answered(16, true)
	}
	step("one round of 4 successes", 5)
	for range 200 {
		g.answered(16, true)
	}
	step("many successes (capped by the hint)", 16)
	g.answered(6, true)
	step("a lower hint", 6)
	g.answered(100, true)
	for range 2000 {
		g.answered(100, true)
	}
	step("a hint above the maximum", DefaultGovernorMaxConcurrency)
	for range 10 {
		g.concurrencyThrottled(admission{epoch: g.epoch}, 100)
	}
	step("ten rounds of 429s (never below 1)", 1)

	s := g.Stats()
	if s.DOPHint != 100 || s.ConcurrencyThrottles != 14 || s.Limit != 1 || s.Paused != 0 {
		t.Errorf("Stats = %+v, want DOPHint 100, 14 concurrency throttles, Limit 1, no pause (a concurrency 429 pauses nobody)", s)
	}
	capped := newGovernor(GovernorOptions{InitialConcurrency: 2, MaxConcurrency: 3})
	capped.answered(16, true)
	if capped.Limit() != 3 {
		t.Errorf("MaxConcurrency 3, hint 16: Limit %d, want 3", capped.Limit())
	}
}

// At most Limit requests are admitted; the next waits in order until one is released, and a
// waiter whose context ends leaves the queue without taking a slot.
func TestGovernorAdmission(t *testing.T) {
	t.Parallel()
	g := newGovernor(GovernorOptions{InitialConcurrency: 2})
	w := &retrySettings{sleep: sleepContext, jitter: noJitter}
	var waited time.Duration
	ctx := context.Background()
	for range 2 {
		if _, err := g.admit(ctx, w, &waited, 0, false); err != nil {
			t.Fatal(err)
		}
	}
	queued := func(n int) {
		t.Helper()
		for {
			g.mu.Lock()
			got := len(g.waiters)
			g.mu.Unlock()
			if got == n {
				return
			}
			if got > n {
				t.Fatalf("%d waiters, want %d", got, n)
			}
			time.Sleep(time.Millisecond) // poll: the goroutine is on its way into the queue
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	gaveUp := make(chan error)
	go func() { _, err := g.admit(cancelled, w, new(time.Duration), 0, false); gaveUp <- err }()
	queued(1)
	third := make(chan error)
	go func() { _, err := g.admit(ctx, w, new(time.Duration), 0, false); third <- err }()
	queued(2)
	cancel()
	if err := <-gaveUp; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled waiter: %v, want context.Canceled", err)
	}
	queued(1)
	if s := g.Stats(); s.InFlight != 2 || s.Sent != 2 {
		t.Errorf("Stats %+v, want 2 in flight and 2 sent while the third waits", s)
	}
	g.release()
	if err := <-third; err != nil {
		t.Fatalf("third request: %v", err)
	}
	if s := g.Stats(); s.InFlight != 2 || s.Sent != 3 {
		t.Errorf("Stats %+v after one release, want 2 in flight, 3 sent", s)
	}
}

// A pause holds every request until it ends, plus a jitter; it is waited once even though the
// recorded wait takes no time; a pause ending after the context's deadline fails at once with
// an error that is context.DeadlineExceeded; Stats counts the paused time once for overlapping
// pauses.
func TestGovernorPause(t *testing.T) {
	t.Parallel()
	g := newGovernor(GovernorOptions{})
	var pauses [][2]time.Time
	g.onPause = func(from, until time.Time) { pauses = append(pauses, [2]time.Time{from, until}) }
	log := &sleepLog{}
	w := &retrySettings{sleep: log.sleep, jitter: func(d time.Duration) time.Duration { return d / 10 }}
	g.pause(10*time.Second, 0)
	g.pause(5*time.Second, 0) // ends earlier: no change
	g.pause(20*time.Second, 0)
	if len(pauses) != 2 {
		t.Fatalf("%d pauses recorded, want 2 (the shorter one changes nothing)", len(pauses))
	}
	var waited time.Duration
	if _, err := g.admit(context.Background(), w, &waited, 0, false); err != nil {
		t.Fatal(err)
	}
	waits := log.durations()
	if len(waits) != 1 || waits[0] <= 20*time.Second || waits[0] > 22*time.Second || waited != waits[0] {
		t.Errorf("waits %v (waited %v), want one of 20 s plus the jitter of 2 s", waits, waited)
	}
	if p := g.Stats().Paused; p < 19*time.Second || p > 21*time.Second {
		t.Errorf("Paused %v, want about 20 s: overlapping pauses count once", p)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err := g.admit(ctx, w, &waited, 0, false)
	var pe *pauseError
	if !errors.As(err, &pe) || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "after the context's deadline") {
		t.Errorf("admit with a deadline inside the pause: %v, want a *pauseError that is DeadlineExceeded", err)
	}
	if len(log.durations()) != 1 {
		t.Errorf("waited %v, want no wait past the deadline", log.durations())
	}
}

// The resume jitter spreads over a quarter of the wait, at most a second.
func TestResumeJitter(t *testing.T) {
	t.Parallel()
	seen := map[time.Duration]bool{}
	for range 200 {
		j := resumeJitter(time.Second)
		if j < 0 || j >= 250*time.Millisecond {
			t.Fatalf("resumeJitter(1s) = %v, want [0, 250ms)", j)
		}
		seen[j] = true
		if j := resumeJitter(time.Hour); j < 0 || j >= time.Second {
			t.Fatalf("resumeJitter(1h) = %v, want [0, 1s)", j)
		}
	}
	if len(seen) < 100 {
		t.Errorf("%d distinct jitters in 200, want them spread", len(seen))
	}
	if resumeJitter(0) != 0 {
		t.Error("resumeJitter(0) != 0")
	}
}

func jwt(payload string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256","typ":"JWT"}`)) + "." + enc([]byte(payload)) + ".c2lnbmF0dXJl"
}

// The application user is the token's tenant and object id (else appid, else azp) at the host;
// a token that is not a JWT is keyed by the credential.
func TestAppUserKey(t *testing.T) {
	t.Parallel()
	cred := &fakeCredential{}
	for _, tc := range []struct{ name, token, want string }{
		{"tid and oid", jwt(`{"tid":"t1","oid":"o1","appid":"a1"}`), "h|t1|o1"},
		{"v1 without oid", jwt(`{"tid":"t1","appid":"a1"}`), "h|t1|a1"},
		{"v2 without oid", jwt(`{"tid":"t1","azp":"z1"}`), "h|t1|z1"},
		{"not a JWT", "opaque-token", "h|credential "},
		{"payload not base64", "a.%%%.c", "h|credential "},
		{"payload not JSON", "a." + base64.RawURLEncoding.EncodeToString([]byte("[1")) + ".c", "h|credential "},
		{"no identity claims", jwt(`{"tid":"t1"}`), "h|credential "},
	} {
		got := appUserKey("h", tc.token, cred, nil)
		if !strings.HasPrefix(got, tc.want) || (strings.HasSuffix(tc.want, " ") && got != appUserKey("h", "other", cred, nil)) {
			t.Errorf("%s: key %q, want %q", tc.name, got, tc.want)
		}
	}
	if appUserKey("h", "x", cred, nil) == appUserKey("h", "x", &fakeCredential{}, nil) {
		t.Error("two credentials with opaque tokens share a key")
	}
	type valueCredential struct{ secret string }
	owner := &Client{}
	if k := appUserKey("h", "x", valueCredential{secret: "s3cr3t"}, owner); strings.Contains(k, "s3cr3t") || !strings.HasPrefix(k, "h|client ") {
		t.Errorf("a credential value is keyed %q, want the Client's address and nothing of the value", k)
	}
}

// FuzzDecodeClaims: the hand-written JWT split never panics, and whatever it accepts was a
// JSON object in the second segment.
func FuzzDecodeClaims(f *testing.F) {
	f.Add(jwt(`{"tid":"t","oid":"o"}`))
	f.Add("a.b.c")
	f.Add("..")
	f.Add("")
	f.Fuzz(func(t *testing.T, token string) {
		c, ok := decodeClaims(token)
		if !ok && c != (tokenClaims{}) {
			t.Errorf("rejected %q but returned claims %+v", token, c)
		}
	})
}

// Two Clients of one credential and environment share one Governor, which admits no more than
// the service's x-ms-dop-hint: with 12 calls in parallel and a hint of 3, the server never has
// more than 3 in flight, and the Governor counts every request of both Clients.
func TestGovernorSharedAndBoundedByHint(t *testing.T) {
	t.Parallel()
	var inflight, peak atomic.Int32
	gate := make(chan struct{})
	var open sync.Once
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("x-ms-dop-hint", "3")
		if r.URL.Query().Get("$top") == "1" {
			writeJSON(w, 200, `{"value":[]}`) // the first call learns the hint
			return
		}
		n := inflight.Add(1)
		defer inflight.Add(-1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		<-gate
		writeJSON(w, 200, `{"value":[]}`)
	}, nil)
	secondOpts := &ClientOptions{}
	secondOpts.Transport = f.srv.Client()
	second, err := NewClient(f.orgURL(), f.cred, secondOpts)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := f.client.List(ctx, "contacts", &ListOptions{Query: Query{Top: 1}}); err != nil {
		t.Fatal(err)
	}
	g1, err := f.client.Governor(ctx)
	if err != nil {
		t.Fatal(err)
	}
	g2, err := second.Governor(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if g1 != g2 {
		t.Fatal("two Clients of one credential and environment have different Governors")
	}
	if g1.Limit() != 3 {
		t.Fatalf("Limit %d after a response with x-ms-dop-hint 3", g1.Limit())
	}
	var wg sync.WaitGroup
	errs := make(chan error, 12)
	for i := range 12 {
		c := f.client
		if i%2 == 1 {
			c = second
		}
		wg.Go(func() {
			_, err := c.List(ctx, "contacts", nil)
			errs <- err
		})
	}
	for {
		g1.mu.Lock()
		queued := len(g1.waiters)
		g1.mu.Unlock()
		if queued == 9 && inflight.Load() == 3 {
			break
		}
		time.Sleep(time.Millisecond) // poll until 3 are at the server and 9 wait
	}
	open.Do(func() { close(gate) })
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if p := peak.Load(); p != 3 {
		t.Errorf("the server saw %d requests at once, want 3 (the hint)", p)
	}
	if s := g1.Stats(); s.Sent != 13 || s.InFlight != 0 || s.DOPHint != 3 {
		t.Errorf("Stats %+v, want 13 sent by the two Clients, none in flight, hint 3", s)
	}
}

// A throttled call whose pause is extended (by another worker's 429) past its context's deadline
// ends at once with the service's 429, not with "context deadline exceeded", and sends nothing
// more; a call that was not throttled itself and meets such a pause fails at once with an error
// that is context.DeadlineExceeded, without sending.
func TestPauseBeyondTheDeadline(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Retry-After", "1")
		writeError(w, 429, CodeThrottledRequestCount, "Number of requests exceeded the limit of 6000 over time window of 300 seconds.")
	}, nil)
	g, err := f.client.Governor(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	f.client.retry.sleep = func(ctx context.Context, d time.Duration) error {
		g.pause(time.Hour, 0) // another worker's 429 while this call waits its Retry-After
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err = listWithContext(ctx, f.client)
	var re *ResponseError
	if !errors.As(err, &re) || re.StatusCode != 429 || re.RetryAfter != time.Second || errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error = %v, want the service's 429 with its Retry-After of 1s", err)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("server saw %d requests, want 1: nothing is sent into the pause", n)
	}
	err = listWithContext(ctx, f.client)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "paused") || errors.As(err, &re) {
		t.Errorf("a new call during the pause: %v, want an error that is DeadlineExceeded and says the requests are paused", err)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("server saw %d requests, want still 1", n)
	}
	if s := g.Stats(); s.RequestThrottles != 1 || s.Sent != 1 {
		t.Errorf("Stats %+v, want 1 request sent and throttled", s)
	}
}

// A POST whose try timeout (Retry.TryTimeout) passes while it waits for the Governor was never
// sent: it is retried like any request, not failed as "may have been executed", and the service
// sees it once.
func TestTryTimeoutInTheQueueIsRetriedEvenForAPost(t *testing.T) {
	t.Parallel()
	var posts atomic.Int32
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		posts.Add(1)
		w.Header().Set("OData-EntityId", "https://x/contacts("+idA.String()+")")
		w.WriteHeader(http.StatusNoContent)
	}, &ClientOptions{
		// Long enough for the retry to complete under the race detector.
		ClientOptions: clientOpts(policy.RetryOptions{TryTimeout: 300 * time.Millisecond}),
		Governor:      GovernorOptions{InitialConcurrency: 1},
	})
	g, err := f.client.Governor(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.admit(context.Background(), f.client.retry, new(time.Duration), 0, false); err != nil {
		t.Fatal(err) // another worker holds the only slot
	}
	done := make(chan error)
	go func() { done <- createContact(f.client) }()
	for {
		g.mu.Lock()
		queued := len(g.waiters)
		g.mu.Unlock()
		if queued == 1 {
			break
		}
		time.Sleep(time.Millisecond) // poll until the POST waits for the slot
	}
	time.Sleep(400 * time.Millisecond) // its try's 300 ms pass in the queue
	g.release()
	if err := <-done; err != nil {
		t.Fatalf("POST after its try timed out in the queue: %v, want it retried", err)
	}
	if n := posts.Load(); n != 1 {
		t.Errorf("server saw %d POSTs, want 1", n)
	}
}
