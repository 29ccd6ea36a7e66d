package dverr

import "net/http"

// QueryParameterNotSupportedMessage is Dataverse's answer to a query string parameter it does not
// implement. The wording and the code "0x0" are what real environments answered clients that
// sent a custom parameter: "The query parameter utm_source is not supported"
// (rappen/FetchXMLBuilder#437) and "sql query parameter is not supported" as a Python client
// reported it (microsoft/PowerPlatform-DataverseClient-Python#74). [unverified: the HTTP status
// (400 is assumed, as for every other query error), and whether every route answers it the same
// way.]
const QueryParameterNotSupportedMessage = "The query parameter %s is not supported"

// StatusQueryParameterNotSupported is the status of QueryParameterNotSupported. [unverified]
const StatusQueryParameterNotSupported = http.StatusBadRequest

// QueryParameterNotSupported refuses a query string parameter (one that does not start with '$'
// or '@') that the resource does not take, instead of ignoring it: a client that sent ?sql=…
// expecting a filter must not get every row back.
func QueryParameterNotSupported(name string) *Error {
	return New(StatusQueryParameterNotSupported, CodeODataError, QueryParameterNotSupportedMessage, name)
}
