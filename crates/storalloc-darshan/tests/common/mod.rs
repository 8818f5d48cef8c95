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
    transcode(original, encoding, false)
}

/// Like [`reencode`], with every decoded field in the other byte order
/// (regions of modules the reader skips are copied as they are).
pub fn swap_byte_order(original: &[u8]) -> Vec<u8> {
    transcode(original, Encoding::Zlib { streams: 1 }, true)
}

fn swap(buf: &mut [u8], at: usize, width: usize) {
    buf[at..at + width].reverse();
}

fn swap_words(buf: &mut [u8]) {
    for w in buf.chunks_exact_mut(8) {
        w.reverse();
    }
}

fn read_u64(buf: &[u8], at: usize, order: ByteOrder) -> u64 {
    let raw: [u8; 8] = buf[at..at + 8].try_into().expect("8 bytes");
    match order {
        ByteOrder::Little => u64::from_le_bytes(raw),
        ByteOrder::Big => u64::from_be_bytes(raw),
    }
}

/// Swaps the integer fields of one decompressed region, read in `order`.
fn swap_region(kind: RegionKind, data: &mut [u8], order: ByteOrder, version: &str) {
    match kind {
        RegionKind::Job => {
            let ints = if version == "3.41" { 7 } else { 5 };
            swap_words(&mut data[..8 * ints]);
        }
        RegionKind::Names => {
            let mut pos = 0;
            while pos < data.len() {
                swap(data, pos, 8);
                if version == "3.00" {
                    let raw: [u8; 4] = data[pos + 8..pos + 12].try_into().expect("len");
                    let len = match order {
                        ByteOrder::Little => u32::from_le_bytes(raw),
                        ByteOrder::Big => u32::from_be_bytes(raw),
                    } as usize;
                    swap(data, pos + 8, 4);
                    pos += 12 + len;
                } else {
                    let nul = data[pos + 8..].iter().position(|&b| b == 0).expect("NUL");
                    pos += 8 + nul + 1;
                }
            }
        }
        RegionKind::Words => swap_words(data),
        RegionKind::LustreComponents => {
            let mut pos = 0;
            while pos < data.len() {
                let comps = read_u64(data, pos + 16, order) as usize;
                let stripes = read_u64(data, pos + 24, order) as usize;
                swap_words(&mut data[pos..pos + 32]);
                pos += 32;
                for _ in 0..comps {
                    swap_words(&mut data[pos..pos + 56]);
                    pos += 72;
                }
                swap_words(&mut data[pos..pos + 8 * stripes]);
                pos += 8 * stripes;
            }
        }
        RegionKind::Opaque => {}
    }
}

#[derive(Clone, Copy)]
enum RegionKind {
    Job,
    Names,
    /// Records made of 8-byte words only (counter modules, Lustre v1).
    Words,
    LustreComponents,
    Opaque,
}

fn transcode(original: &[u8], encoding: Encoding, swap_order: bool) -> Vec<u8> {
    use storalloc_darshan::ModuleId;
    let log = DarshanLog::parse(original).expect("original parses");
    let h = &log.header;
    let version = log.version();
    let order = h.byte_order;
    let new_order = match (order, swap_order) {
        (ByteOrder::Little, true) => ByteOrder::Big,
        (ByteOrder::Big, true) => ByteOrder::Little,
        (o, false) => o,
    };
    let (name_map_at, slots) = map_layout(version);
    let header_size = h.size() as usize;
    let region = |m: RegionMap, kind: RegionKind| {
        let raw = &original[m.offset as usize..(m.offset + m.len) as usize];
        let mut plain = inflate_all(h.compression, raw);
        if swap_order {
            swap_region(kind, &mut plain, order, version);
        }
        deflate_streams(encoding, &plain)
    };
    let put = |buf: &mut Vec<u8>, at: usize, v: u64| {
        let bytes = match new_order {
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
    if swap_order {
        swap(&mut out, 8, 8);
        if version == "3.41" {
            swap(&mut out, 24, 8);
        } else {
            swap(&mut out, 20, 4);
        }
        let ver_at = name_map_at + 16 + 16 * slots;
        for i in 0..slots {
            swap(&mut out, ver_at + 4 * i, 4);
        }
    }
    out.extend(region(h.job_map, RegionKind::Job));
    let write_region = |out: &mut Vec<u8>, map: RegionMap, at: usize, kind: RegionKind| {
        let data = if map.len == 0 {
            Vec::new()
        } else {
            region(map, kind)
        };
        let off = if data.is_empty() { 0 } else { out.len() as u64 };
        put(out, at, off);
        put(out, at + 8, data.len() as u64);
        out.extend(data);
    };
    write_region(&mut out, h.name_map, name_map_at, RegionKind::Names);
    for i in 0..slots {
        // Empty slots keep their (zero) maps, in the new order.
        put(&mut out, name_map_at + 16 + 16 * i, 0);
        put(&mut out, name_map_at + 24 + 16 * i, 0);
    }
    for m in &h.modules {
        assert!(m.slot < slots);
        let kind = match m.module {
            Some(ModuleId::Lustre) if m.version >= 2 => RegionKind::LustreComponents,
            Some(
                ModuleId::Posix
                | ModuleId::MpiIo
                | ModuleId::Stdio
                | ModuleId::H5F
                | ModuleId::H5D
                | ModuleId::PnetcdfFile
                | ModuleId::PnetcdfVar
                | ModuleId::Lustre,
            ) => RegionKind::Words,
            _ => RegionKind::Opaque,
        };
        write_region(&mut out, m.map, name_map_at + 16 + 16 * m.slot, kind);
    }
    out
}
