package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/d365s2s/d365/dataverse"
)

// probeKey asks the service whether --key names an alternate key, when the table's metadata
// could not list its keys (TableMetadata.KeysKnown false): it reads the first row's record by
// that key, selecting only the primary id. A 404 (no such record) or a record means the key
// exists; a 400 means the service does not know it. Nothing is written.
func probeKey(ctx context.Context, client *dataverse.Client, md *dataverse.TableMetadata, keys []string, first dataverse.Record) error {
	key := dataverse.AlternateKey{}
	for _, k := range keys {
		key[k] = first[k]
	}
	var found dataverse.Record
	err := client.RetrieveByKey(ctx, md.EntitySetName, key, &found, &dataverse.RetrieveOptions{Select: []string{md.PrimaryIDAttribute}})
	var re *dataverse.ResponseError
	switch {
	case err == nil || dataverse.IsNotFound(err):
		return nil
	case errors.As(err, &re) && re.StatusCode == http.StatusBadRequest:
		return usageError(fmt.Errorf("--key %s is not an alternate key of %s: %s", strings.Join(keys, ","), md.EntitySetName, re.Message))
	}
	return err
}

// firstRow returns the first row of the input (nil for an empty one).
func firstRow(in *importInput, format string, t *importTable) (dataverse.Record, error) {
	f, err := in.open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	for rec, err := range rowsOf(f, format, t) {
		return rec, err
	}
	return nil, nil
}
