package dataverse_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/d365s2s/d365/dataverse"
)

// neverCalled is a credential for examples that send nothing.
type neverCalled struct{}

func (neverCalled) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{}, errors.New("no token in this example")
}

// Input errors are found before anything is sent and wrap ErrInvalidArgument, so a program can
// tell "fix the input" from a failure of the service.
func ExampleErrInvalidArgument() {
	client, err := dataverse.NewClient("https://contoso.crm.dynamics.com", neverCalled{}, nil)
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	_, err = client.Create(ctx, "Contact s", dataverse.Record{"lastname": "Ng"}, nil)
	fmt.Println(errors.Is(err, dataverse.ErrInvalidArgument))
	fmt.Println(err)
	_, err = client.List(ctx, "contacts", &dataverse.ListOptions{Query: dataverse.Query{
		Filter: dataverse.Filterf("createdon ge %v", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)),
	}})
	fmt.Println(errors.Is(err, dataverse.ErrInvalidArgument))
	// Output:
	// true
	// dataverse: "Contact s" is not an entity set name; pass the table's EntitySetName such as "contacts" (letters, digits, underscores)
	// true
}
