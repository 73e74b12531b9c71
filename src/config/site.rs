//! `site` lines: the publisher's directory pairs, as `ezt create` made them.
//!
//! `site NICK TORRENTDIR FILEDIR SERVERNAME PORT`: the files put in FILEDIR are published as
//! .torrent files in TORRENTDIR, whose announce URL names SERVERNAME and PORT; the tracker
//! serves TCP and UDP on `[::]:PORT` for them. Fields are separated by whitespace; a field with
//! whitespace (or `"`, `\`, `#`) is written in double quotes, with `\"` and `\\` inside.
//!
//! Everything here is pure: the config parser and `trackseed create` share these checks, so a
//! line `create` writes is one the parser accepts.

use std::borrow::Cow;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Component, Path, PathBuf};

use super::Listen;

/// The longest nickname, in characters.
pub const NICK_MAX_LEN: usize = 32;

/// The longest DNS name accepted as a server name, in bytes.
pub const SERVER_NAME_MAX_LEN: usize = 253;

/// The field names, in line order (and in the order `trackseed create` asks for them).
pub const FIELDS: [&str; 5] = ["nickname", "torrentdir", "filedir", "servername", "port"];

/// One directory pair the publisher serves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Site {
    /// A unique name: 1 to [`NICK_MAX_LEN`] characters of `[A-Za-z0-9_-]`.
    pub nick: String,
    /// Where the .torrent files are written (a directory the web server serves). Absolute.
    pub torrent_dir: PathBuf,
    /// Where the files to publish are put. Absolute; neither equal to nor containing
    /// `torrent_dir`.
    pub file_dir: PathBuf,
    /// The name clients reach the tracker by: a DNS name, an IPv4 address or a bracketed IPv6
    /// address. Goes into the announce URL.
    pub server_name: String,
    /// The tracker's port for this site (TCP and UDP), 1 to 65535, unique among sites.
    pub port: u16,
}

impl Site {
    /// The listener the site adds: TCP and UDP on `[::]:PORT`, dual-stack, like the implicit
    /// default on 6969.
    pub fn listen(&self) -> Listen {
        Listen {
            addr: SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), self.port),
            tcp: true,
            udp: true,
        }
    }

    /// The HTTP announce URL of the site's torrents.
    pub fn announce_url(&self) -> String {
        self.announce_urls()[0].clone()
    }

    /// Both announce URLs, HTTP then UDP (the order of the BEP 12 tiers in its torrents).
    pub fn announce_urls(&self) -> [String; 2] {
        let (host, port) = (&self.server_name, self.port);
        [
            format!("http://{host}:{port}/announce"),
            format!("udp://{host}:{port}/announce"),
        ]
    }

    /// The config line that declares this site (no line ending), fields quoted where needed.
    /// A site that passed [`check`] parses back to itself.
    pub fn to_line(&self) -> String {
        let fields = [
            quote(&self.nick),
            quote(&self.torrent_dir.to_string_lossy())
                .into_owned()
                .into(),
            quote(&self.file_dir.to_string_lossy()).into_owned().into(),
            quote(&self.server_name),
            Cow::Owned(self.port.to_string()),
        ];
        format!("site {}", fields.join(" "))
    }
}

