package cli

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/google/uuid"

	"github.com/d365s2s/d365/auth"
	"github.com/d365s2s/d365/dataverse"
)

// doctorDialTimeout bounds each DNS, TCP and TLS probe of the network step.
const doctorDialTimeout = 5 * time.Second

// doctor holds what the steps found for the ones after them.
type doctor struct {
	opts *doctorOptions
	out  io.Writer

	cfg    auth.Config
	method auth.Method
	http   *http.Client
	cred   azcore.TokenCredential
	token  azcore.AccessToken
	client *dataverse.Client
	me     *dataverse.WhoAmIResponse
}

func (d *doctor) checkSettings(context.Context) doctorStep {
	cfg, err := d.opts.Settings()
	if err != nil {
		return fail(ExitUsage, explain(err).Error(), `set the missing or wrong settings (see "d365 help environment" and "d365 profile --help")`)
	}
	method, err := cfg.CredentialMethod()
	if err != nil {
		return fail(ExitUsage, withFlagNames(err).Error(), `see "d365 help environment"`)
	}
	hc, err := d.opts.HTTPClient(cfg)
	if err != nil {
		return fail(ExitUsage, withFlagNames(err).Error(), "point --ca-file (D365_CA_FILE) at a readable PEM CA file")
	}
	d.cfg, d.method, d.http = cfg, method, hc
	detail := fmt.Sprintf("%s, tenant %s, client %s, %s credential, authority %s", cfg.OrgURL, cfg.TenantID, cfg.ClientID, method, cfg.Cloud().AuthorityHost)
	if cfg.CAFile != "" {
		detail += ", CA file " + cfg.CAFile
	}
	return pass(detail)
}

// checkNetwork resolves, connects to and shakes hands with the environment and the authority,
// with the TLS settings (and CA file) the requests use.
func (d *doctor) checkNetwork(ctx context.Context) doctorStep {
	if proxy := firstNonEmpty(os.Getenv("HTTPS_PROXY"), os.Getenv("https_proxy")); proxy != "" {
		return skip("HTTPS_PROXY is set: the requests go through the proxy, so direct DNS, TCP and TLS checks say nothing")
	}
	tlsConfig, err := d.cfg.TLSConfig()
	if err != nil {
		return fail(ExitUsage, withFlagNames(err).Error(), "point --ca-file (D365_CA_FILE) at a PEM CA file")
	}
	var found []string
	seen := map[string]bool{}
	for _, target := range []string{d.cfg.OrgURL, d.cfg.Cloud().AuthorityHost} {
		u, err := url.Parse(target)
		if err != nil || u.Hostname() == "" {
			continue
		}
		host, port := u.Hostname(), u.Port()
		if port == "" {
			port = "443"
		}
		if seen[u.Host] {
			continue
		}
		seen[u.Host] = true
		dctx, cancel := context.WithTimeout(ctx, doctorDialTimeout)
		addrs, err := net.DefaultResolver.LookupHost(dctx, host)
		cancel()
		if err != nil {
			return fail(ExitError, fmt.Sprintf("DNS: %s does not resolve (%v)", host, err),
				fmt.Sprintf("check the spelling of the host in %s; a real environment is <org>.crm<N>.dynamics.com", settingOf(target, d.cfg)))
		}
		dialer := &net.Dialer{Timeout: doctorDialTimeout}
		conn, err := dialer.DialContext(ctx, "tcp", net.JoinHostPort(host, port))
		if err != nil {
			return fail(ExitError, fmt.Sprintf("TCP: %s resolves to %s but port %s does not answer (%v)", host, strings.Join(addrs, ", "), port, err),
				"check the port, a firewall, or that the emulator is running (d365 emulator)")
		}
		tc := tlsConfig.Clone()
		tc.ServerName = host
		tlsConn := tls.Client(conn, tc)
		hctx, cancel := context.WithTimeout(ctx, doctorDialTimeout)
		err = tlsConn.HandshakeContext(hctx)
		cancel()
		if err != nil {
			conn.Close()
			fix := "set --ca-file (D365_CA_FILE) to the CA that signed it: the emulator's ca.pem, or your TLS-inspecting proxy's CA"
			if d.cfg.CAFile != "" {
				fix = fmt.Sprintf("the CA file %s does not hold the CA that signed %s's certificate: point --ca-file (D365_CA_FILE) at the right one", d.cfg.CAFile, host)
			}
			return fail(ExitError, fmt.Sprintf("TLS: %s's certificate is not trusted (%v)", host, err), fix)
		}
		state := tlsConn.ConnectionState()
		issuer := ""
		if len(state.PeerCertificates) > 0 {
			issuer = state.PeerCertificates[0].Issuer.CommonName
		}
		tlsConn.Close()
		found = append(found, fmt.Sprintf("%s (%s, %s, issuer %q)", u.Host, strings.Join(addrs, " "), tls.VersionName(state.Version), issuer))
	}
	return pass(strings.Join(found, " "))
}

