package dverr

import "net/http"

// Codes of the platform and the OData layer.
const (
	// CodeODataError is the "0x0" of OData-layer errors (unknown properties in $select or a
	// body, a method a resource does not support).
	CodeODataError = "0x0"
	// CodeResourceNotFound is an unknown entity set or segment.
	CodeResourceNotFound = "0x8006088a"
	// CodeQuerySyntax is a malformed or refused query option [unverified: the reference calls
	// it typical].
	CodeQuerySyntax = "0x80060888"
	// CodeIncompatibleTypes is a $filter comparison of incompatible types, e.g. a quoted GUID
	// against a GUID column [unverified code].
	CodeIncompatibleTypes = "0x80060888"
	// CodeExpandRefNotLookup is $expand with $ref on a navigation property that is not a
	// lookup ("Expand with $ref is only supported on lookup type navigation property.").
	CodeExpandRefNotLookup = "0x80060888"
	// CodePayload is a request body Dataverse cannot read.
	CodePayload = "0x80048d19"
	// CodeUnexpected is an internal failure: "An unexpected error occurred." It is also the
	// code of injected Dataverse faults that give none.
	CodeUnexpected = "0x80040216"
	// CodeNoHTTPResource is the empty code of "No HTTP resource was found" (a function called
	// with the wrong method).
	CodeNoHTTPResource = ""
	// CodeNotImplemented marks a feature the emulator does not have yet.
	CodeNotImplemented = "0x80040216"
	// CodeBodyTimeout answers a request whose body did not arrive in time (408). [unverified]
	// Microsoft documents no answer for a stalled upload (the front end's own timeout decides
	// it); the generic code in the service's error envelope says what happened in the shape
	// clients of the Web API already read.
	CodeBodyTimeout = "0x0"
	// CodeAmbiguousAuthorization answers a request with more than one Authorization header
	// (400). [unverified] No Microsoft page says what the service does with two; it is refused
	// as malformed with the generic code.
	CodeAmbiguousAuthorization = "0x0"
	// CodeInvalidBypassValue answers a bypass header (MSCRM.BypassCustomPluginExecution,
	// MSCRM.BypassBusinessLogicExecution) with a value Dataverse does not take
	// (InvalidArgument) [unverified code and message].
	CodeInvalidBypassValue = "0x80040203"
)

// Codes of rows, columns and metadata (the store's kinds map to these in package webapi).
const (
	// CodeObjectDoesNotExist is ObjectDoesNotExist: a row, or a table or column definition,
	// that does not exist.
	CodeObjectDoesNotExist = "0x80040217"
	// CodeValidation is ValidationError: a value breaks its column's rules.
	CodeValidation = "0x80044331"
	// CodeOptionSetValueOutOfRange is a choice value the column does not list.
	CodeOptionSetValueOutOfRange = "0x8004431a"
	// CodeConcurrencyVersionMismatch is an If-Match ETag that no longer matches.
	CodeConcurrencyVersionMismatch = "0x80060882"
	// CodeDuplicateRecord is DuplicateRecord: a key (or an association) that already exists.
	CodeDuplicateRecord = "0x80040237"
	// CodeCannotDeleteDueToAssociation is refused deletes of rows still referenced through a
	// Restrict relationship [unverified code].
	CodeCannotDeleteDueToAssociation = "0x80040227"
	// CodeInvalidStateTransition is a statuscode that does not belong to the statecode
	// [unverified code and message].
	CodeInvalidStateTransition = "0x80040203"
	// CodeRequiredMissing is a SystemRequired column left empty or nulled:
	// RequiredFieldMissing in Dataverse's error catalogue ("Required field missing."),
	// answered 400.
	CodeRequiredMissing = "0x80040200"
	// CodeBusinessNotEnabled is BusinessNotEnabled, "The specified business unit is
	// disabled.": the emulator's answer to a business unit created under a disabled parent.
	// Dataverse's error catalogue lists it; where Dataverse raises it is [unverified].
	CodeBusinessNotEnabled = "0x8004032c"
	// CodeAggregateLimit is AggregateQueryRecordLimitExceeded.
	CodeAggregateLimit = "0x8004e023"
	// CodeTooManyJoins is QueryBuilder's "Number of link entities in query exceeded maximum
	// limit."
	CodeTooManyJoins = "0x8004430d"
	// CodeJoinTypeMismatch is QueryBuilderLinkAttributesTypeMismatch: join columns of
	// different types.
	CodeJoinTypeMismatch = "0x80041104"
)

// Codes of the caller and its privileges.
const (
	// CodePrivilegeDenied is PrivilegeDenied: the caller lacks a privilege.
	CodePrivilegeDenied = "0x80040220"
	// CodeRecordAccessDenied is the code for a privilege whose depth does not reach the row
	// [unverified: the reference gives the message shape only].
	CodeRecordAccessDenied = "0x80040220"
	// CodeUserNotMemberOfOrg is UserNotMemberOfOrg: no application user for the caller's app
	// in the organization (or a token of another tenant).
	CodeUserNotMemberOfOrg = "0x80072560"
	// CodeUserNotAssignedRoles is UserNotAssignedRoles: an application user without a
	// security role.
	CodeUserNotAssignedRoles = "0x80042f09"
	// CodeUserDisabled is the code of "The user with SystemUserId=… is disabled."
	// [unverified: the reference gives the message but no code].
	CodeUserDisabled = "0x80040225"
)

