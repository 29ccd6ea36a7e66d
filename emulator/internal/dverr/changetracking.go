package dverr

import "net/http"

// Change tracking (change-tracking.md §6, §8; Microsoft Learn "Use change tracking to synchronize
// data with external systems" and the web service error codes page).
const (
	// CodeExpiredVersionStamp is ExpiredVersionStamp (0x80044352, -2147204270): a delta token
	// older than the organization's ExpireChangeTrackingInDays.
	CodeExpiredVersionStamp = "0x80044352"
	// CodeChangeTrackingNotEnabled is ChangeTrackingNotEnabledForEntity: Prefer:
	// odata.track-changes (or a $deltatoken) on a table without change tracking.
	CodeChangeTrackingNotEnabled = "0x80072491"
	// CodeChangeTrackingQueryOption is the refusal of $filter, $orderby, $expand or $top
	// together with change tracking [unverified: Microsoft documents the message, not the code;
	// the generic query-option code is the best guess].
	CodeChangeTrackingQueryOption = "0x80060888"
	// CodeBadDeltaToken answers a $deltatoken the environment never issued (malformed or
	// tampered with) [unverified: no documented answer; the generic query-option code].
	CodeBadDeltaToken = "0x80060888"
)

// Statuses of the change-tracking refusals. [unverified] Microsoft documents the codes and
// messages, not the HTTP statuses; every one is a client error, answered 400 like other query
// refusals.
const (
	// StatusExpiredVersionStamp is the status of ExpiredVersionStamp [unverified].
	StatusExpiredVersionStamp = http.StatusBadRequest
	// StatusChangeTrackingNotEnabled is the status of ChangeTrackingNotEnabledForEntity
	// [unverified].
	StatusChangeTrackingNotEnabled = http.StatusBadRequest
	// StatusChangeTrackingQueryOption is the status of a query option refused with change
	// tracking [unverified].
	StatusChangeTrackingQueryOption = http.StatusBadRequest
)

// ExpiredVersionStampMessage is ExpiredVersionStamp's documented wording.
const ExpiredVersionStampMessage = "Version stamp associated with the client has expired. Please perform a full sync."

// ExpiredVersionStamp is the answer to an expired delta token.
func ExpiredVersionStamp() *Error {
	return &Error{Status: StatusExpiredVersionStamp, Code: CodeExpiredVersionStamp, Message: ExpiredVersionStampMessage}
}

// ChangeTrackingNotEnabled is the answer to change tracking on a table without it; logicalName
// fills the documented "Entity {0} isn't enabled for change tracking.".
func ChangeTrackingNotEnabled(logicalName string) *Error {
	return New(StatusChangeTrackingNotEnabled, CodeChangeTrackingNotEnabled, "Entity %s isn't enabled for change tracking.", logicalName)
}

// ChangeTrackingQueryOption is the refusal of a query option with change tracking; option is
// "$filter", "$orderby", "$expand" or "$top" (the documented message names it).
func ChangeTrackingQueryOption(option string) *Error {
	return New(StatusChangeTrackingQueryOption, CodeChangeTrackingQueryOption, "The \"%s\" query parameter isn't supported when Change Tracking is enabled.", option)
}

// BadDeltaToken is the answer to a $deltatoken the environment did not issue [unverified
// wording].
func BadDeltaToken() *Error {
	return New(http.StatusBadRequest, CodeBadDeltaToken, "The $deltatoken is not valid: use the @odata.deltaLink of a previous response verbatim, or perform a full sync.")
}
