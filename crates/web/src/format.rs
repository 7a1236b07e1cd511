//! Numbers, amounts and dates as each language writes them in Morocco: French groups thousands
//! with a narrow no-break space and writes "1 234,50 MAD"; Moroccan Arabic uses Western digits,
//! groups with a dot and writes "1.234,50 درهم" with the Moroccan month names (يناير … دجنبر);
//! English writes "MAD 1,234.50".

use time::{Date, OffsetDateTime};

use crate::i18n::Lang;

const NARROW_NBSP: char = '\u{202F}';

fn separators(lang: Lang) -> (char, char) {
    // (thousands, decimal)
    match lang {
        Lang::Fr => (NARROW_NBSP, ','),
        Lang::Ar => ('.', ','),
        Lang::En => (',', '.'),
    }
}

fn group(digits: &str, sep: char) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 * 3);
    let len = digits.len();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (len - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

/// A whole number with the language's thousands separator.
pub fn number(lang: Lang, n: i64) -> String {
    let (sep, _) = separators(lang);
    let digits = n.unsigned_abs().to_string();
    let grouped = group(&digits, sep);
    if n < 0 {
        format!("-{grouped}")
    } else {
        grouped
    }
}

/// A decimal number with `places` decimals (rounded half away from zero).
pub fn decimal(lang: Lang, x: f64, places: usize) -> String {
    if !x.is_finite() {
        return "—".into();
    }
    let (sep, dec) = separators(lang);
    let text = format!("{:.*}", places, x.abs());
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let mut out = String::new();
    if x < 0.0 && text.chars().any(|c| c.is_ascii_digit() && c != '0') {
        out.push('-');
    }
    out.push_str(&group(int, sep));
    if !frac.is_empty() {
        out.push(dec);
        out.push_str(frac);
    }
    out
}

/// An amount in dirhams, given in centimes.
pub fn amount(lang: Lang, centimes: i64) -> String {
    let (sep, dec) = separators(lang);
    let whole = group(&(centimes.unsigned_abs() / 100).to_string(), sep);
    let cents = centimes.unsigned_abs() % 100;
    let sign = if centimes < 0 { "-" } else { "" };
    match lang {
        Lang::Fr => format!("{sign}{whole}{dec}{cents:02}\u{a0}MAD"),
        Lang::Ar => format!("{sign}{whole}{dec}{cents:02}\u{a0}درهم"),
        Lang::En => format!("{sign}MAD\u{a0}{whole}{dec}{cents:02}"),
    }
}

/// A share between 0 and 1 as a percentage with one decimal.
pub fn percent(lang: Lang, share: f64) -> String {
    let text = decimal(lang, share * 100.0, 1);
    match lang {
        Lang::Fr => format!("{text}\u{a0}%"),
        Lang::Ar | Lang::En => format!("{text}%"),
    }
}

fn month_name(lang: Lang, month: time::Month) -> &'static str {
    let i = month as usize - 1;
    const FR: [&str; 12] = [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ];
    const EN: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    // The month names used in Morocco.
    const AR: [&str; 12] = [
        "يناير",
        "فبراير",
        "مارس",
        "أبريل",
        "ماي",
        "يونيو",
        "يوليوز",
        "غشت",
        "شتنبر",
        "أكتوبر",
        "نونبر",
        "دجنبر",
    ];
    match lang {
        Lang::Fr => FR[i],
        Lang::En => EN[i],
        Lang::Ar => AR[i],
    }
}

/// "2 décembre 2026", "2 December 2026", "2 دجنبر 2026".
pub fn date(lang: Lang, date: Date) -> String {
    format!(
        "{} {} {}",
        date.day(),
        month_name(lang, date.month()),
        date.year()
    )
}

/// "décembre 2026": the period of a monthly cycle.
pub fn month_year(lang: Lang, date: Date) -> String {
    format!("{} {}", month_name(lang, date.month()), date.year())
}

/// A date and a time of day (UTC, to the minute).
pub fn datetime(lang: Lang, at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    let clock = format!("{:02}:{:02}", at.hour(), at.minute());
    match lang {
        Lang::Fr => format!("{} à {clock} UTC", date(lang, at.date())),
        Lang::En => format!("{}, {clock} UTC", date(lang, at.date())),
        Lang::Ar => format!("{} على {clock} UTC", date(lang, at.date())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    #[test]
    fn numbers_per_language() {
        assert_eq!(number(Lang::Fr, 1_234_567), "1\u{202F}234\u{202F}567");
        assert_eq!(number(Lang::En, 1_234_567), "1,234,567");
        assert_eq!(number(Lang::Ar, 1_234_567), "1.234.567");
        assert_eq!(number(Lang::En, 999), "999");
        assert_eq!(number(Lang::En, -1000), "-1,000");
        assert_eq!(decimal(Lang::Fr, 9.3249, 2), "9,32");
        assert_eq!(decimal(Lang::En, -0.004, 2), "0.00");
        assert_eq!(decimal(Lang::En, 12345.5, 1), "12,345.5");
    }

    #[test]
    fn amounts_in_dirhams() {
        assert_eq!(amount(Lang::Fr, 123_450), "1\u{202F}234,50\u{a0}MAD");
        assert_eq!(amount(Lang::En, 50_000), "MAD\u{a0}500.00");
        assert_eq!(amount(Lang::Ar, 105), "1,05\u{a0}درهم");
    }

    #[test]
    fn dates_with_moroccan_months() {
        let d = date!(2026 - 08 - 02);
        assert_eq!(date(Lang::Fr, d), "2 août 2026");
        assert_eq!(date(Lang::En, d), "2 August 2026");
        assert_eq!(date(Lang::Ar, d), "2 غشت 2026");
        assert_eq!(month_year(Lang::Ar, date!(2026 - 12 - 01)), "دجنبر 2026");
    }

    proptest! {
        #[test]
        fn grouping_keeps_the_digits(n in any::<i64>()) {
            for lang in Lang::ALL {
                let text = number(lang, n);
                let digits: String = text.chars().filter(|c| c.is_ascii_digit() || *c == '-').collect();
                prop_assert_eq!(digits, n.to_string());
            }
        }
    }
}
