//! The same logs, re-encoded as bzip2, uncompressed and multi-stream zlib,
//! decode to exactly the same content.

mod common;

use common::Encoding;
use storalloc_darshan::{Compression, DarshanLog, ModuleData};

fn same_content(a: &DarshanLog, b: &DarshanLog, what: &str) {
    assert_eq!(a.summary(), b.summary(), "{what}: summary");
    assert_eq!(a.job, b.job, "{what}: job");
    let mut an: Vec<_> = a.name_records().collect();
    let mut bn: Vec<_> = b.name_records().collect();
    an.sort_unstable();
    bn.sort_unstable();
    assert_eq!(an, bn, "{what}: names");
    assert_eq!(a.modules.len(), b.modules.len(), "{what}: modules");
    for (ma, mb) in a.modules.iter().zip(&b.modules) {
        match (&ma.data, &mb.data) {
            (ModuleData::Counters(x), ModuleData::Counters(y)) => {
                assert_eq!(x.len(), y.len(), "{what}: {:?}", ma.slot.module);
                for (rx, ry) in x.records().zip(y.records()) {
                    assert_eq!((rx.id, rx.rank, rx.counters), (ry.id, ry.rank, ry.counters));
                    let fx: Vec<u64> = rx.fcounters.iter().map(|f| f.to_bits()).collect();
                    let fy: Vec<u64> = ry.fcounters.iter().map(|f| f.to_bits()).collect();
                    assert_eq!(fx, fy, "{what}: fcounters");
                }
            }
            (ModuleData::Lustre(x), ModuleData::Lustre(y)) => assert_eq!(x, y, "{what}: lustre"),
            (ModuleData::Skipped, ModuleData::Skipped) => {}
            _ => panic!("{what}: module kinds differ"),
        }
    }
}

#[test]
fn bzip2_uncompressed_and_multi_stream_logs_read_like_the_originals() {
    let encodings = [
        (Encoding::Bzip2 { streams: 2 }, Compression::Bzip2),
        (Encoding::None, Compression::None),
        (Encoding::Zlib { streams: 4 }, Compression::Zlib),
    ];
    for (rel, path) in common::real_logs() {
        let bytes = std::fs::read(&path).expect("read log");
        let original = DarshanLog::parse(&bytes).expect("original parses");
        for (encoding, compression) in encodings {
            let what = format!("{rel} as {encoding:?}");
            let copy = common::reencode(&bytes, encoding);
            let decoded = DarshanLog::parse(&copy).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(decoded.header.compression, compression, "{what}");
            same_content(&original, &decoded, &what);
        }
    }
}

#[test]
fn the_big_endian_log_decodes_like_its_little_endian_twin() {
    let dir = common::data_dir().join("release_logs");
    let be = DarshanLog::open(dir.join("mpi-io-test-ppc64-3.1.8.darshan")).expect("ppc64 log");
    let le = DarshanLog::open(dir.join("mpi-io-test-x86_64-3.1.8.darshan")).expect("x86 log");
    assert_eq!(be.header.byte_order, storalloc_darshan::ByteOrder::Big);
    assert_eq!(le.header.byte_order, storalloc_darshan::ByteOrder::Little);
    let posix = |l: &DarshanLog| {
        let t = l
            .counters(storalloc_darshan::ModuleId::Posix)
            .expect("posix");
        let r = t.record(0).expect("one record");
        (
            r.counter("POSIX_BYTES_WRITTEN"),
            r.counter("POSIX_WRITES"),
            r.rank,
        )
    };
    // Same benchmark, same I/O pattern, two machines.
    assert_eq!(posix(&be), posix(&le));
    assert_eq!(posix(&be).0, Some(67_108_864));
}

#[test]
fn partial_flags_are_read_per_module_in_both_header_layouts() {
    use storalloc_darshan::ModuleId;
    let dir = common::data_dir().join("release_logs");
    let partial = |bytes: &[u8], module: ModuleId| {
        let log = DarshanLog::parse(bytes).expect("parses");
        (log.is_partial(), log.module(module).map(|m| m.slot.partial))
    };

    // 3.10: a 32-bit flag at offset 20; POSIX is slot 1.
    let mut old = std::fs::read(dir.join("mpi-io-test-x86_64-3.1.8.darshan")).expect("log");
    assert_eq!(partial(&old, ModuleId::Posix), (false, Some(false)));
    // A flag on a slot without data (slot 3, H5F here) is not reported.
    old[20..24].copy_from_slice(&(1u32 << 3).to_le_bytes());
    assert_eq!(partial(&old, ModuleId::Posix), (false, Some(false)));
    old[20..24].copy_from_slice(&(1u32 << 1).to_le_bytes());
    assert_eq!(partial(&old, ModuleId::Posix), (true, Some(true)));

    // 3.41: a 64-bit flag at offset 24; STDIO is slot 9.
    let mut new = std::fs::read(dir.join("mpi-io-test-x86_64-3.4.7.darshan")).expect("log");
    new[24..32].copy_from_slice(&(1u64 << 9).to_le_bytes());
    assert_eq!(partial(&new, ModuleId::Stdio), (true, Some(true)));
    assert_eq!(partial(&new, ModuleId::Posix).1, Some(false));
}

#[test]
fn every_log_byte_swapped_reads_the_same() {
    for (rel, path) in common::real_logs() {
        let bytes = std::fs::read(&path).expect("read log");
        let original = DarshanLog::parse(&bytes).expect("original parses");
        let swapped = common::swap_byte_order(&bytes);
        let decoded = DarshanLog::parse(&swapped).unwrap_or_else(|e| panic!("{rel} swapped: {e}"));
        assert_ne!(
            decoded.header.byte_order, original.header.byte_order,
            "{rel}"
        );
        same_content(&original, &decoded, &format!("{rel} swapped"));
    }
}
