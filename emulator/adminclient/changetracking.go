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
