//! `trackseed create` (ezt's `ezt create`) and `-c DIR`: values on the command line, refused
//! values, no terminal to ask on, and a dialog on a pseudo-terminal driven by Python's `pty`.

mod common;

use common::TempDir;
use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use trackseed::config::{self, Site};

/// How long one trackseed (or Python) run may take.
const RUN_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs trackseed with `args` in `cwd`, stdin not a terminal; returns (exit code, stdout,
/// stderr).
fn run_in(cwd: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let mut cmd = common::command();
    cmd.args(args).current_dir(cwd);
    finish(cmd, &format!("trackseed {args:?}"))
}

/// Runs `cmd` to completion (bounded) with stdin closed; returns (exit code, stdout, stderr).
fn finish(mut cmd: Command, what: &str) -> (Option<i32>, String, String) {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {what}: {e}"));
    let deadline = Instant::now() + RUN_TIMEOUT;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            let (mut out, mut err) = (String::new(), String::new());
            child.stdout.take().unwrap().read_to_string(&mut out).ok();
            child.stderr.take().unwrap().read_to_string(&mut err).ok();
            return (status.code(), out, err);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} did not exit within {RUN_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A port that was free a moment ago (and is 1024 or more, as every ephemeral port).
fn free_port() -> u16 {
    let l = TcpListener::bind("0.0.0.0:0").expect("bind an ephemeral port");
    l.local_addr().unwrap().port()
}

fn is_root() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        == Some("0")
}

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 temp path")
}

fn sites(conf: &Path) -> Vec<Site> {
    config::load(conf)
        .unwrap_or_else(|e| panic!("{} parses: {e}", conf.display()))
        .config
        .sites
}

