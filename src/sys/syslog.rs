//! syslog for the daemon (`log.facility`); the foreground process logs to stderr instead.
//!
//! Open it with [`open`] before chrooting: `LOG_NDELAY` connects to `/dev/log` at once, and the
//! socket stays usable inside the chroot, where `/dev/log` usually is not. Without a syslog
//! daemon (no `/dev/log`) messages are dropped silently.

use std::ffi::CStr;

/// A syslog facility, by the names syslog.conf (and ezt) use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Facility {
    Kern,
    User,
    Mail,
    Daemon,
    Auth,
    Syslog,
    Lpr,
    News,
    Uucp,
    Cron,
    AuthPriv,
    Ftp,
    Local0,
    Local1,
    Local2,
    Local3,
    Local4,
    Local5,
    Local6,
    Local7,
}

/// Every facility with its name, in `<syslog.h>` order.
const FACILITIES: [(Facility, &str); 20] = [
    (Facility::Kern, "kern"),
    (Facility::User, "user"),
    (Facility::Mail, "mail"),
    (Facility::Daemon, "daemon"),
    (Facility::Auth, "auth"),
    (Facility::Syslog, "syslog"),
    (Facility::Lpr, "lpr"),
    (Facility::News, "news"),
    (Facility::Uucp, "uucp"),
    (Facility::Cron, "cron"),
    (Facility::AuthPriv, "authpriv"),
    (Facility::Ftp, "ftp"),
    (Facility::Local0, "local0"),
    (Facility::Local1, "local1"),
    (Facility::Local2, "local2"),
    (Facility::Local3, "local3"),
    (Facility::Local4, "local4"),
    (Facility::Local5, "local5"),
    (Facility::Local6, "local6"),
    (Facility::Local7, "local7"),
];

impl Facility {
    /// The facility called `name` (ASCII case ignored); `security` is the old name of `auth`.
    pub fn parse(name: &str) -> Option<Facility> {
        if name.eq_ignore_ascii_case("security") {
            return Some(Facility::Auth);
        }
        FACILITIES
            .iter()
            .find(|(_, n)| n.eq_ignore_ascii_case(name))
            .map(|&(f, _)| f)
    }

    /// The facility's name, as [`Facility::parse`] takes it.
    pub fn name(self) -> &'static str {
        FACILITIES
            .iter()
            .find(|&&(f, _)| f == self)
            .map_or("user", |&(_, n)| n)
    }

    fn raw(self) -> libc::c_int {
        match self {
            Facility::Kern => libc::LOG_KERN,
            Facility::User => libc::LOG_USER,
            Facility::Mail => libc::LOG_MAIL,
            Facility::Daemon => libc::LOG_DAEMON,
            Facility::Auth => libc::LOG_AUTH,
            Facility::Syslog => libc::LOG_SYSLOG,
            Facility::Lpr => libc::LOG_LPR,
            Facility::News => libc::LOG_NEWS,
            Facility::Uucp => libc::LOG_UUCP,
            Facility::Cron => libc::LOG_CRON,
            Facility::AuthPriv => libc::LOG_AUTHPRIV,
            Facility::Ftp => libc::LOG_FTP,
            Facility::Local0 => libc::LOG_LOCAL0,
            Facility::Local1 => libc::LOG_LOCAL1,
            Facility::Local2 => libc::LOG_LOCAL2,
            Facility::Local3 => libc::LOG_LOCAL3,
            Facility::Local4 => libc::LOG_LOCAL4,
            Facility::Local5 => libc::LOG_LOCAL5,
            Facility::Local6 => libc::LOG_LOCAL6,
            Facility::Local7 => libc::LOG_LOCAL7,
        }
    }
}

/// A message's severity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Priority {
    Err,
    Warning,
    Notice,
    Info,
    Debug,
}

impl Priority {
    fn raw(self) -> libc::c_int {
        match self {
            Priority::Err => libc::LOG_ERR,
            Priority::Warning => libc::LOG_WARNING,
            Priority::Notice => libc::LOG_NOTICE,
            Priority::Info => libc::LOG_INFO,
            Priority::Debug => libc::LOG_DEBUG,
        }
    }
}

/// Opens the connection to syslog: each message is tagged `ident[pid]` and filed under
/// `facility`. `ident` is `'static` because libc keeps the pointer, not a copy.
pub fn open(ident: &'static CStr, facility: Facility) {
    // SAFETY: `ident` is NUL-terminated and lives for the rest of the process, as openlog
    // requires; the other arguments are plain integers.
    unsafe {
        libc::openlog(
            ident.as_ptr(),
            libc::LOG_PID | libc::LOG_NDELAY,
            facility.raw(),
        )
    };
}

/// Logs `message` at `priority` (under the facility given to [`open`]; `user` if it was not
/// called). The message is passed as the argument of a `"%s"` format, so `%` in it is
/// harmless; NUL bytes in it become `?`.
pub fn log(priority: Priority, message: &str) {
    let mut text = Vec::with_capacity(message.len() + 1);
    text.extend(message.bytes().map(|b| if b == 0 { b'?' } else { b }));
    text.push(0);
    // SAFETY: the format is a NUL-terminated literal taking one string argument, and `text` is
    // NUL-terminated (no other NUL inside) and lives across the call.
    unsafe {
        libc::syslog(
            priority.raw(),
            c"%s".as_ptr(),
            text.as_ptr().cast::<libc::c_char>(),
        )
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_name_and_back() {
        for (facility, name) in FACILITIES {
            assert_eq!(Facility::parse(name), Some(facility), "{name}");
            assert_eq!(facility.name(), name);
        }
        assert_eq!(Facility::parse("daemon"), Some(Facility::Daemon));
        assert_eq!(Facility::parse("LOCAL3"), Some(Facility::Local3));
        assert_eq!(Facility::parse("authpriv"), Some(Facility::AuthPriv));
        assert_eq!(Facility::parse("security"), Some(Facility::Auth));
    }

    #[test]
    fn rejects_unknown_names() {
        for name in ["", "local8", "local", "daemons", " daemon", "mark", "*"] {
            assert_eq!(Facility::parse(name), None, "{name:?}");
        }
    }

    #[test]
    fn facilities_are_distinct_and_match_the_header() {
        let raws: Vec<libc::c_int> = FACILITIES.iter().map(|(f, _)| f.raw()).collect();
        for (i, raw) in raws.iter().enumerate() {
            // <syslog.h>: facility codes are 0..=11 and 16..=23, shifted left by 3.
            let code = if i < 12 { i } else { i + 4 };
            assert_eq!(*raw, (code as libc::c_int) << 3);
        }
    }

    #[test]
    fn open_and_log_do_not_crash() {
        open(c"trackseed-test", Facility::User);
        log(
            Priority::Info,
            "trackseed unit test: syslog smoke test, 100% harmless",
        );
        log(Priority::Debug, "interior\0NUL");
        log(Priority::Warning, "");
    }
}
