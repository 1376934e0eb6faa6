// Package catalog is broker's one view of its objects: spaces, stacks, integrations,
// attachments (direct and automatic), roles and API keys. A Catalog is an immutable, validated
// snapshot built once per change from the configuration file's objects and the objects created
// through the API; Live holds the snapshot in force and swaps it atomically, so every request
// reads one consistent catalog with one atomic load. Claims, access checks, attachment
// resolution, audit indexing and listings all ask the catalog.
package catalog
