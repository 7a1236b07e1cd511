//! The wording holds together: every file parses, no key is defined twice, the three languages
//! define the same keys, every key a template or a page handler names exists, and no template
//! shows words that do not come from the wording files.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use sanad_web::i18n::{self, FILES, Lang};

fn files_under(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(&path, ext, out);
        } else if path.extension().is_some_and(|e| e == ext) {
            out.push(path);
        }
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_files_load_without_a_problem() {
    assert_eq!(i18n::problems(), Vec::<String>::new());
}

#[test]
fn the_three_languages_define_the_same_keys() {
    let areas: BTreeSet<&str> = FILES
        .iter()
        .map(|f| f.name.split_once('/').map(|(_, a)| a).unwrap_or(f.name))
        .collect();
    for area in areas {
        let keys = |lang: Lang| -> BTreeSet<String> {
            FILES
                .iter()
                .filter(|f| f.lang == lang && f.name.ends_with(&format!("/{area}")))
                .flat_map(|f| i18n::keys_of(f.text))
                .collect()
        };
        let fr = keys(Lang::Fr);
        for lang in [Lang::Ar, Lang::En] {
            let other = keys(lang);
            let missing: Vec<_> = fr.difference(&other).collect();
            let extra: Vec<_> = other.difference(&fr).collect();
            assert!(
                missing.is_empty() && extra.is_empty(),
                "{area}: {} lacks {missing:?} and has {extra:?} that French lacks",
                lang.code()
            );
        }
    }
}

/// Keys named as `t("key")`, `t1("key", …)`, `tn("key", …)` … in a source text.
fn keys_named(text: &str) -> Vec<String> {
    let mut keys = Vec::new();
    for call in [".t(\"", ".t1(\"", ".t2(\"", ".tn(\"", ".tn1(\"", "key: \""] {
        let mut rest = text;
        while let Some(at) = rest.find(call) {
            rest = &rest[at + call.len()..];
            let key: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            if rest[key.len()..].starts_with('"') && key.contains('-') || key == "app-name" {
                keys.push(key);
            }
        }
    }
    keys
}

#[test]
fn every_key_named_exists_in_every_language() {
    let mut sources = Vec::new();
    files_under(&root().join("templates"), "html", &mut sources);
    files_under(&root().join("src"), "rs", &mut sources);
    files_under(&root().join("../http/src/pages"), "rs", &mut sources);
    let mut named = 0;
    let mut missing = Vec::new();
    for path in &sources {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        for key in keys_named(&text) {
            named += 1;
            for lang in Lang::ALL {
                if !i18n::has(lang, &key) {
                    missing.push(format!(
                        "{} names {key}, missing in {}",
                        path.display(),
                        lang.code()
                    ));
                }
            }
        }
    }
    assert!(named > 10, "the scan found the keys ({named})");
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

/// The text a reader would see in a template once its expressions, statements, comments and tags
/// are taken out, plus the values of the attributes a reader or a screen reader meets.
fn literal_text(template: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut text = String::new();
    let mut rest = template;
    while !rest.is_empty() {
        let skip = [
            ("{{", "}}"),
            ("{%", "%}"),
            ("{#", "#}"),
            ("<script", "</script>"),
            ("<style", "</style>"),
        ]
        .iter()
        .find(|(open, _)| rest.starts_with(open));
        if let Some((open, close)) = skip {
            let end = rest[open.len()..]
                .find(close)
                .map(|i| i + open.len() + close.len())
                .unwrap_or(rest.len());
            rest = &rest[end..];
            text.push(' ');
            continue;
        }
        if rest.starts_with('<') {
            let end = rest.find('>').map(|i| i + 1).unwrap_or(rest.len());
            let tag = &rest[..end];
            for attr in [
                "aria-label=\"",
                "title=\"",
                "placeholder=\"",
                "alt=\"",
                "data-confirm=\"",
            ] {
                if let Some(at) = tag.find(attr) {
                    let value = &tag[at + attr.len()..];
                    let value = &value[..value.find('"').unwrap_or(value.len())];
                    if !value.contains("{{") {
                        found.push(value.to_string());
                    }
                }
            }
            rest = &rest[end..];
            text.push(' ');
            continue;
        }
        if rest.starts_with('&') {
            let end = rest.find(';').map(|i| i + 1).unwrap_or(1);
            rest = &rest[end..];
            continue;
        }
        let c = rest.chars().next().unwrap_or(' ');
        text.push(c);
        rest = &rest[c.len_utf8()..];
    }
    found.extend(text.split_whitespace().map(str::to_string));
    found
        .into_iter()
        .filter(|w| w.chars().any(char::is_alphabetic))
        .collect()
}

#[test]
fn templates_show_no_word_that_is_not_translated() {
    let mut templates = Vec::new();
    files_under(&root().join("templates"), "html", &mut templates);
    assert!(!templates.is_empty());
    let mut bad = Vec::new();
    for path in &templates {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        for word in literal_text(&text) {
            // The document type is not reader text.
            if word.eq_ignore_ascii_case("html") {
                continue;
            }
            bad.push(format!("{}: {word:?}", path.display()));
        }
    }
    assert!(
        bad.is_empty(),
        "words outside the wording files:\n{}",
        bad.join("\n")
    );
}

#[test]
fn the_scan_sees_an_untranslated_word() {
    assert_eq!(
        literal_text("<p>{{ t.t(\"a-b\") }} Bonjour</p>"),
        vec!["Bonjour"]
    );
    assert_eq!(
        literal_text("<input aria-label=\"Search\">"),
        vec!["Search"]
    );
    assert!(literal_text("<p>{{ x }} · 12</p>{# note #}").is_empty());
}
