//! The shop front: who buys what, and when each order's history happens.
//! Pure and seeded; writing the order is [`Shop::create_order`](super::shop::Shop::create_order).

use super::args::ChaosSet;
use crate::sources::sim::catalog::{self, HOT_SKU, Product};
use chrono::{DateTime, Duration, Utc};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Share of orders for the hot SKU in normal traffic, and during the
/// `deadlock` drill (a flash sale: many buyers grab the same SKU at once).
const HOT_SHARE: f64 = 0.05;
const HOT_SHARE_FLASH_SALE: f64 = 0.35;
/// Buyers whose IP changes between checkout and payment (mobile networks);
/// `risk-false-positive` makes risk control hold them.
pub const IP_CHANGE_SHARE: f64 = 0.15;
/// Payments the buyer's bank declines, chaos or not.
const DECLINED_SHARE: f64 = 0.02;
/// A backdated order's history lies this far in the past: past every
/// built-in threshold from 15 min up to the 24 h zombie rule for about half.
pub const BACKDATE_MIN_SECS: i64 = 3600;
pub const BACKDATE_MAX_SECS: i64 = 50 * 3600;

pub const GATEWAYS: [&str; 3] = ["alipay", "wechat_pay", "unionpay"];

/// One order about to be placed.
#[derive(Debug, Clone, PartialEq)]
pub struct NewOrder {
    pub order_no: String,
    pub buyer_id: i64,
    pub supplier_id: i64,
    pub sku: String,
    pub quantity: i64,
    pub amount_cents: i64,
    pub backdate_secs: i64,
    pub gateway: String,
    pub checkout_ip: String,
    pub payment_ip: String,
    /// The bank will accept the payment.
    pub paid: bool,
}

impl NewOrder {
    /// "Now" on this order's clock.
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() - Duration::seconds(self.backdate_secs)
    }
}

pub struct Front {
    rng: ChaCha8Rng,
    products: Vec<Product>,
    hot_share: f64,
    backdate_share: f64,
    /// Keeps this run's order numbers apart from earlier runs'.
    tag: String,
    seq: u64,
}

impl Front {
    /// `run_id` distinguishes runs with the same seed (e.g. the start time).
    pub fn new(seed: u64, backdate_share: f64, chaos: &ChaosSet, run_id: u64) -> Front {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        // The same seed gives the same catalogue as the demo's.
        let products = catalog::products(&mut rng);
        Front {
            rng,
            products,
            hot_share: if chaos.deadlock {
                HOT_SHARE_FLASH_SALE
            } else {
                HOT_SHARE
            },
            backdate_share: backdate_share.clamp(0.0, 1.0),
            tag: base36(run_id ^ seed.rotate_left(17), 4),
            seq: 0,
        }
    }

    pub fn products(&self) -> &[Product] {
        &self.products
    }

    pub fn next_order(&mut self) -> NewOrder {
        self.seq += 1;
        let product = if self.products[0].sku == HOT_SKU && self.rng.random_bool(self.hot_share) {
            self.products[0].clone()
        } else {
            let i = self.rng.random_range(1..self.products.len().max(2));
            self.products[i.min(self.products.len() - 1)].clone()
        };
        let quantity = if self.rng.random_bool(0.85) {
            1
        } else {
            self.rng.random_range(2..=3)
        };
        let backdate_secs =
            if self.backdate_share > 0.0 && self.rng.random_bool(self.backdate_share) {
                self.rng.random_range(BACKDATE_MIN_SECS..=BACKDATE_MAX_SECS)
            } else {
                0
            };
        let created = Utc::now() - Duration::seconds(backdate_secs);
        let checkout_ip = catalog::ip(&mut self.rng);
        let payment_ip = if self.rng.random_bool(IP_CHANGE_SHARE) {
            catalog::ip(&mut self.rng)
        } else {
            checkout_ip.clone()
        };
        NewOrder {
            order_no: format!(
                "CO{}-{}-{:06}",
                created.format("%Y%m%d"),
                self.tag,
                self.seq
            ),
            buyer_id: catalog::buyer_id(&mut self.rng),
            supplier_id: product.supplier_id,
            sku: product.sku,
            quantity,
            amount_cents: product.price_cents * quantity,
            backdate_secs,
            gateway: GATEWAYS[self.rng.random_range(0..GATEWAYS.len())].to_string(),
            checkout_ip,
            payment_ip,
            paid: !self.rng.random_bool(DECLINED_SHARE),
        }
    }
}

/// `n` base-36 digits of `v` (upper case), for short run tags.
fn base36(mut v: u64, n: usize) -> String {
    const DIGITS: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut out = vec![b'0'; n];
    for slot in out.iter_mut().rev() {
        *slot = DIGITS[(v % 36) as usize];
        v /= 36;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_are_seeded_unique_and_backdated_as_asked() {
        let mut a = Front::new(7, 0.5, &ChaosSet::default(), 1);
        let mut b = Front::new(7, 0.5, &ChaosSet::default(), 1);
        let xs: Vec<NewOrder> = (0..400).map(|_| a.next_order()).collect();
        let ys: Vec<NewOrder> = (0..400).map(|_| b.next_order()).collect();
        let strip = |o: &NewOrder| (o.sku.clone(), o.quantity, o.backdate_secs, o.paid);
        assert_eq!(
            xs.iter().map(strip).collect::<Vec<_>>(),
            ys.iter().map(strip).collect::<Vec<_>>()
        );
        let mut nos: Vec<&str> = xs.iter().map(|o| o.order_no.as_str()).collect();
        nos.sort();
        nos.dedup();
        assert_eq!(nos.len(), 400);
        let backdated = xs.iter().filter(|o| o.backdate_secs > 0).count();
        assert!((120..280).contains(&backdated), "{backdated}");
        assert!(xs.iter().all(|o| o.backdate_secs == 0
            || (BACKDATE_MIN_SECS..=BACKDATE_MAX_SECS).contains(&o.backdate_secs)));
        assert!(xs.iter().any(|o| o.checkout_ip != o.payment_ip));
        let other_run = Front::new(7, 0.5, &ChaosSet::default(), 2).next_order();
        assert_ne!(other_run.order_no, xs[0].order_no);
    }

    #[test]
    fn a_flash_sale_crowds_the_hot_sku() {
        let chaos = ChaosSet {
            deadlock: true,
            ..ChaosSet::default()
        };
        let mut f = Front::new(1, 0.0, &chaos, 1);
        let hot = (0..1000).filter(|_| f.next_order().sku == HOT_SKU).count();
        assert!((250..450).contains(&hot), "{hot}");
        assert_eq!(base36(35, 2), "0Z");
    }
}
