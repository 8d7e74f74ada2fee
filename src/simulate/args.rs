//! Parsing and bounds of `simulate`'s options: rate, duration, backdating
//! share and chaos profiles. Pure, so clap's value parsers and the tests
//! share one definition.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// Orders per second: a chaos drill, not a load test (2 cores are shared
/// with the database and the broker on a typical staging box).
pub const MIN_RATE: f64 = 0.1;
pub const MAX_RATE: f64 = 200.0;
/// A run stops by itself; nobody should find a forgotten simulator a day later.
pub const MIN_DURATION: Duration = Duration::from_secs(1);
pub const MAX_DURATION: Duration = Duration::from_secs(2 * 3600);

pub fn parse_rate(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a number of orders per second (try 5 or 0.5)"))?;
    if v.is_finite() && (MIN_RATE..=MAX_RATE).contains(&v) {
        Ok(v)
    } else {
        Err(format!(
            "rate {v} is out of range ({MIN_RATE} to {MAX_RATE} orders per second)"
        ))
    }
}

/// `90s`, `10m`, `1h`, `1h30m`; a bare number is seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let d = parse_span(s)?;
    if (MIN_DURATION..=MAX_DURATION).contains(&d) {
        Ok(d)
    } else {
        Err(format!(
            "duration {} is out of range ({} to {})",
            format_duration(d),
            format_duration(MIN_DURATION),
            format_duration(MAX_DURATION)
        ))
    }
}

/// `90s`, `10m`, `1h30m`, `7d`: a span of time of any length.
pub fn parse_span(s: &str) -> Result<Duration, String> {
    let text = s.trim();
    if text.is_empty() {
        return Err("empty duration (try 90s, 10m or 1h)".into());
    }
    let mut total = 0u64;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(format!("{text:?} is not a duration (try 90s, 10m or 1h)"));
        }
        let n: u64 = rest[..digits]
            .parse()
            .map_err(|_| format!("{text:?}: number too large"))?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let secs = match unit {
            "" | "s" => 1,
            "m" | "min" => 60,
            "h" => 3600,
            "d" => 86_400,
            other => {
                return Err(format!(
                    "{text:?}: unknown unit {other:?} (use s, m, h or d: 90s, 10m, 1h, 7d)"
                ));
            }
        };
        total = n
            .checked_mul(secs)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| format!("{text:?}: number too large"))?;
    }
    Ok(Duration::from_secs(total))
}

/// `5m`, `1h30m`, `45s`: the inverse of [`parse_duration`] for whole seconds.
pub fn format_duration(d: Duration) -> String {
    let s = d.as_secs();
    let (h, m, sec) = (s / 3600, (s % 3600) / 60, s % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if sec > 0 || out.is_empty() {
        out.push_str(&format!("{sec}s"));
    }
    out
}

/// A percentage 0-100, returned as a share 0.0-1.0.
pub fn parse_percent(s: &str) -> Result<f64, String> {
    let t = s.trim().trim_end_matches('%');
    let v: f64 = t
        .parse()
        .map_err(|_| format!("{s:?} is not a percentage (0 to 100)"))?;
    if v.is_finite() && (0.0..=100.0).contains(&v) {
        Ok(v / 100.0)
    } else {
        Err(format!("{v} is out of range (0 to 100 percent)"))
    }
}

/// One chaos profile, as named on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chaos {
    /// A consumer is stopped for a while (default: logistics.updates).
    ConsumerDown(&'static str),
    Bank500,
    Deadlock,
    ErpCertExpired,
    RiskFalsePositive,
}

pub const CHAOS_NAMES: [&str; 5] = [
    "consumer-down",
    "bank-500",
    "deadlock",
    "erp-cert-expired",
    "risk-false-positive",
];

/// The queue `consumer-down` stops unless one is named.
pub const DEFAULT_DOWN_QUEUE: &str = "logistics.updates";

impl FromStr for Chaos {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (name, arg) = match s.split_once(':') {
            Some((n, a)) => (n, Some(a)),
            None => (s, None),
        };
        let chaos = match name {
            "consumer-down" => {
                let queue = match arg {
                    None => DEFAULT_DOWN_QUEUE,
                    Some(q) => crate::config::REFERENCE_QUEUES
                        .into_iter()
                        .find(|r| *r == q)
                        .ok_or_else(|| {
                            format!(
                                "consumer-down:{q}: no such queue (one of {})",
                                crate::config::REFERENCE_QUEUES.join(", ")
                            )
                        })?,
                };
                return Ok(Chaos::ConsumerDown(queue));
            }
            "bank-500" => Chaos::Bank500,
            "deadlock" => Chaos::Deadlock,
            "erp-cert-expired" => Chaos::ErpCertExpired,
            "risk-false-positive" => Chaos::RiskFalsePositive,
            other => {
                return Err(format!(
                    "unknown chaos profile {other:?} (known: {}; consumer-down:QUEUE names the consumer)",
                    CHAOS_NAMES.join(", ")
                ));
            }
        };
        match arg {
            None => Ok(chaos),
            Some(_) => Err(format!("chaos profile {name} takes no argument")),
        }
    }
}

