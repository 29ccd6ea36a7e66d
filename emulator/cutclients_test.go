package emulator_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/d365s2s/d365/emulator"
	"github.com/d365s2s/d365/emulator/emulatortest"
)

// cutClientRounds is how many times TestCutClientsAffectOnlyThemselves starts a burst of bulk
// writes and reads and cuts them mid-flight; D365_CUT_ROUNDS sets more for a hunt.
func cutClientRounds(t *testing.T) int {
	if s := os.Getenv("D365_CUT_ROUNDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("D365_CUT_ROUNDS=%q: %v", s, err)
		}
		return n
	}
	if testing.Short() {
		return 3
	}
	return 10
}

// A client killed with requests in flight (an importer under kill -9: its bulk creates,
// upserts, $batch changesets and page reads on one HTTP/2 connection, all cut at once) affects
// only its own requests: the requests of another client, sent while the cut ones unwind and
// after, all succeed (never a 500), a cut write is all there or not at all, and the emulator
// logs no error (the cut requests are abandoned, not failed).
//
// This is the end-to-end form of the CI failure in TestImportKilledTwiceThenResumed (a 500 on
// GET contacts/$count right after the kill; see the store's busyreset.go). It is a race: before
// the fix it failed about once in 100 to 300 rounds under -race (D365_CUT_ROUNDS=150 to hunt);
// the store's TestCancelStormAffectsOnlyTheCancelled catches the cause far more often.
func TestCutClientsAffectOnlyThemselves(t *testing.T) {
	t.Parallel()
	serverErrors := &errorRecords{}
	logger := slog.New(slog.NewMultiHandler(emulatortest.Logger(t).Handler(), serverErrors))
	off := emulator.LimitsOff()
	env := emulatortest.New(t, &emulator.Options{Limits: &off, Logger: logger})
	token := mustToken(t, env.Emulator, env.Credential)
	survivor := &apiClient{http: otherClient(env.Emulator), org: env.Emulator.OrgURL(), token: token}

	for round := range cutClientRounds(t) {
		cut := newCutClient(env.Emulator, token)
		planned := &sync.Map{} // request tag -> rows it writes
		lastname := fmt.Sprintf("Cut%02d", round)
		var workers sync.WaitGroup
		for w := range 8 {
			workers.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(round), uint64(w)))
				for i := 0; cut.ctx.Err() == nil; i++ {
					tag := fmt.Sprintf("r%dw%di%d", round, w, i)
					status, body := cut.send(cutRequest(rng, lastname, tag, planned))
					if status >= 500 {
						t.Errorf("round %d: a request of the client being cut got %d: %s", round, status, body)
					}
				}
			})
		}
		// Let the writes get going, then kill the client: half the rounds close its
		// connection (kill -9), the others cancel every request (a client that gives up).
		time.Sleep(time.Duration(20+rand.IntN(120)) * time.Millisecond)
		if round%2 == 0 {
			cut.kill()
		} else {
			cut.cancel()
		}
		// While the cut requests unwind: another client's counts, pages and writes.
		filter := url.QueryEscape("startswith(lastname,'Cut')")
		for i := range 6 {
			for _, r := range []struct{ method, path, body string }{
				{"GET", "contacts/$count?$filter=" + filter, ""},
				{"GET", "contacts?$select=lastname,firstname&$filter=" + filter + "&$top=200", ""},
				{"POST", "contacts/Microsoft.Dynamics.CRM.CreateMultiple", createMultipleBody("Survivor", fmt.Sprintf("s%d-%d", round, i), 5, nil)},
			} {
				status, body := survivor.do(context.Background(), r.method, r.path, r.body)
				if status < 200 || status > 299 {
					t.Errorf("round %d: %s %s while a cut client unwinds: %d %s", round, r.method, r.path, status, body)
				}
			}
		}
		workers.Wait()
		cut.close()

		// Every cut write is whole or absent.
		written := map[string]int{}
		next := "contacts?$select=firstname&$filter=" + url.QueryEscape("lastname eq '"+lastname+"'")
		for next != "" {
			status, body := survivor.do(context.Background(), "GET", next, "")
			if status != http.StatusOK {
				t.Fatalf("round %d: read the rows back: %d %s", round, status, body)
			}
			var page struct {
				Value []struct {
					FirstName string `json:"firstname"`
				} `json:"value"`
				Next string `json:"@odata.nextLink"`
			}
			if err := json.Unmarshal(body, &page); err != nil {
				t.Fatal(err)
			}
			for _, row := range page.Value {
				written[row.FirstName]++
			}
			next = strings.TrimPrefix(page.Next, survivor.org+"/api/data/v9.2/")
		}
		for tag, n := range written {
			want, ok := planned.Load(tag)
			if !ok || n != want.(int) {
				t.Errorf("round %d: request %s left %d rows, want all %v or none", round, tag, n, want)
			}
		}
		if t.Failed() {
			break
		}
	}
	// The request log shows the cut requests as abandoned by their client, none as a 500.
	abandoned := 0
	for _, e := range env.Emulator.RequestLog(emulator.LogFilter{PathPrefix: "/api/data/"}) {
		switch {
		case e.Status >= 500:
			t.Errorf("the request log has a %d: %s %s: %s", e.Status, e.Method, e.Path, e.Reason)
		case e.Outcome == emulator.OutcomeAborted:
			if !strings.Contains(e.Reason, "the client went away") {
				t.Errorf("an aborted request's reason %q does not say the client went away", e.Reason)
			}
			abandoned++
		}
	}
	if abandoned == 0 {
		t.Error("no request was cut mid-flight: the test cut nothing")
	}
	if recs := serverErrors.all(); len(recs) > 0 {
		t.Errorf("the emulator logged %d errors (a 500's cause is logged at Error); the first: %s", len(recs), recs[0])
	}
}

