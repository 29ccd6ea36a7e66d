package dverr

import (
	"fmt"
	"net/http"
)

// Error is one Dataverse Web API failure: the HTTP status and what the error envelope says.
type Error struct {
	// Status is the HTTP status Dataverse answers with.
	Status int
	// Code is the hex error code of the envelope ("0x80040217"), "0x0" for OData-layer errors.
	Code string
	// Message is Dataverse's wording.
	Message string
}

// Error returns the message, as the envelope carries it.
func (e *Error) Error() string { return e.Message }

// New is an Error whose message is format filled with args.
func New(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// The catalogue: the errors whose wording is fixed.

// ResourceNotFound is an unknown entity set or path segment.
func ResourceNotFound(segment string) *Error {
	return New(http.StatusNotFound, CodeResourceNotFound, "Resource not found for the segment '%s'.", segment)
}

// PropertyNotFound is a property a type does not have (in $select or a body).
func PropertyNotFound(name, typeName string) *Error {
	return New(http.StatusBadRequest, CodeODataError, "Could not find a property named '%s' on type '%s'.", name, typeName)
}

// NotMemberOfOrganization is Dataverse's answer to a caller without an application user in the
// organization (UserNotMemberOfOrg).
func NotMemberOfOrganization() *Error {
	return &Error{Status: http.StatusForbidden, Code: CodeUserNotMemberOfOrg, Message: "The user is not a member of the organization."}
}

// NoHTTPResource is a URL no route matches (a function called with the wrong method).
func NoHTTPResource(url string) *Error {
	return New(http.StatusNotFound, CodeNoHTTPResource, "No HTTP resource was found that matches the request URI '%s'.", url)
}

// MethodNotAllowed is a method the resource does not support.
func MethodNotAllowed(method string) *Error {
	return New(http.StatusMethodNotAllowed, CodeODataError, "The requested resource does not support http method '%s'.", method)
}

// NotImplemented is a feature the emulator does not have yet.
func NotImplemented(what string) *Error {
	return New(http.StatusNotImplemented, CodeNotImplemented, "The emulator does not implement %s yet.", what)
}

// UnexpectedMessage is the message of an internal failure (CodeUnexpected).
const UnexpectedMessage = "An unexpected error occurred."

// Unexpected is an internal failure: 500 with nothing of its cause.
func Unexpected() *Error {
	return &Error{Status: http.StatusInternalServerError, Code: CodeUnexpected, Message: UnexpectedMessage}
}

// messageNames are the ApiExceptionMessageName values of the codes the emulator produces.
var messageNames = map[string]string{
	CodeObjectDoesNotExist: "ObjectDoesNotExist", CodePrivilegeDenied: "PrivilegeDenied",
	CodeConcurrencyVersionMismatch: "ConcurrencyVersionMismatch", CodeDuplicateRecord: "DuplicateRecord",
	CodeUserNotMemberOfOrg: "UserNotMemberOfOrg", CodeUserNotAssignedRoles: "UserNotAssignedRoles",
	CodeUserDisabled: "UserDisabled", CodeValidation: "ValidationError",
}

// MessageName is the ApiExceptionMessageName of code ("ObjectDoesNotExist"), or "" for a code
// the emulator has no name for.
func MessageName(code string) string { return messageNames[code] }
