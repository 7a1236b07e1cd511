//! The bytes of an audit event as a leaf of the log: its fields, each preceded by its length as a
//! little-endian u64, so that no two different events share a byte string. Events written since
//! the log became a Merkle tree start with the tag [`EVENT_TAG`] and carry no link to the previous
//! event; events of the older hash chain (format 1) are the exact bytes their chain hash was
//! computed over (sequence number first, previous hash last), so that they keep verifying.

/// The first field of an event of format 2.
pub const EVENT_TAG: &str = "sanad-audit-event/2";

/// Field names of format 2, after the tag.
pub const FIELDS_2: [&str; 6] = [
    "at",
    "actor",
    "action",
    "entity_type",
    "entity_id",
    "details",
];
/// Field names of format 1 (the hash chain).
pub const FIELDS_1: [&str; 8] = [
    "seq",
    "at",
    "actor",
    "action",
    "entity_type",
    "entity_id",
    "details",
    "prev_hash",
];

pub fn encode<'a>(fields: impl IntoIterator<Item = &'a str>) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    for f in fields {
        out.extend_from_slice(&(f.len() as u64).to_le_bytes());
        out.extend_from_slice(f.as_bytes());
    }
    out
}

/// The fields of a leaf, or `None` when the bytes are not a sequence of length-prefixed UTF-8
/// fields.
pub fn decode(mut bytes: &[u8]) -> Option<Vec<String>> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let (len, rest) = bytes.split_at_checked(8)?;
        let len = usize::try_from(u64::from_le_bytes(len.try_into().ok()?)).ok()?;
        let (field, rest) = rest.split_at_checked(len)?;
        out.push(String::from_utf8(field.to_vec()).ok()?);
        bytes = rest;
    }
    Some(out)
}

/// The named fields of an event leaf of either format.
pub fn describe(bytes: &[u8]) -> Option<Vec<(&'static str, String)>> {
    let fields = decode(bytes)?;
    if fields.first().map(String::as_str) == Some(EVENT_TAG) && fields.len() == 7 {
        return Some(
            FIELDS_2
                .iter()
                .copied()
                .zip(fields.into_iter().skip(1))
                .collect(),
        );
    }
    if fields.len() == 8 {
        return Some(FIELDS_1.iter().copied().zip(fields).collect());
    }
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn fields_round_trip_and_truncation_is_refused() {
        let bytes = encode([
            EVENT_TAG,
            "2026-01-01T00:00:00Z",
            "agent",
            "household.create",
            "household",
            "H1",
            "{}",
        ]);
        let named = describe(&bytes).unwrap();
        assert_eq!(named[1], ("actor", "agent".to_string()));
        assert!(decode(&bytes[..bytes.len() - 1]).is_none());
    }
}
