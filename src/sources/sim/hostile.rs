//! Hostile text seeded into every demo run, so the cockpit's sanitising is
//! exercised: terminal escapes, C1 controls, bidi overrides, huge fields,
//! wide characters.

/// Clears the screen if printed raw.
pub const CLEAR_SCREEN_SKU: &str = "SKU-TEA-0042\u{1b}[2J\u{1b}[H";
/// Sets the terminal title (OSC 0) if printed raw.
pub const OSC_TITLE: &str = "gateway said: \u{1b}]0;pwned by order data\u{7} retrying";
/// A C1 CSI (U+009B) that some terminals obey.
pub const C1_CSI: &str = "carrier note: \u{9b}31mRED\u{9b}0m tab:\there";
/// Right-to-left override: displays reversed.
pub const BIDI_SKU: &str = "SKU-\u{202e}1000-AET\u{202c}";
/// Wide (CJK) characters: two cells each.
pub const CJK_SKU: &str = "SKU-茶叶-乌龙-0007";
/// CJK event text, as the field notes are written.
pub const CJK_DETAIL: &str = "客户APP显示已签收，物流官网却显示运输中";
/// An order number with a bell and a newline in it.
pub const ODD_ORDER_NO_SUFFIX: &str = "\u{7}\nX";

/// A 100 KB field (a stack trace pasted into an event).
pub fn huge_detail() -> String {
    let line = "ERROR order_timeout at com.shop.erp.WorkOrderClient.send(WorkOrderClient.java:211) caused by javax.net.ssl.SSLHandshakeException: PKIX path validation failed: certificate expired; ";
    let mut s = String::with_capacity(100 * 1024 + line.len());
    while s.len() < 100 * 1024 {
        s.push_str(line);
    }
    s
}
