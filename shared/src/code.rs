//! Label codes and technician badges.
//!
//! A label code is 8 symbols of Crockford base32 (`0-9` and `A-Z` without I, L, O,
//! U): 7 body symbols and 1 check symbol, shown hyphenated as `7K3M-9QX8`. The check
//! value is the body read as a base-32 number (first symbol most significant) modulo
//! 37. Values 32..=36 would need Crockford's extra check symbols `*~$=U`; such codes
//! are never issued, so every code is 8 plain alphanumerics (QR alphanumeric mode,
//! typeable anywhere).
//!
//! Because 37 is prime and every symbol difference is below 37, and 32 and 31 are
//! invertible modulo 37, any single substitution (check symbol included) and any
//! adjacent transposition (check symbol included) changes the check: a misread or
//! mistyped code is refused, never taken for another one.
//!
//! A technician badge is `FB` followed by a label code: `FB-7K3M-9QX8`.
//!
//! USB scanners are often left on a US layout while the PC is AZERTY; the scan then
//! arrives mangled (`7K3M9QX8` becomes `èK"?çAX_`). [`parse_scan`] recognises the
//! characters only that mix-up produces, maps the whole string back and accepts the
//! result only when its check passes. Crockford's decoding leniency (O→0, I/L→1) is
//! deliberately not applied, and a string without such a marker character is never
//! "repaired": a typo is always refused.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// The 32 symbols, in value order (also ASCII order, so codes sort by value).
pub const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// The check modulus: the smallest prime above 32.
const CHECK_MODULUS: u64 = 37;

/// Symbols in a label code, check symbol included.
const CODE_LEN: usize = 8;

/// Symbols in a badge: `FB` and a label code.
const BADGE_LEN: usize = CODE_LEN + 2;

/// The value of one symbol, in either letter case; `None` outside the alphabet.
fn symbol_value(ch: char) -> Option<u8> {
    if !ch.is_ascii() {
        return None;
    }
    let up = ch.to_ascii_uppercase() as u8;
    ALPHABET
        .iter()
        .position(|&a| a == up)
        .and_then(|p| u8::try_from(p).ok())
}

/// The body's value modulo 37 (always below 37).
fn check_value(body: &[u8]) -> u64 {
    body.iter()
        .fold(0u64, |acc, &s| (acc * 32 + u64::from(s)) % CHECK_MODULUS)
}

/// A valid label code: 8 upper-case symbols whose check symbol matches.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(value_type = String, example = "7K3M9QX8"))]
pub struct LabelCode([u8; 8]);

impl LabelCode {
    /// Builds the code of a body of 7 symbol values (each `0..32`, first symbol most
    /// significant) and appends its check symbol. `None` when the check value is 32
    /// or more (such codes are never issued: the server draws again) or when a value
    /// is out of range.
    pub fn from_symbols(body: [u8; 7]) -> Option<LabelCode> {
        if body.iter().any(|&s| usize::from(s) >= ALPHABET.len()) {
            return None;
        }
        let check_symbol = *ALPHABET.get(check_value(&body) as usize)?;
        let mut out = [0u8; CODE_LEN];
        for (o, &s) in out.iter_mut().zip(body.iter()) {
            *o = ALPHABET[usize::from(s)];
        }
        out[CODE_LEN - 1] = check_symbol;
        Some(LabelCode(out))
    }

    /// The bare code, e.g. `7K3M9QX8`.
    pub fn as_str(&self) -> &str {
        // The bytes always come from ALPHABET, so they are ASCII.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The code as shown to people, e.g. `7K3M-9QX8`.
    pub fn hyphenated(&self) -> String {
        let (a, b) = self.as_str().split_at(4);
        format!("{a}-{b}")
    }

    /// A stored code (bare, as the API carries it) as shown to people: hyphenated when
    /// it is a label code, as it is otherwise. Pages and documents print it so that it
    /// reads as the label stuck on the item does.
    pub fn readable(stored: &str) -> String {
        LabelCode::parse(stored).map_or_else(|_| stored.to_owned(), |c| c.hyphenated())
    }

    /// What the label's QR code holds: with a host, the upper-case URL
    /// `HTTPS://HOST/I/7K3M9QX8` (upper case keeps the QR code in alphanumeric mode);
    /// without, the bare code. A scheme or trailing `/` given with the host is dropped.
    pub fn qr_content(&self, host: Option<&str>) -> String {
        match host {
            Some(h) => {
                let h = h.trim();
                let h = strip_prefix_ignore_case(h, "https://")
                    .or_else(|| strip_prefix_ignore_case(h, "http://"))
                    .unwrap_or(h)
                    .trim_end_matches('/');
                format!("HTTPS://{}/I/{}", h.to_ascii_uppercase(), self.as_str())
            }
            None => self.as_str().to_owned(),
        }
    }

    /// True when at least one of the 8 symbols is a digit other than 6. Scanned
    /// through a US-layout scanner on an AZERTY PC, such a digit always comes out as an
    /// AZERTY marker character (`&é"'(è_çà`), so the recovery can see the mix-up, even
    /// for the bare code. 6 is excluded: it comes out as `-`, which is also a plain
    /// separator and so no marker (`66AP6AAP` arrives as `--QP-QQP`, unrecoverable).
    /// The server only issues codes where this is true.
    pub fn is_scanner_safe(&self) -> bool {
        self.0.iter().any(|&c| c.is_ascii_digit() && c != b'6')
    }

    /// Parses a label code in any accepted form (see [`parse_scan`]); a badge is
    /// [`CodeError::NotALabel`].
    pub fn parse(input: &str) -> Result<LabelCode, CodeError> {
        parse_label(input).map(|p| p.value)
    }

    /// Builds a code from 8 symbol values whose check has been verified.
    fn from_checked_values(values: &[u8; CODE_LEN]) -> LabelCode {
        let mut out = [0u8; CODE_LEN];
        for (o, &v) in out.iter_mut().zip(values.iter()) {
            *o = ALPHABET[usize::from(v)];
        }
        LabelCode(out)
    }
}

impl fmt::Display for LabelCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl fmt::Debug for LabelCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LabelCode({})", self.as_str())
    }
}