// cutRequest is one request of the kinds an importer sends: CreateMultiple and UpsertMultiple
// of 100-1000 rows, a $batch changeset of creates, a page read, a count. The rows a write
// makes carry lastname and tag (firstname); planned records how many it writes.
func cutRequest(rng *rand.Rand, lastname, tag string, planned *sync.Map) (method, path, contentType, body string) {
	filter := url.QueryEscape("startswith(lastname,'Cut')")
	switch rng.IntN(5) {
	case 0:
		n := 100 + rng.IntN(900)
		planned.Store(tag, n)
		return "POST", "contacts/Microsoft.Dynamics.CRM.CreateMultiple", "application/json", createMultipleBody(lastname, tag, n, nil)
	case 1:
		n := 100 + rng.IntN(900)
		planned.Store(tag, n)
		return "POST", "contacts/Microsoft.Dynamics.CRM.UpsertMultiple", "application/json", createMultipleBody(lastname, tag, n, rng)
	case 2:
		n := 20 + rng.IntN(60)
		planned.Store(tag, n)
		boundary, body := changesetBody(lastname, tag, n)
		return "POST", "$batch", "multipart/mixed; boundary=" + boundary, body
	case 3:
		return "GET", "contacts?$select=lastname,firstname,numberofchildren&$filter=" + filter + "&$orderby=firstname&$top=500", "", ""
	default:
		return "GET", "contacts/$count?$filter=" + filter, "", ""
	}
}

// createMultipleBody is the body of CreateMultiple, or of UpsertMultiple when rng gives the
// rows new ids.
func createMultipleBody(lastname, tag string, n int, rng *rand.Rand) string {
	var b strings.Builder
	b.WriteString(`{"Targets":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"@odata.type":"Microsoft.Dynamics.CRM.contact","lastname":%q,"firstname":%q,"numberofchildren":%d`, lastname, tag, i%7)
		if rng != nil {
			fmt.Fprintf(&b, `,"contactid":%q`, uuid.Must(uuid.NewRandomFromReader(rngReader{rng})).String())
		}
		b.WriteByte('}')
	}
	b.WriteString(`]}`)
	return b.String()
}

