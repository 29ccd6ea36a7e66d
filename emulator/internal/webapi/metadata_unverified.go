package webapi

// The metadata behaviours below are best guesses: Microsoft's pages do not
// show them and no capture of a real environment was at hand. Each lives
// in one named constant so that a capture can correct it in one place.

// metaMsgWrongCast is the error for a type-cast segment naming a type that
// is not the set's type or derived from it, or an abstract type such as
// EnumAttributeMetadata (the docs only say such casts do not work).
// [unverified] text; the status (400) and code follow OData's URI parser.
const metaMsgWrongCast = "Type '%s' is not a type that can be used in a type cast segment after '%s': use a non-abstract type derived from '%s'."

// metaMsgCastNoMatch is the error for a cast after a single key whose
// metadata record is not of that type (for example a String column cast
// to PicklistAttributeMetadata). [unverified]: OData answers 404 for a
// cast that does not match the addressed entity.
const metaMsgCastNoMatch = "The metadata record '%s' is not of type '%s'."

// metaMsgQueryOption is the refusal of $top, $count and $apply on metadata
// queries. The $orderby refusal ("The query parameter $orderby is not
// supported", 0x80060888) has been seen from Dataverse; that $top, $count
// and $apply get the same shape is [unverified].
const metaMsgQueryOption = "The query parameter %s is not supported"

// metaMsgGlobalOptionSetFilter refuses $filter on
// GlobalOptionSetDefinitions, which the docs say does not support it.
// [unverified] text.
const metaMsgGlobalOptionSetFilter = "The query parameter $filter is not supported on GlobalOptionSetDefinitions"

// metaLabelLanguagesFiltersUserLabel says whether LabelLanguages also
// clears UserLocalizedLabel when the caller's language (1033 here) is not
// among the requested ones. Real clients send LabelLanguages=1033 to cut
// LocalizedLabels to one language; what happens to UserLocalizedLabel is
// [unverified]. The emulator keeps it.
const metaLabelLanguagesFiltersUserLabel = false

// metaIntersectEntitySetNull says that an intersect table (systemuserroles…),
// which the emulator does not serve as an entity set, has a null
// EntitySetName and LogicalCollectionName. Dataverse names one
// ("systemuserrolescollection"); the emulator says null rather than name
// a resource it does not serve. [unverified]
const metaIntersectEntitySetNull = true

// metaDatabaseLengthPerCharacter is StringAttributeMetadata.DatabaseLength
// per character of MaxLength (bytes of nvarchar). [unverified]
const metaDatabaseLengthPerCharacter = 2

// metaMoneyPrecisionSource is MoneyAttributeMetadata.PrecisionSource of a
// money column (2: the currency's precision). [unverified] as the default.
const metaMoneyPrecisionSource = 2

// metaNoDefaultFormValue is EnumAttributeMetadata.DefaultFormValue of a
// choice without a default. [unverified]
const metaNoDefaultFormValue = -1

// metaMsgNotFound is the 404 for a key that matches no metadata record:
// kind ("entity", "attribute"…), key property and value. Dataverse's
// text is [unverified].
const metaMsgNotFound = "Could not find %s with %s = '%s'."

// csdlAnnotationsByPrefer makes $metadata carry its annotations when the
// request has Prefer: odata.include-annotations (any value), as well as
// with the documented annotations=true parameter. DynamicsWebApi's
// retrieveCsdlMetadata({addAnnotations: true}) asks that way; that
// Dataverse honours it on $metadata is [unverified].
const csdlAnnotationsByPrefer = true
