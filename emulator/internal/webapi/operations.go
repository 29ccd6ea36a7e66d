package webapi

import (
	"net/http"
	"strings"

	"github.com/d365s2s/d365/emulator/internal/dverr"
	"github.com/d365s2s/d365/emulator/internal/schema"
)

// binding is what an operation is bound to.
type binding uint8

const (
	unbound         binding = iota
	boundEntity             // <set>(<key>)/Microsoft.Dynamics.CRM.<name>
	boundCollection         // <set>/Microsoft.Dynamics.CRM.<name>
)

// operation is a Dataverse function (GET, no side effects) or action
// (POST) the emulator serves. The catalogue drives routing, the errors for
// a wrong method or a missing namespace, and the $metadata document, so an
// operation served is an operation described.
type operation struct {
	name     string
	function bool
	binding  binding
	// table is the logical name of the table a bound operation is bound
	// to; "" binds it to every table (the bulk messages).
	table string
	// serveEntity and serveCollection answer a bound call.
	serveEntity     func(req *request, t *schema.Table, key rowKey) error
	serveCollection func(req *request, t *schema.Table, name string) error
	// csdl is the operation's CSDL: its Function or Action element and the
	// types only it uses.
	csdl string
}

// operations are the bound operations the emulator serves, by name. The
// unbound functions (WhoAmI, RetrieveVersion, RetrieveTotalRecordCount)
// are routed by name in route and described in unboundCSDL.
var operations = map[string]*operation{}

func init() {
	for _, op := range []*operation{
		{name: actionCreateMultiple, binding: boundCollection, serveCollection: (*request).bulkAction,
			csdl: bulkActionCSDL(actionCreateMultiple, `<ReturnType Type="mscrm.CreateMultipleResponse" Nullable="false"/>`) +
				`<ComplexType Name="CreateMultipleResponse"><Property Name="Ids" Type="Collection(Edm.Guid)" Nullable="false"/></ComplexType>` + "\n"},
		{name: actionUpdateMultiple, binding: boundCollection, serveCollection: (*request).bulkAction, csdl: bulkActionCSDL(actionUpdateMultiple, "")},
		{name: actionUpsertMultiple, binding: boundCollection, serveCollection: (*request).bulkAction, csdl: bulkActionCSDL(actionUpsertMultiple, "")},
		{name: actionDeleteMultiple, binding: boundCollection, serveCollection: (*request).bulkAction, csdl: bulkActionCSDL(actionDeleteMultiple, "")},
		{name: "RetrieveUserPrivileges", function: true, binding: boundEntity, table: "systemuser", serveEntity: (*request).retrieveUserPrivileges,
			csdl: `<Function Name="RetrieveUserPrivileges" IsBound="true"><Parameter Name="entity" Type="mscrm.systemuser" Nullable="false"/>` +
				`<ReturnType Type="mscrm.RetrieveUserPrivilegesResponse" Nullable="false"/></Function>` + "\n" +
				`<ComplexType Name="RetrieveUserPrivilegesResponse"><Property Name="RolePrivileges" Type="Collection(mscrm.RolePrivilege)"/></ComplexType>` + "\n" +
				`<ComplexType Name="RolePrivilege"><Property Name="Depth" Type="mscrm.PrivilegeDepth" Nullable="false"/>` +
				`<Property Name="PrivilegeId" Type="Edm.Guid" Nullable="false"/><Property Name="BusinessUnitId" Type="Edm.Guid" Nullable="false"/>` +
				`<Property Name="PrivilegeName" Type="Edm.String" Unicode="false"/></ComplexType>` + "\n" +
				`<EnumType Name="PrivilegeDepth"><Member Name="Basic" Value="0"/><Member Name="Local" Value="1"/><Member Name="Deep" Value="2"/>` +
				`<Member Name="Global" Value="3"/><Member Name="RecordFilter" Value="4"/></EnumType>` + "\n"},
		{name: "AddMembersTeam", binding: boundEntity, table: "team", serveEntity: (*request).addMembersTeam, csdl: membersActionCSDL("AddMembersTeam")},
		{name: "RemoveMembersTeam", binding: boundEntity, table: "team", serveEntity: (*request).removeMembersTeam, csdl: membersActionCSDL("RemoveMembersTeam")},
	} {
		operations[op.name] = op
	}
}

func bulkActionCSDL(name, returnType string) string {
	return `<Action Name="` + name + `" IsBound="true"><Parameter Name="entityset" Type="Collection(mscrm.crmbaseentity)" Nullable="false"/>` +
		`<Parameter Name="Targets" Type="Collection(mscrm.crmbaseentity)" Nullable="false"/>` + returnType + "</Action>\n"
}

