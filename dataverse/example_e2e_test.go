package dataverse_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/google/uuid"

	"github.com/d365s2s/d365/dataverse"
	"github.com/d365s2s/d365/emulator"
)

// These examples run against a local emulator of Entra ID and the Dataverse Web API, over HTTPS.
// Against a real environment, the same code takes the environment URL, the tenant, the app's
// client ID and secret, and no Cloud or Transport options.

// exampleClient starts an emulator (with sc, or the default seed when sc is nil) and returns a
// client for its application user, and a function that stops the emulator.
func exampleClient(sc *emulator.Scenario) (*dataverse.Client, func()) {
	emu, err := emulator.New(&emulator.Options{Scenario: sc})
	if err != nil {
		log.Fatal(err)
	}
	creds := emu.Credentials()
	cred, err := azidentity.NewClientSecretCredential(creds.TenantID, creds.ClientID, creds.ClientSecret,
		&azidentity.ClientSecretCredentialOptions{
			ClientOptions: azcore.ClientOptions{
				Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: emu.AuthorityHost()},
				Transport: emu.HTTPClient(),
			},
			DisableInstanceDiscovery: true,
		})
	if err != nil {
		log.Fatal(err)
	}
	client, err := dataverse.NewClient(emu.OrgURL(), cred, &dataverse.ClientOptions{
		ClientOptions: azcore.ClientOptions{Transport: emu.HTTPClient()},
	})
	if err != nil {
		log.Fatal(err)
	}
	return client, func() {
		emu.HTTPClient().CloseIdleConnections()
		emu.Close()
	}
}

