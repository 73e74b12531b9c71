//! The command line: opentracker's flags, read with getopt's rules so that an opentracker
//! command line (an init script, a systemd unit) starts trackseed unchanged.
//!
//! Options are scanned in order, because order matters: `-i ip` sets the address for the `-p`
//! and `-P` that follow it. A flag's value is the rest of its argument (`-p80`) or the next
//! argument (`-p 80`, even one starting with `-`). `--` ends the options. `-h`/`--help`,
//! `-v`/`--version` and `--print-config` stop the scan where they stand. The words that are not
//! options make the verb (`start`, `stop`, `restart`, `status`, or `create` with its values),
//! read with argh. `-c DIR` (ezt's config directory) means `-f DIR/trackseed.conf`.
//!
//! opentracker flags whose feature is not built yet (`-d -u -w -b -A -l -s`) are read with
//! their value and then refused with [`Error::NotYetSupported`], so that trackseed never starts
//! with a setting silently dropped (a whitelist, say, that it would not enforce).

use std::ffi::{OsStr, OsString};
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::slice;

use crate::config::{self, Config, Listen};
use crate::error::Error;

pub mod create;

/// The config file's name in a `-c DIR` config directory.
pub const CONFIG_FILE_NAME: &str = "trackseed.conf";

/// What the command line asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Run the tracker with these settings.
    Run(Box<CliArgs>),
    /// `-h`, `--help`: print [`help_text`] and exit.
    Help,
    /// `-v`, `--version`: print the version and exit.
    Version,
    /// `--print-config`: print the embedded config ([`config::EMBEDDED`]) and exit.
    PrintConfig,
    /// `create [nickname] [torrentdir] [filedir] [servername] [port]`: add a site to the
    /// config file ([`create::run`]).
    Create(Box<CreateArgs>),
}

/// A `create` command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateArgs {
    /// The config file to add the site to: `-f FILE`, or `DIR/trackseed.conf` for `-c DIR`.
    pub config_file: PathBuf,
    /// `-c DIR`, when the file was named that way (the next-step hint repeats it).
    pub config_dir: Option<PathBuf>,
    /// The values after `create`, in order: nickname, torrentdir, filedir, servername, port
    /// ([`config::site::FIELDS`]); at most five. The missing ones are asked for.
    pub values: Vec<String>,
}

/// The settings of a `Run` command line, to be applied over the config file with [`apply`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CliArgs {
    /// `-f FILE` or `-c DIR` (then `DIR/trackseed.conf`): the config file; `None` means the
    /// embedded one. The last `-f` or `-c` wins.
    pub config_file: Option<PathBuf>,
    /// `-c DIR`, when the last of `-f` and `-c` was a `-c`: the config directory, which holds
    /// the config file, and by default the pid file.
    pub config_dir: Option<PathBuf>,
    /// `-p PORT` (TCP) and `-P PORT` (UDP) on the address of the last `-i`, in order.
    pub listens: Vec<Listen>,
    /// `-r URL`: where `GET /` is redirected. The last `-r` wins.
    pub redirect_url: Option<String>,
    /// `-A NET` (repeatable): networks allowed to read /stats and /metrics, added to the file's.
    pub stats_nets: Vec<config::Net>,
    /// `-d DIR`: chroot (as root) or chdir to DIR after binding.
    pub rootdir: Option<PathBuf>,
    /// `-u USER`: the user to switch to after binding.
    pub user: Option<String>,
    /// The verb after the options: `start`, `stop`, `restart` or `status`; none runs the
    /// tracker in the foreground.
    pub verb: Option<Verb>,
    /// `-l FILE`: a state dump to load at start (only loaded, never written).
    pub load_state: Option<PathBuf>,
    /// `-w FILE`: the access whitelist (replaces the file's access list). The last wins.
    pub whitelist: Option<PathBuf>,
    /// `-b FILE`: the access blacklist (replaces the file's access list). The last wins.
    pub blacklist: Option<PathBuf>,
}

/// The address `-p`/`-P` bind before any `-i`: `::`, dual-stack any, as opentracker's.
const DEFAULT_IP: IpAddr = IpAddr::V6(Ipv6Addr::UNSPECIFIED);

/// opentracker flags that are read and then refused, with the feature each one names.
const NOT_YET_SUPPORTED: [(u8, &str); 1] = [(b's', "-s (live sync port)")];