/// What is wrong with a site line or one of its fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SiteError {
    /// A `"` opens a field that no `"` closes.
    UnclosedQuote,
    /// A `\` inside quotes is followed by something other than `"` or `\`.
    BadEscape(String),
    /// A `"` in the middle of an unquoted field.
    StrayQuote(String),
    /// A closing `"` is followed by something other than whitespace.
    AfterQuote(String),
    /// Not five fields.
    FieldCount(usize),
    /// A nickname that is empty, too long or has a character outside `[A-Za-z0-9_-]`.
    Nick(String),
    /// A field with a control character (tab, escape, ...).
    ControlChar { field: &'static str },
    /// A directory that is empty or not absolute.
    RelativeDir { field: &'static str, path: String },
    /// A directory path that is not UTF-8 (config files are UTF-8).
    NotUtf8 { field: &'static str },
    /// TORRENTDIR and FILEDIR are the same directory.
    SameDir(String),
    /// TORRENTDIR lies inside FILEDIR.
    TorrentDirInFileDir {
        torrent_dir: String,
        file_dir: String,
    },
    /// A server name that is not a DNS name, IPv4 address or bracketed IPv6 address.
    ServerName { name: String, why: &'static str },
    /// A port that is not a number from 1 to 65535.
    Port(String),
    /// Another site has this nickname.
    DuplicateNick(String),
    /// Another site has this port.
    DuplicatePort { port: u16, other: String },
}

impl fmt::Display for SiteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SiteError::UnclosedQuote => write!(f, "a `\"` opens a field that no `\"` closes"),
            SiteError::BadEscape(seq) => write!(
                f,
                "`{seq}` inside quotes: a backslash must be followed by `\"` or `\\`"
            ),
            SiteError::StrayQuote(field) => write!(
                f,
                "`{field}` has a `\"` inside; quote the whole field and write `\\\"` for it"
            ),
            SiteError::AfterQuote(rest) => {
                write!(f, "expected a space after a closing `\"`, got `{rest}`")
            }
            SiteError::FieldCount(n) => write!(
                f,
                "expected 5 fields (NICK TORRENTDIR FILEDIR SERVERNAME PORT), got {n}; \
                 quote a field that has spaces"
            ),
            SiteError::Nick(nick) => write!(
                f,
                "nickname `{nick}` must be 1 to {NICK_MAX_LEN} letters, digits, `-` or `_`"
            ),
            SiteError::ControlChar { field } => {
                write!(f, "{field} has a control character")
            }
            SiteError::RelativeDir { field, path } if path.is_empty() => {
                write!(f, "{field} is empty; expected an absolute path")
            }
            SiteError::RelativeDir { field, path } => write!(
                f,
                "{field} `{path}` is not an absolute path (the daemon runs in /)"
            ),
            SiteError::NotUtf8 { field } => {
                write!(f, "{field} is not valid UTF-8 (the config file is UTF-8)")
            }
            SiteError::SameDir(path) => write!(
                f,
                "torrentdir and filedir are the same directory `{path}`; they must differ"
            ),
            SiteError::TorrentDirInFileDir {
                torrent_dir,
                file_dir,
            } => write!(
                f,
                "torrentdir `{torrent_dir}` is inside filedir `{file_dir}`: the .torrent \
                 files would be published too"
            ),
            SiteError::ServerName { name, why } => write!(f, "servername `{name}` {why}"),
            SiteError::Port(text) => {
                write!(f, "port `{text}` must be a number from 1 to 65535")
            }
            SiteError::DuplicateNick(nick) => {
                write!(f, "nickname `{nick}` is already taken by another site")
            }
            SiteError::DuplicatePort { port, other } => {
                write!(f, "port {port} is already used by site `{other}`")
            }
        }
    }
}

impl std::error::Error for SiteError {}

/// Splits a site line's value into fields: whitespace separates them, `"..."` quotes one (with
/// `\"` and `\\` inside), and a `#` that starts a field outside quotes starts a comment.
pub fn split_fields(text: &str) -> Result<Vec<String>, SiteError> {
    let mut fields = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.next_if(char::is_ascii_whitespace).is_some() {}
        match chars.peek() {
            None | Some('#') => return Ok(fields),
            Some('"') => {
                chars.next();
                let mut field = String::new();
                loop {
                    match chars.next() {
                        None => return Err(SiteError::UnclosedQuote),
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\')) => field.push(c),
                            Some(c) => return Err(SiteError::BadEscape(format!("\\{c}"))),
                            None => return Err(SiteError::UnclosedQuote),
                        },
                        Some(c) => field.push(c),
                    }
                }
                if chars.peek().is_some_and(|c| !c.is_ascii_whitespace()) {
                    let rest = chars.take_while(|c| !c.is_ascii_whitespace()).collect();
                    return Err(SiteError::AfterQuote(rest));
                }
                fields.push(field);
            }
            Some(_) => {
                let mut field = String::new();
                while let Some(c) = chars.next_if(|c| !c.is_ascii_whitespace()) {
                    field.push(c);
                }
                if field.contains('"') {
                    return Err(SiteError::StrayQuote(field));
                }
                fields.push(field);
            }
        }
    }
}