impl FromStr for LabelCode {
    type Err = CodeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        LabelCode::parse(s)
    }
}

impl Serialize for LabelCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for LabelCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        LabelCode::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A technician's badge: `FB` followed by a label code (10 symbols), shown
/// `FB-7K3M-9QX8`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(value_type = String, example = "FB7K3M9QX8"))]
pub struct BadgeCode(LabelCode);

impl BadgeCode {
    pub fn new(code: LabelCode) -> Self {
        BadgeCode(code)
    }

    /// The label code after the `FB` prefix.
    pub fn code(&self) -> LabelCode {
        self.0
    }

    /// The bare badge, e.g. `FB7K3M9QX8`.
    pub fn as_str(&self) -> String {
        format!("FB{}", self.0.as_str())
    }

    /// The badge as shown to people, e.g. `FB-7K3M-9QX8`.
    pub fn hyphenated(&self) -> String {
        format!("FB-{}", self.0.hyphenated())
    }

    /// Parses a badge in any accepted form (see [`parse_scan`]); a label code is
    /// [`CodeError::NotABadge`].
    pub fn parse(input: &str) -> Result<BadgeCode, CodeError> {
        match parse_scan(input)?.value {
            Scan::Badge(b) => Ok(b),
            Scan::Label(_) => Err(CodeError::NotABadge),
        }
    }
}

impl fmt::Display for BadgeCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.as_str())
    }
}

impl fmt::Debug for BadgeCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BadgeCode(FB{})", self.0.as_str())
    }
}

impl FromStr for BadgeCode {
    type Err = CodeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        BadgeCode::parse(s)
    }
}

impl Serialize for BadgeCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.as_str())
    }
}

impl<'de> Deserialize<'de> for BadgeCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        BadgeCode::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// What a scan turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scan {
    Label(LabelCode),
    Badge(BadgeCode),
}

/// A parse result, telling whether the AZERTY recovery was needed to get it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parsed<T> {
    pub value: T,
    pub azerty_recovered: bool,
}

/// Why a string is not a code. Positions are 1-based and count characters of the
/// input once its surrounding whitespace is trimmed (hyphens and a URL prefix
/// included).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("empty code")]
    Empty,
    #[error("a code has 8 characters, got {len}")]
    WrongLength { len: usize },
    #[error("invalid character {ch:?} at position {position}")]
    InvalidCharacter { ch: char, position: usize },
    #[error("the check character does not match: code misread or mistyped")]
    CheckMismatch,
    #[error("this is a technician badge, not a label code")]
    NotALabel,
    #[error("this is a label code, not a technician badge")]
    NotABadge,
}

impl CodeError {
    /// The message in French.
    pub fn message_fr(&self) -> String {
        match self {
            CodeError::Empty => "code vide".to_owned(),
            CodeError::WrongLength { len } => format!("un code compte 8 caractères, reçu {len}"),
            CodeError::InvalidCharacter { ch, position } => format!(
                "caractère « {} » invalide en position {position}",
                ch.escape_debug()
            ),
            CodeError::CheckMismatch => {
                "le caractère de contrôle ne correspond pas : code mal lu ou mal saisi".to_owned()
            }
            CodeError::NotALabel => {
                "c'est un badge de technicien, pas un code d'étiquette".to_owned()
            }
            CodeError::NotABadge => {
                "c'est un code d'étiquette, pas un badge de technicien".to_owned()
            }
        }
    }
}

