//! The `trackseed` binary: command line → config → tracker, and an exit code.
//!
//! Exit codes: 0 on success (including `--help`, `--version`, `--print-config`), 2 when the
//! command line or the configuration is wrong (also a refused `create` value), 1 when running
//! fails (a socket cannot be bound, a system call fails, a directory cannot be created); `status`
//! exits 3 when no daemon runs.

use std::ffi::OsString;
use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

use trackseed::cli::{self, CliArgs, Command, Verb};
use trackseed::config::{self, Config};
use trackseed::daemon;
use trackseed::error::Error;

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("trackseed: {error}");
            ExitCode::from(exit_code(&error))
        }
    }
}

fn run(args: &[OsString]) -> Result<(), Error> {
    match cli::parse(args)? {
        Command::Help => print(&cli::help_text()),
        Command::Version => print(&format!(
            "trackseed {} ({})\n",
            env!("CARGO_PKG_VERSION"),
            env!("TRACKSEED_TARGET")
        )),
        Command::PrintConfig => print(config::EMBEDDED),
        Command::Create(create_args) => cli::create::run(&create_args),
        Command::Run(cli_args) => {
            config_dir_has_file(&cli_args)?;
            let config = configure(&cli_args)?;
            let pidfile = daemon::pidfile_path(&config, cli_args.config_file.as_deref());
            // SIGHUP reads the same sources again: the file (or the embedded config) with
            // the same command line over it.
            let reread = || configure(&cli_args);
            match cli_args.verb {
                None => trackseed::reactor::run(config, &reread, &mut || Ok(())),
                Some(Verb::Start) => {
                    let mut held = daemon::claim(&pidfile)?;
                    let for_detach = config.clone();
                    let mut detach = || daemon::detach(&mut held, &for_detach);
                    trackseed::reactor::run(config, &reread, &mut detach)
                }
                Some(verb) => match daemon::control(verb, &pidfile)? {
                    0 => Ok(()),
                    code => std::process::exit(i32::from(code)),
                },
            }
        }
    }
}

/// With `-c DIR`, the config file must exist: a missing one most likely means no site was
/// created yet.
fn config_dir_has_file(cli_args: &CliArgs) -> Result<(), Error> {
    let (Some(dir), Some(file)) = (&cli_args.config_dir, &cli_args.config_file) else {
        return Ok(());
    };
    match std::fs::symlink_metadata(file) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(Error::Usage(format!(
            "no config file {}: add a site first with `trackseed -c {} create`, or write one \
             there (`trackseed --print-config` prints a template)",
            file.display(),
            dir.display()
        ))),
        // Any other problem is reported when the file is read.
        _ => Ok(()),
    }
}

/// The config file (`-f` or `-c`, else the embedded one) with the command line applied, validated.
/// Warnings go to stderr.
fn configure(cli_args: &CliArgs) -> Result<Config, Error> {
    let mut config = match &cli_args.config_file {
        Some(path) => load_with_warnings(path)?,
        None => config::embedded(),
    };
    cli::apply(cli_args, &mut config);
    // `-c DIR`: the state lives in DIR too (ezt's configdir), unless the config names a file.
    if let (Some(dir), None) = (&cli_args.config_dir, &config.statefile) {
        config.statefile = Some(dir.join("trackseed.state"));
    }
    config.validate()?;
    Ok(config)
}

fn load_with_warnings(path: &Path) -> Result<Config, Error> {
    let parsed = config::load(path)?;
    for warning in &parsed.warnings {
        let (line, message) = (warning.line, &warning.message);
        eprintln!("trackseed: {}:{line}: warning: {message}", path.display());
    }
    Ok(parsed.config)
}

/// Writes `text` to stdout; a closed pipe (`trackseed --help | head -1`) is an error, not a
/// panic as with `print!`.
fn print(text: &str) -> Result<(), Error> {
    let mut stdout = io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|source| Error::Io {
            what: "writing to stdout",
            source,
        })
}

/// 2 for a wrong command line or configuration, 1 for a failure while running.
fn exit_code(error: &Error) -> u8 {
    match error {
        Error::Usage(_)
        | Error::ConfigRead { .. }
        | Error::ConfigParse { .. }
        | Error::ConfigInvalid { .. }
        | Error::NotYetSupported { .. } => 2,
        _ => 1,
    }
}
