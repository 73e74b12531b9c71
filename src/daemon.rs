//! `trackseed start | stop | restart | status`: the daemon's life, with a pid file held under a
//! lock so a second daemon for the same config refuses to start (ezt's verbs; OpenWrt's procd
//! runs the plain foreground `trackseed` instead).

use crate::cli::Verb;
use crate::config::Config;
use crate::error::Error;
use crate::sys::daemon::{self as sys_daemon, PidFile, PidFileError};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long `stop` waits for the daemon to exit after SIGTERM.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// The pid file: `tracker.pidfile`, else `trackseed.pid` beside the config file (in the working
/// directory with the built-in config).
pub fn pidfile_path(config: &Config, config_file: Option<&Path>) -> PathBuf {
    if let Some(p) = &config.pidfile {
        return p.clone();
    }
    let dir = config_file
        .and_then(Path::parent)
        .filter(|d| !d.as_os_str().is_empty());
    dir.map_or_else(
        || PathBuf::from("trackseed.pid"),
        |d| d.join("trackseed.pid"),
    )
}

/// Takes the pid file for a daemon about to start; refuses when one runs already.
pub fn claim(path: &Path) -> Result<PidFile, Error> {
    PidFile::acquire(path).map_err(|e| match e {
        PidFileError::Running { pid } => Error::AlreadyRunning {
            pidfile: path.to_owned(),
            pid,
        },
        PidFileError::Io { source, .. } => Error::Io {
            what: "open the pid file",
            source,
        },
    })
}

/// Forks into the background once the sockets are bound (so a taken port is reported on the
/// terminal), writes the daemon's pid, and sends further messages to syslog.
pub fn detach(pidfile: &mut PidFile, config: &Config) -> Result<(), Error> {
    sys_daemon::daemonize_then(|| pidfile.write_pid()).map_err(|source| Error::Io {
        what: "daemonize",
        source,
    })?;
    crate::log::to_syslog(config.log_facility);
    Ok(())
}

/// `stop`, `restart` and `status`: returns the exit code (status: 0 running, 3 not running).
pub fn control(verb: Verb, path: &Path) -> Result<u8, Error> {
    let running = sys_daemon::read_running(path);
    match (verb, running) {
        (Verb::Status, Some(pid)) => {
            let up = process_age_secs(pid).map_or(String::new(), |s| {
                format!(", up {}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
            });
            println!("trackseed is running (pid {pid}{up})");
            Ok(0)
        }
        (Verb::Status, None) => {
            println!(
                "trackseed is not running (no daemon holds {})",
                path.display()
            );
            Ok(3)
        }
        (Verb::Stop, None) => {
            println!(
                "trackseed is not running (no daemon holds {})",
                path.display()
            );
            Ok(0)
        }
        (Verb::Stop, Some(pid)) => {
            signal(pid, libc::SIGTERM)?;
            let start = Instant::now();
            while sys_daemon::is_alive(pid) {
                if start.elapsed() > STOP_TIMEOUT {
                    return Err(Error::Io {
                        what: "stop: the daemon did not exit within 10 seconds",
                        source: std::io::ErrorKind::TimedOut.into(),
                    });
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            println!("trackseed stopped (pid {pid})");
            Ok(0)
        }
        (Verb::Restart, Some(pid)) => {
            signal(pid, libc::SIGHUP)?;
            println!("trackseed (pid {pid}) is reloading its config and access lists");
            Ok(0)
        }
        (Verb::Restart, None) => Err(Error::NotRunning {
            pidfile: path.to_owned(),
        }),
        (Verb::Start, _) => Ok(0),
    }
}

fn signal(pid: u32, sig: i32) -> Result<(), Error> {
    sys_daemon::send_signal(pid, sig).map_err(|source| Error::Io {
        what: "signal the daemon",
        source,
    })
}

/// Seconds since process `pid` started, from /proc.
fn process_age_secs(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Field 22 (starttime, clock ticks since boot) counts from after the `(comm)` field.
    let after = &stat[stat.rfind(')')? + 2..];
    let started: u64 = after.split_whitespace().nth(19)?.parse().ok()?;
    // Whole seconds only: parsing the fraction as a float would pull float parsing into the
    // router binary (13 KB) for no use.
    let text = std::fs::read_to_string("/proc/uptime").ok()?;
    let uptime: u64 = text.split(['.', ' ']).next()?.parse().ok()?;
    let ticks = crate::sys::clock_ticks_per_sec()?;
    Some(uptime.saturating_sub(started / ticks))
}
