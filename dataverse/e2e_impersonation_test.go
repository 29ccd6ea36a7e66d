package dataverse_test

import (
	"net/http"
	"testing"

	"github.com/google/uuid"

	"github.com/d365s2s/d365/dataverse"
)

// e2eImpersonation: the application user acts on behalf of another systemuser, named by its Entra
// object id (CallerObjectId) or its systemuserid (MSCRMCallerID). Records then show the other user
// as creator and the application user as creator on behalf; WhoAmI answers for the other user;
// a user without privileges cannot be used to write.
func e2eImpersonation(t *testing.T, env *e2eEnv) {
	ctx := t.Context()
	me, err := env.client.WhoAmI(ctx)
	if err != nil {
		t.Fatal(err)
	}
	user := createSystemUser(t, env, "Frances", "Allen")
	if err := env.client.Associate(ctx, "systemusers", user, "systemuserroles_association", "roles", roleID(t, env, "System Administrator"), nil); err != nil {
		t.Fatal(err)
	}
	var u struct {
		ObjectID uuid.UUID `json:"azureactivedirectoryobjectid"`
	}
	if err := env.client.Retrieve(ctx, "systemusers", user, &u, &dataverse.RetrieveOptions{Select: []string{"azureactivedirectoryobjectid"}}); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		opts dataverse.RequestOptions
	}{
		{"CallerObjectId", dataverse.RequestOptions{CallerObjectID: u.ObjectID}},
		{"MSCRMCallerID", dataverse.RequestOptions{CallerID: user}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var who dataverse.WhoAmIResponse
			if err := env.client.CallFunction(ctx, "WhoAmI", nil, &who, &dataverse.OperationOptions{RequestOptions: tc.opts}); err != nil {
				t.Fatalf("WhoAmI impersonating: %v", err)
			}
			if who.UserID != user {
				t.Errorf("WhoAmI impersonating answers for %v, want the impersonated user %v", who.UserID, user)
			}
			res, err := env.client.Create(ctx, "contacts", map[string]any{"lastname": "Impersonated " + tc.name},
				&dataverse.CreateOptions{RequestOptions: tc.opts})
			if err != nil {
				t.Fatalf("Create impersonating: %v", err)
			}
			if got := lookupOf(t, env, "contacts", res.ID, "createdby"); got != user {
				t.Errorf("createdby %v, want the impersonated user %v", got, user)
			}
			if got := lookupOf(t, env, "contacts", res.ID, "createdonbehalfby"); got != me.UserID {
				t.Errorf("createdonbehalfby %v, want the application user %v", got, me.UserID)
			}
			if got := lookupOf(t, env, "contacts", res.ID, "ownerid"); got != user {
				t.Errorf("ownerid %v, want the impersonated user %v", got, user)
			}
		})
	}

	// A user without any role has no privileges, so neither has the intersection.
	powerless := createSystemUser(t, env, "No", "Roles")
	_, err = env.client.Create(ctx, "contacts", map[string]any{"lastname": "Refused"},
		&dataverse.CreateOptions{RequestOptions: dataverse.RequestOptions{CallerID: powerless}})
	wantResponseError(t, "Create impersonating a user without roles", err, http.StatusForbidden, dataverse.CodePrivilegeDenied)
	// Impersonating someone who does not exist.
	_, err = env.client.Create(ctx, "contacts", map[string]any{"lastname": "Nobody"},
		&dataverse.CreateOptions{RequestOptions: dataverse.RequestOptions{CallerID: uuid.New()}})
	if !hasStatus(err, http.StatusNotFound) && !dataverse.IsForbidden(err) {
		t.Errorf("Create impersonating a missing user: %v, want 404 or 403", err)
	}
}
