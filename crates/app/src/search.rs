//! Finding a person by name whatever the spelling and the script. Beside the folded names, the
//! registry stores two keys of every Latin name word, after a `|`: its phonetic key (`p…`, the
//! deduplication engine's key for Maghrebi transliteration: Lahcen and Lahsen, Youssef and Youcef
//! give the same) and its consonant skeleton (`s…`, in the alphabet Arabic script is reduced to:
//! Youssef and يوسف both give `ysf`). A Latin word of a search matches the folded names or the
//! phonetic keys; an Arabic word matches the folded names (Arabic names when recorded) or the
//! skeletons of the Latin names (records written in Latin letters only). Every person has Latin
//! names, so a Latin search needs no skeleton, which would join Mohamed and Mahmoud.

use sanad_dedup::normalize::{NamePart, arabic_skeleton, phonetic_key, skeleton};
use sanad_domain::household::{PersonData, fold_for_search};

/// Separates the folded names from their keys in the stored value (never produced by folding).
pub const SOUNDS_MARK: char = '|';

/// Keys shorter than this match too many names to help.
const MIN_KEY: usize = 3;

fn is_arabic(word: &str) -> bool {
    word.chars().any(|c| ('\u{0600}'..='\u{06FF}').contains(&c))
}

fn long(key: String) -> Option<String> {
    (key.chars().count() >= MIN_KEY).then_some(key)
}

/// The key a search word is matched by, with its prefix in the stored value (`p…` for a Latin
/// word's phonetic key, `s…` for an Arabic word's skeleton).
pub fn sound_of(word: &str) -> Option<String> {
    if is_arabic(word) {
        long(arabic_skeleton(word)).map(|k| format!("s{k}"))
    } else {
        long(phonetic_key(word, NamePart::Given)).map(|k| format!("p{k}"))
    }
}

/// What the registry stores to search a person by: the folded names, then the keys of the Latin
/// name words.
pub fn stored_search_key(d: &PersonData) -> String {
    let folded = d.search_key();
    let latin = fold_for_search(&format!("{} {}", d.first_name, d.last_name));
    let mut keys: Vec<String> = Vec::new();
    for word in latin.split(' ').filter(|w| !w.is_empty() && !is_arabic(w)) {
        for key in [
            long(phonetic_key(word, NamePart::Given)).map(|k| format!("p{k}")),
            long(skeleton(word, NamePart::Given)).map(|k| format!("s{k}")),
        ]
        .into_iter()
        .flatten()
        {
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
    }
    if keys.is_empty() {
        folded
    } else {
        format!("{folded}{SOUNDS_MARK} {}", keys.join(" "))
    }
}

/// The words of a search and the key of each.
pub fn query_words(text: &str) -> Vec<(String, Option<String>)> {
    fold_for_search(text)
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(|w| (w.to_string(), sound_of(w)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(first: &str, last: &str) -> String {
        let mut d: PersonData = serde_json::from_value(serde_json::json!({
            "relation": "head", "first_name": first, "last_name": last, "sex": "M",
            "birth_date": "1980-01-01", "schooling": "none", "occupation": "employed"
        }))
        .unwrap();
        d.first_name_ar = None;
        stored_search_key(&d)
    }

    fn finds(query: &str, first: &str, last: &str) -> bool {
        let key = stored(first, last);
        let (names, keys) = key.split_once(SOUNDS_MARK).unwrap_or((key.as_str(), ""));
        query_words(query).iter().all(|(w, sound)| {
            names.contains(w.as_str()) || sound.as_ref().is_some_and(|s| keys.contains(s.as_str()))
        })
    }

    #[test]
    fn a_name_is_found_by_its_other_spellings_and_from_arabic_letters() {
        assert!(finds("Lahsen", "Lahcen", "Ait Ouham"));
        assert!(finds("Youcef", "Youssef", "Amrani"));
        assert!(
            finds("يوسف", "Youssef", "Amrani"),
            "Arabic letters, Latin record"
        );
        assert!(finds("محمد", "Mohammed", "Alaoui"));
        assert!(
            !finds("Mahmoud", "Mohamed", "Alaoui"),
            "Mohamed is not Mahmoud"
        );
        assert_eq!(sound_of("al"), None, "too short to search by");
    }

    #[test]
    fn the_stored_key_keeps_the_folded_names_first() {
        let words = query_words("  Aïcha EL-Fassi ");
        assert_eq!(words[0].0, "aicha");
        assert!(!words.iter().any(|(w, _)| w.contains(SOUNDS_MARK)));
    }
}
