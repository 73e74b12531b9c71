//! The OpenWrt package (openwrt/): the procd init script, run against stand-ins for OpenWrt's
//! shell functions (openwrt/tests/: UCI loading, procd calls recorded), must write a config
//! that trackseed's own parser reads back with every UCI option in place, and register the
//! instance procd needs (foreground command, respawn, logd, SIGHUP reload, watched files and
//! device); shellcheck must pass on the shell scripts; the feed Makefile must carry Cargo's
//! version; and the .ipk that openwrt/build-ipk.sh packs must have the layout opkg installs
//! (checked after unpacking it), and, when a mipsel cross build is at hand, its binary must run
//! under qemu.
//!
//! Needs busybox (its ash is OpenWrt's shell), dash, GNU tar, gzip and shellcheck (`sudo apt-get
//! install -y busybox shellcheck`, or run tests/deps.sh).

use std::fs;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use trackseed::config::{self, Config, Listen, Net, Site};
use trackseed::sys::syslog::Facility;

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!(
            "trackseed-openwrt-{tag}-{}-{n}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn text(output: &[u8]) -> String {
    String::from_utf8_lossy(output).into_owned()
}

/// A router stand-in: /etc/init.d/trackseed (a copy of openwrt/files/trackseed.init), a UCI
/// directory, the record of procd calls, and where the init script writes the config and
/// keeps its run directory.
struct Router {
    dir: TempDir,
    /// The shell that runs rc.common and the init script: busybox ash, as on OpenWrt.
    shell: Vec<String>,
}

/// What one init-script action did.
struct Run {
    ok: bool,
    stderr: String,
    /// The calls recorded by the stand-ins, in order: the function name, then its arguments.
    calls: Vec<Vec<String>>,
}

impl Run {
    /// The arguments of the `procd_set_param NAME ...` calls, in order.
    fn params(&self, name: &str) -> Vec<Vec<String>> {
        self.calls
            .iter()
            .filter(|c| c[0] == "procd_set_param" && c[1] == name)
            .map(|c| c[2..].to_vec())
            .collect()
    }

    /// The single `procd_set_param NAME ...` call's arguments.
    fn param(&self, name: &str) -> Vec<String> {
        let all = self.params(name);
        assert_eq!(all.len(), 1, "procd_set_param {name}: {:?}", self.calls);
        all[0].clone()
    }

    fn calls_to(&self, function: &str) -> Vec<Vec<String>> {
        self.calls
            .iter()
            .filter(|c| c[0] == function)
            .map(|c| c[1..].to_vec())
            .collect()
    }
}

