//! Name normalisation for Moroccan registries: Latin and Arabic script, transliteration variants,
//! particles (El, Al, Ben, Ait, Ou, Ould, assimilated Es-/Et-/Er-/En-, Abd-el-) and the keys derived from a
//! name once per record: the folded exact form, a phonetic key written for Maghrebi transliteration,
//! the folded Arabic form and a consonant skeleton that compares across scripts.
//!
//! The phonetic key keeps a vowel marker (`a`) where the name has a vowel, so that Mohamed (`mahamad`)
//! and Mahmoud (`mahmad`) stay apart, while every spelling of one vowel sound collapses: Mohammed,
//! Mohamed, Muhammad and Mouhamad all give `mahamad`. The skeleton drops the vowels, which makes it
//! comparable with Arabic script (محمد → `mhmd`), at the price of joining Mohamed and Mahmoud: it is a
//! weaker comparison level and a blocking key, never the only evidence.

use unicode_normalization::UnicodeNormalization;

/// Which part of a person's name: articles and particles are only stripped from family names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NamePart {
    Given,
    Family,
}

/// The keys of one name, computed once per record.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NameKeys {
    /// Latin letters folded (lowercase, accents removed), particles kept, spaces and hyphens removed:
    /// `Aït-Lahcen` → `aitlahcen`. Empty when the name has no Latin letter.
    pub exact: String,
    /// Phonetic key of the Latin form (see the module documentation). Empty without Latin letters.
    pub phonetic: String,
    /// Consonant skeleton of the Latin form. Empty without Latin letters.
    pub skeleton: String,
    /// Folded Arabic form without spaces (family names without their article `ال`). Empty when no
    /// Arabic letter was given.
    pub arabic: String,
    /// Consonant skeleton of the Arabic form, in the same alphabet as [`NameKeys::skeleton`].
    pub arabic_skeleton: String,
}

impl NameKeys {
    /// Keys of a name given in Latin script (`latin`) and optionally in Arabic script (`arabic`). Either
    /// field may hold the other script by mistake: Arabic letters in the Latin field count as the
    /// Arabic form when the Arabic field is empty.
    pub fn new(latin: &str, arabic: Option<&str>, part: NamePart) -> NameKeys {
        let tokens = latin_tokens(latin);
        let mut keys = NameKeys::default();
        if !tokens.is_empty() {
            keys.exact = tokens.concat();
            keys.phonetic = phonetic_from_tokens(&tokens, part);
            keys.skeleton = skeleton_of_phonetic(&keys.phonetic);
        }
        let ar_source = match arabic {
            Some(a) if has_arabic(a) => a,
            _ if has_arabic(latin) => latin,
            _ => "",
        };
        if !ar_source.is_empty() {
            let folded = fold_arabic(ar_source);
            let key = arabic_key_from_folded(&folded, part);
            keys.arabic_skeleton = arabic_skeleton_from_folded(&folded);
            keys.arabic = key;
        }
        keys
    }

    /// No usable key at all.
    pub fn is_empty(&self) -> bool {
        self.exact.is_empty() && self.arabic.is_empty()
    }
}

/// Lowercase Latin words with accents removed; every other character separates words. Arabic letters
/// and digits are dropped. `Aït-Lahcen` → `["ait", "lahcen"]`.
pub fn latin_tokens(s: &str) -> Vec<String> {
    // Decomposition only matters for non-ASCII text (accents, ligatures).
    if s.is_ascii() {
        latin_tokens_of(s.chars())
    } else {
        latin_tokens_of(s.nfkd())
    }
}

fn latin_tokens_of(chars: impl Iterator<Item = char>) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut cur = String::new();
    for ch in chars {
        if is_combining_mark(ch) {
            continue;
        }
        let mapped: &str = match ch {
            'a'..='z' => {
                cur.push(ch);
                continue;
            }
            'A'..='Z' => {
                cur.push(ch.to_ascii_lowercase());
                continue;
            }
            'ß' => "ss",
            'æ' | 'Æ' => "ae",
            'œ' | 'Œ' => "oe",
            'ø' | 'Ø' => "o",
            'đ' | 'Đ' | 'ð' | 'Ð' => "d",
            'ł' | 'Ł' => "l",
            'ı' => "i",
            'þ' | 'Þ' => "th",
            // Apostrophes inside a name (M'hamed, N'dour) join its parts.
            '\'' | '’' | 'ʼ' | '`' | '´' => continue,
            _ => {
                if !cur.is_empty() {
                    tokens.push(std::mem::take(&mut cur));
                }
                continue;
            }
        };
        cur.push_str(mapped);
    }
    if !cur.is_empty() {
        tokens.push(cur);
    }
    tokens
}

