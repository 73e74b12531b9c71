//! Debian's `mktorrent`, the reference our info dictionaries are compared with, and the
//! library's own info dictionary for the same files.

use std::path::{Path, PathBuf};
use std::process::Command;
use trackseed::metainfo::{self, create};

const INSTALL: &str = "sudo apt-get install -y mktorrent";

/// The `mktorrent` binary. Missing is a failure with the command that installs it: these tests
/// never skip silently.
pub fn binary() -> PathBuf {
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    on_path
        .into_iter()
        .chain([PathBuf::from("/usr/bin")])
        .map(|dir| dir.join("mktorrent"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "mktorrent, the reference these tests compare with, is not installed. \
                 Install it with:\n    {INSTALL}\n(or run tests/deps.sh)"
            )
        })
}

/// The `.torrent` mktorrent writes (to `out`, replaced) for `path` with pieces of
/// `piece_length` (a power of two), announcing to `announce`, private (`-p`) if asked.
pub fn torrent(
    out: &Path,
    path: &Path,
    piece_length: u32,
    announce: &str,
    private: bool,
) -> Vec<u8> {
    assert!(piece_length.is_power_of_two());
    let _ = std::fs::remove_file(out);
    let mut cmd = Command::new(binary());
    cmd.arg("-l")
        .arg(piece_length.trailing_zeros().to_string())
        .arg("-a")
        .arg(announce)
        .arg("-o")
        .arg(out);
    if private {
        cmd.arg("-p");
    }
    let res = cmd.arg(path).output().expect("run mktorrent");
    assert!(
        res.status.success(),
        "mktorrent failed: {}",
        String::from_utf8_lossy(&res.stderr)
    );
    std::fs::read(out).expect("read mktorrent's output")
}

/// The library's info dictionary for `path`: scan, hash, encode.
pub fn library_info(path: &Path, piece_length: u32, private: bool) -> Vec<u8> {
    let layout = metainfo::scan(path).expect("scan");
    let pieces = metainfo::hash_paths(path, &layout, piece_length).expect("hash");
    let mut info = Vec::new();
    create::info_dict(&layout, piece_length, &pieces, private, &mut info).expect("names");
    info
}