type rngReader struct{ *rand.Rand }

func (r rngReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r.Uint32())
	}
	return len(p), nil
}

// changesetBody is a $batch of one changeset of n contact creates.
func changesetBody(lastname, tag string, n int) (boundary, body string) {
	var b strings.Builder
	b.WriteString("--batch_cut\r\nContent-Type: multipart/mixed; boundary=changeset_cut\r\n\r\n")
	for i := range n {
		fmt.Fprintf(&b, "--changeset_cut\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: %d\r\n\r\n", i+1)
		fmt.Fprintf(&b, "POST contacts HTTP/1.1\r\nContent-Type: application/json\r\n\r\n{\"lastname\":%q,\"firstname\":%q}\r\n", lastname, tag)
	}
	b.WriteString("--changeset_cut--\r\n--batch_cut--\r\n")
	return "batch_cut", b.String()
}

// apiClient sends Web API requests with a bearer token.
type apiClient struct {
	http  *http.Client
	org   string
	token string
}

func (c *apiClient) do(ctx context.Context, method, path, body string) (int, []byte) {
	ct := ""
	if body != "" {
		ct = "application/json"
	}
	return c.doType(ctx, method, path, ct, body)
}

func (c *apiClient) doType(ctx context.Context, method, path, contentType, body string) (int, []byte) {
	req, err := http.NewRequestWithContext(ctx, method, c.org+"/api/data/v9.2/"+path, strings.NewReader(body))
	if err != nil {
		return -1, []byte(err.Error())
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("OData-MaxVersion", "4.0")
	req.Header.Set("OData-Version", "4.0")
	req.Header.Set("Accept", "application/json")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return -1, []byte(err.Error())
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return -1, []byte(err.Error())
	}
	return resp.StatusCode, raw
}

// cutClient is a client whose requests can all be cut at once: by closing its connections, as
// the kernel does for a killed process, or by cancelling them.
type cutClient struct {
	apiClient
	ctx    context.Context
	cancel context.CancelFunc
	mu     sync.Mutex
	conns  []net.Conn
}

func newCutClient(emu *emulator.Emulator, token string) *cutClient {
	c := &cutClient{}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	dialer := &net.Dialer{}
	c.apiClient = apiClient{org: emu.OrgURL(), token: token, http: &http.Client{Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: emu.CACertPool(), MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2: true,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			conn, err := dialer.DialContext(ctx, network, addr)
			if err == nil {
				c.mu.Lock()
				c.conns = append(c.conns, conn)
				c.mu.Unlock()
			}
			return conn, err
		},
	}}}
	return c
}

func (c *cutClient) send(method, path, contentType, body string) (int, []byte) {
	status, raw := c.doType(c.ctx, method, path, contentType, body)
	if status < 0 && c.ctx.Err() != nil {
		return 0, nil // cut
	}
	return status, raw
}

// kill closes the client's connections under its requests, and stops it sending more.
func (c *cutClient) kill() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cancel()
	for _, conn := range c.conns {
		conn.Close()
	}
}

func (c *cutClient) close() {
	c.cancel()
	c.http.CloseIdleConnections()
}

// errorRecords is a slog handler that keeps the records logged at Error.
type errorRecords struct {
	mu   sync.Mutex
	recs []string
}

func (e *errorRecords) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelError }
func (e *errorRecords) Handle(_ context.Context, r slog.Record) error {
	var b bytes.Buffer
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	e.mu.Lock()
	e.recs = append(e.recs, b.String())
	e.mu.Unlock()
	return nil
}
func (e *errorRecords) WithAttrs([]slog.Attr) slog.Handler { return e }
func (e *errorRecords) WithGroup(string) slog.Handler      { return e }

func (e *errorRecords) all() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.recs...)
}
