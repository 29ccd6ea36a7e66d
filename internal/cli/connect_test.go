package cli

import (
	"strings"
	"testing"

	"github.com/d365s2s/d365/auth"
	"github.com/d365s2s/d365/dataverse"
)

// A 401 whose challenge names another tenant, cloud or organization than the settings is
// explained with the difference; the error stays a Dataverse error (exit code 4).
func TestSessionExplainsAChallengeThatDisagreesWithTheSettings(t *testing.T) {
	t.Parallel()
	const ours, theirs = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"
	s := &session{cfg: auth.Config{OrgURL: "https://contoso.crm.dynamics.com", TenantID: ours}}
	tests := []struct {
		name      string
		challenge *dataverse.Challenge
		want      string // "" means: no explanation added
	}{
		{"another tenant", &dataverse.Challenge{
			AuthorizationURI: "https://login.microsoftonline.com/" + theirs + "/oauth2/authorize",
			ResourceID:       "https://contoso.crm.dynamics.com/",
		}, theirs},
		{"another organization", &dataverse.Challenge{
			AuthorizationURI: "https://login.microsoftonline.com/" + ours + "/oauth2/authorize",
			ResourceID:       "https://fabrikam.crm.dynamics.com/",
		}, "fabrikam"},
		{"agreeing challenge", &dataverse.Challenge{
			AuthorizationURI: "https://login.microsoftonline.com/" + ours + "/oauth2/authorize",
			ResourceID:       "https://contoso.crm.dynamics.com/",
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			orig := &dataverse.ResponseError{StatusCode: 401, Method: "GET", Path: "WhoAmI", Challenge: tt.challenge}
			got := s.explain(orig)
			if exitCode(got) != ExitService {
				t.Errorf("exit code %d, want %d", exitCode(got), ExitService)
			}
			added := strings.TrimPrefix(got.Error(), orig.Error())
			switch {
			case tt.want == "" && added != "":
				t.Errorf("explanation added to an agreeing challenge: %q", added)
			case tt.want != "" && !strings.Contains(added, tt.want):
				t.Errorf("explanation %q does not name %q", added, tt.want)
			}
		})
	}
}
