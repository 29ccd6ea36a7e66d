package identity

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/d365s2s/d365/emulator/internal/aadsts"
)

// tenantPlaceholder is what Entra's multi-tenant discovery documents put where the tenant ID goes;
// MSAL substitutes it.
const tenantPlaceholder = "{tenantid}"

// publicCloudMetadata is the public cloud's entry in Entra's instance-discovery answer; the
// emulator lists it after its own entry, as a real answer lists every cloud.
var publicCloudMetadata = instanceMetadata{
	PreferredNetwork: "login.microsoftonline.com",
	PreferredCache:   "login.windows.net",
	Aliases:          []string{"login.microsoftonline.com", "login.windows.net", "login.microsoft.com", "sts.windows.net"},
}

var (
	authMethodsSupported = []string{"client_secret_post", "private_key_jwt", "client_secret_basic"}
	responseModes        = []string{"query", "fragment", "form_post"}
	subjectTypes         = []string{"pairwise"}
	idTokenAlgs          = []string{"RS256"}
)

// openIDConfigurationV2 is the v2 discovery document, in Entra's field order.
type openIDConfigurationV2 struct {
	TokenEndpoint                     string   `json:"token_endpoint"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	JWKSURI                           string   `json:"jwks_uri"`
	ResponseModesSupported            []string `json:"response_modes_supported"`
	SubjectTypesSupported             []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	ScopesSupported                   []string `json:"scopes_supported"`
	Issuer                            string   `json:"issuer"`
	RequestURIParameterSupported      bool     `json:"request_uri_parameter_supported"`
	UserinfoEndpoint                  string   `json:"userinfo_endpoint"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	DeviceAuthorizationEndpoint       string   `json:"device_authorization_endpoint"`
	HTTPLogoutSupported               bool     `json:"http_logout_supported"`
	FrontchannelLogoutSupported       bool     `json:"frontchannel_logout_supported"`
	EndSessionEndpoint                string   `json:"end_session_endpoint"`
	ClaimsSupported                   []string `json:"claims_supported"`
	KerberosEndpoint                  string   `json:"kerberos_endpoint"`
	TenantRegionScope                 *string  `json:"tenant_region_scope"`
	CloudInstanceName                 string   `json:"cloud_instance_name"`
	CloudGraphHostName                string   `json:"cloud_graph_host_name"`
	MSGraphHost                       string   `json:"msgraph_host"`
	RBACURL                           string   `json:"rbac_url"`
}

// openIDConfigurationV1 is the v1 discovery document, in Entra's field order.
type openIDConfigurationV1 struct {
	TokenEndpoint                     string   `json:"token_endpoint"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	JWKSURI                           string   `json:"jwks_uri"`
	ResponseModesSupported            []string `json:"response_modes_supported"`
	SubjectTypesSupported             []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	ScopesSupported                   []string `json:"scopes_supported"`
	Issuer                            string   `json:"issuer"`
	MicrosoftMultiRefreshToken        bool     `json:"microsoft_multi_refresh_token"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	DeviceAuthorizationEndpoint       string   `json:"device_authorization_endpoint"`
	HTTPLogoutSupported               bool     `json:"http_logout_supported"`
	FrontchannelLogoutSupported       bool     `json:"frontchannel_logout_supported"`
	EndSessionEndpoint                string   `json:"end_session_endpoint"`
	ClaimsSupported                   []string `json:"claims_supported"`
	CheckSessionIframe                string   `json:"check_session_iframe"`
	UserinfoEndpoint                  string   `json:"userinfo_endpoint"`
	KerberosEndpoint                  string   `json:"kerberos_endpoint"`
	TenantRegionScope                 *string  `json:"tenant_region_scope"`
	CloudInstanceName                 string   `json:"cloud_instance_name"`
	CloudGraphHostName                string   `json:"cloud_graph_host_name"`
	MSGraphHost                       string   `json:"msgraph_host"`
	RBACURL                           string   `json:"rbac_url"`
}

// discoveryTenant resolves the {tenant} segment of a metadata URL: a tenant's ID (documents always
// name tenants by ID, even when addressed by domain) or the placeholder for common,
// organizations and consumers.
func (s *Service) discoveryTenant(r *http.Request, seg string) (id string, region *string, aerr *aadsts.Error) {
	if tenantlessSegments[strings.ToLower(seg)] {
		return tenantPlaceholder, nil, nil
	}
	t, aerr := s.resolveTenantSegment(r.Context(), seg)
	if aerr != nil {
		// The metadata endpoints answer an unknown tenant with error "invalid_tenant".
		aerr.OAuth = "invalid_tenant"
		return "", nil, aerr
	}
	na := "NA" // the region scope of a public-cloud tenant
	return t.ID, &na, nil
}

