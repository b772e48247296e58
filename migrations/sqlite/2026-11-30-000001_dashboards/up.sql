-- Dashboards at the scale of a national network. The figures are counters kept
-- exact by the transaction that writes an item or an event: triggers append a
-- signed delta for every change that moves a figure, and the server folds the
-- deltas into the counters now and then (`service::aggregates::fold`); a reading
-- adds the counters and the deltas not yet folded, so it is exact at every moment.
-- Nothing but inserts is added to a step's write: no counter row is held by two
-- writers at once.

-- What the counters group items by, set by the server from the item's lifecycle
-- (NULL: not worked out yet, for rows written before this migration; the server
-- fills them in at start).
ALTER TABLE items ADD COLUMN spec_key TEXT;
ALTER TABLE items ADD COLUMN blocker TEXT;
-- Since when the item is in its state: the server dates a step's change of state
-- with the step's own time; any other change of state is dated by the database.
ALTER TABLE items ADD COLUMN state_since TIMESTAMP;
UPDATE items SET state_since = updated_at;
-- The aging dashboard counts and lists what waits, by state, age, site and reason,
-- from this index alone.
CREATE INDEX items_aging ON items (state, state_since, site_id, blocker) WHERE blocker <> '';
-- Which flow of the dashboards an event counts in ('' none; NULL: not worked out yet).
ALTER TABLE item_events ADD COLUMN flow TEXT;

CREATE TRIGGER items_state_since_insert AFTER INSERT ON items
WHEN NEW.state_since IS NULL
BEGIN
    UPDATE items SET state_since = NEW.updated_at WHERE id = NEW.id;
END;

CREATE TRIGGER items_state_since_update AFTER UPDATE OF state ON items
WHEN OLD.state <> NEW.state AND NEW.state_since IS OLD.state_since
BEGIN
    UPDATE items SET state_since = NEW.updated_at WHERE id = NEW.id;
END;

CREATE TABLE item_deltas (
    id INTEGER PRIMARY KEY NOT NULL,
    site_id BIGINT NOT NULL,
    collection_id BIGINT,
    category TEXT NOT NULL,
    state TEXT NOT NULL,
    grade TEXT NOT NULL,
    spec_key TEXT NOT NULL,
    weight_g BIGINT,
    weight_estimated BOOLEAN NOT NULL,
    n INTEGER NOT NULL
);

CREATE TRIGGER items_count_insert AFTER INSERT ON items
BEGIN
    INSERT INTO item_deltas (site_id, collection_id, category, state, grade, spec_key,
        weight_g, weight_estimated, n)
    VALUES (NEW.site_id, NEW.collection_id, NEW.category, NEW.state,
        COALESCE(NEW.functional_grade, ''), COALESCE(NEW.spec_key, ''), NEW.weight_g,
        NEW.weight_estimated, 1);
END;

CREATE TRIGGER items_count_update AFTER UPDATE ON items
WHEN OLD.site_id <> NEW.site_id OR OLD.state <> NEW.state
    OR OLD.category <> NEW.category
    OR OLD.functional_grade IS NOT NEW.functional_grade
    OR COALESCE(OLD.spec_key, '') <> COALESCE(NEW.spec_key, '')
    OR OLD.collection_id IS NOT NEW.collection_id
    OR OLD.weight_g IS NOT NEW.weight_g
    OR OLD.weight_estimated <> NEW.weight_estimated
BEGIN
    INSERT INTO item_deltas (site_id, collection_id, category, state, grade, spec_key,
        weight_g, weight_estimated, n)
    VALUES (OLD.site_id, OLD.collection_id, OLD.category, OLD.state,
        COALESCE(OLD.functional_grade, ''), COALESCE(OLD.spec_key, ''), OLD.weight_g,
        OLD.weight_estimated, -1),
        (NEW.site_id, NEW.collection_id, NEW.category, NEW.state,
        COALESCE(NEW.functional_grade, ''), COALESCE(NEW.spec_key, ''), NEW.weight_g,
        NEW.weight_estimated, 1);
END;

CREATE TRIGGER items_count_delete AFTER DELETE ON items
BEGIN
    INSERT INTO item_deltas (site_id, collection_id, category, state, grade, spec_key,
        weight_g, weight_estimated, n)
    VALUES (OLD.site_id, OLD.collection_id, OLD.category, OLD.state,
        COALESCE(OLD.functional_grade, ''), COALESCE(OLD.spec_key, ''), OLD.weight_g,
        OLD.weight_estimated, -1);
END;

