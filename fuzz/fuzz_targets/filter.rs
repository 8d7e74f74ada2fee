//! What the operator types at `/` and what a config's log alert holds: the
//! filter and the alert expression parsers never panic, and whatever parses
//! can be matched against hostile rows and lines.
#![no_main]

use libfuzzer_sys::fuzz_target;
use orderdeck::alerts::expr::Expr;
use orderdeck::state::filter::Filter;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(f) = Filter::parse(&text) {
        for order in orderdeck::fixtures::stuck_orders(3) {
            let _ = f.matches(&order);
        }
    }
    if let Ok(e) = Expr::parse(&text) {
        let _ = e.matches(&text);
        let _ = e.lowercased().matches("ERROR order_timeout \u{1b}[2J");
    }
});