/// `latin_tokens` joined by single spaces: `  Aït-LAHCEN ` → `ait lahcen`.
pub fn fold_latin(s: &str) -> String {
    latin_tokens(s).join(" ")
}

fn is_combining_mark(c: char) -> bool {
    matches!(c, '\u{0300}'..='\u{036F}' | '\u{1AB0}'..='\u{1AFF}' | '\u{1DC0}'..='\u{1DFF}' | '\u{20D0}'..='\u{20FF}' | '\u{FE20}'..='\u{FE2F}')
}

fn is_arabic_letter(c: char) -> bool {
    matches!(c, '\u{0621}'..='\u{064A}' | '\u{0671}'..='\u{06D3}' | '\u{06D5}' | '\u{06FA}'..='\u{06FC}' | '\u{FB50}'..='\u{FDFF}' | '\u{FE70}'..='\u{FEFF}')
}

fn has_arabic(s: &str) -> bool {
    s.chars().any(is_arabic_letter)
}

/// Folds Arabic script: compatibility forms (presentation forms) to letters, tashkeel and tatweel
/// removed, alef variants to ا, ى to ي, ة to ه, ؤ to و, ئ to ي, Persian and Maghrebi letters (ک ی ڤ ڭ)
/// to their common form; words separated by one space; non-Arabic characters dropped.
pub fn fold_arabic(s: &str) -> String {
    // Compatibility folding only matters for presentation forms and other non-Arabic letters.
    let plain = s
        .chars()
        .all(|c| c.is_ascii() || ('\u{0600}'..='\u{06FF}').contains(&c));
    if plain {
        fold_arabic_of(s.chars(), s.len())
    } else {
        fold_arabic_of(s.nfkc(), s.len())
    }
}

fn fold_arabic_of(chars: impl Iterator<Item = char>, len: usize) -> String {
    let mut out = String::with_capacity(len);
    let mut pending_space = false;
    for ch in chars {
        let c = match ch {
            '\u{064B}'..='\u{065F}' | '\u{0670}' | '\u{0640}' | '\u{06D6}'..='\u{06ED}' => continue,
            'أ' | 'إ' | 'آ' | 'ٱ' => 'ا',
            'ى' | 'ی' | 'ئ' => 'ي',
            'ة' => 'ه',
            'ؤ' => 'و',
            'ک' => 'ك',
            c if is_arabic_letter(c) => c,
            _ => {
                pending_space = !out.is_empty();
                continue;
            }
        };
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(c);
    }
    out
}

/// The Arabic comparison key: folded, spaces removed (عبد الله = عبدالله), and for a family name the
/// article ال dropped at the start of the name (العمراني = عمراني).
pub fn arabic_key(s: &str, part: NamePart) -> String {
    arabic_key_from_folded(&fold_arabic(s), part)
}

fn arabic_key_from_folded(folded: &str, part: NamePart) -> String {
    let mut key: String = folded.chars().filter(|c| *c != ' ').collect();
    if part == NamePart::Family
        && let Some(rest) = key.strip_prefix("ال")
        && rest.chars().count() >= 2
    {
        key = rest.to_owned();
    }
    key
}

/// Consonant skeleton of an Arabic name in the Latin skeleton alphabet: محمد → `mhmd`,
/// عبد الرحمن → `bdlrhmn`, يوسف → `ysf`. Long vowels, hamza and ʿayn are dropped (Latin spellings drop
/// or vowelise them); و and ي count only at the start of the name; a leading article is dropped.
pub fn arabic_skeleton(s: &str) -> String {
    arabic_skeleton_from_folded(&fold_arabic(s))
}