// Create a client with an app registration's client secret and check who it is.
func ExampleNewClient() {
	emu, err := emulator.New(nil)
	if err != nil {
		log.Fatal(err)
	}
	defer emu.Close()
	creds := emu.Credentials() // tenant, client ID and secret of the emulator's app registration

	// One credential per process: azidentity caches and refreshes its tokens.
	cred, err := azidentity.NewClientSecretCredential(creds.TenantID, creds.ClientID, creds.ClientSecret,
		&azidentity.ClientSecretCredentialOptions{
			ClientOptions: azcore.ClientOptions{
				// Only for the emulator: its authority, and an HTTP client that trusts its CA.
				Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: emu.AuthorityHost()},
				Transport: emu.HTTPClient(),
			},
			DisableInstanceDiscovery: true,
		})
	if err != nil {
		log.Fatal(err)
	}
	// One client per environment; it asks for tokens with the scope <org URL>/.default.
	client, err := dataverse.NewClient(emu.OrgURL(), cred, &dataverse.ClientOptions{
		ClientOptions: azcore.ClientOptions{Transport: emu.HTTPClient()},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer emu.HTTPClient().CloseIdleConnections()

	ctx := context.Background()
	me, err := client.WhoAmI(ctx)
	if err != nil {
		log.Fatal(err)
	}
	// WhoAmI answers with the application user of the app registration.
	var user struct {
		FullName      string    `json:"fullname"`
		ApplicationID uuid.UUID `json:"applicationid"`
	}
	if err := client.Retrieve(ctx, "systemusers", me.UserID, &user, &dataverse.RetrieveOptions{Select: []string{"fullname", "applicationid"}}); err != nil {
		log.Fatal(err)
	}
	fmt.Println(client.APIVersion())
	fmt.Println(user.FullName)
	fmt.Println(user.ApplicationID.String() == creds.ClientID)
	// Output:
	// v9.2
	// d365 emulator app
	// true
}

// Create, retrieve, update and delete a contact.
func ExampleClient_Create() {
	client, stop := exampleClient(nil)
	defer stop()
	ctx := context.Background()

	type contact struct {
		ID       uuid.UUID   `json:"contactid,omitempty"`
		First    string      `json:"firstname,omitempty"`
		Last     string      `json:"lastname,omitempty"`
		FullName string      `json:"fullname,omitempty"`
		JobTitle string      `json:"jobtitle,omitempty"`
		ETag     azcore.ETag `json:"@odata.etag,omitempty"`
	}
	created, err := client.Create(ctx, "contacts", contact{First: "Ada", Last: "Lovelace"}, nil)
	if err != nil {
		log.Fatal(err)
	}

	var c contact
	sel := &dataverse.RetrieveOptions{Select: []string{"fullname", "jobtitle"}}
	if err := client.Retrieve(ctx, "contacts", created.ID, &c, sel); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("created %s\n", c.FullName)

	// Update only if nobody changed the record since it was read.
	if _, err := client.Update(ctx, "contacts", created.ID, contact{JobTitle: "Analyst"}, &dataverse.UpdateOptions{IfMatch: c.ETag}); err != nil {
		log.Fatal(err)
	}
	if err := client.Retrieve(ctx, "contacts", created.ID, &c, sel); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("updated %s: %s\n", c.FullName, c.JobTitle)

	if err := client.Delete(ctx, "contacts", created.ID, nil); err != nil {
		log.Fatal(err)
	}
	err = client.Retrieve(ctx, "contacts", created.ID, &c, sel)
	fmt.Println("deleted:", dataverse.IsNotFound(err))
	// Output:
	// created Ada Lovelace
	// updated Ada Lovelace: Analyst
	// deleted: true
}

// Read a query page by page, then resume it from a saved next link.
func ExampleNewPager() {
	client, stop := exampleClient(nil)
	defer stop()
	ctx := context.Background()

	var rows []map[string]any
	for i := 1; i <= 7; i++ {
		rows = append(rows, map[string]any{"firstname": "Reader", "lastname": fmt.Sprintf("No. %d", i)})
	}
	if _, err := dataverse.CreateMultiple(ctx, client, "contacts", "contact", rows, nil); err != nil {
		log.Fatal(err)
	}

	type contact struct {
		Last string `json:"lastname"`
	}
	opts := &dataverse.ListOptions{Query: dataverse.Query{
		Select:      []string{"lastname"},
		Filter:      dataverse.Eq("firstname", "Reader").String(),
		OrderBy:     []string{"lastname"},
		MaxPageSize: 3,
	}}
	pager := dataverse.NewPager[contact](client, "contacts", opts)
	page, err := pager.NextPage(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("first page:", page.Items)
	checkpoint := page.NextLink // save it: a later run can continue from here

	resumed, err := dataverse.ResumePager[contact](client, checkpoint, &dataverse.ListOptions{Query: dataverse.Query{MaxPageSize: 3}})
	if err != nil {
		log.Fatal(err)
	}
	for c, err := range resumed.All(ctx) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("then:", c.Last)
	}
	// Output:
	// first page: [{No. 1} {No. 2} {No. 3}]
	// then: No. 4
	// then: No. 5
	// then: No. 6
	// then: No. 7
}

// Create an account and its primary contact in one transaction, and read them back, in one $batch.
func ExampleClient_ExecuteBatch() {
	client, stop := exampleClient(nil)
	defer stop()
	ctx := context.Background()

	b := dataverse.NewBatch()
	cs := b.ChangeSet() // all or nothing
	contact := cs.Add(dataverse.CreateRequest("contacts", map[string]any{"firstname": "Grace", "lastname": "Hopper"}))
	cs.Add(dataverse.CreateRequest("accounts", map[string]any{"name": "Compilers Inc.", "primarycontactid@odata.bind": contact}))
	read := b.Add(dataverse.QueryRequest("accounts", dataverse.Query{
		Select: []string{"name"},
		Expand: []dataverse.Expand{{Property: "primarycontactid", Select: []string{"fullname"}}},
	}))

	res, err := client.ExecuteBatch(ctx, b, nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range res.Responses {
		fmt.Printf("operation %d: %d, Content-ID %q\n", r.Index, r.StatusCode, r.ContentID)
	}
	var page struct {
		Value []struct {
			Name    string `json:"name"`
			Primary struct {
				FullName string `json:"fullname"`
			} `json:"primarycontactid"`
		} `json:"value"`
	}
	if err := res.Responses[read].Decode(&page); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s, primary contact %s\n", page.Value[0].Name, page.Value[0].Primary.FullName)
	// Output:
	// operation 0: 204, Content-ID "1"
	// operation 1: 204, Content-ID "2"
	// operation 2: 200, Content-ID ""
	// Compilers Inc., primary contact Grace Hopper
}

// Upsert by an alternate key: the first call creates the record, the second updates it, and a
// create-only upsert refuses to touch an existing one.
func ExampleClient_UpsertByKey() {
	// An environment whose contacts have an alternate key on their email address.
	sc, err := emulator.ParseScenario([]byte(keysScenario), "keys.yaml")
	if err != nil {
		log.Fatal(err)
	}
	client, stop := exampleClient(sc)
	defer stop()
	ctx := context.Background()

	key := dataverse.AlternateKey{"emailaddress1": "o'brien@example.com"}
	opts := &dataverse.UpsertOptions{ReturnRepresentation: true, Select: []string{"fullname"}}
	for _, first := range []string{"Conan", "Flann"} {
		res, err := client.UpsertByKey(ctx, "contacts", key, map[string]any{"firstname": first, "lastname": "O'Brien"}, opts)
		if err != nil {
			log.Fatal(err)
		}
		name, _ := res.Record.String("fullname")
		fmt.Printf("created %v: %s\n", res.Created, name)
	}

	_, err = client.UpsertByKey(ctx, "contacts", key, map[string]any{"lastname": "Other"}, &dataverse.UpsertOptions{Mode: dataverse.UpsertCreateOnly})
	fmt.Println(dataverse.IsPreconditionFailed(err), dataverse.HasCode(err, dataverse.CodeDuplicateRecord))
	// Output:
	// created true: Conan O'Brien
	// created false: Flann O'Brien
	// true true
}

// Tell failures apart: a missing record, a stale ETag, a misspelt entity set.
func ExampleResponseError() {
	client, stop := exampleClient(nil)
	defer stop()
	ctx := context.Background()

	var rec dataverse.Record
	err := client.Retrieve(ctx, "contacts", uuid.MustParse("00000000-0000-0000-0000-000000000001"), &rec, nil)
	var re *dataverse.ResponseError
	if errors.As(err, &re) {
		fmt.Println(re.StatusCode, re.Code, re.Message)
	}

	created, err := client.Create(ctx, "contacts", map[string]any{"lastname": "Version"}, &dataverse.CreateOptions{ReturnRepresentation: true})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := client.Update(ctx, "contacts", created.ID, map[string]any{"jobtitle": "First"}, &dataverse.UpdateOptions{IfMatch: created.ETag}); err != nil {
		log.Fatal(err)
	}
	_, err = client.Update(ctx, "contacts", created.ID, map[string]any{"jobtitle": "Second"}, &dataverse.UpdateOptions{IfMatch: created.ETag})
	if dataverse.IsPreconditionFailed(err) && errors.As(err, &re) {
		fmt.Println(re.StatusCode, re.Code == dataverse.CodeConcurrencyVersionMismatch)
	}

	// Entity set names are case-sensitive: "Contacts" does not exist.
	err = client.Retrieve(ctx, "Contacts", created.ID, &rec, nil)
	if errors.As(err, &re) {
		fmt.Println(re.StatusCode, re.Code == dataverse.CodeResourceNotFound, re.Message)
	}
	// Output:
	// 404 0x80040217 contact With Id = 00000000-0000-0000-0000-000000000001 Does Not Exist
	// 412 true
	// 404 true Resource not found for the segment 'Contacts'.
}
