package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/d365s2s/d365/auth"
	"github.com/d365s2s/d365/dataverse"
	"github.com/d365s2s/d365/emulator"
)

// demoOptions are the inputs of "d365 demo": it has no flags, and builds its own emulator and
// session instead of the factory's.
type demoOptions struct {
	IO      *IOStreams
	Context context.Context
}

// newCmdDemo returns "d365 demo". runF, when not nil, replaces demoRun (tests).
func newCmdDemo(f *Factory, runF func(*demoOptions) error) *cobra.Command {
	opts := &demoOptions{IO: f.IOStreams}
	run := runOrDefault(runF, demoRun)
	return &cobra.Command{
		Use:   "demo",
		Short: "Walk through the four server-to-server steps against an in-process emulator",
		Long: `Starts an emulator in this process and walks through the four steps of a server-to-server
integration, printing what happens at each: (1) the app registration in Entra ID, (2) its
application user in Dataverse, (3) an access token from the client-credentials grant (its claims,
never the token or the secret), (4) Web API calls: WhoAmI, then create, retrieve, update, list and
delete of a contact. It needs no network and no settings, and exits 0 when every step works.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Context = cmd.Context()
			return run(opts)
		},
	}
}

// demoContact is the record the demo creates, read back into a struct as an application would.
type demoContact struct {
	ID        uuid.UUID `json:"contactid"`
	FirstName string    `json:"firstname"`
	LastName  string    `json:"lastname"`
	FullName  string    `json:"fullname"`
	JobTitle  string    `json:"jobtitle"`
	Email     string    `json:"emailaddress1"`
	ETag      string    `json:"@odata.etag"`
}

// demoRun starts an emulator in this process and walks through the four steps on stdout.
func demoRun(opts *demoOptions) error {
	ctx, out := opts.Context, opts.IO.Out
	p := func(format string, args ...any) { fmt.Fprintf(out, format+"\n", args...) }

	emu, err := emulator.New(nil)
	if err != nil {
		return err
	}
	defer emu.Close()
	creds := emu.Credentials()
	p("d365 demo: the four server-to-server steps against a local emulator at %s", emu.URL())
	p("")

	p("Step 1. App registration in Microsoft Entra ID (single tenant)")
	p("  tenant (directory) ID    %s", creds.TenantID)
	p("  application (client) ID  %s", creds.ClientID)
	p("  client secret            ID %s; its value stays secret", emulator.DefaultClientSecretID)
	p("")

	p("Step 2. Application user in Dataverse, bound to that app")
	p("  %q with application ID %s and the %q security role", emulator.DefaultAppName, creds.ClientID, emulator.DefaultRoleName)
	p("")

	cfg := auth.Config{
		OrgURL:        emu.OrgURL(),
		TenantID:      creds.TenantID,
		ClientID:      creds.ClientID,
		ClientSecret:  auth.Secret(creds.ClientSecret),
		AuthorityHost: emu.AuthorityHost(),
	}
	s, err := newSession(cfg, emu.HTTPClient())
	if err != nil {
		return err
	}
	p("Step 3. Access token: client-credentials grant for the scope %s", cfg.Scope())
	tok, err := s.token(ctx)
	if err != nil {
		return err
	}
	claims, err := auth.DecodeClaims(tok.Token)
	if err != nil {
		return err
	}
	p("  audience (aud)           %s", joinOr(claims.Audience, "-"))
	p("  issuer (iss)             %s", claims.Issuer)
	p("  app (appid)              %s, authenticated with %s (appidacr %s)", claims.AppID, credentialKind(claims.AppIDACR), claims.AppIDACR)
	p("  service principal (oid)  %s", claims.ObjectID)
	p("  tenant (tid)             %s; token version %s, identity type %s", claims.TenantID, claims.Version, claims.IDType)
	p("  expires                  %s (in %s)", claims.ExpiresAt.Format(time.RFC3339), time.Until(claims.ExpiresAt).Round(time.Second))
	p("")

	p("Step 4. Dataverse Web API at %s", s.client.BaseURL())
	me, err := s.client.WhoAmI(ctx)
	if err != nil {
		return err
	}
	var appUser struct {
		FullName      string `json:"fullname"`
		ApplicationID string `json:"applicationid"`
	}
	if err := s.client.Retrieve(ctx, "systemusers", me.UserID, &appUser, &dataverse.RetrieveOptions{
		Select: []string{"fullname", "applicationid"},
	}); err != nil {
		return err
	}
	p("  WhoAmI                   user %s: %q, the application user of app %s", me.UserID, appUser.FullName, appUser.ApplicationID)

	created, err := s.client.Create(ctx, "contacts", map[string]any{
		"firstname": "Ada", "lastname": "Lovelace", "emailaddress1": "ada@example.com",
	}, nil)
	if err != nil {
		return err
	}
	p("  create contact           %s", created.ID)

	var c demoContact
	sel := &dataverse.RetrieveOptions{Select: []string{"firstname", "lastname", "fullname", "jobtitle", "emailaddress1"}}
	if err := s.client.Retrieve(ctx, "contacts", created.ID, &c, sel); err != nil {
		return err
	}
	p("  retrieve                 %s %s <%s>, version %s", c.FirstName, c.LastName, c.Email, c.ETag)

	if _, err := s.client.Update(ctx, "contacts", created.ID, map[string]any{"jobtitle": "Analyst"}, nil); err != nil {
		return err
	}
	if err := s.client.Retrieve(ctx, "contacts", created.ID, &c, sel); err != nil {
		return err
	}
	p("  update                   job title is now %q, version %s", c.JobTitle, c.ETag)

	page, err := s.client.List(ctx, "contacts", &dataverse.ListOptions{Query: dataverse.Query{
		Select: []string{"firstname", "lastname"},
		Filter: "lastname eq 'Lovelace'",
		Top:    10,
	}})
	if err != nil {
		return err
	}
	p("  list                     %d contact(s) with lastname eq 'Lovelace'", len(page.Items))

	if err := s.client.Delete(ctx, "contacts", created.ID, nil); err != nil {
		return err
	}
	err = s.client.Retrieve(ctx, "contacts", created.ID, &c, sel)
	if !dataverse.IsNotFound(err) {
		return fmt.Errorf("the deleted contact can still be read (err: %v)", err)
	}
	var re *dataverse.ResponseError
	errors.As(err, &re)
	p("  delete                   done; reading it again gives %d %s, as it should", re.StatusCode, re.Code)
	p("")
	p("All four steps work. Point the same commands at your tenant: see \"Connect to a real tenant\" in README.md.")
	return nil
}

func credentialKind(appidacr string) string {
	switch appidacr {
	case "1":
		return "a client secret"
	case "2":
		return "a certificate"
	}
	return "an unknown method"
}

func joinOr(list []string, empty string) string {
	if len(list) == 0 {
		return empty
	}
	s := list[0]
	for _, v := range list[1:] {
		s += ", " + v
	}
	return s
}
