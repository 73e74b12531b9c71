//! Dropping privileges after binding, in opentracker's order: chroot (or, without root, chdir)
//! to the tracker's directory, then switch to the configured user.
//!
//! The user is looked up with [`lookup_user`] *before* [`drop_privileges`] chroots: inside the
//! chroot `/etc/passwd` is usually missing, so the caller resolves the name first and passes
//! the result in. Files opened after the drop (access lists, FIFOs, the state dump) resolve
//! inside the chroot, as opentracker documents.

use std::ffi::{CStr, CString};
use std::fmt;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// An account from the password database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub uid: libc::uid_t,
    pub gid: libc::gid_t,
    pub name: String,
}

/// Largest buffer `lookup_user` grows to before giving up on `ERANGE`.
const MAX_PASSWD_BUFFER: usize = 1 << 20;

/// Looks `name` up in the password database (`getpwnam_r`). An unknown user is a `NotFound`
/// error naming it.
pub fn lookup_user(name: &str) -> io::Result<User> {
    let c_name = CString::new(name).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("user name {name:?} holds a NUL byte"),
        )
    })?;
    // SAFETY: sysconf has no preconditions; it returns -1 when there is no suggested size.
    let suggested = unsafe { libc::sysconf(libc::_SC_GETPW_R_SIZE_MAX) };
    let mut size = usize::try_from(suggested)
        .unwrap_or(1024)
        .clamp(256, MAX_PASSWD_BUFFER);
    loop {
        let mut buf = vec![0u8; size];
        // SAFETY: `passwd` is plain old data (integers and pointers): all zeros is a valid value.
        let mut entry: libc::passwd = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: `c_name` is NUL-terminated; `entry`, `buf` (with its true length) and `result`
        // are valid for writes and outlive the call. The strings in `entry` point into `buf`.
        let rc = unsafe {
            libc::getpwnam_r(
                c_name.as_ptr(),
                &mut entry,
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut result,
            )
        };
        match rc {
            0 if !result.is_null() => {
                // SAFETY: on success `pw_name` points to a NUL-terminated string inside `buf`,
                // which is still alive here.
                let found = unsafe { CStr::from_ptr(entry.pw_name) };
                return Ok(User {
                    uid: entry.pw_uid,
                    gid: entry.pw_gid,
                    name: found.to_string_lossy().into_owned(),
                });
            }
            // Not found: POSIX says 0 with a null result; getpwnam_r(3) lists these codes as
            // other libcs' ways of saying it (older musl passes on fopen's errno when
            // /etc/passwd is missing, as in a chroot).
            0 | libc::ENOENT | libc::ENOTDIR | libc::ESRCH | libc::EBADF | libc::EPERM => {
                return Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("no such user: {name}"),
                ));
            }
            libc::ERANGE if size < MAX_PASSWD_BUFFER => size *= 2,
            libc::EINTR => {}
            err => {
                let e = io::Error::from_raw_os_error(err);
                return Err(io::Error::new(
                    e.kind(),
                    format!("looking up user {name}: {e}"),
                ));
            }
        }
    }
}

/// What happened to the working directory in [`drop_privileges`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Root {
    /// No directory was given.
    Unchanged,
    /// Running as root: the process is chrooted to this directory (and its cwd is `/`).
    Chroot(PathBuf),
    /// Not root: only the working directory changed to this one.
    Chdir(PathBuf),
}

/// What [`drop_privileges`] did, for a log line (`Display` writes one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dropped {
    pub root: Root,
    /// The user the process now runs as, when one was given.
    pub user: Option<User>,
}

impl Dropped {
    /// True when nothing was changed.
    pub fn is_noop(&self) -> bool {
        self.root == Root::Unchanged && self.user.is_none()
    }
}

impl fmt::Display for Dropped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.root {
            Root::Unchanged => f.write_str("directory unchanged")?,
            Root::Chroot(dir) => write!(f, "chrooted to {}", dir.display())?,
            Root::Chdir(dir) => write!(
                f,
                "changed directory to {} (no chroot: not root)",
                dir.display()
            )?,
        }
        match &self.user {
            Some(u) => write!(f, ", running as {} (uid {}, gid {})", u.name, u.uid, u.gid),
            None => f.write_str(", user unchanged"),
        }
    }
}

