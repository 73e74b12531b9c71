//! `trackseed create`: adds a site, as `ezt create` did. Takes the values given on the command
//! line and asks for the missing ones on the terminal (nickname, torrentdir, filedir,
//! servername, port, in that order), checks each, creates both directories and appends a
//! `site` line to the config file, written atomically.
//!
//! Every check runs before anything is created or written, so a refused value leaves nothing
//! behind.

use std::borrow::Cow;
use std::fs;
use std::io::{self, BufRead, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, UdpSocket};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::CreateArgs;
use crate::config::{self, site, Config, Site, DEFAULT_PORT};
use crate::error::Error;

/// How many answers to one question are checked before `create` gives up.
pub const MAX_TRIES: usize = 5;

/// The comment a new config file starts with.
pub const HEADER: &str = "\
# trackseed.conf, started by `trackseed create`. One `site` line per directory pair:
#   site NICK TORRENTDIR FILEDIR SERVERNAME PORT
# `trackseed --print-config` prints every other key, with its meaning and default.
";

/// Runs `create` on the process's terminal: stdin for the answers, stdout for the questions.
pub fn run(args: &CreateArgs) -> Result<(), Error> {
    let path = &args.config_file;
    let existing = read_existing(path)?;
    let missing = &site::FIELDS[args.values.len().min(site::FIELDS.len())..];
    if !missing.is_empty() && !crate::sys::tty::stdin_is_terminal() {
        return Err(usage(format!(
            "create: no {} given, and stdin is not a terminal to ask for {}; give every \
             value: {} create NICKNAME TORRENTDIR FILEDIR SERVERNAME PORT",
            list(missing),
            if missing.len() == 1 { "it" } else { "them" },
            command_prefix(args)
        )));
    }
    let cwd = std::env::current_dir().map_err(|source| Error::Io {
        what: "create: find the current directory",
        source,
    })?;
    let checks = Checks {
        config: &existing.config,
        config_file: path,
        cwd,
        is_root: crate::sys::tty::is_root(),
        probe: &probe_port,
    };
    let stdin = io::stdin();
    let mut dialog = Dialog {
        input: stdin.lock(),
        output: io::stdout(),
    };
    let new = gather(&args.values, &checks, &mut dialog)?;
    let torrent_created = create_dir(&new.torrent_dir)?;
    let file_created = create_dir(&new.file_dir)?;
    let text = new_text(existing.text.as_deref(), &new.to_line());
    let parsed = config::parse(&text).map_err(|e| Error::ConfigParse {
        path: path.clone(),
        line: e.line,
        reason: format!("{} (the new site line was not written)", e.reason),
    })?;
    if parsed.config.sites.last() != Some(&new) {
        return Err(Error::ConfigInvalid {
            reason: format!(
                "the site line `{}` does not read back as written; nothing was written",
                new.to_line()
            ),
        });
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(|e| io_error("create: cannot create directory", dir, e))?;
    }
    write_atomically(path, &text).map_err(|e| io_error("create: cannot write", path, e))?;
    let pidfile = crate::daemon::pidfile_path(&parsed.config, Some(path));
    let running = crate::sys::daemon::read_running(&pidfile);
    let report = report(
        &new,
        [torrent_created, file_created],
        path,
        existing.text.is_none(),
        &command_prefix(args),
        running,
    );
    dialog
        .output
        .write_all(report.as_bytes())
        .and_then(|()| dialog.output.flush())
        .map_err(|source| Error::Io {
            what: "writing to stdout",
            source,
        })
}

/// The config file as it is, if there is one.
struct Existing {
    /// `None` when there is no file yet.
    text: Option<Vec<u8>>,
    /// The file parsed (the default config when there is none).
    config: Config,
}