impl Router {
    fn new(tag: &str) -> Router {
        let dir = TempDir::new(tag);
        let init_d = dir.0.join("etc/init.d");
        fs::create_dir_all(&init_d).unwrap();
        fs::create_dir_all(dir.0.join("uci")).unwrap();
        fs::copy(
            root().join("openwrt/files/trackseed.init"),
            init_d.join("trackseed"),
        )
        .unwrap();
        Router {
            dir,
            shell: busybox_sh(),
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.0.join(rel)
    }

    /// The generated config's path (TRACKSEED_CONF_OUT).
    fn conf(&self) -> PathBuf {
        self.path("var/etc/trackseed.conf")
    }

    fn stamp(&self) -> PathBuf {
        self.path("run/reload")
    }

    fn set_uci(&self, uci: &str) {
        fs::write(self.path("uci/trackseed"), uci).unwrap();
    }

    /// `/etc/init.d/trackseed ACTION` through openwrt/tests/rc.common; `netdev` is what
    /// network_get_device answers (None: the interface is down).
    fn run(&self, action: &str, netdev: Option<&str>) -> Run {
        let log = self.path("procd.log");
        let _ = fs::remove_file(&log);
        let out = Command::new(&self.shell[0])
            .args(&self.shell[1..])
            .arg(root().join("openwrt/tests/rc.common"))
            .arg(self.path("etc/init.d/trackseed"))
            .arg(action)
            .env("SHIM_LOG", &log)
            .env("UCI_CONFIG_DIR", self.path("uci"))
            .env("TRACKSEED_CONF_OUT", self.conf())
            .env("TRACKSEED_RUN_DIR", self.path("run"))
            .env("SHIM_NETDEV", netdev.unwrap_or(""))
            .output()
            .expect("run sh openwrt/tests/rc.common");
        let calls = fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .map(|l| l.split('\t').map(str::to_string).collect())
            .collect();
        Run {
            ok: out.status.success(),
            stderr: text(&out.stderr),
            calls,
        }
    }
}

/// `busybox sh`, OpenWrt's shell, or a failure that says how to install it.
fn busybox_sh() -> Vec<String> {
    let found = Command::new("busybox").args(["sh", "-c", "true"]).output();
    if !found.is_ok_and(|o| o.status.success()) {
        panic!(
            "busybox, whose ash runs the init script as on OpenWrt, is not installed. Install \
             it with:\n    sudo apt-get install -y busybox\n(or run tests/deps.sh)"
        );
    }
    strings(&["busybox", "sh"])
}

fn strings(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

fn net(text: &str) -> Net {
    config::parse_net(text).unwrap()
}

fn listen(addr: &str, tcp: bool, udp: bool) -> Listen {
    Listen {
        addr: addr.parse().unwrap(),
        tcp,
        udp,
    }
}

/// Every main-section option with a value other than trackseed's default, two sites (one
/// with spaces in its file directory, one named by `option nick` whose file directory needs
/// quotes and escapes), a disabled site, a whitelist and FIFOs, and a chroot directory.
fn full_uci(r: &Router) -> String {
    let chroot = r.path("chroot");
    let chroot = chroot.display();
    format!(
        r#"# A UCI file as an operator writes it.
config trackseed 'main'
	option enabled '1'
	option interface 'lan'
	list listen '[::]:6969'
	list listen_tcp '127.0.0.1:8080'
	list listen_udp '0.0.0.0:7000'
	option max_torrents '5000'
	option max_peers '20000'
	option interval '900'
	option numwant '30'
	option numwant_max '100'
	option scrape_max '32'
	option fullscrape '0'
	option ip_from_query 'on'
	option redirect_url 'https://example.org/tracker#top'
	option statefile '/etc/trackseed/state'
	option state_interval '3600'
	option max_connections '2000'
	option idle_timeout '20'
	option access_mode 'whitelist'
	option access_file '/etc/trackseed/white list.txt'
	option fifo_add '{chroot}/run/fifo/add'
	option fifo_delete '{chroot}/run/fifo/delete'
	list stats_net '192.168.1.0/24'
	list stats_net '::1'
	option stats_path '/st'
	list proxy_net '127.0.0.1'
	option user 'nobody'
	option rootdir '{chroot}'
	option log_facility 'local3'
	option settle_secs '3'
	option rescan_secs '60'
	option hash_slice_ms '20'
	option open_tracker 'yes'
	option seed_enabled 'true'
	list seed_listen '[::]:6881'
	list seed_listen '0.0.0.0'
	option announce_ip '192.0.2.7'
	option seed_max_torrents '100'
	option seed_max_connections '32'
	option seed_max_open_files '8'
	option max_upload_rate '500'
	option upload_slots '3'
	option respawn_retry '7'

config site 'music'
	option filedir '/srv/My Music'
	option torrentdir '/www/torrents/music'
	option servername 'router.lan'
	option port '6971'

config site
	option nick 'videos-2'
	option filedir '/mnt/usb/videos "best" \ of #1'
	option torrentdir '/www/torrents/videos'
	option servername '[2001:db8::1]'
	option port '6972'

config site 'old'
	option enabled '0'
	option filedir '/srv/old'
	option torrentdir '/www/torrents/old'
	option servername 'router.lan'
	option port '6973'
"#
    )
}

#[test]
fn init_script_writes_a_config_trackseed_reads_back() {
    // Under busybox ash, as on the router, and under dash, a stricter POSIX shell.
    for shell in [busybox_sh(), strings(&["dash"])] {
        init_script_writes_a_config_trackseed_reads_back_under(shell);
    }
}

fn init_script_writes_a_config_trackseed_reads_back_under(shell: Vec<String>) {
    let mut r = Router::new("full");
    r.shell = shell;
    r.set_uci(&full_uci(&r));
    let run = r.run("start", Some("br-lan"));
    assert!(run.ok, "start under {:?} failed: {}", r.shell, run.stderr);
    assert_eq!(
        fs::metadata(r.conf()).unwrap().permissions().mode() & 0o777,
        0o644
    );

    let parsed = config::load(&r.conf())
        .unwrap_or_else(|e| panic!("{e}\n{}", fs::read_to_string(r.conf()).unwrap_or_default()));
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    let c = parsed.config;
    c.validate().expect("the generated config is valid");

    let chroot = r.path("chroot");
    let music = Site {
        nick: "music".into(),
        torrent_dir: "/www/torrents/music".into(),
        file_dir: "/srv/My Music".into(),
        server_name: "router.lan".into(),
        port: 6971,
    };
    let videos = Site {
        nick: "videos-2".into(),
        torrent_dir: "/www/torrents/videos".into(),
        file_dir: r#"/mnt/usb/videos "best" \ of #1"#.into(),
        server_name: "[2001:db8::1]".into(),
        port: 6972,
    };
    let expected = Config {
        listens: vec![
            listen("[::]:6969", true, true),
            listen("127.0.0.1:8080", true, false),
            listen("0.0.0.0:7000", false, true),
            listen("[::]:6971", true, true),
            listen("[::]:6972", true, true),
        ],
        max_torrents: 5000,
        max_peers: 20_000,
        interval_secs: 900,
        numwant_default: 30,
        numwant_max: 100,
        scrape_max: 32,
        fullscrape: false,
        ip_from_query: true,
        http_max_connections: 2000,
        http_idle_timeout_secs: 20,
        redirect_url: Some("https://example.org/tracker#top".into()),
        stats_path: "st".into(),
        whitelist: Some("/etc/trackseed/white list.txt".into()),
        blacklist: None,
        fifo_add: Some(chroot.join("run/fifo/add")),
        fifo_delete: Some(chroot.join("run/fifo/delete")),
        stats_nets: vec![net("192.168.1.0/24"), net("::1")],
        proxy_nets: vec![net("127.0.0.1")],
        statefile: Some("/etc/trackseed/state".into()),
        state_interval_secs: 3600,
        load_state: None,
        rootdir: Some(chroot.clone()),
        user: Some("nobody".into()),
        pidfile: None,
        log_facility: Facility::parse("local3").unwrap(),
        sites: vec![music, videos],
        settle_secs: 3,
        rescan_secs: 60,
        hash_slice_ms: 20,
        open_tracker: true,
        seed_enabled: true,
        seed_listens: vec![
            SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 6881),
            SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 6881),
        ],
        seed_announce_ip: Some("192.0.2.7".parse().unwrap()),
        seed_max_torrents: 100,
        seed_max_connections: 32,
        seed_max_open_files: 8,
        seed_max_upload_rate_kib: 500,
        seed_upload_slots: 3,
    };
    assert_eq!(c, expected);

