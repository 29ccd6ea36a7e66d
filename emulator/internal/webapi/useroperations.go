package webapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/d365s2s/d365/emulator/internal/dverr"
	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/d365s2s/d365/emulator/internal/store"
	"github.com/google/uuid"
)

// retrieveUserPrivileges answers the bound function
// GET systemusers(<id>)/Microsoft.Dynamics.CRM.RetrieveUserPrivileges:
//
//	{"@odata.context":"…$metadata#Microsoft.Dynamics.CRM.RetrieveUserPrivilegesResponse",
//	 "RolePrivileges":[{"Depth":"Global","PrivilegeId":"…","BusinessUnitId":"…","PrivilegeName":"prvReadAccount"},…]}
//
// Depth is the PrivilegeDepth enum member's name, as OData writes enum
// values. The RolePrivilege type's RecordFilterId and
// RecordFilterUniqueName are left out [unverified: what Dataverse sends
// for a privilege without a record filter].
func (req *request) retrieveUserPrivileges(t *schema.Table, key rowKey) error {
	id, err := req.existing(t, key)
	if err != nil {
		return err
	}
	privs, err := req.h.store.UserPrivileges(req.ctx, req.p, id)
	if err != nil {
		return err
	}
	jw := req.startJSON(http.StatusOK)
	jw.raw(`{"@odata.context":`)
	jw.str(req.base + "/$metadata#Microsoft.Dynamics.CRM.RetrieveUserPrivilegesResponse")
	jw.raw(`,"RolePrivileges":[`)
	for i, p := range privs {
		if i > 0 {
			jw.byte(',')
		}
		jw.raw(`{"Depth":`)
		jw.str(p.Depth.String())
		jw.raw(`,"PrivilegeId":`)
		jw.str(p.ID)
		jw.raw(`,"BusinessUnitId":`)
		jw.str(p.BusinessUnitID)
		jw.raw(`,"PrivilegeName":`)
		jw.str(p.Name)
		jw.byte('}')
	}
	jw.raw("]}")
	return req.endJSON(jw)
}

// addMembersTeam answers POST teams(<id>)/Microsoft.Dynamics.CRM.AddMembersTeam
// {"Members":[{"@odata.type":"Microsoft.Dynamics.CRM.systemuser","systemuserid":"…"}]}
// with 204; the caller needs prvWriteTeam.
func (req *request) addMembersTeam(t *schema.Table, key rowKey) error {
	return req.changeTeamMembers(t, key, (*store.Tx).AddTeamMembers)
}

// removeMembersTeam answers POST teams(<id>)/Microsoft.Dynamics.CRM.RemoveMembersTeam,
// with the body and answer of AddMembersTeam.
func (req *request) removeMembersTeam(t *schema.Table, key rowKey) error {
	return req.changeTeamMembers(t, key, (*store.Tx).RemoveTeamMembers)
}

func (req *request) changeTeamMembers(t *schema.Table, key rowKey,
	change func(tx *store.Tx, ctx context.Context, p *store.Principal, team uuid.UUID, users []uuid.UUID) error) error {
	body, err := req.readBody(t)
	if err != nil {
		return err
	}
	users, err := req.teamMembers(t, body)
	if err != nil {
		return err
	}
	id, err := req.existing(t, key)
	if err != nil {
		return err
	}
	if err := req.write(func(tx *store.Tx) error { return change(tx, req.ctx, req.p, id, users) }); err != nil {
		return err
	}
	req.w.WriteHeader(http.StatusNoContent)
	return nil
}

// teamMembers reads the Members parameter: systemuser entities, each with
// its key; @odata.type may be given (it must then be systemuser).
func (req *request) teamMembers(team *schema.Table, body []byte) ([]uuid.UUID, error) {
	members, err := readObject(team, body)
	if err != nil {
		return nil, err
	}
	var raw json.RawMessage
	for _, m := range members {
		if m.name != "Members" {
			return nil, errPayload(team, "The parameter '%s' is not a parameter of the action; it takes 'Members'.", m.name)
		}
		raw = m.value
	}
	var items []json.RawMessage
	if raw == nil || json.Unmarshal(raw, &items) != nil || items == nil {
		return nil, errPayload(team, "The action needs a 'Members' array of systemuser records, such as [{\"@odata.type\":\"Microsoft.Dynamics.CRM.systemuser\",\"systemuserid\":\"<guid>\"}].")
	}
	users, _ := req.h.schema.Table("systemuser")
	out := make([]uuid.UUID, 0, len(items))
	for i, item := range items {
		fields, err := readObject(users, item)
		if err != nil {
			return nil, err
		}
		id := uuid.Nil
		for _, f := range fields {
			switch {
			case f.name == "@odata.type":
				var typ string
				_ = json.Unmarshal(f.value, &typ)
				if strings.TrimPrefix(typ, "#") != users.EntityTypeName() {
					return nil, errPayload(team, "Member %d has @odata.type '%s'; the members of a team are %s records.", i, typ, users.EntityTypeName())
				}
			case f.name == users.PrimaryID().LogicalName:
				var s string
				perr := json.Unmarshal(f.value, &s)
				if perr == nil {
					id, perr = uuid.Parse(s)
				}
				if perr != nil {
					return nil, errPayload(team, "Cannot convert the literal '%s' to the expected type 'Edm.Guid'.", strings.Trim(string(f.value), `"`))
				}
			default:
				// Other properties of the record are allowed and ignored; a
				// name systemuser does not have is refused.
				if _, ok := users.Property(strings.SplitN(f.name, "@", 2)[0]); !ok && !strings.HasPrefix(f.name, "@") {
					return nil, errInvalidProperty(f.name, users)
				}
			}
		}
		if id == uuid.Nil {
			return nil, newError(http.StatusBadRequest, dverr.CodeODataError, "EdmEntityObject passed should have the key property value set.")
		}
		out = append(out, id)
	}
	return out, nil
}