// settingOf names the setting a URL came from, for a fix.
func settingOf(target string, cfg auth.Config) string {
	if target == cfg.OrgURL {
		return "--url (D365_URL)"
	}
	return "--authority-host (AZURE_AUTHORITY_HOST)"
}

// checkDiscovery reads the tenant's OpenID configuration, which the token request needs first.
func (d *doctor) checkDiscovery(ctx context.Context) doctorStep {
	if d.method == auth.MethodManagedIdentity || d.method == auth.MethodAzureCLI {
		return skip(string(d.method) + " gets its tokens without the tenant's discovery document")
	}
	target := strings.TrimRight(d.cfg.Cloud().AuthorityHost, "/") + "/" + url.PathEscape(d.cfg.TenantID) + "/v2.0/.well-known/openid-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return fail(ExitUsage, err.Error(), "check --authority-host and --tenant")
	}
	resp, err := d.http.Do(req)
	if err != nil {
		return failFrom(err, "check network access to the authority")
	}
	defer drain(resp.Body)
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
			Codes       []int  `json:"error_codes"`
		}
		_ = json.Unmarshal(body, &e)
		desc, _, _ := strings.Cut(e.Description, "\r\n")
		return fail(ExitAuth, fmt.Sprintf("%s answered %d for tenant %q: %s", req.URL.Host, resp.StatusCode, d.cfg.TenantID, firstNonEmpty(desc, e.Error, http.StatusText(resp.StatusCode))),
			"set --tenant (AZURE_TENANT_ID) to the Directory (tenant) ID on the app registration's Overview page")
	}
	var oidc struct {
		Issuer        string `json:"issuer"`
		TokenEndpoint string `json:"token_endpoint"`
	}
	if err := json.Unmarshal(body, &oidc); err != nil || oidc.TokenEndpoint == "" {
		return fail(ExitAuth, fmt.Sprintf("%s's discovery document has no token_endpoint: is %s an Entra ID authority?", req.URL.Host, d.cfg.Cloud().AuthorityHost),
			"set --authority-host (AZURE_AUTHORITY_HOST) to the Entra ID authority (or the emulator's URL)")
	}
	return pass("token endpoint " + oidc.TokenEndpoint)
}

// checkToken asks Entra ID for a new token with a credential of its own: never one from the
// token cache, which could hide an expired secret.
func (d *doctor) checkToken(ctx context.Context) doctorStep {
	cred, err := auth.NewCredential(d.cfg, &auth.CredentialOptions{ClientOptions: azcore.ClientOptions{
		Transport: d.http, PerRetryPolicies: []policy.Policy{failFastOnUnreachable{}},
	}})
	if err != nil {
		return failFrom(err, `see "d365 help environment"`)
	}
	tok, err := cred.GetToken(ctx, tokenRequest(d.cfg))
	if err != nil {
		return failFrom(err, "check the client ID, the secret or certificate, and the tenant")
	}
	d.cred, d.token = cred, tok
	return pass(fmt.Sprintf("issued, expires %s (in %s)", tok.ExpiresOn.UTC().Format(time.RFC3339), time.Until(tok.ExpiresOn).Round(time.Minute)))
}

// checkClaims compares the token's claims with the settings.
func (d *doctor) checkClaims(context.Context) doctorStep {
	claims, err := auth.DecodeClaims(d.token.Token)
	if err != nil {
		return skip("the token is not a JWT, so its claims cannot be read")
	}
	want := strings.TrimRight(d.cfg.OrgURL, "/")
	audOK := false
	for _, a := range claims.Audience {
		if strings.EqualFold(strings.TrimRight(a, "/"), want) {
			audOK = true
		}
	}
	if !audOK {
		return fail(ExitAuth, fmt.Sprintf("aud is %s, not %s", strings.Join(claims.Audience, ", "), want),
			"the token is for another resource: set --url (D365_URL) to the environment URL exactly, scheme and host only")
	}
	if _, err := uuid.Parse(d.cfg.TenantID); err == nil && !strings.EqualFold(claims.TenantID, d.cfg.TenantID) {
		return fail(ExitAuth, fmt.Sprintf("tid is %s, not the tenant %s", claims.TenantID, d.cfg.TenantID),
			"set --tenant (AZURE_TENANT_ID) to the tenant of the environment")
	}
	if d.cfg.ClientID != "" && claims.AppID != "" && !strings.EqualFold(claims.AppID, d.cfg.ClientID) {
		return fail(ExitAuth, fmt.Sprintf("appid is %s, not the client %s", claims.AppID, d.cfg.ClientID),
			"set --client-id (AZURE_CLIENT_ID) to the Application (client) ID")
	}
	roles := "none (Dataverse grants access through the application user's security roles, not token roles)"
	if len(claims.Roles) > 0 {
		roles = strings.Join(claims.Roles, ", ")
	}
	return pass(fmt.Sprintf("aud %s, tid %s, appid %s, roles: %s", strings.Join(claims.Audience, " "), claims.TenantID, claims.AppID, roles))
}