/// `field` as [`split_fields`] reads it back: as is when that is unambiguous, else in double
/// quotes with `"` and `\` escaped.
pub fn quote(field: &str) -> Cow<'_, str> {
    let plain = !field.is_empty()
        && !field
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '"' | '\\' | '#'));
    if plain {
        return Cow::Borrowed(field);
    }
    let mut out = String::with_capacity(field.len() + 2);
    out.push('"');
    for c in field.chars() {
        if matches!(c, '"' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    Cow::Owned(out)
}

/// Parses a site line's value (what follows `site`, possibly with a trailing comment). Checks
/// each field and the directory pair; not uniqueness (see [`check_unique`]).
pub fn parse_site(text: &str) -> Result<Site, SiteError> {
    let fields = split_fields(text)?;
    let [nick, torrent_dir, file_dir, server_name, port] = <[String; 5]>::try_from(fields)
        .map_err(|fields: Vec<String>| SiteError::FieldCount(fields.len()))?;
    check_nick(&nick)?;
    let torrent_dir = PathBuf::from(torrent_dir);
    let file_dir = PathBuf::from(file_dir);
    check_dir(FIELDS[1], &torrent_dir)?;
    check_dir(FIELDS[2], &file_dir)?;
    check_dir_pair(&torrent_dir, &file_dir)?;
    check_server_name(&server_name)?;
    let port = parse_site_port(&port)?;
    Ok(Site {
        nick,
        torrent_dir,
        file_dir,
        server_name,
        port,
    })
}

/// Every rule for one site, as [`parse_site`] applies them (for sites built in code).
pub fn check(site: &Site) -> Result<(), SiteError> {
    check_nick(&site.nick)?;
    check_dir(FIELDS[1], &site.torrent_dir)?;
    check_dir(FIELDS[2], &site.file_dir)?;
    check_dir_pair(&site.torrent_dir, &site.file_dir)?;
    check_server_name(&site.server_name)?;
    if site.port == 0 {
        return Err(SiteError::Port("0".into()));
    }
    Ok(())
}

/// `site` may join `others`: its nickname and port are not theirs.
pub fn check_unique(site: &Site, others: &[Site]) -> Result<(), SiteError> {
    if others.iter().any(|o| o.nick == site.nick) {
        return Err(SiteError::DuplicateNick(site.nick.clone()));
    }
    if let Some(o) = others.iter().find(|o| o.port == site.port) {
        return Err(SiteError::DuplicatePort {
            port: site.port,
            other: o.nick.clone(),
        });
    }
    Ok(())
}

/// 1 to [`NICK_MAX_LEN`] characters of `[A-Za-z0-9_-]`.
pub fn check_nick(nick: &str) -> Result<(), SiteError> {
    let ok = (1..=NICK_MAX_LEN).contains(&nick.len())
        && nick
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(SiteError::Nick(nick.to_string()))
    }
}

/// An absolute UTF-8 path without control characters; `field` names it in the error.
pub fn check_dir(field: &'static str, path: &Path) -> Result<(), SiteError> {
    let text = path.to_str().ok_or(SiteError::NotUtf8 { field })?;
    if text.chars().any(char::is_control) {
        return Err(SiteError::ControlChar { field });
    }
    if !path.is_absolute() {
        return Err(SiteError::RelativeDir {
            field,
            path: text.to_string(),
        });
    }
    Ok(())
}

/// The directories differ, and the torrent directory is not inside the file directory.
/// Compared by components, so `/a/b/` is `/a/b` and `/a//b/./c` is `/a/b/c`.
pub fn check_dir_pair(torrent_dir: &Path, file_dir: &Path) -> Result<(), SiteError> {
    if torrent_dir == file_dir {
        return Err(SiteError::SameDir(file_dir.display().to_string()));
    }
    if torrent_dir.starts_with(file_dir) {
        return Err(SiteError::TorrentDirInFileDir {
            torrent_dir: torrent_dir.display().to_string(),
            file_dir: file_dir.display().to_string(),
        });
    }
    Ok(())
}