/// Drops privileges in opentracker's order:
///
/// 1. `dir` given and effective uid 0: `chroot(dir)`, then `chdir("/")`;
///    `dir` given and not root: `chdir(dir)` only.
/// 2. `user` given: as root `setgroups([gid])` (clearing root's supplementary groups), then
///    `setgid(gid)` and `setuid(uid)` — without root these succeed only for the current user;
///    then, unless the target is root itself, checks that `setuid(0)` and `setgid(0)` fail, so
///    root cannot be regained.
///
/// Look `user` up with [`lookup_user`] *before* calling this: after the chroot the password
/// database is usually out of reach. Open syslog before it too (`sys::syslog::open` connects to
/// `/dev/log` at once).
/// `setuid`/`setgid` apply to every thread (glibc and musl both broadcast them).
///
/// Errors name the step that failed; a failure leaves the steps before it done.
pub fn drop_privileges(dir: Option<&Path>, user: Option<&User>) -> io::Result<Dropped> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let is_root = unsafe { libc::geteuid() } == 0;
    let mut root = Root::Unchanged;
    if let Some(dir) = dir {
        let c_dir = path_cstring(dir)?;
        if is_root {
            // SAFETY: `c_dir` is NUL-terminated and lives across the call.
            super::check(unsafe { libc::chroot(c_dir.as_ptr()) })
                .map_err(|e| super::step(&format!("chroot to {}", dir.display()), e))?;
            // SAFETY: the literal is NUL-terminated and 'static.
            super::check(unsafe { libc::chdir(c"/".as_ptr()) }).map_err(|e| {
                super::step(&format!("chdir to / after chroot to {}", dir.display()), e)
            })?;
            root = Root::Chroot(dir.to_path_buf());
        } else {
            // SAFETY: `c_dir` is NUL-terminated and lives across the call.
            super::check(unsafe { libc::chdir(c_dir.as_ptr()) })
                .map_err(|e| super::step(&format!("chdir to {}", dir.display()), e))?;
            root = Root::Chdir(dir.to_path_buf());
        }
    }
    if let Some(user) = user {
        switch_user(user, is_root)?;
    }
    Ok(Dropped {
        root,
        user: user.cloned(),
    })
}

fn switch_user(user: &User, is_root: bool) -> io::Result<()> {
    let who = |what: &str| {
        format!(
            "{what} for user {} (uid {}, gid {})",
            user.name, user.uid, user.gid
        )
    };
    if is_root {
        let groups = [user.gid];
        // SAFETY: `groups` holds exactly one gid and lives across the call.
        super::check(unsafe { libc::setgroups(1, groups.as_ptr()) })
            .map_err(|e| super::step(&who("setgroups"), e))?;
    }
    // SAFETY: setgid/setuid take plain integers; failure is reported through the return value.
    super::check(unsafe { libc::setgid(user.gid) }).map_err(|e| super::step(&who("setgid"), e))?;
    // SAFETY: as above.
    super::check(unsafe { libc::setuid(user.uid) }).map_err(|e| super::step(&who("setuid"), e))?;
    // SAFETY: the getters have no preconditions and cannot fail.
    let (uid, euid, gid, egid) = unsafe {
        (
            libc::getuid(),
            libc::geteuid(),
            libc::getgid(),
            libc::getegid(),
        )
    };
    if uid != user.uid || euid != user.uid || gid != user.gid || egid != user.gid {
        return Err(io::Error::other(who(&format!(
            "verifying the switch: now uid {uid}/{euid}, gid {gid}/{egid}"
        ))));
    }
    // SAFETY: setuid takes a plain integer; succeeding here would mean root could be regained.
    if user.uid != 0 && unsafe { libc::setuid(0) } == 0 {
        return Err(io::Error::other(who(
            "verifying the switch: setuid(0) still succeeds",
        )));
    }
    // SAFETY: setgid takes a plain integer; as above for group 0.
    if user.uid != 0 && user.gid != 0 && unsafe { libc::setgid(0) } == 0 {
        return Err(io::Error::other(who(
            "verifying the switch: setgid(0) still succeeds",
        )));
    }
    Ok(())
}