    // After the chroot, SIGHUP re-reads the same path inside it: a copy is there.
    let inside = chroot.join(r.conf().strip_prefix("/").unwrap());
    assert_eq!(fs::read(&inside).unwrap(), fs::read(r.conf()).unwrap());
    // The FIFOs' directory exists for trackseed to create them in.
    assert!(chroot.join("run/fifo").is_dir());

    // The procd service: one instance, in the foreground, respawned, logging to logd,
    // reloaded by SIGHUP, watching its config, the reload stamp and the LAN device.
    let conf = r.conf().display().to_string();
    let stamp = r.stamp().display().to_string();
    assert_eq!(
        run.calls[0],
        strings(&[
            "procd_open_service",
            "trackseed",
            &r.path("etc/init.d/trackseed").display().to_string()
        ])
    );
    assert_eq!(
        run.calls_to("procd_open_instance"),
        vec![strings(&["main"])]
    );
    assert_eq!(
        run.param("command"),
        strings(&["/usr/bin/trackseed", "-f", &conf])
    );
    assert_eq!(run.param("respawn"), strings(&["3600", "5", "7"]));
    assert_eq!(run.param("stdout"), strings(&["1"]));
    assert_eq!(run.param("stderr"), strings(&["1"]));
    assert_eq!(run.param("facility"), strings(&["local3"]));
    assert_eq!(run.param("reload_signal"), strings(&["HUP"]));
    assert_eq!(run.param("file"), strings(&[&conf, &stamp]));
    assert_eq!(run.param("netdev"), strings(&["br-lan"]));
    assert_eq!(run.calls_to("network_get_device"), vec![strings(&["lan"])]);
    // 2000 HTTP + 32 peer connections + 8 open files + 64.
    assert_eq!(run.param("limits"), strings(&["nofile=2104 2104"]));
    assert!(
        run.params("user").is_empty(),
        "trackseed drops privileges itself"
    );
    let close = run
        .calls
        .iter()
        .position(|c| c[0] == "procd_close_instance")
        .expect("instance closed");
    let open = run
        .calls
        .iter()
        .position(|c| c[0] == "procd_open_instance")
        .unwrap();
    assert!(run.calls[open + 1..close]
        .iter()
        .all(|c| c[0] == "procd_set_param" || c[0] == "network_get_device"));

