package dataverse_test

import (
	"net/http"
	"testing"

	"github.com/google/uuid"

	"github.com/d365s2s/d365/dataverse"
	"github.com/d365s2s/d365/emulator"
)

// keysScenario is an environment whose contacts and accounts have alternate keys, plus a table with
// a composite key of a text and a whole number.
const keysScenario = `
tenants:
  - domain: keys.onmicrosoft.com
apps:
  - name: keys-app
    secrets:
      - value: "keys~scenario~secret~for~the~emulator~only"
applicationUsers:
  - app: keys-app
    roles: [System Administrator]
schema:
  tables:
    - logicalName: contact
      keys:
        - {schemaName: contact_email, columns: [emailaddress1]}
    - logicalName: account
      keys:
        - {schemaName: account_number, columns: [accountnumber]}
    - logicalName: new_reading
      primaryNameColumn: new_name
      columns:
        - {logicalName: new_name, type: String}
        - {logicalName: new_meter, type: String, maxLength: 40}
        - {logicalName: new_seq, type: Integer}
        - {logicalName: new_value, type: Decimal, precision: 3}
      keys:
        - {schemaName: new_meter_seq, columns: [new_meter, new_seq]}
`

func newKeysEnv(t *testing.T) *e2eEnv {
	t.Helper()
	sc, err := emulator.ParseScenario([]byte(keysScenario), "keys.yaml")
	if err != nil {
		t.Fatalf("scenario: %v", err)
	}
	return newE2E(t, &e2eSetup{emulator: &emulator.Options{Scenario: sc}})
}

