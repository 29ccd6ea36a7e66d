package emulator_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/d365s2s/d365/emulator"
)

// The seed article's portal steps as Go calls: register an app with a secret, create a custom
// role, create the application user, then use the credentials.
func Example() {
	ctx := context.Background()
	emu, err := emulator.New(nil)
	if err != nil {
		panic(err)
	}
	defer emu.Close()

	app, err := emu.CreateApp(ctx, emulator.NewApp{DisplayName: "contact-sync"})
	if err != nil {
		panic(err)
	}
	_, secret, err := emu.AddSecret(ctx, app.ClientID, emulator.NewSecret{Expires: emu.Now().AddDate(0, 6, 0)})
	if err != nil {
		panic(err)
	}
	if _, err := emu.CreateRole(ctx, "Contact integration", []emulator.RolePrivilege{
		{Name: "prvReadContact", Depth: emulator.DepthOrganization},
		{Name: "prvWriteContact", Depth: emulator.DepthOrganization},
	}); err != nil {
		panic(err)
	}
	user, err := emu.CreateApplicationUser(ctx, emulator.NewApplicationUser{App: app.ClientID, Roles: []string{"Contact integration"}})
	if err != nil {
		panic(err)
	}
	fmt.Println("application user roles:", user.Roles)

	cred, err := azidentity.NewClientSecretCredential(app.TenantID, app.ClientID, secret, &azidentity.ClientSecretCredentialOptions{
		ClientOptions:            clientOptions(emu),
		DisableInstanceDiscovery: true,
	})
	if err != nil {
		panic(err)
	}
	tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{emu.OrgURL() + "/.default"}})
	if err != nil {
		panic(err)
	}
	for _, path := range []string{"contacts?$select=lastname", "accounts?$select=name"} {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, emu.OrgURL()+"/api/data/v9.2/"+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok.Token)
		resp, err := emu.HTTPClient().Do(req)
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		fmt.Println(path, resp.StatusCode)
	}
	// Output:
	// application user roles: [Contact integration]
	// contacts?$select=lastname 200
	// accounts?$select=name 403
}

// A secret that expired yesterday: what AADSTS7000222 looks like to a client.
func ExampleEmulator_AddSecret_expired() {
	ctx := context.Background()
	emu, err := emulator.New(nil)
	if err != nil {
		panic(err)
	}
	defer emu.Close()
	creds := emu.Credentials()
	_, secret, err := emu.AddSecret(ctx, creds.ClientID, emulator.NewSecret{Expires: emu.Now().Add(-24 * time.Hour)})
	if err != nil {
		panic(err)
	}
	cred, _ := azidentity.NewClientSecretCredential(creds.TenantID, creds.ClientID, secret, &azidentity.ClientSecretCredentialOptions{
		ClientOptions: clientOptions(emu), DisableInstanceDiscovery: true,
	})
	_, err = cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{emu.OrgURL() + "/.default"}})
	var afe *azidentity.AuthenticationFailedError
	fmt.Println(errors.As(err, &afe), afe.RawResponse.StatusCode)
	// Output:
	// true 401
}

// Load a scenario file and see the classic mistakes it sets up.
func ExampleLoadScenario() {
	sc, err := emulator.LoadScenario("../examples/scenarios/broken-setup.yaml")
	if err != nil {
		panic(err)
	}
	emu, err := emulator.New(&emulator.Options{Scenario: sc})
	if err != nil {
		panic(err)
	}
	defer emu.Close()
	users, _ := emu.ApplicationUsers(context.Background())
	for _, u := range users {
		fmt.Println(u.ApplicationID, u.Roles)
	}
	// Output:
	// b40c3e70-0000-4000-8000-000000000002 [Contact integration]
	// b40c3e70-0000-4000-8000-000000000006 [Account reader]
}