/// The chaos profiles of one run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChaosSet {
    /// The queue whose consumers are stopped for a while.
    pub consumer_down: Option<&'static str>,
    pub bank_500: bool,
    pub deadlock: bool,
    pub erp_cert_expired: bool,
    pub risk_false_positive: bool,
}

impl ChaosSet {
    pub fn from_list(list: &[Chaos]) -> Self {
        let mut set = ChaosSet::default();
        for c in list {
            match c {
                Chaos::ConsumerDown(q) => set.consumer_down = Some(q),
                Chaos::Bank500 => set.bank_500 = true,
                Chaos::Deadlock => set.deadlock = true,
                Chaos::ErpCertExpired => set.erp_cert_expired = true,
                Chaos::RiskFalsePositive => set.risk_false_positive = true,
            }
        }
        set
    }

    pub fn is_empty(&self) -> bool {
        *self == ChaosSet::default()
    }
}

impl fmt::Display for ChaosSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names = Vec::new();
        if let Some(q) = self.consumer_down {
            names.push(if q == DEFAULT_DOWN_QUEUE {
                "consumer-down".to_string()
            } else {
                format!("consumer-down:{q}")
            });
        }
        for (on, name) in [
            (self.bank_500, "bank-500"),
            (self.deadlock, "deadlock"),
            (self.erp_cert_expired, "erp-cert-expired"),
            (self.risk_false_positive, "risk-false-positive"),
        ] {
            if on {
                names.push(name.to_string());
            }
        }
        if names.is_empty() {
            f.write_str("none")
        } else {
            f.write_str(&names.join(","))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units_and_bounds() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("45"), Ok(Duration::from_secs(45)));
        assert!(parse_duration("0s").unwrap_err().contains("out of range"));
        assert!(parse_duration("3h").unwrap_err().contains("out of range"));
        assert!(parse_duration("10x").unwrap_err().contains("unknown unit"));
        assert!(parse_duration("m").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("99999999999999999999s").is_err());
        assert_eq!(format_duration(Duration::from_secs(5400)), "1h30m");
        assert_eq!(format_duration(Duration::from_secs(300)), "5m");
    }

    #[test]
    fn rates_and_percentages_are_bounded() {
        assert_eq!(parse_rate("5"), Ok(5.0));
        assert!(parse_rate("0").is_err());
        assert!(parse_rate("201").unwrap_err().contains("out of range"));
        assert!(parse_rate("NaN").is_err());
        assert_eq!(parse_percent("30"), Ok(0.3));
        assert_eq!(parse_percent("100%"), Ok(1.0));
        assert!(parse_percent("101").is_err());
    }

    #[test]
    fn chaos_profiles_parse_and_unknown_ones_are_named() {
        assert_eq!(
            "consumer-down".parse(),
            Ok(Chaos::ConsumerDown("logistics.updates"))
        );
        assert_eq!(
            "consumer-down:settlement".parse(),
            Ok(Chaos::ConsumerDown("settlement"))
        );
        assert_eq!("bank-500".parse(), Ok(Chaos::Bank500));
        let e = "bank-404".parse::<Chaos>().unwrap_err();
        assert!(e.contains("unknown chaos profile \"bank-404\""), "{e}");
        assert!(e.contains("erp-cert-expired"), "{e}");
        assert!("consumer-down:nope".parse::<Chaos>().is_err());
        assert!("deadlock:x".parse::<Chaos>().is_err());
        let set = ChaosSet::from_list(&[Chaos::Bank500, Chaos::ConsumerDown("settlement")]);
        assert_eq!(set.to_string(), "consumer-down:settlement,bank-500");
        assert_eq!(ChaosSet::default().to_string(), "none");
    }
}
