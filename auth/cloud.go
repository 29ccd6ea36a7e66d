package auth

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
)

// CloudName names the Microsoft cloud whose Entra ID issues the tokens.
type CloudName string

// The clouds [Config.Cloud] can choose.
const (
	CloudPublic     CloudName = "AzurePublic"     // login.microsoftonline.com: commercial and US GCC (crm9)
	CloudGovernment CloudName = "AzureGovernment" // login.microsoftonline.us: US GCC High and DoD
	CloudChina      CloudName = "AzureChina"      // login.chinacloudapi.cn: operated by 21Vianet
	// CloudCustom is an explicit authority host that is not one of the three above: the emulator,
	// Azure Stack, a private authority, or another Microsoft sovereign login host.
	CloudCustom CloudName = "Custom"
	// CloudUnknown is what inference yields for an org URL host outside every known Dataverse
	// domain; [Config.Cloud] then falls back to the public cloud and says so.
	CloudUnknown CloudName = "Unknown"
)

// authorityHosts are the azcore cloud configurations' authority hosts.
var authorityHosts = map[CloudName]string{
	CloudPublic:     cloud.AzurePublic.ActiveDirectoryAuthorityHost,
	CloudGovernment: cloud.AzureGovernment.ActiveDirectoryAuthorityHost,
	CloudChina:      cloud.AzureChina.ActiveDirectoryAuthorityHost,
}

// dataverseHostFamilies maps Dataverse host suffixes to their cloud (reference webapi.md §9.2).
// Checked in order; a host matches a suffix at a label boundary.
var dataverseHostFamilies = []struct {
	suffix string
	cloud  CloudName
	what   string
}{
	// Commercial regions crm…crm21 and US GCC (crm9) all use the public authority.
	{".dynamics.com", CloudPublic, "Dataverse commercial/GCC"},
	{".microsoftdynamics.us", CloudGovernment, "Dataverse US GCC High"},
	{".appsplatform.us", CloudGovernment, "Dataverse US DoD"},
	// [unverified] China's Dataverse host (*.crm.dynamics.cn) comes from Microsoft's region list
	// and has not been checked against a live environment.
	{".dynamics.cn", CloudChina, "Dataverse China (21Vianet)"},
}

// microsoftLoginHosts are the Entra ID hosts MSAL trusts without instance discovery against
// another host (MSAL Go authority.go aadTrustedHostList). For any other authority host MSAL would
// ask login.microsoftonline.com whether the host is valid, so NewCredential turns instance
// discovery off for hosts not listed here.
var microsoftLoginHosts = map[string]CloudName{
	"login.microsoftonline.com":        CloudPublic,
	"login.microsoft.com":              CloudPublic,
	"login.windows.net":                CloudPublic,
	"sts.windows.net":                  CloudPublic,
	"login.microsoftonline.us":         CloudGovernment,
	"login-us.microsoftonline.com":     CloudGovernment,
	"login.usgovcloudapi.net":          CloudGovernment,
	"login.chinacloudapi.cn":           CloudChina,
	"login.partner.microsoftonline.cn": CloudChina,
	"login.microsoftonline.de":         CloudCustom,
	"login.sovcloud-identity.fr":       CloudCustom,
	"login.sovcloud-identity.de":       CloudCustom,
	"login.sovcloud-identity.sg":       CloudCustom,
}

// Cloud is the Entra ID authority tokens come from, and why it was chosen.
type Cloud struct {
	// Name is the cloud, or CloudCustom for an explicit non-Microsoft authority.
	Name CloudName
	// AuthorityHost is the authority's base URL with a trailing slash, e.g.
	// https://login.microsoftonline.com/; the tenant is appended to it.
	AuthorityHost string
	// MicrosoftHost reports whether AuthorityHost is a Microsoft Entra login host. When it is not,
	// instance discovery (a call to login.microsoftonline.com) is disabled.
	MicrosoftHost bool
	// Reason says in one sentence how the cloud was chosen, for display.
	Reason string
}

// Configuration returns the azcore cloud configuration for this authority, for other Azure SDK
// clients.
func (c Cloud) Configuration() cloud.Configuration {
	return cloud.Configuration{ActiveDirectoryAuthorityHost: c.AuthorityHost, Services: map[cloud.ServiceName]cloud.ServiceConfiguration{}}
}

// String returns the name and the authority host.
func (c Cloud) String() string { return string(c.Name) + " (" + c.AuthorityHost + ")" }

// Cloud returns the authority tokens are requested from: AuthorityHost when set, otherwise the
// cloud inferred from OrgURL's host — *.dynamics.com (commercial and US GCC) → public,
// *.microsoftdynamics.us and *.appsplatform.us (GCC High, DoD) → US Government, *.dynamics.cn →
// China. An org URL outside these domains (the emulator, a proxy) falls back to the public
// cloud, and Reason says so. Cloud does not validate; call [Config.Validate] first.
func (c Config) Cloud() Cloud {
	if c.AuthorityHost != "" {
		host := normalizeAuthorityHost(c.AuthorityHost)
		name, known := microsoftLoginHosts[hostOf(host)]
		if !known {
			name = CloudCustom
		}
		return Cloud{Name: name, AuthorityHost: host, MicrosoftHost: known,
			Reason: fmt.Sprintf("authority host %s set by %s or %s", host, EnvAuthorityHost, settingAuthorityHost.FieldRef())}
	}
	inferred := inferCloud(c.OrgURL)
	if inferred.Name == CloudUnknown {
		return Cloud{Name: CloudPublic, AuthorityHost: authorityHosts[CloudPublic], MicrosoftHost: true, Reason: inferred.Reason}
	}
	return inferred
}

// inferCloud maps an org URL to its cloud by host family; CloudUnknown when no family matches.
func inferCloud(orgURL string) Cloud {
	host := hostOf(orgURL)
	for _, f := range dataverseHostFamilies {
		if host == f.suffix[1:] || strings.HasSuffix(host, f.suffix) {
			return Cloud{Name: f.cloud, AuthorityHost: authorityHosts[f.cloud], MicrosoftHost: true,
				Reason: fmt.Sprintf("inferred from org URL host %s (%s)", host, f.what)}
		}
	}
	return Cloud{Name: CloudUnknown, Reason: fmt.Sprintf(
		"org URL host %q is not a known Dataverse domain, so the public cloud (login.microsoftonline.com) is used; %s if that is wrong (the emulator prints the value to use)",
		host, settingAuthorityHost.hint())}
}

// normalizeAuthorityHost returns scheme://host/ for a URL, keeping the input when it does not parse.
func normalizeAuthorityHost(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return raw
	}
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host) + "/"
}

// hostOf returns the lower-case host name of a URL without port; "" when there is none.
func hostOf(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return ""
	}
	h := u.Host
	if hh, _, err := net.SplitHostPort(h); err == nil {
		h = hh
	}
	return strings.ToLower(strings.TrimSuffix(h, "."))
}