#[test]
fn create_with_every_value_writes_the_config_and_the_directories() {
    let tmp = TempDir::new("create");
    let confdir = tmp.path().join("etc").join("trackseed");
    let conf = confdir.join("trackseed.conf");
    let port = free_port().to_string();
    // The current directory as the process sees it (symbolic links resolved).
    let base = tmp.path().canonicalize().unwrap();
    // Relative directories are made absolute against the current directory.
    let (code, out, err) = run_in(
        tmp.path(),
        &[
            "-c",
            s(&confdir),
            "create",
            "music",
            "www/torrents",
            "./my files",
            "router.lan",
            &port,
        ],
    );
    assert_eq!(code, Some(0), "stdout:\n{out}\nstderr:\n{err}");
    let torrent_dir = base.join("www/torrents");
    let file_dir = base.join("my files");
    assert!(torrent_dir.is_dir() && file_dir.is_dir(), "{out}");
    let want = Site {
        nick: "music".into(),
        torrent_dir: torrent_dir.clone(),
        file_dir: file_dir.clone(),
        server_name: "router.lan".into(),
        port: port.parse().unwrap(),
    };
    assert_eq!(sites(&conf), std::slice::from_ref(&want));
    let text = std::fs::read_to_string(&conf).unwrap();
    assert!(
        text.starts_with("# "),
        "a new file starts with a comment:\n{text}"
    );
    assert!(
        text.contains("\"/"),
        "the spaced filedir is quoted:\n{text}"
    );
    assert!(
        out.contains(&format!("Next: trackseed -c {} start", s(&confdir))),
        "{out}"
    );
    assert!(
        out.contains(&format!("http://router.lan:{port}/announce")),
        "{out}"
    );

    // A second site is appended; the file keeps its mode.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&conf, std::fs::Permissions::from_mode(0o640)).unwrap();
    let port2 = loop {
        let p = free_port().to_string();
        if p != port {
            break p;
        }
    };
    let t2 = tmp.path().join("t2");
    let f2 = tmp.path().join("f2");
    let (code, out, err) = run_in(
        tmp.path(),
        &[
            "-c",
            s(&confdir),
            "create",
            "video",
            s(&t2),
            s(&f2),
            "[::1]",
            &port2,
        ],
    );
    assert_eq!(code, Some(0), "stdout:\n{out}\nstderr:\n{err}");
    let got = sites(&conf);
    assert_eq!(got.len(), 2);
    assert_eq!(got[0], want);
    assert_eq!(
        (got[1].nick.as_str(), got[1].server_name.as_str()),
        ("video", "[::1]")
    );
    let mode = std::fs::metadata(&conf).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
    let text = std::fs::read_to_string(&conf).unwrap();
    assert_eq!(text.matches("\nsite ").count(), 2, "{text}");

    // The binary reads the file too: `status` gets as far as the pid file.
    let (code, out, err) = run_in(tmp.path(), &["-c", s(&confdir), "status"]);
    assert_eq!(code, Some(3), "stdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("not running"), "{out}");
}

#[test]
fn create_with_a_config_file_and_dash_f() {
    let tmp = TempDir::new("create-f");
    let conf = tmp.path().join("my.conf");
    std::fs::write(&conf, "tracker.interval 900").unwrap();
    let port = free_port().to_string();
    let (t, f) = (tmp.path().join("t"), tmp.path().join("f"));
    let (code, out, err) = run_in(
        tmp.path(),
        &[
            "-f",
            s(&conf),
            "create",
            "a",
            s(&t),
            s(&f),
            "127.0.0.1",
            &port,
        ],
    );
    assert_eq!(code, Some(0), "stdout:\n{out}\nstderr:\n{err}");
    let parsed = config::load(&conf).expect("parses");
    assert_eq!(parsed.config.interval_secs, 900, "the old lines stay");
    assert_eq!(parsed.config.sites.len(), 1);
    let text = std::fs::read_to_string(&conf).unwrap();
    assert!(text.starts_with("tracker.interval 900\nsite a "), "{text}");
    assert!(
        out.contains(&format!("Next: trackseed -f {} start", s(&conf))),
        "{out}"
    );
}

#[test]
fn missing_values_without_a_terminal_are_an_error() {
    let tmp = TempDir::new("create-notty");
    let confdir = tmp.path().join("conf");
    let (code, _, err) = run_in(tmp.path(), &["-c", s(&confdir), "create", "music", "/t"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("no filedir, servername and port given")
            && err.contains("stdin is not a terminal"),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "trackseed -c {} create NICKNAME TORRENTDIR FILEDIR SERVERNAME PORT",
            s(&confdir)
        )),
        "{err}"
    );
    assert!(!confdir.exists(), "nothing was created");
    let (code, _, err) = run_in(tmp.path(), &["-c", s(&confdir), "create"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("no nickname, torrentdir, filedir, servername and port given"),
        "{err}"
    );
}

#[test]
fn refused_values_exit_2_and_create_nothing() {
    let tmp = TempDir::new("create-bad");
    let confdir = tmp.path().join("conf");
    let conf = confdir.join("trackseed.conf");
    let (t, f) = (tmp.path().join("t"), tmp.path().join("f"));
    let port = free_port().to_string();
    let create = |values: &[&str]| {
        let mut args = vec!["-c", s(&confdir), "create"];
        args.extend_from_slice(values);
        run_in(tmp.path(), &args)
    };
    let refused = |values: &[&str], want: &str| {
        let (code, out, err) = create(values);
        assert_eq!(code, Some(2), "{values:?}\nstdout:\n{out}\nstderr:\n{err}");
        assert!(err.contains(want), "{values:?}: {err}");
        assert!(!t.exists() && !f.exists(), "{values:?} created a directory");
    };
    refused(
        &["bad nick", s(&t), s(&f), "h", &port],
        "nickname `bad nick` must be 1 to 32 letters, digits, `-` or `_`",
    );
    refused(
        &["a", s(&t), s(&t), "h", &port],
        "torrentdir and filedir are the same directory",
    );
    refused(&["a", s(&t), s(&f), "", &port], "servername `` is empty");
    refused(&["a", s(&t), s(&f), "h", "0"], "port `0` must be a number");
    refused(&["a", s(&t), s(&f), "h", "70000"], "port `70000` must be");
    let holder = TcpListener::bind("0.0.0.0:0").expect("bind");
    let held = holder.local_addr().unwrap().port().to_string();
    refused(&["a", s(&t), s(&f), "h", &held], "is in use");
    drop(holder);
    if is_root() {
        eprintln!("running as root: the port-below-1024 refusal is not checked");
    } else {
        refused(&["a", s(&t), s(&f), "h", "80"], "port 80 is below 1024");
    }
    assert!(!conf.exists());

    // A duplicate nickname or port, against the file's sites.
    let (code, out, err) = create(&["a", s(&t), s(&f), "h", &port]);
    assert_eq!(code, Some(0), "stdout:\n{out}\nstderr:\n{err}");
    let (t2, f2) = (tmp.path().join("t2"), tmp.path().join("f2"));
    let (code, _, err) = create(&["a", s(&t2), s(&f2), "h", "40000"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("nickname `a` is already taken"), "{err}");
    let (code, _, err) = create(&["b", s(&t2), s(&f2), "h", &port]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains(&format!("port {port} is already used by site `a`")),
        "{err}"
    );
    assert!(!t2.exists() && !f2.exists());
    assert_eq!(sites(&conf).len(), 1);

    // A directory that cannot be created: named, with the system's reason.
    let file = tmp.path().join("plain-file");
    std::fs::write(&file, "x").unwrap();
    let below = file.join("sub");
    let (code, _, err) = create(&["b", s(&t2), s(&below), "h", "40001"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("cannot create directory") && err.contains(s(&below)),
        "{err}"
    );
    assert_eq!(sites(&conf).len(), 1, "the config is not changed");
}

#[test]
fn create_needs_a_config_and_dash_c_needs_its_file() {
    let tmp = TempDir::new("create-noconf");
    let (code, _, err) = run_in(tmp.path(), &["create", "a", "/t", "/f", "h", "40000"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("create needs -c DIR or -f FILE"), "{err}");
    let dir = tmp.path().join("empty");
    for verb in [&[][..], &["start"], &["status"], &["stop"]] {
        let mut args = vec!["-c", s(&dir)];
        args.extend_from_slice(verb);
        let (code, _, err) = run_in(tmp.path(), &args);
        assert_eq!(code, Some(2), "{verb:?}: {err}");
        assert!(
            err.contains(&format!("trackseed -c {} create", s(&dir))),
            "{verb:?}: {err}"
        );
    }
}

/// Drives a program on a pseudo-terminal: argv[1] holds the dialog as JSON pairs [expected
/// output, answer]; the rest is the command. Prints everything the program wrote (with the
/// terminal's echo of the answers) and exits with its exit code; 90 when the output stops
/// before an expected text (within the time limit).
const PTY_DRIVER: &str = r#"
import json, os, pty, select, sys, time
steps = json.loads(sys.argv[1])
argv = sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)
out = b""
pos = 0
deadline = time.monotonic() + 20

def read_some():
    global out
    left = deadline - time.monotonic()
    if left <= 0:
        return False
    ready, _, _ = select.select([fd], [], [], left)
    if not ready:
        return False
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        return False
    if not chunk:
        return False
    out += chunk
    return True

code = 0
for expect, answer in steps:
    want = expect.encode()
    while out.find(want, pos) < 0:
        if not read_some():
            code = 90
            break
    if code:
        break
    pos = out.find(want, pos) + len(want)
    os.write(fd, answer.encode() + b"\n")
if code == 0:
    while read_some():
        pass
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode("utf-8", "replace"))
sys.stdout.flush()
if code == 0:
    code = os.waitstatus_to_exitcode(status)
sys.exit(code)
"#;

fn python() -> &'static str {
    for p in ["/usr/bin/python3", "python3"] {
        let ok = Command::new(p)
            .arg("-c")
            .arg("import pty")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return p;
        }
    }
    panic!("python3 with its pty module is needed (tests/deps.sh installs it)");
}

