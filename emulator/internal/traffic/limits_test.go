package traffic

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// Sixty concurrent requests from one application user: 52 run, 8 get 429 0x80072326 at once,
// while another app's request still goes through.
func TestConcurrencyLimitTripsImmediately(t *testing.T) {
	t.Parallel()
	for _, h2 := range []bool{false, true} {
		t.Run("http2="+strconv.FormatBool(h2), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envConfig{http2: h2})
			const n = 60
			results := make(chan result, n)
			var wg sync.WaitGroup
			for range n {
				wg.Go(func() {
					r, err := e.do(context.Background(), http.MethodGet, "/api/data/v9.2/block", tokenA, nil, nil)
					if err != nil {
						t.Errorf("GET block: %v", err)
						return
					}
					results <- r
				})
			}
			// Barrier: 52 requests inside the handler and 8 refused. Nothing is released before.
			for range DefaultConcurrencyLimit {
				<-e.backend.entered
			}
			var refused []result
			for len(refused) < n-DefaultConcurrencyLimit {
				refused = append(refused, <-results)
			}
			if other := e.get("accounts", tokenB); other.status != http.StatusOK {
				t.Errorf("another app while app A is saturated: status %d, want 200", other.status)
			}
			close(e.backend.release)
			wg.Wait()
			close(results)

			for _, r := range refused {
				if r.status != http.StatusTooManyRequests {
					t.Fatalf("refused request: status %d %s, want 429", r.status, r.body)
				}
				code, msg := r.envelope(t)
				if code != CodeConcurrencyExceeded || msg != "Number of concurrent requests exceeded the limit of 52." {
					t.Errorf("429 body = %s %q", code, msg)
				}
				if got := r.header.Get("Retry-After"); got != "1" {
					t.Errorf("Retry-After = %q, want 1", got)
				}
				if got := r.header.Get("Content-Type"); got != contentTypeOData {
					t.Errorf("Content-Type = %q", got)
				}
				if got := r.header.Get("OData-Version"); got != "4.0" {
					t.Errorf("OData-Version = %q", got)
				}
				if r.header.Get(headerBurstRemaining) == "" || r.header.Get(headerTimeRemaining) == "" {
					t.Errorf("429 lacks x-ms-ratelimit headers: %v", r.header)
				}
			}
			ok := 0
			for r := range results {
				if r.status == http.StatusOK {
					ok++
				}
			}
			if ok != DefaultConcurrencyLimit {
				t.Errorf("%d requests succeeded, want %d", ok, DefaultConcurrencyLimit)
			}
			var limited int
			for _, le := range e.c.Log(LogFilter{Status: []int{429}}) {
				if le.Limit != "concurrent" || le.Code != CodeConcurrencyExceeded || le.AppID != appA ||
					le.Reason != "Number of concurrent requests exceeded the limit of 52." {
					t.Errorf("log entry %+v does not name the concurrency limit", le)
				}
				limited++
			}
			if limited != n-DefaultConcurrencyLimit {
				t.Errorf("log has %d 429s, want %d", limited, n-DefaultConcurrencyLimit)
			}
		})
	}
}

// A lowered request limit trips 0x80072322; after waiting Retry-After on the real clock the
// same client succeeds, and another app is never affected.
func TestRequestLimitThenRetryAfterSucceeds(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{limits: &Limits{Requests: 2, Window: time.Second}, realNow: true})
	for i, want := range []string{"1", "0"} {
		r := e.get("contacts", tokenA)
		if r.status != http.StatusOK || r.header.Get(headerBurstRemaining) != want {
			t.Fatalf("request %d: status %d, burst remaining %q; want 200, %s", i+1, r.status, r.header.Get(headerBurstRemaining), want)
		}
		if r.header.Get(headerTimeRemaining) != "" {
			t.Errorf("time-remaining header sent while the execution-time limit is off")
		}
	}
	r := e.get("contacts", tokenA)
	if r.status != http.StatusTooManyRequests {
		t.Fatalf("third request: status %d, want 429", r.status)
	}
	code, msg := r.envelope(t)
	if code != CodeRequestsExceeded || msg != "Number of requests exceeded the limit of 2 over time window of 1 seconds." {
		t.Errorf("429 body = %s %q", code, msg)
	}
	retryAfter, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil || retryAfter != 1 {
		t.Fatalf("Retry-After = %q, want 1", r.header.Get("Retry-After"))
	}
	if other := e.get("contacts", tokenB); other.status != http.StatusOK {
		t.Errorf("another app: status %d, want 200", other.status)
	}

	time.Sleep(time.Duration(retryAfter) * time.Second) // what the protocol tells the client to do
	if r := e.get("contacts", tokenA); r.status != http.StatusOK {
		t.Fatalf("after Retry-After: status %d %s, want 200", r.status, r.body)
	}
}

