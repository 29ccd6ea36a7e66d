package dataverse

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// maxExportPartitions bounds ExportOptions.Parallel: the ranges split the
// key's leading byte.
const maxExportPartitions = 256

// exportColumnsFromMetadata returns the CSV header of an export without
// Select or Columns: every column of the table that a record carries as a
// property (ColumnMetadata.Property), in the metadata's order.
func (c *Client) exportColumnsFromMetadata(ctx context.Context, entitySet string) ([]string, error) {
	md, err := c.TableMetadata(ctx, entitySet)
	if err != nil {
		return nil, fmt.Errorf("dataverse: Export: reading the columns of %s from its metadata (set Columns or Query.Select to skip this): %w", entitySet, err)
	}
	var cols []string
	for i := range md.Columns {
		if p := md.Columns[i].Property(); p != "" {
			cols = append(cols, p)
		}
	}
	return cols, nil
}

// exportPrimaryKey returns the PrimaryIdAttribute of the table behind
// entitySet from its metadata.
func (c *Client) exportPrimaryKey(ctx context.Context, entitySet string) (string, error) {
	md, err := c.TableMetadata(ctx, entitySet)
	if err != nil {
		return "", fmt.Errorf("dataverse: Export: reading the primary key of %s from its metadata (set PartitionKey to skip this): %w", entitySet, err)
	}
	return md.PrimaryIDAttribute, nil
}

// partitionBoundary is the i-th of n range boundaries (0 < i < n): a GUID
// whose first byte and eleventh byte are both i*256/n, all others zero.
// Any GUID order in use sorts these boundaries the same way: text or RFC
// 4122 byte order compares the first byte first, SQL Server's
// uniqueidentifier order (what Dataverse's $filter uses) compares bytes
// 10 to 15 first. So the ranges [b(i), b(i+1)) never overlap and cover
// every key in both orders. [unverified] With SQL Server's sequential ids,
// which vary mostly in the first bytes, the rows may gather in one range:
// the export stays correct (each row once) but gains less from Parallel.
func partitionBoundary(i, n int) string {
	k := i * 256 / n
	return fmt.Sprintf("%02x000000-0000-0000-0000-%02x0000000000", k, k)
}

// partitionFilters returns the $filter of each of n ranges of key, each
// joined with the query's own filter.
func partitionFilters(key, filter string, n int) []string {
	out := make([]string, n)
	for i := range n {
		var conds []string
		if filter != "" {
			conds = append(conds, "("+filter+")")
		}
		if i > 0 {
			conds = append(conds, key+" ge "+partitionBoundary(i, n))
		}
		if i < n-1 {
			conds = append(conds, key+" lt "+partitionBoundary(i+1, n))
		}
		out[i] = strings.Join(conds, " and ")
	}
	return out
}

// exportPage is a page read by a range's pager, its rows slices of buf.
type exportPage struct {
	rows []json.RawMessage
	next string
	err  error
	buf  *pageBuffer
}

// partitioned reads every range with its own pager and writes their
// pages in rounds (see Client.Export).
func (r *exportRun) partitioned(ctx context.Context) error {
	o := r.opts
	if o.FetchXML != "" {
		return invalidf("dataverse: Export: a FetchXML query cannot be partitioned; drop Parallel")
	}
	if o.Query.Top > 0 {
		return invalidf("dataverse: Export: a query with Top cannot be partitioned; drop Parallel or Top")
	}
	if rs := o.Resume; rs != nil && len(rs.Partitions) > 0 {
		r.partitions = slices.Clone(rs.Partitions)
		r.turn = rs.Turn
	} else {
		key := o.PartitionKey
		if key == "" {
			var err error
			if key, err = r.c.exportPrimaryKey(ctx, r.entitySet); err != nil {
				return err
			}
		}
		if !propertyNamePattern.MatchString(key) {
			return invalidf("dataverse: Export: PartitionKey %q is not a column name", key)
		}
		for _, f := range partitionFilters(key, o.Query.Filter, o.Parallel) {
			r.partitions = append(r.partitions, PartitionState{Filter: f})
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// One reader per range, with two page buffers: it reads into one
	// while the other waits to be written, and gets it back once it was.
	chans := make([]chan exportPage, len(r.partitions))
	free := make([]chan *pageBuffer, len(r.partitions))
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	for i, ps := range r.partitions {
		if ps.Done {
			continue
		}
		ch := make(chan exportPage, 1)
		chans[i] = ch
		bufs := make(chan *pageBuffer, 2)
		bufs <- new(pageBuffer)
		bufs <- new(pageBuffer)
		free[i] = bufs
		p, err := r.pager(ps.Filter, ps.Next)
		if err != nil {
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(ch)
			for p.More() {
				var buf *pageBuffer
				select {
				case buf = <-bufs:
				case <-ctx.Done():
					return
				}
				page, err := p.nextPage(ctx, buf)
				ep := exportPage{buf: buf}
				if err != nil {
					ep.err = err
				} else {
					ep.rows, ep.next = page.Items, page.NextLink
				}
				select {
				case ch <- ep:
				case <-ctx.Done():
					return
				}
				if err != nil {
					return
				}
			}
		}()
	}
	for {
		active := false
		for n := 0; n < len(chans); n++ {
			i := (r.turn + n) % len(chans)
			if chans[i] == nil {
				continue
			}
			active = true
			ep, ok := <-chans[i]
			if !ok {
				chans[i] = nil
				r.partitions[i].Done = true
				continue
			}
			if ep.err != nil {
				return fmt.Errorf("dataverse: Export: key range %d of %d (%s): %w", i+1, len(chans), r.partitions[i].Filter, ep.err)
			}
			r.partitions[i].Next = ep.next
			r.partitions[i].Done = ep.next == ""
			r.turn = (i + 1) % len(chans)
			if err := r.writePage(ep.rows); err != nil {
				return err
			}
			free[i] <- ep.buf // written: the reader may fill it again
			// The round goes on from the range after this one.
			break
		}
		if !active {
			return nil
		}
	}
}