// checkWhoAmI calls WhoAmI with the token of the token step.
func (d *doctor) checkWhoAmI(ctx context.Context) doctorStep {
	client, err := dataverse.NewClient(d.cfg.OrgURL, d.cred, &dataverse.ClientOptions{ClientOptions: azcore.ClientOptions{
		Transport:        d.http,
		PerRetryPolicies: []policy.Policy{auth.FailFastOnTLSErrors(), failFastOnUnreachable{}},
	}})
	if err != nil {
		return failFrom(err, "")
	}
	d.client = client
	me, err := client.WhoAmI(ctx)
	if err != nil {
		var re *dataverse.ResponseError
		if errors.As(err, &re) && re.Code == dataverse.CodeUserNotMemberOfOrg {
			return fail(ExitService, fmt.Sprintf("no application user: %s (%s)", re.Message, re.Code),
				fmt.Sprintf("create the application user for client %s: Power Platform admin center > the environment > Settings > Users + permissions > Application users > New app user, with a security role (emulator: d365 emulator appuser create --app %s --role <role>)", d.cfg.ClientID, d.cfg.ClientID))
		}
		return failFrom(err, "")
	}
	d.me = me
	return pass(fmt.Sprintf("user %s, business unit %s, organization %s", me.UserID, me.BusinessUnitID, me.OrganizationID))
}

// checkUser reads the application user and its business unit.
func (d *doctor) checkUser(ctx context.Context) doctorStep {
	var user struct {
		FullName      string `json:"fullname"`
		ApplicationID string `json:"applicationid"`
		IsDisabled    bool   `json:"isdisabled"`
	}
	err := d.client.Retrieve(ctx, "systemusers", d.me.UserID, &user, &dataverse.RetrieveOptions{Select: []string{"fullname", "applicationid", "isdisabled"}})
	if isPrivilegeDenied(err) {
		// WhoAmI answered, so the user exists and is enabled; its roles only cannot read
		// users, which is the integration's business, not a connection problem.
		return pass(fmt.Sprintf("user %s exists and is enabled (WhoAmI answered); its roles cannot read user records (no prvReadUser), so the name and business unit are not shown", d.me.UserID))
	}
	if err != nil {
		return failFrom(err, "")
	}
	if user.IsDisabled {
		return fail(ExitService, fmt.Sprintf("the application user %q is disabled", user.FullName),
			"enable it: Power Platform admin center > Application users > the app > Activate")
	}
	var bu struct {
		Name       string `json:"name"`
		IsDisabled bool   `json:"isdisabled"`
	}
	err = d.client.Retrieve(ctx, "businessunits", d.me.BusinessUnitID, &bu, &dataverse.RetrieveOptions{Select: []string{"name", "isdisabled"}})
	if isPrivilegeDenied(err) {
		bu.Name = d.me.BusinessUnitID.String() + " (not readable: no prvReadBusinessUnit)"
	} else if err != nil {
		return failFrom(err, "")
	}
	if bu.IsDisabled {
		return fail(ExitService, fmt.Sprintf("the business unit %q of the application user is disabled", bu.Name),
			"enable the business unit, or move the application user to an enabled one")
	}
	detail := fmt.Sprintf("%q (application %s), business unit %q", user.FullName, firstNonEmpty(user.ApplicationID, "?"), bu.Name)
	if roles := d.roleNames(ctx); roles != "" {
		detail += ", roles: " + roles
	}
	return pass(detail)
}

