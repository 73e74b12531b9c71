//! syslog for the daemon (`log.facility`); the foreground process logs to stderr instead.
//!
//! Our own client rather than musl's `syslog(3)`, which brought `printf`, `strftime` and
//! `tzset` into the static binary (28.6 KB of the mipsel build: docs/BENCHMARKS.md). It sends
//! the datagram musl sends, byte for byte: `<PRI>Mmm dd hh:mm:ss ident[pid]: message` and a newline, PRI being facility * 8 +
//! severity, at most 1024 bytes (a longer message is cut at a UTF-8 character boundary).
//!
//! The timestamp is UTC, as musl writes it too (`gmtime_r`, C locale), so no time zone rules
//! are needed. It is not left out: RFC 3164 (section 4.3.2) has a relay accept a message with
//! a PRI but no TIMESTAMP and add one itself, and busybox syslogd, rsyslog and journald do
//! stamp such a message on receipt, but OpenWrt's own syslogd, ubox's `logd`, does not parse
//! the timestamp: it drops the 16 bytes after the PRI whenever the 16th is a space, which
//! without a timestamp eats `trackseed[123]: ` whole (any 3-digit pid). `logd`, journald and
//! rsyslog (by default) record the time of receipt and ignore the client's; busybox syslogd
//! shows the client's (UTC, as with musl's `syslog(3)`) unless run with `-t`.
//!
//! Open it with [`open`] before chrooting: it connects an `AF_UNIX` datagram socket to
//! `/dev/log` at once, and the socket stays usable inside the chroot, where `/dev/log` usually
//! is not. When a send finds the connection lost (syslogd restarted), the message reconnects
//! once by path, which inside a chroot usually fails. Without a syslog daemon (no `/dev/log`)
//! messages are dropped silently, as are messages that cannot be sent. A send blocks while
//! syslogd's queue is full, as musl's does.

use std::ffi::CStr;
use std::io;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

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

/// Where syslogd listens.
const DEV_LOG: &str = "/dev/log";

/// The longest datagram sent, newline included (musl's limit).
const LINE_MAX: usize = 1024;

/// The connection [`open`] made; `None` before it (or when no socket could be created).
static CLIENT: Mutex<Option<Client>> = Mutex::new(None);

/// Opens the connection to syslog: each message is tagged `ident[pid]` and filed under
/// `facility`. Connects to `/dev/log` now, so call it before chrooting.
pub fn open(ident: &'static CStr, facility: Facility) {
    let client = Client::connect(Path::new(DEV_LOG), ident.to_bytes(), facility);
    *CLIENT.lock().unwrap_or_else(PoisonError::into_inner) = client;
}

/// Logs `message` at `priority` under the facility given to [`open`] (dropped if it was not
/// called). NUL bytes in it become `?`.
pub fn log(priority: Priority, message: &str) {
    let client = CLIENT.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(client) = client.as_ref() {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        client.send(priority, message, now, std::process::id());
    }
}

/// A datagram socket connected to syslogd's, and what each message is tagged with.
struct Client {
    socket: UnixDatagram,
    /// Where to reconnect when the connection is lost.
    path: PathBuf,
    ident: &'static [u8],
    facility: Facility,
}

impl Client {
    /// A socket connected to `path`, or left unconnected if that fails (each message then
    /// tries to connect once); `None` if no socket could be created.
    fn connect(path: &Path, ident: &'static [u8], facility: Facility) -> Option<Client> {
        let socket = UnixDatagram::unbound().ok()?;
        // Failure is not an error: a later syslogd is found when a message reconnects.
        let _ = socket.connect(path);
        Some(Client {
            socket,
            path: path.to_path_buf(),
            ident,
            facility,
        })
    }

    /// Sends `message` stamped with `unix_secs` (UTC) and `pid`. A send that finds the
    /// connection lost reconnects once and retries; any other failure drops the message.
    fn send(&self, priority: Priority, message: &str, unix_secs: u64, pid: u32) {
        let mut line = Line::new();
        line.format(self.facility, priority, self.ident, pid, unix_secs, message);
        let sent = send_all(&self.socket, line.bytes());
        if sent.is_err_and(|e| is_lost_connection(&e)) && self.socket.connect(&self.path).is_ok() {
            let _ = send_all(&self.socket, line.bytes());
        }
    }
}

/// `socket.send`, repeated if a signal interrupts it.
fn send_all(socket: &UnixDatagram, bytes: &[u8]) -> io::Result<()> {
    loop {
        match socket.send(bytes) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            other => return other.map(drop),
        }
    }
}

/// The errors after which musl reconnects: syslogd went away (and may be back).
fn is_lost_connection(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::ECONNREFUSED | libc::ECONNRESET | libc::ENOTCONN | libc::EPIPE)
    )
}

