package webapi

import (
	"encoding/base64"
	"fmt"
	"slices"

	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/d365s2s/d365/emulator/internal/store"
	"github.com/google/uuid"
)

// Image columns can also be set and cleared with an update of the row
// (https://learn.microsoft.com/power-apps/developer/data-platform/image-column-data#upload-images):
// PATCH <set>(<id>) {"<col>":"<base64>"} stores the image (its thumbnail,
// and the full image when the column keeps it) and {"<col>":null} deletes
// it, in the same transaction as the rest of the update. POST <set> with
// the base64 stores it with the new row ("Set with Create" in that
// article, documented for the primary image). File columns
// cannot be set this way; their values are ignored like other read-only
// columns.

// imageValue reads an Image column's value in a body: base64 bytes.
func imageValue(col *schema.Column, s string) (any, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		//lint:ignore ST1005 the message follows ODataLib's conversion failure
		return nil, fmt.Errorf("Cannot convert the value of '%s' to the expected type 'Edm.Binary': it is not base64.", col.LogicalName)
	}
	return b, nil
}

// splitImageFields takes the Image column values out of an update's
// fields.
func splitImageFields(fields []store.Field) (rest, images []store.Field) {
	if !slices.ContainsFunc(fields, isImageField) {
		return fields, nil // the usual case, without copying fields
	}
	for _, f := range fields {
		if isImageField(f) {
			images = append(images, f)
			continue
		}
		rest = append(rest, f)
	}
	return rest, images
}

func isImageField(f store.Field) bool { return f.Column != nil && f.Column.Type == schema.TypeImage }

// writeImages stores or clears the images of an update in its transaction.
func (req *request) writeImages(tx *store.Tx, t *schema.Table, id uuid.UUID, images []store.Field) error {
	for _, f := range images {
		data, _ := f.Value.([]byte)
		if err := tx.SetImage(req.ctx, req.p, store.FileTarget{Table: t, ID: id, Column: f.Column}, data); err != nil {
			return fileAPIError(err)
		}
	}
	return nil
}
