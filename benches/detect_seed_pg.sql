-- A 1,000,000-order reference world for the detection benchmark
-- (benches/detect.rs): 180 days of history, almost all of it settled, with
-- the in-flight tail and a few hundred stuck orders a real shop has.
-- Run inside the benchmark's own schema, after the reference migration.
INSERT INTO orders (id, order_no, buyer_id, supplier_id, sku, quantity, amount_cents,
                    status, payment_status, hold_reason, held_at, created_at, status_changed_at)
SELECT g, 'CO' || lpad(g::text, 9, '0'), 100000 + g % 50000, 1000 + g % 300,
       'SKU-' || (g % 5000), 1 + g % 3, 500 + (g * 37) % 50000,
       s.status, s.payment, s.hold, CASE WHEN s.hold IS NULL THEN NULL ELSE t.at END,
       t.at - interval '10 minutes', t.at
FROM generate_series(1, 1000000) g
CROSS JOIN LATERAL (SELECT now() - ((1000000 - g) * interval '15.552 seconds') AS at) t
CROSS JOIN LATERAL (SELECT
    CASE WHEN g > 999000 THEN (ARRAY['pending_review','paid','inventory_locked','processing',
                                     'shipped','delivered','delivered','shipped'])[1 + g % 8]
         WHEN g % 2000 = 7 THEN 'processing'
         WHEN g % 2000 = 11 THEN 'pending_review'
         WHEN g % 2000 = 13 THEN 'paid'
         WHEN g % 2000 = 17 THEN 'delivered'
         WHEN g % 40 = 3 THEN 'cancelled'
         WHEN g % 40 = 5 THEN 'refunded'
         ELSE 'settled' END AS status,
    CASE WHEN g % 40 = 5 THEN 'refunded'
         WHEN g % 2000 = 11 OR (g > 999000 AND g % 8 = 0) THEN 'unpaid'
         ELSE 'paid' END AS payment,
    CASE WHEN g % 5000 = 7 THEN 'risk' ELSE NULL END AS hold) s;
SELECT setval(pg_get_serial_sequence('orders', 'id'), 1000000);

INSERT INTO order_views (order_id, system, status, observed_at)
SELECT id, 'app', status, status_changed_at FROM orders;
INSERT INTO order_views (order_id, system, status, observed_at)
SELECT id, 'logistics',
       CASE WHEN status IN ('settled', 'delivered') AND id % 2000 <> 17 THEN 'delivered'
            WHEN status IN ('shipped', 'delivered') THEN 'in_transit'
            ELSE 'pending' END,
       status_changed_at
FROM orders WHERE status NOT IN ('created', 'pending_review', 'cancelled');
INSERT INTO order_views (order_id, system, status, observed_at)
SELECT id, 'supplier', CASE WHEN status = 'settled' OR id % 4000 = 17 THEN 'settled' ELSE 'unsettled' END,
       status_changed_at
FROM orders WHERE status IN ('settled', 'delivered');
INSERT INTO order_views (order_id, system, status, observed_at)
SELECT id, 'finance', CASE WHEN status = 'settled' THEN 'received' ELSE 'unpaid' END, status_changed_at
FROM orders WHERE status IN ('settled', 'delivered');
INSERT INTO order_views (order_id, system, status, observed_at)
SELECT id, 'erp', CASE WHEN status = 'processing' AND id % 4 = 3 THEN 'failed' ELSE 'acknowledged' END,
       status_changed_at
FROM orders WHERE status IN ('processing', 'shipped', 'delivered', 'settled');

INSERT INTO order_events (order_id, occurred_at, source, kind, status, detail)
SELECT id, created_at, 'app', 'order_created', 'created', '' FROM orders;
INSERT INTO order_events (order_id, occurred_at, source, kind, status, detail)
SELECT id, created_at + interval '1 minute', 'payment', 'payment_callback', 'paid', 'gateway ok'
FROM orders WHERE payment_status IN ('paid', 'refunded');
INSERT INTO order_events (order_id, occurred_at, source, kind, status, detail)
SELECT id, created_at + interval '2 minutes', 'inventory', 'inventory_synced', 'inventory_locked', ''
FROM orders WHERE status NOT IN ('created', 'pending_review', 'paid', 'cancelled');

INSERT INTO inventory_locks (order_id, sku, quantity, is_locked, locked_at, expires_at)
SELECT id, sku, quantity,
       status IN ('inventory_locked', 'processing') OR id % 10000 = 3,
       created_at + interval '2 minutes', created_at + interval '17 minutes'
FROM orders WHERE status NOT IN ('created', 'pending_review', 'paid');

ANALYZE;