fn arabic_skeleton_from_folded(folded: &str) -> String {
    let compact: String = folded.chars().filter(|c| *c != ' ').collect();
    let body = match compact.strip_prefix("ال") {
        Some(rest) if rest.chars().count() >= 2 => rest,
        _ => compact.as_str(),
    };
    let mut out = String::with_capacity(body.len());
    let mut last: Option<char> = None;
    for (i, ch) in body.chars().enumerate() {
        let sym = match ch {
            'ب' | 'پ' => 'b',
            'ت' | 'ث' | 'ط' => 't',
            'ج' | 'چ' => 'j',
            'ح' | 'ه' => 'h',
            'خ' => 'x',
            'د' | 'ذ' | 'ض' => 'd',
            'ر' => 'r',
            'ز' | 'ظ' => 'z',
            'س' | 'ص' => 's',
            'ش' => 'S',
            'غ' => 'G',
            'ف' | 'ڤ' => 'f',
            'ق' | 'ك' => 'k',
            'ڭ' | 'گ' => 'g',
            'ل' => 'l',
            'م' => 'm',
            'ن' => 'n',
            'و' if i == 0 => 'w',
            'ي' if i == 0 => 'y',
            _ => continue,
        };
        if last != Some(sym) {
            out.push(sym);
        }
        last = Some(sym);
    }
    // A final ه is the folded ta marbuta (فاطمة → فاطمه): Latin spellings end in a vowel.
    if body.ends_with('ه') && out.ends_with('h') && out.len() > 1 {
        out.pop();
    }
    out
}

/// Phonetic key of a Latin name (see the module documentation).
pub fn phonetic_key(s: &str, part: NamePart) -> String {
    phonetic_from_tokens(&latin_tokens(s), part)
}

/// Consonant skeleton of a Latin name, comparable with [`arabic_skeleton`].
pub fn skeleton(s: &str, part: NamePart) -> String {
    skeleton_of_phonetic(&phonetic_key(s, part))
}

const ARTICLES: [&str; 4] = ["el", "al", "ul", "l"];
/// Articles written assimilated to the next (sun) letter: Es Saidi, En Nasiri, Ech Chaoui.
const ASSIMILATED: [&str; 14] = [
    "es", "et", "er", "en", "ed", "ez", "ech", "as", "at", "ar", "an", "ad", "az", "ach",
];
const SUN_DOUBLES: [&str; 8] = ["tt", "dd", "rr", "zz", "ss", "nn", "chch", "ll"];

fn expand_abbreviation(t: &str) -> &str {
    match t {
        "med" | "mhd" | "mohd" | "mmed" => "mohamed",
        "my" | "mly" => "moulay",
        "sd" | "sdi" => "sidi",
        "bn" => "ben",
        other => other,
    }
}

fn phonetic_from_tokens(tokens: &[String], part: NamePart) -> String {
    let mut toks: Vec<String> = tokens
        .iter()
        .map(|t| expand_abbreviation(t).to_owned())
        .collect();
    match part {
        NamePart::Given => {
            // El Mehdi = Mehdi, El Haj = Haj (only a separate article word).
            while toks.len() > 1 && ARTICLES.contains(&toks[0].as_str()) {
                toks.remove(0);
            }
        }
        NamePart::Family => toks = family_tokens(toks),
    }
    let joined = apply_abd_rule(&toks.concat());
    encode(joined.as_bytes())
}

fn family_tokens(toks: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(toks.len());
    let n = toks.len();
    let mut i = 0;
    while i < n {
        let t = toks[i].as_str();
        let next = toks.get(i + 1).map(String::as_str);
        let t = match t {
            "bin" | "ibn" => "ben",
            "ayt" => "ait",
            "o" => "ou",
            "ouled" | "oulad" | "weld" | "wuld" => "ould",
            other => other,
        };
        if let Some(next) = next {
            if ARTICLES.contains(&t) {
                i += 1;
                continue;
            }
            if ASSIMILATED.contains(&t) {
                let consonant = &t[1..];
                if next.starts_with(consonant) {
                    i += 1;
                    continue;
                }
            }
        }
        let mut word = t.to_owned();
        // Joined article: Elamrani, Elidrissi (never "al": Alami and Alaoui are names).
        if word.len() >= 5 && word.starts_with("el") && !word[2..].starts_with('l') {
            word = word[2..].to_owned();
        } else if word.len() >= 5
            && word.starts_with('e')
            && SUN_DOUBLES.iter().any(|d| word[1..].starts_with(d))
        {
            // Assimilated article: Essaidi, Ettahiri, Echchaoui, Ennaji.
            let skip = if word[1..].starts_with("chch") { 3 } else { 2 };
            word = word[skip..].to_owned();
        } else if out.is_empty()
            && word.len() >= 5
            && word.starts_with('l')
            && word.as_bytes().get(1).is_some_and(|c| b"aeiou".contains(c))
        {
            // Lamrani, Lazrak, Lalaoui: the article written as a bare l.
            word = word[1..].to_owned();
        }
        out.push(word);
        i += 1;
    }
    if out.is_empty() { toks } else { out }
}

