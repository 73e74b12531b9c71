//! The terminal and the user `trackseed create` talks to.

use std::io::IsTerminal;

/// Whether standard input is a terminal (a person can answer questions there).
pub fn stdin_is_terminal() -> bool {
    std::io::stdin().is_terminal()
}

/// Whether the process runs with root's effective user id (may bind ports below 1024).
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_root_agrees_with_proc() {
        let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
        let euid: u32 = status
            .lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().nth(1))
            .and_then(|id| id.parse().ok())
            .expect("an effective uid");
        assert_eq!(is_root(), euid == 0);
    }
}