/// `s` without `prefix`, compared ignoring ASCII case.
fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) {
        s.get(prefix.len()..)
    } else {
        None
    }
}

/// Separators ignored inside a code.
fn is_separator(ch: char) -> bool {
    ch == '-' || ch.is_whitespace()
}

/// For a label URL `http(s)://host[:port]/I/<code>[/]` (any case), the code part and
/// the number of characters before it.
fn label_url_code(s: &str) -> Option<(&str, usize)> {
    let rest = strip_prefix_ignore_case(s, "https://")
        .or_else(|| strip_prefix_ignore_case(s, "http://"))?;
    let (host, path) = rest.split_once('/')?;
    if host.is_empty() {
        return None;
    }
    let code = strip_prefix_ignore_case(path, "I/")?;
    let before = s.get(..s.len() - code.len())?.chars().count();
    Some((code.strip_suffix('/').unwrap_or(code), before))
}

/// Parses one scan without the AZERTY recovery.
fn parse_plain(input: &str) -> Result<Scan, CodeError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(CodeError::Empty);
    }
    let (code_part, before) = label_url_code(trimmed).unwrap_or((trimmed, 0));
    // (1-based position in `trimmed`, character) of every non-separator.
    let symbols: Vec<(usize, char)> = code_part
        .chars()
        .enumerate()
        .filter(|&(_, ch)| !is_separator(ch))
        .map(|(i, ch)| (before + i + 1, ch))
        .collect();
    let is_badge = match symbols.as_slice() {
        s if s.len() == CODE_LEN => false,
        [(_, f), (_, b), ..]
            if symbols.len() == BADGE_LEN
                && f.eq_ignore_ascii_case(&'F')
                && b.eq_ignore_ascii_case(&'B') =>
        {
            true
        }
        s => return Err(CodeError::WrongLength { len: s.len() }),
    };
    let code_symbols = &symbols[symbols.len() - CODE_LEN..];
    let mut values = [0u8; CODE_LEN];
    for (v, &(position, ch)) in values.iter_mut().zip(code_symbols) {
        *v = symbol_value(ch).ok_or(CodeError::InvalidCharacter { ch, position })?;
    }
    if check_value(&values[..CODE_LEN - 1]) != u64::from(values[CODE_LEN - 1]) {
        return Err(CodeError::CheckMismatch);
    }
    let code = LabelCode::from_checked_values(&values);
    Ok(if is_badge {
        Scan::Badge(BadgeCode(code))
    } else {
        Scan::Label(code)
    })
}

/// True for the characters only a US-layout scanner on an AZERTY PC produces in our
/// forms: the unshifted digit row, `)` for `-`, `!` for `/`, `?` for `M`, `,` for
/// `m`, `;` for `,`.
fn is_azerty_marker(ch: char) -> bool {
    matches!(
        ch,
        '&' | 'é'
            | 'É'
            | '"'
            | '\''
            | '('
            | 'è'
            | 'È'
            | '_'
            | 'ç'
            | 'Ç'
            | 'à'
            | 'À'
            | ')'
            | '!'
            | '?'
            | ','
            | ';'
    )
}

/// Keys of a scanner set to a US layout, and what an AZERTY PC types for each: digits
/// typed unshifted, A↔Q, Z↔W, and the moved M and punctuation.
const US_TO_AZERTY: [(char, char); 30] = [
    ('1', '&'),
    ('2', 'é'),
    ('3', '"'),
    ('4', '\''),
    ('5', '('),
    ('6', '-'),
    ('7', 'è'),
    ('8', '_'),
    ('9', 'ç'),
    ('0', 'à'),
    ('-', ')'),
    ('a', 'q'),
    ('q', 'a'),
    ('A', 'Q'),
    ('Q', 'A'),
    ('z', 'w'),
    ('w', 'z'),
    ('Z', 'W'),
    ('W', 'Z'),
    ('m', ','),
    ('M', '?'),
    (';', 'm'),
    (':', 'M'),
    (',', ';'),
    ('.', ':'),
    ('/', '!'),
    // Accented letters also arrive upper-cased (Caps Lock on the PC).
    ('2', 'É'),
    ('7', 'È'),
    ('9', 'Ç'),
    ('0', 'À'),
];

/// What the scanner meant by one character it typed through an AZERTY layout.
fn azerty_to_us(ch: char) -> char {
    US_TO_AZERTY
        .iter()
        .find(|&&(_, azerty)| azerty == ch)
        .map_or(ch, |&(us, _)| us)
}