/// A DNS name, an IPv4 address or a bracketed IPv6 address, with no port.
pub fn check_server_name(name: &str) -> Result<(), SiteError> {
    let bad = |why| {
        Err(SiteError::ServerName {
            name: name.to_string(),
            why,
        })
    };
    if name.is_empty() {
        return bad("is empty; expected this router's DNS name or IP address");
    }
    if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad("has a space; expected one DNS name or IP address");
    }
    if name.contains('/') {
        return bad("has a `/`; expected a host name only, such as router.lan");
    }
    if let Some(inner) = name.strip_prefix('[') {
        return match inner.strip_suffix(']') {
            Some(ip) if ip.parse::<Ipv6Addr>().is_ok() => Ok(()),
            Some(_) => bad("is not a bracketed IPv6 address such as [2001:db8::1]"),
            None if inner.contains("]:") => {
                bad("has a port; give the port as the fifth field, not in servername")
            }
            None => bad("lacks the `]` closing its IPv6 address"),
        };
    }
    if name.parse::<Ipv6Addr>().is_ok() {
        return bad("is an IPv6 address; write it in brackets, such as [2001:db8::1]");
    }
    if name.contains(':') {
        return bad("has a port; give the port as the fifth field, not in servername");
    }
    if name.parse::<Ipv4Addr>().is_ok() {
        return Ok(());
    }
    let dns = name.strip_suffix('.').unwrap_or(name);
    if dns.len() > SERVER_NAME_MAX_LEN {
        return bad("is longer than 253 characters");
    }
    let labels_ok = dns.split('.').all(|label| {
        (1..=63).contains(&label.len())
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    });
    if !labels_ok {
        return bad(
            "is not a DNS name: dot-separated labels of letters, digits and `-`, \
             each 1 to 63 long",
        );
    }
    let last = dns.rsplit('.').next().unwrap_or(dns);
    if last.bytes().all(|b| b.is_ascii_digit()) {
        return bad("is neither a DNS name nor an IPv4 address");
    }
    Ok(())
}

/// A decimal port from 1 to 65535.
pub fn parse_site_port(text: &str) -> Result<u16, SiteError> {
    match text.parse::<u16>() {
        Ok(port) if port > 0 && text.bytes().all(|b| b.is_ascii_digit()) => Ok(port),
        _ => Err(SiteError::Port(text.to_string())),
    }
}

