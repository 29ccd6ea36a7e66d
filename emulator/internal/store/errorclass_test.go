package store

// errorClass is what a store failure tells the Web API: its kind and, for
// a validation failure, its reason. Tests assert it where they once
// asserted Dataverse's code; package webapi pins the code of each class
// (TestStoreKindWire).
type errorClass struct {
	kind   Kind
	reason Reason
}

func classOf(e *Error) errorClass { return errorClass{e.Kind, e.Reason} }

var (
	classObjectDoesNotExist       = errorClass{kind: KindNotFound}
	classValidation               = errorClass{kind: KindValidation}
	classOptionSetValueOutOfRange = errorClass{KindValidation, ReasonOptionSetValueOutOfRange}
	classInvalidStateTransition   = errorClass{KindValidation, ReasonInvalidStateTransition}
	classRequiredMissing          = errorClass{KindValidation, ReasonRequiredMissing}
	classBusinessNotEnabled       = errorClass{KindValidation, ReasonBusinessUnitDisabled}
	classPrivilegeDenied          = errorClass{kind: KindPrivilege}
	classUserNotAssignedRoles     = errorClass{kind: KindNoRoles}
	classUserNotMemberOfOrg       = errorClass{kind: KindNoUser}
	classDuplicateRecord          = errorClass{kind: KindDuplicate}
)
