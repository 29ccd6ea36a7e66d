package auth_test

import (
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/d365s2s/d365/auth"
)

// LoadConfig merges flags with the environment and reports every problem at once, naming the
// variable and the flag to set.
func ExampleLoadConfig() {
	env := auth.MapLookup(map[string]string{
		"D365_URL":            "https://contoso.crm.dynamics.com/api/data/v9.2",
		"AZURE_CLIENT_ID":     "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee",
		"AZURE_CLIENT_SECRET": "not-printed~value",
	})
	_, err := auth.LoadConfig(auth.Config{}, env)
	fmt.Println(err)
	// Output:
	// 2 configuration problems:
	//   - org URL "https://contoso.crm.dynamics.com/api/data/v9.2" (from D365_URL) has a path "/api/data/v9.2": the Web API path /api/data/v9.x is added for you, and as part of the token's resource it makes Entra answer AADSTS500011 (resource principal not found); set D365_URL or Config.OrgURL to https://contoso.crm.dynamics.com
	//   - missing tenant ID: set AZURE_TENANT_ID or Config.TenantID (the Directory (tenant) ID on the app registration's Overview page)
}

// Validate checks a Config built in code.
func ExampleConfig_Validate() {
	cfg := auth.Config{
		OrgURL:       "http://contoso.crm4.dynamics.com",
		TenantID:     "common",
		ClientID:     "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee",
		ClientSecret: "not-printed~value",
	}
	fmt.Println(cfg.Validate())
	fmt.Println(cfg) // the secret is masked
	// Output:
	// 2 configuration problems:
	//   - org URL "http://contoso.crm4.dynamics.com" must use https: Dataverse and Entra ID accept tokens only over TLS; set D365_URL or Config.OrgURL to https://contoso.crm4.dynamics.com
	//   - tenant "common" is a multi-tenant alias; app-only tokens need the app's own tenant: set AZURE_TENANT_ID or Config.TenantID to the Directory (tenant) ID GUID
	// {OrgURL:http://contoso.crm4.dynamics.com TenantID:common ClientID:aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee ClientSecret:[REDACTED]}
}

// The authority follows the Dataverse host unless AuthorityHost says otherwise.
func ExampleConfig_Cloud() {
	for _, cfg := range []auth.Config{
		{OrgURL: "https://contoso.crm.dynamics.com"},
		{OrgURL: "https://contoso.crm9.dynamics.com"},
		{OrgURL: "https://contoso.crm.microsoftdynamics.us"},
		{OrgURL: "https://contoso.crm.appsplatform.us"},
		{OrgURL: "https://contoso.crm.dynamics.cn"},
		{OrgURL: "https://127.0.0.1:8443", AuthorityHost: "https://127.0.0.1:8443"},
	} {
		c := cfg.Cloud()
		fmt.Printf("%-42s %-16s %-36s discovery=%v\n", cfg.OrgURL, c.Name, c.AuthorityHost, c.MicrosoftHost)
	}
	// Output:
	// https://contoso.crm.dynamics.com           AzurePublic      https://login.microsoftonline.com/   discovery=true
	// https://contoso.crm9.dynamics.com          AzurePublic      https://login.microsoftonline.com/   discovery=true
	// https://contoso.crm.microsoftdynamics.us   AzureGovernment  https://login.microsoftonline.us/    discovery=true
	// https://contoso.crm.appsplatform.us        AzureGovernment  https://login.microsoftonline.us/    discovery=true
	// https://contoso.crm.dynamics.cn            AzureChina       https://login.chinacloudapi.cn/      discovery=true
	// https://127.0.0.1:8443                     Custom           https://127.0.0.1:8443/              discovery=false
}

// Scope is what a Dataverse client asks tokens for.
func ExampleConfig_Scope() {
	fmt.Println(auth.Config{OrgURL: "https://contoso.crm.dynamics.com/"}.Scope())
	// Output: https://contoso.crm.dynamics.com/.default
}

// DecodeClaims shows who a token is for and who it says the caller is, without verifying it.
func ExampleDecodeClaims() {
	issued := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	// A token shaped like Entra's v1 app-only tokens for Dataverse (signed here with a test key).
	token, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"aud": "https://contoso.crm.dynamics.com", "iss": "https://sts.windows.net/11111111-2222-4333-8444-555555555555/",
		"appid": "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee", "appidacr": "1", "idtyp": "app", "ver": "1.0",
		"tid": "11111111-2222-4333-8444-555555555555", "oid": "99999999-8888-4777-8666-555555555555",
		"iat": issued.Unix(), "nbf": issued.Unix(), "exp": issued.Add(time.Hour).Unix(),
	}).SignedString([]byte("example key"))

	c, err := auth.DecodeClaims(token)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("aud:", c.Audience[0])
	fmt.Println("appid:", c.AppID, "appidacr:", c.AppIDACR, "idtyp:", c.IDType)
	fmt.Println("tid:", c.TenantID)
	fmt.Println("exp:", c.ExpiresAt.Format(time.RFC3339))

	_, err = auth.DecodeClaims("my~client~secret")
	fmt.Println(err)
	// Output:
	// aud: https://contoso.crm.dynamics.com
	// appid: aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee appidacr: 1 idtyp: app
	// tid: 11111111-2222-4333-8444-555555555555
	// exp: 2025-03-01T11:00:00Z
	// not a JWT access token: it has 1 dot-separated segments, a JWT has 3 (header.payload.signature)
}

// Explanation gives the meaning and the fix of an AADSTS code.
func ExampleExplanation() {
	explanation, fix := auth.Explanation(7000215)
	fmt.Println(explanation)
	fmt.Println(fix)
	// Output:
	// the client secret is wrong
	// use the secret's Value, not its Secret ID, and check it belongs to this app
}
