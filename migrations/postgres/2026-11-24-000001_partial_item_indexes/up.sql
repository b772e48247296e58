-- Index the items that have a value only. Most items have no parent, origin, WEEE batch
-- or grade for most of their life; a step that changes an item's state writes a new
-- entry into each index that holds it (on PostgreSQL, into every index of the table),
-- so an index that leaves out the empty values is smaller and costs nothing on those
-- steps. A query on `column = value` still uses it.
DROP INDEX items_grade;
CREATE INDEX items_grade ON items (functional_grade, id) WHERE functional_grade IS NOT NULL;
DROP INDEX items_collection;
CREATE INDEX items_collection ON items (collection_id, state) WHERE collection_id IS NOT NULL;
DROP INDEX items_parent;
CREATE INDEX items_parent ON items (parent_id) WHERE parent_id IS NOT NULL;
DROP INDEX items_origin;
CREATE INDEX items_origin ON items (origin_id) WHERE origin_id IS NOT NULL;
DROP INDEX items_serial;
CREATE INDEX items_serial ON items (serial_norm) WHERE serial_norm IS NOT NULL;
DROP INDEX items_asset_tag;
CREATE INDEX items_asset_tag ON items (asset_tag_norm) WHERE asset_tag_norm IS NOT NULL;
DROP INDEX items_weee_batch;
CREATE INDEX items_weee_batch ON items (weee_batch_id) WHERE weee_batch_id IS NOT NULL;