    assert_eq!(
        run.calls_to("procd_add_reload_trigger"),
        vec![strings(&["trackseed"])]
    );
    assert_eq!(
        run.calls_to("procd_add_interface_trigger"),
        vec![strings(&[
            "interface.*",
            "lan",
            "/etc/init.d/trackseed",
            "start"
        ])]
    );
    assert_eq!(
        run.calls_to("procd_add_reload_mount_trigger"),
        vec![
            strings(&["/srv/My Music"]),
            strings(&[r#"/mnt/usb/videos "best" \ of #1"#])
        ]
    );
    assert_eq!(
        run.calls.last().unwrap(),
        &strings(&["procd_close_service", "set"])
    );
    assert!(run.calls_to("logger").is_empty(), "{:?}", run.calls);
}

#[test]
fn shipped_uci_config_is_disabled_and_holds_trackseeds_defaults() {
    let shipped = fs::read_to_string(root().join("openwrt/files/trackseed.config")).unwrap();
    let r = Router::new("shipped");
    r.set_uci(&shipped);
    let run = r.run("start", Some("br-lan"));
    assert!(run.ok, "{}", run.stderr);
    assert!(run.calls_to("procd_open_instance").is_empty());
    assert!(!r.conf().exists(), "nothing is written while disabled");
    // Triggers are registered all the same, so `uci set trackseed.main.enabled=1; uci
    // commit; reload_config` starts it.
    assert_eq!(
        run.calls_to("procd_add_reload_trigger"),
        vec![strings(&["trackseed"])]
    );

    // Enabled, every value it sets is trackseed's default (as its comments say).
    let enabled = shipped.replace("option enabled '0'", "option enabled '1'");
    assert_ne!(enabled, shipped);
    r.set_uci(&enabled);
    let run = r.run("start", Some("br-lan"));
    assert!(run.ok, "{}", run.stderr);
    let parsed = config::load(&r.conf()).unwrap();
    assert_eq!(parsed.config, config::embedded());
    assert_eq!(run.param("facility"), strings(&["daemon"]));
    assert!(
        run.params("limits").is_empty(),
        "the default 1024 files suffice"
    );
}

#[test]
fn reload_sends_one_sighup_through_the_stamp_file() {
    let r = Router::new("reload");
    r.set_uci(&full_uci(&r));
    assert!(r.run("start", Some("br-lan")).ok);
    assert!(!r.stamp().exists());
    for n in 1..=2 {
        let run = r.run("reload", Some("br-lan"));
        assert!(run.ok, "{}", run.stderr);
        // A changed stamp file makes procd send reload_signal (SIGHUP) once; an explicit
        // procd_send_signal would send a second one whenever the config changed too.
        assert_eq!(fs::read_to_string(r.stamp()).unwrap(), format!("{n}\n"));
        assert_eq!(run.param("reload_signal"), strings(&["HUP"]));
        assert!(run.param("file").contains(&r.stamp().display().to_string()));
        assert!(run.calls_to("procd_send_signal").is_empty());
        assert_eq!(run.calls_to("procd_open_instance").len(), 1);
    }
    // A plain start does not touch the stamp: procd signals only if the config changed.
    assert!(r.run("start", Some("br-lan")).ok);
    assert_eq!(fs::read_to_string(r.stamp()).unwrap(), "2\n");

    let run = r.run("save_state", None);
    assert!(run.ok, "{}", run.stderr);
    assert_eq!(
        run.calls_to("procd_send_signal"),
        vec![strings(&["trackseed", "main", "USR1"])]
    );
    let run = r.run("stop", None);
    assert!(run.ok);
    assert_eq!(run.calls_to("procd_kill"), vec![strings(&["trackseed"])]);
}

#[test]
fn interface_down_or_unset() {
    let r = Router::new("iface");
    r.set_uci(&full_uci(&r));
    // Down: no device to watch yet; the interface trigger starts again when it comes up.
    let run = r.run("start", None);
    assert!(run.ok, "{}", run.stderr);
    assert!(run.params("netdev").is_empty());
    assert_eq!(run.calls_to("procd_add_interface_trigger").len(), 1);

    r.set_uci(&full_uci(&r).replace("option interface 'lan'", "option interface ''"));
    let run = r.run("start", Some("br-lan"));
    assert!(run.ok, "{}", run.stderr);
    assert!(run.params("netdev").is_empty());
    assert!(run.calls_to("network_get_device").is_empty());
    assert!(run.calls_to("procd_add_interface_trigger").is_empty());
}

#[test]
fn a_wrong_option_keeps_the_previous_config() {
    let r = Router::new("wrong");
    let broken = full_uci(&r).replace(
        "option redirect_url 'https://example.org/tracker#top'",
        "option redirect_url 'https://example.org/\nstats.udp 1'",
    );
    // Nothing to fall back on: no instance.
    r.set_uci(&broken);
    let run = r.run("start", Some("br-lan"));
    assert!(run.calls_to("procd_open_instance").is_empty());
    assert!(run.stderr.contains("redirect_url"), "{}", run.stderr);
    assert!(!r.conf().exists());
    let logged = run.calls_to("logger");
    assert_eq!(logged.len(), 1, "{:?}", run.calls);
    assert_eq!(logged[0][..3], strings(&["-t", "trackseed", "-p"]));

    r.set_uci(&full_uci(&r));
    assert!(r.run("start", Some("br-lan")).ok);
    let good = fs::read(r.conf()).unwrap();
    for (wrong, message) in [
        (broken.clone(), "redirect_url"),
        (
            full_uci(&r).replace("'whitelist'", "'greylist'"),
            "access_mode 'greylist'",
        ),
        (
            full_uci(&r).replace(
                "option statefile '/etc/trackseed/state'",
                "option statefile '/etc/my #state'",
            ),
            "tracker.statefile",
        ),
        (
            full_uci(&r).replace("option port '6971'\n", ""),
            "site music: option port is missing",
        ),
        (
            full_uci(&r).replace("option fullscrape '0'", "option fullscrape 'maybe'"),
            "fullscrape",
        ),
    ] {
        r.set_uci(&wrong);
        let run = r.run("start", Some("br-lan"));
        assert!(run.stderr.contains(message), "{message}: {}", run.stderr);
        // The running instance keeps its definition, so procd leaves it alone.
        assert_eq!(run.calls_to("procd_open_instance").len(), 1);
        assert_eq!(fs::read(r.conf()).unwrap(), good, "{message}");
    }
}

#[test]
fn config_file_links_a_hand_written_config() {
    let r = Router::new("handwritten");
    let own = r.path("etc/trackseed.conf");
    fs::write(
        &own,
        "tracker.max_peers 123\nlog.facility local1\nlog.facility local5 # the last wins\n",
    )
    .unwrap();
    r.set_uci(&full_uci(&r).replace(
        "option enabled '1'",
        &format!(
            "option enabled '1'\n\toption config_file '{}'",
            own.display()
        ),
    ));
    let run = r.run("start", Some("br-lan"));
    assert!(run.ok, "{}", run.stderr);
    assert_eq!(fs::read_link(r.conf()).unwrap(), own);
    let c = config::load(&r.conf()).unwrap().config;
    assert_eq!(c.max_peers, 123);
    assert!(c.sites.is_empty(), "the UCI options are ignored");
    assert_eq!(run.param("facility"), strings(&["local5"]));
    assert!(run.params("limits").is_empty());
    assert_eq!(
        run.param("command"),
        strings(&["/usr/bin/trackseed", "-f", &r.conf().display().to_string()])
    );

    // Back to UCI: the link is replaced, the hand-written file left as it was.
    r.set_uci(&full_uci(&r));
    assert!(r.run("start", Some("br-lan")).ok);
    assert!(!fs::symlink_metadata(r.conf()).unwrap().is_symlink());
    assert!(fs::read_to_string(&own)
        .unwrap()
        .starts_with("tracker.max_peers 123\n"));
    assert_eq!(config::load(&r.conf()).unwrap().config.sites.len(), 2);

    // A config_file that does not exist is refused.
    r.set_uci(&full_uci(&r).replace(
        "option enabled '1'",
        "option enabled '1'\n\toption config_file '/nonexistent/trackseed.conf'",
    ));
    let run = r.run("start", Some("br-lan"));
    assert!(run.stderr.contains("does not exist"), "{}", run.stderr);
}

/// shellcheck, or a failure that says how to install it.
fn shellcheck() -> Command {
    let found = Command::new("shellcheck").arg("--version").output();
    if !found.is_ok_and(|o| o.status.success()) {
        panic!(
            "shellcheck, which checks the OpenWrt shell scripts, is not installed. Install it \
             with:\n    sudo apt-get install -y shellcheck\n(or run tests/deps.sh)"
        );
    }
    Command::new("shellcheck")
}

#[test]
fn shell_scripts_pass_shellcheck() {
    // POSIX sh: the init script runs under busybox ash on the router, build-ipk.sh wherever.
    let out = shellcheck()
        .current_dir(root())
        .args(["-s", "sh", "-x"])
        .args([
            "openwrt/files/trackseed.init",
            "openwrt/build-ipk.sh",
            "openwrt/tests/rc.common",
            "openwrt/tests/functions.sh",
            "openwrt/tests/procd.sh",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "shellcheck:\n{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

#[test]
fn feed_makefile_matches_the_crate() {
    let mk = fs::read_to_string(root().join("openwrt/Makefile")).unwrap();
    assert!(
        mk.lines().any(|l| l == format!("PKG_VERSION:={VERSION}")),
        "openwrt/Makefile PKG_VERSION must be Cargo.toml's {VERSION}"
    );
    for line in [
        "PKG_NAME:=trackseed",
        "PKG_LICENSE:=MIT",
        "include $(INCLUDE_DIR)/package.mk",
        "include ../../lang/rust/rust-package.mk",
        "  DEPENDS:=$(RUST_ARCH_DEPENDS)",
        "  SUBMENU:=BitTorrent",
        "/etc/config/trackseed",
        "\t$(INSTALL_BIN) ./files/trackseed.init $(1)/etc/init.d/trackseed",
        "\t$(INSTALL_CONF) ./files/trackseed.config $(1)/etc/config/trackseed",
        "$(eval $(call RustBinPackage,trackseed))",
        "$(eval $(call BuildPackage,trackseed))",
    ] {
        assert!(
            mk.lines().any(|l| l == line),
            "openwrt/Makefile lacks `{line}`"
        );
    }
}

/// `openwrt/build-ipk.sh ARGS...` with a fixed SOURCE_DATE_EPOCH.
fn build_ipk(args: &[&str]) -> Output {
    Command::new(root().join("openwrt/build-ipk.sh"))
        .args(args)
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .output()
        .expect("run openwrt/build-ipk.sh")
}

/// One member of a tar listing: mode string, owner, size, name.
#[derive(Debug, PartialEq)]
struct Member {
    mode: String,
    owner: String,
    size: u64,
    time: String,
    name: String,
}

/// `tar -tvzf` of a gzip'd tar, numeric owners, times in UTC.
fn list_tar_gz(path: &Path) -> Vec<Member> {
    let out = Command::new("tar")
        .args(["--numeric-owner", "--full-time", "-tvzf"])
        .arg(path)
        .env("TZ", "UTC")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "tar -t {}: {}",
        path.display(),
        text(&out.stderr)
    );
    text(&out.stdout)
        .lines()
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            Member {
                mode: w[0].into(),
                owner: w[1].into(),
                size: w[2].parse().unwrap(),
                time: format!("{} {}", w[3], w[4]),
                name: w[5..].join(" "),
            }
        })
        .collect()
}

fn untar_gz(archive: &Path, into: &Path) {
    fs::create_dir_all(into).unwrap();
    let out = Command::new("tar")
        .arg("-xzf")
        .arg(archive)
        .arg("-C")
        .arg(into)
        .output()
        .unwrap();
    assert!(out.status.success(), "tar -x: {}", text(&out.stderr));
}

/// Unpacks an .ipk into DIR/{outer,control,data}.
fn unpack_ipk(ipk: &Path, dir: &Path) {
    untar_gz(ipk, &dir.join("outer"));
    untar_gz(&dir.join("outer/control.tar.gz"), &dir.join("control"));
    untar_gz(&dir.join("outer/data.tar.gz"), &dir.join("data"));
}

#[test]
fn ipk_has_the_layout_opkg_installs() {
    let tmp = TempDir::new("ipk");
    let out_dir = tmp.0.join("out");
    let out_arg = out_dir.to_str().unwrap();
    let binary = env!("CARGO_BIN_EXE_trackseed");

    // The native test binary is not a mipsel one: refused unless --no-check.
    let refused = build_ipk(&["--binary", binary, "--out", out_arg, "mipsel_24kc"]);
    assert!(!refused.status.success());
    assert!(text(&refused.stderr).contains("is not a mipsel-unknown-linux-musl binary"));

    let built = build_ipk(&[
        "--binary",
        binary,
        "--no-check",
        "--out",
        out_arg,
        "mipsel_24kc",
    ]);
    assert!(built.status.success(), "{}", text(&built.stderr));
    let name = format!("trackseed_{VERSION}-r1_mipsel_24kc.ipk");
    let ipk = out_dir.join(&name);
    assert_eq!(
        text(&built.stdout).lines().last(),
        Some(ipk.to_str().unwrap())
    );
    let bytes = fs::read(&ipk).unwrap();
    assert_eq!(
        bytes[..2],
        [0x1f, 0x8b],
        "an .ipk is a gzip'd tar, not an ar archive"
    );

    // The outer tar: these three, in ipkg-build's order, owned by root, dated the epoch.
    let time = "2023-11-14 22:13:20";
    let outer = list_tar_gz(&ipk);
    let names: Vec<&str> = outer.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(
        names,
        ["./debian-binary", "./data.tar.gz", "./control.tar.gz"]
    );
    for m in &outer {
        assert_eq!(
            (m.mode.as_str(), m.owner.as_str()),
            ("-rw-r--r--", "0/0"),
            "{m:?}"
        );
        assert_eq!(m.time, time);
    }
    let unpacked = tmp.0.join("unpacked");
    unpack_ipk(&ipk, &unpacked);
    assert_eq!(
        fs::read(unpacked.join("outer/debian-binary")).unwrap(),
        b"2.0\n"
    );

    // data.tar.gz: what Package/trackseed/install installs, plus the keep.d entry for the
    // conffiles directory, with OpenWrt's modes.
    let data = list_tar_gz(&unpacked.join("outer/data.tar.gz"));
    let layout: Vec<(&str, &str)> = data
        .iter()
        .map(|m| (m.name.as_str(), m.mode.as_str()))
        .collect();
    assert_eq!(
        layout,
        [
            ("./", "drwxr-xr-x"),
            ("./etc/", "drwxr-xr-x"),
            ("./etc/config/", "drwxr-xr-x"),
            ("./etc/config/trackseed", "-rw-r--r--"),
            ("./etc/init.d/", "drwxr-xr-x"),
            ("./etc/init.d/trackseed", "-rwxr-xr-x"),
            ("./lib/", "drwxr-xr-x"),
            ("./lib/upgrade/", "drwxr-xr-x"),
            ("./lib/upgrade/keep.d/", "drwxr-xr-x"),
            ("./lib/upgrade/keep.d/trackseed", "-rw-r--r--"),
            ("./usr/", "drwxr-xr-x"),
            ("./usr/bin/", "drwxr-xr-x"),
            ("./usr/bin/trackseed", "-rwxr-xr-x"),
        ]
    );
    for m in &data {
        assert_eq!((m.owner.as_str(), m.time.as_str()), ("0/0", time), "{m:?}");
    }
    let d = unpacked.join("data");
    assert_eq!(
        fs::read(d.join("usr/bin/trackseed")).unwrap(),
        fs::read(binary).unwrap()
    );
    for (installed, source) in [
        ("etc/init.d/trackseed", "openwrt/files/trackseed.init"),
        ("etc/config/trackseed", "openwrt/files/trackseed.config"),
    ] {
        assert_eq!(
            fs::read(d.join(installed)).unwrap(),
            fs::read(root().join(source)).unwrap(),
            "{installed}"
        );
    }
    assert_eq!(
        fs::read_to_string(d.join("lib/upgrade/keep.d/trackseed")).unwrap(),
        "/etc/trackseed/\n"
    );

    // control.tar.gz.
    let control = list_tar_gz(&unpacked.join("outer/control.tar.gz"));
    let layout: Vec<(&str, &str, &str)> = control
        .iter()
        .map(|m| (m.name.as_str(), m.mode.as_str(), m.owner.as_str()))
        .collect();
    assert_eq!(
        layout,
        [
            ("./", "drwxr-xr-x", "0/0"),
            ("./conffiles", "-rw-r--r--", "0/0"),
            ("./control", "-rw-r--r--", "0/0"),
            ("./postinst", "-rwxr-xr-x", "0/0"),
            ("./prerm", "-rwxr-xr-x", "0/0"),
        ]
    );
    let c = unpacked.join("control");
    assert_eq!(
        fs::read_to_string(c.join("conffiles")).unwrap(),
        "/etc/config/trackseed\n"
    );
    let fields = fs::read_to_string(c.join("control")).unwrap();
    let data_size: u64 = {
        let out = Command::new("gzip")
            .arg("-dc")
            .arg(unpacked.join("outer/data.tar.gz"))
            .output()
            .unwrap();
        out.stdout.len() as u64
    };
    let field = |name: &str| -> String {
        fields
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")))
            .unwrap_or_else(|| panic!("control has no {name}:\n{fields}"))
            .to_string()
    };
    assert_eq!(field("Package"), "trackseed");
    assert_eq!(field("Version"), format!("{VERSION}-r1"));
    assert_eq!(field("Architecture"), "mipsel_24kc");
    assert_eq!(field("Depends"), "libc");
    assert_eq!(field("License"), "MIT");
    assert_eq!(field("Section"), "net");
    assert_eq!(field("SourceName"), "trackseed");
    assert_eq!(field("SourceDateEpoch"), "1700000000");
    assert_eq!(field("Installed-Size"), data_size.to_string());
    assert!(field("Description").contains("opentracker-compatible"));
    // The description's continuation lines are indented by one space, and it ends the file.
    let after: Vec<&str> = fields
        .lines()
        .skip_while(|l| !l.starts_with("Description: "))
        .skip(1)
        .collect();
    assert!(!after.is_empty() && after.iter().all(|l| l.starts_with(' ') && l.len() > 1));
    let postinst = fs::read_to_string(c.join("postinst")).unwrap();
    assert!(postinst.starts_with("#!/bin/sh\n"));
    assert!(postinst.contains("default_postinst $0 $@"));
    assert!(fs::read_to_string(c.join("prerm"))
        .unwrap()
        .contains("default_prerm $0 $@"));

    // Reproducible: the same inputs give the same bytes.
    let again_dir = tmp.0.join("again");
    let again = build_ipk(&[
        "--binary",
        binary,
        "--no-check",
        "--out",
        again_dir.to_str().unwrap(),
        "mipsel_24kc",
    ]);
    assert!(again.status.success());
    assert_eq!(fs::read(again_dir.join(&name)).unwrap(), bytes);
}

#[test]
fn ipk_refuses_an_unknown_arch() {
    let out = build_ipk(&["--binary", "/dev/null", "mipsel_34kc"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("unknown ARCH 'mipsel_34kc'"), "{err}");
    for known in [
        "mipsel_24kc -> mipsel-unknown-linux-musl",
        "mips_24kc -> mips-unknown-linux-musl",
        "arm_cortex-a7_neon-vfpv4 -> armv7-unknown-linux-musleabihf",
        "aarch64_cortex-a53 -> aarch64-unknown-linux-musl",
    ] {
        assert!(err.contains(known), "{err}");
    }
}

/// With the mipsel release build present (`make size`, `make cross` or `make ipk` leave it),
/// its .ipk's binary runs under qemu and says which build it is.
#[test]
fn ipk_of_the_mipsel_build_runs_under_qemu() {
    let binary = root().join("target/cross/mipsel-unknown-linux-musl/release/trackseed");
    if !binary.is_file() {
        // `make test` runs this again after `make size` built it, with the variable set.
        assert!(
            std::env::var_os("TRACKSEED_REQUIRE_CROSS").is_none(),
            "no mipsel cross build at {}",
            binary.display()
        );
        eprintln!(
            "skipped: no mipsel cross build at {} (cross/build.sh mipsel-unknown-linux-musl)",
            binary.display()
        );
        return;
    }
    let tmp = TempDir::new("qemu");
    let out_dir = tmp.0.join("out");
    let built = build_ipk(&[
        "--binary",
        binary.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
        "mipsel_24kc",
    ]);
    assert!(built.status.success(), "{}", text(&built.stderr));
    let ipk = out_dir.join(format!("trackseed_{VERSION}-r1_mipsel_24kc.ipk"));
    unpack_ipk(&ipk, &tmp.0.join("unpacked"));
    let installed = tmp.0.join("unpacked/data/usr/bin/trackseed");
    let run = Command::new("qemu-mipsel-static")
        .args(["-cpu", "24Kc"])
        .arg(&installed)
        .arg("--version")
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "qemu-mipsel-static: {e}. Install it with:\n    sudo apt-get install -y \
                 qemu-user-static\n(or run tests/deps.sh)"
            )
        });
    assert!(run.status.success(), "{}", text(&run.stderr));
    // The build may predate the sources (it is only rebuilt by make size, cross or ipk).
    let version = text(&run.stdout);
    assert!(
        version.starts_with("trackseed ") && version.ends_with(" (mipsel-unknown-linux-musl)\n"),
        "{version}"
    );
}
