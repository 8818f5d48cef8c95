//! Locating a region in the file and decompressing it.
//!
//! darshan-util restarts its decoder whenever a stream ends before the region
//! does, so a region may hold several concatenated zlib or bzip2 streams. We
//! do the same, but unlike darshan-util we reject a region whose last stream
//! is cut short instead of returning the bytes decoded so far.

use crate::error::{DarshanError, Region, Result};

/// `{offset, length}` of a region in the file, in compressed bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RegionMap {
    pub offset: u64,
    pub len: u64,
}

/// The compression applied to every region after the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    Zlib,
    Bzip2,
    None,
}

impl Compression {
    pub(crate) fn from_code(code: u8) -> Option<Compression> {
        match code {
            0 => Some(Compression::Zlib),
            1 => Some(Compression::Bzip2),
            2 => Some(Compression::None),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Compression::Zlib => "zlib",
            Compression::Bzip2 => "bzip2",
            Compression::None => "uncompressed",
        }
    }
}

/// The compressed bytes of a region, after checking the map lies inside the
/// file and after the header.
pub(crate) fn region_bytes(
    file: &[u8],
    region: Region,
    map: RegionMap,
    data_start: u64,
) -> Result<&[u8]> {
    let file_len = file.len() as u64;
    let out_of_bounds = || DarshanError::RegionOutOfBounds {
        region,
        offset: map.offset,
        len: map.len,
        file_len,
        data_start,
    };
    let end = map.offset.checked_add(map.len).ok_or_else(out_of_bounds)?;
    if map.offset < data_start || end > file_len {
        return Err(out_of_bounds());
    }
    // Both bounds are <= file.len(), so they fit in usize.
    Ok(&file[map.offset as usize..end as usize])
}

/// The largest decompressed size accepted for a region of `compressed_len`
/// bytes: zlib cannot exceed ~1032:1, and Darshan records never approach 4096:1
/// even with bzip2, so anything beyond is a decompression bomb.
pub(crate) fn size_limit(compressed_len: usize, hard_limit: u64) -> u64 {
    (compressed_len as u64)
        .saturating_mul(4096)
        .saturating_add(1 << 20)
        .min(hard_limit)
}

/// Buffers and decoder state kept between regions and logs, so that big
/// buffers and zlib's window are not allocated (and faulted in) each time.
#[derive(Default)]
pub(crate) struct Scratch {
    out: Vec<u8>,
    zlib: Option<ZlibStream>,
}

impl std::fmt::Debug for Scratch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Scratch {{ capacity: {} }}", self.out.capacity())
    }
}

impl Scratch {
    /// Drops the output buffer if one huge region left it bigger than `keep`.
    pub(crate) fn shrink(&mut self, keep: usize) {
        if self.out.capacity() > keep {
            self.out = Vec::new();
        }
    }
}

/// Decompresses a whole region into the scratch buffer, unless it is stored
/// uncompressed.
pub(crate) fn decompress<'a>(
    compression: Compression,
    data: &'a [u8],
    region: Region,
    file_offset: u64,
    hard_limit: u64,
    scratch: &'a mut Scratch,
) -> Result<&'a [u8]> {
    let limit = size_limit(data.len(), hard_limit);
    let out = &mut scratch.out;
    out.clear();
    match compression {
        Compression::None => {
            if data.len() as u64 > limit {
                return Err(DarshanError::TooLarge { region, limit });
            }
            return Ok(data);
        }
        Compression::Zlib => {
            let zlib = scratch.zlib.get_or_insert_with(ZlibStream::new);
            zlib.restart();
            run_streams(zlib, data, region, file_offset, limit, out)?
        }
        Compression::Bzip2 => {
            let mut bzip2 = Bzip2Stream::new();
            run_streams(&mut bzip2, data, region, file_offset, limit, out)?
        }
    }
    Ok(out.as_slice())
}

/// One step of a streaming decoder.
struct Step {
    consumed: usize,
    produced: usize,
    stream_end: bool,
}

trait StreamDecoder {
    const NAME: &'static str;
    fn step(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<Step, String>;
    fn restart(&mut self);
}

struct ZlibStream(flate2::Decompress);

impl ZlibStream {
    fn new() -> Self {
        ZlibStream(flate2::Decompress::new(true))
    }
}

impl StreamDecoder for ZlibStream {
    const NAME: &'static str = "zlib";

    fn step(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<Step, String> {
        let (in0, out0) = (self.0.total_in(), self.0.total_out());
        let status = self
            .0
            .decompress_vec(input, out, flate2::FlushDecompress::None)
            .map_err(|e| e.to_string())?;
        Ok(Step {
            consumed: (self.0.total_in() - in0) as usize,
            produced: (self.0.total_out() - out0) as usize,
            stream_end: status == flate2::Status::StreamEnd,
        })
    }

    fn restart(&mut self) {
        self.0.reset(true);
    }
}

struct Bzip2Stream(bzip2::Decompress);

impl Bzip2Stream {
    fn new() -> Self {
        Bzip2Stream(bzip2::Decompress::new(false))
    }
}

impl StreamDecoder for Bzip2Stream {
    const NAME: &'static str = "bzip2";