// The execution-time limit counts handler time (on the emulator's clock), is checked on
// arrival, and admits the caller again once Retry-After has passed.
func TestExecutionTimeLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{limits: &Limits{ExecutionTime: 100 * time.Millisecond, Window: 10 * time.Second}})
	for i, want := range []string{"0.10", "0.04"} {
		r := e.get("slow?ms=60", tokenA)
		if r.status != http.StatusOK || r.header.Get(headerTimeRemaining) != want {
			t.Fatalf("request %d: status %d, time remaining %q; want 200, %s", i+1, r.status, r.header.Get(headerTimeRemaining), want)
		}
		if r.header.Get(headerBurstRemaining) != "" {
			t.Errorf("burst-remaining header sent while the request limit is off")
		}
	}
	r := e.get("slow?ms=60", tokenA)
	if r.status != http.StatusTooManyRequests {
		t.Fatalf("third request after 120ms of 100ms: status %d, want 429", r.status)
	}
	code, msg := r.envelope(t)
	wantMsg := "Combined execution time of incoming requests exceeded limit of 100 milliseconds over time window of 10 seconds. " +
		"Decrease number of concurrent requests or reduce the duration of requests and try again later."
	if code != CodeExecutionTimeExceeded || msg != wantMsg {
		t.Errorf("429 body = %s %q", code, msg)
	}
	// The first request's 60 ms leave the window 10 s after it ended (at 60 ms); it is now 120 ms.
	if got := r.header.Get("Retry-After"); got != "10" {
		t.Errorf("Retry-After = %q, want 10", got)
	}
	if le := e.lastLog(); le.Limit != "executionTime" || le.Code != CodeExecutionTimeExceeded {
		t.Errorf("log entry = %+v", le)
	}
	if other := e.get("slow?ms=60", tokenB); other.status != http.StatusOK {
		t.Errorf("another app: status %d, want 200", other.status)
	}
	e.clock.Advance(10 * time.Second)
	if r := e.get("contacts", tokenA); r.status != http.StatusOK {
		t.Fatalf("after Retry-After: status %d %s, want 200", r.status, r.body)
	}
}

// A $batch is one request for the request limit, and its execution time accrues.
func TestBatchCountsAsOneRequest(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{limits: &Limits{Requests: 3, ExecutionTime: time.Minute, Window: time.Minute}})
	req := func() result {
		r, err := e.do(context.Background(), http.MethodPost, "/api/data/v9.2/$batch", tokenA,
			strings.NewReader("--batch_1\r\n\r\n--batch_1--\r\n"), http.Header{"Content-Type": {"multipart/mixed; boundary=batch_1"}})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := req(); r.header.Get(headerBurstRemaining) != "2" {
		t.Errorf("after one $batch: burst remaining %q, want 2", r.header.Get(headerBurstRemaining))
	}
	e.get("slow?ms=1500", tokenA)
	if r := req(); r.header.Get(headerTimeRemaining) != "58.50" {
		t.Errorf("after 1.5 s of work: time remaining %q, want 58.50", r.header.Get(headerTimeRemaining))
	}
}