func membersActionCSDL(name string) string {
	return `<Action Name="` + name + `" IsBound="true"><Parameter Name="entity" Type="mscrm.team" Nullable="false"/>` +
		`<Parameter Name="Members" Type="Collection(mscrm.systemuser)" Nullable="false"/></Action>` + "\n"
}

// unboundCSDL describes the unbound functions route serves, with their
// function imports in importCSDL.
const unboundCSDL = `<ComplexType Name="WhoAmIResponse"><Property Name="BusinessUnitId" Type="Edm.Guid" Nullable="false"/><Property Name="UserId" Type="Edm.Guid" Nullable="false"/><Property Name="OrganizationId" Type="Edm.Guid" Nullable="false"/></ComplexType>
<ComplexType Name="RetrieveVersionResponse"><Property Name="Version" Type="Edm.String" Unicode="false"/></ComplexType>
<ComplexType Name="EntityRecordCountCollection"><Property Name="Count" Type="Edm.Int32" Nullable="false"/><Property Name="IsReadOnly" Type="Edm.Boolean" Nullable="false"/><Property Name="Keys" Type="Collection(Edm.String)"/><Property Name="Values" Type="Collection(Edm.Int64)"/></ComplexType>
<ComplexType Name="RetrieveTotalRecordCountResponse"><Property Name="EntityRecordCountCollection" Type="mscrm.EntityRecordCountCollection"/></ComplexType>
<Function Name="WhoAmI"><ReturnType Type="mscrm.WhoAmIResponse" Nullable="false"/></Function>
<Function Name="RetrieveVersion"><ReturnType Type="mscrm.RetrieveVersionResponse" Nullable="false"/></Function>
<Function Name="RetrieveTotalRecordCount"><Parameter Name="EntityNames" Type="Collection(Edm.String)" Nullable="false" Unicode="false"/><ReturnType Type="mscrm.RetrieveTotalRecordCountResponse" Nullable="false"/></Function>
`

// importCSDL are the function imports of the unbound functions, inside the
// entity container.
const importCSDL = `<FunctionImport Name="WhoAmI" Function="Microsoft.Dynamics.CRM.WhoAmI"/>
<FunctionImport Name="RetrieveVersion" Function="Microsoft.Dynamics.CRM.RetrieveVersion"/>
<FunctionImport Name="RetrieveTotalRecordCount" Function="Microsoft.Dynamics.CRM.RetrieveTotalRecordCount"/>
`

// boundOperation reads a path segment naming a bound operation:
// "Microsoft.Dynamics.CRM.RetrieveUserPrivileges", with "()" after a
// function, or the bare name (which Dataverse refuses). ok is false when
// the segment names no operation the emulator serves.
func boundOperation(segment string) (op *operation, qualified, ok bool) {
	name, qualified := strings.CutPrefix(segment, schema.Namespace+".")
	parens := false
	if base, found := strings.CutSuffix(name, "()"); found {
		name, parens = base, true
	}
	op, ok = operations[name]
	if !ok || (parens && !op.function) {
		return nil, false, false
	}
	return op, qualified, true
}

// callEntityOperation answers <set>(<key>)/<operation>; handled is false
// when the segment names no operation (it may be a property or a
// navigation property).
func (req *request) callEntityOperation(t *schema.Table, key rowKey, segment string) (handled bool, err error) {
	op, qualified, ok := boundOperation(segment)
	if !ok {
		return false, nil
	}
	if op.binding != boundEntity || (op.table != "" && op.table != t.LogicalName) {
		return true, errResourceNotFound(segment)
	}
	if err := req.checkOperationCall(op, qualified); err != nil {
		return true, err
	}
	return true, op.serveEntity(req, t, key)
}

// callCollectionOperation answers <set>/<operation>.
func (req *request) callCollectionOperation(t *schema.Table, segment string) error {
	op, qualified, ok := boundOperation(segment)
	if !ok || op.binding != boundCollection || (op.table != "" && op.table != t.LogicalName) {
		return errResourceNotFound(segment)
	}
	if err := req.checkOperationCall(op, qualified); err != nil {
		return err
	}
	return op.serveCollection(req, t, op.name)
}

// checkOperationCall refuses a bound operation called without its
// namespace (400 "Request message has unresolved parameters.") or with
// the wrong method: a function is a GET, an action a POST (404 "No HTTP
// resource was found…").
func (req *request) checkOperationCall(op *operation, qualified bool) error {
	if !qualified {
		return newError(http.StatusBadRequest, dverr.CodeODataError, "Request message has unresolved parameters.")
	}
	want := http.MethodPost
	if op.function {
		want = http.MethodGet
	}
	if req.r.Method != want {
		return errNoHTTPResource(req.requestURL())
	}
	return nil
}
