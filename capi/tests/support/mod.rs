//! What the C tests need: the library installed by meson into a scratch prefix (from the
//! libraries cargo just built, so no cargo runs inside cargo), the fixture videos, compiling
//! C and C++ against the installed library through pkg-config, and running programs (under
//! valgrind) with a timeout.

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Time allowed for one command (valgrind runs of the preinfer job take the longest).
const TIMEOUT: Duration = Duration::from_secs(900);

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("capi/ has a parent")
        .to_path_buf()
}

/// The cargo target directory (`<target>/tmp` is CARGO_TARGET_TMPDIR).
fn target_dir() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent().unwrap_or(tmp).to_path_buf()
}

/// The profile directory of this build (`target/release`): the CLI binaries live there.
pub fn profile_dir() -> PathBuf {
    deps_dir()
        .parent()
        .expect("deps/ has a parent")
        .to_path_buf()
}

/// `target/<profile>/deps`: where cargo put the libcodecprep.so/.a this test depends on.
fn deps_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    exe.parent().expect("the test lives in deps/").to_path_buf()
}

/// A binary of the codecprep-cli package built by the same cargo run.
pub fn cli_bin(name: &str) -> PathBuf {
    let path = profile_dir().join(name);
    assert!(
        path.is_file(),
        "{} not found: run the C API tests with the workspace (scripts/run-tests.sh, or \
         scripts/cargo.sh build --release first)",
        path.display()
    );
    path
}

/// What a finished program left.
#[derive(Debug)]
pub struct Output {
    pub command: String,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn ok(self) -> Self {
        assert_eq!(
            self.code,
            Some(0),
            "`{}` failed\nstdout:\n{}\nstderr:\n{}",
            self.command,
            self.stdout,
            self.stderr
        );
        self
    }
}

/// Runs `program args...` (stdin closed), killing it after [`TIMEOUT`].
pub fn run<S: AsRef<OsStr>>(program: impl AsRef<OsStr>, args: &[S]) -> Output {
    run_in(None, program, args)
}