/// What a short flag that takes a value does with it.
#[derive(Clone, Copy)]
enum ValueFlag {
    /// `-f`
    ConfigFile,
    /// `-c`
    ConfigDir,
    /// `-i`
    Ip,
    /// `-p` (TCP) and `-P` (UDP)
    Port { tcp: bool },
    /// `-r`
    RedirectUrl,
    /// `-A`
    BlessNet,
    /// `-d`
    RootDir,
    /// `-u`
    User,
    /// `-l`
    LoadState,
    /// `-w` (true) and `-b` (false)
    AccessList { is_white: bool },
    /// A flag of [`NOT_YET_SUPPORTED`], with the feature it names.
    NotYetSupported(&'static str),
}

impl ValueFlag {
    fn of(flag: u8) -> Option<ValueFlag> {
        match flag {
            b'f' => Some(ValueFlag::ConfigFile),
            b'c' => Some(ValueFlag::ConfigDir),
            b'i' => Some(ValueFlag::Ip),
            b'p' => Some(ValueFlag::Port { tcp: true }),
            b'P' => Some(ValueFlag::Port { tcp: false }),
            b'r' => Some(ValueFlag::RedirectUrl),
            b'A' => Some(ValueFlag::BlessNet),
            b'd' => Some(ValueFlag::RootDir),
            b'u' => Some(ValueFlag::User),
            b'l' => Some(ValueFlag::LoadState),
            b'w' => Some(ValueFlag::AccessList { is_white: true }),
            b'b' => Some(ValueFlag::AccessList { is_white: false }),
            _ => NOT_YET_SUPPORTED
                .iter()
                .find(|(refused, _)| *refused == flag)
                .map(|(_, what)| ValueFlag::NotYetSupported(what)),
        }
    }
}

/// Parses the arguments after the program name.
///
/// Errors: [`Error::Usage`] for an unknown option, a missing or malformed value, a word that is
/// no verb, or a `create` without `-c`/`-f`, with other options or with more than five values;
/// [`Error::NotYetSupported`] for an opentracker flag whose feature is not built yet. The first
/// problem in argument order is the one reported.
pub fn parse(args: &[OsString]) -> Result<Command, Error> {
    let mut scan = Scan {
        cli: CliArgs::default(),
        ip: DEFAULT_IP,
    };
    let mut rest = args.iter();
    let mut operands: Vec<String> = Vec::new();
    while let Some(arg) = rest.next() {
        let stop = match arg.as_bytes() {
            b"--" => return end_of_options(rest, scan.cli),
            b"--help" => Some(Command::Help),
            b"--version" => Some(Command::Version),
            b"--print-config" => Some(Command::PrintConfig),
            [b'-', b'-', ..] => return Err(unknown_option(&arg.to_string_lossy())),
            [b'-', flag, attached @ ..] => scan.short_option(*flag, attached, &mut rest)?,
            _ => {
                let word = arg.to_str().ok_or_else(|| unexpected_operand(arg))?;
                operands.push(word.to_string());
                None
            }
        };
        if let Some(command) = stop {
            return Ok(command);
        }
    }
    match parse_verb(&operands)? {
        Some(Word::Verb(verb)) => scan.cli.verb = Some(verb),
        Some(Word::Create(values)) => return create_command(scan.cli, values),
        None => {}
    }
    Ok(Command::Run(Box::new(scan.cli)))
}

/// `create` needs to know which file to write, and takes no other option.
fn create_command(cli: CliArgs, values: Vec<String>) -> Result<Command, Error> {
    if values.len() > config::site::FIELDS.len() {
        return Err(usage(format!(
            "create takes at most 5 values (nickname torrentdir filedir servername port), got {}",
            values.len()
        )));
    }
    let Some(config_file) = cli.config_file.clone() else {
        return Err(usage(
            "create needs -c DIR or -f FILE: the config file to add the site to \
             (`trackseed -c DIR create` writes DIR/trackseed.conf)"
                .into(),
        ));
    };
    let others = CliArgs {
        config_file: None,
        config_dir: None,
        ..cli.clone()
    };
    if others != CliArgs::default() {
        return Err(usage("create takes no option but -c DIR or -f FILE".into()));
    }
    Ok(Command::Create(Box::new(CreateArgs {
        config_file,
        config_dir: cli.config_dir,
        values,
    })))
}

/// Applies the command line over a config read from a file: `-p`/`-P` add to the file's
/// listen lines, `-r` replaces its `tracker.redirect_url`.
pub fn apply(args: &CliArgs, config: &mut Config) {
    config.listens.extend(args.listens.iter().cloned());
    config.stats_nets.extend(args.stats_nets.iter().copied());
    if args.load_state.is_some() {
        config.load_state.clone_from(&args.load_state);
    }
    if args.rootdir.is_some() {
        config.rootdir.clone_from(&args.rootdir);
    }
    if args.user.is_some() {
        config.user.clone_from(&args.user);
    }
    if let Some(url) = &args.redirect_url {
        config.redirect_url = Some(url.clone());
    }
    // A list given on the command line replaces the file's, whichever kind that was.
    if args.whitelist.is_some() || args.blacklist.is_some() {
        config.whitelist = args.whitelist.clone();
        config.blacklist = args.blacklist.clone();
    }
}

/// The `--help` text: every flag, the ones not supported yet, and where config keys are
/// documented.
pub fn help_text() -> String {
    format!(
        "\
trackseed {version}: an opentracker-compatible BitTorrent tracker (HTTP and UDP)

Usage: trackseed [-c dir | -f config] [-i ip] [-p port] [-P port] [-r url] [-w file | -b file]
                 [start | stop | restart | status]
       trackseed -c dir | -f config create [nickname] [torrentdir] [filedir] [servername] [port]
       trackseed -v | -h | --print-config

Options, as opentracker's (they apply over the config file):
  -f FILE         read the config file FILE (default: the built-in config)
  -c DIR          read DIR/{file}, ezt's config directory; the pid file goes beside it
                  (trackseed's own option, equivalent to -f DIR/{file})
  -i IP           the address for the -p and -P options after it (default: ::, which is
                  dual-stack: every IPv6 and IPv4 address)
  -p PORT         serve the HTTP tracker (TCP) on PORT at the current -i address; repeatable
  -P PORT         serve the UDP tracker on PORT at the current -i address; repeatable
  -r URL          redirect GET / to URL (overrides tracker.redirect_url)
  -w FILE         serve only the torrents listed in FILE (access whitelist; SIGHUP re-reads it)
  -b FILE         refuse the torrents listed in FILE (access blacklist)
  -l FILE         load a state dump (HEX:base:downloaded lines) at start
  -A IP[/BITS]    allow this network to read /stats and /metrics (default: loopback only);
                  repeatable
  -v, --version   print the version and exit
  -h, --help      print this help and exit
  --print-config  print the built-in config file and exit
  --              end of options

With no -p, -P or listen line in the config file, trackseed serves TCP and UDP on
[::]:{port}. Port 0 lets the system pick a free port.

opentracker options not supported yet (trackseed refuses to start with them):
  -d DIR          chroot (as root) or chdir to DIR
  -u USER         switch to USER after binding
  -s PORT         live sync port

Verbs, after the options (with none, trackseed runs in the foreground and logs to stderr):
  start           run as a daemon: pid file beside the config file, messages to syslog
  stop            stop the running daemon (SIGTERM) and wait for it to exit
  restart         make the running daemon reload its config, sites and lists (SIGHUP)
  status          tell whether a daemon runs (exit 0) or not (exit 3)
  create [nickname] [torrentdir] [filedir] [servername] [port]
                  add a site, a directory pair to publish, to the config file of -c or -f:
                  create both directories and append a `site` line. The values missing on
                  the command line are asked for on the terminal.

Config keys: `trackseed --print-config` prints the built-in config, which documents every
key with its meaning, unit and default; copy it, edit it and pass it with -f (or -c).
",
        version = env!("CARGO_PKG_VERSION"),
        port = config::DEFAULT_PORT,
        file = CONFIG_FILE_NAME,
    )
}

/// The state of a scan: what is gathered so far and the current `-i` address.
struct Scan {
    cli: CliArgs,
    ip: IpAddr,
}

impl Scan {
    /// Reads one short option, `-x` followed by `attached` bytes in the same argument. A flag
    /// with a value takes `attached`, or else the next argument. `-h` and `-v` end the scan
    /// (so `-vh` is `-v`, as getopt with opentracker's exit-on-`-v` has it). Returns the
    /// command when the scan ends.
    fn short_option(
        &mut self,
        flag: u8,
        attached: &[u8],
        rest: &mut slice::Iter<'_, OsString>,
    ) -> Result<Option<Command>, Error> {
        match flag {
            b'h' => return Ok(Some(Command::Help)),
            b'v' => return Ok(Some(Command::Version)),
            _ => {}
        }
        let kind =
            ValueFlag::of(flag).ok_or_else(|| unknown_option(&short_name(flag, attached)))?;
        let value = match attached {
            [] => rest.next().map(|arg| arg.as_bytes()).unwrap_or_default(),
            _ => attached,
        };
        if value.is_empty() {
            return Err(usage(format!("option -{} needs a value", char::from(flag))));
        }
        self.option(flag, kind, value)?;
        Ok(None)
    }

    /// Applies flag `flag`, of kind `kind`, with its non-empty `value`.
    fn option(&mut self, flag: u8, kind: ValueFlag, value: &[u8]) -> Result<(), Error> {
        match kind {
            ValueFlag::ConfigFile => {
                self.cli.config_file = Some(PathBuf::from(OsStr::from_bytes(value)));
                self.cli.config_dir = None;
            }
            ValueFlag::ConfigDir => {
                let dir = PathBuf::from(OsStr::from_bytes(value));
                self.cli.config_file = Some(dir.join(CONFIG_FILE_NAME));
                self.cli.config_dir = Some(dir);
            }
            ValueFlag::Ip => self.ip = parse_ip(utf8(flag, value)?)?,
            ValueFlag::Port { tcp } => {
                let port = config::parse_port(utf8(flag, value)?)
                    .map_err(|why| usage(format!("option -{}: {why}", char::from(flag))))?;
                let addr = SocketAddr::new(self.ip, port);
                self.cli.listens.push(Listen {
                    addr,
                    tcp,
                    udp: !tcp,
                });
            }
            ValueFlag::RedirectUrl => self.cli.redirect_url = Some(utf8(flag, value)?.to_string()),
            ValueFlag::RootDir => self.cli.rootdir = Some(PathBuf::from(OsStr::from_bytes(value))),
            ValueFlag::User => self.cli.user = Some(utf8(flag, value)?.to_string()),
            ValueFlag::LoadState => {
                self.cli.load_state = Some(PathBuf::from(OsStr::from_bytes(value)));
            }
            ValueFlag::BlessNet => {
                let net = config::parse_net(utf8(flag, value)?)
                    .map_err(|why| usage(format!("option -A: {why}")))?;
                self.cli.stats_nets.push(net);
            }
            ValueFlag::AccessList { is_white } => {
                let path = Some(PathBuf::from(OsStr::from_bytes(value)));
                if is_white {
                    (self.cli.whitelist, self.cli.blacklist) = (path, None);
                } else {
                    (self.cli.whitelist, self.cli.blacklist) = (None, path);
                }
            }
            ValueFlag::NotYetSupported(what) => {
                return Err(Error::NotYetSupported {
                    what: what.to_string(),
                });
            }
        }
        Ok(())
    }
}

/// The value of flag `flag` as text.
fn utf8(flag: u8, value: &[u8]) -> Result<&str, Error> {
    std::str::from_utf8(value).map_err(|_| {
        usage(format!(
            "option -{}: value is not valid UTF-8",
            char::from(flag)
        ))
    })
}

/// `-i` takes an IPv4 or IPv6 address, the latter with or without brackets.
fn parse_ip(text: &str) -> Result<IpAddr, Error> {
    let bare = text
        .strip_prefix('[')
        .and_then(|inner| inner.strip_suffix(']'))
        .unwrap_or(text);
    bare.parse()
        .map_err(|_| usage(format!("option -i: `{text}` is not an IP address")))
}

/// After `--`: nothing may follow (a verb comes before `--`).
fn end_of_options(mut rest: slice::Iter<'_, OsString>, cli: CliArgs) -> Result<Command, Error> {
    match rest.next() {
        Some(operand) => Err(unexpected_operand(operand)),
        None => Ok(Command::Run(Box::new(cli))),
    }
}

/// `-x` for a printable flag; the whole argument otherwise (a non-ASCII byte is no flag name).
fn short_name(flag: u8, attached: &[u8]) -> String {
    if flag.is_ascii_graphic() {
        format!("-{}", char::from(flag))
    } else {
        let mut arg = vec![flag];
        arg.extend_from_slice(attached);
        format!("-{}", String::from_utf8_lossy(&arg))
    }
}

fn usage(message: String) -> Error {
    Error::Usage(message)
}

fn unknown_option(name: &str) -> Error {
    usage(format!("unknown option `{name}`; see `trackseed --help`"))
}

/// What to do with a running daemon, or with a new one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verb {
    /// Run as a daemon (pid file, syslog).
    Start,
    /// SIGTERM to the running daemon, then wait for it to exit.
    Stop,
    /// SIGHUP to the running daemon: reload the config and the lists.
    Restart,
    /// Whether a daemon runs, its pid and uptime.
    Status,
}

/// The verb words: one of [`Verb`], or `create` with its values.
enum Word {
    Verb(Verb),
    Create(Vec<String>),
}

/// The verbs, parsed with argh (subcommands; the opentracker flags before them keep their
/// ordered getopt scanner above).
mod verbs {
    use argh::FromArgs;

