//! WeChat subscription messages (一次性订阅消息, ../shared/reference/payments.md §3.4): which
//! alarm facts fill which template keys, and WeChat's value rules by key prefix, checked
//! before sending so a message is never refused with 47003.

use super::Invalid;

/// A fact about an alarm that a template key can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The meter's shop number or address, or the account number (表计/户号).
    Subject,
    /// What happened, e.g. "余额不足1" (告警).
    Alarm,
    /// When it was raised, local time (时间).
    Time,
    /// The account's balance (余额).
    Balance,
}

impl Source {
    pub fn code(self) -> &'static str {
        match self {
            Source::Subject => "SUBJECT",
            Source::Alarm => "ALARM",
            Source::Time => "TIME",
            Source::Balance => "BALANCE",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        [Source::Subject, Source::Alarm, Source::Time, Source::Balance].into_iter().find(|s| s.code() == code)
    }
}

/// The key prefixes WeChat knows, with the longest value each allows (in characters).
const PREFIXES: &[(&str, usize)] = &[
    ("thing", 20),
    ("number", 32),
    ("letter", 32),
    ("symbol", 5),
    ("character_string", 32),
    ("time", 40),
    ("date", 40),
    ("amount", 12),
    ("phone_number", 17),
    ("car_number", 8),
    ("name", 10),
    ("phrase", 5),
];

/// The prefix of a template key such as `thing1` or `character_string12`.
fn prefix(key: &str) -> Option<(&'static str, usize)> {
    let stem = key.trim_end_matches(|c: char| c.is_ascii_digit());
    if stem.len() == key.len() {
        return None;
    }
    PREFIXES.iter().find(|(p, _)| *p == stem).copied()
}

/// Checks a template field: a known key and a source that key can carry.
pub fn check_field(key: &str, source: Source) -> Result<(), Invalid> {
    let (p, _) =
        prefix(key).ok_or_else(|| Invalid::new("fields", format!("{key}: not a WeChat template key (thing1, amount2, time3, …)")))?;
    let fits = match source {
        Source::Subject | Source::Alarm => matches!(p, "thing" | "character_string" | "phrase" | "letter"),
        Source::Time => matches!(p, "time" | "date"),
        Source::Balance => matches!(p, "amount" | "number" | "thing"),
    };
    if fits { Ok(()) } else { Err(Invalid::new("fields", format!("{key} cannot show {}", source.code()))) }
}

/// A value fitted to its key's rule: `thing` and the other texts are cut to their length,
/// `character_string` keeps only letters, digits and symbols, `amount` gets its currency
/// sign; a value that cannot fit is an error.
pub fn fit(key: &str, raw: &str) -> Result<String, String> {
    let (p, max) = prefix(key).ok_or_else(|| format!("{key}: unknown key"))?;
    let value: String = match p {
        "character_string" => raw.chars().filter(|c| c.is_ascii_alphanumeric() || c.is_ascii_punctuation()).collect(),
        "number" => raw.trim_start_matches('¥').to_string(),
        "amount" if !raw.starts_with('¥') => format!("¥{raw}"),
        _ => raw.to_string(),
    };
    if value.is_empty() {
        return Err(format!("{key}: nothing to show"));
    }
    if matches!(p, "amount" | "number") && value.trim_start_matches('¥').trim_start_matches('-').parse::<rust_decimal::Decimal>().is_err()
    {
        return Err(format!("{key}: {value} is not a number"));
    }
    Ok(value.chars().take(max).collect())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn keys_sources_and_values_follow_wechat_rules() {
        assert!(check_field("thing1", Source::Subject).is_ok());
        assert!(check_field("amount2", Source::Balance).is_ok());
        assert!(check_field("time3", Source::Time).is_ok());
        assert!(check_field("amount2", Source::Time).is_err());
        assert!(check_field("thing", Source::Subject).is_err(), "a key has a number");
        assert!(check_field("colour1", Source::Subject).is_err());
        assert_eq!(fit("thing1", "一二三四五六七八九十一二三四五六七八九十多余").unwrap().chars().count(), 20);
        assert_eq!(fit("amount2", "12.50").unwrap(), "¥12.50");
        assert_eq!(fit("amount2", "-3.00").unwrap(), "¥-3.00");
        assert!(fit("amount2", "lots").is_err());
        assert_eq!(fit("character_string4", "A-12 号").unwrap(), "A-12");
    }
}
