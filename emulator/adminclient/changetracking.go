package adminclient

import (
	"context"
	"errors"
	"net/http"
)

// changeTracking is the body of /_emulator/change-tracking.
type changeTracking struct {
	ExpireChangeTrackingInDays *int `json:"expireChangeTrackingInDays"`
}

// ExpireChangeTrackingInDays returns the organization's ExpireChangeTrackingInDays, how many
// days a change-tracking delta token stays valid: GET /_emulator/change-tracking.
func (c *Client) ExpireChangeTrackingInDays(ctx context.Context) (int, error) {
	var out changeTracking
	if err := c.call(ctx, http.MethodGet, "change-tracking", nil, &out); err != nil {
		return 0, err
	}
	if out.ExpireChangeTrackingInDays == nil {
		return 0, errors.New("adminclient: the answer to GET /_emulator/change-tracking has no expireChangeTrackingInDays")
	}
	return *out.ExpireChangeTrackingInDays, nil
}

// SetExpireChangeTrackingInDays sets the organization's ExpireChangeTrackingInDays (0 to 365):
// PUT /_emulator/change-tracking.
func (c *Client) SetExpireChangeTrackingInDays(ctx context.Context, days int) error {
	return c.call(ctx, http.MethodPut, "change-tracking", changeTracking{ExpireChangeTrackingInDays: &days}, nil)
}

// tableChangeTracking is the body of /_emulator/change-tracking/tables/{table}.
type tableChangeTracking struct {
	ChangeTrackingEnabled *bool `json:"changeTrackingEnabled"`
}

// ChangeTracking reports whether change tracking is on for the table with logical name table
// (its ChangeTrackingEnabled): GET /_emulator/change-tracking/tables/{table}.
func (c *Client) ChangeTracking(ctx context.Context, table string) (bool, error) {
	var out tableChangeTracking
	if err := c.call(ctx, http.MethodGet, "change-tracking/tables/"+esc(table), nil, &out); err != nil {
		return false, err
	}
	if out.ChangeTrackingEnabled == nil {
		return false, errors.New("adminclient: the answer to GET /_emulator/change-tracking/tables/" + table + " has no changeTrackingEnabled")
	}
	return *out.ChangeTrackingEnabled, nil
}

// SetChangeTracking switches change tracking on or off for the table with logical name table,
// as updating its ChangeTrackingEnabled does in Dataverse: PUT
// /_emulator/change-tracking/tables/{table}. Off, change-tracking reads of the table (saved
// delta links too) are refused with 0x80072491; on again, delta tokens taken before are expired
// (0x80044352). See emulator.Emulator.SetChangeTracking.
func (c *Client) SetChangeTracking(ctx context.Context, table string, on bool) error {
	return c.call(ctx, http.MethodPut, "change-tracking/tables/"+esc(table), tableChangeTracking{ChangeTrackingEnabled: &on}, nil)
}