-- Items by site, category, state, functional grade and key spec.
CREATE TABLE stock_counts (
    site_id BIGINT NOT NULL,
    category TEXT NOT NULL,
    state TEXT NOT NULL,
    grade TEXT NOT NULL,
    spec_key TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (site_id, category, state, grade, spec_key)
);

-- A collection's items by category and state, with their weights: weighed, estimated
-- by the technician, or not weighed (the category's estimate stands in).
CREATE TABLE collection_counts (
    collection_id BIGINT NOT NULL,
    category TEXT NOT NULL,
    state TEXT NOT NULL,
    n BIGINT NOT NULL,
    weighed_n BIGINT NOT NULL,
    weighed_g BIGINT NOT NULL,
    estimated_n BIGINT NOT NULL,
    estimated_g BIGINT NOT NULL,
    PRIMARY KEY (collection_id, category, state)
);

CREATE TABLE flow_deltas (
    id INTEGER PRIMARY KEY NOT NULL,
    site_id BIGINT NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    flow TEXT NOT NULL,
    category TEXT NOT NULL,
    weight_g BIGINT,
    weight_estimated BOOLEAN NOT NULL,
    -- For a device made ready: when it was received (the last reception before).
    received_at TIMESTAMP,
    n INTEGER NOT NULL
);

CREATE TRIGGER item_events_flow_insert AFTER INSERT ON item_events
WHEN NEW.flow <> '' OR NEW.event_type = 'corrected'
BEGIN
    INSERT INTO flow_deltas (site_id, occurred_at, flow, category, weight_g,
        weight_estimated, received_at, n)
    SELECT NEW.site_id, NEW.occurred_at, NEW.flow, i.category, i.weight_g,
        i.weight_estimated,
        CASE WHEN NEW.flow = 'ready' THEN (
            SELECT r.occurred_at FROM item_events r
            WHERE r.item_id = NEW.item_id AND r.id < NEW.id
                AND r.flow IN ('received', 'intake')
            ORDER BY r.id DESC LIMIT 1) END,
        1
    FROM items i WHERE i.id = NEW.item_id AND NEW.flow <> '';
    INSERT INTO flow_deltas (site_id, occurred_at, flow, category, weight_g,
        weight_estimated, received_at, n)
    SELECT e.site_id, e.occurred_at, e.flow, i.category, i.weight_g,
        i.weight_estimated,
        CASE WHEN e.flow = 'ready' THEN (
            SELECT r.occurred_at FROM item_events r
            WHERE r.item_id = e.item_id AND r.id < e.id
                AND r.flow IN ('received', 'intake')
            ORDER BY r.id DESC LIMIT 1) END,
        -1
    FROM item_events e JOIN items i ON i.id = e.item_id
    WHERE NEW.event_type = 'corrected'
        AND e.id = json_extract(NEW.payload, '$.event') AND e.flow <> '';
END;

-- An event taken back in the transaction that wrote it (its item had moved on).
CREATE TRIGGER item_events_flow_delete AFTER DELETE ON item_events
WHEN OLD.flow <> '' OR OLD.event_type = 'corrected'
BEGIN
    INSERT INTO flow_deltas (site_id, occurred_at, flow, category, weight_g,
        weight_estimated, received_at, n)
    SELECT OLD.site_id, OLD.occurred_at, OLD.flow, i.category, i.weight_g,
        i.weight_estimated,
        CASE WHEN OLD.flow = 'ready' THEN (
            SELECT r.occurred_at FROM item_events r
            WHERE r.item_id = OLD.item_id AND r.id < OLD.id
                AND r.flow IN ('received', 'intake')
            ORDER BY r.id DESC LIMIT 1) END,
        -1
    FROM items i WHERE i.id = OLD.item_id AND OLD.flow <> '';
    INSERT INTO flow_deltas (site_id, occurred_at, flow, category, weight_g,
        weight_estimated, received_at, n)
    SELECT e.site_id, e.occurred_at, e.flow, i.category, i.weight_g,
        i.weight_estimated,
        CASE WHEN e.flow = 'ready' THEN (
            SELECT r.occurred_at FROM item_events r
            WHERE r.item_id = e.item_id AND r.id < e.id
                AND r.flow IN ('received', 'intake')
            ORDER BY r.id DESC LIMIT 1) END,
        1
    FROM item_events e JOIN items i ON i.id = e.item_id
    WHERE OLD.event_type = 'corrected'
        AND e.id = json_extract(OLD.payload, '$.event') AND e.flow <> '';
END;

-- A household equipped: its first invoice (the 'equipped' flow, by the selling
-- site and the invoice's date).
CREATE TRIGGER sales_equipped AFTER INSERT ON sales
WHEN NEW.kind = 'invoice' AND NEW.beneficiary_id IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM sales s WHERE s.beneficiary_id = NEW.beneficiary_id
        AND s.kind = 'invoice' AND s.id <> NEW.id)
BEGIN
    INSERT INTO flow_deltas (site_id, occurred_at, flow, category, weight_g,
        weight_estimated, received_at, n)
    VALUES (NEW.site_id, NEW.sold_at, 'equipped', '', NULL, FALSE, NULL, 1);
END;

-- Flows by site and week (the Monday, in Paris), and by site, month and category
-- with the weights.
CREATE TABLE flow_weeks (
    site_id BIGINT NOT NULL,
    week DATE NOT NULL,
    flow TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (site_id, week, flow)
);

CREATE TABLE flow_months (
    site_id BIGINT NOT NULL,
    month DATE NOT NULL,
    flow TEXT NOT NULL,
    category TEXT NOT NULL,
    n BIGINT NOT NULL,
    weighed_n BIGINT NOT NULL,
    weighed_g BIGINT NOT NULL,
    estimated_n BIGINT NOT NULL,
    estimated_g BIGINT NOT NULL,
    PRIMARY KEY (site_id, month, flow, category)
);

-- Days from reception to ready, by site and month of the ready step.
CREATE TABLE ready_times (
    site_id BIGINT NOT NULL,
    month DATE NOT NULL,
    days INTEGER NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (site_id, month, days)
);

-- How long an item may wait in a state before the aging dashboard lists it.
CREATE TABLE aging_thresholds (
    state TEXT PRIMARY KEY NOT NULL,
    days INTEGER NOT NULL
);
INSERT INTO aging_thresholds (state, days) VALUES
    ('collected', 14), ('received', 7), ('refurbishing', 14), ('ready', 60),
    ('reserved', 14), ('returned', 7), ('harvesting', 14), ('harvested', 30),
    ('to_recycle', 60), ('in_stock', 30), ('tested_good', 180), ('faulty', 60);

-- The impact factors, as data with their source and date.
CREATE TABLE impact_factors (
    category TEXT PRIMARY KEY NOT NULL,
    -- Grams of CO2e avoided per year of extra use of a reused device; NULL when no
    -- published figure is taken (the category's reuse counts no CO2e).
    avoided_g_per_year BIGINT,
    avoided_source TEXT,
    -- Grams of CO2e to make a new one: context only, never added to the figure.
    manufacturing_g BIGINT,
    manufacturing_source TEXT,
    -- Stands in for an item that was not weighed.
    estimated_weight_g BIGINT NOT NULL,
    weight_source TEXT NOT NULL,
    source_date DATE NOT NULL
);
INSERT INTO impact_factors VALUES
    ('laptop', 27000, 'ADEME, Évaluation de l''impact environnemental d''un ensemble de produits reconditionnés (2022)',
        170000, 'ADEME, Impact CO2 : numérique', 2000, 'Filière, masse moyenne d''un portable 14-15 pouces', '2022-09-09'),
    ('desktop', NULL, NULL, 259000, 'ADEME, Impact CO2 : numérique', 8000, 'Filière, masse moyenne d''une tour', '2022-09-09'),
    ('all_in_one', NULL, NULL, NULL, NULL, 7000, 'Filière, masse moyenne d''un tout-en-un', '2022-09-09'),
    ('monitor', NULL, NULL, 65000, 'ADEME, Impact CO2 : numérique (écran 24 pouces)', 4500, 'Filière, masse moyenne d''un écran 22-24 pouces', '2022-09-09'),
    ('tablet', 20000, 'ADEME, Évaluation de l''impact environnemental d''un ensemble de produits reconditionnés (2022)',
        NULL, NULL, 500, 'Filière, masse moyenne d''une tablette 10 pouces', '2022-09-09'),
    ('phone', 24600, 'ADEME, Évaluation de l''impact environnemental d''un ensemble de produits reconditionnés (2022)',
        NULL, NULL, 180, 'Filière, masse moyenne d''un smartphone', '2022-09-09'),
    ('server', NULL, NULL, NULL, NULL, 15000, 'Filière, masse moyenne d''un serveur 1U-2U', '2022-09-09'),
    ('printer', NULL, NULL, NULL, NULL, 8000, 'Filière, masse moyenne d''une imprimante laser', '2022-09-09'),
    ('other_device', NULL, NULL, NULL, NULL, 2000, 'Filière, valeur par défaut', '2022-09-09');

-- Settings of the dashboards and the impact page.
CREATE TABLE settings (
    name TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
-- Extra years of use a reused device is assumed to get.
INSERT INTO settings (name, value) VALUES ('impact_extra_years', '2');