fn read_existing(path: &Path) -> Result<Existing, Error> {
    match fs::read(path) {
        Ok(text) => {
            let parsed = config::parse(&text).map_err(|e| Error::ConfigParse {
                path: path.to_path_buf(),
                line: e.line,
                reason: e.reason,
            })?;
            Ok(Existing {
                text: Some(text),
                config: parsed.config,
            })
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Existing {
            text: None,
            config: Config::default(),
        }),
        Err(source) => Err(Error::ConfigRead {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// The questions' terminal: answers are read from `input`, questions written to `output`.
pub struct Dialog<R, W> {
    pub input: R,
    pub output: W,
}

/// What a value is checked against.
pub struct Checks<'a> {
    /// The config file as it is (its sites and listen lines).
    pub config: &'a Config,
    /// Named in messages.
    pub config_file: &'a Path,
    /// Relative directories are made absolute against it.
    pub cwd: PathBuf,
    /// Root may choose a port below 1024.
    pub is_root: bool,
    /// Whether a port is free ([`probe_port`], replaced in tests).
    pub probe: &'a dyn Fn(u16) -> Result<(), String>,
}

impl Checks<'_> {
    /// Syntax, and not taken by another site.
    pub fn nick(&self, text: &str) -> Result<String, String> {
        site::check_nick(text).map_err(|e| e.to_string())?;
        if self.config.sites.iter().any(|s| s.nick == text) {
            return Err(site::SiteError::DuplicateNick(text.into()).to_string());
        }
        Ok(text.to_string())
    }

    /// Made absolute; not an existing non-directory.
    pub fn dir(&self, field: &'static str, text: &str) -> Result<PathBuf, String> {
        if text.is_empty() {
            return Err(format!("{field} is empty; expected a directory path"));
        }
        let path = site::absolute(Path::new(text), &self.cwd);
        site::check_dir(field, &path).map_err(|e| e.to_string())?;
        match fs::metadata(&path) {
            Ok(m) if !m.is_dir() => Err(format!(
                "{field} `{}` exists and is not a directory",
                path.display()
            )),
            _ => Ok(path),
        }
    }

    /// As [`Checks::dir`], and a proper pair with `torrent_dir`.
    pub fn file_dir(&self, text: &str, torrent_dir: &Path) -> Result<PathBuf, String> {
        let path = self.dir(site::FIELDS[2], text)?;
        site::check_dir_pair(torrent_dir, &path).map_err(|e| e.to_string())?;
        Ok(path)
    }

    pub fn server_name(&self, text: &str) -> Result<String, String> {
        site::check_server_name(text).map_err(|e| e.to_string())?;
        Ok(text.to_string())
    }

    /// 1 to 65535; not another site's; 1024 or more unless root; not clashing with a listen
    /// line; free (unless the tracker itself holds it already).
    pub fn port(&self, text: &str) -> Result<u16, String> {
        let port = site::parse_site_port(text).map_err(|e| e.to_string())?;
        if let Some(other) = self.config.sites.iter().find(|s| s.port == port) {
            return Err(site::SiteError::DuplicatePort {
                port,
                other: other.nick.clone(),
            }
            .to_string());
        }
        if port < 1024 && !self.is_root {
            return Err(format!(
                "port {port} is below 1024, which only root may use; choose 1024 to 65535"
            ));
        }
        let any = SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), port);
        let listens = &self.config.listens;
        if let Some(l) = listens
            .iter()
            .find(|l| l.addr.port() == port && l.addr != any)
        {
            return Err(format!(
                "port {port} is already used by the listen address {} in {}; a site listens \
                 on {any}, every address",
                l.addr,
                self.config_file.display()
            ));
        }
        // A running tracker holds the port already when the config listens there (or on the
        // implicit default, which the site's listener replaces).
        let ours =
            listens.iter().any(|l| l.addr == any) || (listens.is_empty() && port == DEFAULT_PORT);
        if !ours {
            (self.probe)(port)?;
        }
        Ok(port)
    }
}

