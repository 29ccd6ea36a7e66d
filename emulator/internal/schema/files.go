package schema

// File and image columns
// (https://learn.microsoft.com/power-apps/developer/data-platform/file-attributes,
// https://learn.microsoft.com/power-apps/developer/data-platform/image-attributes).
// Their bytes live outside the row (the store's file tables); the row holds
// the file id of a File column and the base64 thumbnail of an Image column,
// with the read-only companion columns Dataverse adds.

// FileLimits are the properties of a File or Image column.
type FileLimits struct {
	// MaxSizeInKB is the largest file the column accepts, in KB (1024
	// bytes): FileAttributeMetadata.MaxSizeInKB or
	// ImageAttributeMetadata.MaxSizeInKB.
	MaxSizeInKB int
	// CanStoreFullImage is ImageAttributeMetadata.CanStoreFullImage: an
	// image column keeps the full-size image besides its thumbnail. It
	// applies at upload time. Always false for a File column.
	CanStoreFullImage bool
	// NameColumn is the `<column>_name` companion of a File column;
	// IDColumn, TimestampColumn and URLColumn the `<column>id`,
	// `<column>_timestamp` and `<column>_url` companions of an Image
	// column.
	NameColumn, IDColumn, TimestampColumn, URLColumn *Column
}

// MaxBytes is MaxSizeInKB in bytes.
func (f *FileLimits) MaxBytes() int64 { return int64(f.MaxSizeInKB) * 1024 }

// Dataverse's limits of MaxSizeInKB.
const (
	// DefaultFileMaxSizeInKB is a File column's default (32 MB).
	DefaultFileMaxSizeInKB = 32768
	// MaxFileMaxSizeInKB is a File column's largest limit (10 GB).
	MaxFileMaxSizeInKB = 10485760
	// DefaultImageMaxSizeInKB is an Image column's default (10 MB).
	DefaultImageMaxSizeInKB = 10240
	// MaxImageMaxSizeInKB is an Image column's largest limit (30 MB).
	MaxImageMaxSizeInKB = 30720
)

// IsFile reports whether the column's bytes are a file (File or Image).
func (t ColumnType) IsFile() bool { return t == TypeFile || t == TypeImage }

// fileColumn reads the limits of a File or Image column. The column
// itself is read-only: its value changes only through the file endpoints.
func (c *compiler) fileColumn(where func() string, col *Column, d *ColumnDefinition) {
	def, max := DefaultFileMaxSizeInKB, MaxFileMaxSizeInKB
	if col.Type == TypeImage {
		def, max = DefaultImageMaxSizeInKB, MaxImageMaxSizeInKB
	}
	size := d.MaxSizeInKB
	if size == 0 {
		size = def
	}
	if size < 1 || size > max {
		c.errorf("%s: maxSizeInKB %d must be between 1 and %d", where(), d.MaxSizeInKB, max)
		size = def
	}
	if d.CanStoreFullImage != nil && col.Type != TypeImage {
		c.errorf("%s: canStoreFullImage applies only to Image columns", where())
	}
	col.File = &FileLimits{MaxSizeInKB: size, CanStoreFullImage: col.Type == TypeImage && boolOr(d.CanStoreFullImage, false)}
	col.ValidForCreate, col.ValidForUpdate = false, false
}

// fileCompanions adds the read-only columns Dataverse adds with a File
// column (`<col>_name`) or an Image column (`<col>id`, `<col>_timestamp`,
// `<col>_url`).
func (c *compiler) fileCompanions(t *Table, col *Column) {
	if col.File == nil {
		return
	}
	add := func(suffix, schemaSuffix, display string, typ ColumnType, maxLength int) *Column {
		comp := &Column{LogicalName: col.LogicalName + suffix, SchemaName: col.SchemaName + schemaSuffix,
			DisplayName: col.DisplayName + display, Type: typ, MaxLength: maxLength, ValidForRead: true}
		c.addColumn(t, comp)
		return comp
	}
	if col.Type == TypeFile {
		col.File.NameColumn = add("_name", "_Name", " name", TypeString, maxStringLength)
		return
	}
	col.File.IDColumn = add("id", "Id", " id", TypeUniqueidentifier, 0)
	col.File.TimestampColumn = add("_timestamp", "_Timestamp", " timestamp", TypeBigInt, 0)
	col.File.TimestampColumn.MinValue, col.File.TimestampColumn.MaxValue = 0, 1<<63-1
	col.File.URLColumn = add("_url", "_URL", " URL", TypeString, 200)
}