/// Abd-el compounds: the article after `abd` is written el/al/ul or assimilated to a sun letter
/// (Abderrahmane, Abdessamad): all become `abdl` + the rest (Abdel Rahman = Abderrahmane).
fn apply_abd_rule(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len() + 2);
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(b"abd") {
            let mut j = i + 3;
            // The connecting vowel: e, a, u, ou, o, i (one or two letters).
            let v_start = j;
            while j < b.len() && j - v_start < 2 && b"aeiou".contains(&b[j]) {
                j += 1;
            }
            if j > v_start && j < b.len() {
                if b[j] == b'l' {
                    out.push_str("abdl");
                    i = j + 1;
                    continue;
                }
                if b"tdrzsn".contains(&b[j]) || b[j..].starts_with(b"ch") {
                    out.push_str("abdl");
                    i = j;
                    continue;
                }
            }
            out.push_str("abd");
            i += 3;
            continue;
        }
        out.push(b[i] as char);
        i += 1;
    }
    out
}

fn is_vowel(c: u8) -> bool {
    matches!(c, b'a' | b'e' | b'i' | b'o' | b'u')
}

/// Encodes folded Latin letters into the phonetic alphabet: `a` for any vowel run, consonant classes
/// (`x` kh, `S` ch/sh, `G` gh, `s` for c and ç, `k` for q), doubled letters collapsed, silent final e
/// and h dropped, and a leading vowel before a consonant cluster dropped (Ahmed = Hmad, Ibtissam =
/// Btissam, Embarek = Mbarek).
fn encode(b: &[u8]) -> String {
    let n = b.len();
    let mut out: Vec<u8> = Vec::with_capacity(n);
    let at = |i: usize| -> u8 { if i < n { b[i] } else { 0 } };
    let mut i = 0;
    while i < n {
        let c = b[i];
        let next = at(i + 1);
        let (sym, adv): (u8, usize) = match c {
            // "ou" before another vowel is the consonant w (Oualid = Walid, Naoual = Nawal).
            b'o' if next == b'u' && is_vowel(at(i + 2)) && at(i + 2) != b'u' => (b'w', 2),
            b'y' => {
                let prev = if i > 0 { b[i - 1] } else { 0 };
                let consonant = is_vowel(next)
                    && (i == 0 || ((is_vowel(prev) || prev == b'y') && prev != b'i'));
                if consonant { (b'y', 1) } else { (b'a', 1) }
            }
            b'w' => {
                let prev = if i > 0 { b[i - 1] } else { 0 };
                if i > 0 && is_vowel(prev) && !is_vowel(next) {
                    (b'a', 1)
                } else {
                    (b'w', 1)
                }
            }
            _ if is_vowel(c) => {
                // Silent final e after a consonant (Amine = Amin, Rayane = Rayan).
                if c == b'e' && i + 1 == n && i > 0 && !is_vowel(b[i - 1]) && b[i - 1] != b'y' {
                    i += 1;
                    continue;
                }
                (b'a', 1)
            }
            b'k' if next == b'h' => (b'x', 2),
            b'g' if next == b'h' => (b'G', 2),
            b'c' if next == b'h' => (b'S', 2),
            b's' if next == b'h' => (b'S', 2),
            b't' if next == b'h' => (b't', 2),
            b'd' if next == b'h' => (b'd', 2),
            b'p' if next == b'h' => (b'f', 2),
            b'd' if next == b'j' => (b'j', 2),
            b't' if next == b'c' && at(i + 2) == b'h' => (b'S', 3),
            b'c' if next == b'k' => (b'k', 2),
            b'q' if next == b'u' && is_vowel(at(i + 2)) => (b'k', 2),
            b'g' if next == b'u' && matches!(at(i + 2), b'e' | b'i') => (b'g', 2),
            b'c' => (b's', 1),
            b'q' => (b'k', 1),
            b'p' => (b'b', 1),
            b'v' => (b'f', 1),
            b'h' => {
                // Silent h after a vowel at the end (Sarah = Sara, Ayah = Aya).
                let prev = if i > 0 { b[i - 1] } else { 0 };
                if i + 1 == n && i > 0 && is_vowel(prev) {
                    i += 1;
                    continue;
                }
                (b'h', 1)
            }
            other => (other, 1),
        };
        if out.last() != Some(&sym) {
            out.push(sym);
        }
        i += adv;
    }
    // A leading vowel before two consonants is often not written (Ahmed/Hmad, Ismail/Smail).
    if out.len() >= 3 && out[0] == b'a' && out[1] != b'a' && out[2] != b'a' {
        out.remove(0);
    }
    String::from_utf8(out).unwrap_or_default()
}