/// Whether `port` is free: TCP and UDP can be bound on 0.0.0.0 and `[::]` (each released at
/// once). A system without IPv6 skips `[::]`.
pub fn probe_port(port: u16) -> Result<(), String> {
    for ip in [
        IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    ] {
        let addr = SocketAddr::new(ip, port);
        let tcp = TcpListener::bind(addr).map(drop);
        let udp = UdpSocket::bind(addr).map(drop);
        for (proto, result) in [("tcp", tcp), ("udp", udp)] {
            match result {
                Ok(()) => {}
                Err(e)
                    if ip.is_ipv6()
                        && matches!(
                            e.raw_os_error(),
                            Some(libc::EAFNOSUPPORT | libc::EADDRNOTAVAIL)
                        ) => {}
                Err(e) if e.kind() == io::ErrorKind::AddrInUse => {
                    return Err(format!(
                        "port {port} is in use ({proto} {addr}); choose another"
                    ))
                }
                Err(e) => return Err(format!("port {port} cannot be bound ({proto} {addr}: {e})")),
            }
        }
    }
    Ok(())
}

/// Takes each value from `values`, in order, or else asks for it.
pub fn gather<R: BufRead, W: Write>(
    values: &[String],
    checks: &Checks<'_>,
    dialog: &mut Dialog<R, W>,
) -> Result<Site, Error> {
    let mut given = values.iter().map(String::as_str);
    let [nick_f, torrent_f, file_f, server_f, port_f] = site::FIELDS;
    let nick = obtain(nick_f, given.next(), dialog, |t| checks.nick(t))?;
    let torrent_dir = obtain(torrent_f, given.next(), dialog, |t| {
        checks.dir(torrent_f, t)
    })?;
    let file_dir = obtain(file_f, given.next(), dialog, |t| {
        checks.file_dir(t, &torrent_dir)
    })?;
    let server_name = obtain(server_f, given.next(), dialog, |t| checks.server_name(t))?;
    let port = obtain(port_f, given.next(), dialog, |t| checks.port(t))?;
    Ok(Site {
        nick,
        torrent_dir,
        file_dir,
        server_name,
        port,
    })
}

/// The value of `field`: `given` checked (a refusal is the error), or else asked for until an
/// answer passes `check` ([`MAX_TRIES`] at most).
fn obtain<T, R: BufRead, W: Write>(
    field: &str,
    given: Option<&str>,
    dialog: &mut Dialog<R, W>,
    check: impl Fn(&str) -> Result<T, String>,
) -> Result<T, Error> {
    if let Some(text) = given {
        return check(text).map_err(|why| usage(format!("create: {why}")));
    }
    let out_err = |source| Error::Io {
        what: "create: writing to stdout",
        source,
    };
    for _ in 0..MAX_TRIES {
        write!(dialog.output, "{field}: ")
            .and_then(|()| dialog.output.flush())
            .map_err(out_err)?;
        let mut line = Vec::new();
        let n = dialog
            .input
            .read_until(b'\n', &mut line)
            .map_err(|source| Error::Io {
                what: "create: reading stdin",
                source,
            })?;
        if n == 0 {
            writeln!(dialog.output).map_err(out_err)?;
            return Err(usage(format!(
                "create: no {field} given (end of input); nothing was created"
            )));
        }
        let answer = match std::str::from_utf8(&line) {
            Ok(text) => check(text.trim()),
            Err(_) => Err("the answer is not valid UTF-8".to_string()),
        };
        match answer {
            Ok(value) => return Ok(value),
            Err(why) => writeln!(dialog.output, "{why}").map_err(out_err)?,
        }
    }
    Err(usage(format!(
        "create: no valid {field} after {MAX_TRIES} tries; nothing was created"
    )))
}

/// Creates `dir` and its parents; `true` when it did not exist before.
fn create_dir(dir: &Path) -> Result<bool, Error> {
    let existed = dir.is_dir();
    fs::create_dir_all(dir).map_err(|e| io_error("create: cannot create directory", dir, e))?;
    Ok(!existed)
}

