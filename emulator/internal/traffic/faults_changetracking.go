package traffic

import (
	"net/http"
	"strings"

	"github.com/d365s2s/d365/emulator/internal/dverr"
)

// ActionExpireDeltaToken answers the change-tracking requests it selects (those carrying a
// $deltatoken: GET of a delta link, <set>/$count?$deltatoken=…) with the expired-token error,
// 0x80044352 "Version stamp associated with the client has expired. Please perform a full sync.",
// as if the organization's ExpireChangeTrackingInDays had passed. Requests without a delta token
// neither match nor count, so {nth: 2} expires the second delta read. It takes no other action
// field.
const ActionExpireDeltaToken ActionKind = "expireDeltaToken"

// hasDeltaToken reports whether a Web API request carries $deltatoken.
func hasDeltaToken(r *http.Request) bool {
	return strings.Contains(r.URL.RawQuery, "deltatoken") && r.URL.Query().Has("$deltatoken")
}

// respondExpiredDeltaToken carries out ActionExpireDeltaToken.
func respondExpiredDeltaToken(ex *exchange, id string) {
	e := dverr.ExpiredVersionStamp()
	ex.setInternalReason("fault rule " + id + ": expired the delta token (" + e.Code + ")")
	writeDataverseError(ex, e.Status, e.Code, e.Message, 0)
}