// A client that ignores Retry-After sees it grow by a second per early request; the admission
// time the first refusal announced does not move, so once it has passed the client gets in.
func TestRetryAfterGrowsWhileHammering(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{limits: &Limits{Requests: 1, Window: 10 * time.Second}})
	if r := e.get("contacts", tokenA); r.status != http.StatusOK {
		t.Fatalf("first request: %d", r.status)
	}
	var got []string
	for range 4 {
		r := e.get("contacts", tokenA)
		if r.status != http.StatusTooManyRequests {
			t.Fatalf("hammering: status %d, want 429", r.status)
		}
		if code, _ := r.envelope(t); code != CodeRequestsExceeded {
			t.Errorf("code %s", code)
		}
		got = append(got, r.header.Get("Retry-After"))
	}
	if diff := cmp.Diff([]string{"10", "11", "12", "13"}, got); diff != "" {
		t.Errorf("Retry-After while hammering (-want +got):\n%s", diff)
	}
	le := e.lastLog()
	if !strings.Contains(le.Reason, "came back before its Retry-After elapsed (3 time(s) in a row)") {
		t.Errorf("log reason %q does not say the caller came back early", le.Reason)
	}

	// Still early at +5 s: 5 s left plus 4 strikes.
	e.clock.Advance(5 * time.Second)
	r := e.get("contacts", tokenA)
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "9" {
		t.Fatalf("early retry at +5s: status %d Retry-After %q; want 429 and 5 s left + 4 strikes = 9", r.status, r.header.Get("Retry-After"))
	}
	// At +10 s, the admission time of the first refusal, the window admits the caller again.
	e.clock.Advance(5 * time.Second)
	if r := e.get("contacts", tokenA); r.status != http.StatusOK {
		t.Fatalf("at the first refusal's admission time: status %d, want 200", r.status)
	}
}

// Default limits: the first response carries Dataverse's starting values; handler time is
// subtracted from the next one; unauthenticated and off-limit requests are never metered.
func TestRateLimitHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{})
	r := e.get("slow?ms=540", tokenA)
	if got := [2]string{r.header.Get(headerBurstRemaining), r.header.Get(headerTimeRemaining)}; got != [2]string{"5999", "1,200.00"} {
		t.Errorf("first response headers = %q, want 5999 and 1,200.00", got)
	}
	r = e.get("contacts", tokenA)
	if got := [2]string{r.header.Get(headerBurstRemaining), r.header.Get(headerTimeRemaining)}; got != [2]string{"5998", "1,199.46"} {
		t.Errorf("second response headers = %q, want 5998 and 1,199.46", got)
	}
	if r := e.get("contacts", badTok); r.status != http.StatusUnauthorized || r.header.Get(headerBurstRemaining) != "" {
		t.Errorf("unauthenticated: status %d, burst header %q; want 401 without rate headers", r.status, r.header.Get(headerBurstRemaining))
	}
	if r := e.token(secret, nil); r.header.Get(headerBurstRemaining) != "" {
		t.Errorf("token endpoint response carries rate headers")
	}

	if err := e.c.SetLimits(LimitsOff()); err != nil {
		t.Fatal(err)
	}
	if r := e.get("contacts", tokenA); r.header.Get(headerBurstRemaining) != "" || r.header.Get(headerTimeRemaining) != "" {
		t.Errorf("limits off: rate headers present: %v", r.header)
	}
}

// Unauthenticated requests get their 401 from the Web API however many there are.
func TestUnauthenticatedRequestsAreNotMetered(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{limits: &Limits{Requests: 1, Concurrent: 1, Window: time.Hour}})
	for range 5 {
		if r := e.get("contacts", badTok); r.status != http.StatusUnauthorized {
			t.Fatalf("status %d, want 401", r.status)
		}
	}
	if r := e.get("contacts", tokenA); r.status != http.StatusOK {
		t.Errorf("first authenticated request after 5 unauthenticated ones: status %d, want 200", r.status)
	}
}

// SetLimits starts the windows afresh.
func TestSetLimitsResetsWindows(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{limits: &Limits{Requests: 1, Window: time.Hour}})
	e.get("contacts", tokenA)
	if r := e.get("contacts", tokenA); r.status != http.StatusTooManyRequests {
		t.Fatalf("status %d, want 429", r.status)
	}
	if err := e.c.SetLimits(Limits{Requests: 1, Window: time.Hour}); err != nil {
		t.Fatal(err)
	}
	if r := e.get("contacts", tokenA); r.status != http.StatusOK {
		t.Errorf("after SetLimits: status %d, want 200", r.status)
	}
}

func TestLimitsValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		limits Limits
		want   string
	}{
		{Limits{Requests: -1}, "requests: -1 is negative; use 0 to turn the limit off"},
		{Limits{Requests: MaxRequestLimit + 1}, "requests: 1000001 is above the emulator's maximum of 1000000"},
		{Limits{ExecutionTime: -time.Second}, "executionTime: -1s is negative"},
		{Limits{ExecutionTime: time.Microsecond}, "executionTime: 1µs is below 1ms"},
		{Limits{Concurrent: -3}, "concurrent: -3 is negative"},
		{Limits{Window: -time.Second}, "window: -1s is negative; use 0 for the default of 5m0s"},
		{Limits{Window: 48 * time.Hour}, "window: 48h0m0s is longer than the 24h maximum"},
		{Limits{DOPHint: -1}, "dopHint: -1 is negative; use 0 to send no x-ms-dop-hint"},
		{Limits{DOPHint: MaxDOPHint + 1}, "dopHint: 10001 is above the emulator's maximum of 10000"},
	} {
		err := tc.limits.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want it to contain %q", tc.limits, err, tc.want)
		}
	}
	for _, l := range []Limits{LimitsDefault(), LimitsOff(), LimitsStrict(), {}} {
		if err := l.Validate(); err != nil {
			t.Errorf("%+v: %v", l, err)
		}
	}
	if _, err := New(Options{Limits: &Limits{Requests: -1}}); err == nil || !strings.Contains(err.Error(), "Options.Limits: requests") {
		t.Errorf("New with bad limits: %v", err)
	}
}

func TestLimitsPresetsAndJSON(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want Limits
	}{
		{`{"preset":"default"}`, LimitsDefault()},
		{`{"preset":"OFF"}`, LimitsOff()},
		{`{"preset":"strict","requests":5}`, Limits{Requests: 5, ExecutionTime: 5 * time.Second, Concurrent: 4, Window: 10 * time.Second, DOPHint: 4}},
		// A preset keeps its hint unless dopHint overrides it; without a preset an absent hint is 0.
		{`{"preset":"default","dopHint":8}`, Limits{Requests: 6000, ExecutionTime: 20 * time.Minute, Concurrent: 52, Window: DefaultWindow, DOPHint: 8}},
		{`{"preset":"off","dopHint":12}`, Limits{Window: DefaultWindow, DOPHint: 12}},
		{`{"preset":"default","concurrent":10}`, Limits{Requests: 6000, ExecutionTime: 20 * time.Minute, Concurrent: 10, Window: DefaultWindow, DOPHint: DefaultDOPHint}},
		{`{"requests":10,"window":"1s"}`, Limits{Requests: 10, Window: time.Second}},
		{`{"executionTime":"1200000ms","concurrent":52}`, Limits{ExecutionTime: 20 * time.Minute, Concurrent: 52, Window: DefaultWindow}},
		{`{}`, LimitsOff()},
	} {
		var got Limits
		if err := got.UnmarshalJSON([]byte(tc.in)); err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.in, got, tc.want)
		}
	}
	out := mustJSON(t, LimitsDefault())
	if out != `{"requests":6000,"executionTime":"20m0s","concurrent":52,"window":"5m0s","dopHint":16}` {
		t.Errorf("default limits JSON = %s", out)
	}
	var back Limits
	if err := back.UnmarshalJSON([]byte(out)); err != nil || back != LimitsDefault() {
		t.Errorf("round trip: %+v, %v", back, err)
	}
	for _, tc := range []struct{ in, want string }{
		{`{"preset":"lenient"}`, `preset: "lenient" is not a preset; use default, off or strict`},
		{`{"requets":5}`, `unknown field "requets"`},
		{`{"window":"5 minutes"}`, `window: "5 minutes" is not a duration`},
		{`{"requests":"many"}`, `requests: got a JSON string, want an integer`},
		{`{"requests":-5}`, `requests: -5 is negative`},
		{`{"dopHint":-2}`, `dopHint: -2 is negative`},
		{`{"dopHint":"auto"}`, `dopHint: got a JSON string, want an integer`},
		{`{"requests":1} {}`, `unexpected data after the JSON value`},
	} {
		var l Limits
		err := l.UnmarshalJSON([]byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to contain %q", tc.in, err, tc.want)
		}
	}
	if _, err := LimitsPreset("nope"); err == nil {
		t.Error("LimitsPreset(nope) succeeded")
	}
}