fn skeleton_of_phonetic(p: &str) -> String {
    let mut out = String::with_capacity(p.len());
    let mut last = None;
    for (i, c) in p.chars().enumerate() {
        if c == 'a' || ((c == 'w' || c == 'y') && i > 0) {
            continue;
        }
        if last != Some(c) {
            out.push(c);
        }
        last = Some(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use NamePart::{Family, Given};

    fn ph(s: &str) -> String {
        phonetic_key(s, Given)
    }
    fn fam(s: &str) -> String {
        phonetic_key(s, Family)
    }

    #[test]
    fn mohammed_variants_share_a_key_and_mahmoud_does_not() {
        let k = ph("Mohammed");
        for v in [
            "Mohamed", "Muhammad", "Mouhamad", "Mohamad", "MOHAMMAD", "mohamed",
        ] {
            assert_eq!(ph(v), k, "{v}");
        }
        assert_ne!(ph("Mahmoud"), k);
        assert_ne!(ph("Mahmud"), k);
        // Across scripts: the skeleton of محمد equals that of Mohamed.
        assert_eq!(arabic_skeleton("محمد"), skeleton("Mohamed", Given));
        assert_eq!(arabic_skeleton("مُحَمَّد"), "mhmd");
        assert_ne!(arabic_key("محمود", Given), arabic_key("محمد", Given));
    }

    #[test]
    fn common_transliteration_variants() {
        let same = [
            ("Youssef", "Yusuf"),
            ("Youssef", "Youcef"),
            ("Youssef", "Youssouf"),
            ("Abderrahmane", "Abdel Rahman"),
            ("Abderrahmane", "Abderahman"),
            ("Abdelrahman", "Abderrahman"),
            ("Abdellah", "Abdallah"),
            ("Abdellah", "Abdullah"),
            ("Abdelaziz", "Abdel Aziz"),
            ("Abdelaziz", "Abdulaziz"),
            ("Abdessamad", "Abdel Samad"),
            ("Hicham", "Hisham"),
            ("Mustapha", "Mostafa"),
            ("Khalid", "Khaled"),
            ("Tarik", "Tariq"),
            ("Walid", "Oualid"),
            ("Redouane", "Redwan"),
            ("Soufiane", "Sufyan"),
            ("Taoufik", "Tawfiq"),
            ("Aicha", "Aïcha"),
            ("Said", "Saïd"),
            ("Amine", "Amin"),
            ("Sara", "Sarah"),
            ("Ahmed", "Hmad"),
            ("Ibtissam", "Btissam"),
            ("Mbarek", "Embarek"),
            ("Ayoub", "Ayyoub"),
            ("Zakaria", "Zakariya"),
            ("Chaimae", "Shaimaa"),
            ("Kawtar", "Kaoutar"),
            ("El Mehdi", "Mehdi"),
            ("Med Amine", "Mohamed Amine"),
            ("My Ahmed", "Moulay Ahmed"),
            ("Fayçal", "Faycal"),
        ];
        for (a, b) in same {
            assert_eq!(ph(a), ph(b), "{a} / {b}");
        }
        let different = [
            ("Mohamed", "Mahmoud"),
            ("Amine", "Mina"),
            ("Fatima", "Fatiha"),
            ("Karim", "Kamal"),
            ("Nadia", "Nabila"),
        ];
        for (a, b) in different {
            assert_ne!(ph(a), ph(b), "{a} / {b}");
        }
    }

    #[test]
    fn family_particles() {
        let k = fam("El Amrani");
        for v in [
            "Elamrani",
            "Al Amrani",
            "Amrani",
            "Lamrani",
            "El-Amrani",
            "EL AMRANI",
        ] {
            assert_eq!(fam(v), k, "{v}");
        }
        let k = fam("Ait Lahcen");
        for v in [
            "Aït-Lahcen",
            "Aït Lahcen",
            "Ait-Lahcen",
            "Aitlahcen",
            "Ayt Lahcen",
        ] {
            assert_eq!(fam(v), k, "{v}");
        }
        assert_eq!(fam("Ben Ali"), fam("Benali"));
        assert_eq!(fam("Bin Ali"), fam("Benali"));
        assert_eq!(fam("Essaidi"), fam("Saidi"));
        assert_eq!(fam("Es Saidi"), fam("Saidi"));
        assert_eq!(fam("Echchaoui"), fam("Chaoui"));
        assert_eq!(fam("En Nasiri"), fam("Nasiri"));
        assert_eq!(fam("Ait Ettaleb"), fam("Ait Taleb"));
        assert_eq!(fam("Ou Lahcen"), fam("Oulahcen"));
        assert_eq!(fam("El Alaoui"), fam("Alaoui"));
        assert_eq!(fam("Elalaoui"), fam("Alaoui"));
        assert_ne!(fam("Alami"), fam("Alaoui"));
        assert_ne!(fam("Bennani"), fam("Benali"));
        // The exact form keeps the particles apart.
        let a = NameKeys::new("El Amrani", None, Family);
        let b = NameKeys::new("Al Amrani", None, Family);
        assert_ne!(a.exact, b.exact);
        assert_eq!(a.phonetic, b.phonetic);
        let a = NameKeys::new("Ait Lahcen", None, Family);
        let b = NameKeys::new("Aït-Lahcen", None, Family);
        assert_eq!(a.exact, b.exact);
    }

    #[test]
    fn arabic_folding() {
        assert_eq!(fold_arabic("أحمد"), "احمد");
        assert_eq!(fold_arabic("إبراهيم"), "ابراهيم");
        assert_eq!(fold_arabic("فاطمة"), fold_arabic("فاطمه"));
        assert_eq!(fold_arabic("مصطفى"), fold_arabic("مصطفي"));
        assert_eq!(fold_arabic("مُحَمَّد"), "محمد");
        assert_eq!(fold_arabic("مـحـمـد"), "محمد");
        // Presentation forms (ﻣﺤﻤﺪ) fold to letters.
        assert_eq!(fold_arabic("\u{FEE3}\u{FEA4}\u{FEE4}\u{FEAA}"), "محمد");
        assert_eq!(arabic_key("عبد الله", Given), arabic_key("عبدالله", Given));
        assert_eq!(arabic_key("العمراني", Family), arabic_key("عمراني", Family));
        assert_eq!(
            arabic_key("العمراني", Family),
            arabic_key("العمرانى", Family)
        );
        assert_eq!(
            arabic_skeleton("عبد الرحمن"),
            skeleton("Abderrahmane", Given)
        );
        assert_eq!(arabic_skeleton("يوسف"), skeleton("Youssef", Given));
        assert_eq!(arabic_skeleton("فاطمة"), skeleton("Fatima", Given));
        assert_eq!(arabic_skeleton("العمراني"), skeleton("El Amrani", Family));
        assert_eq!(arabic_skeleton("هشام"), skeleton("Hicham", Given));
    }

    #[test]
    fn mixed_scripts_and_garbage() {
        let k = NameKeys::new("محمد", None, Given);
        assert!(k.exact.is_empty());
        assert_eq!(k.arabic, "محمد");
        let k = NameKeys::new("  --  ", Some(""), Given);
        assert!(k.is_empty());
        let k = NameKeys::new("M'hamed", None, Given);
        assert_eq!(k.exact, "mhamed");
        assert_eq!(fold_latin("  Aït-LAHCEN "), "ait lahcen");
    }
}
