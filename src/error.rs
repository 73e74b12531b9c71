//! Start-up and operator errors: each variant names the thing that failed and carries the path,
//! address or line it concerns. `main` prints one of these and exits non-zero. Protocol errors
//! are not here: they are `wire::Error` (counted, answered or dropped) or tracker failure reasons.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug)]
pub enum Error {
    /// The command line could not be understood (the message says how).
    Usage(String),
    /// A config file could not be read.
    ConfigRead { path: PathBuf, source: io::Error },
    /// A config line is wrong: file, 1-based line number and reason.
    ConfigParse {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    /// A configured value is out of range or inconsistent with another one.
    ConfigInvalid { reason: String },
    /// A feature asked for on the command line is not built yet.
    NotYetSupported { what: String },
    /// A listening socket could not be created or bound.
    SocketBind {
        addr: SocketAddr,
        proto: &'static str,
        source: io::Error,
    },
    /// An access-list FIFO could not be created or opened.
    Fifo { path: PathBuf, source: io::Error },
    /// `trackseed start` while a daemon for the same pid file runs.
    AlreadyRunning { pidfile: PathBuf, pid: Option<u32> },
    /// `trackseed restart` with no daemon running.
    NotRunning { pidfile: PathBuf },
    /// Any other system call failed at start-up or in the loop.
    Io {
        what: &'static str,
        source: io::Error,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(msg) => write!(f, "{msg}"),
            Error::ConfigRead { path, source } => {
                write!(f, "cannot read config file {}: {source}", path.display())
            }
            Error::ConfigParse { path, line, reason } => {
                write!(f, "{}:{line}: {reason}", path.display())
            }
            Error::ConfigInvalid { reason } => write!(f, "invalid configuration: {reason}"),
            Error::NotYetSupported { what } => write!(f, "{what} is not yet supported"),
            Error::SocketBind {
                addr,
                proto,
                source,
            } => {
                write!(f, "cannot listen on {proto} {addr}: {source}")
            }
            Error::Fifo { path, source } => {
                write!(
                    f,
                    "cannot open access-list FIFO {}: {source}",
                    path.display()
                )
            }
            Error::AlreadyRunning { pidfile, pid } => match pid {
                Some(pid) => write!(
                    f,
                    "already running (pid {pid}, pid file {})",
                    pidfile.display()
                ),
                None => write!(
                    f,
                    "already running (pid file {} is locked)",
                    pidfile.display()
                ),
            },
            Error::NotRunning { pidfile } => {
                write!(f, "not running (no daemon holds {})", pidfile.display())
            }
            Error::Io { what, source } => write!(f, "{what}: {source}"),
        }
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_what_failed() {
        let e = Error::ConfigParse {
            path: "/etc/trackseed.conf".into(),
            line: 7,
            reason: "unknown key `tracker.foo`".into(),
        };
        assert_eq!(
            e.to_string(),
            "/etc/trackseed.conf:7: unknown key `tracker.foo`"
        );
        let e = Error::SocketBind {
            addr: "127.0.0.1:80".parse().unwrap(),
            proto: "tcp",
            source: io::Error::from(io::ErrorKind::PermissionDenied),
        };
        assert!(e
            .to_string()
            .starts_with("cannot listen on tcp 127.0.0.1:80: "));
        let e = Error::NotYetSupported {
            what: "-w (access whitelist)".into(),
        };
        assert_eq!(e.to_string(), "-w (access whitelist) is not yet supported");
    }
}