fn path_cstring(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("path {} holds a NUL byte", path.display()),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn temp_dir(tag: &str) -> PathBuf {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "trackseed-priv-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn is_root() -> bool {
        // SAFETY: geteuid has no preconditions.
        unsafe { libc::geteuid() == 0 }
    }

    #[test]
    fn looks_up_root() {
        let root = lookup_user("root").unwrap();
        assert_eq!((root.uid, root.gid, root.name.as_str()), (0, 0, "root"));
    }

    #[test]
    fn unknown_user_is_not_found_and_named() {
        let e = lookup_user("no-such-user-trackseed").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        assert!(e.to_string().contains("no-such-user-trackseed"), "{e}");
        assert_eq!(
            lookup_user("a\0b").unwrap_err().kind(),
            io::ErrorKind::InvalidInput
        );
    }

    #[test]
    fn nothing_given_is_a_no_op() {
        let before = std::env::current_dir().unwrap();
        let dropped = drop_privileges(None, None).unwrap();
        assert!(dropped.is_noop());
        assert_eq!(std::env::current_dir().unwrap(), before);
    }

    #[test]
    fn chroot_and_switch_to_nobody_as_root() {
        if !is_root() {
            eprintln!("skipped: needs root");
            return;
        }
        let nobody = lookup_user("nobody").unwrap();
        let dir = temp_dir("chroot");
        std::fs::write(dir.join("marker"), b"inside").unwrap();
        let code = crate::sys::forked::in_child(|| {
            let dropped = match drop_privileges(Some(&dir), Some(&nobody)) {
                Ok(d) => d,
                Err(_) => return 1,
            };
            if dropped.root != Root::Chroot(dir.clone()) || dropped.user.as_ref() != Some(&nobody) {
                return 2;
            }
            if std::fs::read("/marker").ok().as_deref() != Some(&b"inside"[..]) {
                return 3;
            }
            if std::env::current_dir().ok().as_deref() != Some(Path::new("/")) {
                return 4;
            }
            // SAFETY: plain getters and a setuid that must fail.
            let regained = unsafe { libc::getuid() != nobody.uid || libc::setuid(0) == 0 };
            if regained {
                return 5;
            }
            0
        });
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(code, 0);
    }

    #[test]
    fn without_root_only_chdir() {
        // In a child even when not root, to keep the test process's working directory.
        let nobody = lookup_user("nobody").unwrap();
        let dir = temp_dir("chdir");
        let canonical = dir.canonicalize().unwrap();
        let code = crate::sys::forked::in_child(|| {
            if is_root() && drop_privileges(None, Some(&nobody)).is_err() {
                return 1;
            }
            let dropped = match drop_privileges(Some(&dir), None) {
                Ok(d) => d,
                Err(_) => return 2,
            };
            if dropped.root != Root::Chdir(dir.clone()) || dropped.user.is_some() {
                return 3;
            }
            if std::env::current_dir().ok() != Some(canonical.clone()) {
                return 4;
            }
            // Switching to another user without root fails, naming the step.
            let root = User {
                uid: 0,
                gid: 0,
                name: "root".into(),
            };
            match drop_privileges(None, Some(&root)) {
                Err(e) if e.to_string().contains("setgid for user root") => 0,
                _ => 5,
            }
        });
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(code, 0);
    }

    #[test]
    fn failed_chroot_names_the_step() {
        let missing = std::env::temp_dir().join("trackseed-priv-no-such-dir");
        let code = crate::sys::forked::in_child(|| match drop_privileges(Some(&missing), None) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let step = if is_root() { "chroot to" } else { "chdir to" };
                if e.to_string().contains(step) && e.to_string().contains("no-such-dir") {
                    0
                } else {
                    1
                }
            }
            _ => 2,
        });
        assert_eq!(code, 0);
    }

    #[test]
    fn dropped_describes_itself() {
        let d = Dropped {
            root: Root::Chroot("/srv/tracker".into()),
            user: Some(User {
                uid: 65534,
                gid: 65534,
                name: "nobody".into(),
            }),
        };
        assert_eq!(
            d.to_string(),
            "chrooted to /srv/tracker, running as nobody (uid 65534, gid 65534)"
        );
    }
}
