// Package emulatortest starts an isolated emulator for one test and hands back everything a
// client needs: the organization URL, the seeded app's credentials, a ready azcore
// TokenCredential (azidentity's ClientSecretCredential aimed at the emulator) and azcore client
// options whose transport trusts the emulator's certificate authority.
//
//	func TestSync(t *testing.T) {
//		t.Parallel()
//		env := emulatortest.New(t, nil)
//		client, err := dataverse.NewClient(env.OrgURL, env.Credential,
//			&dataverse.ClientOptions{ClientOptions: env.ClientOptions})
//		…
//	}
//
// Every call starts its own emulator (its own port, CA, signing key and in-memory database), so
// parallel tests share nothing; t.Cleanup closes it. Use env.Emulator for the admin surface:
// expire a secret, disable the application user, move the clock, restore a snapshot.
//
// The emulator's log (requests, refusals and their reasons, the cause of any 500) is kept and
// written to the test's output if the test fails; see [Logger] and [LogEnv].
package emulatortest