// TestE2EAlternateKeys: retrieve, update, upsert (with its guards) and delete by alternate key, with
// key values holding quotes, URL delimiters and non-ASCII letters; binds by key; composite keys.
func TestE2EAlternateKeys(t *testing.T) {
	t.Parallel()
	env := newKeysEnv(t)
	ctx := t.Context()

	emails := []string{
		"o'brien@example.com",
		"a/b+c@example.com",
		"x&y#z?w=1;%20@example.com",
		"zoë.ångström@exämple.com",
		"李@例子.公司",
	}
	for _, email := range emails {
		key := dataverse.AlternateKey{"emailaddress1": email}
		t.Run(email, func(t *testing.T) {
			_, err := env.client.UpsertByKey(ctx, "contacts", key, map[string]any{"lastname": "Missing"}, &dataverse.UpsertOptions{Mode: dataverse.UpsertUpdateOnly})
			wantResponseError(t, "update-only upsert of a missing key", err, http.StatusNotFound, dataverse.CodeObjectDoesNotExist)

			res, err := env.client.UpsertByKey(ctx, "contacts", key, map[string]any{"lastname": "Keyed"},
				&dataverse.UpsertOptions{Mode: dataverse.UpsertCreateOnly, ReturnRepresentation: true, Select: []string{"emailaddress1", "lastname"}})
			if err != nil {
				t.Fatalf("create-only upsert by key: %v", err)
			}
			if !res.Created || res.ID == uuid.Nil {
				t.Fatalf("create-only upsert by key = %+v", res)
			}
			if got, _ := res.Record.String("emailaddress1"); got != email {
				t.Errorf("the key column was not copied from the URL: emailaddress1 = %q", got)
			}

			_, err = env.client.UpsertByKey(ctx, "contacts", key, map[string]any{"lastname": "Again"}, &dataverse.UpsertOptions{Mode: dataverse.UpsertCreateOnly})
			wantResponseError(t, "create-only upsert of an existing key", err, http.StatusPreconditionFailed, dataverse.CodeDuplicateRecord)

			var c e2eContact
			if err := env.client.RetrieveByKey(ctx, "contacts", key, &c, &dataverse.RetrieveOptions{Select: []string{"lastname", "emailaddress1"}}); err != nil {
				t.Fatalf("RetrieveByKey: %v", err)
			}
			if c.ID != res.ID || c.LastName != "Keyed" || c.Email == nil || *c.Email != email {
				t.Errorf("RetrieveByKey = %+v", c)
			}
			// Found by a filter on the same value too.
			page, err := env.client.List(ctx, "contacts", &dataverse.ListOptions{Query: dataverse.Query{
				Select: []string{"lastname"}, Filter: dataverse.Filterf("emailaddress1 eq %v", email),
			}})
			if err != nil || len(page.Items) != 1 {
				t.Errorf("filter on the key value: %v, %v", page, err)
			}

			up, err := env.client.UpdateByKey(ctx, "contacts", key, map[string]any{"jobtitle": "Updated by key"}, &dataverse.UpdateOptions{ReturnRepresentation: true})
			if err != nil {
				t.Fatalf("UpdateByKey: %v", err)
			}
			if up.ID != res.ID {
				t.Errorf("UpdateByKey id %v, want %v", up.ID, res.ID)
			}
			// A plain upsert by key updates the existing record and keeps its key.
			up, err = env.client.UpsertByKey(ctx, "contacts", key, map[string]any{"lastname": "Upserted", "emailaddress1": "changed@example.com"},
				&dataverse.UpsertOptions{ReturnRepresentation: true, Select: []string{"lastname", "emailaddress1", "jobtitle"}})
			if err != nil {
				t.Fatalf("UpsertByKey: %v", err)
			}
			if up.Created || up.ID != res.ID {
				t.Errorf("UpsertByKey of an existing key: Created %v ID %v", up.Created, up.ID)
			}
			if got, _ := up.Record.String("emailaddress1"); got != email {
				t.Errorf("an update through the key changed the key to %q", got)
			}
			if got, _ := up.Record.String("jobtitle"); got != "Updated by key" {
				t.Errorf("jobtitle %q", got)
			}

			if err := env.client.DeleteByKey(ctx, "contacts", key, nil); err != nil {
				t.Fatalf("DeleteByKey: %v", err)
			}
			err = env.client.RetrieveByKey(ctx, "contacts", key, &c, nil)
			if !dataverse.IsNotFound(err) {
				t.Errorf("RetrieveByKey after DeleteByKey: %v, want 404", err)
			}
		})
	}

	t.Run("bind by key and composite key", func(t *testing.T) {
		number := "A/1+2&3"
		acct, err := env.client.UpsertByKey(ctx, "accounts", dataverse.AlternateKey{"accountnumber": number}, map[string]any{"name": "Keyed account"},
			&dataverse.UpsertOptions{ReturnRepresentation: true})
		if err != nil {
			t.Fatal(err)
		}
		bind, err := dataverse.BindKey("accounts", dataverse.AlternateKey{"accountnumber": number})
		if err != nil {
			t.Fatal(err)
		}
		c, err := env.client.Create(ctx, "contacts", map[string]any{"lastname": "Bound by key", "parentcustomerid_account@odata.bind": bind}, nil)
		if err != nil {
			t.Fatalf("Create with a bind by key: %v", err)
		}
		if got := lookupOf(t, env, "contacts", c.ID, "parentcustomerid"); got != acct.ID {
			t.Errorf("parentcustomerid %v, want %v", got, acct.ID)
		}

		key := dataverse.AlternateKey{"new_meter": "M'1/7", "new_seq": 7}
		if _, err := env.client.UpsertByKey(ctx, "new_readings", key, map[string]any{"new_value": 1.25}, nil); err != nil {
			t.Fatalf("upsert by composite key: %v", err)
		}
		var r struct {
			Meter string  `json:"new_meter"`
			Seq   int     `json:"new_seq"`
			Value float64 `json:"new_value"`
		}
		if err := env.client.RetrieveByKey(ctx, "new_readings", key, &r, &dataverse.RetrieveOptions{Select: []string{"new_meter", "new_seq", "new_value"}}); err != nil {
			t.Fatalf("RetrieveByKey composite: %v", err)
		}
		if r.Meter != "M'1/7" || r.Seq != 7 || r.Value != 1.25 {
			t.Errorf("composite-key record %+v", r)
		}
		err = env.client.RetrieveByKey(ctx, "new_readings", dataverse.AlternateKey{"new_meter": "M'1/7", "new_seq": 8}, &r, nil)
		if !dataverse.IsNotFound(err) {
			t.Errorf("RetrieveByKey of another sequence number: %v, want 404", err)
		}
	})

	t.Run("in a batch and in UpsertMultiple", func(t *testing.T) {
		b := dataverse.NewBatch()
		b.Add(dataverse.UpsertByKeyRequest("contacts", dataverse.AlternateKey{"emailaddress1": "batch'1@example.com"}, map[string]any{"lastname": "Batch key 1"}))
		b.Add(dataverse.UpsertByKeyRequest("contacts", dataverse.AlternateKey{"emailaddress1": "batch&2@example.com"}, map[string]any{"lastname": "Batch key 2"}))
		res, err := env.client.ExecuteBatch(ctx, b, nil)
		if err != nil {
			t.Fatalf("batch of upserts by key: %v", err)
		}
		for i, r := range res.Responses {
			if r.StatusCode != http.StatusNoContent || r.ID() == uuid.Nil {
				t.Errorf("response %d: %d id %v", i, r.StatusCode, r.ID())
			}
		}
		recs := []map[string]any{
			{"@odata.id": "contacts(emailaddress1='batch''1@example.com')", "jobtitle": "Multi 1"},
			{"@odata.id": "contacts(emailaddress1='multi@example.com')", "lastname": "Multi new"},
		}
		if err := dataverse.UpsertMultiple(ctx, env.client, "contacts", "contact", recs, nil); err != nil {
			t.Fatalf("UpsertMultiple by key: %v", err)
		}
		var c e2eContact
		if err := env.client.RetrieveByKey(ctx, "contacts", dataverse.AlternateKey{"emailaddress1": "batch'1@example.com"}, &c, nil); err != nil || c.JobTitle == nil || *c.JobTitle != "Multi 1" {
			t.Errorf("after UpsertMultiple: %+v, %v", c, err)
		}
		if err := env.client.RetrieveByKey(ctx, "contacts", dataverse.AlternateKey{"emailaddress1": "multi@example.com"}, &c, nil); err != nil || c.LastName != "Multi new" {
			t.Errorf("created by UpsertMultiple: %+v, %v", c, err)
		}
	})
}