const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// One datagram, built on the stack. Writes past [`LINE_MAX`] - 1 bytes are cut, keeping the
/// last byte for the newline.
struct Line {
    buf: [u8; LINE_MAX],
    len: usize,
}

impl Line {
    fn new() -> Line {
        Line {
            buf: [0; LINE_MAX],
            len: 0,
        }
    }

    fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// `<PRI>Mmm dd hh:mm:ss ident[pid]: message\n`, as musl's `syslog(3)` writes it.
    fn format(
        &mut self,
        facility: Facility,
        priority: Priority,
        ident: &[u8],
        pid: u32,
        unix_secs: u64,
        message: &str,
    ) {
        self.push(b"<");
        // Both are small non-negative constants from <syslog.h>: PRI is at most 191.
        self.push_decimal((facility.raw() | priority.raw()) as u32);
        self.push(b">");
        self.push_timestamp(unix_secs);
        self.push(ident);
        self.push(b"[");
        self.push_decimal(pid);
        self.push(b"]: ");
        let room = LINE_MAX - 1 - self.len;
        let mut end = message.len().min(room);
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        for &b in &message.as_bytes()[..end] {
            self.buf[self.len] = if b == 0 { b'?' } else { b };
            self.len += 1;
        }
        if self.buf[self.len - 1] != b'\n' {
            self.buf[self.len] = b'\n';
            self.len += 1;
        }
    }

    fn push(&mut self, bytes: &[u8]) {
        let n = bytes.len().min(LINE_MAX - 1 - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&bytes[..n]);
        self.len += n;
    }

