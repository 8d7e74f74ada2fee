-- orderdeck reference schema, SQLite dialect (DESIGN section 3).
--
-- This is a contract: users load their data into these tables and outside
-- tools insert into them with plain SQL. Times are UTC ISO-8601 text,
-- `YYYY-MM-DD HH:MM:SS` with an optional fraction (`.ffffff`).

CREATE TABLE orders (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    order_no          TEXT    NOT NULL UNIQUE,
    buyer_id          INTEGER NOT NULL,
    supplier_id       INTEGER NOT NULL,
    sku               TEXT    NOT NULL,
    quantity          INTEGER NOT NULL,
    amount_cents      INTEGER NOT NULL,
    status            TEXT    NOT NULL CHECK (status IN (
                          'created', 'pending_review', 'paid', 'inventory_locked',
                          'processing', 'shipped', 'delivered', 'settled',
                          'cancelled', 'refunded')),
    payment_status    TEXT    NOT NULL CHECK (payment_status IN (
                          'unpaid', 'paid', 'refunded', 'failed')),
    hold_reason       TEXT,
    held_at           TEXT,
    created_at        TEXT    NOT NULL,
    status_changed_at TEXT    NOT NULL
);

CREATE INDEX idx_orders_status_changed ON orders (status, status_changed_at);
CREATE INDEX idx_orders_hold ON orders (hold_reason, held_at);

CREATE TABLE inventory (
    sku      TEXT    PRIMARY KEY,
    on_hand  INTEGER NOT NULL,
    reserved INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE inventory_locks (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id   INTEGER NOT NULL,
    sku        TEXT    NOT NULL,
    quantity   INTEGER NOT NULL,
    is_locked  INTEGER NOT NULL DEFAULT 1 CHECK (is_locked IN (0, 1)),
    locked_at  TEXT    NOT NULL,
    expires_at TEXT    NOT NULL
);

CREATE INDEX idx_inventory_locks_order ON inventory_locks (order_id);
CREATE INDEX idx_inventory_locks_held ON inventory_locks (is_locked, expires_at);

CREATE TABLE order_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id    INTEGER NOT NULL,
    occurred_at TEXT    NOT NULL,
    source      TEXT    NOT NULL CHECK (source IN (
                    'app', 'payment', 'inventory', 'fulfillment', 'logistics',
                    'supplier', 'finance', 'risk', 'erp', 'ops')),
    kind        TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    detail      TEXT    NOT NULL DEFAULT '',
    payload     TEXT
);

CREATE INDEX idx_order_events_order_time ON order_events (order_id, occurred_at);
CREATE INDEX idx_order_events_kind ON order_events (kind, order_id);

CREATE TABLE order_views (
    order_id    INTEGER NOT NULL,
    system      TEXT    NOT NULL CHECK (system IN (
                    'app', 'logistics', 'supplier', 'finance', 'erp')),
    status      TEXT    NOT NULL,
    observed_at TEXT    NOT NULL,
    UNIQUE (order_id, system)
);

CREATE INDEX idx_order_views_system_status ON order_views (system, status, observed_at);

CREATE TABLE remediation_audit (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    occurred_at TEXT    NOT NULL,
    os_user     TEXT    NOT NULL,
    host        TEXT    NOT NULL,
    environment TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    target      TEXT    NOT NULL,
    parameters  TEXT,
    statement   TEXT    NOT NULL,
    affected    INTEGER NOT NULL DEFAULT 0,
    outcome     TEXT    NOT NULL CHECK (outcome IN (
                    'ok', 'dry_run', 'refused', 'failed', 'noop')),
    error       TEXT,
    duration_ms INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX idx_remediation_audit_time ON remediation_audit (occurred_at);
CREATE INDEX idx_remediation_audit_target ON remediation_audit (target, occurred_at);
