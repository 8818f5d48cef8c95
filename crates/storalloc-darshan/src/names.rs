//! The name-record region: record id -> file (or object) name.

use crate::error::{DarshanError, Region, Result};
use crate::header::ByteOrder;
use crate::tables::formats::NameEncoding;
use std::collections::HashMap;

/// Decodes every name record. Like darshan-util, a repeated id keeps its
/// first name unless that name was empty.
pub(crate) fn parse(
    encoding: NameEncoding,
    order: ByteOrder,
    data: &[u8],
) -> Result<HashMap<u64, String>> {
    let mut names: HashMap<u64, String> = HashMap::new();
    let mut pos = 0usize;
    let mut index = 0usize;
    while pos < data.len() {
        let bad = |detail: String| DarshanError::BadRecord {
            region: Region::NameRecords,
            index,
            offset: pos,
            detail,
        };
        let rest = &data[pos..];
        if rest.len() < 8 {
            return Err(bad(format!(
                "{} trailing bytes, too few for a record id",
                rest.len()
            )));
        }
        let id = order.u64_at(rest, 0);
        let (name, used) = match encoding {
            NameEncoding::NulTerminated => {
                let Some(nul) = rest[8..].iter().position(|&b| b == 0) else {
                    return Err(bad(
                        "name has no terminating NUL before the region ends".into()
                    ));
                };
                (&rest[8..8 + nul], 8 + nul + 1)
            }
            NameEncoding::LengthPrefixed => {
                if rest.len() < 12 {
                    return Err(bad("record too short for its length field".into()));
                }
                let len = order.u32_at(rest, 8) as usize;
                if len > rest.len() - 12 {
                    return Err(bad(format!(
                        "name length {len} runs past the region end ({} bytes left)",
                        rest.len() - 12
                    )));
                }
                (&rest[12..12 + len], 12 + len)
            }
        };
        let name = String::from_utf8_lossy(name);
        match names.get_mut(&id) {
            Some(existing) if existing.is_empty() => *existing = name.into_owned(),
            Some(_) => {}
            None => {
                names.insert(id, name.into_owned());
            }
        }
        pos += used;
        index += 1;
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_encodings_and_duplicates() {
        let mut nul = Vec::new();
        for (id, name) in [(7u64, ""), (9, "/b"), (7, "/a"), (9, "/c")] {
            nul.extend_from_slice(&id.to_le_bytes());
            nul.extend_from_slice(name.as_bytes());
            nul.push(0);
        }
        let names = parse(NameEncoding::NulTerminated, ByteOrder::Little, &nul).unwrap();
        assert_eq!(names.len(), 2);
        assert_eq!(names[&7], "/a");
        assert_eq!(names[&9], "/b");

        let mut pre = Vec::new();
        pre.extend_from_slice(&5u64.to_be_bytes());
        pre.extend_from_slice(&3u32.to_be_bytes());
        pre.extend_from_slice(b"/xy");
        let names = parse(NameEncoding::LengthPrefixed, ByteOrder::Big, &pre).unwrap();
        assert_eq!(names[&5], "/xy");

        pre.truncate(pre.len() - 1);
        let err = parse(NameEncoding::LengthPrefixed, ByteOrder::Big, &pre).unwrap_err();
        assert!(
            err.to_string().contains("name-record region: record 0"),
            "{err}"
        );
    }
}
