//! The simulated shop's catalogue: SKUs, suppliers, prices, order numbers.

use chrono::{DateTime, Utc};
use rand::{Rng, RngExt};

/// One consigned product.
#[derive(Debug, Clone)]
pub struct Product {
    pub sku: String,
    pub supplier_id: i64,
    pub price_cents: i64,
    /// Starting stock.
    pub on_hand: i64,
}

/// The limited-edition tea every buyer wants during a promotion: low stock,
/// many concurrent buyers, lock conflicts.
pub const HOT_SKU: &str = "SKU-TEA-0042";

const CATEGORIES: &[(&str, i64, i64)] = &[
    ("TEA", 3_800, 68_800),
    ("SLK", 12_000, 158_000),
    ("POR", 8_800, 288_000),
    ("BAG", 19_900, 899_000),
    ("WAT", 59_900, 2_499_000),
    ("HON", 2_900, 19_900),
    ("JAD", 29_900, 1_280_000),
    ("CAM", 129_900, 899_900),
];

/// Builds the catalogue: 40 products from 12 suppliers, plus the hot SKU.
pub fn products(rng: &mut impl Rng) -> Vec<Product> {
    let mut out = vec![Product {
        sku: HOT_SKU.to_string(),
        supplier_id: 1001,
        price_cents: 12_800,
        on_hand: 60,
    }];
    for i in 0..40 {
        let (cat, lo, hi) = CATEGORIES[i % CATEGORIES.len()];
        let number = rng.random_range(1..=9_999);
        let sku = format!("SKU-{cat}-{number:04}");
        if out.iter().any(|p| p.sku == sku) {
            continue;
        }
        // Prices end in 00 or 90, like real ones.
        let raw = rng.random_range(lo..=hi);
        let price_cents = (raw / 100) * 100 + if rng.random_bool(0.5) { 0 } else { 90 };
        out.push(Product {
            sku,
            supplier_id: 1001 + rng.random_range(0..12),
            price_cents,
            on_hand: rng.random_range(80..=600),
        });
    }
    out
}

/// `CO20261125-000123`: the day the order was created and its id.
pub fn order_no(created: DateTime<Utc>, id: i64) -> String {
    format!("CO{}-{id:06}", created.format("%Y%m%d"))
}

pub fn buyer_id(rng: &mut impl Rng) -> i64 {
    100_000 + rng.random_range(0..60_000)
}

/// A carrier tracking number such as `SF1402236625871`.
pub fn tracking_no(rng: &mut impl Rng) -> String {
    const CARRIERS: &[&str] = &["SF", "YT", "ZTO", "JD", "EMS"];
    let c = CARRIERS[rng.random_range(0..CARRIERS.len())];
    format!("{c}{:013}", rng.random_range(0..10_000_000_000_000u64))
}

pub fn work_order_no(id: i64) -> String {
    format!("WO-{id:08}")
}

/// A buyer's IP address, for risk-control stories.
pub fn ip(rng: &mut impl Rng) -> String {
    const PREFIXES: &[&str] = &["114.93", "183.14", "202.96", "185.220", "45.83", "36.110"];
    let p = PREFIXES[rng.random_range(0..PREFIXES.len())];
    format!(
        "{p}.{}.{}",
        rng.random_range(1..255),
        rng.random_range(1..255)
    )
}

/// The supplier system's note on a settlement: which payout batch paid it.
pub fn payout_batch(supplier_id: i64, at: chrono::DateTime<chrono::Utc>) -> String {
    format!(
        "supplier {supplier_id} payout batch PB-{}",
        at.format("%Y%m%d%H")
    )
}

pub fn yuan(cents: i64) -> String {
    format!("¥{}.{:02}", cents / 100, cents % 100)
}