    fn step(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<Step, String> {
        let (in0, out0) = (self.0.total_in(), self.0.total_out());
        let status = self
            .0
            .decompress_vec(input, out)
            .map_err(|e| e.to_string())?;
        Ok(Step {
            consumed: (self.0.total_in() - in0) as usize,
            produced: (self.0.total_out() - out0) as usize,
            stream_end: status == bzip2::Status::StreamEnd,
        })
    }

    fn restart(&mut self) {
        self.0 = bzip2::Decompress::new(false);
    }
}

fn run_streams<D: StreamDecoder>(
    decoder: &mut D,
    data: &[u8],
    region: Region,
    file_offset: u64,
    limit: u64,
    out: &mut Vec<u8>,
) -> Result<()> {
    const CHUNK: usize = 256 * 1024;
    let limit_usize = usize::try_from(limit).unwrap_or(usize::MAX);
    let first_guess = data.len().saturating_mul(8).min(limit_usize);
    if out.capacity() < first_guess {
        out.reserve_exact(first_guess);
    }
    let mut pos = 0usize;
    loop {
        if out.len() == out.capacity() {
            if out.len() >= limit_usize {
                return Err(DarshanError::TooLarge { region, limit });
            }
            let grow = out.len().max(CHUNK).min(limit_usize - out.len());
            out.reserve_exact(grow);
        }
        let step = decoder
            .step(&data[pos..], out)
            .map_err(|detail| DarshanError::Decompress {
                region,
                codec: D::NAME,
                offset: file_offset + pos as u64,
                detail,
            })?;
        pos += step.consumed;
        // The reused buffer may be bigger than this region's limit.
        if out.len() > limit_usize {
            return Err(DarshanError::TooLarge { region, limit });
        }
        if step.stream_end {
            if pos >= data.len() {
                return Ok(());
            }
            decoder.restart();
            continue;
        }
        let stuck = step.consumed == 0 && step.produced == 0 && out.len() < out.capacity();
        if stuck {
            return Err(DarshanError::TruncatedStream {
                region,
                codec: D::NAME,
                offset: file_offset + pos as u64,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const REGION: Region = Region::NameRecords;

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn bzip2(data: &[u8]) -> Vec<u8> {
        let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn bombs_stop_at_the_limits() {
        let zeros = vec![0u8; 4 << 20];
        let mut scratch = Scratch::default();
        let packed = zlib(&zeros);
        let err = decompress(Compression::Zlib, &packed, REGION, 0, 1 << 20, &mut scratch);
        assert!(matches!(err, Err(DarshanError::TooLarge { .. })), "{err:?}");
        // bzip2 packs 4 MiB of zeros into a few dozen bytes: past 4096:1.
        let packed = bzip2(&zeros);
        assert!(packed.len() < 256, "{}", packed.len());
        let err = decompress(
            Compression::Bzip2,
            &packed,
            REGION,
            0,
            u64::MAX,
            &mut scratch,
        );
        assert!(matches!(err, Err(DarshanError::TooLarge { .. })), "{err:?}");
        assert!(scratch.out.capacity() <= (1 << 20) + 4096 * 256);

        // A buffer grown by an earlier, bigger region still enforces the limit.
        let packed = zlib(&zeros);
        let out = decompress(
            Compression::Zlib,
            &packed,
            REGION,
            0,
            u64::MAX,
            &mut scratch,
        );
        assert_eq!(out.map(<[u8]>::len).ok(), Some(zeros.len()));
        let err = decompress(Compression::Zlib, &packed, REGION, 0, 1 << 20, &mut scratch);
        assert!(matches!(err, Err(DarshanError::TooLarge { .. })), "{err:?}");
    }

    #[test]
    fn concatenated_streams_and_cut_streams() {
        let mut scratch = Scratch::default();
        let two = [zlib(b"hello "), zlib(b"world")].concat();
        let out = decompress(Compression::Zlib, &two, REGION, 100, u64::MAX, &mut scratch).unwrap();
        assert_eq!(out, b"hello world");
        let cut = &two[..two.len() - 3];
        let err =
            decompress(Compression::Zlib, cut, REGION, 100, u64::MAX, &mut scratch).unwrap_err();
        assert!(
            matches!(
                err,
                DarshanError::TruncatedStream { .. } | DarshanError::Decompress { .. }
            ),
            "{err}"
        );
        let mut garbage = two.clone();
        garbage.extend_from_slice(b"junk");
        let err = decompress(
            Compression::Zlib,
            &garbage,
            REGION,
            100,
            u64::MAX,
            &mut scratch,
        )
        .unwrap_err();
        assert!(err.to_string().contains("name-record region"), "{err}");
    }
}
