package emulator_test

import (
	"bufio"
	"crypto/tls"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/d365s2s/d365/emulator"
)

// startSlowSender opens a raw TLS (HTTP/1.1) connection and sends a POST that declares
// Content-Length: 100 but sends only 6 bytes of its body, then stalls.
func startSlowSender(t *testing.T, emu *emulator.Emulator, token string) *tls.Conn {
	t.Helper()
	u, _ := url.Parse(emu.URL())
	conn, err := tls.Dial("tcp", u.Host, &tls.Config{RootCAs: emu.CACertPool(), NextProtos: []string{"http/1.1"}, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	req := "POST /api/data/v9.2/contacts HTTP/1.1\r\nHost: " + u.Host + "\r\n" +
		"Authorization: Bearer " + token + "\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n" +
		`{"a":1`
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	return conn
}

// A request whose body stalls is answered 408 once Options.BodyReadTimeout has passed; waiting
// for its body is not execution time, so the caller's budget is untouched afterwards.
func TestSlowBodyTimesOutWith408AndCostsNoExecutionTime(t *testing.T) {
	t.Parallel()
	emu := start(t, &emulator.Options{
		BodyReadTimeout: 200 * time.Millisecond,
		Limits:          &emulator.Limits{ExecutionTime: 100 * time.Millisecond, Window: time.Hour},
	})
	token := v1Token(t, emu)
	conn := startSlowSender(t, emu, token)
	conn.SetReadDeadline(time.Now().Add(20 * time.Second)) // a bound on a broken emulator, not a wait
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to the stalled request: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(body), `"code":"0x0"`) {
		t.Fatalf("stalled request: %d %s, want 408 in Dataverse's envelope", resp.StatusCode, body)
	}
	// Were the 200 ms counted, the 100 ms budget would be spent and this would be a 429.
	if res := callAPI(t, emu, token, http.MethodGet, "WhoAmI", ""); res.status != http.StatusOK {
		t.Errorf("after the timed-out request: %d %s, want 200 (waiting for a body is not execution time)", res.status, res.code)
	}
	log := emu.RequestLog(emulator.LogFilter{Status: []int{http.StatusRequestTimeout}})
	if len(log) != 1 || !strings.Contains(log[0].Reason, "6 of 100 bytes") {
		t.Errorf("request log of the timed-out request = %+v", log)
	}
}

// Slow senders do not hold the caller's concurrency slots while their bodies trickle in.
func TestSlowSendersHoldNoConcurrencySlot(t *testing.T) {
	t.Parallel()
	emu := start(t, &emulator.Options{Limits: &emulator.Limits{Concurrent: 2}})
	token := v1Token(t, emu)
	for range 3 {
		startSlowSender(t, emu, token)
	}
	if res := callAPI(t, emu, token, http.MethodGet, "WhoAmI", ""); res.status != http.StatusOK {
		t.Errorf("beside three stalled senders with 2 concurrent slots: %d %s, want 200", res.status, res.code)
	}
}

// A client that never finishes its headers is let go after Options.ReadHeaderTimeout: the
// emulator closes the connection.
func TestSlowHeadersAreCutOff(t *testing.T) {
	t.Parallel()
	emu := start(t, &emulator.Options{ReadHeaderTimeout: 200 * time.Millisecond})
	u, _ := url.Parse(emu.URL())
	conn, err := tls.Dial("tcp", u.Host, &tls.Config{RootCAs: emu.CACertPool(), NextProtos: []string{"http/1.1"}, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /api/data/v9.2/WhoAmI HTTP/1.1\r\nHost: "+u.Host+"\r\n"); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(20 * time.Second)) // a bound on a broken emulator, not a wait
	_, err = conn.Read(make([]byte, 1))
	if ne, ok := err.(interface{ Timeout() bool }); err == nil || ok && ne.Timeout() {
		t.Errorf("read on a connection whose headers never end: %v, want the emulator to close it", err)
	}
}
