//! Shared helpers: where the real logs are, and how to re-encode them.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// `../shared/data/darshan` relative to the repository root.
pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/darshan")
}

/// Every `*.darshan` file under the data directory, with its path relative
/// to it (using `/`), sorted.
pub fn real_logs() -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let mut stack = vec![data_dir()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read data dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "darshan") {
                let rel = path
                    .strip_prefix(data_dir())
                    .expect("under data dir")
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                out.push((rel, path));
            }
        }
    }
    out.sort();
    out
}

use storalloc_darshan::{ByteOrder, Compression, DarshanLog, RegionMap};

/// How [`reencode`] compresses each region.
#[derive(Debug, Clone, Copy)]
pub enum Encoding {
    /// zlib, each region split into `streams` concatenated streams.
    Zlib {
        streams: usize,
    },
    /// bzip2, each region split into `streams` concatenated streams.
    Bzip2 {
        streams: usize,
    },
    None,
}

fn inflate_all(compression: Compression, raw: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    match compression {
        Compression::Zlib => {
            let mut rest = raw;
            while !rest.is_empty() {
                let mut d = flate2::bufread::ZlibDecoder::new(rest);
                d.read_to_end(&mut out).expect("inflate");
                rest = d.into_inner();
            }
        }
        Compression::Bzip2 => {
            bzip2::read::MultiBzDecoder::new(raw)
                .read_to_end(&mut out)
                .expect("bunzip");
        }
        Compression::None => out.extend_from_slice(raw),
    }
    out
}

fn deflate_streams(encoding: Encoding, plain: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let split = |n: usize| -> Vec<&[u8]> {
        let size = plain.len().div_ceil(n.max(1)).max(1);
        plain.chunks(size).collect()
    };
    let mut out = Vec::new();
    match encoding {
        Encoding::None => out.extend_from_slice(plain),
        Encoding::Zlib { streams } => {
            for part in split(streams) {
                let mut e =
                    flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
                e.write_all(part).expect("deflate");
                out.extend(e.finish().expect("deflate"));
            }
        }
        Encoding::Bzip2 { streams } => {
            for part in split(streams) {
                let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
                e.write_all(part).expect("bzip2");
                out.extend(e.finish().expect("bzip2"));
            }
        }
    }
    out
}

/// Header offsets of the name map and module maps, by format version.
fn map_layout(version: &str) -> (usize, usize) {
    if version == "3.41" {
        (32, 64)
    } else {
        (24, 16)
    }
}

/// Rewrites a real log with every region re-compressed as `encoding`,
/// keeping the byte order: a way to get bzip2, uncompressed and multi-stream
/// logs out of the zlib logs we have.
pub fn reencode(original: &[u8], encoding: Encoding) -> Vec<u8> {
    let log = DarshanLog::parse(original).expect("original parses");
    let h = &log.header;
    let order = h.byte_order;
    let (name_map_at, slots) = map_layout(log.version());
    let header_size = h.size() as usize;
    let region = |m: RegionMap| {
        let raw = &original[m.offset as usize..(m.offset + m.len) as usize];
        deflate_streams(encoding, &inflate_all(h.compression, raw))
    };
    let put = |buf: &mut Vec<u8>, at: usize, v: u64| {
        let bytes = match order {
            ByteOrder::Little => v.to_le_bytes(),
            ByteOrder::Big => v.to_be_bytes(),
        };
        buf[at..at + 8].copy_from_slice(&bytes);
    };
    let mut out = original[..header_size].to_vec();
    out[16] = match encoding {
        Encoding::Zlib { .. } => 0,
        Encoding::Bzip2 { .. } => 1,
        Encoding::None => 2,
    };
    out.extend(region(h.job_map));
    let write_region = |out: &mut Vec<u8>, map: RegionMap, at: usize| {
        let data = if map.len == 0 {
            Vec::new()
        } else {
            region(map)
        };
        let off = if data.is_empty() { 0 } else { out.len() as u64 };
        put(out, at, off);
        put(out, at + 8, data.len() as u64);
        out.extend(data);
    };
    write_region(&mut out, h.name_map, name_map_at);
    for m in &h.modules {
        assert!(m.slot < slots);
        write_region(&mut out, m.map, name_map_at + 16 + 16 * m.slot);
    }
    out
}
