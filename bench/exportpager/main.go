// Command exportpager reads every row of an entity set through the
// dataverse library's Pager and prints the rows and rows per second, as the
// library side of bench/export.sh. It takes its connection settings from
// the environment, as the d365 CLI does (D365_URL, AZURE_TENANT_ID,
// AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, AZURE_AUTHORITY_HOST, D365_CA_FILE;
// `d365 emulator --env-file` writes them).
//
//	exportpager -select firstname,lastname,emailaddress1 contacts
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/d365s2s/d365/auth"
	"github.com/d365s2s/d365/dataverse"
)

func main() {
	sel := flag.String("select", "", "columns to read, comma-separated")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: exportpager [-select a,b] ENTITYSET")
		os.Exit(2)
	}
	if err := run(flag.Arg(0), *sel); err != nil {
		fmt.Fprintln(os.Stderr, "exportpager:", err)
		os.Exit(1)
	}
}

func run(entitySet, sel string) error {
	cfg, err := auth.LoadConfig(auth.Config{}, nil)
	if err != nil {
		return err
	}
	hc, err := cfg.HTTPClient()
	if err != nil {
		return err
	}
	cred, err := auth.NewCredential(cfg, &auth.CredentialOptions{ClientOptions: azcore.ClientOptions{Transport: hc}})
	if err != nil {
		return err
	}
	tlsConfig, err := cfg.TLSConfig()
	if err != nil {
		return err
	}
	// As the README shows: the credential on hc, Dataverse on dataverse's own transport.
	c, err := dataverse.NewClient(cfg.OrgURL, cred, &dataverse.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: dataverse.NewHTTPClient(tlsConfig)}})
	if err != nil {
		return err
	}
	ctx := context.Background()
	if _, err := c.WhoAmI(ctx); err != nil { // token and connection, outside the timing
		return err
	}
	var q dataverse.Query
	if sel != "" {
		q.Select = strings.Split(sel, ",")
	}
	start := time.Now()
	rows := 0
	p := c.Pager(entitySet, &dataverse.ListOptions{Query: q})
	for p.More() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		rows += len(page.Items)
	}
	elapsed := time.Since(start)
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"client": "go-library-pager", "rows": rows, "seconds": elapsed.Seconds(),
		"rows_per_s": float64(rows) / elapsed.Seconds(),
	})
}