pub fn run_in<S: AsRef<OsStr>>(
    dir: Option<&Path>,
    program: impl AsRef<OsStr>,
    args: &[S],
) -> Output {
    let mut cmd = Command::new(program.as_ref());
    // scripts/cargo.sh points pkg-config at the patched static FFmpeg for cargo's sake; the
    // programs run here must see the system's (the static-link test needs the system
    // libavcodec, not another copy of codecprep's).
    cmd.env_remove("PKG_CONFIG_PATH")
        .env_remove("FFMPEG_DIR")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(dir) = dir {
        cmd.current_dir(dir);
    }
    let command = std::iter::once(program.as_ref())
        .chain(args.iter().map(AsRef::as_ref))
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start `{command}`: {e}"));
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let out_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        std::io::Read::read_to_end(&mut out, &mut s).ok();
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        std::io::Read::read_to_end(&mut err, &mut s).ok();
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`{command}` did not finish within {TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let text = |bytes: Vec<u8>| String::from_utf8_lossy(&bytes).into_owned();
    Output {
        command,
        code: status.code(),
        stdout: text(out_reader.join().unwrap_or_default()),
        stderr: text(err_reader.join().unwrap_or_default()),
    }
}

/// Runs `program` under valgrind: any memory error or leak fails (tests/c/valgrind.supp lists
/// the two benign reports of live threads).
pub fn valgrind<S: AsRef<OsStr>>(program: &Path, args: &[S]) -> Output {
    let supp = repo().join("tests/c/valgrind.supp");
    let mut full: Vec<std::ffi::OsString> = vec![
        "--quiet".into(),
        "--error-exitcode=1".into(),
        "--leak-check=full".into(),
        format!("--suppressions={}", supp.display()).into(),
        program.as_os_str().to_owned(),
    ];
    full.extend(args.iter().map(|a| a.as_ref().to_owned()));
    let out = run("valgrind", &full);
    assert!(
        !out.stderr.contains("== Invalid") && !out.stderr.contains("uninitialised"),
        "valgrind reports errors in `{}`:\n{}",
        out.command,
        out.stderr
    );
    out
}

/// Everything the tests share, set up once per test binary.
pub struct Env {
    /// Scratch directory of this process.
    pub work: PathBuf,
    /// The meson build directory (tests enabled).
    pub meson_build: PathBuf,
    /// The install prefix and its library directory.
    pub prefix: PathBuf,
    pub libdir: PathBuf,
    pub fixtures: PathBuf,
}

impl Env {
    pub fn fixture(&self, name: &str) -> PathBuf {
        self.fixtures.join(name)
    }

    /// A fresh directory for one test.
    pub fn scratch(&self, name: &str) -> PathBuf {
        let dir = self.work.join("scratch").join(name);
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("scratch dir");
        dir
    }

    /// `pkg-config ARGS codecprep` against the installed prefix, split into arguments.
    pub fn pkg_config(&self, args: &[&str]) -> Vec<String> {
        let mut cmd = Command::new("pkg-config");
        cmd.env("PKG_CONFIG_PATH", self.libdir.join("pkgconfig"))
            .args(args)
            .arg("codecprep");
        let out = cmd
            .output()
            .expect("pkg-config runs (apt-get install pkg-config)");
        assert!(
            out.status.success(),
            "pkg-config {args:?} codecprep: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    }

    /// Compiles `sources` (paths relative to the repository) into `name` against the
    /// installed shared library, with the compiler flags of the issue: C as `-std=c11 -Wall
    /// -Wextra -Werror`, C++ as `-std=c++17` with the same warnings.
    pub fn compile(&self, name: &str, source: &str) -> PathBuf {
        let cpp = source.ends_with(".cpp");
        let exe = self.work.join("bin").join(name);
        fs::create_dir_all(exe.parent().unwrap()).unwrap();
        let mut args: Vec<String> = vec![
            if cpp { "-std=c++17" } else { "-std=c11" }.into(),
            "-Wall".into(),
            "-Wextra".into(),
            "-Werror".into(),
            "-pthread".into(),
            format!("-I{}", repo().join("tests/c").display()),
        ];
        args.extend(self.pkg_config(&["--cflags"]));
        args.push(repo().join(source).display().to_string());
        args.extend(["-o".into(), exe.display().to_string()]);
        args.extend(self.pkg_config(&["--libs"]));
        args.push(format!("-Wl,-rpath,{}", self.libdir.display()));
        run(if cpp { "g++" } else { "cc" }, &args).ok();
        exe
    }
}

static ENV: OnceLock<Env> = OnceLock::new();

/// Scratch directories of this test binary's earlier processes that are gone.
fn remove_stale(parent: &Path) {
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let alive = entry
            .file_name()
            .to_str()
            .and_then(|pid| pid.parse::<u32>().ok())
            .is_some_and(|pid| Path::new(&format!("/proc/{pid}")).exists());
        if !alive {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

fn tool_available(name: &str) -> bool {
    Command::new(name)
        .arg(if name == "ffmpeg" {
            "-version"
        } else {
            "--version"
        })
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Fixtures, then `meson setup` + `meson install` with the libraries cargo built for this
/// test into a scratch prefix.
pub fn env() -> &'static Env {
    ENV.get_or_init(|| {
        for tool in [
            "meson",
            "ninja",
            "valgrind",
            "pkg-config",
            "cc",
            "g++",
            "nm",
            "ffmpeg",
        ] {
            assert!(
                tool_available(tool),
                "`{tool}` is missing: the C API tests need the packages of \
                 scripts/apt-packages.txt (scripts/install-deps.sh)"
            );
        }
        let parent = target_dir().join("tmp").join("capi-c-tests");
        fs::create_dir_all(&parent).expect("scratch parent");
        remove_stale(&parent);
        let work = parent.join(std::process::id().to_string());
        fs::create_dir_all(&work).expect("scratch dir");

        let fixtures = target_dir().join("test-fixtures").join("capi");
        run(repo().join("tests/c/make-fixtures.sh"), &[&fixtures]).ok();

        let meson_build = work.join("meson");
        let prefix = work.join("prefix");
        let setup: Vec<String> = vec![
            "setup".into(),
            meson_build.display().to_string(),
            format!("--prefix={}", prefix.display()),
            "--libdir=lib".into(),
            format!("-Dprebuilt_dir={}", deps_dir().display()),
            // The plugin's install is checked by the plugins crate's own test.
            "-Dgst_plugin=disabled".into(),
        ];
        run_in(Some(&repo()), "meson", &setup).ok();
        run(
            "meson",
            &["install", "-C", &meson_build.display().to_string()],
        )
        .ok();
        Env {
            libdir: prefix.join("lib"),
            work,
            meson_build,
            prefix,
            fixtures,
        }
    })
}
