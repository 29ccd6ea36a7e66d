package adminclient

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/d365s2s/d365/emulator"
)

// Reset returns the emulator to its seeded state: POST /_emulator/reset.
func (c *Client) Reset(ctx context.Context) error {
	return c.call(ctx, http.MethodPost, "reset", nil, nil)
}

// Snapshot saves the whole state under name: POST /_emulator/snapshots.
func (c *Client) Snapshot(ctx context.Context, name string) error {
	body := struct {
		Name string `json:"name"`
	}{name}
	return c.call(ctx, http.MethodPost, "snapshots", body, nil)
}

// Restore replaces the state with a snapshot: POST /_emulator/snapshots/{name}/restore.
func (c *Client) Restore(ctx context.Context, name string) error {
	return c.call(ctx, http.MethodPost, "snapshots/"+esc(name)+"/restore", nil, nil)
}

// Snapshots lists the snapshot names: GET /_emulator/snapshots.
func (c *Client) Snapshots(ctx context.Context) ([]string, error) {
	var out []string
	return out, c.call(ctx, http.MethodGet, "snapshots", nil, &out)
}

// RemoveSnapshot deletes a snapshot: DELETE /_emulator/snapshots/{name}.
func (c *Client) RemoveSnapshot(ctx context.Context, name string) error {
	return c.call(ctx, http.MethodDelete, "snapshots/"+esc(name), nil, nil)
}

// clockBody is the JSON of GET and PUT /_emulator/clock.
type clockBody struct {
	Offset string    `json:"offset"`
	Now    time.Time `json:"now"`
}

func (c *Client) clock(ctx context.Context) (clockBody, error) {
	var out clockBody
	return out, c.call(ctx, http.MethodGet, "clock", nil, &out)
}

// Now returns the time on the emulator's clock: GET /_emulator/clock.
func (c *Client) Now(ctx context.Context) (time.Time, error) {
	cl, err := c.clock(ctx)
	return cl.Now, err
}

// ClockOffset returns how far the emulator's clock is from real time: GET /_emulator/clock.
func (c *Client) ClockOffset(ctx context.Context) (time.Duration, error) {
	cl, err := c.clock(ctx)
	if err != nil {
		return 0, err
	}
	return parseDuration("offset", cl.Offset)
}

// SetClockOffset moves the emulator's clock by d from real time: PUT /_emulator/clock.
func (c *Client) SetClockOffset(ctx context.Context, d time.Duration) error {
	return c.call(ctx, http.MethodPut, "clock", map[string]string{"offset": d.String()}, nil)
}

// TokenLifetime returns the lifetime of new access tokens: GET /_emulator/token-lifetime.
func (c *Client) TokenLifetime(ctx context.Context) (time.Duration, error) {
	var out struct {
		Lifetime string `json:"lifetime"`
	}
	if err := c.call(ctx, http.MethodGet, "token-lifetime", nil, &out); err != nil {
		return 0, err
	}
	return parseDuration("lifetime", out.Lifetime)
}

// SetTokenLifetime sets the lifetime of new access tokens: PUT /_emulator/token-lifetime.
func (c *Client) SetTokenLifetime(ctx context.Context, d time.Duration) error {
	return c.call(ctx, http.MethodPut, "token-lifetime", map[string]string{"lifetime": d.String()}, nil)
}

// RotateSigningKey makes a new key sign new tokens: POST /_emulator/signing-keys.
func (c *Client) RotateSigningKey(ctx context.Context) (emulator.SigningKey, error) {
	var out emulator.SigningKey
	return out, c.call(ctx, http.MethodPost, "signing-keys", nil, &out)
}

// SigningKeys lists the published signing keys, the active one first: GET /_emulator/signing-keys.
func (c *Client) SigningKeys(ctx context.Context) ([]emulator.SigningKey, error) {
	var out []emulator.SigningKey
	return out, c.call(ctx, http.MethodGet, "signing-keys", nil, &out)
}

func parseDuration(field, s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("adminclient: the emulator's %s %q is not a Go duration: %w", field, s, err)
	}
	return d, nil
}