/// Parses anything a scanner or a person may send, in any letter case, surrounding
/// whitespace ignored:
/// - a bare code `7K3M9QX8`, or hyphenated `7K3M-9QX8` (hyphens and inner spaces are
///   ignored);
/// - a label URL `https://host[:port]/I/7K3M9QX8` (http or https, any host, the code
///   possibly hyphenated, an optional trailing `/`);
/// - a badge `FB7K3M9QX8` or `FB-7K3M-9QX8`.
///
/// O, I, L and U are invalid characters, never read as 0 or 1. When the string does
/// not parse but holds a character only a US-layout scanner on an AZERTY PC produces,
/// the whole string is mapped back and parsed again; that result is accepted (with
/// `azerty_recovered`) only if it parses with a matching check, otherwise the first
/// error is returned.
pub fn parse_scan(input: &str) -> Result<Parsed<Scan>, CodeError> {
    let first = match parse_plain(input) {
        Ok(value) => {
            return Ok(Parsed {
                value,
                azerty_recovered: false,
            });
        }
        Err(e) => e,
    };
    let trimmed = input.trim();
    if !trimmed.chars().any(is_azerty_marker) {
        return Err(first);
    }
    let mapped: String = trimmed.chars().map(azerty_to_us).collect();
    parse_plain(&mapped)
        .map(|value| Parsed {
            value,
            azerty_recovered: true,
        })
        .map_err(|_| first)
}

/// What a scanner set to a US layout types on an AZERTY PC for each character of `s`
/// (shifted keys for upper case, digits and `:` typed unshifted): the mix-up that
/// [`parse_scan`] recovers. For tests, and to show a technician what happened.
pub fn us_to_azerty(s: &str) -> String {
    s.chars()
        .map(|c| {
            // The first pair for a key is what it types; later ones are variants.
            US_TO_AZERTY
                .iter()
                .find(|&&(us, _)| us == c)
                .map_or(c, |&(_, azerty)| azerty)
        })
        .collect()
}

