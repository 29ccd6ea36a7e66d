package dataverse

import (
	"context"
	"net/http"

	"github.com/google/uuid"
)

// WhoAmIResponse is the result of the WhoAmI function. For a
// server-to-server client UserID is the application user's systemuserid.
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/whoamiresponse
type WhoAmIResponse struct {
	UserID         uuid.UUID `json:"UserId"`
	BusinessUnitID uuid.UUID `json:"BusinessUnitId"`
	OrganizationID uuid.UUID `json:"OrganizationId"`
}

// WhoAmI returns the caller's systemuser, business unit and organization.
// It is the cheapest way to check that authentication and the application
// user work.
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/whoami
func (c *Client) WhoAmI(ctx context.Context) (res *WhoAmIResponse, err error) {
	ctx, end := c.startSpan(ctx, "WhoAmI")
	defer func() { end(err) }()
	res = new(WhoAmIResponse)
	r := &request{method: http.MethodGet, path: "WhoAmI", idempotent: true}
	if _, err := c.sendJSON(ctx, r, res); err != nil {
		return nil, err
	}
	return res, nil
}