/// Runs trackseed `args` on a pseudo-terminal in `cwd`, answering `steps`; returns (exit code,
/// everything shown on the terminal).
fn on_terminal(cwd: &Path, args: &[&str], steps: &[(&str, &str)]) -> (Option<i32>, String) {
    let script = cwd.join("pty_driver.py");
    std::fs::write(&script, PTY_DRIVER).unwrap();
    let trackseed = common::command();
    let mut argv: Vec<PathBuf> = vec![PathBuf::from(trackseed.get_program())];
    argv.extend(trackseed.get_args().map(PathBuf::from));
    argv.extend(args.iter().map(PathBuf::from));
    let json = format!(
        "[{}]",
        steps
            .iter()
            .map(|(e, a)| format!("[{},{}]", json_string(e), json_string(a)))
            .collect::<Vec<_>>()
            .join(",")
    );
    let mut cmd = Command::new(python());
    cmd.arg(&script).arg(json).args(&argv).current_dir(cwd);
    let (code, out, err) = finish(cmd, "the pty driver");
    if !err.is_empty() {
        eprintln!("the pty driver's stderr:\n{err}");
    }
    (code, out)
}

fn json_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[test]
fn create_asks_on_the_terminal() {
    let tmp = TempDir::new("create-tty");
    let confdir = tmp.path().join("conf");
    let port = free_port().to_string();
    let base = tmp.path().canonicalize().unwrap();
    let steps = [
        ("nickname: ", "music"),
        ("torrentdir: ", "torrents"),
        ("filedir: ", "files"),
        ("servername: ", "http://router.lan/"),
        ("servername: ", "router.lan"),
        ("port: ", &port),
    ];
    let (code, shown) = on_terminal(tmp.path(), &["-c", s(&confdir), "create"], &steps);
    assert_eq!(code, Some(0), "the terminal showed:\n{shown}");
    // The questions come in order, the refused servername asked twice with the reason between.
    let mut at = 0;
    for (prompt, _) in steps {
        let found = shown[at..]
            .find(prompt)
            .unwrap_or_else(|| panic!("no {prompt:?} after byte {at} in:\n{shown}"));
        at += found + prompt.len();
    }
    let refused = shown
        .find("servername `http://router.lan/` has a `/`")
        .unwrap_or_else(|| panic!("no reason for the refusal in:\n{shown}"));
    let first = shown.find("servername: ").unwrap();
    let second = first + 1 + shown[first + 1..].find("servername: ").unwrap();
    assert!(first < refused && refused < second, "{shown}");
    assert!(shown.contains("Next: trackseed -c"), "{shown}");
    let got = sites(&confdir.join("trackseed.conf"));
    assert_eq!(
        got,
        [Site {
            nick: "music".into(),
            torrent_dir: base.join("torrents"),
            file_dir: base.join("files"),
            server_name: "router.lan".into(),
            port: port.parse().unwrap(),
        }]
    );
    assert!(tmp.path().join("torrents").is_dir() && tmp.path().join("files").is_dir());

    // Only the missing values are asked for.
    let (code, shown) = on_terminal(
        tmp.path(),
        &["-c", s(&confdir), "create", "video", "t2", "f2", "[::1]"],
        &[("port: ", &free_port().to_string())],
    );
    assert_eq!(code, Some(0), "{shown}");
    assert!(!shown.contains("nickname: "), "{shown}");
    assert_eq!(sites(&confdir.join("trackseed.conf")).len(), 2);
}
