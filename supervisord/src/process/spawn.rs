//! Starting a child the way supervisor does: command resolved on PATH before forking (so
//! "can't find command" is a spawn error), then in the child: own process group, user, directory,
//! umask, exec. A failure after the fork is written to the child's stderr as
//! `supervisor: couldn't exec …` and the child exits 127, exactly as Python's supervisord.
//!
//! This is the only module with `unsafe`: the fork and what the child does before it execs.
//! Everything the child touches is built before the fork; after the fork it makes only
//! async-signal-safe system calls.
#![allow(unsafe_code)]

use std::ffi::{CString, OsStr, OsString};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use nix::unistd::{Gid, Uid};

/// Everything needed to spawn one process, resolved from the config before the fork.
#[derive(Debug)]
pub struct SpawnSpec {
    /// The process's name, for error messages.
    pub name: String,
    /// The executable, found on PATH already.
    pub filename: PathBuf,
    pub argv: Vec<String>,
    pub env: Vec<(OsString, OsString)>,
    pub directory: Option<PathBuf>,
    pub umask: Option<u32>,
    pub user: Option<UserSpec>,
    pub stdin: Stdin,
    pub stdout: Output,
    pub stderr: ErrOutput,
    /// The signal the kernel sends the child if the daemon dies before it (Linux's
    /// parent-death signal; `None`: it runs on, as under Python's supervisord).
    pub death_signal: Option<i32>,
}

/// What the child's stdin is.
#[derive(Debug)]
pub enum Stdin {
    /// A pipe whose write end the daemon keeps (`sendProcessStdin`, event listeners).
    Pipe,
    /// `/dev/null`.
    Null,
    /// A descriptor of the daemon's that the child shares (an fcgi program's socket).
    Fd(OwnedFd),
}

/// What the child's stdout is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// A pipe the daemon reads.
    Pipe,
    /// `/dev/null`: nothing wants the output.
    Null,
}

/// What the child's stderr is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrOutput {
    Pipe,
    Null,
    /// Wherever stdout goes (`redirect_stderr`).
    Stdout,
}

/// Why a process could not be spawned. The texts are supervisor's `spawnerr`s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpawnError {
    /// NO_FILE: the command is not where its path or PATH says (or it is empty).
    #[error("{0}")]
    NotFound(String),
    /// NOT_EXECUTABLE: a directory, or a file without execute permission.
    #[error("{0}")]
    NotExecutable(String),
    /// The user to run as can't be found.
    #[error("{0}")]
    User(String),
    /// The environment can't be built (an env file can't be read).
    #[error("{0}")]
    Environment(String),
    /// The system refused: pipes, the fork, a NUL byte in an argument.
    #[error("{reason} for '{name}'")]
    System { name: String, reason: String },
    /// An fcgi program's socket can't be created (supervisor's words).
    #[error("{0}")]
    Socket(String),
    /// A log file can't be opened (supervisor's words, with the errno's name).
    #[error("{}", log_file_message(name, *errno))]
    LogFile {
        name: String,
        errno: nix::errno::Errno,
    },
}

fn log_file_message(name: &str, errno: nix::errno::Errno) -> String {
    if errno == nix::errno::Errno::EMFILE {
        format!("too many open files to spawn '{name}'")
    } else {
        format!("unknown error making dispatchers for '{name}': {errno:?}")
    }
}

impl From<ResolveError> for SpawnError {
    fn from(e: ResolveError) -> Self {
        match e {
            ResolveError::NotFound(m) => SpawnError::NotFound(m),
            ResolveError::NotExecutable(m) => SpawnError::NotExecutable(m),
        }
    }
}

#[derive(Debug, Clone)]
pub struct UserSpec {
    pub name: String,
    pub uid: Uid,
    pub gid: Gid,
    pub groups: Vec<Gid>,
    pub home: PathBuf,
    pub shell: PathBuf,
}

/// A running child and the parent's ends of its pipes.
#[derive(Debug)]
pub struct Spawned {
    pub pid: i32,
    pub stdin: Option<OwnedFd>,
    pub stdout: Option<OwnedFd>,
    pub stderr: Option<OwnedFd>,
}

