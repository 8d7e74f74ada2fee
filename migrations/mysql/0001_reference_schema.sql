-- orderdeck reference schema, MySQL/MariaDB dialect (DESIGN section 3).
--
-- This is a contract: users load their data into these tables and outside
-- tools insert into them with plain SQL. Times are DATETIME(6) holding UTC.
-- Text that is compared or indexed is VARCHAR; free text is TEXT.

CREATE TABLE IF NOT EXISTS orders (
    id                BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    order_no          VARCHAR(191) NOT NULL,
    buyer_id          BIGINT       NOT NULL,
    supplier_id       BIGINT       NOT NULL,
    sku               VARCHAR(191) NOT NULL,
    quantity          INT          NOT NULL,
    amount_cents      BIGINT       NOT NULL,
    status            VARCHAR(32)  NOT NULL CHECK (status IN (
                          'created', 'pending_review', 'paid', 'inventory_locked',
                          'processing', 'shipped', 'delivered', 'settled',
                          'cancelled', 'refunded')),
    payment_status    VARCHAR(16)  NOT NULL CHECK (payment_status IN (
                          'unpaid', 'paid', 'refunded', 'failed')),
    hold_reason       VARCHAR(64)  NULL,
    held_at           DATETIME(6)  NULL,
    created_at        DATETIME(6)  NOT NULL,
    status_changed_at DATETIME(6)  NOT NULL,
    UNIQUE KEY uq_orders_order_no (order_no),
    KEY idx_orders_status_changed (status, status_changed_at),
    KEY idx_orders_hold (hold_reason, held_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE IF NOT EXISTS inventory (
    sku      VARCHAR(191) NOT NULL PRIMARY KEY,
    on_hand  INT          NOT NULL,
    reserved INT          NOT NULL DEFAULT 0
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE IF NOT EXISTS inventory_locks (
    id         BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    order_id   BIGINT       NOT NULL,
    sku        VARCHAR(191) NOT NULL,
    quantity   INT          NOT NULL,
    is_locked  BOOLEAN      NOT NULL DEFAULT TRUE,
    locked_at  DATETIME(6)  NOT NULL,
    expires_at DATETIME(6)  NOT NULL,
    KEY idx_inventory_locks_order (order_id),
    KEY idx_inventory_locks_held (is_locked, expires_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE IF NOT EXISTS order_events (
    id          BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    order_id    BIGINT       NOT NULL,
    occurred_at DATETIME(6)  NOT NULL,
    source      VARCHAR(16)  NOT NULL CHECK (source IN (
                    'app', 'payment', 'inventory', 'fulfillment', 'logistics',
                    'supplier', 'finance', 'risk', 'erp', 'ops')),
    kind        VARCHAR(64)  NOT NULL,
    status      VARCHAR(64)  NOT NULL,
    detail      TEXT         NOT NULL,
    payload     LONGTEXT     NULL,
    KEY idx_order_events_order_time (order_id, occurred_at),
    KEY idx_order_events_kind (kind, order_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE IF NOT EXISTS order_views (
    order_id    BIGINT      NOT NULL,
    system      VARCHAR(16) NOT NULL CHECK (system IN (
                    'app', 'logistics', 'supplier', 'finance', 'erp')),
    status      VARCHAR(32) NOT NULL,
    observed_at DATETIME(6) NOT NULL,
    UNIQUE KEY uq_order_views (order_id, system),
    KEY idx_order_views_system_status (system, status, observed_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE IF NOT EXISTS remediation_audit (
    id          BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    occurred_at DATETIME(6)  NOT NULL,
    os_user     VARCHAR(191) NOT NULL,
    host        VARCHAR(191) NOT NULL,
    environment VARCHAR(191) NOT NULL,
    action      VARCHAR(64)  NOT NULL,
    target      VARCHAR(191) NOT NULL,
    parameters  TEXT         NULL,
    statement   TEXT         NOT NULL,
    affected    BIGINT       NOT NULL DEFAULT 0,
    outcome     VARCHAR(16)  NOT NULL CHECK (outcome IN (
                    'ok', 'dry_run', 'refused', 'failed', 'noop')),
    error       TEXT         NULL,
    duration_ms BIGINT       NOT NULL DEFAULT 0,
    KEY idx_remediation_audit_time (occurred_at),
    KEY idx_remediation_audit_target (target, occurred_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
