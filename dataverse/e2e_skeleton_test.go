package dataverse_test

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/google/uuid"

	"github.com/d365s2s/d365/dataverse"
	"github.com/d365s2s/d365/emulator"
)

// countingTransport counts token requests on their way to the emulator.
type countingTransport struct {
	next          policy.Transporter
	tokenRequests atomic.Int32
}

func (c *countingTransport) Do(req *http.Request) (*http.Response, error) {
	if strings.HasSuffix(req.URL.Path, "/oauth2/v2.0/token") {
		c.tokenRequests.Add(1)
	}
	return c.next.Do(req)
}

// TestSecretCredentialAndClientAgainstEmulator is the walking skeleton end to end: azidentity's
// ClientSecretCredential against the emulator's Entra endpoints, and a dataverse.Client using it
// for WhoAmI and the life of a contact, over real HTTPS.
func TestSecretCredentialAndClientAgainstEmulator(t *testing.T) {
	t.Parallel()
	emu, err := emulator.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	counter := &countingTransport{next: emu.HTTPClient()}
	creds := emu.Credentials()
	cred, err := azidentity.NewClientSecretCredential(creds.TenantID, creds.ClientID, creds.ClientSecret,
		&azidentity.ClientSecretCredentialOptions{
			ClientOptions: azcore.ClientOptions{
				Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: emu.AuthorityHost()},
				Transport: counter,
			},
			DisableInstanceDiscovery: true,
		})
	if err != nil {
		t.Fatal(err)
	}
	scope := policy.TokenRequestOptions{Scopes: []string{emu.OrgURL() + "/.default"}}
	first, err := cred.GetToken(ctx, scope)
	if err != nil {
		t.Fatalf("GetToken: %v", err)
	}
	second, err := cred.GetToken(ctx, scope)
	if err != nil {
		t.Fatalf("second GetToken: %v", err)
	}
	if first.Token != second.Token || counter.tokenRequests.Load() != 1 {
		t.Fatalf("second GetToken was not served from the cache: %d token requests", counter.tokenRequests.Load())
	}

	client, err := dataverse.NewClient(emu.OrgURL(), cred, &dataverse.ClientOptions{
		ClientOptions: azcore.ClientOptions{Transport: counter},
	})
	if err != nil {
		t.Fatal(err)
	}
	me, err := client.WhoAmI(ctx)
	if err != nil {
		t.Fatalf("WhoAmI: %v", err)
	}
	// The client's bearer policy asks with CAE enabled, which azidentity caches apart from the
	// plain request above: one more token request, then none for the rest of the test.
	afterFirstCall := counter.tokenRequests.Load()
	if me.UserID == uuid.Nil || me.BusinessUnitID == uuid.Nil || me.OrganizationID == uuid.Nil {
		t.Fatalf("WhoAmI = %+v, want all three ids", me)
	}
	var appUser struct {
		ApplicationID uuid.UUID `json:"applicationid"`
	}
	if err := client.Retrieve(ctx, "systemusers", me.UserID, &appUser, &dataverse.RetrieveOptions{Select: []string{"applicationid"}}); err != nil {
		t.Fatal(err)
	}
	if appUser.ApplicationID.String() != creds.ClientID {
		t.Errorf("WhoAmI's user has applicationid %s, want the app %s", appUser.ApplicationID, creds.ClientID)
	}

	type contact struct {
		ID       uuid.UUID `json:"contactid"`
		First    string    `json:"firstname"`
		Last     string    `json:"lastname"`
		JobTitle *string   `json:"jobtitle"`
		ETag     string    `json:"@odata.etag"`
	}
	created, err := client.Create(ctx, "contacts", map[string]any{"firstname": "Skeleton", "lastname": "Walker"}, nil)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if created.ID == uuid.Nil || !strings.HasSuffix(created.EntityID, "/api/data/v9.2/contacts("+created.ID.String()+")") {
		t.Fatalf("Create = %+v", created)
	}
	var c contact
	sel := &dataverse.RetrieveOptions{Select: []string{"firstname", "lastname", "jobtitle"}}
	if err := client.Retrieve(ctx, "contacts", created.ID, &c, sel); err != nil {
		t.Fatalf("Retrieve: %v", err)
	}
	if c.ID != created.ID || c.First != "Skeleton" || c.Last != "Walker" || c.JobTitle != nil || c.ETag == "" {
		t.Fatalf("Retrieve = %+v", c)
	}
	etag := c.ETag
	if _, err := client.Update(ctx, "contacts", created.ID, map[string]any{"jobtitle": "Pathfinder"}, nil); err != nil {
		t.Fatalf("Update: %v", err)
	}
	if err := client.Retrieve(ctx, "contacts", created.ID, &c, sel); err != nil {
		t.Fatal(err)
	}
	if c.JobTitle == nil || *c.JobTitle != "Pathfinder" || c.ETag == etag {
		t.Fatalf("after Update: %+v (etag before %s)", c, etag)
	}
	page, err := client.List(ctx, "contacts", &dataverse.ListOptions{Query: dataverse.Query{
		Select: []string{"lastname"}, Filter: dataverse.Filterf("lastname eq %s", "Walker"),
	}})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(page.Items) != 1 || page.Items[0]["lastname"] != "Walker" || page.NextLink != "" {
		t.Fatalf("List = %+v", page)
	}
	if err := client.Delete(ctx, "contacts", created.ID, nil); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	err = client.Retrieve(ctx, "contacts", created.ID, &c, sel)
	if !dataverse.IsNotFound(err) || !dataverse.HasCode(err, "0x80040217") {
		t.Fatalf("Retrieve after Delete: %v, want 404 0x80040217", err)
	}
	if n := counter.tokenRequests.Load(); n != afterFirstCall || n > 2 {
		t.Errorf("%d token requests (%d after the client's first call), want no more after it: the client must reuse the cached token", n, afterFirstCall)
	}
}