// roleNames lists the user's security roles; "" when they cannot be read (the step does not
// fail for it: privileges are checked directly).
func (d *doctor) roleNames(ctx context.Context) string {
	resp, err := d.client.Do(ctx, http.MethodGet, "systemusers("+d.me.UserID.String()+")/systemuserroles_association?$select=name", nil, nil)
	if err != nil {
		return ""
	}
	defer drain(resp.Body)
	var page struct {
		Value []struct {
			Name string `json:"name"`
		} `json:"value"`
	}
	if json.NewDecoder(resp.Body).Decode(&page) != nil {
		return ""
	}
	names := make([]string, 0, len(page.Value))
	for _, r := range page.Value {
		names = append(names, r.Name)
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// privilegeActions are the table privileges reported, in Dataverse's order.
var privilegeActions = []string{"Create", "Read", "Write", "Delete", "Append", "AppendTo"}

// checkPrivileges reads the privileges the user's roles grant (RetrieveUserPrivileges) and
// reports those on --table; reading is required.
func (d *doctor) checkPrivileges(ctx context.Context) doctorStep {
	if d.opts.Table == "" {
		return skip("no --table given")
	}
	md, err := d.client.TableMetadata(ctx, d.opts.Table)
	if err != nil {
		if dataverse.IsNotFound(err) {
			return fail(ExitUsage, fmt.Sprintf("no table is named %q", d.opts.Table), "give --table a logical name (contact) or an entity set name (contacts)")
		}
		return failFrom(err, "")
	}
	held, err := d.userPrivileges(ctx)
	if err != nil {
		if !isPrivilegeDenied(err) {
			return failFrom(err, "")
		}
		return d.probeRead(ctx, md)
	}
	var have, missing []string
	for _, a := range privilegeActions {
		name := "prv" + a + md.SchemaName
		if depth, ok := held[strings.ToLower(name)]; ok {
			have = append(have, name+" ("+depth+")")
		} else {
			missing = append(missing, name)
		}
	}
	read := "prvRead" + md.SchemaName
	if slices.Contains(missing, read) {
		return fail(ExitService, fmt.Sprintf("the application user's roles lack %s on %s (they grant: %s)", read, md.LogicalName, orNone(have)),
			fmt.Sprintf("add %s (and the others the integration needs: %s) to the application user's security role: Power Platform admin center > the environment > Settings > Security roles (emulator: d365 emulator role set --name <role> --privilege %s:organization …)", read, strings.Join(missing, ", "), read))
	}
	detail := fmt.Sprintf("%s: %s", md.LogicalName, strings.Join(have, ", "))
	if len(missing) > 0 {
		detail += "; not granted: " + strings.Join(missing, ", ")
	}
	return pass(detail)
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// userPrivileges returns the privileges the user's roles grant, by lower-case name, with their
// depth: RetrieveUserPrivileges.
func (d *doctor) userPrivileges(ctx context.Context) (map[string]string, error) {
	resp, err := d.client.Do(ctx, http.MethodGet, "systemusers("+d.me.UserID.String()+")/Microsoft.Dynamics.CRM.RetrieveUserPrivileges()", nil, nil)
	if err != nil {
		return nil, err
	}
	defer drain(resp.Body)
	var privs struct {
		RolePrivileges []struct {
			Depth         string `json:"Depth"`
			PrivilegeName string `json:"PrivilegeName"`
		} `json:"RolePrivileges"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&privs); err != nil {
		return nil, fmt.Errorf("RetrieveUserPrivileges answered something that is not its JSON: %w", err)
	}
	held := map[string]string{}
	for _, p := range privs.RolePrivileges {
		held[strings.ToLower(p.PrivilegeName)] = p.Depth
	}
	return held, nil
}

// probeRead checks reading the table by reading one row, when the roles may not list their
// own privileges (RetrieveUserPrivileges needs prvReadUser).
func (d *doctor) probeRead(ctx context.Context, md *dataverse.TableMetadata) doctorStep {
	read := "prvRead" + md.SchemaName
	resp, err := d.client.Do(ctx, http.MethodGet, md.EntitySetName+"?$top=1&$select="+md.PrimaryIDAttribute, nil, nil)
	if isPrivilegeDenied(err) {
		return fail(ExitService, fmt.Sprintf("the application user's roles lack %s: reading %s is refused (%s)", read, md.EntitySetName, dataverse.CodePrivilegeDenied),
			fmt.Sprintf("add %s to the application user's security role: Power Platform admin center > the environment > Settings > Security roles (emulator: d365 emulator role set --name <role> --privilege %s:organization …)", read, read))
	}
	if err != nil {
		return failFrom(err, "")
	}
	drain(resp.Body)
	return pass(fmt.Sprintf("%s: reading works (the roles cannot list their privileges: no prvReadUser)", md.LogicalName))
}

// isPrivilegeDenied reports Dataverse's 403 for a missing privilege.
func isPrivilegeDenied(err error) bool {
	var re *dataverse.ResponseError
	return errors.As(err, &re) && re.Code == dataverse.CodePrivilegeDenied
}