/// The config text with `line` appended: after `existing` (ending it with a newline first),
/// or after [`HEADER`] for a new file.
pub fn new_text(existing: Option<&[u8]>, line: &str) -> Vec<u8> {
    let mut text = match existing {
        Some(old) => {
            let mut text = old.to_vec();
            if !text.is_empty() && !text.ends_with(b"\n") {
                text.push(b'\n');
            }
            text
        }
        None => format!("{HEADER}\n").into_bytes(),
    };
    text.extend_from_slice(line.as_bytes());
    text.push(b'\n');
    text
}

/// Replaces the file at `path` (the target of a symbolic link) with `text`: a temporary file
/// beside it, written, synced and given the old file's permissions, then renamed over it.
pub fn write_atomically(path: &Path, text: &[u8]) -> io::Result<()> {
    let target = match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => fs::canonicalize(path)?,
        _ => path.to_path_buf(),
    };
    let mode = fs::metadata(&target)
        .ok()
        .map(|m| m.permissions().mode() & 0o7777);
    let name = target
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".tmp{}", std::process::id()));
    let tmp = target.with_file_name(tmp_name);
    let result = (|| {
        let open = || {
            fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(mode.unwrap_or(0o644))
                .open(&tmp)
        };
        let mut file = match open() {
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                // Left over by an earlier run with our pid.
                fs::remove_file(&tmp)?;
                open()?
            }
            other => other?,
        };
        file.write_all(text)?;
        if let Some(mode) = mode {
            // The umask may have cut bits at creation.
            file.set_permissions(fs::Permissions::from_mode(mode))?;
        }
        file.sync_all()?;
        fs::rename(&tmp, &target)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// What was done and what to do next.
fn report(
    new: &Site,
    created: [bool; 2],
    config_file: &Path,
    new_file: bool,
    prefix: &str,
    running: Option<u32>,
) -> String {
    let state = |created: bool| if created { "created" } else { "already there" };
    let next = match running {
        Some(pid) => {
            format!("{prefix} restart   (a daemon runs, pid {pid}: it reloads and adds the site)")
        }
        None => format!("{prefix} start"),
    };
    format!(
        "Site `{nick}`:\n  \
         files to publish: {file_dir} ({file_state}): put the files here\n  \
         .torrent files:   {torrent_dir} ({torrent_state}): serve this directory on the web\n  \
         tracker:          {url} (TCP and UDP port {port})\n\
         Added to {config} ({how}):\n  {line}\n\
         Next: {next}\n",
        nick = new.nick,
        file_dir = new.file_dir.display(),
        file_state = state(created[1]),
        torrent_dir = new.torrent_dir.display(),
        torrent_state = state(created[0]),
        url = new.announce_url(),
        port = new.port,
        config = config_file.display(),
        how = if new_file { "new file" } else { "appended" },
        line = new.to_line(),
    )
}

/// `trackseed -c DIR` or `trackseed -f FILE`, as the command line named the config.
fn command_prefix(args: &CreateArgs) -> String {
    match &args.config_dir {
        Some(dir) => format!("trackseed -c {}", shell_word(&dir.to_string_lossy())),
        None => format!(
            "trackseed -f {}",
            shell_word(&args.config_file.to_string_lossy())
        ),
    }
}

/// `word` as a shell reads it back: as is when safe, else in single quotes.
fn shell_word(word: &str) -> Cow<'_, str> {
    let safe = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_@%+=:,./-".contains(&b));
    if safe {
        Cow::Borrowed(word)
    } else {
        Cow::Owned(format!("'{}'", word.replace('\'', r"'\''")))
    }
}

