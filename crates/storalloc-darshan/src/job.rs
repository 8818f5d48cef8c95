//! The job region: the job record, the exe line and the mount table.

use crate::error::{DarshanError, Region, Result};
use crate::header::ByteOrder;
use crate::tables::formats::{FormatVersion, JOB_METADATA_LEN, JOB_REGION_READ};

/// Job-level data.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub uid: i64,
    pub start_time_sec: i64,
    /// 0 before format 3.41, which did not record it.
    pub start_time_nsec: i64,
    pub end_time_sec: i64,
    pub end_time_nsec: i64,
    pub nprocs: i64,
    pub jobid: i64,
    /// `key=value` pairs of the job metadata, in file order.
    pub metadata: Vec<(String, String)>,
    /// The command line, as darshan-util reports it: the text before the first
    /// newline, or empty when the job region has no newline.
    pub exe: String,
    pub mounts: Vec<Mount>,
}

/// One mount-table entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub fs_type: String,
    pub path: String,
}

impl Job {
    pub(crate) fn parse(format: &FormatVersion, order: ByteOrder, data: &[u8]) -> Result<Job> {
        let fixed = format.job_record_size();
        // darshan-util reads at most 4096 bytes and needs more than the record.
        let data = &data[..data.len().min(JOB_REGION_READ)];
        if data.len() <= fixed {
            return Err(DarshanError::ShortJob {
                region: Region::Job,
                got: data.len(),
                needed: fixed + 1,
            });
        }
        let int = |i: usize| order.u64_at(data, 8 * i) as i64;
        let (start_nsec, end_nsec, rest) = if format.job_has_nsec {
            (int(2), int(4), 5)
        } else {
            (0, 0, 3)
        };
        let end_sec = if format.job_has_nsec { int(3) } else { int(2) };
        let meta_at = 8 * (rest + 2);
        let metadata = parse_metadata(&data[meta_at..meta_at + JOB_METADATA_LEN]);
        let (exe, mounts) = parse_exe_and_mounts(&data[fixed..]);
        Ok(Job {
            uid: int(0),
            start_time_sec: int(1),
            start_time_nsec: start_nsec,
            end_time_sec: end_sec,
            end_time_nsec: end_nsec,
            nprocs: int(rest),
            jobid: int(rest + 1),
            metadata,
            exe,
            mounts,
        })
    }
}

fn c_str(bytes: &[u8]) -> &[u8] {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    &bytes[..end]
}

/// Newline-terminated `key=value` lines; like pydarshan, text after the last
/// newline is ignored. Lines without `=` are kept with an empty value.
fn parse_metadata(raw: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(c_str(raw));
    let mut lines: Vec<&str> = text.split('\n').collect();
    lines.pop();
    lines
        .into_iter()
        .filter(|l| !l.is_empty())
        .map(|l| match l.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (l.to_string(), String::new()),
        })
        .collect()
}

/// `exe\ntype\tpath\ntype\tpath...` up to the first NUL.
fn parse_exe_and_mounts(raw: &[u8]) -> (String, Vec<Mount>) {
    let text = c_str(raw);
    let Some(newline) = text.iter().position(|&b| b == b'\n') else {
        return (String::new(), Vec::new());
    };
    let exe = String::from_utf8_lossy(&text[..newline]).into_owned();
    let mounts = text[newline + 1..]
        .split(|&b| b == b'\n')
        .filter_map(|line| {
            let line = String::from_utf8_lossy(line);
            let mut parts = line.split_whitespace();
            let fs_type = parts.next()?.to_string();
            let path = parts.next()?.to_string();
            Some(Mount { fs_type, path })
        })
        .collect();
    (exe, mounts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exe_needs_a_newline_like_darshan_util() {
        assert_eq!(parse_exe_and_mounts(b"a.out -x\0").0, "");
        let (exe, mounts) = parse_exe_and_mounts(b"a.out -x\nlustre\t/scratch\nnfs\t/home\0junk");
        assert_eq!(exe, "a.out -x");
        assert_eq!(mounts.len(), 2);
        assert_eq!(mounts[1].path, "/home");
    }

    #[test]
    fn metadata_ignores_the_unterminated_tail() {
        let md = parse_metadata(b"lib_ver=3.1.8\nh=romio_no_indep_rw=true\ntail=x\0");
        assert_eq!(
            md,
            vec![
                ("lib_ver".to_string(), "3.1.8".to_string()),
                ("h".to_string(), "romio_no_indep_rw=true".to_string()),
            ]
        );
    }
}
