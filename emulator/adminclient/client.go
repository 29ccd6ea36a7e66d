package adminclient

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/d365s2s/d365/emulator"
)

// maxResponse bounds an admin answer; a full request log is far smaller.
const maxResponse = 64 << 20

// Client calls one emulator's admin API. It is safe for concurrent use.
type Client struct {
	base string // https://127.0.0.1:8365, no trailing slash
	http *http.Client
}

// New returns a client of the emulator at baseURL (its organization URL, such as
// https://127.0.0.1:8365; a path is ignored) sending requests with httpClient, which must trust
// the emulator's CA. A nil httpClient is http.DefaultClient.
func New(baseURL string, httpClient *http.Client) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("adminclient: %q is not an emulator URL such as https://127.0.0.1:8365", baseURL)
	}
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	return &Client{base: u.Scheme + "://" + u.Host, http: httpClient}, nil
}

// BaseURL returns the scheme and host the client sends requests to.
func (c *Client) BaseURL() string { return c.base }

// Error is an error answer of the admin API.
type Error struct {
	// StatusCode is the HTTP status: 400, 403, 404, 405, 409 or 500.
	StatusCode int
	// Code is the admin API's error code (NotFound, Conflict, Invalid, Forbidden,
	// MethodNotAllowed, Internal), or the status text when the answer was not the admin API's
	// JSON error.
	Code string
	// Message says what was wrong and how to fix it.
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("emulator admin API: %d %s: %s", e.StatusCode, e.Code, e.Message)
}

// Is matches emulator.ErrNotFound (404), emulator.ErrConflict (409) and emulator.ErrInvalid
// (400), as the errors of *emulator.Emulator's methods do.
func (e *Error) Is(target error) bool {
	switch target {
	case emulator.ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case emulator.ErrConflict:
		return e.StatusCode == http.StatusConflict
	case emulator.ErrInvalid:
		return e.StatusCode == http.StatusBadRequest
	}
	return false
}

// call sends method /_emulator/<path> with body as JSON (none when nil) and decodes the answer
// into out (ignored when nil or the answer is empty).
func (c *Client) call(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("adminclient: encode the request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+"/_emulator/"+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return fmt.Errorf("read the emulator's answer: %w", err)
	}
	if resp.StatusCode >= 400 {
		return errorFrom(resp.StatusCode, data)
	}
	if out == nil || resp.StatusCode == http.StatusNoContent || len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("adminclient: decode the answer to %s /_emulator/%s: %w", method, path, err)
	}
	return nil
}

// errorFrom reads an error answer: the admin API's {"error":{"code","message"}}, or the status
// text and the body as it came.
func errorFrom(status int, data []byte) *Error {
	var body struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	e := &Error{StatusCode: status, Code: http.StatusText(status), Message: strings.TrimSpace(string(data))}
	if json.Unmarshal(data, &body) == nil && body.Error.Message != "" {
		e.Code, e.Message = body.Error.Code, body.Error.Message
	}
	return e
}

// Health reports whether the emulator answers: GET /_emulator/health.
func (c *Client) Health(ctx context.Context) error {
	var out struct {
		Status string `json:"status"`
	}
	if err := c.call(ctx, http.MethodGet, "health", nil, &out); err != nil {
		return err
	}
	if out.Status != "ok" {
		return fmt.Errorf("adminclient: the emulator's health is %q, not ok", out.Status)
	}
	return nil
}

// esc escapes one path segment.
func esc(s string) string { return url.PathEscape(s) }