func TestMessagesAndFormatting(t *testing.T) {
	t.Parallel()
	d := LimitsDefault()
	for _, tc := range []struct{ got, want string }{
		{requestsMessage(d), "Number of requests exceeded the limit of 6000 over time window of 300 seconds."},
		{executionTimeMessage(d), "Combined execution time of incoming requests exceeded limit of 1,200,000 milliseconds over time window of 300 seconds. Decrease number of concurrent requests or reduce the duration of requests and try again later."},
		{concurrencyMessage(d), "Number of concurrent requests exceeded the limit of 52."},
		{requestsMessage(Limits{Requests: 3, Window: 250 * time.Millisecond}), "Number of requests exceeded the limit of 3 over time window of 0.25 seconds."},
		{groupDigits(0), "0"}, {groupDigits(999), "999"}, {groupDigits(1000), "1,000"}, {groupDigits(-1234567), "-1,234,567"},
		{formatSecondsRemaining(int64(1200 * time.Second)), "1,200.00"},
		{formatSecondsRemaining(int64(1199460 * time.Millisecond)), "1,199.46"},
		{formatSecondsRemaining(int64(40 * time.Millisecond)), "0.04"},
		{formatSecondsRemaining(0), "0.00"},
		{LimitsDefault().String(), "6000 requests, 20m0s execution time per 5m0s, 52 concurrent, x-ms-dop-hint 16"},
		{LimitsOff().String(), "off"},
		{Limits{DOPHint: 3}.String(), "off, x-ms-dop-hint 3"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q\nwant %q", tc.got, tc.want)
		}
	}
}

// A steady stream of short requests, closer together than the execution window's granule, keeps
// expiring: only the last Window's worth of execution time counts.
func TestExecutionTimeWindowSlidesUnderSteadyLoad(t *testing.T) {
	t.Parallel()
	lim := newLimiter(Limits{ExecutionTime: time.Second, Window: 10 * time.Second})
	cfg := lim.cfg.Load()
	c := Caller{TenantID: tenantA, AppID: appA}
	var now time.Duration
	var v verdict
	// Every 10 ms a request of 0.5 ms: 500 ms per 10-second window, for 50 s.
	for i := range 5000 {
		v = lim.admit(cfg, c, now)
		if v.rejected != limitNone {
			t.Fatalf("request %d refused (%s) at %v of steady load under the limit", i, v.rejected, now)
		}
		lim.release(v, 500*time.Microsecond, now+500*time.Microsecond)
		now += 10 * time.Millisecond
	}
	// What is left is 1 s minus the last window's 500 ms, give or take one granule's requests.
	if left := time.Duration(v.timeRemaining); left < 480*time.Millisecond || left > 510*time.Millisecond {
		t.Errorf("execution time remaining %v, want about 500ms", left)
	}
}

// The rate headers are in the header map under Go's canonical names, so a handler behind the
// middleware reads them with Header().Get like any other.
func TestRateHeadersVisibleToHandlers(t *testing.T) {
	t.Parallel()
	var seen string
	c, err := New(Options{Identify: func(*http.Request) Caller { return Caller{TenantID: tenantA, AppID: appA} }})
	if err != nil {
		t.Fatal(err)
	}
	h := c.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = w.Header().Get("x-ms-ratelimit-burst-remaining-xrm-requests")
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/api/data/v9.2/contacts", nil))
	if seen != "5999" {
		t.Errorf("handler saw burst remaining %q, want 5999", seen)
	}
}
