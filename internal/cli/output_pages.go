package cli

import (
	"context"
	"encoding/json"

	"github.com/d365s2s/d365/dataverse"
)

// printPages prints the rows of pager's first page, or of every page with all: the JSON formats
// and CSV stream page by page through a dataverse.RowWriter, so memory holds one page however
// many there are; the others are printed once every row is read. onPage sees each page before
// its rows are written (first is true for the first one); its error stops the output.
func printPages(ctx context.Context, p printer, pager *dataverse.Pager[json.RawMessage], all bool, onPage func(page *dataverse.Page[json.RawMessage], first bool) error) error {
	format, streamed := map[string]dataverse.ExportFormat{
		outputJSON: dataverse.FormatJSON, outputJSONL: dataverse.FormatJSONLines, outputCSV: dataverse.FormatCSV,
	}[p.Format]
	streamed = streamed && p.JQ == ""
	var (
		rw   *dataverse.RowWriter
		rows []json.RawMessage
		err  error
	)
	if streamed {
		rw, err = dataverse.NewRowWriter(p.IO.Out, &dataverse.RowWriterOptions{Format: format, Indent: getIndent, Columns: p.Columns, FormattedValues: p.Formatted, LookupTables: p.LookupTables})
		if err != nil {
			return err
		}
	}
	for first := true; pager.More(); first = false {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return err
		}
		if err := onPage(page, first); err != nil {
			return err
		}
		if streamed {
			if err := rw.WritePage(page.Items); err != nil {
				return err
			}
		} else {
			rows = append(rows, page.Items...)
		}
		if !all {
			break
		}
	}
	if streamed {
		return rw.Close()
	}
	return p.print(ctx, joinRows(rows))
}