/// Parses a label code like [`parse_scan`]; a badge is [`CodeError::NotALabel`].
pub fn parse_label(input: &str) -> Result<Parsed<LabelCode>, CodeError> {
    let parsed = parse_scan(input)?;
    match parsed.value {
        Scan::Label(code) => Ok(Parsed {
            value: code,
            azerty_recovered: parsed.azerty_recovered,
        }),
        Scan::Badge(_) => Err(CodeError::NotALabel),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn value_of(c: u8) -> u8 {
        symbol_value(char::from(c)).expect("in the alphabet")
    }

    /// The code of a 7-symbol body given as text.
    fn code(body: &str) -> LabelCode {
        let mut symbols = [0u8; 7];
        assert_eq!(body.len(), 7);
        for (s, c) in symbols.iter_mut().zip(body.bytes()) {
            *s = value_of(c);
        }
        LabelCode::from_symbols(symbols).expect("check value in the alphabet")
    }

    /// `7K3M9QX8`, the documentation's example.
    fn example() -> LabelCode {
        code("7K3M9QX")
    }

    fn label(c: LabelCode, recovered: bool) -> Result<Parsed<Scan>, CodeError> {
        Ok(Parsed {
            value: Scan::Label(c),
            azerty_recovered: recovered,
        })
    }

    #[test]
    fn known_examples() {
        // 7K3M9QX = [7, 19, 3, 20, 9, 23, 29]; Horner's rule modulo 37:
        //   7
        //   7·32 + 19 = 243  ≡ 21
        //  21·32 +  3 = 675  ≡  9
        //   9·32 + 20 = 308  ≡ 12
        //  12·32 +  9 = 393  ≡ 23
        //  23·32 + 23 = 759  ≡ 19
        //  19·32 + 29 = 637  ≡  8   → check symbol '8'.
        let c = example();
        assert_eq!(c.as_str(), "7K3M9QX8");
        assert_eq!(c.to_string(), "7K3M9QX8");
        assert_eq!(format!("{c:?}"), "LabelCode(7K3M9QX8)");
        assert_eq!(c.hyphenated(), "7K3M-9QX8");
        assert_eq!(c.qr_content(None), "7K3M9QX8");
        assert_eq!(
            c.qr_content(Some("filiere.example.org")),
            "HTTPS://FILIERE.EXAMPLE.ORG/I/7K3M9QX8"
        );
        assert_eq!(
            c.qr_content(Some("https://filiere.example.org/")),
            "HTTPS://FILIERE.EXAMPLE.ORG/I/7K3M9QX8"
        );
        assert!(c.is_scanner_safe());
        // 0000001 is worth 1: check '1'. 000000Z is worth 31: check 'Z'.
        assert_eq!(code("0000001").as_str(), "00000011");
        assert_eq!(code("000000Z").as_str(), "000000ZZ");
        // 0000015 is worth 37 ≡ 0: check '0'.
        assert_eq!(code("0000015").as_str(), "00000150");
        // 0000010 is worth 32 and 0000014 is worth 36: check values 32..=36 are never issued.
        assert_eq!(LabelCode::from_symbols([0, 0, 0, 0, 0, 1, 0]), None);
        assert_eq!(LabelCode::from_symbols([0, 0, 0, 0, 0, 1, 4]), None);
        // Out-of-range symbol values.
        assert_eq!(LabelCode::from_symbols([32, 0, 0, 0, 0, 0, 0]), None);
        // A code of letters only is not scanner-safe.
        let letters = (10u8..32)
            .filter_map(|s| LabelCode::from_symbols([10, 11, 12, 13, 14, 15, s]))
            .find(|c| c.0.iter().all(u8::is_ascii_alphabetic))
            .expect("some ABCDEF? body has a letter check");
        assert!(!letters.is_scanner_safe());
        // 6 comes out as '-', no marker: a code whose only digits are 6 is not safe,
        // its mangled bare form cannot be recovered.
        let sixes = code("66AP6AA");
        assert_eq!(sixes.as_str(), "66AP6AAP");
        assert!(!sixes.is_scanner_safe());
        assert_eq!(us_to_azerty(sixes.as_str()), "--QP-QQP");
        assert_eq!(
            parse_scan("--QP-QQP"),
            Err(CodeError::WrongLength { len: 5 })
        );
        assert!(code("6600001").is_scanner_safe());
        // Codes order as their values.
        assert!(code("0000001") < code("000000Z"));
        // Badge.
        let b = BadgeCode::new(c);
        assert_eq!(b.code(), c);
        assert_eq!(b.as_str(), "FB7K3M9QX8");
        assert_eq!(b.to_string(), "FB7K3M9QX8");
        assert_eq!(b.hyphenated(), "FB-7K3M-9QX8");
        assert_eq!(format!("{b:?}"), "BadgeCode(FB7K3M9QX8)");
    }

    #[test]
    fn accepted_label_forms() {
        let c = example();
        for s in [
            "7K3M9QX8",
            "7k3m9qx8",
            "7K3m9Qx8",
            "7K3M-9QX8",
            "7k3m-9qx8",
            "7K3M 9QX8",
            "7-K-3-M-9-Q-X-8",
            " \t7K3M-9QX8\r\n",
            "HTTPS://FILIERE.EXAMPLE.ORG/I/7K3M9QX8",
            "https://filiere.example.org/i/7k3m9qx8",
            "https://filiere.example.org/I/7K3M-9QX8",
            "http://localhost:8080/I/7K3M9QX8/",
            "HTTP://192.168.1.10:3000/i/7k3m-9qx8/\n",
        ] {
            assert_eq!(parse_scan(s), label(c, false), "{s:?}");
            assert_eq!(
                parse_label(s),
                Ok(Parsed {
                    value: c,
                    azerty_recovered: false
                }),
                "{s:?}"
            );
            assert_eq!(LabelCode::parse(s), Ok(c), "{s:?}");
            assert_eq!(s.parse::<LabelCode>(), Ok(c), "{s:?}");
        }
    }

    #[test]
    fn stored_codes_read_as_their_label() {
        assert_eq!(LabelCode::readable("7K3M9QX8"), "7K3M-9QX8");
        assert_eq!(LabelCode::readable("7K3M-9QX8"), "7K3M-9QX8");
        // Not a label code (a bad check symbol, a serial): shown as it is.
        assert_eq!(LabelCode::readable("7K3M9QX9"), "7K3M9QX9");
        assert_eq!(LabelCode::readable("5CG7301XYZ"), "5CG7301XYZ");
    }

    #[test]
    fn accepted_badge_forms() {
        let b = BadgeCode::new(example());
        for s in [
            "FB7K3M9QX8",
            "fb7k3m9qx8",
            "FB-7K3M-9QX8",
            "fb-7k3m-9qx8",
            "  FB 7K3M 9QX8\n",
        ] {
            assert_eq!(
                parse_scan(s),
                Ok(Parsed {
                    value: Scan::Badge(b),
                    azerty_recovered: false
                }),
                "{s:?}"
            );
            assert_eq!(BadgeCode::parse(s), Ok(b), "{s:?}");
            assert_eq!(s.parse::<BadgeCode>(), Ok(b), "{s:?}");
        }
    }

    #[test]
    fn errors() {
        use CodeError::*;
        assert_eq!(parse_scan(""), Err(Empty));
        assert_eq!(parse_scan(" \r\n\t"), Err(Empty));
        assert_eq!(parse_scan("7K3M9QX"), Err(WrongLength { len: 7 }));
        assert_eq!(parse_scan("7K3M-9QX88"), Err(WrongLength { len: 9 }));
        assert_eq!(parse_scan("AB7K3M9QX8"), Err(WrongLength { len: 10 }));
        assert_eq!(parse_scan("---"), Err(WrongLength { len: 0 }));
        assert_eq!(parse_scan("https://h.org/i/"), Err(WrongLength { len: 0 }));
        // Not a label URL: read as a plain (far too long) string.
        assert_eq!(
            parse_scan("https://h.org/x/7K3M9QX8"),
            Err(WrongLength { len: 24 })
        );
        // Crockford leniency is not applied: O, I, L, U are refused.
        assert_eq!(
            parse_scan("7K3M9QXO"),
            Err(InvalidCharacter {
                ch: 'O',
                position: 8
            })
        );
        assert_eq!(
            parse_scan("IK3M9QX8"),
            Err(InvalidCharacter {
                ch: 'I',
                position: 1
            })
        );
        assert_eq!(
            parse_scan("7K3M-9QXl"),
            Err(InvalidCharacter {
                ch: 'l',
                position: 9
            })
        );
        assert_eq!(
            parse_scan("  7U3M9QX8"),
            Err(InvalidCharacter {
                ch: 'U',
                position: 2
            })
        );
        assert_eq!(
            parse_scan("https://h.org/I/7K3M9QXo"),
            Err(InvalidCharacter {
                ch: 'o',
                position: 24
            })
        );
        assert_eq!(
            parse_scan("FB-7K3M-9QXO"),
            Err(InvalidCharacter {
                ch: 'O',
                position: 12
            })
        );
        assert_eq!(
            parse_scan("7K3M9QX+"),
            Err(InvalidCharacter {
                ch: '+',
                position: 8
            })
        );
        assert_eq!(parse_scan("7K3M9QX2"), Err(CheckMismatch));
        assert_eq!(parse_scan("FB7K3M9QX2"), Err(CheckMismatch));
        assert_eq!(LabelCode::parse("FB7K3M9QX8"), Err(NotALabel));
        assert_eq!(parse_label("FB-7K3M-9QX8"), Err(NotALabel));
        assert_eq!(BadgeCode::parse("7K3M9QX8"), Err(NotABadge));
        assert_eq!(BadgeCode::parse(""), Err(Empty));
    }

    #[test]
    fn error_messages() {
        use CodeError::*;
        assert_eq!(Empty.to_string(), "empty code");
        assert_eq!(Empty.message_fr(), "code vide");
        assert_eq!(
            WrongLength { len: 7 }.message_fr(),
            "un code compte 8 caractères, reçu 7"
        );
        assert_eq!(
            WrongLength { len: 7 }.to_string(),
            "a code has 8 characters, got 7"
        );
        let bad = InvalidCharacter {
            ch: 'O',
            position: 8,
        };
        assert_eq!(bad.to_string(), "invalid character 'O' at position 8");
        assert_eq!(bad.message_fr(), "caractère « O » invalide en position 8");
        assert_eq!(
            CheckMismatch.message_fr(),
            "le caractère de contrôle ne correspond pas : code mal lu ou mal saisi"
        );
        for e in [
            Empty,
            WrongLength { len: 3 },
            bad,
            CheckMismatch,
            NotALabel,
            NotABadge,
        ] {
            assert!(!e.to_string().is_empty());
            assert!(!e.message_fr().is_empty());
            assert_ne!(e.to_string(), e.message_fr());
        }
    }

    #[test]
    fn forward_mapping_matches_the_spec_example() {
        assert_eq!(
            us_to_azerty("HTTPS://H.ORG/I/7K3M9QX2"),
            "HTTPSM!!H:ORG!I!èK\"?çAXé"
        );
    }

    #[test]
    fn azerty_mangled_scans_are_recovered() {
        let c = example();
        let cases = [
            // bare code
            ("7K3M9QX8", "èK\"?çAX_"),
            // hyphenated: '-' comes out as ')'
            ("7K3M-9QX8", "èK\"?)çAX_"),
            // upper-case URL (the QR content)
            ("HTTPS://H.ORG/I/7K3M9QX8", "HTTPSM!!H:ORG!I!èK\"?çAX_"),
            // lower case: 'm' comes out as ',' and 'q' as 'a'
            ("7k3m9qx8", "èk\",çax_"),
            ("https://h.org/i/7k3m-9qx8", "httpsM!!h:org!i!èk\",)çax_"),
            // a port: ':' is typed shifted ('M'), digits unshifted
            (
                "HTTPS://H.ORG:8080/I/7K3M9QX8/",
                "HTTPSM!!H:ORGM_à_à!I!èK\"?çAX_!",
            ),
        ];
        for (plain, mangled) in cases {
            assert_eq!(us_to_azerty(plain), mangled);
            assert_eq!(parse_scan(mangled), label(c, true), "{mangled:?}");
            assert_eq!(
                parse_label(&format!("  {mangled}\r\n")),
                Ok(Parsed {
                    value: c,
                    azerty_recovered: true
                })
            );
            assert_eq!(LabelCode::parse(mangled), Ok(c));
        }
        // Upper-case accented letters (caps lock) are markers too.
        assert_eq!(parse_scan("ÈK\"?ÇAX_"), label(c, true));
        // A mangled badge.
        assert_eq!(
            parse_scan(&us_to_azerty("FB-7K3M-9QX8")),
            Ok(Parsed {
                value: Scan::Badge(BadgeCode::new(c)),
                azerty_recovered: true
            })
        );
        assert_eq!(
            BadgeCode::parse(&us_to_azerty("FB7K3M9QX8")),
            Ok(BadgeCode::new(c))
        );
        assert_eq!(
            LabelCode::parse(&us_to_azerty("FB7K3M9QX8")),
            Err(CodeError::NotALabel)
        );
    }

    #[test]
    fn failed_recovery_returns_the_first_error() {
        // 7K3M9QX2 mangled: recovery gives a code whose check fails.
        let mangled = us_to_azerty("7K3M9QX2");
        assert_eq!(mangled, "èK\"?çAXé");
        assert_eq!(
            parse_scan(&mangled),
            Err(CodeError::InvalidCharacter {
                ch: 'è',
                position: 1
            })
        );
        // Mangled URL with a wrong check.
        assert_eq!(
            parse_scan(&us_to_azerty("HTTPS://H.ORG/I/7K3M9QX2")),
            Err(CodeError::WrongLength { len: 24 })
        );
        // A marker alone does not make garbage acceptable.
        assert_eq!(
            parse_scan("7K3M9QX!"),
            Err(CodeError::InvalidCharacter {
                ch: '!',
                position: 8
            })
        );
    }

    #[test]
    fn no_marker_no_recovery() {
        // 7K3M9AX8 is 7K3M9QX8 with Q typed as A. Mapping A↔Q back would give a valid
        // code, but without a marker character this is just a typo: refused.
        assert_eq!(parse_scan("7K3M9AX8"), Err(CodeError::CheckMismatch));
        assert_eq!(parse_scan("7K3M9Qx8"), label(example(), false));
    }

    #[test]
    fn serde_round_trip() {
        let c = example();
        let json = serde_json::to_string(&c).expect("serialise");
        assert_eq!(json, "\"7K3M9QX8\"");
        assert_eq!(serde_json::from_str::<LabelCode>(&json).ok(), Some(c));
        assert_eq!(
            serde_json::from_str::<LabelCode>("\"7k3m-9qx8\"").ok(),
            Some(c)
        );
        let err = serde_json::from_str::<LabelCode>("\"7K3M9QX2\"").expect_err("bad check");
        assert!(err.to_string().contains("check character"), "{err}");
        let err = serde_json::from_str::<LabelCode>("\"FB7K3M9QX8\"").expect_err("badge");
        assert!(err.to_string().contains("badge"), "{err}");
        assert!(serde_json::from_str::<LabelCode>("42").is_err());

        let b = BadgeCode::new(c);
        let json = serde_json::to_string(&b).expect("serialise");
        assert_eq!(json, "\"FB7K3M9QX8\"");
        assert_eq!(serde_json::from_str::<BadgeCode>(&json).ok(), Some(b));
        assert_eq!(
            serde_json::from_str::<BadgeCode>("\"fb-7k3m-9qx8\"").ok(),
            Some(b)
        );
        assert!(serde_json::from_str::<BadgeCode>("\"7K3M9QX8\"").is_err());

        let v = serde_json::json!({ "code": c, "badge": b });
        assert_eq!(v.to_string(), r#"{"badge":"FB7K3M9QX8","code":"7K3M9QX8"}"#);
    }

    #[cfg(feature = "openapi")]
    #[test]
    fn openapi_schemas_are_strings() {
        use utoipa::PartialSchema;
        let label = serde_json::to_value(LabelCode::schema()).expect("schema");
        assert_eq!(label["type"], "string", "{label}");
        assert_eq!(
            LabelCode::parse(label["example"].as_str().unwrap()),
            Ok(example())
        );
        let badge = serde_json::to_value(BadgeCode::schema()).expect("schema");
        assert_eq!(badge["type"], "string", "{badge}");
        assert!(BadgeCode::parse(badge["example"].as_str().unwrap()).is_ok());
    }

    fn any_code() -> impl Strategy<Value = LabelCode> {
        prop::array::uniform7(0u8..32).prop_filter_map("check value >= 32", LabelCode::from_symbols)
    }

    fn scanner_safe_code() -> impl Strategy<Value = LabelCode> {
        any_code().prop_filter("not scanner-safe", LabelCode::is_scanner_safe)
    }

    fn host() -> impl Strategy<Value = String> {
        "[a-z][a-z0-9-]{0,12}(\\.[a-z]{2,6}){0,2}(:[0-9]{2,5})?"
    }

    /// The forms of `s` (a bare 8-symbol string) a scanner may send, mangled.
    fn mangled_forms(s: &str) -> Vec<String> {
        let hyphenated = format!("{}-{}", &s[..4], &s[4..]);
        vec![
            us_to_azerty(s),
            us_to_azerty(&hyphenated),
            us_to_azerty(&format!("HTTPS://FILIERE.EXAMPLE.ORG/I/{s}")),
            us_to_azerty(&s.to_lowercase()),
        ]
    }

    /// `s`, a corruption of the scanner-safe `original`, mangled: refused whenever the
    /// mangled string shows a marker (always for a transposition, the hyphenated form
    /// and the URL). Without one (a substitution removed the only marker-producing
    /// symbol) the string is read as-is, like any typed string: it can at most be
    /// another code, never the original (its digit is gone) nor a recovery. (For a
    /// code that is not scanner-safe, mangling can turn a corruption back into the
    /// original, e.g. BBZWBBBT → BBWZBBBT: why such codes are never issued.)
    fn assert_mangled_corruption_refused(
        s: &str,
        original: LabelCode,
    ) -> Result<(), TestCaseError> {
        for m in mangled_forms(s) {
            let r = parse_scan(&m);
            if m.chars().any(is_azerty_marker) {
                prop_assert!(r.is_err(), "{} (from {}) accepted: {:?}", m, s, r);
            } else {
                prop_assert!(
                    r.as_ref().map_or(true, |p| !p.azerty_recovered
                        && p.value != Scan::Label(original)),
                    "{} (from {}) gave {:?}",
                    m,
                    s,
                    r
                );
            }
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn every_code_round_trips(c in any_code(), h in host()) {
            let forms = [
                c.as_str().to_owned(),
                c.to_string(),
                c.hyphenated(),
                c.as_str().to_lowercase(),
                c.hyphenated().to_lowercase(),
                c.qr_content(Some(&h)),
                c.qr_content(Some(&h)).to_lowercase(),
                c.qr_content(None),
            ];
            for s in &forms {
                prop_assert_eq!(LabelCode::parse(s), Ok(c), "{}", s);
                prop_assert_eq!(parse_scan(s), label(c, false), "{}", s);
            }
            let b = BadgeCode::new(c);
            prop_assert_eq!(BadgeCode::parse(&b.as_str()), Ok(b));
            prop_assert_eq!(BadgeCode::parse(&b.hyphenated()), Ok(b));
            let json = serde_json::to_string(&c).expect("serialise");
            prop_assert_eq!(serde_json::from_str::<LabelCode>(&json).ok(), Some(c));
        }

        #[test]
        fn every_substitution_is_refused(c in any_code(), pos in 0usize..8, shift in 1usize..32) {
            let mut bytes = c.0;
            let old = usize::from(value_of(bytes[pos]));
            bytes[pos] = ALPHABET[(old + shift) % 32];
            let s = String::from_utf8(bytes.to_vec()).expect("ASCII");
            prop_assert!(parse_scan(&s).is_err(), "{} accepted", s);
            prop_assert!(parse_scan(&s.to_lowercase()).is_err(), "{} accepted", s);
            prop_assert!(parse_scan(&format!("{}-{}", &s[..4], &s[4..])).is_err(), "{} accepted", s);
            if c.is_scanner_safe() {
                assert_mangled_corruption_refused(&s, c)?;
            }
        }

        #[test]
        fn every_adjacent_transposition_is_refused(c in any_code(), pos in 0usize..7) {
            let mut bytes = c.0;
            if bytes[pos] == bytes[pos + 1] {
                // Swapping equal symbols changes nothing.
                return Ok(());
            }
            bytes.swap(pos, pos + 1);
            let s = String::from_utf8(bytes.to_vec()).expect("ASCII");
            prop_assert!(parse_scan(&s).is_err(), "{} accepted", s);
            prop_assert!(parse_scan(&s.to_lowercase()).is_err(), "{} accepted", s);
            if c.is_scanner_safe() {
                assert_mangled_corruption_refused(&s, c)?;
            }
        }

        #[test]
        fn azerty_mangling_is_recovered(c in scanner_safe_code(), h in host()) {
            let forms = [
                c.as_str().to_owned(),
                c.hyphenated(),
                c.qr_content(Some(&h)),
                c.as_str().to_lowercase(),
                c.hyphenated().to_lowercase(),
            ];
            for s in &forms {
                let m = us_to_azerty(s);
                prop_assert_eq!(parse_scan(&m), label(c, true), "{} from {}", m, s);
                prop_assert_eq!(
                    parse_label(&m),
                    Ok(Parsed { value: c, azerty_recovered: true }),
                    "{} from {}", m, s
                );
            }
            let b = BadgeCode::new(c);
            prop_assert_eq!(BadgeCode::parse(&us_to_azerty(&b.hyphenated())), Ok(b));
        }
    }
}