func (s *Service) serveOpenIDConfiguration(w http.ResponseWriter, r *http.Request, rc *requestContext, seg string, v2 bool) {
	tid, region, aerr := s.discoveryTenant(r, seg)
	if aerr != nil {
		writeAADError(w, rc, aerr)
		return
	}
	base := s.baseURL + "/" + tid
	if v2 {
		writeJSON(w, rc, http.StatusOK, openIDConfigurationV2{
			TokenEndpoint:                     base + "/oauth2/v2.0/token",
			TokenEndpointAuthMethodsSupported: authMethodsSupported,
			JWKSURI:                           base + "/discovery/v2.0/keys",
			ResponseModesSupported:            responseModes,
			SubjectTypesSupported:             subjectTypes,
			IDTokenSigningAlgValuesSupported:  idTokenAlgs,
			ResponseTypesSupported:            []string{"code", "id_token", "code id_token", "id_token token"},
			ScopesSupported:                   []string{"openid", "profile", "email", "offline_access"},
			Issuer:                            base + "/v2.0",
			UserinfoEndpoint:                  "https://graph.microsoft.com/oidc/userinfo",
			AuthorizationEndpoint:             base + "/oauth2/v2.0/authorize",
			DeviceAuthorizationEndpoint:       base + "/oauth2/v2.0/devicecode",
			HTTPLogoutSupported:               true,
			FrontchannelLogoutSupported:       true,
			EndSessionEndpoint:                base + "/oauth2/v2.0/logout",
			ClaimsSupported: []string{"sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name",
				"msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver",
				"at_hash", "c_hash", "email"},
			KerberosEndpoint:   base + "/kerberos",
			TenantRegionScope:  region,
			CloudInstanceName:  s.baseHost,
			CloudGraphHostName: "graph.windows.net",
			MSGraphHost:        "graph.microsoft.com",
			RBACURL:            "https://pas.windows.net",
		}, true)
		return
	}
	writeJSON(w, rc, http.StatusOK, openIDConfigurationV1{
		TokenEndpoint:                     base + "/oauth2/token",
		TokenEndpointAuthMethodsSupported: authMethodsSupported,
		JWKSURI:                           s.baseURL + "/common/discovery/keys",
		ResponseModesSupported:            responseModes,
		SubjectTypesSupported:             subjectTypes,
		IDTokenSigningAlgValuesSupported:  idTokenAlgs,
		ResponseTypesSupported:            []string{"code", "id_token", "code id_token", "token id_token", "token"},
		ScopesSupported:                   []string{"openid"},
		Issuer:                            stsIssuer(tid),
		MicrosoftMultiRefreshToken:        true,
		AuthorizationEndpoint:             base + "/oauth2/authorize",
		DeviceAuthorizationEndpoint:       base + "/oauth2/devicecode",
		HTTPLogoutSupported:               true,
		FrontchannelLogoutSupported:       true,
		EndSessionEndpoint:                base + "/oauth2/logout",
		ClaimsSupported: []string{"sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name",
			"msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "amr", "nonce", "email", "given_name", "family_name", "nickname"},
		CheckSessionIframe: base + "/oauth2/checksession",
		UserinfoEndpoint:   base + "/openid/userinfo",
		KerberosEndpoint:   base + "/kerberos",
		TenantRegionScope:  region,
		CloudInstanceName:  s.baseHost,
		CloudGraphHostName: "graph.windows.net",
		MSGraphHost:        "graph.microsoft.com",
		RBACURL:            "https://pas.windows.net",
	}, true)
}

// serveKeys answers the JWKS endpoints with every published signing key.
func (s *Service) serveKeys(w http.ResponseWriter, r *http.Request, rc *requestContext, seg string, v2 bool) {
	tid, _, aerr := s.discoveryTenant(r, seg)
	if aerr != nil {
		writeAADError(w, rc, aerr)
		return
	}
	issuer := ""
	if v2 {
		issuer = s.baseURL + "/" + tid + "/v2.0"
	}
	writeJSON(w, rc, http.StatusOK, s.keys.Load().jwks(issuer), true)
}

// instanceMetadata is one cloud in the instance-discovery answer.
type instanceMetadata struct {
	PreferredNetwork string   `json:"preferred_network"`
	PreferredCache   string   `json:"preferred_cache"`
	Aliases          []string `json:"aliases"`
}

type instanceDiscovery struct {
	TenantDiscoveryEndpoint string             `json:"tenant_discovery_endpoint"`
	APIVersion              string             `json:"api-version"`
	Metadata                []instanceMetadata `json:"metadata"`
}

// serveInstanceDiscovery answers GET /common/discovery/instance?api-version=1.1&
// authorization_endpoint=https://host/{tenant}/oauth2/v2.0/authorize, which MSAL calls (on
// login.microsoftonline.com) before trusting an authority it does not know. The emulator's host
// is its own cloud; the public cloud's aliases are listed too.
func (s *Service) serveInstanceDiscovery(w http.ResponseWriter, r *http.Request, rc *requestContext, seg string) {
	q := r.URL.Query()
	authz, err := url.Parse(q.Get("authorization_endpoint"))
	if err != nil || authz.Scheme != "https" || authz.Host == "" {
		writeAADError(w, rc, aadsts.InstanceUnknown())
		return
	}
	known := strings.EqualFold(authz.Host, s.baseHost)
	for _, alias := range publicCloudMetadata.Aliases {
		known = known || strings.EqualFold(authz.Hostname(), alias)
	}
	if !known {
		writeAADError(w, rc, aadsts.InstanceUnknown())
		return
	}
	tenant, _, _ := strings.Cut(strings.TrimPrefix(authz.Path, "/"), "/")
	if tenant == "" {
		tenant = "common"
	}
	own := instanceMetadata{PreferredNetwork: s.baseHost, PreferredCache: s.baseHost, Aliases: []string{s.baseHost}}
	apiVersion := q.Get("api-version")
	if apiVersion == "" {
		apiVersion = "1.1"
	}
	writeJSON(w, rc, http.StatusOK, instanceDiscovery{
		TenantDiscoveryEndpoint: "https://" + authz.Host + "/" + tenant + "/v2.0/.well-known/openid-configuration",
		APIVersion:              apiVersion,
		Metadata:                []instanceMetadata{own, publicCloudMetadata},
	}, true)
}