    /// trackseed's verbs
    #[derive(FromArgs)]
    pub struct Verbs {
        #[argh(subcommand)]
        pub verb: Option<Verb>,
    }

    #[derive(FromArgs)]
    #[argh(subcommand)]
    pub enum Verb {
        Start(Start),
        Stop(Stop),
        Restart(Restart),
        Status(Status),
        Create(Create),
    }

    /// run as a daemon, with a pid file and syslog
    #[derive(FromArgs)]
    #[argh(subcommand, name = "start")]
    pub struct Start {}

    /// stop the running daemon (SIGTERM) and wait for it to exit
    #[derive(FromArgs)]
    #[argh(subcommand, name = "stop")]
    pub struct Stop {}

    /// make the running daemon reload its config and access lists (SIGHUP)
    #[derive(FromArgs)]
    #[argh(subcommand, name = "restart")]
    pub struct Restart {}

    /// tell whether a daemon runs, with its pid and uptime
    #[derive(FromArgs)]
    #[argh(subcommand, name = "status")]
    pub struct Status {}

    /// add a site: a torrent directory and a file directory to publish
    #[derive(FromArgs)]
    #[argh(subcommand, name = "create")]
    pub struct Create {
        /// nickname, torrentdir, filedir, servername and port; the missing ones are asked for
        #[argh(positional)]
        pub values: Vec<String>,
    }
}

fn parse_verb(operands: &[String]) -> Result<Option<Word>, Error> {
    if operands.is_empty() {
        return Ok(None);
    }
    let words: Vec<&str> = operands.iter().map(String::as_str).collect();
    let parsed =
        <verbs::Verbs as argh::FromArgs>::from_args(&["trackseed"], &words).map_err(|e| {
            usage(format!(
                "{}; the verbs are start, stop, restart, status and create \
                 (see `trackseed --help`)",
                e.output.trim()
            ))
        })?;
    Ok(parsed.verb.map(|v| match v {
        verbs::Verb::Start(_) => Word::Verb(Verb::Start),
        verbs::Verb::Stop(_) => Word::Verb(Verb::Stop),
        verbs::Verb::Restart(_) => Word::Verb(Verb::Restart),
        verbs::Verb::Status(_) => Word::Verb(Verb::Status),
        verbs::Verb::Create(c) => Word::Create(c.values),
    }))
}

fn unexpected_operand(arg: &OsStr) -> Error {
    usage(format!(
        "unexpected argument `{}`: trackseed takes options and a verb; see `trackseed --help`",
        arg.to_string_lossy()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    fn run(list: &[&str]) -> CliArgs {
        match parse(&args(list)) {
            Ok(Command::Run(cli)) => *cli,
            other => panic!("{list:?} should give Run, gave {other:?}"),
        }
    }

    fn usage_message(list: &[&str]) -> String {
        match parse(&args(list)) {
            Err(Error::Usage(message)) => message,
            other => panic!("{list:?} should be a usage error, gave {other:?}"),
        }
    }

    fn listen(addr: &str, tcp: bool) -> Listen {
        let addr = addr.parse().expect("test address");
        Listen {
            addr,
            tcp,
            udp: !tcp,
        }
    }

    #[test]
    fn nothing_runs_with_defaults() {
        assert_eq!(run(&[]), CliArgs::default());
    }

    #[test]
    fn config_file() {
        assert_eq!(
            run(&["-f", "/etc/t.conf"]).config_file,
            Some("/etc/t.conf".into())
        );
        assert_eq!(
            run(&["-f/etc/t.conf"]).config_file,
            Some("/etc/t.conf".into())
        );
        assert_eq!(run(&["-f", "a", "-f", "b"]).config_file, Some("b".into()));
        assert_eq!(run(&["-f", "-p"]).config_file, Some("-p".into()));
    }

    #[test]
    fn config_file_may_be_any_bytes() {
        let path = OsStr::from_bytes(b"/etc/\xff.conf").to_os_string();
        let parsed = parse(&[OsString::from("-f"), path.clone()]).expect("parses");
        assert_eq!(
            parsed,
            Command::Run(Box::new(CliArgs {
                config_file: Some(path.into()),
                ..CliArgs::default()
            }))
        );
    }

    #[test]
    fn ports_default_to_dual_stack_any() {
        let cli = run(&["-p", "80", "-P", "6969"]);
        assert_eq!(
            cli.listens,
            [listen("[::]:80", true), listen("[::]:6969", false)]
        );
    }

    #[test]
    fn ip_applies_to_the_ports_after_it() {
        let cli = run(&["-i", "127.0.0.1", "-p", "1", "-i", "::1", "-P", "2"]);
        assert_eq!(
            cli.listens,
            [listen("127.0.0.1:1", true), listen("[::1]:2", false)]
        );
        let cli = run(&[
            "-p",
            "1",
            "-i",
            "10.0.0.1",
            "-p",
            "2",
            "-P",
            "3",
            "-i",
            "[fe80::1]",
            "-p4",
        ]);
        assert_eq!(
            cli.listens,
            [
                listen("[::]:1", true),
                listen("10.0.0.1:2", true),
                listen("10.0.0.1:3", false),
                listen("[fe80::1]:4", true),
            ]
        );
        assert_eq!(run(&["-i", "127.0.0.1"]).listens, []);
    }

    #[test]
    fn attached_values() {
        let cli = run(&["-p80", "-P0", "-i127.0.0.1", "-p443", "-rhttp://x/"]);
        assert_eq!(
            cli.listens,
            [
                listen("[::]:80", true),
                listen("[::]:0", false),
                listen("127.0.0.1:443", true)
            ]
        );
        assert_eq!(cli.redirect_url.as_deref(), Some("http://x/"));
    }

    #[test]
    fn redirect_url() {
        assert_eq!(
            run(&["-r", "http://example.org/"]).redirect_url.as_deref(),
            Some("http://example.org/")
        );
        assert_eq!(
            run(&["-r", "a", "-r", "b"]).redirect_url.as_deref(),
            Some("b")
        );
    }

    #[test]
    fn help_and_version() {
        for (list, want) in [
            (&["-h"][..], Command::Help),
            (&["--help"], Command::Help),
            (&["-v"], Command::Version),
            (&["--version"], Command::Version),
            (&["--print-config"], Command::PrintConfig),
            (&["-p", "1", "-h", "--bogus"], Command::Help),
            (&["-vh"], Command::Version),
            (&["-hv"], Command::Help),
        ] {
            assert_eq!(parse(&args(list)).expect("parses"), want, "{list:?}");
        }
    }

    #[test]
    fn double_dash_ends_options() {
        assert_eq!(run(&["-p", "1", "--"]).listens, [listen("[::]:1", true)]);
        let message = usage_message(&["--", "-p"]);
        assert_eq!(
            message,
            "unexpected argument `-p`: trackseed takes options and a verb; see `trackseed --help`"
        );
    }

    #[test]
    fn not_yet_supported_flags_are_refused() {
        let cases = [(&["-i", "::1", "-s", "9696"][..], "-s (live sync port)")];
        for (list, want) in cases {
            match parse(&args(list)) {
                Err(Error::NotYetSupported { what }) => assert_eq!(what, want),
                other => panic!("{list:?} should be refused, gave {other:?}"),
            }
        }
        assert_eq!(usage_message(&["-w"]), "option -w needs a value");
    }

    #[test]
    fn access_lists_replace_the_files() {
        let cli = run(&["-w", "/etc/w", "-b/etc/b"]);
        assert_eq!(
            (cli.whitelist, cli.blacklist.clone()),
            (None, cli.blacklist)
        );
        let cli = run(&["-w", "/etc/w"]);
        let mut config = Config {
            blacklist: Some("/x".into()),
            ..Config::default()
        };
        apply(&cli, &mut config);
        assert_eq!(config.whitelist, Some(PathBuf::from("/etc/w")));
        assert_eq!(config.blacklist, None);
    }

    #[test]
    fn usage_errors() {
        let cases = [
            (&["-p"][..], "option -p needs a value"),
            (&["-i", "::1", "-P"], "option -P needs a value"),
            (&["-f", ""], "option -f needs a value"),
            (
                &["-p", "http"],
                "option -p: expected a port number from 0 to 65535, got `http`",
            ),
            (
                &["-P", "65536"],
                "option -P: port `65536` is out of range (0 to 65535)",
            ),
            (
                &["-p", "-1"],
                "option -p: expected a port number from 0 to 65535, got `-1`",
            ),
            (
                &["-i", "localhost"],
                "option -i: `localhost` is not an IP address",
            ),
            (
                &["-i", "1.2.3.4:80"],
                "option -i: `1.2.3.4:80` is not an IP address",
            ),
            (&["-x"], "unknown option `-x`; see `trackseed --help`"),
            (&["-xv"], "unknown option `-x`; see `trackseed --help`"),
            (
                &["-p", "1", "-q"],
                "unknown option `-q`; see `trackseed --help`",
            ),
            (
                &["--port=1"],
                "unknown option `--port=1`; see `trackseed --help`",
            ),
            (&["-H"], "unknown option `-H`; see `trackseed --help`"),
        ];
        for (list, want) in cases {
            assert_eq!(usage_message(list), want, "{list:?}");
        }
        for list in [&["serve"][..], &["-"], &["start", "now"]] {
            let m = usage_message(list);
            assert!(
                m.contains("the verbs are start, stop, restart, status and create"),
                "{list:?}: {m}"
            );
        }
        let bad = OsStr::from_bytes(b"-\xff").to_os_string();
        assert_eq!(
            parse(&[bad]).expect_err("unknown").to_string(),
            "unknown option `-\u{fffd}`; see `trackseed --help`"
        );
        let bad = OsStr::from_bytes(b"http://\xff").to_os_string();
        assert_eq!(
            parse(&[OsString::from("-r"), bad])
                .expect_err("not UTF-8")
                .to_string(),
            "option -r: value is not valid UTF-8"
        );
    }

    #[test]
    fn apply_adds_listens_and_replaces_values() {
        let mut config = Config {
            listens: vec![listen("0.0.0.0:6969", true)],
            redirect_url: Some("http://file/".to_string()),
            ..Config::default()
        };
        apply(&run(&["-P", "1"]), &mut config);
        assert_eq!(
            config.listens,
            [listen("0.0.0.0:6969", true), listen("[::]:1", false)]
        );
        assert_eq!(config.redirect_url.as_deref(), Some("http://file/"));
        apply(&run(&["-r", "http://cli/"]), &mut config);
        assert_eq!(config.redirect_url.as_deref(), Some("http://cli/"));
        assert_eq!(config.listens.len(), 2);
    }

    #[test]
    fn help_lists_every_flag() {
        let help = help_text();
        // The option column: each line's first word, and the second after a `-v, ` style pair.
        let described: Vec<&str> = help
            .lines()
            .filter(|line| line.starts_with("  -"))
            .flat_map(|line| line.trim_start().splitn(3, ' ').take(2))
            .map(|word| word.trim_end_matches(','))
            .collect();
        let supported = [
            "-f",
            "-c",
            "-i",
            "-p",
            "-P",
            "-r",
            "-v",
            "--version",
            "-h",
            "--help",
        ];
        for flag in supported.iter().chain(&["--print-config", "--"]) {
            assert!(described.contains(flag), "{flag} is not described");
        }
        let (_, unsupported) = help
            .split_once("not supported yet")
            .expect("a section for them");
        for (flag, _) in NOT_YET_SUPPORTED {
            let flag = format!("  -{} ", char::from(flag));
            assert!(
                unsupported.contains(&flag),
                "{flag} is not listed as unsupported"
            );
        }
        assert!(help.contains("--print-config"));
        for verb in ["start", "stop", "restart", "status", "create"] {
            let item = format!("\n  {verb} ");
            assert!(help.contains(&item), "verb {verb} is not described");
        }
        assert!(help.contains("create [nickname] [torrentdir] [filedir] [servername] [port]"));
        assert!(help.lines().all(|line| line.len() <= 100));
    }

    #[test]
    fn verbs_after_the_options() {
        assert_eq!(run(&["-f", "x.conf", "start"]).verb, Some(Verb::Start));
        assert_eq!(run(&["stop"]).verb, Some(Verb::Stop));
        assert_eq!(run(&["restart"]).verb, Some(Verb::Restart));
        assert_eq!(run(&["status", "-f", "x"]).verb, Some(Verb::Status));
        assert_eq!(run(&["-d", "/srv", "-u", "nobody"]).verb, None);
        let cli = run(&["-d", "/srv", "-u", "nobody"]);
        assert_eq!(
            (cli.rootdir, cli.user),
            (Some(PathBuf::from("/srv")), Some("nobody".into()))
        );
    }

    #[test]
    fn config_dir_names_the_file_inside() {
        let cli = run(&["-c", "/etc/trackseed", "status"]);
        assert_eq!(
            cli.config_file,
            Some(PathBuf::from("/etc/trackseed/trackseed.conf"))
        );
        assert_eq!(cli.config_dir, Some(PathBuf::from("/etc/trackseed")));
        assert_eq!(cli.verb, Some(Verb::Status));
        let cli = run(&["-c/srv/t"]);
        assert_eq!(
            cli.config_file,
            Some(PathBuf::from("/srv/t/trackseed.conf"))
        );
        assert_eq!(cli.verb, None);
        // The last of -c and -f wins.
        let cli = run(&["-c", "d", "-f", "x.conf"]);
        assert_eq!(
            (cli.config_file, cli.config_dir),
            (Some("x.conf".into()), None)
        );
        let cli = run(&["-f", "x.conf", "-c", "d"]);
        assert_eq!(
            (cli.config_file, cli.config_dir),
            (Some("d/trackseed.conf".into()), Some("d".into()))
        );
        assert_eq!(usage_message(&["-c"]), "option -c needs a value");
    }

    fn create(list: &[&str]) -> CreateArgs {
        match parse(&args(list)) {
            Ok(Command::Create(c)) => *c,
            other => panic!("{list:?} should give Create, gave {other:?}"),
        }
    }

    #[test]
    fn create_with_and_without_values() {
        assert_eq!(
            create(&["-c", "/etc/t", "create"]),
            CreateArgs {
                config_file: "/etc/t/trackseed.conf".into(),
                config_dir: Some("/etc/t".into()),
                values: vec![],
            }
        );
        let c = create(&[
            "-f",
            "t.conf",
            "create",
            "music",
            "/www/t",
            "my files",
            "router.lan",
            "6881",
        ]);
        assert_eq!(c.config_file, PathBuf::from("t.conf"));
        assert_eq!(c.config_dir, None);
        assert_eq!(
            c.values,
            ["music", "/www/t", "my files", "router.lan", "6881"]
        );
        assert_eq!(create(&["create", "a", "-c", "d"]).values, ["a"]);
    }

    #[test]
    fn create_errors() {
        let m = usage_message(&["create", "a"]);
        assert!(m.starts_with("create needs -c DIR or -f FILE"), "{m}");
        let m = usage_message(&["-c", "d", "create", "a", "b", "c", "d", "e", "f"]);
        assert_eq!(
            m,
            "create takes at most 5 values (nickname torrentdir filedir servername port), got 6"
        );
        for list in [
            &["-c", "d", "-p", "80", "create"][..],
            &["-c", "d", "-r", "http://x/", "create"],
            &["-c", "d", "-u", "nobody", "create"],
        ] {
            assert_eq!(
                usage_message(list),
                "create takes no option but -c DIR or -f FILE",
                "{list:?}"
            );
        }
    }
}