/// Looks `user` (`name`, `uid`, `name:group`) up in the user database.
pub fn lookup_user(user: &str) -> Result<UserSpec, String> {
    let (name, group) = match user.split_once(':') {
        Some((n, g)) => (n, Some(g)),
        None => (user, None),
    };
    let pw = match name.parse::<u32>() {
        Ok(uid) => nix::unistd::User::from_uid(Uid::from_raw(uid)),
        Err(_) => nix::unistd::User::from_name(name),
    }
    .map_err(|e| format!("can't look up user {name}: {e}"))?
    .ok_or_else(|| format!("can't find username '{name}'"))?;
    let gid = match group {
        None => pw.gid,
        Some(g) => match g.parse::<u32>() {
            Ok(n) => Gid::from_raw(n),
            Err(_) => {
                nix::unistd::Group::from_name(g)
                    .map_err(|e| format!("can't look up group {g}: {e}"))?
                    .ok_or_else(|| format!("can't find group '{g}'"))?
                    .gid
            }
        },
    };
    let cname = CString::new(pw.name.clone()).map_err(|_| "bad user name".to_string())?;
    let groups = nix::unistd::getgrouplist(&cname, gid).unwrap_or_else(|_| vec![gid]);
    Ok(UserSpec {
        name: pw.name,
        uid: pw.uid,
        gid,
        groups,
        home: pw.dir,
        shell: pw.shell,
    })
}