/// `path` made absolute against `cwd`, with `.` components dropped (`..` is kept: it cannot be
/// resolved without looking at the file system).
pub fn absolute(path: &Path, cwd: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        cwd.join(path)
    };
    joined
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(nick: &str, port: u16) -> Site {
        Site {
            nick: nick.into(),
            torrent_dir: "/www/t".into(),
            file_dir: "/srv/f".into(),
            server_name: "router.lan".into(),
            port,
        }
    }

    fn fields(text: &str) -> Vec<String> {
        split_fields(text).unwrap_or_else(|e| panic!("{text:?}: {e}"))
    }

    #[test]
    fn fields_split_on_whitespace_and_quotes() {
        assert_eq!(fields("a  b\tc"), ["a", "b", "c"]);
        assert_eq!(fields("  \"a b\" c  "), ["a b", "c"]);
        assert_eq!(
            fields(r#""say \"hi\"" "back\\slash""#),
            [r#"say "hi""#, r"back\slash"]
        );
        assert_eq!(fields(r#""" x"#), ["", "x"]);
        assert_eq!(
            fields("a\\b"),
            ["a\\b"],
            "a backslash outside quotes is literal"
        );
        assert_eq!(
            fields("a#b c"),
            ["a#b", "c"],
            "`#` inside a field is literal"
        );
        assert_eq!(fields("a # comment \"x"), ["a"]);
        assert_eq!(fields("\"# not a comment\" b"), ["# not a comment", "b"]);
        assert_eq!(fields("#all comment"), Vec::<String>::new());
        assert_eq!(fields(""), Vec::<String>::new());
    }

    #[test]
    fn field_errors() {
        assert_eq!(split_fields("\"open"), Err(SiteError::UnclosedQuote));
        assert_eq!(split_fields("\"open\\"), Err(SiteError::UnclosedQuote));
        assert_eq!(
            split_fields(r#""a\nb""#),
            Err(SiteError::BadEscape("\\n".into()))
        );
        assert_eq!(
            split_fields(r#"ab"c d"#),
            Err(SiteError::StrayQuote("ab\"c".into()))
        );
        assert_eq!(
            split_fields(r#""a"b c"#),
            Err(SiteError::AfterQuote("b".into()))
        );
        assert_eq!(
            SiteError::BadEscape("\\n".into()).to_string(),
            "`\\n` inside quotes: a backslash must be followed by `\"` or `\\`"
        );
    }

    #[test]
    fn quote_round_trips() {
        for field in [
            "plain",
            "/srv/my music",
            "",
            "tab\there",
            r#"q"uote"#,
            r"back\slash",
            "#hash",
            "x#y",
            "ünïcode dir",
            " lead",
        ] {
            let quoted = quote(field);
            assert_eq!(
                fields(&format!("{quoted} next")),
                [field, "next"],
                "{quoted}"
            );
        }
        assert!(matches!(quote("/srv/music"), Cow::Borrowed("/srv/music")));
        assert_eq!(quote("a b"), "\"a b\"");
        assert_eq!(quote(r#"a"b\c"#), r#""a\"b\\c""#);
    }

    #[test]
    fn parses_a_site() {
        let s = parse_site("music /www/torrents/music \"/srv/my music\" router.lan 6881 # x")
            .expect("parses");
        assert_eq!(
            s,
            Site {
                nick: "music".into(),
                torrent_dir: "/www/torrents/music".into(),
                file_dir: "/srv/my music".into(),
                server_name: "router.lan".into(),
                port: 6881,
            }
        );
        assert_eq!(
            s.to_line(),
            "site music /www/torrents/music \"/srv/my music\" router.lan 6881"
        );
        assert_eq!(s.listen().addr, "[::]:6881".parse().unwrap());
        assert!(s.listen().tcp && s.listen().udp);
        assert_eq!(s.announce_url(), "http://router.lan:6881/announce");
        let line = s.to_line();
        assert_eq!(parse_site(line.strip_prefix("site ").unwrap()), Ok(s));
    }

    #[test]
    fn field_count() {
        assert_eq!(parse_site("a /t /f host"), Err(SiteError::FieldCount(4)));
        assert_eq!(
            parse_site("a /t /f host 1 2"),
            Err(SiteError::FieldCount(6))
        );
        assert_eq!(
            parse_site("a /my dir /f host 1"),
            Err(SiteError::FieldCount(6))
        );
    }

    #[test]
    fn nicknames() {
        for good in ["a", "Music_2024-x", &"n".repeat(32)] {
            assert_eq!(check_nick(good), Ok(()), "{good}");
        }
        for bad in ["", "a b", "a.b", "a/b", "ü", &"n".repeat(33)] {
            assert_eq!(check_nick(bad), Err(SiteError::Nick(bad.into())), "{bad}");
        }
        assert_eq!(
            SiteError::Nick("a.b".into()).to_string(),
            "nickname `a.b` must be 1 to 32 letters, digits, `-` or `_`"
        );
    }

    #[test]
    fn directories() {
        assert_eq!(check_dir("torrentdir", Path::new("/www/t")), Ok(()));
        assert_eq!(
            check_dir("filedir", Path::new("srv/f")),
            Err(SiteError::RelativeDir {
                field: "filedir",
                path: "srv/f".into()
            })
        );
        assert_eq!(
            SiteError::RelativeDir {
                field: "filedir",
                path: "srv/f".into()
            }
            .to_string(),
            "filedir `srv/f` is not an absolute path (the daemon runs in /)"
        );
        assert_eq!(
            check_dir("filedir", Path::new("")).unwrap_err().to_string(),
            "filedir is empty; expected an absolute path"
        );
        assert_eq!(
            check_dir("filedir", Path::new("/a\tb")),
            Err(SiteError::ControlChar { field: "filedir" })
        );
        use std::os::unix::ffi::OsStrExt;
        let raw = Path::new(std::ffi::OsStr::from_bytes(b"/a\xff"));
        assert_eq!(
            check_dir("torrentdir", raw),
            Err(SiteError::NotUtf8 {
                field: "torrentdir"
            })
        );
        let pair = |t: &str, f: &str| check_dir_pair(Path::new(t), Path::new(f));
        assert_eq!(pair("/a/t", "/a/f"), Ok(()));
        assert_eq!(
            pair("/a/f", "/a/f/"),
            Err(SiteError::SameDir("/a/f/".into()))
        );
        assert!(matches!(
            pair("/a//f", "/a/./f"),
            Err(SiteError::SameDir(_))
        ));
        assert!(matches!(
            pair("/a/f/torrents", "/a/f"),
            Err(SiteError::TorrentDirInFileDir { .. })
        ));
        assert_eq!(pair("/a/f", "/a/f/files"), Ok(()), "filedir may be inside");
        assert_eq!(pair("/a/fx", "/a/f"), Ok(()), "a prefix is not a parent");
        assert!(parse_site("a /x/y /x/y h 1")
            .unwrap_err()
            .to_string()
            .contains("the same directory `/x/y`"));
        assert!(matches!(
            parse_site("a t /f h 1"),
            Err(SiteError::RelativeDir {
                field: "torrentdir",
                ..
            })
        ));
    }

    #[test]
    fn server_names() {
        for good in [
            "router.lan",
            "router",
            "my-router.example.org.",
            "192.168.1.1",
            "[::1]",
            "[2001:db8::1]",
            "a_b.lan",
            "1router.lan",
        ] {
            assert_eq!(check_server_name(good), Ok(()), "{good}");
        }
        let why = |name: &str| match check_server_name(name) {
            Err(SiteError::ServerName { why, .. }) => why,
            other => panic!("{name}: {other:?}"),
        };
        assert!(why("").contains("is empty"));
        assert!(why("a b").contains("space"));
        assert!(why("http://x").contains("`/`"));
        assert!(why("x/y").contains("`/`"));
        assert!(why("::1").contains("brackets"));
        assert!(why("router.lan:80").contains("port"));
        assert!(why("[::1]:80").contains("port"));
        assert!(why("[::1").contains("`]`"));
        assert!(why("[1.2.3.4]").contains("bracketed IPv6"));
        assert!(why("1.2.3.256").contains("neither"));
        assert!(why("1.2.3").contains("neither"));
        assert!(why("-x.lan").contains("not a DNS name"));
        assert!(why("a..b").contains("not a DNS name"));
        assert!(why("ü.lan").contains("not a DNS name"));
        assert!(why(&format!("{}.lan", "a".repeat(64))).contains("not a DNS name"));
        assert!(why(&"a.".repeat(128)).contains("longer"));
        assert_eq!(
            check_server_name("a b").unwrap_err().to_string(),
            "servername `a b` has a space; expected one DNS name or IP address"
        );
    }

    #[test]
    fn ports() {
        assert_eq!(parse_site_port("1"), Ok(1));
        assert_eq!(parse_site_port("65535"), Ok(65535));
        for bad in ["0", "65536", "-1", "+1", "http", "", " 1"] {
            assert_eq!(
                parse_site_port(bad),
                Err(SiteError::Port(bad.into())),
                "{bad}"
            );
        }
        assert_eq!(
            SiteError::Port("0".into()).to_string(),
            "port `0` must be a number from 1 to 65535"
        );
    }

    #[test]
    fn uniqueness() {
        let others = [site("a", 1000), site("b", 2000)];
        assert_eq!(check_unique(&site("c", 3000), &others), Ok(()));
        assert_eq!(
            check_unique(&site("b", 3000), &others),
            Err(SiteError::DuplicateNick("b".into()))
        );
        assert_eq!(
            check_unique(&site("c", 2000), &others),
            Err(SiteError::DuplicatePort {
                port: 2000,
                other: "b".into()
            })
        );
        assert_eq!(
            check_unique(&site("c", 2000), &others)
                .unwrap_err()
                .to_string(),
            "port 2000 is already used by site `b`"
        );
    }

    #[test]
    fn check_matches_the_parser() {
        assert_eq!(check(&site("a", 1)), Ok(()));
        let mut bad = site("a", 0);
        assert_eq!(check(&bad), Err(SiteError::Port("0".into())));
        bad.port = 1;
        bad.file_dir = bad.torrent_dir.clone();
        assert!(matches!(check(&bad), Err(SiteError::SameDir(_))));
    }

    #[test]
    fn absolute_paths() {
        let cwd = Path::new("/home/me");
        assert_eq!(absolute(Path::new("t"), cwd), Path::new("/home/me/t"));
        assert_eq!(
            absolute(Path::new("./t/./u/"), cwd),
            Path::new("/home/me/t/u")
        );
        assert_eq!(absolute(Path::new("/abs"), cwd), Path::new("/abs"));
        assert_eq!(absolute(Path::new("../x"), cwd), Path::new("/home/me/../x"));
        assert_eq!(
            absolute(Path::new("../x"), cwd).to_str(),
            Some("/home/me/../x")
        );
    }
}
