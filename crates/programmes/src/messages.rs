//! Plain-words messages in French, Arabic and English, from the Fluent files in `locales/` (built
//! into the binary). Output is plain text: Fluent's bidi isolation marks are turned off, since a
//! message ends up in JSON, an SMS or a PDF that does its own layout.

use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use unic_langid::LanguageIdentifier;

pub use sanad_domain::Lang;

/// The Fluent file of a language.
fn source(lang: Lang) -> &'static str {
    match lang {
        Lang::Fr => include_str!("../locales/fr.ftl"),
        Lang::Ar => include_str!("../locales/ar.ftl"),
        Lang::En => include_str!("../locales/en.ftl"),
    }
}

struct Catalogue {
    bundle: FluentBundle<FluentResource>,
    keys: Vec<String>,
}

fn catalogue(lang: Lang) -> &'static Catalogue {
    static CATALOGUES: OnceLock<[Catalogue; 3]> = OnceLock::new();
    let all = CATALOGUES.get_or_init(|| Lang::ALL.map(build));
    &all[lang as usize]
}

fn build(lang: Lang) -> Catalogue {
    // The files are part of this crate and checked by its tests; a syntax error in one still
    // yields the entries that parsed rather than no messages at all.
    let resource = match FluentResource::try_new(source(lang).to_owned()) {
        Ok(r) => r,
        Err((r, _)) => r,
    };
    let keys = resource
        .entries()
        .filter_map(|e| match e {
            fluent_syntax::ast::Entry::Message(m) => Some(m.id.name.to_owned()),
            _ => None,
        })
        .collect();
    let tag: LanguageIdentifier = lang.code().parse().unwrap_or_default();
    let mut bundle = FluentBundle::new_concurrent(vec![tag]);
    bundle.set_use_isolating(false);
    // Duplicate keys are reported by the tests; the first definition wins here.
    let _ = bundle.add_resource(resource);
    Catalogue { bundle, keys }
}

/// Whether `key` has a message in `lang`.
pub fn has_message(key: &str, lang: Lang) -> bool {
    catalogue(lang).bundle.has_message(key)
}

/// Every key defined for `lang`, in file order.
pub fn message_keys(lang: Lang) -> &'static [String] {
    &catalogue(lang).keys
}

/// The message `key` in `lang`, with `args` (a value that reads as a number is passed as one, so
/// plural forms follow it). A key with no message gives the key itself, which the tests refuse
/// for every key a shipped programme names.
pub fn message(key: &str, lang: Lang, args: &[(&str, String)]) -> String {
    let bundle = &catalogue(lang).bundle;
    let Some(pattern) = bundle.get_message(key).and_then(|m| m.value()) else {
        return key.to_owned();
    };
    let mut fluent_args = FluentArgs::new();
    for (name, value) in args {
        match value.parse::<f64>() {
            Ok(n) => fluent_args.set(*name, FluentValue::from(n)),
            Err(_) => fluent_args.set(*name, FluentValue::from(value.clone())),
        }
    }
    let mut errors = Vec::new();
    bundle
        .format_pattern(pattern, Some(&fluent_args), &mut errors)
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_the_same_keys() {
        let en = message_keys(Lang::En);
        assert!(en.len() > 10);
        for lang in Lang::ALL {
            let keys = message_keys(lang);
            for key in en {
                assert!(keys.contains(key), "{key} missing in {}", lang.code());
            }
            for key in keys {
                assert!(en.contains(key), "{key} in {} only", lang.code());
            }
            let mut sorted = keys.to_vec();
            sorted.sort();
            sorted.dedup();
            assert_eq!(
                sorted.len(),
                keys.len(),
                "a key defined twice in {}",
                lang.code()
            );
        }
    }

    #[test]
    fn the_files_parse_cleanly() {
        for lang in Lang::ALL {
            assert!(
                FluentResource::try_new(source(lang).to_owned()).is_ok(),
                "{} has a syntax error",
                lang.code()
            );
        }
    }

    #[test]
    fn a_refusal_reads_in_each_language() {
        assert_eq!(
            message("index-above-threshold", Lang::En, &[]),
            "Your household's index is above the programme's threshold."
        );
        assert!(message("index-above-threshold", Lang::Fr, &[]).starts_with("L'indice"));
        assert!(message("index-above-threshold", Lang::Ar, &[]).contains("عتبة"));
    }

    #[test]
    fn arabic_counts_use_its_plural_forms_without_isolation_marks() {
        let count = |n: u32| message("children-count", Lang::Ar, &[("count", n.to_string())]);
        assert_eq!(count(0), "لا أطفال");
        assert_eq!(count(1), "طفل واحد");
        assert_eq!(count(2), "طفلان");
        assert_eq!(count(3), "3 أطفال");
        assert_eq!(count(11), "11 طفلًا");
        assert_eq!(count(100), "100 طفل");
        assert!(!count(3).contains('\u{2068}'));
        assert_eq!(
            message("children-count", Lang::En, &[("count", "1".into())]),
            "one child"
        );
    }

    #[test]
    fn an_unknown_key_gives_itself() {
        assert_eq!(message("no-such-key", Lang::Fr, &[]), "no-such-key");
        assert!(!has_message("no-such-key", Lang::Fr));
        assert_eq!(Lang::parse("ar-MA"), Some(Lang::Ar));
        assert_eq!(Lang::parse("de"), None);
    }
}