// Codes of the service protection limits (webapi.md §5.1), answered 429 with Retry-After.
const (
	// CodeRequestsExceeded is "Number of requests exceeded the limit …" (-2147015902).
	CodeRequestsExceeded = "0x80072322"
	// CodeExecutionTimeExceeded is "Combined execution time of incoming requests exceeded
	// limit …" (-2147015903).
	CodeExecutionTimeExceeded = "0x80072321"
	// CodeConcurrencyExceeded is "Number of concurrent requests exceeded the limit …"
	// (-2147015898).
	CodeConcurrencyExceeded = "0x80072326"
)

// Dataverse's QueryBuilder error codes of FetchXML (CommonErrorCodes), with the messages of the
// Web service error list. Where the platform's text says nothing about the input, the emulator
// appends what was wrong.
const (
	CodeFetchInvalidXML          = "0x80040201" // InvalidXml: "Invalid XML."
	CodeFetchNoEntity            = "0x80041102" // QueryBuilderNoEntity
	CodeFetchNoAttribute         = "0x80041103" // QueryBuilderNoAttribute
	CodeFetchAttrWithAggregate   = "0x80041107" // QueryBuilderAttribute_With_Aggregate
	CodeFetchInvalidValue        = "0x80041108" // QueryBuilderInvalid_Value
	CodeFetchInvalidAlias        = "0x80041109" // QueryBuilderInvalid_Alias
	CodeFetchAliasDoesNotExist   = "0x8004110a" // QueryBuilderAlias_Does_Not_Exist
	CodeFetchInvalidDistinct     = "0x80041115" // QueryBuilderDeserializeInvalidDistinct
	CodeFetchInvalidMapping      = "0x80041116" // QueryBuilderDeserializeInvalidMapping
	CodeFetchInvalidLinkType     = "0x80041117" // QueryBuilderDeserializeInvalidLinkType
	CodeFetchInvalidNoLock       = "0x80041118" // QueryBuilderDeserializeInvalidNoLock
	CodeFetchInvalidDescending   = "0x80041119" // QueryBuilderDeserializeInvalidDescending
	CodeFetchInvalidAggregate    = "0x8004111a" // QueryBuilderDeserializeInvalidAggregate
	CodeFetchInvalidNode         = "0x8004111c" // QueryBuilderDeserializeInvalidNode
	CodeFetchInvalidUtcOffset    = "0x8004111d" // QueryBuilderDeserializeInvalidUtcOffset
	CodeFetchAttributeNotFound   = "0x8004111e" // QueryBuilderAttributeNotFound
	CodeFetchInvalidOperator     = "0x80041120" // QueryBuilderInvalidConditionOperator
	CodeFetchInvalidFilterType   = "0x80041122" // QueryBuilderInvalidFilterType
	CodeFetchElementNotFound     = "0x80041123" // QueryBuilderElementNotFound
	CodeFetchEmptyXML            = "0x80041124" // QueryBuilderDeserializeEmptyXml
	CodeFetchEntitiesDontMatch   = "0x80041128" // QueryBuilderEntitiesDontMatch
	CodeFetchPagingOrderBy       = "0x80041129" // QueryBuilderPagingOrderBy
	CodeFetchInvalidPagingCookie = "0x8004112a" // QueryBuilderInvalidPagingCookie
	CodeFetchInvalidGroupBy      = "0x8004112e" // QueryBuilderDeserializeInvalidGroupBy
	CodeFetchAggregateType       = "0x8004112f" // QueryBuilderInvalidAggregateAttribute
	CodeFetchDuplicateAlias      = "0x80041130" // QueryBuilderDuplicateAlias
	CodeFetchOrderAttrAggregate  = "0x80041131" // QueryBuilderAttributeNotAllowedForAggregateOrderBy
	CodeFetchOrderAliasPlain     = "0x80041132" // QueryBuilderAliasNotAllowedForNonAggregateOrderBy
	CodeFetchOrderAttrRequired   = "0x80041133" // QueryBuilderAttributeRequiredForNonAggregateOrderBy
	CodeFetchOrderAliasRequired  = "0x80041134" // QueryBuilderAliasRequiredForAggregateOrderBy
	CodeFetchInvalidDateGrouping = "0x80041135" // QueryBuilderInvalidDateGrouping
	CodeFetchGroupByAndAggregate = "0x80041137" // QueryBuilderAttributeCannotBeGroupByAndAggregate
	// CodeFetchBadCondition is QueryBuilderBad_Condition.
	CodeFetchBadCondition = "0x80041106"
	// CodeFetchConversion is the failure to read a condition value as the column's type
	// [unverified code].
	CodeFetchConversion = "0x80040203"
)

// HTTP statuses the reference marks [unverified]. Each is one constant so a live check can
// correct it in one place.
const (
	// StatusUserDisabled answers a disabled application user.
	StatusUserDisabled = http.StatusForbidden
	// StatusNoRoles answers an application user without a security role.
	StatusNoRoles = http.StatusForbidden
	// StatusRecordAccess answers a privilege whose depth does not reach the row.
	StatusRecordAccess = http.StatusForbidden
	// StatusAssociation answers a delete refused by a Restrict relationship
	// (CannotDeleteDueToAssociation is listed under 405).
	StatusAssociation = http.StatusMethodNotAllowed
)