/// `a`, `a and b`, `a, b and c`.
fn list(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn usage(message: String) -> Error {
    Error::Usage(message)
}

fn io_error(what: &'static str, path: &Path, e: io::Error) -> Error {
    Error::Io {
        what,
        source: io::Error::new(e.kind(), format!("{}: {e}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(nick: &str, port: u16) -> Site {
        Site {
            nick: nick.into(),
            torrent_dir: format!("/www/{nick}").into(),
            file_dir: format!("/srv/{nick}").into(),
            server_name: "router.lan".into(),
            port,
        }
    }

    fn with_sites(sites: &[Site]) -> Config {
        let mut config = Config::default();
        for s in sites {
            config.listens.push(s.listen());
            config.sites.push(s.clone());
        }
        config
    }

    fn free(_: u16) -> Result<(), String> {
        Ok(())
    }

    fn taken(port: u16) -> Result<(), String> {
        Err(format!("port {port} is in use"))
    }

    fn checks<'a>(config: &'a Config, probe: &'a dyn Fn(u16) -> Result<(), String>) -> Checks<'a> {
        Checks {
            config,
            config_file: Path::new("/etc/t/trackseed.conf"),
            cwd: "/home/me".into(),
            is_root: false,
            probe,
        }
    }

    /// Runs [`gather`] on `values` and the typed `answers`; returns the site (or the error
    /// text) and what was written to the terminal.
    fn talk(checks: &Checks<'_>, values: &[&str], answers: &str) -> (Result<Site, String>, String) {
        let values: Vec<String> = values.iter().map(|v| v.to_string()).collect();
        let mut dialog = Dialog {
            input: answers.as_bytes(),
            output: Vec::new(),
        };
        let result = gather(&values, checks, &mut dialog).map_err(|e| e.to_string());
        (result, String::from_utf8(dialog.output).unwrap())
    }

    #[test]
    fn asks_for_the_missing_values_in_order() {
        let config = Config::default();
        let c = checks(&config, &free);
        let (got, out) = talk(&c, &[], "music\nt\n/srv/f\nrouter.lan\n6881\n");
        assert_eq!(
            out, "nickname: torrentdir: filedir: servername: port: ",
            "the prompts, in order"
        );
        assert_eq!(
            got,
            Ok(Site {
                nick: "music".into(),
                torrent_dir: "/home/me/t".into(),
                file_dir: "/srv/f".into(),
                server_name: "router.lan".into(),
                port: 6881,
            })
        );
        let (got, out) = talk(&c, &["music", "/t"], "  /f \r\n[::1]\n6881\n");
        assert_eq!(out, "filedir: servername: port: ");
        assert_eq!(got.unwrap().file_dir, PathBuf::from("/f"));
    }

    #[test]
    fn a_wrong_answer_is_asked_again() {
        let config = with_sites(&[site("music", 7000)]);
        let c = checks(&config, &free);
        let (got, out) = talk(
            &c,
            &[],
            "bad nick\nmusic\nvideo\n/t\n/t/\n/f\nhttp://x\nx.lan\n80\n7000\n7001\n",
        );
        let site = got.expect("gathered");
        assert_eq!((site.nick.as_str(), site.port), ("video", 7001));
        let lines: Vec<&str> = out.split('\n').collect();
        assert_eq!(
            lines[0],
            "nickname: nickname `bad nick` must be 1 to 32 letters, digits, `-` or `_`"
        );
        assert_eq!(
            lines[1],
            "nickname: nickname `music` is already taken by another site"
        );
        assert!(
            lines[2].starts_with(
                "nickname: torrentdir: filedir: torrentdir and filedir are the same directory"
            ),
            "{}",
            lines[2]
        );
        assert!(
            lines[3].starts_with("filedir: servername: servername `http://x` has a `/`"),
            "{}",
            lines[3]
        );
        assert!(
            lines[4].starts_with("servername: port: port 80 is below 1024"),
            "{}",
            lines[4]
        );
        assert_eq!(lines[5], "port: port 7000 is already used by site `music`");
        assert_eq!(lines[6], "port: ");
    }

    #[test]
    fn gives_up_after_five_tries_or_at_end_of_input() {
        let config = Config::default();
        let c = checks(&config, &free);
        let (got, out) = talk(&c, &[], ".\n.\n.\n.\n.\nfine\n");
        assert_eq!(
            got.unwrap_err(),
            "create: no valid nickname after 5 tries; nothing was created"
        );
        assert_eq!(out.matches("nickname: ").count(), 5);
        let (got, _) = talk(&c, &["a"], "/t\n");
        assert_eq!(
            got.unwrap_err(),
            "create: no filedir given (end of input); nothing was created"
        );
        let (got, out) = talk(&c, &["a", "/t", "/f", "h"], "\u{0}\n\u{ff}\n7000\n");
        assert_eq!(got.unwrap().port, 7000);
        assert!(out.contains("port `\u{0}` must be"), "{out}");
        let (got, out) = {
            let mut dialog = Dialog {
                input: &b"\xff\n7000\n"[..],
                output: Vec::new(),
            };
            let values = ["a", "/t", "/f", "h"].map(String::from);
            let r = gather(&values, &c, &mut dialog);
            (r, String::from_utf8(dialog.output).unwrap())
        };
        assert_eq!(got.unwrap().port, 7000);
        assert!(out.contains("the answer is not valid UTF-8"), "{out}");
    }

    #[test]
    fn given_values_are_checked_not_asked_again() {
        let config = with_sites(&[site("music", 7000)]);
        let c = checks(&config, &free);
        let all = |v: [&str; 5]| talk(&c, &v, "").0.unwrap_err();
        assert_eq!(
            all(["music", "/t", "/f", "h", "7001"]),
            "create: nickname `music` is already taken by another site"
        );
        assert_eq!(
            all(["a", "/t", "/t/./", "h", "7001"]),
            "create: torrentdir and filedir are the same directory `/t`; they must differ"
        );
        assert_eq!(
            all(["a", "/f/t", "/f", "h", "7001"]),
            "create: torrentdir `/f/t` is inside filedir `/f`: the .torrent files would be \
             published too"
        );
        assert_eq!(
            all(["a", "/t", "/f", "", "7001"]),
            "create: servername `` is empty; expected this router's DNS name or IP address"
        );
        assert_eq!(
            all(["a", "/t", "/f", "h", "0"]),
            "create: port `0` must be a number from 1 to 65535"
        );
        assert_eq!(
            all(["a", "/t", "/f", "h", "65536"]),
            "create: port `65536` must be a number from 1 to 65535"
        );
        assert_eq!(
            all(["a", "/t", "", "h", "7001"]),
            "create: filedir is empty; expected a directory path"
        );
    }

    #[test]
    fn ports() {
        let config = with_sites(&[site("music", 7000)]);
        let c = checks(&config, &taken);
        assert_eq!(c.port("7001"), Err("port 7001 is in use".into()));
        assert_eq!(
            c.port("7000"),
            Err("port 7000 is already used by site `music`".into())
        );
        assert!(c.port("1023").unwrap_err().contains("below 1024"));
        let root = Checks {
            is_root: true,
            ..checks(&config, &free)
        };
        assert_eq!(root.port("80"), Ok(80));
        // The tracker's own listeners are not "in use".
        let config = Config::default();
        assert_eq!(checks(&config, &taken).port("6969"), Ok(6969));
        let mut config = Config::default();
        config.listens.push(config::Listen {
            addr: "[::]:7002".parse().unwrap(),
            tcp: true,
            udp: true,
        });
        assert_eq!(checks(&config, &taken).port("7002"), Ok(7002));
        assert_eq!(
            checks(&config, &taken).port("6969"),
            Err("port 6969 is in use".into()),
            "a listen line replaces the implicit default"
        );
        config.listens.push(config::Listen {
            addr: "0.0.0.0:7003".parse().unwrap(),
            tcp: true,
            udp: false,
        });
        assert_eq!(
            checks(&config, &free).port("7003"),
            Err(
                "port 7003 is already used by the listen address 0.0.0.0:7003 in \
                 /etc/t/trackseed.conf; a site listens on [::]:7003, every address"
                    .into()
            )
        );
    }

    #[test]
    fn probing_finds_a_taken_port() {
        let holder = TcpListener::bind("0.0.0.0:0").expect("bind");
        let port = holder.local_addr().unwrap().port();
        let why = probe_port(port).unwrap_err();
        assert!(
            why.starts_with(&format!("port {port} is in use (tcp ")),
            "{why}"
        );
        drop(holder);
        let udp = UdpSocket::bind("0.0.0.0:0").expect("bind");
        let port = udp.local_addr().unwrap().port();
        let why = probe_port(port).unwrap_err();
        assert!(why.contains("udp"), "{why}");
    }

    #[test]
    fn text_is_appended_on_a_line_of_its_own() {
        let line = "site a /t /f h 7000";
        assert_eq!(
            new_text(Some(b"tracker.interval 60"), line),
            b"tracker.interval 60\nsite a /t /f h 7000\n"
        );
        assert_eq!(new_text(Some(b"x\n"), line), b"x\nsite a /t /f h 7000\n");
        assert_eq!(new_text(Some(b""), line), b"site a /t /f h 7000\n");
        let fresh = new_text(None, line);
        assert!(fresh.starts_with(HEADER.as_bytes()));
        let parsed = config::parse(&fresh).expect("a new file parses");
        assert_eq!(parsed.config.sites.len(), 1);
        assert!(parsed.warnings.is_empty());
    }

    #[test]
    fn atomic_write_keeps_the_mode_and_follows_links() {
        let dir = std::env::temp_dir().join(format!("trackseed-create-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let file = dir.join("t.conf");
        write_atomically(&file, b"one\n").unwrap();
        assert_eq!(fs::read(&file).unwrap(), b"one\n");
        fs::set_permissions(&file, fs::Permissions::from_mode(0o600)).unwrap();
        write_atomically(&file, b"two\n").unwrap();
        assert_eq!(fs::read(&file).unwrap(), b"two\n");
        let mode = fs::metadata(&file).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, 0o600);
        let link = dir.join("link.conf");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        write_atomically(&link, b"three\n").unwrap();
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(fs::read(&file).unwrap(), b"three\n");
        let leftovers = fs::read_dir(&dir).unwrap().count();
        assert_eq!(leftovers, 2, "no temporary file is left");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn words_and_lists() {
        assert_eq!(shell_word("/etc/trackseed"), "/etc/trackseed");
        assert_eq!(shell_word("/my dir"), "'/my dir'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(list(&["a"]), "a");
        assert_eq!(list(&["a", "b"]), "a and b");
        assert_eq!(list(&["a", "b", "c"]), "a, b and c");
        let args = CreateArgs {
            config_file: "/e/t/trackseed.conf".into(),
            config_dir: Some("/e/t".into()),
            values: vec![],
        };
        assert_eq!(command_prefix(&args), "trackseed -c /e/t");
        let args = CreateArgs {
            config_dir: None,
            ..args
        };
        assert_eq!(command_prefix(&args), "trackseed -f /e/t/trackseed.conf");
    }

    #[test]
    fn report_says_what_was_done_and_what_next() {
        let s = site("music", 7000);
        let text = report(
            &s,
            [true, false],
            Path::new("/e/trackseed.conf"),
            true,
            "trackseed -c /e",
            None,
        );
        assert!(text.contains("/srv/music (already there)"), "{text}");
        assert!(text.contains("/www/music (created)"), "{text}");
        assert!(text.contains("http://router.lan:7000/announce"), "{text}");
        assert!(text.contains("(new file)"), "{text}");
        assert!(text.ends_with("Next: trackseed -c /e start\n"), "{text}");
        let text = report(
            &s,
            [true, true],
            Path::new("/e/trackseed.conf"),
            false,
            "trackseed -c /e",
            Some(42),
        );
        assert!(text.contains("Next: trackseed -c /e restart"), "{text}");
    }
}