    fn push_decimal(&mut self, mut n: u32) {
        let mut digits = [0u8; 10];
        let mut i = digits.len();
        loop {
            i -= 1;
            digits[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.push(&digits[i..]);
    }

    /// `n` (below 100) in two characters, the tens as `pad` when zero.
    fn push_two(&mut self, n: u32, pad: u8) {
        let tens = if n >= 10 { b'0' + (n / 10) as u8 } else { pad };
        self.push(&[tens, b'0' + (n % 10) as u8]);
    }

    /// `Mmm dd hh:mm:ss ` (strftime's `%b %e %T `) in UTC.
    fn push_timestamp(&mut self, unix_secs: u64) {
        // The calendar repeats every 400 years (146,097 days): only the day of the era matters.
        let day_of_era = (unix_secs / 86_400 % 146_097) as u32;
        let secs = (unix_secs % 86_400) as u32;
        let (month, day) = month_day(day_of_era);
        self.push(MONTHS[month as usize - 1]);
        self.push(b" ");
        self.push_two(day, b' ');
        self.push(b" ");
        self.push_two(secs / 3600, b'0');
        self.push(b":");
        self.push_two(secs / 60 % 60, b'0');
        self.push(b":");
        self.push_two(secs % 60, b'0');
        self.push(b" ");
    }
}

/// Month (1..=12) and day of month of the day `days` (below 146,097) after 1970-01-01, in the
/// Gregorian calendar (Howard Hinnant's `civil_from_days`, for days on or after the epoch).
fn month_day(days: u32) -> (u32, u32) {
    let doe = (days + 719_468) % 146_097; // day of the 400-year era starting 0000-03-01
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // year of the era
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // day of the year starting in March
    let mp = (5 * doy + 2) / 153; // month, March = 0
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (month, day)
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
    fn timestamps_match_strftime_in_utc() {
        // `date -u -d @SECS '+%b %e %T'`
        for (secs, text) in [
            (0, "Jan  1 00:00:00 "),
            (951_782_400, "Feb 29 00:00:00 "),
            (951_868_799, "Feb 29 23:59:59 "),
            (1_709_622_489, "Mar  5 07:08:09 "),
            (4_102_444_799, "Dec 31 23:59:59 "),
            (u64::MAX, "Nov  9 07:00:15 "),
        ] {
            let mut line = Line::new();
            line.push_timestamp(secs);
            assert_eq!(std::str::from_utf8(line.bytes()), Ok(text), "{secs}");
        }
    }

    #[test]
    fn every_day_of_400_years_follows_the_one_before() {
        let mut expected = (1, 1);
        let mut year = 1970;
        for days in 0..146_097 {
            assert_eq!(month_day(days), expected, "day {days}");
            let (month, day) = expected;
            let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
            let length = match month {
                2 if leap => 29,
                2 => 28,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            };
            expected = match (month, day) {
                (12, 31) => {
                    year += 1;
                    (1, 1)
                }
                (m, d) if d == length => (m + 1, 1),
                (m, d) => (m, d + 1),
            };
        }
    }

    /// A receiving socket at a fresh path in the temp directory.
    fn receiver(name: &str) -> (PathBuf, UnixDatagram) {
        let path = std::env::temp_dir().join(format!(
            "trackseed-syslog-{}-{name}.sock",
            std::process::id()
        ));
        let _ = std::fs::remove_file(&path);
        let socket = UnixDatagram::bind(&path).unwrap();
        socket
            .set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        (path, socket)
    }

    fn receive(socket: &UnixDatagram) -> Vec<u8> {
        let mut buf = [0u8; 2 * LINE_MAX];
        let n = socket.recv(&mut buf).unwrap();
        buf[..n].to_vec()
    }

    #[test]
    fn sends_what_musl_sends() {
        let (path, rx) = receiver("format");
        let client = Client::connect(&path, b"trackseed", Facility::Daemon).unwrap();
        client.send(Priority::Info, "100% up, é", 1_709_622_489, 4321);
        assert_eq!(
            receive(&rx),
            "<30>Mar  5 07:08:09 trackseed[4321]: 100% up, é\n".as_bytes()
        );
        client.send(Priority::Err, "two\n", 0, 7);
        assert_eq!(receive(&rx), b"<27>Jan  1 00:00:00 trackseed[7]: two\n");
        let local7 = Client::connect(&path, b"t", Facility::Local7).unwrap();
        local7.send(Priority::Debug, "a\0b", 0, 1);
        assert_eq!(receive(&rx), b"<191>Jan  1 00:00:00 t[1]: a?b\n");
        local7.send(Priority::Debug, "", 0, 1);
        assert_eq!(receive(&rx), b"<191>Jan  1 00:00:00 t[1]: \n");
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn cuts_long_messages_at_a_character_boundary() {
        let (path, rx) = receiver("cut");
        let client = Client::connect(&path, b"trackseed", Facility::User).unwrap();
        let header = "<14>Jan  1 00:00:00 trackseed[1]: ";
        // Exactly filling the 1023 bytes before the newline.
        let fits = "x".repeat(LINE_MAX - 1 - header.len());
        client.send(Priority::Info, &fits, 0, 1);
        assert_eq!(receive(&rx), format!("{header}{fits}\n").into_bytes());
        // One byte more is cut.
        client.send(Priority::Info, &format!("{fits}y"), 0, 1);
        assert_eq!(receive(&rx), format!("{header}{fits}\n").into_bytes());
        // A 2-byte character straddling the limit goes whole.
        let short = &fits[1..];
        client.send(Priority::Info, &format!("{short}éz"), 0, 1);
        let got = receive(&rx);
        assert_eq!(got, format!("{header}{short}\n").into_bytes());
        assert_eq!(got.len(), LINE_MAX - 1);
        // Much longer: 1024 bytes, newline last.
        client.send(Priority::Info, &"€".repeat(5000), 0, 1);
        let got = receive(&rx);
        assert!(got.len() <= LINE_MAX && got.len() > LINE_MAX - 4);
        assert!(std::str::from_utf8(&got).unwrap().ends_with("€\n"));
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn reconnects_once_the_receiver_is_back() {
        let (path, rx) = receiver("reconnect");
        let client = Client::connect(&path, b"trackseed", Facility::Daemon).unwrap();
        client.send(Priority::Info, "first", 0, 1);
        assert_eq!(receive(&rx), b"<30>Jan  1 00:00:00 trackseed[1]: first\n");

        // syslogd restarts: the old socket goes away, a new one is bound at the same path.
        drop(rx);
        std::fs::remove_file(&path).unwrap();
        client.send(Priority::Info, "while away", 0, 1); // dropped: nothing listens
        let rx = UnixDatagram::bind(&path).unwrap();
        rx.set_nonblocking(true).unwrap();
        client.send(Priority::Info, "second", 0, 1);
        assert_eq!(receive(&rx), b"<30>Jan  1 00:00:00 trackseed[1]: second\n");
        client.send(Priority::Info, "third", 0, 1);
        assert_eq!(receive(&rx), b"<30>Jan  1 00:00:00 trackseed[1]: third\n");
        let mut buf = [0u8; 16];
        assert!(
            rx.recv(&mut buf).is_err(),
            "only the messages sent while bound"
        );
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn starts_unconnected_and_connects_when_the_receiver_appears() {
        let path =
            std::env::temp_dir().join(format!("trackseed-syslog-{}-late.sock", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let client = Client::connect(&path, b"trackseed", Facility::Daemon).unwrap();
        client.send(Priority::Info, "nobody", 0, 1); // dropped silently
        let rx = UnixDatagram::bind(&path).unwrap();
        rx.set_nonblocking(true).unwrap();
        client.send(Priority::Info, "somebody", 0, 1);
        assert_eq!(
            receive(&rx),
            b"<30>Jan  1 00:00:00 trackseed[1]: somebody\n"
        );
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn open_and_log_do_not_crash() {
        log(Priority::Info, "before open: dropped");
        open(c"trackseed-test", Facility::User);
        log(
            Priority::Info,
            "trackseed unit test: syslog smoke test, 100% harmless",
        );
        log(Priority::Debug, "interior\0NUL");
        log(Priority::Warning, "");
    }
}