/// Python's `get_execv_args` checks: find `argv[0]` (on the program's PATH when it has no `/`),
/// and refuse directories and files without execute permission. The error is the spawnerr text.
pub fn resolve_command(program: &str, path_var: Option<&OsStr>) -> Result<PathBuf, ResolveError> {
    let found = if program.contains('/') {
        let p = PathBuf::from(program);
        p.metadata().ok().map(|m| (p, m))
    } else {
        let default = OsString::from("/bin:/usr/bin:/usr/local/bin");
        let path = path_var.map_or(default, OsStr::to_owned);
        std::env::split_paths(&path)
            .map(|dir| dir.join(program))
            .find_map(|p| p.metadata().ok().map(|m| (p, m)))
    };
    let Some((path, meta)) = found else {
        return Err(ResolveError::NotFound(format!(
            "can't find command '{program}'"
        )));
    };
    if meta.is_dir() {
        return Err(ResolveError::NotExecutable(format!(
            "command at '{}' is a directory",
            path.display()
        )));
    }
    if meta.permissions().mode() & 0o111 == 0 {
        return Err(ResolveError::NotExecutable(format!(
            "command at '{}' is not executable",
            path.display()
        )));
    }
    if nix::unistd::access(&path, nix::unistd::AccessFlags::X_OK).is_err() {
        return Err(ResolveError::NotExecutable(format!(
            "no permission to run command '{}'",
            path.display()
        )));
    }
    Ok(path)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolveError {
    NotFound(String),
    NotExecutable(String),
}

impl ResolveError {
    pub fn message(&self) -> &str {
        match self {
            ResolveError::NotFound(m) | ResolveError::NotExecutable(m) => m,
        }
    }
}

/// Null-terminated pointer arrays over owned C strings, built before the fork so the child
/// needs no allocation.
struct CArgs {
    _strings: Vec<CString>,
    ptrs: Vec<*const libc::c_char>,
}

impl CArgs {
    fn new(strings: Vec<CString>) -> CArgs {
        let mut ptrs: Vec<*const libc::c_char> = strings.iter().map(|s| s.as_ptr()).collect();
        ptrs.push(std::ptr::null());
        CArgs {
            _strings: strings,
            ptrs,
        }
    }

    fn as_ptr(&self) -> *const *const libc::c_char {
        self.ptrs.as_ptr()
    }
}

fn cstring(b: &[u8]) -> Result<CString, String> {
    CString::new(b).map_err(|_| "argument or environment contains a NUL byte".to_string())
}

/// The pieces of the child's error messages, prepared before the fork.
struct ChildMessages {
    exec: Vec<u8>,
    chdir: Vec<u8>,
    setuid: Vec<u8>,
}

/// Forks and execs `spec.filename`. Returns the child and the parent's pipe ends. Errors here
/// are failures before the child exists (pipes, fork); later failures show up as exit status
/// 127.
pub fn spawn(spec: SpawnSpec) -> Result<Spawned, SpawnError> {
    let name = spec.name.clone();
    fork_exec(spec).map_err(|reason| SpawnError::System { name, reason })
}

fn fork_exec(spec: SpawnSpec) -> Result<Spawned, String> {
    let filename = spec.filename.as_path();
    let argv: Vec<CString> = spec
        .argv
        .iter()
        .map(|a| cstring(a.as_bytes()))
        .collect::<Result<_, _>>()?;
    let envp: Vec<CString> = spec
        .env
        .iter()
        .map(|(k, v)| {
            let mut kv = k.as_bytes().to_vec();
            kv.push(b'=');
            kv.extend_from_slice(v.as_bytes());
            cstring(&kv)
        })
        .collect::<Result<_, _>>()?;
    let file = cstring(filename.as_os_str().as_bytes())?;
    let argv = CArgs::new(argv);
    let envp = CArgs::new(envp);
    let dir = spec
        .directory
        .as_ref()
        .map(|d| cstring(d.as_os_str().as_bytes()))
        .transpose()?;
    let msgs = ChildMessages {
        exec: format!(
            "supervisor: couldn't exec {}: ",
            spec.argv.first().map_or("", String::as_str)
        )
        .into_bytes(),
        chdir: format!(
            "supervisor: couldn't chdir to {}: ",
            spec.directory
                .as_deref()
                .map_or(String::new(), |d| d.display().to_string())
        )
        .into_bytes(),
        setuid: format!(
            "supervisor: couldn't setuid to {}: ",
            spec.user.as_ref().map_or(0, |u| u.uid.as_raw())
        )
        .into_bytes(),
    };
    let running_as_root = Uid::effective().is_root();
    // Where the fallback below stops when close_range is missing (kernels before 5.11).
    let fd_limit = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
        .map_or(1024, |(soft, _)| soft.min(65536)) as libc::c_int;

    // The child's three descriptors (its ends of the pipes, /dev/null, a shared socket), all
    // above 2 so that setting up 0, 1 and 2 in the child never overwrites one of them.
    let mut null: Option<OwnedFd> = None;
    let mut dev_null = || -> Result<OwnedFd, String> {
        if null.is_none() {
            let fd = nix::fcntl::open(
                "/dev/null",
                nix::fcntl::OFlag::O_RDWR | nix::fcntl::OFlag::O_CLOEXEC,
                nix::sys::stat::Mode::empty(),
            )
            .map_err(|e| format!("can't open /dev/null: {e}"))?;
            null = Some(above_stdio(fd)?);
        }
        null.as_ref()
            .map(|n| n.try_clone().map_err(|e| format!("dup: {e}")))
            .ok_or_else(|| "no /dev/null".to_string())?
    };
    let (stdin_child, stdin_parent) = match spec.stdin {
        Stdin::Pipe => {
            let (r, w) = pipe()?;
            (r, Some(w))
        }
        Stdin::Null => (dev_null()?, None),
        Stdin::Fd(fd) => (above_stdio(fd)?, None),
    };
    let (stdout_child, stdout_parent) = match spec.stdout {
        Output::Pipe => {
            let (r, w) = pipe()?;
            (w, Some(r))
        }
        Output::Null => (dev_null()?, None),
    };
    let (stderr_child, stderr_parent) = match spec.stderr {
        ErrOutput::Stdout => (None, None),
        ErrOutput::Null => (Some(dev_null()?), None),
        ErrOutput::Pipe => {
            let (r, w) = pipe()?;
            (Some(w), Some(r))
        }
    };
    let stdio = [
        stdin_child.as_raw_fd(),
        stdout_child.as_raw_fd(),
        stderr_child
            .as_ref()
            .map_or(stdout_child.as_raw_fd(), AsRawFd::as_raw_fd),
    ];
    let groups: Vec<libc::gid_t> = spec
        .user
        .as_ref()
        .map(|u| u.groups.iter().map(|g| g.as_raw()).collect())
        .unwrap_or_default();
    let child = Child {
        stdio,
        user: spec.user.as_ref(),
        groups: &groups,
        running_as_root,
        dir: dir.as_ref(),
        umask: spec.umask,
        fd_limit,
        file: &file,
        argv: &argv,
        envp: &envp,
        msgs: &msgs,
        death_signal: spec
            .death_signal
            .map(|sig| (sig, nix::unistd::getpid().as_raw())),
    };
    let pid = clone_and_exec(&child)?;
    // The child has its copies now; the parent keeps only its own ends.
    drop((stdin_child, stdout_child, stderr_child, null));
    Ok(Spawned {
        pid,
        stdin: stdin_parent,
        stdout: stdout_parent,
        stderr: stderr_parent,
    })
}

/// The child's stack while it shares the daemon's memory: it only sets up and execs.
const CHILD_STACK: usize = 64 * 1024;

/// Starts the child as vfork does (posix_spawn's way): it shares the daemon's memory, so no
/// page tables are copied (a fork of even a small process costs hundreds of microseconds in a
/// VM), and this thread waits only until the child's exec has let go of that memory. The child
/// reports its own exec failure. Every signal is blocked meanwhile, so no handler of the
/// daemon's runs in the child; the child resets them before it unblocks.
fn clone_and_exec(child: &Child<'_>) -> Result<i32, String> {
    let mut stack = vec![0u8; CHILD_STACK];
    // The stack grows down from its (16-byte aligned) top.
    let top = (stack.as_mut_ptr() as usize + CHILD_STACK) & !15;
    let all = nix::sys::signal::SigSet::all();
    let mut old = nix::sys::signal::SigSet::empty();
    nix::sys::signal::pthread_sigmask(
        nix::sys::signal::SigmaskHow::SIG_SETMASK,
        Some(&all),
        Some(&mut old),
    )
    .map_err(|e| format!("unknown error during fork: can't block signals: {e}"))?;
    extern "C" fn start(arg: *mut libc::c_void) -> libc::c_int {
        // SAFETY: `arg` is the `Child` the parent passed, alive while the parent waits (vfork
        // semantics); this runs in the new child, which only sets up and execs.
        unsafe { (*(arg as *const Child<'_>)).exec() }
    }
    // SAFETY: CLONE_VM|CLONE_VFORK: the child runs `start` on its own stack in our memory
    // while this thread is suspended; it reads the prepared `child` only, writes nothing of
    // ours but its stack and errno, and ends in execve or _exit. `stack` and `child` outlive
    // the call.
    let pid = unsafe {
        libc::clone(
            start,
            top as *mut libc::c_void,
            libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
            child as *const Child<'_> as *mut libc::c_void,
        )
    };
    let err = std::io::Error::last_os_error();
    let _ = nix::sys::signal::pthread_sigmask(
        nix::sys::signal::SigmaskHow::SIG_SETMASK,
        Some(&old),
        None,
    );
    drop(stack);
    if pid < 0 {
        return Err(format!("unknown error during fork: {err}"));
    }
    Ok(pid)
}

/// `fd` moved to a number above 2 (if it is not already), close-on-exec.
fn above_stdio(fd: OwnedFd) -> Result<OwnedFd, String> {
    if fd.as_raw_fd() > 2 {
        return Ok(fd);
    }
    let raw = nix::fcntl::fcntl(&fd, nix::fcntl::FcntlArg::F_DUPFD_CLOEXEC(3))
        .map_err(|e| format!("dup: {e}"))?;
    // SAFETY: F_DUPFD_CLOEXEC returned a new descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(raw) })
}

/// What the child does between fork and exec, all prepared before the fork.
struct Child<'a> {
    /// The descriptors that become 0, 1 and 2.
    stdio: [RawFd; 3],
    user: Option<&'a UserSpec>,
    /// The user's groups, as the system call takes them.
    groups: &'a [libc::gid_t],
    running_as_root: bool,
    dir: Option<&'a CString>,
    umask: Option<u32>,
    /// Where the close-on-exec fallback stops when close_range is missing (kernels < 5.11).
    fd_limit: libc::c_int,
    file: &'a CString,
    argv: &'a CArgs,
    envp: &'a CArgs,
    msgs: &'a ChildMessages,
    /// The parent-death signal, and the daemon's pid to check it against.
    death_signal: Option<(libc::c_int, libc::pid_t)>,
}

impl Child<'_> {
    /// Runs in the new child: default signal handling, stdio, own process group, user,
    /// directory, umask, exec. Never returns.
    ///
    /// # Safety
    /// Only in a child just cloned with the daemon's memory: it makes plain system calls only
    /// (no allocation, no lock, no glibc wrapper that consults the daemon's threads).
    unsafe fn exec(&self) -> ! {
        // The daemon's handlers, its ignored SIGPIPE and its mask are not the program's to
        // inherit: every signal back to its default, then none blocked.
        // The kernel's own call: glibc's refuses the two signals it keeps for itself, which
        // an ignoring parent may have passed down to the daemon.
        let default = [0u64; 4]; // handler SIG_DFL, no flags, no restorer, empty mask
        for sig in 1..=64 {
            // SAFETY: rt_sigaction with a kernel sigaction that means SIG_DFL; it fails
            // harmlessly for SIGKILL and SIGSTOP.
            unsafe {
                libc::syscall(
                    libc::SYS_rt_sigaction,
                    sig,
                    default.as_ptr(),
                    0usize,
                    8usize,
                );
            }
        }
        let empty = nix::sys::signal::SigSet::empty();
        let _ = nix::sys::signal::sigprocmask(
            nix::sys::signal::SigmaskHow::SIG_SETMASK,
            Some(&empty),
            None,
        );
        for (target, &fd) in self.stdio.iter().enumerate() {
            // Every source is above 2: no dup2 here overwrites a later one.
            // SAFETY: dup2 is async-signal-safe; both descriptors are open.
            if unsafe { libc::dup2(fd, target as libc::c_int) } < 0 {
                child_fail(&[b"supervisor: couldn't set up standard descriptors\n"]);
            }
        }
        // SAFETY: setpgid is async-signal-safe.
        unsafe { libc::setpgid(0, 0) };
        if let Some(u) = self.user
            && u.uid != Uid::effective()
        {
            let fail = |reason: &[u8]| -> ! {
                child_fail(&[&self.msgs.setuid, reason, b"\n"]);
            };
            if !self.running_as_root {
                fail(b"Can't drop privilege as nonroot user");
            }
            // Raw system calls: glibc's wrappers would set the ids of every thread of the
            // daemon, whose memory this child shares, and not its own alone.
            // SAFETY: plain system calls on prepared data.
            unsafe {
                if libc::syscall(libc::SYS_setgroups, self.groups.len(), self.groups.as_ptr()) != 0
                {
                    fail(b"Could not set groups of effective user");
                }
                if libc::syscall(libc::SYS_setgid, u.gid.as_raw()) != 0 {
                    fail(b"Could not set group id of effective user");
                }
                if libc::syscall(libc::SYS_setuid, u.uid.as_raw()) != 0 {
                    fail(b"Could not set user id of effective user");
                }
            }
        }
        // After the change of user, which clears it. The kernel sends it when the *thread*
        // that cloned this child ends: the daemon spawns from its runtime's workers, which
        // live as long as it does.
        if let Some((sig, daemon)) = self.death_signal {
            // SAFETY: prctl and getppid are plain system calls.
            unsafe {
                libc::prctl(libc::PR_SET_PDEATHSIG, sig as libc::c_ulong, 0, 0, 0);
                // The daemon died before the signal was asked for: nobody would send it.
                if libc::getppid() != daemon {
                    libc::_exit(1);
                }
            }
        }
        // SAFETY: chdir takes a NUL-terminated path prepared before the fork.
        if let Some(d) = self.dir
            && unsafe { libc::chdir(d.as_ptr()) } != 0
        {
            let e = nix::errno::Errno::last_raw();
            child_fail(&[&self.msgs.chdir, errno_name(e), b"\n"]);
        }
        if let Some(m) = self.umask {
            // SAFETY: umask is async-signal-safe.
            unsafe { libc::umask(m as libc::mode_t) };
        }
        // Descriptors the daemon inherited without close-on-exec (ours all have it) stay out of
        // the child, as Python closes 3..minfds.
        // SAFETY: close_range and fcntl are plain system calls.
        unsafe {
            if libc::syscall(
                libc::SYS_close_range,
                3 as libc::c_uint,
                libc::c_uint::MAX,
                libc::CLOSE_RANGE_CLOEXEC,
            ) != 0
            {
                for fd in 3..self.fd_limit {
                    libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
                }
            }
            libc::execve(self.file.as_ptr(), self.argv.as_ptr(), self.envp.as_ptr());
        }
        let e = nix::errno::Errno::last_raw();
        child_fail(&[&self.msgs.exec, errno_name(e), b"\n"]);
    }
}

/// Writes the message parts to fd 2, then `supervisor: child process was not spawned`, and exits
/// 127. Runs in the forked child: no allocation.
fn child_fail(parts: &[&[u8]]) -> ! {
    let stderr = std::io::stderr();
    let fd = stderr.as_fd();
    for p in parts {
        let _ = nix::unistd::write(fd, p);
    }
    let _ = nix::unistd::write(fd, b"supervisor: child process was not spawned\n");
    // SAFETY: _exit is async-signal-safe and skips atexit handlers and stdio flushing, which
    // belong to the parent.
    unsafe { libc::_exit(127) }
}

fn pipe() -> Result<(OwnedFd, OwnedFd), String> {
    nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| format!("can't make pipes: {e}"))
}

/// The symbolic name Python prints for an errno (`errno.errorcode`).
fn errno_name(e: i32) -> &'static [u8] {
    match e {
        libc::EPERM => b"EPERM",
        libc::ENOENT => b"ENOENT",
        libc::EIO => b"EIO",
        libc::E2BIG => b"E2BIG",
        libc::ENOEXEC => b"ENOEXEC",
        libc::EBADF => b"EBADF",
        libc::EAGAIN => b"EAGAIN",
        libc::ENOMEM => b"ENOMEM",
        libc::EACCES => b"EACCES",
        libc::EFAULT => b"EFAULT",
        libc::ENOTDIR => b"ENOTDIR",
        libc::EISDIR => b"EISDIR",
        libc::EINVAL => b"EINVAL",
        libc::ENFILE => b"ENFILE",
        libc::EMFILE => b"EMFILE",
        libc::ETXTBSY => b"ETXTBSY",
        libc::ENAMETOOLONG => b"ENAMETOOLONG",
        libc::ELOOP => b"ELOOP",
        libc::ELIBBAD => b"ELIBBAD",
        _ => b"EUNKNOWN",
    }
}

/// `[supervisord] user=`: switch the daemon itself to `user` (as root), like Python's `set_uid`.
pub fn drop_privileges(user: &str) -> Result<String, String> {
    let u = lookup_user(user)?;
    let me = Uid::effective();
    if me == u.uid {
        return Ok(format!("Set uid to user {} succeeded", u.uid));
    }
    if !me.is_root() {
        return Err("Can't drop privilege as nonroot user".into());
    }
    nix::unistd::setgroups(&u.groups)
        .map_err(|e| format!("Could not set groups of effective user: {e}"))?;
    nix::unistd::setgid(u.gid)
        .map_err(|e| format!("Could not set group id of effective user: {e}"))?;
    nix::unistd::setuid(u.uid)
        .map_err(|e| format!("Could not set user id of effective user: {e}"))?;
    Ok(format!("Set uid to user {} succeeded", u.uid))
}
