package webapi

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/d365s2s/d365/emulator/internal/odata"
	"github.com/d365s2s/d365/emulator/internal/store"
)

// HTTP statuses the reference marks [unverified]. Each is one constant so
// a live check can correct it in one place.
const (
	// statusUserDisabled answers a disabled application user.
	statusUserDisabled = http.StatusForbidden
	// statusNoRoles answers an application user without a security role.
	statusNoRoles = http.StatusForbidden
	// statusRecordAccess answers a privilege whose depth does not reach
	// the row.
	statusRecordAccess = http.StatusForbidden
	// statusAssociation answers a delete refused by a Restrict
	// relationship (CannotDeleteDueToAssociation is listed under 405).
	statusAssociation = http.StatusMethodNotAllowed
)

// Dataverse error codes the handler produces itself (the store's are in
// package store).
const (
	// codeODataError is the "0x0" of OData-layer errors (unknown
	// properties in $select or a body).
	codeODataError = "0x0"
	// codeResourceNotFound is an unknown entity set or segment.
	codeResourceNotFound = "0x8006088a"
	// codeQuerySyntax is a malformed or refused query option
	// [unverified: the reference calls it typical].
	codeQuerySyntax = "0x80060888"
	// codeIncompatibleTypes is a $filter comparison of incompatible types,
	// e.g. a quoted GUID against a GUID column [unverified code].
	codeIncompatibleTypes = "0x80060888"
	// codePayload is a request body Dataverse cannot read.
	codePayload = "0x80048d19"
	// codeUnexpected is an internal failure.
	codeUnexpected = "0x80040216"
	// codeNoHTTPResource is the empty code of "No HTTP resource was found"
	// (a function called with the wrong method).
	codeNoHTTPResource = ""
	// codeNotImplemented marks a feature the emulator does not have yet.
	codeNotImplemented = "0x80040216"
)

// apiError is a failure answered with Dataverse's error envelope.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.message }

func newError(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

func errResourceNotFound(segment string) *apiError {
	return newError(http.StatusNotFound, codeResourceNotFound, "Resource not found for the segment '%s'.", segment)
}

func errPropertyNotFound(name string, t interface{ EntityTypeName() string }) *apiError {
	return newError(http.StatusBadRequest, codeODataError, "Could not find a property named '%s' on type '%s'.", name, t.EntityTypeName())
}

// errNotMemberOfOrganization is Dataverse's answer to a caller without an
// application user in the organization (UserNotMemberOfOrg), here for a
// token issued by another tenant.
func errNotMemberOfOrganization() *apiError {
	return newError(http.StatusForbidden, store.CodeUserNotMemberOfOrg, "The user is not a member of the organization.")
}

func errNoHTTPResource(url string) *apiError {
	return newError(http.StatusNotFound, codeNoHTTPResource, "No HTTP resource was found that matches the request URI '%s'.", url)
}

func errMethodNotAllowed(method string) *apiError {
	return newError(http.StatusMethodNotAllowed, codeODataError, "The requested resource does not support http method '%s'.", method)
}

func errNotImplemented(what string) *apiError {
	return newError(http.StatusNotImplemented, codeNotImplemented, "The emulator does not implement %s yet.", what)
}

// toAPIError maps any failure to the status, code and message to send.
func toAPIError(err error) (*apiError, bool) {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae, true
	}
	var se *store.Error
	if errors.As(err, &se) {
		return &apiError{status: storeStatus(se.Kind), code: se.Code, message: se.Message}, true
	}
	var syn *odata.SyntaxError
	if errors.As(err, &syn) {
		return &apiError{status: http.StatusBadRequest, code: codeQuerySyntax, message: syn.Msg}, true
	}
	return &apiError{status: http.StatusInternalServerError, code: codeUnexpected,
		message: "An unexpected error occurred."}, false
}

func storeStatus(k store.Kind) int {
	switch k {
	case store.KindNotFound:
		return http.StatusNotFound
	case store.KindValidation:
		return http.StatusBadRequest
	case store.KindPrivilege, store.KindNoUser:
		return http.StatusForbidden
	case store.KindAccess:
		return statusRecordAccess
	case store.KindDisabled:
		return statusUserDisabled
	case store.KindNoRoles:
		return statusNoRoles
	case store.KindConcurrency, store.KindDuplicate:
		return http.StatusPreconditionFailed
	case store.KindAssociation:
		return statusAssociation
	}
	return http.StatusInternalServerError
}

// writeError sends the error envelope {"error":{"code":…,"message":…}}.
func writeError(w http.ResponseWriter, e *apiError) { writeErrorDetails(w, e, preferences{}) }

// errorMessageNames are the ApiExceptionMessageName values of the codes
// the emulator produces.
var errorMessageNames = map[string]string{
	store.CodeObjectDoesNotExist: "ObjectDoesNotExist", store.CodePrivilegeDenied: "PrivilegeDenied",
	store.CodeConcurrencyVersionMismatch: "ConcurrencyVersionMismatch", store.CodeDuplicateRecord: "DuplicateRecord",
	store.CodeUserNotMemberOfOrg: "UserNotMemberOfOrg", store.CodeUserNotAssignedRoles: "UserNotAssignedRoles",
	store.CodeUserDisabled: "UserDisabled", store.CodeValidation: "ValidationError",
}

// writeErrorDetails sends the error envelope, with the error-detail
// annotations Prefer: odata.include-annotations asks for.
func writeErrorDetails(w http.ResponseWriter, e *apiError, prefer preferences) {
	h := w.Header()
	h.Set("Content-Type", contentTypeJSON)
	w.WriteHeader(e.status)
	jw := newJSONWriter(w)
	jw.raw(`{"error":{"code":`)
	jw.str(e.code)
	jw.raw(`,"message":`)
	jw.str(e.message)
	if len(prefer.includeAnnotations) > 0 {
		category := "ClientError"
		if e.status >= 500 {
			category = "ServerError"
		}
		details := [][2]string{
			{"Microsoft.PowerApps.CDS.ErrorDetails.ApiExceptionCategory", category},
			{"Microsoft.PowerApps.CDS.ErrorDetails.ApiExceptionHttpStatusCode", strconv.Itoa(e.status)},
			{"Microsoft.PowerApps.CDS.ErrorDetails.ApiExceptionMessageName", errorMessageNames[e.code]},
			{"Microsoft.PowerApps.CDS.HelpLink", "http://go.microsoft.com/fwlink/?LinkID=398563&error=Microsoft.Crm.CrmException%3a" + strings.TrimPrefix(e.code, "0x") + "&client=platform"},
			{"Microsoft.PowerApps.CDS.InnerError.Message", e.message},
		}
		for _, d := range details {
			if d[1] != "" && prefer.wantsAnnotation(d[0]) {
				jw.raw(`,"@` + d[0] + `":`)
				jw.str(d[1])
			}
		}
	}
	jw.raw("}}")
	jw.flush()
}
